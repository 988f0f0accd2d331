/**
 * Symmetrises a k-NN conditional matrix (row i holds k neighbours of i):
 * P = (P_cond + P_condᵀ) / (2n), so P sums to 1, as in t-SNE. Row i holds
 * i's own k neighbours in their given order, then the points that list i and
 * are not among them, by ascending index; so the first k entries of a row are
 * its neighbour list. O(n·k), in phases that threads can share: the
 * transpose by counting sort (its scatter by ranges of columns), each row
 * merged with the points that list it (by blocks of rows) into room for all
 * of them, and the merged rows packed into P (by blocks of rows). P is in
 * shared memory, where worker threads read it at no cost.
 */
import { reuse, sharedArray } from "../../runtime/shared_memory.ts";
import type { SparseMatrix } from "../../linalg/sparse.ts";

export interface SymmetrizeJob {
  n: number;
  k: number;
  /** The input, n×k. */
  neighbors: Int32Array;
  cond: Float64Array;
  /** The transpose: column j is listed by rows revRow[revPtr[j] … revPtr[j + 1]), ascending, with values revVal. */
  revPtr: Int32Array;
  revRow: Int32Array;
  revVal: Float64Array;
  /** Row i merged, before packing: `length[i]` entries from i·k + revPtr[i]. */
  mergedCol: Int32Array;
  mergedVal: Float64Array;
  length: Int32Array;
  /** The result (`pack` sizes col and val). */
  rowPtr: Int32Array;
  col: Int32Array;
  val: Float64Array;
}

/** Rows per block of the merge and the packing. */
export const SYMMETRIZE_ROWS = 1024;

/**
 * Symmetrises a k-NN conditional matrix on this thread: row i of the n×k
 * `neighbors` and `cond` holds i's k neighbours and their conditional
 * affinities (each row summing to 1); returns P = (P_cond + P_condᵀ) / (2n).
 *
 * @example
 * // Three points, each with its k = 2 neighbours (the usual input: calibrateRows' output).
 * const P = symmetrize(3, 2, Int32Array.of(1, 2, 0, 2, 1, 0), Float64Array.of(0.7, 0.3, 0.6, 0.4, 0.5, 0.5));
 * // P.rowPtr, P.col, P.val: symmetric, summing to 1
 */
export function symmetrize(n: number, k: number, neighbors: Int32Array, cond: Float64Array): SparseMatrix {
  const job = symmetrizeJob(n, k, neighbors, cond, false);
  scatter(job, 0, 1);
  const slot = new Int32Array(n);
  for (let from = 0; from < n; from += SYMMETRIZE_ROWS) merge(job, from, slot);
  pack(job);
  for (let from = 0; from < n; from += SYMMETRIZE_ROWS) packRows(job, from);
  return symmetrized(job);
}

/**
 * The arrays of a symmetrisation (in shared memory where threads will work
 * on them; those of the last one where they fit), with the transpose's
 * column counts.
 */
export function symmetrizeJob(n: number, k: number, neighbors: Int32Array, cond: Float64Array, shared: boolean, spare?: SymmetrizeJob): SymmetrizeJob {
  const m = n * k;
  const revPtr = reuse(Int32Array, n + 1, shared, spare?.revPtr).fill(0);
  for (let e = 0; e < m; e++) revPtr[neighbors[e] + 1]++;
  for (let j = 0; j < n; j++) revPtr[j + 1] += revPtr[j];
  return {
    n,
    k,
    neighbors,
    cond,
    revPtr,
    revRow: reuse(Int32Array, m, shared, spare?.revRow),
    revVal: reuse(Float64Array, m, shared, spare?.revVal),
    mergedCol: reuse(Int32Array, 2 * m, shared, spare?.mergedCol),
    mergedVal: reuse(Float64Array, 2 * m, shared, spare?.mergedVal),
    length: reuse(Int32Array, n, shared, spare?.length),
    rowPtr: sharedArray(Int32Array, n + 1),
    col: new Int32Array(0),
    val: new Float64Array(0),
  };
}

/** The transpose's entries for columns in range `part` of `parts` (each range scans every row, in order). */
export function scatter(job: SymmetrizeJob, part: number, parts: number): void {
  const { n, k, neighbors, cond, revPtr, revRow, revVal } = job;
  const from = Math.floor((part * n) / parts), to = Math.floor(((part + 1) * n) / parts);
  const fill = revPtr.slice(from, to);
  for (let i = 0, e = 0; i < n; i++) {
    for (let a = 0; a < k; a++, e++) {
      const j = neighbors[e];
      if (j < from || j >= to) continue;
      const f = fill[j - from]++;
      revRow[f] = i;
      revVal[f] = cond[e];
    }
  }
}

/**
 * Merges the rows of the block from `from`: a row's own entries, then the
 * reverse ones; `slot` (n entries, any content) remembers where each column
 * of the current row went, so that a pair present both ways merges.
 */
export function merge(job: SymmetrizeJob, from: number, slot: Int32Array): void {
  const { n, k, neighbors, cond, revPtr, revRow, revVal, mergedCol, mergedVal, length } = job;
  const scale = 1 / (2 * n);
  slot.fill(-1);
  for (let i = from; i < Math.min(n, from + SYMMETRIZE_ROWS); i++) {
    const start = i * k + revPtr[i];
    let out = start;
    for (let e = i * k; e < (i + 1) * k; e++) {
      const j = neighbors[e];
      slot[j] = out;
      mergedCol[out] = j;
      mergedVal[out++] = cond[e] * scale;
    }
    for (let f = revPtr[i]; f < revPtr[i + 1]; f++) {
      const j = revRow[f];
      if (slot[j] >= start) mergedVal[slot[j]] += revVal[f] * scale;
      else {
        mergedCol[out] = j;
        mergedVal[out++] = revVal[f] * scale;
      }
    }
    length[i] = out - start;
  }
}

/** P's row pointers from the merged lengths, and its arrays at their size. */
export function pack(job: SymmetrizeJob): void {
  const { n, length, rowPtr } = job;
  for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + length[i];
  job.col = sharedArray(Int32Array, rowPtr[n]);
  job.val = sharedArray(Float64Array, rowPtr[n]);
}

/** Packs the merged rows of the block from `from` into P. */
export function packRows(job: SymmetrizeJob, from: number): void {
  const { n, k, revPtr, mergedCol, mergedVal, length, rowPtr, col, val } = job;
  for (let i = from; i < Math.min(n, from + SYMMETRIZE_ROWS); i++) {
    const start = i * k + revPtr[i], end = start + length[i];
    col.set(mergedCol.subarray(start, end), rowPtr[i]);
    val.set(mergedVal.subarray(start, end), rowPtr[i]);
  }
}

export function symmetrized({ n, rowPtr, col, val }: SymmetrizeJob): SparseMatrix {
  return { n, rowPtr, col, val };
}
