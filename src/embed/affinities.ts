/**
 * High-dimensional relations (ParaDime's "relations"): the input affinities
 * P_t of one step, computed from that step's features alone.
 */
import { OptionError } from "../errors.ts";
import { exactNeighbors, warmNeighbors } from "./neighbors.ts";
import { type SparseMatrix, symmetrize } from "./sparse.ts";

export interface Affinity {
  readonly name: string;
  /**
   * Symmetric affinities summing to 1 over the n points (row-major n×dim).
   * `hint` carries the previous step's neighbour graph, re-indexed to this
   * step's rows, for affinities that can start from it.
   */
  compute(features: ArrayLike<number>, n: number, dim: number, hint?: AffinityHint): SparseMatrix;
}

/** The previous step's P in compressed rows, re-indexed to this step's rows (−1: gone; empty row: new). */
export interface AffinityHint {
  rowPtr: Int32Array;
  col: Int32Array;
}

export interface PerplexityOptions {
  /** Effective number of neighbours (t-SNE's perplexity); capped at (n − 1) / 3. */
  perplexity?: number;
  /**
   * How neighbours are found: "exact" (O(n²·D)); "warm": from the previous
   * step's graph (approximate, O(n·D) per point; exact without a hint); or
   * "auto" (default): warm from `warmFrom` points on.
   */
  neighbors?: "exact" | "warm" | "auto";
  warmFrom?: number;
}

/**
 * t-SNE's Gaussian affinities with a per-point bandwidth matched to the
 * perplexity, over the 3·perplexity nearest neighbours (as Barnes-Hut
 * t-SNE and openTSNE do): beyond them the Gaussian is negligible.
 */
export function perplexityAffinity(options: PerplexityOptions = {}): Affinity {
  const target = options.perplexity ?? 30;
  if (!(target > 1)) throw new OptionError("perplexity", `must be greater than 1, got ${target}`);
  const mode = options.neighbors ?? "auto", warmFrom = options.warmFrom ?? 1000;
  let calls = 0;
  return {
    name: "perplexity",
    compute(features, n, dim, hint) {
      if (n < 2) return { n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) };
      const perplexity = Math.min(target, Math.max((n - 1) / 3, 1.01));
      const k = Math.min(n - 1, Math.ceil(3 * perplexity));
      const warm = hint !== undefined && (mode === "warm" || (mode === "auto" && n >= warmFrom));
      const nn = warm ? warmNeighbors(features, n, dim, k, hint.rowPtr, hint.col, calls++) : exactNeighbors(features, n, dim, k);
      const cond = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        calibrateRow(nn.distance.subarray(i * k, (i + 1) * k), perplexity, cond.subarray(i * k, (i + 1) * k));
      }
      return symmetrize(n, k, nn.index, cond);
    },
  };
}

/**
 * Finds the Gaussian precision β whose conditional distribution over the
 * given squared distances has the target perplexity (entropy log P), by
 * Newton's method on H(β) (dH/dβ = −β·Var(D)) kept inside a bisection
 * bracket: a few iterations instead of the usual few dozen.
 */
export function calibrateRow(d2: Float64Array, perplexity: number, out: Float64Array): void {
  const target = Math.log(perplexity);
  const k = d2.length;
  // Distances relative to the nearest keep exp() in range for any scale.
  const d0 = d2[0];
  // Start at the scale of the neighbourhood.
  const spread = d2[Math.min(k - 1, Math.ceil(perplexity))] - d0;
  let beta = spread > 0 ? 1 / spread : 1, lo = 0, hi = Infinity;
  for (let iter = 0; iter < 100; iter++) {
    let sum = 0, sumD = 0, sumD2 = 0;
    for (let a = 0; a < k; a++) {
      const d = d2[a] - d0, p = Math.exp(-beta * d);
      out[a] = p;
      sum += p;
      sumD += d * p;
      sumD2 += d * d * p;
    }
    const mean = sumD / sum, variance = sumD2 / sum - mean * mean;
    const gap = Math.log(sum) + beta * mean - target;
    for (let a = 0; a < k; a++) out[a] /= sum;
    if (Math.abs(gap) < 1e-5) return;
    if (gap > 0) lo = beta;
    else hi = beta;
    // H falls as β grows: too much entropy means β must rise.
    const newton = beta + gap / (beta * variance);
    if (variance > 0 && newton > lo && newton < hi) beta = newton;
    else beta = hi === Infinity ? beta * 2 : (lo + hi) / 2;
  }
}
