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
  /** Releases the threads it holds; it still works afterwards. */
  dispose?(): void;
}

/** The previous step's P in compressed rows, re-indexed to this step's rows (−1: gone; empty row: new). */
export interface AffinityHint {
  rowPtr: Int32Array;
  col: Int32Array;
}

