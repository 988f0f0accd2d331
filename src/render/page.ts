/**
 * The page every SVG picture of the library shares, and its XML text
 * helpers: a title band on top, the prompt legend top right (in columns when
 * it is long), the plot in the rest. The box around the data (points and lane
 * guides) is fitted into the plot area with equal aspect and centred; **data y
 * points up**. Numbers are rounded to two decimals.
 *
 * `renderSvg` (frame tables) and `renderLineageSvg` (the lineage tree) draw
 * their own marks between `openSvg` and `closeSvg`.
 */
import { Type, type Table } from "apache-arrow";
import { OptionError } from "../errors.ts";
import type { Guide } from "../data/guides.ts";

/** Options every picture takes. */
export interface PageOptions {
  /** Width of the picture in px (default 900). */
  width?: number;
  /** Height in px; by default derived from the data's aspect ratio. */
  height?: number;
  /** Title text; "" for none. Default: a summary of what is drawn. */
  title?: string;
  /** Draw the lane guides when the table has them (default true). */
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
/** A wrapped title's further lines. */
const TITLE_LINE = 20;
/** Bold glyphs are wider than the average (DejaVu Sans Bold, which the PNGs use, about 0.62 em). */
const TITLE_CHAR_WIDTH = 0.62;
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
export const num = (v: number): string => String(Math.round(v * 100) / 100 || 0);

function truncate(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : chars.slice(0, Math.max(1, max - 1)).join("") + "…";
}

// ---- options ----------------------------------------------------------------

/** Throws OptionError unless `v` is undefined or a finite number > 0 (≥ 0 with allowZero). */
export function checkPositive(name: string, v: number | undefined, allowZero = false): void {
  if (v === undefined) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new OptionError(name, `must be a finite number ${allowZero ? ">= 0" : "> 0"}, got ${v}`);
  }
}

export function checkPageOptions(o: PageOptions): void {
  checkPositive("width", o.width);
  checkPositive("height", o.height);
  checkPositive("margin", o.margin, true);
  if (o.palette !== undefined && (o.palette.length === 0 || o.palette.some((c) => typeof c !== "string" || c === ""))) {
    throw new OptionError("palette", "must be a non-empty list of colour strings");
  }
}

// ---- prompts ----------------------------------------------------------------

/**
 * Prompt labels in dictionary order (the first batches' dictionaries, then
 * any further labels in order of appearance), each row's index into them, and
 * which of them occur. `codes`/`labels` are what readDictionary gave.
 */
export function promptsInDictionaryOrder(
  table: Table,
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
  const col = table.getChild("prompt");
  if (col && col.type.typeId === Type.Dictionary) {
    for (const chunk of col.data) {
      if (!chunk.dictionary) continue;
      for (const v of chunk.dictionary) if (v !== null && v !== undefined) add(String(v));
    }
  }
  labels.forEach(add); // readDictionary's labels are exactly those that occur
  const remap = labels.map((l) => rank.get(l)!);
  const used = prompts.map(() => false);
  for (const r of remap) used[r] = true;
  return { prompt: codes.map((c) => remap[c]), prompts, used };
}

// ---- the page ---------------------------------------------------------------

