/**
 * SVG rendering of a frame table, as a plain string (no DOM needed).
 *
 * The picture, back to front: background, lane guides (thin light grey rings
 * or columns, from the `diffusion-life.guides` metadata, see ./guides.ts),
 * one faint track per instance joining its points in step order, the
 * points (one circle per row, coloured by prompt, later steps on top), the
 * guides' step labels ("t=0", … on every few of them, above the points), a
 * legend (one swatch per prompt) and a title (wrapped onto a second line
 * when the picture is narrow).
 *
 * Coordinates: the box around the data (points and guides) is fitted into
 * the plot area with equal aspect and centred; **data y points up** (larger
 * `y` is drawn higher, as in a mathematical plot, so the radial layout's
 * angle runs counter-clockwise). Numbers are rounded to two decimals.
 *
 * Structure, for anyone styling or scripting the result: `<g class="guides">`
 * (rings are `<ellipse>`s so that every `<circle>` in the picture is a data point),
 * `<g class="tracks">` (one `<path data-instance>` per instance with at least
 * two points), `<g class="points">` (one `<g data-step>` per step, holding
 * `<circle data-instance>`), `<g class="guide-labels">`, `<g class="legend">`
 * (one `<g class="legend-entry">` per prompt), `<text class="title">`.
 *
 * The output is deterministic: the same table and options give the same string.
 * Prompts are listed in the order of the `prompt` column's Arrow dictionary;
 * labels missing from it (a plain Utf8 column) follow in order of first
 * appearance. Each prompt's colour is fixed by its label (`promptColors`:
 * "digit 7" has one colour in every picture, whatever the run's list), or,
 * with a `palette`, is the palette's colour at its position. The legend
 * lists the prompts that occur.
 */
import { type FrameTable, readFrameTable } from "../data/frame_table.ts";
import { readGuides } from "../data/guides.ts";
import {
  checkPageOptions,
  checkPositive,
  closeSvg,
  dataBox,
  escapeXml,
  guideLabelsSvg,
  guidesSvg,
  layoutPage,
  num,
  openSvg,
  type PageOptions,
  promptsInDictionaryOrder,
} from "./page.ts";
import { colorOf, promptColors } from "./palette.ts";

export { escapeXml };

export interface SvgOptions extends PageOptions {
  /** Radius of the points in px; by default from the number of points (1.2–4.5). */
  pointRadius?: number;
  /** Draw a faint line through each instance's points (default true). */
  showTracks?: boolean;
}

/**
 * Renders a frame table — of any layout: it draws the frame's `x`, `y` and
 * guides — to an SVG document string (`svgRenderer` is this as a Renderer).
 */
export function renderSvg(frame: FrameTable, options: SvgOptions = {}): string {
  checkPageOptions(options);
  checkPositive("pointRadius", options.pointRadius);
  const f = readFrameTable(frame);
  const { prompt, prompts, used } = promptsInDictionaryOrder(frame, f.prompt, f.prompts);
  f.prompt = prompt;
  f.prompts = prompts;
  const legendPrompts = prompts.flatMap((_, k) => (used[k] ? [k] : []));
  const n = f.x.length;
  const showGuides = options.showGuides ?? true;
  const showTracks = options.showTracks ?? true;
  const showLegend = options.showLegend ?? true;
  const guides = showGuides ? (readGuides(frame) ?? []).slice().sort((a, b) => a.step - b.step) : [];
  const { palette } = options;
  const colors = (palette ? f.prompts.map((_, i) => colorOf(palette, i)) : promptColors(f.prompts)).map(escapeXml);

  const steps = new Set<number>(f.step);
  const instances = new Set<number>(f.instance);
  const title = options.title ??
    `Tree of Diffusion Life — ${f.layout} layout, ${legendPrompts.length} prompt${legendPrompts.length === 1 ? "" : "s"}, ` +
      `${instances.size} instance${instances.size === 1 ? "" : "s"}, ${steps.size} step${steps.size === 1 ? "" : "s"}`;

  const page = layoutPage({
    options,
    title,
    box: dataBox(f.x, f.y, guides),
    prompts: f.prompts,
    legendPrompts: showLegend ? legendPrompts : [],
    guides,
    markRadius: (plotW) => options.pointRadius ?? Math.min(4.5, Math.max(1.2, (0.15 * plotW) / Math.sqrt(Math.max(n, 1)))),
  });
  const { X, Y, radius: r } = page;
  const out = openSvg(page, f.layout);
  out.push(...guidesSvg(page, guides));

  // -- tracks: each instance's points in step order, coloured by its prompt.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    f.step[a] - f.step[b] || f.instance[a] - f.instance[b] || a - b
  );
  if (showTracks && n > 0) {
    const byInstance = new Map<number, number[]>();
    for (const i of order) {
      const list = byInstance.get(f.instance[i]);
      if (list) list.push(i);
      else byInstance.set(f.instance[i], [i]);
    }
    const ids = [...byInstance.keys()].sort((a, b) => a - b);
    out.push(`<g class="tracks" fill="none" stroke-width="1" stroke-opacity="0.3" stroke-linejoin="round" stroke-linecap="round">`);
    for (const id of ids) {
      const rows = byInstance.get(id)!;
      if (rows.length < 2) continue;
      const d = rows.map((i, k) => `${k === 0 ? "M" : "L"}${num(X(f.x[i]))},${num(Y(f.y[i]))}`).join("");
      out.push(`<path data-instance="${id}" stroke="${colors[f.prompt[rows[0]]]}" d="${d}"/>`);
    }
    out.push(`</g>`);
  }

  // -- points, grouped by step, later steps on top.
  if (n > 0) {
    const rText = num(r);
    out.push(`<g class="points" stroke="#fff" stroke-width="${num(Math.min(0.8, r * 0.25))}">`);
    let current: number | undefined;
    for (const i of order) {
      if (f.step[i] !== current) {
        if (current !== undefined) out.push(`</g>`);
        current = f.step[i];
        out.push(`<g data-step="${current}">`);
      }
      out.push(
        `<circle data-instance="${f.instance[i]}" cx="${num(X(f.x[i]))}" cy="${num(Y(f.y[i]))}" r="${rText}" fill="${colors[f.prompt[i]]}"/>`,
      );
    }
    out.push(`</g></g>`);
  } else {
    out.push(`<text class="empty" x="${num(page.cx)}" y="${num(page.cy)}" text-anchor="middle" font-size="14" fill="#999">no data</text>`);
  }
  out.push(...guideLabelsSvg(page, guides));

  out.push(...closeSvg(page, colors));
  return out.join("\n") + "\n";
}
