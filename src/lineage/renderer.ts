/**
 * A renderer turns what the library computes into a picture: a frame table
 * of any layout (`svgRenderer`, i.e. `renderSvg`) or a lineage tree
 * (`lineageSvgRenderer`, i.e. `renderLineageSvg`), as a text document (SVG)
 * or bytes (a raster format). A renderer of one's own — a canvas, a
 * vega-lite spec, a PNG through another rasteriser — is an object of this
 * shape, and goes wherever the built-ins go:
 *
 * ```ts
 * const csv: Renderer<FrameTable> = {
 *   name: "csv", mediaType: "text/csv", extension: "csv",
 *   render: (frame) => { const f = readFrameTable(frame); return Array.from(f.x, (x, i) => `${x},${f.y[i]}`).join("\n"); },
 * };
 * ```
 */
import type { Table } from "apache-arrow";
import type { FrameTable } from "../data/frame_table.ts";
import { type LineageSvgOptions, renderLineageSvg } from "./lineage_svg.ts";
import { renderSvg, type SvgOptions } from "../render/svg.ts";

export interface Renderer<Input = FrameTable, Options = Record<string, unknown>> {
  /** A short name ("svg", "lineage-svg"). */
  readonly name: string;
  /** The media type of what `render` returns, e.g. "image/svg+xml". */
  readonly mediaType: string;
  /** The usual file extension of it, without the dot ("svg"). */
  readonly extension: string;
  /**
   * Renders `input`: a document as text, or bytes (or a promise of either,
   * for a renderer that loads something first). Bad options are an
   * OptionError; the same input and options give the same output.
   */
  render(input: Input, options?: Options): string | Uint8Array | Promise<string | Uint8Array>;
}

/** Frame tables of any layout to SVG: `renderSvg`. */
export const svgRenderer: Renderer<FrameTable, SvgOptions> = {
  name: "svg",
  mediaType: "image/svg+xml",
  extension: "svg",
  render: (frame: FrameTable, options?: SvgOptions): string => renderSvg(frame, options),
};

/** A lineage tree (its node and link tables) to SVG: `renderLineageSvg`. */
export const lineageSvgRenderer: Renderer<{ nodes: Table; links: Table; members?: readonly ArrayLike<number>[] }, LineageSvgOptions> = {
  name: "lineage-svg",
  mediaType: "image/svg+xml",
  extension: "svg",
  render: (tree, options) => renderLineageSvg(tree, options),
};