export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The box around the points and the guides (−1..1 when there is nothing). */
export function dataBox(x: ArrayLike<number>, y: ArrayLike<number>, guides: readonly Guide[]): Box {
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

export interface PageSpec {
  options: PageOptions;
  title: string;
  box: Box;
  /** Every prompt label, in colour order. */
  prompts: readonly string[];
  /** Indices into `prompts` the legend lists (none when it is hidden). */
  legendPrompts: readonly number[];
  /** The guides drawn (their step labels need room around the plot). */
  guides: readonly Guide[];
  /** Radius of the largest mark for a plot `plotW` px wide. */
  markRadius: (plotW: number) => number;
  /** Rows after the prompts in the legend that explain marks (node size, branch points). */
  keys?: readonly LegendKey[];
}

/** A legend row that explains a mark: `mark` draws it centred at (x, y), in px. */
export interface LegendKey {
  label: string;
  mark: (x: number, y: number) => string;
}

/** Where everything goes: the data-to-pixel maps and the legend's grid. */
export interface Page {
  width: number;
  height: number;
  /** Pixels per data unit. */
  scale: number;
  /** The largest mark's radius, in px. */
  radius: number;
  X: (v: number) => number;
  Y: (v: number) => number;
  /** Centre of the plot area, in px. */
  cx: number;
  cy: number;
  spec: PageSpec;
  legend: { x: number; y: number; colW: number; rowsPerCol: number; shown: number; labels: string[] };
  /** The title's lines: wrapped at spaces to the width (two at most, the second shortened when need be). */
  titleLines: string[];
}

/** Words into lines of at most `max` characters; two lines at most, the last shortened with "…". */
function wrap(text: string, max: number, lines = 2): string[] {
  if (Array.from(text).length <= max) return text ? [text] : [];
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (Array.from(next).length <= max || !line) line = next;
    else {
      out.push(line);
      line = word;
    }
  }
  if (line) out.push(line);
  if (out.length <= lines) return out.map((l) => truncate(l, max));
  return [...out.slice(0, lines - 1), truncate(out.slice(lines - 1).join(" "), max)].map((l) => truncate(l, max));
}

export function layoutPage(spec: PageSpec): Page {
  const { options, title, box, legendPrompts } = spec;
  const W = options.width ?? 900;
  const m = options.margin ?? 16;
  const titleLines = wrap(title, Math.max(8, Math.floor((W - 2 * m) / (TITLE_SIZE * TITLE_CHAR_WIDTH))));
  const titleH = titleLines.length > 0 ? TITLE_BAND + (titleLines.length - 1) * TITLE_LINE : 0;
  const spanX = box.x1 - box.x0, spanY = box.y1 - box.y0;
  const aspect = spanX > 0 && spanY > 0 ? Math.min(4, Math.max(0.25, spanY / spanX)) : 1;

  const keys = spec.keys ?? [];
  const legendCount = legendPrompts.length + keys.length;
  const maxLegendChars = Math.max(4, Math.floor((0.35 * W - LEGEND_SWATCH - 6 - LEGEND_GAP) / (LEGEND_SIZE * CHAR_WIDTH)));
  const labels = spec.prompts.map((p) => truncate(p, Math.min(LEGEND_MAX_CHARS, maxLegendChars)));
  const longest = Math.max(
    legendPrompts.reduce((a, k) => Math.max(a, Array.from(labels[k]).length), 0),
    ...keys.map((k) => Array.from(k.label).length),
  );
  const colW = LEGEND_SWATCH + 6 + Math.ceil(longest * LEGEND_SIZE * CHAR_WIDTH) + 12;
  // Guide labels sit just above their ring or column, or left of their row, clear of the points on it.
  const sideLabel = spec.guides.reduce((w, g) => isRow(g) ? Math.max(w, labelWidth(g)) : w, 0);
  const labelRoom = (radius: number) =>
    Math.max(spec.guides.some((g) => !isRow(g)) ? GUIDE_LABEL_SIZE + radius + 3 : 0, sideLabel > 0 ? sideLabel + radius + 3 : 0);

  let cols = 1, legendW = 0, plotW = 0, plotH = 0, H = 0, r = 0, pad = 0, rowsFit = 1;
  for (;;) {
    legendW = legendCount > 0 ? cols * colW + LEGEND_GAP : 0;
    plotW = Math.max(1, W - 2 * m - legendW);
    r = spec.markRadius(plotW);
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
  // When even the columns cannot hold every prompt, the last slot says how many are left out (the keys stay).
  const shown = legendCount > rowsPerCol * cols ? Math.max(0, rowsPerCol * cols - 1 - keys.length) : legendPrompts.length;

  // -- data to pixels: equal aspect, centred, y up.
  const innerW = Math.max(1e-9, plotW - 2 * pad), innerH = Math.max(1e-9, plotH - 2 * pad);
  const scale = spanX > 0 && spanY > 0
    ? Math.min(innerW / spanX, innerH / spanY)
    : spanX > 0 ? innerW / spanX : spanY > 0 ? innerH / spanY : 1;
  const cx = m + plotW / 2, cy = m + titleH + plotH / 2;
  const midX = (box.x0 + box.x1) / 2, midY = (box.y0 + box.y1) / 2;
  return {
    width: W,
    height: H,
    scale,
    radius: r,
    X: (v) => cx + (v - midX) * scale,
    Y: (v) => cy - (v - midY) * scale,
    cx,
    cy,
    spec,
    legend: { x: W - m - legendW + LEGEND_GAP, y: m + titleH, colW, rowsPerCol, shown, labels },
    titleLines,
  };
}

/** The opening tag, the document title and the background. */
export function openSvg(page: Page, layout: string): string[] {
  const { width: W, height: H, spec } = page;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(W)}" height="${num(H)}" viewBox="0 0 ${num(W)} ${num(H)}"` +
    ` font-family="${FONT}" data-layout="${escapeXml(layout)}">`,
  ];
  if (spec.title) out.push(`<title>${escapeXml(spec.title)}</title>`);
  const background = spec.options.background ?? "#fff";
  if (background !== "none") out.push(`<rect class="background" width="100%" height="100%" fill="${escapeXml(background)}"/>`);
  return out;
}

