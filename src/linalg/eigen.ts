/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi
 * rotations: simple and accurate to machine precision for the ≤ 100×100
 * matrices the randomised PCA produces.
 */
export interface Eigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Row-major m×m; column c is the eigenvector of values[c]. */
  vectors: Float64Array;
}

export function symmetricEigen(matrix: Float64Array, m: number): Eigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < m; p++) for (let q = p + 1; q < m; q++) off += a[p * m + q] ** 2;
    if (off < 1e-22 * (1 + trace2(a, m))) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p * m + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * m + q] - a[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        rotate(a, v, m, p, q, c, s);
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => a[j * m + j] - a[i * m + i]);
  const values = Float64Array.from(order, (i) => a[i * m + i]);
  const vectors = new Float64Array(m * m);
  order.forEach((src, c) => {
    // Deterministic sign: the largest component of each vector is positive.
    let big = 0;
    for (let r = 0; r < m; r++) if (Math.abs(v[r * m + src]) > Math.abs(big)) big = v[r * m + src];
    const sign = big < 0 ? -1 : 1;
    for (let r = 0; r < m; r++) vectors[r * m + c] = sign * v[r * m + src];
  });
  return { values, vectors };
}

function trace2(a: Float64Array, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) s += a[i * m + i] ** 2;
  return s;
}

/** Applies the Jacobi rotation (p, q, c, s) to A (both sides) and V (right). */
function rotate(a: Float64Array, v: Float64Array, m: number, p: number, q: number, c: number, s: number): void {
  for (let k = 0; k < m; k++) {
    const akp = a[k * m + p], akq = a[k * m + q];
    a[k * m + p] = c * akp - s * akq;
    a[k * m + q] = s * akp + c * akq;
  }
  for (let k = 0; k < m; k++) {
    const apk = a[p * m + k], aqk = a[q * m + k];
    a[p * m + k] = c * apk - s * aqk;
    a[q * m + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < m; k++) {
    const vkp = v[k * m + p], vkq = v[k * m + q];
    v[k * m + p] = c * vkp - s * vkq;
    v[k * m + q] = s * vkp + c * vkq;
  }
}
