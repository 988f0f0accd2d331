/**
 * Figures of the explanations, as SVG documents (PNG through svgToPng):
 *   renderSaliencySvg    saliency strips: a row per instance, a column per
 *                        explained step, each cell the DF-RISE map over x_t
 *                        (red: keeping the pixel keeps the output; blue: the
 *                        opposite), beside the row's x̂0 at the last step;
 *   renderAucSvg         insertion and deletion AUC against the step, with the
 *                        random baseline dashed, one colour per source;
 *   renderCommitmentSvg  per prompt, the committed fraction and the accuracy
 *                        of the current class against the step, and the
 *                        histogram of commitment steps;
 *   renderConceptSvg     concept-emergence curves: per concept, each prompt's
 *                        mean projection against the step;
 *   renderLevelSvg       the denoising level: SSIM to the final image, relative
 *                        distance and the final class's probability;
 *   renderCommittedFrameSvg  an embedding frame (radial, rectilinear, any
 *                        layout) with every point filled once its instance
 *                        has committed and hollow before.
 */
import { encode as encodePng } from "fast-png";
import type { Table } from "apache-arrow";
import { readDictionary, readFloat32, readInt32 } from "../data/columns.ts";
import type { Commitment } from "./commitment.ts";
import type { Concepts } from "./concepts.ts";
import type { DenoisingLevel } from "./level.ts";
import type { SaliencyAtStep, Saliencies } from "./saliency.ts";
import { diverging } from "../geometry/geometry_svg.ts";

const COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const open = (width: number, height: number) => [
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
  `<rect width="100%" height="100%" fill="white"/>`,
];
const colorOf = (colors: Record<string, string> | undefined, label: string, i: number) => colors?.[label] ?? COLORS[i % COLORS.length];

export interface FigureOptions {
  title?: string;
  /** Colour per prompt label (default a Tableau 10 colour by order). */
  colors?: Record<string, string>;
}

// ---- saliency strips ---------------------------------------------------------------

export interface SaliencySvgOptions extends FigureOptions {
  /** Side of one cell in SVG units (default 44). */
  cell?: number;
  /** Final images per instance (C·H·W on [0, 1], first channel drawn), drawn in a first column. */
  finals?: Map<number, Float32Array>;
}

export function renderSaliencySvg(s: Saliencies, options: SaliencySvgOptions = {}): string {
  const cell = options.cell ?? 44, gap = 4, [, h, w] = s.shape;
  const instances = [...new Set(s.rows.map((r) => r.instance))].sort((a, b) => a - b);
  const steps = [...new Set(s.rows.map((r) => r.step))].sort((a, b) => a - b);
  const left = 130 + (options.finals ? cell + 2 * gap : 0), top = (options.title ? 30 : 8) + 16;
  const width = Math.max(460, left + steps.length * (cell + gap) + 10), height = top + instances.length * (cell + gap) + 40;
  const out = open(width, height);
  if (options.title) out.push(`<text x="8" y="18" font-size="13">${escape(options.title)}</text>`);
  steps.forEach((step, j) => out.push(`<text x="${left + j * (cell + gap) + cell / 2}" y="${top - 5}" text-anchor="middle" fill="#555">step ${step}</text>`));
  if (options.finals) out.push(`<text x="${left - gap - cell / 2}" y="${top - 5}" text-anchor="middle" fill="#555">final</text>`);
  instances.forEach((instance, i) => {
    const y = top + i * (cell + gap);
    const row = s.rows.find((r) => r.instance === instance)!;
    out.push(`<text x="8" y="${y + cell / 2 + 3}">${escape(`${instance} · ${row.prompt}`)}</text>`);
    const final = options.finals?.get(instance);
    if (final) out.push(`<image x="${left - gap - cell}" y="${y}" width="${cell}" height="${cell}" style="image-rendering:pixelated" href="data:image/png;base64,${grey(final, w, h)}"/>`);
    steps.forEach((step, j) => {
      const x = left + j * (cell + gap);
      const r = s.rows.find((q) => q.instance === instance && q.step === step);
      if (!r) return void out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eee"/>`);
      out.push(`<rect x="${x - 0.5}" y="${y - 0.5}" width="${cell + 1}" height="${cell + 1}" fill="none" stroke="#ccc"/>`);
      out.push(`<image x="${x}" y="${y}" width="${cell}" height="${cell}" style="image-rendering:pixelated" href="data:image/png;base64,${diverging(r.saliency, w, h)}"><title>${escape(r.curves ? `insertion AUC ${r.curves.insertion.auc.toFixed(3)}, deletion AUC ${r.curves.deletion.auc.toFixed(3)}` : `step ${step}`)}</title></image>`);
    });
  });
  out.push(`<text x="8" y="${height - 22}" fill="#555">red: keeping the pixel of x_t keeps x̂0; blue: the opposite; white: no mask changes x̂0;</text>`);
  out.push(`<text x="8" y="${height - 8}" fill="#555">each map scaled to its largest |value|</text>`, `</svg>`);
  return out.join("\n");
}