/**
 * The lane guides (`<g class="guides">`, rings as `<ellipse>`s so that every
 * `<circle>` in a picture is a data mark); nothing when there are none.
 * Their step labels come from `guideLabelsSvg`, drawn after the marks so
 * that no point covers them.
 */
export function guidesSvg(page: Page, guides: readonly Guide[]): string[] {
  if (guides.length === 0) return [];
  const { X, Y, scale } = page;
  const out = [`<g class="guides" fill="none" stroke="#d4d4d4" stroke-width="1">`];
  for (const g of guides) {
    out.push(
      g.shape === "circle"
        ? `<ellipse data-step="${g.step}" cx="${num(X(g.cx))}" cy="${num(Y(g.cy))}" rx="${num(g.r * scale)}" ry="${num(g.r * scale)}"/>`
        : `<line data-step="${g.step}" x1="${num(X(g.x1))}" y1="${num(Y(g.y1))}" x2="${num(X(g.x2))}" y2="${num(Y(g.y2))}"/>`,
    );
  }
  out.push(`</g>`);
  return out;
}

/** The guides' step labels (`<g class="guide-labels">`, see guideLabels); nothing when there are no guides. */
export function guideLabelsSvg(page: Page, guides: readonly Guide[]): string[] {
  return guides.length === 0 ? [] : guideLabels(guides, page.X, page.Y, page.radius + 2);
}

/** A line guide closer to horizontal than to vertical: a lane drawn as a row, labelled at its left end. */
const isRow = (g: Guide): boolean => g.shape === "line" && Math.abs(g.x2 - g.x1) > Math.abs(g.y2 - g.y1);

/** Width in px of a guide's step label ("t=12"), roughly. */
const labelWidth = (g: Guide): number => (String(g.step).length + 2) * GUIDE_LABEL_SIZE * CHAR_WIDTH;

/**
 * Step labels for the guides: `lift` px above the top of each ring, above
 * the upper end of each line closer to vertical (a column), left of the left
 * end of each line closer to horizontal (a row); every `stride`-th guide (in
 * step order) so that labels do not collide when lanes are dense.
 */
function guideLabels(
  guides: readonly Guide[],
  X: (v: number) => number,
  Y: (v: number) => number,
  lift: number,
): string[] {
  const labels = guides.map((g) => {
    if (g.shape === "circle") return { x: X(g.cx), y: Y(g.cy + g.r) - lift, anchor: "" };
    if (isRow(g)) {
      const [x, y] = g.x1 <= g.x2 ? [g.x1, g.y1] : [g.x2, g.y2];
      return { x: X(x) - lift, y: Y(y) + 0.35 * GUIDE_LABEL_SIZE, anchor: ` text-anchor="end"` };
    }
    const [x, y] = g.y1 >= g.y2 ? [g.x1, g.y1] : [g.x2, g.y2];
    return { x: X(x), y: Y(y) - lift, anchor: "" };
  });
  // Consecutive labels must clear each other across (label width) or along (label height) at least one axis.
  const needW = guides.reduce((w, g) => Math.max(w, labelWidth(g) + 6), 0), needH = GUIDE_LABEL_SIZE + 2;
  let stride = 1;
  for (let k = 1; k < labels.length; k++) {
    const crowding = Math.min(needW / Math.abs(labels[k].x - labels[k - 1].x), needH / Math.abs(labels[k].y - labels[k - 1].y));
    stride = Number.isFinite(crowding) ? Math.max(stride, Math.ceil(crowding)) : labels.length;
    if (stride >= labels.length) break;
  }
  const out = [
    `<g class="guide-labels" font-size="${GUIDE_LABEL_SIZE}" fill="#777" text-anchor="middle" stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke">`,
  ];
  guides.forEach((g, k) => {
    if (k % stride !== 0) return;
    out.push(`<text x="${num(labels[k].x)}" y="${num(labels[k].y)}"${labels[k].anchor}>t=${g.step}</text>`);
  });
  out.push(`</g>`);
  return out;
}

