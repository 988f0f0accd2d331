/**
 * Neighbourhood hit: how often a point's nearest neighbours share its label.
 * By prompt, it says how separated the prompts are at a step.
 */
import { DimensionError } from "../errors.ts";
import { clampK, knn } from "./exact_knn.ts";

/** Neighbourhood hit from ready n×k neighbour lists. NaN when k < 1 or n = 0. */
export function neighborhoodHitFromNeighbors(neighbors: Int32Array, labels: Int32Array, k: number): number {
  const n = labels.length;
  if (!(k >= 1) || n === 0) return NaN;
  let hits = 0;
  for (let i = 0, base = 0; i < n; i++, base += k) {
    const own = labels[i];
    for (let p = 0; p < k; p++) if (labels[neighbors[base + p]] === own) hits++;
  }
  return hits / (n * k);
}

/**
 * Mean over points of the fraction of their k nearest neighbours with the
 * same label; k clamped to n − 1; NaN when n < 2.
 */
export function neighborhoodHit(points: ArrayLike<number>, dim: number, labels: Int32Array, k = 10): number {
  const n = Math.floor(points.length / dim);
  if (labels.length !== n) throw new DimensionError(`neighborhoodHit: ${labels.length} labels for ${n} points`);
  k = clampK(n, k);
  return neighborhoodHitFromNeighbors(knn(points, dim, k), labels, k);
}
