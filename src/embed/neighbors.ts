/**
 * Exact k nearest neighbours by squared Euclidean distance, one row of
 * distances at a time (O(n²·D) time, O(n·k) memory).
 */
export interface Neighbors {
  k: number;
  /** n×k neighbour indices, nearest first. */
  index: Int32Array;
  /** n×k squared distances, ascending. */
  distance: Float64Array;
}

export function exactNeighbors(points: ArrayLike<number>, n: number, dim: number, k: number): Neighbors {
  const index = new Int32Array(n * k);
  const distance = new Float64Array(n * k);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += points[i * dim + d] ** 2;
    norms[i] = s;
  }
  const row = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (j === i) {
        row[j] = Infinity;
        continue;
      }
      let dot = 0;
      const a = i * dim, b = j * dim;
      for (let d = 0; d < dim; d++) dot += points[a + d] * points[b + d];
      row[j] = Math.max(norms[i] + norms[j] - 2 * dot, 0);
    }
    for (let j = 0; j < n; j++) order[j] = j;
    selectSmallest(order, row, k);
    const best = Array.from(order.subarray(0, k)).sort((a, b) => row[a] - row[b] || a - b);
    for (let a = 0; a < k; a++) {
      index[i * k + a] = best[a];
      distance[i * k + a] = row[best[a]];
    }
  }
  return { k, index, distance };
}

/** Partially orders `order` so its first k entries have the smallest keys (quickselect). */
function selectSmallest(order: Int32Array, key: Float64Array, k: number): void {
  let lo = 0, hi = order.length - 1;
  while (lo < hi) {
    const pivot = key[order[(lo + hi) >> 1]];
    let i = lo, j = hi;
    while (i <= j) {
      while (key[order[i]] < pivot) i++;
      while (key[order[j]] > pivot) j--;
      if (i <= j) {
        const t = order[i];
        order[i++] = order[j];
        order[j--] = t;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}
