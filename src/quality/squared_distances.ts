/**
 * Squared Euclidean distances, the one kernel every neighbourhood figure
 * spends its time in. Plain differences, not ‖x‖² + ‖y‖² − 2x·y: the result
 * is exact enough that d(i, j) = d(j, i) bit for bit and duplicates are at 0,
 * so ranks and ties are the same wherever they are computed.
 */

/** Squared Euclidean distance between rows i and j of a row-major point set. */
export function squaredDistance(points: ArrayLike<number>, dim: number, i: number, j: number): number {
  const a = i * dim, b = j * dim;
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = points[a + d] - points[b + d];
    s += t * t;
  }
  return s;
}

/** How many rows distanceBlock computes at once. */
export const BLOCK_ROWS = 4;

/**
 * Squared distances from the BLOCK_ROWS rows i0, i0 + 1, … to each row j in
 * [j0, j1), written to `out[r * stride + j]`. Rows past the end repeat the
 * last row (their output is junk to ignore), which keeps the loop branch-free.
 *
 * Four rows against two columns per pass: each loaded value serves several
 * differences, which about halves the time of a one-row loop in V8.
 */
export function distanceBlock(
  points: ArrayLike<number>, dim: number, i0: number, j0: number, j1: number, out: Float64Array, stride: number,
): void {
  const last = Math.floor(points.length / dim) - 1;
  const a0 = Math.min(i0, last) * dim, a1 = Math.min(i0 + 1, last) * dim;
  const a2 = Math.min(i0 + 2, last) * dim, a3 = Math.min(i0 + 3, last) * dim;
  const o1 = stride, o2 = 2 * stride, o3 = 3 * stride;
  let j = j0, b = j0 * dim;
  for (; j + 1 < j1; j += 2, b += 2 * dim) {
    const c = b + dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
    for (let d = 0; d < dim; d++) {
      const v = points[b + d], w = points[c + d];
      const x0 = points[a0 + d], x1 = points[a1 + d], x2 = points[a2 + d], x3 = points[a3 + d];
      let t = x0 - v;
      s0 += t * t;
      t = x1 - v;
      s1 += t * t;
      t = x2 - v;
      s2 += t * t;
      t = x3 - v;
      s3 += t * t;
      t = x0 - w;
      u0 += t * t;
      t = x1 - w;
      u1 += t * t;
      t = x2 - w;
      u2 += t * t;
      t = x3 - w;
      u3 += t * t;
    }
    out[j] = s0;
    out[o1 + j] = s1;
    out[o2 + j] = s2;
    out[o3 + j] = s3;
    out[j + 1] = u0;
    out[o1 + j + 1] = u1;
    out[o2 + j + 1] = u2;
    out[o3 + j + 1] = u3;
  }
  if (j < j1) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let d = 0; d < dim; d++) {
      const v = points[b + d];
      let t = points[a0 + d] - v;
      s0 += t * t;
      t = points[a1 + d] - v;
      s1 += t * t;
      t = points[a2 + d] - v;
      s2 += t * t;
      t = points[a3 + d] - v;
      s3 += t * t;
    }
    out[j] = s0;
    out[o1 + j] = s1;
    out[o2 + j] = s2;
    out[o3 + j] = s3;
  }
}
