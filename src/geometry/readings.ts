/**
 * The readings of the local latent basis per denoising step (Park et al.
 * 2023, §4): the frequency of the basis (spectral centroid of each vector;
 * coarse-to-fine says it rises over the steps), how much the tangent spaces
 * of different samples agree (Grassmann distance within a prompt and across
 * prompts), and how much the condition matters (distance between the bases
 * under the prompt and under no prompt at the same x_t).
 *
 * Input: a step table with `noisy` (the x_t each row's denoiser saw); the
 * basis is recomputed at each row's x_t by a BasisEngine. Output: a geometry
 * table (one row per instance and step) and a distance table (per step and
 * kind), both Arrow, and a plain per-step summary.
 */
import { Table } from "apache-arrow";
import { OptionError, SchemaError, throwIfAborted } from "../errors.ts";
import { dictionaryColumn, float32Column, int32Column, vectorColumn } from "../data/columns.ts";
import { IMAGE_SHAPE_KEY, type ImageShape, readStepTable, type StepTable } from "../data/step_table.ts";
import type { NoiseLevel } from "../sources/denoiser.ts";
import { noiseSchedule, type NoiseSchedule, type ScheduleName } from "../sources/schedule.ts";
import { normalizedGrassmannDistance } from "./grassmann.ts";
import { type BasisEngine, type LocalBasis, rankOf } from "./local_basis.ts";
import { centroidOf, spectralCentroid, type SpectralOptions } from "./spectral_centroid.ts";

