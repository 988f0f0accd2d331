import { sharedArray, sharedCopy } from "./shared_memory.ts";

/** A square sparse matrix in compressed-row form (the affinities P_t). */
export interface SparseMatrix {
  readonly n: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/**
 * Symmetrises a k-NN conditional matrix (row i holds k neighbours of i):
 * P = (P_cond + P_condᵀ) / (2n), so P sums to 1, as in t-SNE. Row i holds
 * i's own k neighbours in their given order, then the points that list i and
 * are not among them, by ascending index; so the first k entries of a row are
 * its neighbour list. Built from the transpose by counting sort, in O(n·k),
 * into shared memory, where worker threads read it at no cost.
 */
export function symmetrize(n: number, k: number, neighbors: Int32Array, cond: Float64Array): SparseMatrix {
  return symmetrizer()(n, k, neighbors, cond);
}

/**
 * `symmetrize` that keeps its working arrays (as large as P) from call to
 * call, for a caller that symmetrises every step: fresh ones would cost
 * allocation, zeroing and garbage collection each time.
 */
export function symmetrizer(): (n: number, k: number, neighbors: Int32Array, cond: Float64Array) => SparseMatrix {
  let revRow = new Int32Array(0), revVal = new Float64Array(0), col = new Int32Array(0), val = new Float64Array(0), slot = new Int32Array(0);
  return (n, k, neighbors, cond) => {
    const scale = 1 / (2 * n), m = n * k;
    if (revRow.length < m) [revRow, revVal, col, val] = [new Int32Array(m), new Float64Array(m), new Int32Array(2 * m), new Float64Array(2 * m)];
    if (slot.length < n) slot = new Int32Array(n);
    // The transpose by counting sort: for each j, the rows i that list j.
    const revPtr = new Int32Array(n + 1);
    for (let e = 0; e < m; e++) revPtr[neighbors[e] + 1]++;
    for (let j = 0; j < n; j++) revPtr[j + 1] += revPtr[j];
    const fill = revPtr.slice(0, n);
    for (let i = 0, e = 0; i < n; i++) {
      for (let a = 0; a < k; a++, e++) {
        const j = neighbors[e], f = fill[j]++;
        revRow[f] = i;
        revVal[f] = cond[e];
      }
    }
    // Row i: its own entries, then the reverse ones; `slot` remembers where
    // each column of the current row went, so a pair present both ways merges.
    const rowPtr = sharedArray(Int32Array, n + 1);
    slot.fill(-1, 0, n);
    let out = 0;
    for (let i = 0; i < n; i++) {
      const start = out;
      for (let e = i * k; e < (i + 1) * k; e++) {
        const j = neighbors[e];
        slot[j] = out;
        col[out] = j;
        val[out++] = cond[e] * scale;
      }
      for (let f = revPtr[i]; f < revPtr[i + 1]; f++) {
        const j = revRow[f];
        if (slot[j] >= start) val[slot[j]] += revVal[f] * scale;
        else {
          col[out] = j;
          val[out++] = revVal[f] * scale;
        }
      }
      rowPtr[i + 1] = out;
    }
    return { n, rowPtr, col: sharedCopy(col, out), val: sharedCopy(val, out) };
  };
}
