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
