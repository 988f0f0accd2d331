/**
 * PNG export of the SVG pictures with resvg (Rust, as WebAssembly: the same
 * build runs in Node, Deno, Bun and browsers). The wasm module and the fonts
 * are bytes the caller brings (src/runtime/png_assets.ts reads the bundled ones
 * from node_modules), because resvg-wasm sees no system fonts.
 */
import { OptionError } from "../errors.ts";
import { importOptional } from "../runtime/optional.ts";
import type { PngAssets } from "../runtime/png_assets.ts";

export type { PngAssets };

/**
 * The longest side a PNG may have, in pixels (16384, as browsers' canvases):
 * beyond it resvg runs out of WebAssembly memory (27000 px square fails
 * with an unhelpful Rust message) or takes minutes.
 */
export const MAX_PNG_SIDE = 16384;

export interface PngOptions {
  /** Pixels per SVG unit (default 2, for sharp pictures on high-density screens). */
  scale?: number;
}

let ready: Promise<typeof import("@resvg/resvg-wasm")> | undefined;

/** Renders an SVG document to PNG bytes. */
export async function svgToPng(svg: string, assets: PngAssets, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) throw new OptionError("scale", `must be a finite number > 0, got ${options.scale}`);
  // resvg-wasm (an optional package, loaded on first use) can be initialised once per process; later calls share it.
  ready ??= importOptional("@resvg/resvg-wasm", "PNG export", () => import("@resvg/resvg-wasm"))
    .catch((error) => {
      ready = undefined; // not installed: a later call tries again
      throw error;
    })
    .then(async (resvg) => (await resvg.initWasm(assets.wasm), resvg));
  const { Resvg } = await ready;
  const family = assets.family ?? "DejaVu Sans";
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    font: { fontBuffers: assets.fonts, defaultFontFamily: family, sansSerifFamily: family, serifFamily: family, monospaceFamily: family },
  });
  try {
    const [w, h] = [Math.ceil(resvg.width * scale), Math.ceil(resvg.height * scale)];
    if (Math.max(w, h) > MAX_PNG_SIDE) {
      throw new OptionError("scale", `the picture would be ${w} × ${h} px, more than ${MAX_PNG_SIDE} px a side: lower the scale (${scale}) or the width`);
    }
    return resvg.render().asPng();
  } finally {
    resvg.free();
  }
}