/**
 * The legend (`<g class="legend">`, one `<g class="legend-entry">` per
 * prompt, full label in a `<title>` when shortened), the title text and the
 * closing tag. `colors[k]` is prompt k's colour, already escaped.
 */
export function closeSvg(page: Page, colors: readonly string[]): string[] {
  const { spec, legend } = page;
  const out: string[] = [];
  const count = spec.legendPrompts.length;
  const keys = spec.keys ?? [];
  if (count + keys.length > 0) {
    const { colW, rowsPerCol, shown, labels } = legend;
    const at = (j: number) => ({ x: legend.x + Math.floor(j / rowsPerCol) * colW, y: legend.y + (j % rowsPerCol) * LEGEND_ROW });
    out.push(`<g class="legend" font-size="${LEGEND_SIZE}" fill="#333">`);
    spec.legendPrompts.slice(0, shown).forEach((k, j) => {
      const label = spec.prompts[k];
      const { x, y } = at(j);
      const full = labels[k] !== label ? `<title>${escapeXml(label)}</title>` : "";
      out.push(
        `<g class="legend-entry">${full}<rect x="${num(x)}" y="${num(y + (LEGEND_ROW - LEGEND_SWATCH) / 2)}" width="${LEGEND_SWATCH}" height="${LEGEND_SWATCH}" rx="2" fill="${colors[k]}"/>` +
          `<text x="${num(x + LEGEND_SWATCH + 6)}" y="${num(y + LEGEND_ROW / 2 + LEGEND_SIZE * 0.35)}">${escapeXml(labels[k])}</text></g>`,
      );
    });
    if (shown < count) {
      const { x, y } = at(shown);
      out.push(
        `<text class="legend-more" x="${num(x)}" y="${num(y + LEGEND_ROW / 2 + LEGEND_SIZE * 0.35)}" fill="#777">… ${count - shown} more</text>`,
      );
    }
    // The keys to the marks, after the prompts (and after the "more" line when there is one).
    const first = shown < count ? shown + 1 : shown;
    keys.forEach((key, k) => {
      const { x, y } = at(first + k);
      out.push(
        `<g class="legend-key">${key.mark(x + LEGEND_SWATCH / 2, y + LEGEND_ROW / 2)}` +
          `<text x="${num(x + LEGEND_SWATCH + 6)}" y="${num(y + LEGEND_ROW / 2 + LEGEND_SIZE * 0.35)}">${escapeXml(key.label)}</text></g>`,
      );
    });
    out.push(`</g>`);
  }
  const lines = page.titleLines;
  if (lines.length > 0) {
    const m = spec.options.margin ?? 16;
    // One line is the text itself; a wrapped title is one <tspan> per line.
    const text = lines.length === 1
      ? escapeXml(lines[0])
      : lines.map((line, i) => `<tspan x="${num(m)}" y="${num(m + TITLE_SIZE + i * TITLE_LINE)}">${escapeXml(line)}</tspan>`).join("");
    out.push(
      `<text class="title" x="${num(m)}" y="${num(m + TITLE_SIZE)}" font-size="${TITLE_SIZE}" font-weight="bold" fill="#222">${text}</text>`,
    );
  }
  out.push(`</svg>`);
  return out;
}
