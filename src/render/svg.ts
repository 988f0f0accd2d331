/**
 * SVG rendering of a frame table, as a plain string (no DOM needed).
 *
 * The picture, back to front: background, lane guides (thin light grey rings
 * or columns, from the `diffusion-life.guides` metadata, see ./guides.ts)
 * with a step label ("t=0", …) on every few of them, one faint track per
 * instance joining its points in step order, the points (one circle per row,
 * coloured by prompt, later steps on top), a legend (one swatch per prompt)
 * and a title.
 *
 * Coordinates: the box around the data (points and guides) is fitted into
 * the plot area with equal aspect and centred; **data y points up** (larger
 * `y` is drawn higher, as in a mathematical plot, so the radial layout's
 * angle runs counter-clockwise). Numbers are rounded to two decimals.
 *
 * Structure, for anyone styling or scripting the result: `<g class="guides">`
 * (rings are `<ellipse>`s so that every `<circle>` in the picture is a data point),
 * `<g class="guide-labels">`, `<g class="tracks">` (one `<path data-instance>`
 * per instance with at least two points), `<g class="points">` (one
 * `<g data-step>` per step, holding `<circle data-instance>`), `<g class="legend">`
 * (one `<g class="legend-entry">` per prompt), `<text class="title">`.
 *
 * The output is deterministic: the same table and options give the same string.
 * Prompts are coloured and listed in the order of the `prompt` column's
 * Arrow dictionary (so frames sharing a dictionary share colours, whatever
 * their row order); labels missing from it (a plain Utf8 column) follow in
 * order of first appearance. The legend lists the prompts that occur.
 */
import { Type, type Table } from "apache-arrow";
import { readFrameTable } from "../data/frame_table.ts";
import { OptionError } from "../errors.ts";
import { readGuides, type Guide } from "./guides.ts";
import { colorOf, defaultPalette } from "./palette.ts";

export interface SvgOptions {
  /** Width of the picture in px (default 900). */
  width?: number;
  /** Height in px; by default derived from the data's aspect ratio. */
  height?: number;
  /** Title text; "" for none. Default: "Tree of Diffusion Life" and a summary. */
  title?: string;
  /** Radius of the points in px; by default from the number of points (1.2–4.5). */
  pointRadius?: number;
  /** Draw a faint line through each instance's points (default true). */
  showTracks?: boolean;
  /** Draw the lane guides when the frame has them (default true). */
  showGuides?: boolean;
  /** Draw the prompt legend (default true). */
  showLegend?: boolean;
  /** Prompt colours (CSS colours); default Tableau10 (Tableau20 above ten prompts). */
  palette?: readonly string[];
  /** Background colour (default "#fff"); "none" for transparent. */
  background?: string;
  /** Space around everything, in px (default 16). */
  margin?: number;
}

const FONT = "Helvetica, Arial, sans-serif";
const TITLE_SIZE = 16;
const TITLE_BAND = 32;
const LEGEND_SIZE = 12;
const LEGEND_ROW = 18;
const LEGEND_SWATCH = 10;
const LEGEND_GAP = 16;
const LEGEND_MAX_CHARS = 40;
const GUIDE_LABEL_SIZE = 10;
const CHAR_WIDTH = 0.6; // rough average glyph width, in em

// ---- text and numbers -----------------------------------------------------

/** Characters XML 1.0 does not allow at all (escaping does not help). */
// deno-lint-ignore no-control-regex
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for XML content and attribute values; drops characters XML forbids. */
export function escapeXml(text: string): string {
  return text.replace(INVALID_XML, "\uFFFD").replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&#39;"
  );
}

/** A number rounded to two decimals, shortest form ("12.5", "-3", "0"). */
const num = (v: number): string => String(Math.round(v * 100) / 100 || 0);

function truncate(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

// ---- options ----------------------------------------------------------------

function positive(name: string, v: number | undefined, allowZero = false): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new OptionError(name, `must be a finite number ${allowZero ? ">= 0" : "> 0"}, got ${v}`);
  }
}

