/**
 * Figures of the geometry readings, as SVG: the basis vectors of one
 * instance as an image grid (a row per step, a column per vector; blue
 * negative, red positive, each vector scaled to its largest |value|), and
 * the readings against the step (spectral centroid, Grassmann distances,
 * effective sample size), one line per source; and the end images of a
 * traversal (a row per edited direction, a column per γ).
 */
import { encode as encodePng } from "fast-png";
import { type ImageShape, readStepTable, type StepTable } from "../data/step_table.ts";
import type { GeometryRow, StepSummary } from "./readings.ts";
import { readBranches } from "./traversal.ts";

export interface BasisSvgOptions {
  /** Side of one basis image in SVG units (default 36). */
  cell?: number;
  /** Vectors per row (default all). */
  k?: number;
  title?: string;
}

/** The basis vectors of `rows` (one instance, several steps), a row per step. */
export function renderBasisSvg(rows: readonly GeometryRow[], shape: ImageShape, options: BasisSvgOptions = {}): string {
  const cell = options.cell ?? 36;
  const [, h, w] = shape;
  const dim = shape[0] * h * w;
  const k = Math.min(options.k ?? Infinity, Math.max(0, ...rows.map((r) => (r.basis.vectors ? r.basis.vectors.length / dim : 0))));
  const left = 150, top = options.title ? 40 : 16, gap = 4;
  const width = Math.max(left + k * (cell + gap) + 10, 470), height = top + rows.length * (cell + gap) + 24;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (options.title) out.push(`<text x="8" y="20" font-size="13">${escape(options.title)}</text>`);
  for (let i = 0; i < k; i++) out.push(`<text x="${left + i * (cell + gap) + cell / 2}" y="${top - 4}" text-anchor="middle" fill="#555">v${i + 1}</text>`);
  rows.forEach((row, r) => {
    const y = top + r * (cell + gap);
    const label = `step ${row.step}  σ₁ ${fmt(row.values[0])}  c ${Number.isNaN(row.meanCentroid) ? "—" : row.meanCentroid.toFixed(3)}`;
    out.push(`<text x="${left - 6}" y="${y + cell / 2 + 3}" text-anchor="end">${escape(label)}</text>`);
    for (let i = 0; i < k; i++) {
      const x = left + i * (cell + gap);
      if (!row.basis.vectors || i >= row.rank) {
        out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="#eee"/>`);
        continue;
      }
      const v = row.basis.vectors.subarray(i * dim, i * dim + h * w); // first channel
      out.push(`<image x="${x}" y="${y}" width="${cell}" height="${cell}" style="image-rendering:pixelated" href="data:image/png;base64,${diverging(v, w, h)}"/>`);
    }
  });
  out.push(`<text x="8" y="${height - 8}" fill="#555">blue −, red +, each vector to its largest |value|; grey: past the rank of J</text>`);
  out.push(`</svg>`);
  return out.join("\n");
}

export interface ReadingsSeries {
  name: string;
  summary: readonly StepSummary[];
  color?: string;
}

const COLORS = ["#4e79a7", "#e15759", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2"];

/** Four panels against the step: mean spectral centroid, within/across-prompt distance, conditional distance, effective sample size. */
export function renderReadingsSvg(series: readonly ReadingsSeries[], options: { title?: string } = {}): string {
  const pw = 300, ph = 190, margin = { l: 52, r: 14, t: 28, b: 36 };
  const panels: { title: string; y: (s: StepSummary) => number[]; labels: string[]; log?: boolean; range?: [number, number] }[] = [
    { title: "mean spectral centroid of the basis (cycles/pixel)", y: (s) => [s.meanCentroid, s.meanBandCentroid], labels: ["basis vectors", "band metric"], range: [0, 0.5] },
    { title: "Grassmann distance between instances", y: (s) => [s.within, s.across], labels: ["within a prompt", "across prompts"], range: [0, 1] },
    { title: "conditional vs unconditional (same x_t)", y: (s) => [s.conditional], labels: [""], range: [0, 1] },
    { title: "effective sample size (closed form)", y: (s) => [s.meanEss], labels: [""], log: true },
  ];
  const top = options.title ? 26 : 0;
  const width = 2 * (pw + margin.l + margin.r), height = top + 2 * (ph + margin.t + margin.b) + 20 + 14 * series.length;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (options.title) out.push(`<text x="8" y="18" font-size="13">${escape(options.title)}</text>`);
  const maxStep = Math.max(1, ...series.flatMap((s) => s.summary.map((r) => r.step)));
  panels.forEach((panel, p) => {
    const ox = (p % 2) * (pw + margin.l + margin.r) + margin.l, oy = top + Math.floor(p / 2) * (ph + margin.t + margin.b) + margin.t;
    const values = series.flatMap((s) => s.summary.flatMap(panel.y)).filter((v) => Number.isFinite(v) && (!panel.log || v > 0));
    let [lo, hi] = panel.range ?? [Math.min(...values), Math.max(...values)];
    if (panel.log) [lo, hi] = [Math.floor(Math.log10(Math.min(...values, 1))), Math.ceil(Math.log10(Math.max(...values, 10)))];
    if (!(hi > lo)) hi = lo + 1;
    const sx = (step: number) => ox + (step / maxStep) * pw;
    const sy = (v: number) => oy + ph - (((panel.log ? Math.log10(v) : v) - lo) / (hi - lo)) * ph;
    out.push(`<text x="${ox}" y="${oy - 10}" font-size="11">${escape(panel.title)}</text>`);
    out.push(`<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
    const ticks = panel.log ? hi - lo : 4;
    for (let t = 0; t <= ticks; t++) {
      const v = lo + ((hi - lo) * t) / ticks;
      const y = oy + ph - (ph * t) / ticks;
      out.push(`<line x1="${ox - 3}" x2="${ox}" y1="${y}" y2="${y}" stroke="#888"/><text x="${ox - 5}" y="${y + 3}" text-anchor="end">${panel.log ? String(10 ** v) : v.toFixed(2)}</text>`);
    }
    for (let s = 0; s <= maxStep; s += Math.max(1, Math.round(maxStep / 10))) {
      out.push(`<text x="${sx(s)}" y="${oy + ph + 13}" text-anchor="middle">${s}</text>`);
    }
    out.push(`<text x="${ox + pw / 2}" y="${oy + ph + 27}" text-anchor="middle" fill="#555">step (0 = noisiest)</text>`);
    series.forEach((ser, i) => {
      const color = ser.color ?? COLORS[i % COLORS.length];
      panel.labels.forEach((_, j) => {
        const pts = ser.summary.map((r) => [r.step, panel.y(r)[j]] as const).filter(([, v]) => Number.isFinite(v) && (!panel.log || v > 0));
        if (pts.length === 0) return;
        const d = pts.map(([s, v], q) => `${q ? "L" : "M"}${sx(s).toFixed(1)},${sy(v).toFixed(1)}`).join("");
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${j ? ` stroke-dasharray="4 3"` : ""}/>`);
        for (const [s, v] of pts) out.push(`<circle cx="${sx(s).toFixed(1)}" cy="${sy(v).toFixed(1)}" r="2" fill="${color}"/>`);
      });
    });
    const styles = panel.labels.filter((l) => l);
    styles.forEach((label, j) => {
      const y = oy + 12 + j * 12;
      out.push(`<line x1="${ox + pw - 110}" x2="${ox + pw - 90}" y1="${y - 3}" y2="${y - 3}" stroke="#333"${j ? ` stroke-dasharray="4 3"` : ""}/><text x="${ox + pw - 86}" y="${y}">${escape(label)}</text>`);
    });
  });
  series.forEach((ser, i) => {
    const y = height - 10 - 14 * (series.length - 1 - i);
    out.push(`<rect x="10" y="${y - 8}" width="10" height="10" fill="${ser.color ?? COLORS[i % COLORS.length]}"/><text x="26" y="${y}">${escape(ser.name)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n");
}

/**
 * The last step of a traversal (a step table from `traverse`): x̂0 of each
 * branch, a row per (parent, step, direction) and a column per γ.
 */
export function renderTraversalSvg(last: StepTable, options: { cell?: number; title?: string } = {}): string {
  const cell = options.cell ?? 44;
  const cols = readStepTable(last);
  const [, h, w] = cols.imageShape!;
  const dim = cols.imageShape![0] * h * w;
  const branches = readBranches(last);
  const gammas = [...new Set(branches.map((b) => b.gamma))].sort((a, b) => a - b);
  const rowsOf = [...new Set(branches.map((b) => `${b.parent}/${b.step}/${b.direction}`))];
  const left = 150, top = options.title ? 44 : 24, gap = 4;
  const width = left + gammas.length * (cell + gap) + 10, height = top + rowsOf.length * (cell + gap) + 10;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  if (options.title) out.push(`<text x="8" y="18" font-size="12">${escape(options.title)}</text>`);
  gammas.forEach((g, j) => out.push(`<text x="${left + j * (cell + gap) + cell / 2}" y="${top - 6}" text-anchor="middle">γ ${g}</text>`));
  rowsOf.forEach((key, r) => {
    const [parent, step, direction] = key.split("/").map(Number);
    const y = top + r * (cell + gap);
    out.push(`<text x="${left - 6}" y="${y + cell / 2 + 3}" text-anchor="end">${escape(`instance ${parent}, step ${step}, ${direction < 0 ? "given v" : `v${direction + 1}`}`)}</text>`);
    for (const b of branches.filter((q) => `${q.parent}/${q.step}/${q.direction}` === key)) {
      const row = [...cols.instance].indexOf(b.instance);
      if (row < 0) continue;
      const x = left + gammas.indexOf(b.gamma) * (cell + gap);
      out.push(`<image x="${x}" y="${y}" width="${cell}" height="${cell}" style="image-rendering:pixelated" href="data:image/png;base64,${grey(cols.image!.subarray(row * dim, row * dim + h * w), w, h)}"/>`);
      out.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="none" stroke="#ccc"/>`);
    }
  });
  out.push(`</svg>`);
  return out.join("\n");
}

/** A black-on-white PNG (base64) of one plane in [0, 1]. */
function grey(v: ArrayLike<number>, w: number, h: number): string {
  const data = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i++) data[i] = Math.round(255 * (1 - Math.min(1, Math.max(0, v[i]))));
  return base64(encodePng({ width: w, height: h, data, channels: 1, depth: 8 }));
}

/** A diverging blue–white–red PNG (base64) of one plane. */
export function diverging(v: ArrayLike<number>, w: number, h: number): string {
  let big = 0;
  for (let i = 0; i < w * h; i++) big = Math.max(big, Math.abs(v[i]));
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const t = big > 0 ? v[i] / big : 0;
    const a = Math.round(255 * (1 - Math.abs(t)));
    data.set(t >= 0 ? [255, a, a] : [a, a, 255], i * 3);
  }
  return base64(encodePng({ width: w, height: h, data, channels: 3, depth: 8 }));
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const fmt = (x: number) => (x === undefined || Number.isNaN(x) ? "—" : x === 0 ? "0" : x.toPrecision(2));
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
