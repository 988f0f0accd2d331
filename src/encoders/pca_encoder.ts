/**
 * PCA as an encoder, fitted
 * - per step ("step", default): each step's points are compared only with
 *   each other, so each gets its own principal axes;
 * - once over all rows ("global");
 * - incrementally ("incremental"), for streams: the first batch of rows fits
 *   the axes, each later batch updates them before it is projected, and
 *   earlier batches keep the features they were given. The update merges the
 *   old fit (its axes scaled by their singular values) with the new rows
 *   centred on their mean and one row for the shift of the mean, and
 *   re-fits that small matrix (Ross, Lim, Lin & Yang 2008, as in
 *   scikit-learn's IncrementalPCA); memory is components×D whatever the
 *   stream's length. The encoder keeps that state: use one per stream.
 *   Rows are taken step by step in step order, so one table of many steps
 *   is fitted as a stream of its steps would be.
 * Fewer rows than components leave the missing components at zero.
 */
import { DimensionError, OptionError } from "../errors.ts";
import { pca } from "../linalg/pca.ts";
import { inBatches } from "./batches.ts";
import type { Encoder } from "./encoder.ts";

export interface PcaOptions {
  /** Number of components (default 50). */
  components?: number;
  /** "step" (default), "global" or "incremental" (see above). */
  fit?: "step" | "global" | "incremental";
  seed?: number;
}

export function pcaEncoder(options: PcaOptions = {}): Encoder {
  const components = options.components ?? 50;
  if (!Number.isInteger(components) || components < 1) throw new OptionError("components", `must be a positive integer, got ${components}`);
  const fit = options.fit ?? "step";
  if (fit !== "step" && fit !== "global" && fit !== "incremental") throw new OptionError("fit", `must be "step", "global" or "incremental", not ${JSON.stringify(fit)}`);
  const seed = options.seed ?? 0;
  let stream: IncrementalPca | undefined;
  const name = fit === "step" ? `pca-${components}` : `pca-${components}-${fit}`;
  return {
    name,
    input: "features",
    async encode(input) {
      const { values, dim, count, step } = input;
      const k = fit === "incremental" ? components : Math.min(components, dim);
      const features = new Float32Array(count * k);
      const groups = fit === "global" ? [Array.from({ length: count }, (_, i) => i)] : groupRows(step);
      let done = 0;
      await inBatches({ count: groups.length, signal: input.signal }, 1, `encoder "${name}"`, (g) => {
        const rows = groups[g];
        const x = gather(values, dim, rows);
        if (fit === "incremental") {
          stream ??= new IncrementalPca(dim, components, seed);
          stream.update(x, rows.length, dim);
          const scores = stream.project(x, rows.length);
          rows.forEach((r, i) => features.set(scores.subarray(i * k, (i + 1) * k), r * k));
        } else {
          const result = pca(x, rows.length, dim, k, seed + (fit === "step" ? step[rows[0]] : 0));
          const got = result.components;
          rows.forEach((r, i) => features.set(result.scores.subarray(i * got, (i + 1) * got), r * k));
        }
        done += rows.length;
        input.onProgress?.(done, count);
      });
      return { features, dim: k };
    },
  };
}

/** Rows grouped by step, in step order. */
function groupRows(step: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  step.forEach((s, r) => (groups.get(s) ?? groups.set(s, []).get(s)!).push(r));
  return [...groups.keys()].sort((a, b) => a - b).map((s) => groups.get(s)!);
}

function gather(values: Float32Array, dim: number, rows: number[]): Float32Array {
  const x = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => x.set(values.subarray(r * dim, (r + 1) * dim), i * dim));
  return x;
}

/** The running fit: mean, rows seen, and the axes scaled by their singular values. */
class IncrementalPca {
  readonly #mean: Float64Array;
  #seen = 0;
  /** got×dim: axis c times its singular value. */
  #scaled: Float32Array = new Float32Array(0);
  /** got×dim unit axes. */
  #axes: Float32Array = new Float32Array(0);
  #got = 0;
  #updates = 0;

  constructor(readonly dim: number, readonly components: number, readonly seed: number) {
    this.#mean = new Float64Array(dim);
  }

  update(x: Float32Array, m: number, dim: number): void {
    if (dim !== this.dim) throw new DimensionError(`incremental PCA was fitted on ${this.dim} features per row, this batch has ${dim}`, { column: "features" });
    const n = this.#seen, got = this.#got;
    const batchMean = new Float64Array(dim);
    for (let i = 0; i < m; i++) for (let d = 0; d < dim; d++) batchMean[d] += x[i * dim + d];
    for (let d = 0; d < dim; d++) batchMean[d] /= m;
    // Stack [old scaled axes; new rows − their mean; √(n·m/(n+m))·(batch mean − old mean)].
    const correction = n > 0 ? 1 : 0;
    const rows = got + m + correction;
    const stacked = new Float32Array(rows * dim);
    stacked.set(this.#scaled);
    for (let i = 0; i < m; i++) for (let d = 0; d < dim; d++) stacked[(got + i) * dim + d] = x[i * dim + d] - batchMean[d];
    if (correction) {
      const c = Math.sqrt((n * m) / (n + m));
      for (let d = 0; d < dim; d++) stacked[(got + m) * dim + d] = c * (batchMean[d] - this.#mean[d]);
    }
    const fit = pca(stacked, rows, dim, this.components, this.seed + this.#updates++, { centre: false });
    const k = fit.components;
    const scaled = new Float32Array(k * dim);
    for (let c = 0; c < k; c++) {
      // Keep each axis pointing the way it did, so features do not flip sign between batches.
      let dot = 0;
      if (c < got) for (let d = 0; d < dim; d++) dot += fit.axes[c * dim + d] * this.#axes[c * dim + d];
      const sign = dot < 0 ? -1 : 1;
      const singular = Math.sqrt(fit.variance[c] * Math.max(rows - 1, 1));
      for (let d = 0; d < dim; d++) {
        fit.axes[c * dim + d] *= sign;
        scaled[c * dim + d] = fit.axes[c * dim + d] * singular;
      }
    }
    for (let d = 0; d < dim; d++) this.#mean[d] = (n * this.#mean[d] + m * batchMean[d]) / (n + m);
    this.#seen = n + m;
    this.#scaled = scaled;
    this.#axes = fit.axes;
    this.#got = k;
  }

  /** m×components scores of rows about the running mean (components not yet fitted are zero). */
  project(x: Float32Array, m: number): Float32Array {
    const dim = this.dim, k = this.components, got = this.#got;
    const out = new Float32Array(m * k);
    for (let i = 0; i < m; i++) {
      for (let c = 0; c < got; c++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (x[i * dim + d] - this.#mean[d]) * this.#axes[c * dim + d];
        out[i * k + c] = s;
      }
    }
    return out;
  }
}