function checkOptions(o: SvgOptions): void {
  positive("width", o.width);
  positive("height", o.height);
  positive("pointRadius", o.pointRadius);
  positive("margin", o.margin, true);
  if (o.palette !== undefined && (o.palette.length === 0 || o.palette.some((c) => typeof c !== "string" || c === ""))) {
    throw new OptionError("palette", "must be a non-empty list of colour strings");
  }
}

// ---- rendering --------------------------------------------------------------

/**
 * Prompt labels in dictionary order (the first batches' dictionaries, then
 * any further labels in order of appearance), each row's index into them, and
 * which of them occur.
 */
function promptsInDictionaryOrder(
  frame: Table,
  codes: Int32Array,
  labels: readonly string[],
): { prompt: Int32Array; prompts: string[]; used: boolean[] } {
  const prompts: string[] = [];
  const rank = new Map<string, number>();
  const add = (label: string) => {
    if (!rank.has(label)) {
      rank.set(label, prompts.length);
      prompts.push(label);
    }
  };
  const col = frame.getChild("prompt");
  if (col && col.type.typeId === Type.Dictionary) {
    for (const chunk of col.data) {
      if (!chunk.dictionary) continue;
      for (const v of chunk.dictionary) if (v !== null && v !== undefined) add(String(v));
    }
  }
  labels.forEach(add); // readFrameTable's labels are exactly those that occur
  const remap = labels.map((l) => rank.get(l)!);
  const used = prompts.map(() => false);
  for (const r of remap) used[r] = true;
  return { prompt: codes.map((c) => remap[c]), prompts, used };
}

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

function dataBox(x: Float32Array, y: Float32Array, guides: readonly Guide[]): Box {
  const b: Box = { x0: Infinity, x1: -Infinity, y0: Infinity, y1: -Infinity };
  const add = (px: number, py: number) => {
    if (px < b.x0) b.x0 = px;
    if (px > b.x1) b.x1 = px;
    if (py < b.y0) b.y0 = py;
    if (py > b.y1) b.y1 = py;
  };
  for (let i = 0; i < x.length; i++) add(x[i], y[i]);
  for (const g of guides) {
    if (g.shape === "circle") {
      add(g.cx - g.r, g.cy - g.r);
      add(g.cx + g.r, g.cy + g.r);
    } else {
      add(g.x1, g.y1);
      add(g.x2, g.y2);
    }
  }
  if (b.x0 > b.x1) return { x0: -1, x1: 1, y0: -1, y1: 1 }; // nothing to draw
  return b;
}

