/**
 * High-dimensional relations (ParaDime's "relations"): the input affinities
 * P_t of one step, computed from that step's features alone. This is the
 * interface an affinity plugin implements; `perplexityAffinity` is the
 * built-in one, written against it.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";

export interface Affinity {
  readonly name: string;
  /**
   * Symmetric affinities summing to 1 over the n points (row-major n×dim).
   * `hint` carries the previous step's neighbour graph, re-indexed to this
   * step's rows, for affinities that can start from it.
   */
  compute(features: ArrayLike<number>, n: number, dim: number, hint?: AffinityHint): SparseMatrix;
  /**
   * A transform of one step's features (row-major n×dim) before anything
   * else reads them, where the affinity's metric needs one: the cosine
   * metric scales every row to unit length. The embedding keeps what it
   * returns as the step's features (the quality figures measure in them),
   * reduces that by PCA and passes it to `compute`; so `compute` itself
   * measures plain Euclidean distances. Absent: the features as they are.
   */
  prepare?(features: Float32Array, n: number, dim: number): Float32Array;
  /**
   * Starts the threads that computing a first step of n points would use
   * and resolves once they are started (at once where none would be used):
   * a `compute` then shares its blocks with them, and each joins as soon as
   * it has loaded. `compute` is synchronous, so without it a first step is
   * searched on the calling thread alone.
   *
   * @example
   * await affinity.ready?.(n);
   * const P = affinity.compute(features, n, dim); // shared out over the threads
   */
  ready?(n: number): Promise<void>;
  /** Releases the threads it holds; it still works afterwards. */
  dispose?(): void;
}

/**
 * The previous step's P in compressed rows, re-indexed to this step's rows:
 * row i lists, in `col[rowPtr[i] … rowPtr[i + 1])`, the rows of this step
 * that were i's neighbours there (−1: an instance gone since; an empty row:
 * an instance new at this step).
 *
 * @example
 * // An affinity that starts its neighbour search from the hint, where there is one.
 * compute(features, n, dim, hint) {
 *   const guess = (i: number) => hint ? [...hint.col.subarray(hint.rowPtr[i], hint.rowPtr[i + 1])].filter((j) => j >= 0) : [];
 *   // …
 * }
 */
export interface AffinityHint {
  rowPtr: Int32Array;
  col: Int32Array;
}

