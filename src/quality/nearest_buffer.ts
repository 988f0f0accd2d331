/** A row's k nearest so far, kept sorted as candidates are offered: the step every exact neighbour search shares. */

/**
 * Offers candidate j at distance d to the buffer `dist/idx[base .. base + k)`,
 * sorted by (distance, index), that holds `filled` entries; returns the new
 * fill. Candidates may come in any order; among equal distances the lower
 * index is kept first.
 */
export function offer(
  dist: Float64Array, idx: Int32Array, base: number, filled: number, k: number, d: number, j: number,
): number {
  if (filled === k && !(d < dist[base + k - 1] || (d === dist[base + k - 1] && j < idx[base + k - 1]))) return filled; // the common case: too far
  let p = filled < k ? filled : k - 1;
  while (p > 0 && (d < dist[base + p - 1] || (d === dist[base + p - 1] && j < idx[base + p - 1]))) {
    dist[base + p] = dist[base + p - 1];
    idx[base + p] = idx[base + p - 1];
    p--;
  }
  dist[base + p] = d;
  idx[base + p] = j;
  return filled < k ? filled + 1 : k;
}