/** Renders a frame table to an SVG document string. */
export function renderSvg(frame: Table, options: SvgOptions = {}): string {
  checkOptions(options);
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
  const palette = options.palette ?? defaultPalette(f.prompts.length);
  const colors = f.prompts.map((_, i) => escapeXml(colorOf(palette, i)));

  const steps = new Set<number>(f.step);
  const instances = new Set<number>(f.instance);
  const title = options.title ??
    `Tree of Diffusion Life — ${f.layout} layout, ${legendPrompts.length} prompt${legendPrompts.length === 1 ? "" : "s"}, ` +
      `${instances.size} instance${instances.size === 1 ? "" : "s"}, ${steps.size} step${steps.size === 1 ? "" : "s"}`;

  // -- page layout: title band on top, legend on the right, plot in the rest.
  const W = options.width ?? 900;
  const m = options.margin ?? 16;
  const titleH = title ? TITLE_BAND : 0;
  const box = dataBox(f.x, f.y, guides);
  const spanX = box.x1 - box.x0, spanY = box.y1 - box.y0;
  const aspect = spanX > 0 && spanY > 0 ? Math.min(4, Math.max(0.25, spanY / spanX)) : 1;

  const legendCount = showLegend ? legendPrompts.length : 0;
  const maxLegendChars = Math.max(4, Math.floor((0.35 * W - LEGEND_SWATCH - 6 - LEGEND_GAP) / (LEGEND_SIZE * CHAR_WIDTH)));
  const legendLabels = f.prompts.map((p) => truncate(p, Math.min(LEGEND_MAX_CHARS, maxLegendChars)));
  const longest = legendPrompts.reduce((a, k) => Math.max(a, Array.from(legendLabels[k]).length), 0);
  const colW = LEGEND_SWATCH + 6 + Math.ceil(longest * LEGEND_SIZE * CHAR_WIDTH) + 12;

  const autoRadius = (plotW: number) => Math.min(4.5, Math.max(1.2, (0.15 * plotW) / Math.sqrt(Math.max(n, 1))));
  // Guide labels sit just above their ring or column, clear of the points on it.
  const labelRoom = (radius: number) => guides.length > 0 ? GUIDE_LABEL_SIZE + radius + 3 : 0;

  let cols = 1, legendW = 0, plotW = 0, plotH = 0, H = 0, r = 0, pad = 0, rowsFit = 1;
  for (;;) {
    legendW = legendCount > 0 ? cols * colW + LEGEND_GAP : 0;
    plotW = Math.max(1, W - 2 * m - legendW);
    r = options.pointRadius ?? autoRadius(plotW);
    pad = Math.max(r + 1.5, labelRoom(r));
    if (options.height !== undefined) {
      H = options.height;
      plotH = Math.max(1, H - 2 * m - titleH);
    } else {
      plotH = Math.max(1, plotW - 2 * pad) * aspect + 2 * pad;
      const rowsWanted = Math.ceil(legendCount / cols) * LEGEND_ROW;
      if (rowsWanted > plotH) plotH = Math.min(rowsWanted, 1.5 * W);
      H = Math.ceil(plotH + 2 * m + titleH);
    }
    rowsFit = Math.max(1, Math.floor(plotH / LEGEND_ROW));
    if (legendCount === 0 || Math.ceil(legendCount / cols) <= rowsFit || cols >= legendCount || plotW < 0.3 * W) break;
    cols++;
  }
  const rowsPerCol = legendCount > 0 ? Math.min(rowsFit, Math.ceil(legendCount / cols)) : 0;
  // When even the columns cannot hold every prompt, the last slot says how many are left out.
  const legendShown = legendCount > rowsPerCol * cols ? rowsPerCol * cols - 1 : legendCount;

  // -- data to pixels: equal aspect, centred, y up.
  const innerW = Math.max(1e-9, plotW - 2 * pad), innerH = Math.max(1e-9, plotH - 2 * pad);
  const scale = spanX > 0 && spanY > 0
    ? Math.min(innerW / spanX, innerH / spanY)
    : spanX > 0 ? innerW / spanX : spanY > 0 ? innerH / spanY : 1;
  const cx = m + plotW / 2, cy = m + titleH + plotH / 2;
  const midX = (box.x0 + box.x1) / 2, midY = (box.y0 + box.y1) / 2;
  const X = (v: number) => cx + (v - midX) * scale;
  const Y = (v: number) => cy - (v - midY) * scale;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(W)}" height="${num(H)}" viewBox="0 0 ${num(W)} ${num(H)}"` +
      ` font-family="${FONT}" data-layout="${escapeXml(f.layout)}">`,
  );
  if (title) out.push(`<title>${escapeXml(title)}</title>`);
  const background = options.background ?? "#fff";
  if (background !== "none") out.push(`<rect class="background" width="100%" height="100%" fill="${escapeXml(background)}"/>`);

  // -- guides and their step labels.
  if (guides.length > 0) {
    out.push(`<g class="guides" fill="none" stroke="#d4d4d4" stroke-width="1">`);
    for (const g of guides) {
      out.push(
        g.shape === "circle"
          ? `<ellipse data-step="${g.step}" cx="${num(X(g.cx))}" cy="${num(Y(g.cy))}" rx="${num(g.r * scale)}" ry="${num(g.r * scale)}"/>`
          : `<line data-step="${g.step}" x1="${num(X(g.x1))}" y1="${num(Y(g.y1))}" x2="${num(X(g.x2))}" y2="${num(Y(g.y2))}"/>`,
      );
    }
    out.push(`</g>`);
    out.push(...guideLabels(guides, X, Y, r + 2));
  }

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
    out.push(`<text class="empty" x="${num(cx)}" y="${num(cy)}" text-anchor="middle" font-size="14" fill="#999">no data</text>`);
  }

  // -- legend, top right, in columns when it is long.
  if (legendCount > 0) {
    const lx = W - m - legendW + LEGEND_GAP, ly = m + titleH;
    out.push(`<g class="legend" font-size="${LEGEND_SIZE}" fill="#333">`);
    legendPrompts.slice(0, legendShown).forEach((k, j) => {
      const label = f.prompts[k];
      const x = lx + Math.floor(j / rowsPerCol) * colW, y = ly + (j % rowsPerCol) * LEGEND_ROW;
      const full = legendLabels[k] !== label ? `<title>${escapeXml(label)}</title>` : "";
      out.push(
        `<g class="legend-entry">${full}<rect x="${num(x)}" y="${num(y + (LEGEND_ROW - LEGEND_SWATCH) / 2)}" width="${LEGEND_SWATCH}" height="${LEGEND_SWATCH}" rx="2" fill="${colors[k]}"/>` +
          `<text x="${num(x + LEGEND_SWATCH + 6)}" y="${num(y + LEGEND_ROW / 2 + LEGEND_SIZE * 0.35)}">${escapeXml(legendLabels[k])}</text></g>`,
      );
    });
    if (legendShown < legendCount) {
      const j = legendShown, x = lx + Math.floor(j / rowsPerCol) * colW, y = ly + (j % rowsPerCol) * LEGEND_ROW;
      out.push(
        `<text class="legend-more" x="${num(x)}" y="${num(y + LEGEND_ROW / 2 + LEGEND_SIZE * 0.35)}" fill="#777">… ${legendCount - legendShown} more</text>`,
      );
    }
    out.push(`</g>`);
  }

  if (title) {
    const shown = truncate(title, Math.max(8, Math.floor((W - 2 * m) / (TITLE_SIZE * CHAR_WIDTH))));
    out.push(
      `<text class="title" x="${num(m)}" y="${num(m + TITLE_SIZE)}" font-size="${TITLE_SIZE}" font-weight="bold" fill="#222">${escapeXml(shown)}</text>`,
    );
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

/**
 * Step labels for the guides: `lift` px above the top of each ring, or above
 * the upper end of each column; every `stride`-th guide (in step order) so that labels
 * do not collide when lanes are dense.
 */
function guideLabels(
  guides: readonly Guide[],
  X: (v: number) => number,
  Y: (v: number) => number,
  lift: number,
): string[] {
  // Where each label's lane sits along the axis labels would collide on, in px.
  const pos = guides.map((g) => g.shape === "circle" ? Y(g.cy + g.r) : X((g.x1 + g.x2) / 2));
  const need = (g: Guide) =>
    g.shape === "circle" ? GUIDE_LABEL_SIZE + 2 : (String(g.step).length + 2) * GUIDE_LABEL_SIZE * CHAR_WIDTH + 6;
  let stride = 1;
  let minGap = Infinity, widest = 0;
  for (let k = 0; k < guides.length; k++) {
    widest = Math.max(widest, need(guides[k]));
    if (k > 0) minGap = Math.min(minGap, Math.abs(pos[k] - pos[k - 1]));
  }
  if (guides.length > 1) stride = minGap > 0 ? Math.max(1, Math.ceil(widest / minGap)) : guides.length;
  const out = [
    `<g class="guide-labels" font-size="${GUIDE_LABEL_SIZE}" fill="#777" text-anchor="middle" stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">`,
  ];
  guides.forEach((g, k) => {
    if (k % stride !== 0) return;
    let x: number, y: number;
    if (g.shape === "circle") {
      x = X(g.cx);
      y = Y(g.cy + g.r) - lift;
    } else {
      x = X((g.x1 + g.x2) / 2);
      y = Math.min(Y(g.y1), Y(g.y2)) - lift;
    }
    out.push(`<text x="${num(x)}" y="${num(y)}">t=${g.step}</text>`);
  });
  out.push(`</g>`);
  return out;
}