// ---- line charts ---------------------------------------------------------------------

interface Series {
  label: string;
  color: string;
  dash?: boolean;
  points: (readonly [number, number])[];
}
interface Panel {
  title: string;
  series: Series[];
  range?: [number, number];
  bars?: boolean;
}

function chart(panels: Panel[], options: { title?: string; legend: { label: string; color: string }[]; keys?: { label: string; dash: boolean }[]; columns?: number }): string {
  const pw = 300, ph = 180, m = { l: 48, r: 14, t: 26, b: 34 };
  const columns = Math.min(options.columns ?? 2, panels.length), rows = Math.ceil(panels.length / columns);
  const top = options.title ? 26 : 4;
  const legendRows = Math.ceil(options.legend.length / 4) + (options.keys?.length ? 1 : 0);
  const width = columns * (pw + m.l + m.r), height = top + rows * (ph + m.t + m.b) + 16 * legendRows + 10;
  const out = open(width, height);
  if (options.title) out.push(`<text x="8" y="18" font-size="13">${escape(options.title)}</text>`);
  const xs = panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xlo = Math.min(...xs, 0), xhi = Math.max(...xs, 1);
  panels.forEach((panel, p) => {
    const x0 = panel.bars ? xlo - 0.5 : xlo, x1 = panel.bars ? xhi + 0.5 : xhi;
    const ox = (p % columns) * (pw + m.l + m.r) + m.l, oy = top + Math.floor(p / columns) * (ph + m.t + m.b) + m.t;
    const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
    let [lo, hi] = panel.range ?? [Math.min(...ys, 0), Math.max(...ys, 0)];
    if (!(hi > lo)) hi = lo + 1;
    const sx = (x: number) => ox + ((x - x0) / (x1 - x0 || 1)) * pw, sy = (y: number) => oy + ph - ((y - lo) / (hi - lo)) * ph;
    out.push(`<text x="${ox}" y="${oy - 9}" font-size="11">${escape(panel.title)}</text>`, `<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
    for (let t = 0; t <= 4; t++) {
      const v = lo + ((hi - lo) * t) / 4, y = sy(v);
      out.push(`<line x1="${ox - 3}" x2="${ox}" y1="${y}" y2="${y}" stroke="#888"/><text x="${ox - 5}" y="${y + 3}" text-anchor="end">${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)}</text>`);
    }
    const every = Math.max(1, Math.round((x1 - x0) / 10));
    for (let x = xlo; x <= xhi; x += every) out.push(`<text x="${sx(x)}" y="${oy + ph + 13}" text-anchor="middle">${x}</text>`);
    out.push(`<text x="${ox + pw / 2}" y="${oy + ph + 27}" text-anchor="middle" fill="#555">step (0 = noisiest)</text>`);
    if (lo < 0 && hi > 0) out.push(`<line x1="${ox}" x2="${ox + pw}" y1="${sy(0)}" y2="${sy(0)}" stroke="#ddd"/>`);
    panel.series.forEach((s, k) => {
      const pts = s.points.filter(([, y]) => Number.isFinite(y));
      if (panel.bars) {
        const bw = Math.max(1, (0.8 * pw) / (x1 - x0) / Math.max(1, panel.series.length));
        for (const [x, y] of pts) if (y > 0) out.push(`<rect x="${(sx(x) - (bw * panel.series.length) / 2 + k * bw).toFixed(1)}" y="${sy(y).toFixed(1)}" width="${bw.toFixed(1)}" height="${(sy(lo) - sy(y)).toFixed(1)}" fill="${s.color}"/>`);
        return;
      }
      if (!pts.length) return;
      out.push(`<path d="${pts.map(([x, y], q) => `${q ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join("")}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dash ? ` stroke-dasharray="4 3"` : ""}/>`);
      if (!s.dash) for (const [x, y] of pts) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="1.8" fill="${s.color}"/>`);
    });
  });
  let ly = height - 16 * legendRows + 2;
  options.legend.forEach((l, i) => {
    const x = 10 + (i % 4) * 170;
    if (i % 4 === 0 && i > 0) ly += 16;
    out.push(`<rect x="${x}" y="${ly}" width="10" height="10" fill="${l.color}"/><text x="${x + 15}" y="${ly + 9}">${escape(l.label)}</text>`);
  });
  if (options.keys?.length) {
    ly += 16;
    options.keys.forEach((k, i) => {
      const x = 10 + i * 170;
      out.push(`<line x1="${x}" x2="${x + 22}" y1="${ly + 5}" y2="${ly + 5}" stroke="#333" stroke-width="1.6"${k.dash ? ` stroke-dasharray="4 3"` : ""}/><text x="${x + 27}" y="${ly + 9}">${escape(k.label)}</text>`);
    });
  }
  out.push(`</svg>`);
  return out.join("\n");
}

/** Insertion and deletion AUC per step against the random baseline, one colour per source (e.g. closed form, U-Net). */
export function renderAucSvg(sources: Record<string, readonly SaliencyAtStep[]>, options: FigureOptions = {}): string {
  const names = Object.keys(sources);
  const series = (get: (s: SaliencyAtStep) => number, baseline: (s: SaliencyAtStep) => number) => names.flatMap((name, i) => [
    { label: name, color: colorOf(options.colors, name, i), points: sources[name].map((s) => [s.step, get(s)] as const) },
    { label: `${name} random`, color: colorOf(options.colors, name, i), dash: true, points: sources[name].map((s) => [s.step, baseline(s)] as const) },
  ]);
  return chart([
    { title: "insertion AUC (higher: the saliency finds what matters)", series: series((s) => s.insertionAuc, (s) => s.randomInsertionAuc) },
    { title: "deletion AUC (lower: the saliency finds what matters)", series: series((s) => s.deletionAuc, (s) => s.randomDeletionAuc) },
  ], { title: options.title ?? "Insertion and deletion by saliency order", legend: names.map((n, i) => ({ label: n, color: colorOf(options.colors, n, i) })), keys: [{ label: "DF-RISE order", dash: false }, { label: "random order", dash: true }] });
}

/** Committed fraction and accuracy per prompt against the step; the histogram of commitment steps. */
export function renderCommitmentSvg(c: Commitment, options: FigureOptions = {}): string {
  const prompts = c.distributions.map((d) => d.prompt).filter((p) => p !== "");
  const color = (p: string) => colorOf(options.colors, p, prompts.indexOf(p));
  const at = (p: string, get: (x: (typeof c.perStep)[number]) => number) => c.perStep.filter((x) => x.prompt === p).map((x) => [x.step, get(x)] as const);
  return chart([
    { title: "committed (solid) and class already final (dashed)", range: [0, 1], series: prompts.flatMap((p) => [{ label: p, color: color(p), points: at(p, (x) => x.committed) }, { label: p, color: color(p), dash: true, points: at(p, (x) => x.accuracy) }]) },
    { title: "commitment steps (instances)", bars: true, series: prompts.map((p) => ({ label: p, color: color(p), points: Array.from(c.distributions.find((d) => d.prompt === p)!.counts, (v, s) => [c.steps[s], v] as const) })) },
  ], { title: options.title ?? "When do the generations commit to their final class?", legend: prompts.map((p) => ({ label: `${p} (median ${c.distributions.find((d) => d.prompt === p)!.median})`, color: color(p) })) });
}

/** Concept-emergence curves: a panel per concept, a line per prompt. */
export function renderConceptSvg(k: Concepts, options: FigureOptions & { concepts?: readonly string[] } = {}): string {
  const prompts = k.trajectories.prompts, color = (p: string) => colorOf(options.colors, p, prompts.indexOf(p));
  const names = options.concepts ?? k.names;
  const members = (name: string) => k.curves.find((c) => c.concept === name && c.prompt.endsWith(` → ${name}`))?.prompt;
  return chart(names.map((name) => ({
    title: `projection on "${name}" (0 baseline, 1 its mean)`,
    series: [...prompts, members(name)].filter((p) => p !== undefined).map((p) => ({
      label: p!, color: prompts.includes(p!) ? color(p!) : "#111", dash: !prompts.includes(p!),
      points: k.curves.filter((c) => c.concept === name && c.prompt === p).map((c) => [c.step, c.projection] as const),
    })),
  })), {
    title: options.title ?? "Concept emergence", legend: prompts.map((p) => ({ label: p, color: color(p) })), columns: 3,
    keys: names.some(members) ? [{ label: "the class's own unconditional instances", dash: true }] : undefined,
  });
}

/** The denoising level per prompt: SSIM to the final image, relative distance, final-class probability. */
export function renderLevelSvg(level: DenoisingLevel, options: FigureOptions = {}): string {
  const prompts = [...new Set(level.perStep.map((p) => p.prompt))].filter((p) => p !== "");
  const color = (p: string) => colorOf(options.colors, p, prompts.indexOf(p));
  const panel = (title: string, get: (x: (typeof level.perStep)[number]) => number, range?: [number, number]): Panel => ({
    title, range, series: prompts.map((p) => ({ label: p, color: color(p), points: level.perStep.filter((x) => x.prompt === p).map((x) => [x.step, get(x)] as const) })),
  });
  const panels = [panel("SSIM of x̂0 to the final image", (x) => x.ssim, [0, 1]), panel("distance to the final image (1 = first step's)", (x) => x.relative, [0, 1])];
  if (level.perStep.some((x) => Number.isFinite(x.confidence))) panels.push(panel("probability of the final class", (x) => x.confidence, [0, 1]));
  return chart(panels, { title: options.title ?? "Denoising level", legend: prompts.map((p) => ({ label: p, color: color(p) })), columns: 3 });
}

/** An embedding frame with each point filled once its instance has committed, hollow before (colour: final class). */
export function renderCommittedFrameSvg(frame: Table, c: Commitment, options: FigureOptions & { width?: number } = {}): string {
  const x = readFloat32(frame, "x"), y = readFloat32(frame, "y"), step = readInt32(frame, "step"), instance = readInt32(frame, "instance");
  readDictionary(frame, "prompt");
  const byInstance = new Map(c.instances.map((i) => [i.instance, i]));
  const width = options.width ?? 640, pad = 20, top = options.title === "" ? 0 : 26, legend = 18 * Math.ceil(c.classNames.length / 5) + 22;
  let xl = Infinity, xh = -Infinity, yl = Infinity, yh = -Infinity;
  for (let i = 0; i < x.length; i++) (xl = Math.min(xl, x[i])), (xh = Math.max(xh, x[i])), (yl = Math.min(yl, y[i])), (yh = Math.max(yh, y[i]));
  const scale = (width - 2 * pad) / Math.max(xh - xl, yh - yl, 1e-9);
  const height = top + 2 * pad + (yh - yl) * scale + legend;
  const out = open(width, Math.ceil(height));
  out.push(`<text x="8" y="18" font-size="13">${escape(options.title ?? "Committed (filled) and not yet committed (hollow), coloured by final class")}</text>`);
  const order = [...x.keys()].sort((a, b) => step[a] - step[b]);
  for (const i of order) {
    const info = byInstance.get(instance[i]);
    if (!info) continue;
    const color = COLORS[info.finalClass % COLORS.length], committed = step[i] >= info.commitmentStep;
    const cx = pad + (x[i] - xl) * scale, cy = top + pad + (yh - y[i]) * scale;
    out.push(committed ? `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="2.6" fill="${color}"/>` : `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="2.6" fill="white" stroke="${color}" stroke-width="1.2"/>`);
  }
  const ly = height - legend + 8;
  c.classNames.forEach((name, k) => {
    const lx = 10 + (k % 5) * 90, yy = ly + Math.floor(k / 5) * 18;
    out.push(`<circle cx="${lx + 5}" cy="${yy + 5}" r="4" fill="${COLORS[k % COLORS.length]}"/><text x="${lx + 14}" y="${yy + 9}">class ${escape(name)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n");
}

/** A grey PNG (base64) of one plane on [0, 1]. */
function grey(v: ArrayLike<number>, w: number, h: number): string {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill(Math.round(255 * Math.min(1, Math.max(0, v[i]))), i * 3, i * 3 + 3);
  const bytes = encodePng({ width: w, height: h, data, channels: 3, depth: 8 });
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
