/**
 * The exact k nearest neighbours of points in the plane (an embedding's
 * positions), by a uniform grid instead of every pair: each point searches
 * the cells around its own ring by ring and stops once no farther ring can
 * hold a point nearer than its k-th. The distances are computed as the
 * brute-force search computes them, and the neighbours are the k smallest
 * by (distance, index), nearest first, so the result is the brute force's
 * bit for bit, at O(n·k) work for spread points instead of O(n²).
 */
import { offer } from "./nearest_buffer.ts";

/**
 * The grid search's neighbours and squared distances (n×k each), or
 * undefined where it does not apply (coordinates that are not finite, all
 * points at one place): the caller then searches by brute force.
 */
export function planarKnn(points: ArrayLike<number>, n: number, k: number): { index: Int32Array; distance: Float64Array } | undefined {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return undefined;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const extent = Math.max(maxX - minX, maxY - minY);
  if (!(extent > 0)) return undefined;
  // About two points a cell when they are spread evenly.
  const side = Math.max(1, Math.ceil(Math.sqrt(n / 2))), width = extent / side;
  const cellOf = (v: number, min: number) => Math.min(side - 1, Math.floor((v - min) / width));
  // The points of each cell, in ascending index (a counting sort).
  const cell = new Int32Array(n), start = new Int32Array(side * side + 1), members = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cell[i] = cellOf(points[2 * i + 1], minY) * side + cellOf(points[2 * i], minX);
    start[cell[i] + 1]++;
  }
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const fill = start.slice(0, side * side);
  for (let i = 0; i < n; i++) members[fill[cell[i]]++] = i;

  const index = new Int32Array(n * k), distance = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i], y = points[2 * i + 1], cx = cell[i] % side, cy = (cell[i] - cx) / side, base = i * k;
    let filled = 0;
    for (let r = 0; r < side; r++) {
      // Cells of ring r lie at least (r − 1) widths beyond the point's own cell, so r − 1 widths away (less a margin
      // for the rounding of the cell indices): none can hold a point nearer than the k-th once that is nearer.
      const reach = Math.max(0, r - 1) * width * (1 - 1e-9);
      if (filled === k && distance[base + k - 1] < reach * reach) break;
      for (let gy = Math.max(0, cy - r); gy <= Math.min(side - 1, cy + r); gy++) {
        // On the ring's top and bottom rows every cell, on the others the two ends.
        const edge = gy === cy - r || gy === cy + r, step = edge ? 1 : 2 * r;
        for (let gx = cx - r; gx <= cx + r; gx += step) {
          if (gx < 0 || gx >= side) continue;
          const c = gy * side + gx;
          for (let m = start[c]; m < start[c + 1]; m++) {
            const j = members[m];
            if (j === i) continue;
            // As the brute force computes it: 0 + dx², then + dy².
            const dx = x - points[2 * j], dy = y - points[2 * j + 1];
            let d = 0;
            d += dx * dx;
            d += dy * dy;
            filled = offer(distance, index, base, filled, k, d, j);
          }
        }
      }
    }
  }
  return { index, distance };
}
