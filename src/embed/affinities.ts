/**
 * High-dimensional relations (ParaDime's "relations"): the input affinities
 * P_t of one step, computed from that step's features alone.
 */
import { OptionError } from "../errors.ts";
import { exactNeighbors } from "./neighbors.ts";
import { type SparseMatrix, symmetrize } from "./sparse.ts";

export interface Affinity {
  readonly name: string;
  /** Symmetric affinities summing to 1 over the n points (row-major n×dim). */
  compute(features: ArrayLike<number>, n: number, dim: number): SparseMatrix;
}

export interface PerplexityOptions {
  /** Effective number of neighbours (t-SNE's perplexity); capped at (n − 1) / 3. */
  perplexity?: number;
}

/**
 * t-SNE's Gaussian affinities with a per-point bandwidth matched to the
 * perplexity, over the 3·perplexity nearest neighbours (as Barnes-Hut
 * t-SNE and openTSNE do): beyond them the Gaussian is negligible.
 */
export function perplexityAffinity(options: PerplexityOptions = {}): Affinity {
  const target = options.perplexity ?? 30;
  if (!(target > 1)) throw new OptionError("perplexity", `must be greater than 1, got ${target}`);
  return {
    name: "perplexity",
    compute(features, n, dim) {
      if (n < 2) return { n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) };
      const perplexity = Math.min(target, Math.max((n - 1) / 3, 1.01));
      const k = Math.min(n - 1, Math.ceil(3 * perplexity));
      const nn = exactNeighbors(features, n, dim, k);
      const cond = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        calibrateRow(nn.distance.subarray(i * k, (i + 1) * k), perplexity, cond.subarray(i * k, (i + 1) * k));
      }
      return symmetrize(n, k, nn.index, cond);
    },
  };
}

/**
 * Binary search for the Gaussian precision whose conditional distribution
 * over the given squared distances has the target perplexity (entropy log P).
 */
function calibrateRow(d2: Float64Array, perplexity: number, out: Float64Array): void {
  const target = Math.log(perplexity);
  const k = d2.length;
  // Distances relative to the nearest keep exp() in range for any scale.
  const d0 = d2[0];
  let beta = 1, lo = 0, hi = Infinity;
  for (let iter = 0; iter < 100; iter++) {
    let sum = 0, sumDP = 0;
    for (let a = 0; a < k; a++) {
      const p = Math.exp(-beta * (d2[a] - d0));
      out[a] = p;
      sum += p;
      sumDP += (d2[a] - d0) * p;
    }
    const entropy = Math.log(sum) + (beta * sumDP) / sum;
    for (let a = 0; a < k; a++) out[a] /= sum;
    const gap = entropy - target;
    if (Math.abs(gap) < 1e-5) return;
    if (gap > 0) {
      lo = beta;
      beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = (beta + lo) / 2;
    }
  }
}
