/**
 * Principal component scores by randomised subspace iteration (Halko,
 * Martinsson & Tropp 2011): O(n·D·k) instead of the O(D³) or O(n³) of a full
 * decomposition, which matters when every step of a stream is reduced.
 */
import { random } from "../util/random.ts";
import { symmetricEigen } from "./eigen.ts";
import { type Products, products, scalarTimes } from "./products.ts";

export interface PcaResult {
  /** n×components scores, row-major. */
  scores: Float32Array;
  components: number;
  /** Variance of each component, descending (second moment about 0 when not centred). */
  variance: Float64Array;
  /** components×dim, row-major: the unit principal axes, to project other rows onto. */
  axes: Float32Array;
}

/** `centre: false` finds the axes of the rows as they are, about 0 instead of their mean. */
export function pca(x: ArrayLike<number>, n: number, dim: number, components: number, seed = 0, options: { centre?: boolean } = {}): PcaResult {
  const k = Math.max(1, Math.min(components, n, dim));
  const l = Math.min(k + 10, n, dim);
  // The data stay uncentred (images are mostly zeros, which the products
  // skip); centring is applied as a rank-one correction to every product.
  const mean = options.centre === false ? new Float64Array(dim) : columnMeans(x, n, dim);
  const rng = random(seed);
  const omega = Float64Array.from({ length: dim * l }, () => rng.normal());
  const xp = products(x, n, dim);
  let q = orthonormalize(centredTimes(xp, n, dim, mean, omega, l), n, l);
  for (let it = 0; it < 2; it++) {
    const z = orthonormalize(centredTransposedTimes(xp, n, dim, mean, q, l), dim, l);
    q = orthonormalize(centredTimes(xp, n, dim, mean, z, l), n, l);
  }
  // B = Qᵀ X (l×D); the eigenvectors of B Bᵀ rotate Q onto the principal axes.
  const b = centredTransposedTimes(xp, n, dim, mean, q, l); // D×l, = Bᵀ
  const gram = new Float64Array(l * l);
  for (let d = 0; d < dim; d++) {
    for (let a = 0; a < l; a++) {
      const v = b[d * l + a];
      for (let c = 0; c < l; c++) gram[a * l + c] += v * b[d * l + c];
    }
  }
  const { values, vectors } = symmetricEigen(gram, l);
  const scores = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < k; c++) {
      // score = (Q U)[i, c] · s_c, with s_c² = eigenvalue of B Bᵀ
      let s = 0;
      for (let a = 0; a < l; a++) s += q[i * l + a] * vectors[a * l + c];
      scores[i * k + c] = s * Math.sqrt(Math.max(values[c], 0));
    }
  }
  const variance = Float64Array.from(values.subarray(0, k), (v) => Math.max(v, 0) / Math.max(n - 1, 1));
  // Axis c = Bᵀ u_c / s_c (a zero singular value leaves a zero axis).
  const axes = new Float32Array(k * dim);
  for (let c = 0; c < k; c++) {
    const inv = values[c] > 1e-20 ? 1 / Math.sqrt(values[c]) : 0;
    for (let d = 0; d < dim; d++) {
      let v = 0;
      for (let a = 0; a < l; a++) v += b[d * l + a] * vectors[a * l + c];
      axes[c * dim + d] = v * inv;
    }
  }
  return { scores, components: k, variance, axes };
}

function columnMeans(x: ArrayLike<number>, n: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += x[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  return mean;
}

/** (X − 1μᵀ) · B for B D×l: X·B minus the row μᵀB from every row. */
function centredTimes(x: Products, n: number, dim: number, mean: Float64Array, b: Float64Array, l: number): Float64Array {
  const out = x.times(b, l);
  const shift = scalarTimes(mean, 1, dim, b, l, false);
  for (let i = 0; i < n; i++) for (let c = 0; c < l; c++) out[i * l + c] -= shift[c];
  return out;
}

/** (X − 1μᵀ)ᵀ · B for B n×l: XᵀB minus μ (1ᵀB). */
function centredTransposedTimes(x: Products, n: number, dim: number, mean: Float64Array, b: Float64Array, l: number): Float64Array {
  const out = x.transposedTimes(b, l);
  const colSum = new Float64Array(l);
  for (let i = 0; i < n; i++) for (let c = 0; c < l; c++) colSum[c] += b[i * l + c];
  for (let d = 0; d < dim; d++) for (let c = 0; c < l; c++) out[d * l + c] -= mean[d] * colSum[c];
  return out;
}

/** Modified Gram-Schmidt on the l columns of a row-major rows×l matrix, in place. */
function orthonormalize(m: Float64Array, rows: number, l: number): Float64Array {
  for (let c = 0; c < l; c++) {
    for (let p = 0; p < c; p++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += m[i * l + c] * m[i * l + p];
      for (let i = 0; i < rows; i++) m[i * l + c] -= dot * m[i * l + p];
    }
    let norm = 0;
    for (let i = 0; i < rows; i++) norm += m[i * l + c] ** 2;
    norm = Math.sqrt(norm);
    // A rank-deficient column is left at zero rather than amplifying noise.
    const inv = norm > 1e-10 ? 1 / norm : 0;
    for (let i = 0; i < rows; i++) m[i * l + c] *= inv;
  }
  return m;
}