export interface GeometryOptions {
  /** Computes the basis at one x_t (closedFormJacobian, onnxJacobian). */
  engine: BasisEngine;
  /** Basis size k (default 10). */
  k?: number;
  /** The denoiser's condition index for a prompt label (−1 = unconditional), e.g. mnistCondition. */
  condition: (prompt: string) => number;
  /** ᾱ and t per step, as the sampler visited them (planSampler(options).levels); else looked up from `timestep`. */
  levels?: readonly NoiseLevel[];
  /** The schedule to look ᾱ up in when `levels` is not given (default "cosine", 1000 steps). */
  schedule?: ScheduleName | NoiseSchedule;
  /** The denoiser's value range that `noisy` was rescaled from to [0, 1] (default [−1, 1], as mnistDiffusion). */
  range?: readonly [number, number];
  /** Also the basis without the condition at each conditional row, for the conditional distance (default true). */
  unconditional?: boolean;
  /** Distances between right ("x", default when the engine gives them) or left ("h") singular vectors. */
  side?: "x" | "h";
  /** Keep the basis vectors in the geometry table (column `basis`, k·dim per row; default false). */
  vectors?: boolean;
  /** Bands of the spectral centroid (as the `frequency` encoder; default 8, linear). */
  spectral?: SpectralOptions;
  /** Called after each row's basis, with rows done and the total. */
  progress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** One row of the geometry table, as plain values. */
export interface GeometryRow {
  instance: number;
  prompt: string;
  step: number;
  timestep: number;
  values: Float64Array;
  /** Spectral centroid of each basis vector (NaN without vectors, and past the rank). */
  centroids: Float64Array;
  meanCentroid: number;
  /** Centroid of the pullback metric per band (NaN when the engine gives none). */
  bandCentroid: number;
  ess: number;
  /** Normalised Grassmann distance between the bases under the prompt and without it (NaN for unconditional rows). */
  conditionalDistance: number;
  runs: number;
  /** The numerical rank of J's top k (rankOf). */
  rank: number;
  /** Rank below k (J vanished, or nearly: the closed form's weights on k images or fewer): left out of the distances. */
  degenerate: boolean;
  basis: LocalBasis;
}

export interface DistanceRow {
  step: number;
  kind: "within" | "across" | "conditional";
  promptA: string;
  promptB: string;
  mean: number;
  pairs: number;
}

/** The findings of one step, pooled over prompts. */
export interface StepSummary {
  step: number;
  timestep: number;
  rows: number;
  /** Rows whose J has rank below k (closed form as its weights collapse); left out of the distances, their centroid over the rank's vectors. */
  degenerate: number;
  meanEss: number;
  meanCentroid: number;
  meanBandCentroid: number;
  /** Mean normalised Grassmann distance over all pairs of instances of one prompt. */
  within: number;
  /** Over all pairs of instances of different prompts. */
  across: number;
  /** Over the conditional rows: prompt vs no prompt at the same x_t. */
  conditional: number;
  /** Mean top singular value. */
  meanTopValue: number;
}

export interface StepGeometry {
  rows: GeometryRow[];
  distances: DistanceRow[];
  summary: StepSummary[];
}

/** Readings of every step of `steps` (rows grouped by step, in step order). */
export async function stepGeometry(steps: StepTable, options: GeometryOptions): Promise<StepGeometry> {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new OptionError("k", `must be a positive integer, not ${k}`);
  const { engine } = options;
  const cols = readStepTable(steps, { image: false });
  if (!cols.noisy || !cols.imageShape) throw new SchemaError("missing-column", `the geometry needs "noisy" (the x_t of each row) and "image"`, { column: "noisy" });
  const shape = cols.imageShape;
  const dim = shape[0] * shape[1] * shape[2];
  if (dim !== engine.dim) throw new OptionError("engine", `works on ${engine.dim} values, the images have ${dim}`);
  const [lo, hi] = options.range ?? [-1, 1];
  const schedule = typeof options.schedule === "object" ? options.schedule : noiseSchedule(options.schedule ?? "cosine");
  const spectral = spectralCentroid(shape, options.spectral);
  const unconditional = options.unconditional ?? true;
  const n = cols.instance.length;
  const order = [...Array(n).keys()].sort((a, b) => cols.step[a] - cols.step[b] || cols.instance[a] - cols.instance[b]);
  const conditionOf = new Map(cols.prompts.map((p) => [p, options.condition(p)]));
  const total = n + (unconditional ? order.filter((r) => conditionOf.get(cols.prompts[cols.prompt[r]])! !== -1).length : 0);

  const rows: GeometryRow[] = [];
  let done = 0;
  const xt = new Float64Array(dim);
  for (const r of order) {
    throwIfAborted(options.signal, "the geometry");
    const step = cols.step[r];
    const prompt = cols.prompts[cols.prompt[r]];
    const condition = conditionOf.get(prompt)!;
    for (let i = 0; i < dim; i++) xt[i] = lo + (hi - lo) * cols.noisy[r * dim + i];
    const timestep = cols.timestep ? cols.timestep[r] : NaN;
    const level = options.levels?.[step] ?? levelAt(schedule, timestep);
    const basis = await engine.basis(xt, level, condition, k);
    options.progress?.(++done, total);
    let conditionalDistance = NaN, runs = basis.runs ?? 0;
    const kk = basis.vectors ? basis.vectors.length / dim : 0;
    // Only the sketch without values ("bands") has no rank to speak of.
    const rank = basis.values.length > 0 ? rankOf(basis) : k;
    const degenerate = rank < Math.min(k, basis.values.length || k);
    if (unconditional && condition !== -1) {
      const free = await engine.basis(xt, level, -1, k);
      options.progress?.(++done, total);
      runs += free.runs ?? 0;
      const freeRank = free.values.length > 0 ? rankOf(free) : k;
      if (!degenerate && !(freeRank < Math.min(k, free.values.length || k))) conditionalDistance = distance(basis, free, options.side, dim);
    }
    const centroids = new Float64Array(kk).fill(NaN);
    const valid = Math.min(rank, kk);
    if (basis.vectors && valid > 0) centroids.set(spectral.centroids(basis.vectors.subarray(0, valid * dim), valid));
    rows.push({
      instance: cols.instance[r], prompt, step, timestep, values: basis.values, centroids,
      meanCentroid: mean(centroids),
      bandCentroid: basis.bandMetric && basis.bandCentres ? centroidOf(basis.bandMetric, basis.bandCentres) : NaN,
      ess: basis.ess ?? NaN, conditionalDistance, runs, rank, degenerate, basis,
    });
  }

  const distances: DistanceRow[] = [];
  const summary: StepSummary[] = [];
  for (const group of groupBy(rows, (row) => row.step)) {
    const step = group[0].step;
    const live = group.filter((row) => !row.degenerate);
    const byPrompt = groupBy(live, (row) => row.prompt);
    let withinSum = 0, withinPairs = 0, acrossSum = 0, acrossPairs = 0;
    for (const a of byPrompt) {
      let s = 0, c = 0;
      for (let i = 0; i < a.length; i++) for (let j = i + 1; j < a.length; j++, c++) s += distance(a[i].basis, a[j].basis, options.side, dim);
      if (c > 0) distances.push({ step, kind: "within", promptA: a[0].prompt, promptB: a[0].prompt, mean: s / c, pairs: c });
      withinSum += s;
      withinPairs += c;
    }
    for (let p = 0; p < byPrompt.length; p++) {
      for (let q = p + 1; q < byPrompt.length; q++) {
        let s = 0, c = 0;
        for (const x of byPrompt[p]) for (const y of byPrompt[q]) s += distance(x.basis, y.basis, options.side, dim), c++;
        distances.push({ step, kind: "across", promptA: byPrompt[p][0].prompt, promptB: byPrompt[q][0].prompt, mean: s / c, pairs: c });
        acrossSum += s;
        acrossPairs += c;
      }
    }
    for (const a of byPrompt) {
      const d = a.map((row) => row.conditionalDistance).filter((v) => !Number.isNaN(v));
      if (d.length) distances.push({ step, kind: "conditional", promptA: a[0].prompt, promptB: "", mean: mean(d), pairs: d.length });
    }
    summary.push({
      step,
      timestep: group[0].timestep,
      rows: group.length,
      degenerate: group.length - live.length,
      meanEss: mean(group.map((row) => row.ess)),
      meanCentroid: mean(group.map((row) => row.meanCentroid)),
      meanBandCentroid: mean(group.map((row) => row.bandCentroid)),
      within: withinPairs ? withinSum / withinPairs : NaN,
      across: acrossPairs ? acrossSum / acrossPairs : NaN,
      conditional: mean(live.map((row) => row.conditionalDistance)),
      meanTopValue: mean(group.map((row) => row.values[0] ?? NaN)),
    });
  }
  return { rows, distances, summary };
}

/** Normalised Grassmann distance between two bases, on the chosen side. */
function distance(a: LocalBasis, b: LocalBasis, side: "x" | "h" | undefined, dim: number): number {
  const useX = side === "x" || (side === undefined && a.vectors !== undefined && b.vectors !== undefined);
  if (useX) {
    if (!a.vectors || !b.vectors) throw new OptionError("side", `"x" needs right singular vectors, which this engine does not give (use side "h")`);
    return normalizedGrassmannDistance(a.vectors, a.vectors.length / dim, b.vectors, b.vectors.length / dim, dim);
  }
  if (!a.left || !b.left || a.featureDim !== b.featureDim) throw new OptionError("side", `"h" needs left singular vectors, which this engine does not give`);
  const m = a.featureDim!;
  return normalizedGrassmannDistance(a.left, a.left.length / m, b.left, b.left.length / m, m);
}

/** The `condition` option from the sampler's prompts: each label's condition index. */
export function conditionsOf(prompts: readonly { label: string; condition: number }[]): (prompt: string) => number {
  const map = new Map(prompts.map((p) => [p.label, p.condition]));
  return (prompt) => {
    const c = map.get(prompt);
    if (c === undefined) throw new OptionError("condition", `no condition for the prompt ${JSON.stringify(prompt)}`);
    return c;
  };
}

/** The level of a training timestep t of `schedule`; a fractional t (Euler) interpolates log σ. */
export function levelAt(schedule: NoiseSchedule, t: number): NoiseLevel {
  const T = schedule.alphaBar.length;
  if (!(t >= 0 && t <= T - 1)) throw new OptionError("timestep", `${t} is not a timestep of the ${T}-step schedule (pass the sampler's levels)`);
  const a = Math.floor(t), b = Math.min(a + 1, T - 1), f = t - a;
  if (f === 0) return { t, alphaBar: schedule.alphaBar[a] };
  const logSigma = (ab: number) => 0.5 * Math.log((1 - ab) / ab);
  const s = (1 - f) * logSigma(schedule.alphaBar[a]) + f * logSigma(schedule.alphaBar[b]);
  return { t, alphaBar: 1 / (1 + Math.exp(2 * s)) };
}

/** Spearman's rank correlation (average ranks for ties); NaN pairs are left out. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const keep = x.map((_, i) => i).filter((i) => Number.isFinite(x[i]) && Number.isFinite(y[i]));
  const rx = ranks(keep.map((i) => x[i])), ry = ranks(keep.map((i) => y[i]));
  const n = keep.length;
  if (n < 2) return NaN;
  const mx = mean(rx), my = mean(ry);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

function ranks(v: number[]): number[] {
  const order = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
  const out = new Array<number>(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    for (let t = i; t <= j; t++) out[order[t]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

function mean(v: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) continue;
    s += v[i];
    c++;
  }
  return c ? s / c : NaN;
}

function groupBy<T, K>(items: T[], key: (item: T) => K): T[][] {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return [...map.values()];
}

// ---- Arrow -----------------------------------------------------------------------

/**
 * The geometry table: one row per (instance, step) with `instance`,
 * `prompt`, `step`, `timestep`, `singular_values` (k), `centroids` (k),
 * `mean_centroid`, `band_centroid`, `ess`, `conditional_distance`, `runs`
 * and, when kept, `basis` (k·C·H·W, the image shape in the schema metadata
 * as for a step table). NaN marks a reading that does not apply.
 */
export function geometryTable(rows: readonly GeometryRow[], options: { vectors?: boolean; shape?: ImageShape } = {}): Table {
  const k = Math.max(0, ...rows.map((r) => r.values.length));
  const prompts = [...new Set(rows.map((r) => r.prompt))];
  const fixed = (get: (r: GeometryRow) => ArrayLike<number>) => {
    const out = new Float32Array(rows.length * k).fill(NaN);
    rows.forEach((r, i) => out.set(Array.from(get(r)).slice(0, k), i * k));
    return out;
  };
  const columns: Record<string, unknown> = {
    instance: int32Column(Int32Array.from(rows, (r) => r.instance)),
    prompt: dictionaryColumn(Int32Array.from(rows, (r) => prompts.indexOf(r.prompt)), prompts),
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    timestep: float32Column(Float32Array.from(rows, (r) => r.timestep)),
    mean_centroid: float32Column(Float32Array.from(rows, (r) => r.meanCentroid)),
    band_centroid: float32Column(Float32Array.from(rows, (r) => r.bandCentroid)),
    ess: float32Column(Float32Array.from(rows, (r) => r.ess)),
    conditional_distance: float32Column(Float32Array.from(rows, (r) => r.conditionalDistance)),
    runs: int32Column(Int32Array.from(rows, (r) => r.runs)),
  };
  if (k > 0) {
    columns.singular_values = vectorColumn(fixed((r) => r.values), k);
    columns.centroids = vectorColumn(fixed((r) => r.centroids), k);
  }
  const dim = options.shape ? options.shape[0] * options.shape[1] * options.shape[2] : 0;
  if (options.vectors && dim > 0 && k > 0 && rows.every((r) => r.basis.vectors)) {
    const out = new Float32Array(rows.length * k * dim);
    rows.forEach((r, i) => out.set(r.basis.vectors!.subarray(0, k * dim), i * k * dim));
    columns.basis = vectorColumn(out, k * dim);
  }
  const built = new Table(columns as never);
  if (options.shape) built.schema.metadata.set(IMAGE_SHAPE_KEY, JSON.stringify(options.shape));
  built.schema.metadata.set(GEOMETRY_KEY, JSON.stringify({ k }));
  return built;
}

export const GEOMETRY_KEY = "diffusion-life.geometry";

/** The distance table: `step`, `kind` (within, across, conditional), `prompt_a`, `prompt_b`, `mean`, `pairs`. */
export function distanceTable(rows: readonly DistanceRow[]): Table {
  const kinds = ["within", "across", "conditional"];
  const prompts = [...new Set(rows.flatMap((r) => [r.promptA, r.promptB]))];
  return new Table({
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    kind: dictionaryColumn(Int32Array.from(rows, (r) => kinds.indexOf(r.kind)), kinds),
    prompt_a: dictionaryColumn(Int32Array.from(rows, (r) => prompts.indexOf(r.promptA)), prompts),
    prompt_b: dictionaryColumn(Int32Array.from(rows, (r) => prompts.indexOf(r.promptB)), prompts),
    mean: float32Column(Float32Array.from(rows, (r) => r.mean)),
    pairs: int32Column(Int32Array.from(rows, (r) => r.pairs)),
  } as never);
}
