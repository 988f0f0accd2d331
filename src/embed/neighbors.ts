/**
 * The k nearest neighbours the affinities are built on: exact, by the same
 * blocked search the quality figures use (O(n²·D) time, O(n·k) memory).
 */
import { knnWithDistances } from "../quality/neighbors.ts";

export interface Neighbors {
  k: number;
  /** n×k neighbour indices, nearest first. */
  index: Int32Array;
  /** n×k squared distances, ascending. */
  distance: Float64Array;
}

export function exactNeighbors(points: ArrayLike<number>, n: number, dim: number, k: number): Neighbors {
  const { index, distance } = knnWithDistances(dim * n === points.length ? points : Array.prototype.slice.call(points, 0, n * dim), dim, k);
  return { k: index.length / Math.max(n, 1), index, distance };
}

/**
 * Approximate k nearest neighbours warm-started from the step before: a
 * denoising step changes the features little, so a point's new neighbours
 * are mostly among its old neighbours and their neighbours (one round of
 * NN-descent, Dong et al. 2011, seeded with the previous graph), plus a few
 * random points to let new neighbourhoods in. O(n·c·D) for c ≈ 200
 * candidates instead of O(n²·D). Rows without previous neighbours are exact.
 *
 * The previous graph is given in compressed rows (the previous step's P),
 * its columns already re-indexed to this step's rows (−1: gone).
 */
export function warmNeighbors(points: ArrayLike<number>, n: number, dim: number, k: number, rowPtr: Int32Array, col: Int32Array, seed: number): Neighbors {
  const index = new Int32Array(n * k), distance = new Float64Array(n * k);
  const stamp = new Int32Array(n).fill(-1), candidates = new Int32Array(n);
  const fanout = 8, explore = 8;
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const randomRow = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
  for (let i = 0; i < n; i++) {
    let c = 0;
    const add = (j: number) => {
      if (j >= 0 && j !== i && stamp[j] !== i) {
        stamp[j] = i;
        candidates[c++] = j;
      }
    };
    const from = rowPtr[i], to = rowPtr[i + 1];
    if (to === from) {
      for (let j = 0; j < n; j++) add(j);
    } else {
      for (let e = from; e < to; e++) add(col[e]);
      // Neighbours of a spread of neighbours (rows are in column order, so a stride is a fair sample).
      const stride = Math.max(1, Math.floor((to - from) / fanout));
      for (let e = from; e < to; e += stride) {
        const a = col[e];
        if (a < 0) continue;
        const aStride = Math.max(1, Math.floor((rowPtr[a + 1] - rowPtr[a]) / fanout));
        for (let f = rowPtr[a]; f < rowPtr[a + 1]; f += aStride) add(col[f]);
      }
      for (let e = 0; e < explore || c < k; e++) add(randomRow());
    }
    nearestAmong(points, dim, i, candidates.subarray(0, c), k, index, distance);
  }
  return { k, index, distance };
}

/** The k candidates nearest to point i, written sorted to row i of index/distance. */
function nearestAmong(points: ArrayLike<number>, dim: number, i: number, candidates: Int32Array, k: number, index: Int32Array, distance: Float64Array): void {
  const base = i * k;
  let filled = 0;
  for (const j of candidates) {
    let d = 0;
    for (let t = 0; t < dim; t++) {
      const diff = points[i * dim + t] - points[j * dim + t];
      d += diff * diff;
    }
    if (filled === k && !(d < distance[base + k - 1])) continue;
    let p = filled < k ? filled : k - 1;
    while (p > 0 && (d < distance[base + p - 1] || (d === distance[base + p - 1] && j < index[base + p - 1]))) {
      distance[base + p] = distance[base + p - 1];
      index[base + p] = index[base + p - 1];
      p--;
    }
    distance[base + p] = d;
    index[base + p] = j;
    if (filled < k) filled++;
  }
}
