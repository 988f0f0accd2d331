/**
 * The Fréchet distance between two point sets, each summarised by its mean
 * and covariance (the Fréchet distance of two Gaussians; FID when the points
 * are Inception features, here any encoder's):
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
 * The matrix square roots come from symmetric eigen-decompositions, so the
 * trace term is exact for positive semi-definite covariances (tiny negative
 * eigenvalues from rounding count as 0).
 */
import { DimensionError } from "../errors.ts";
import { symmetricEigen } from "../linalg/eigen.ts";

/**
 * The squared Fréchet distance between the rows of `a` (na×dim) and of `b`
 * (nb×dim), row-major.
 *
 * @example
 * const d2 = frechetDistance(samplesFeatures, 1000, heldOutFeatures, 1501, 64);
 */
export function frechetDistance(a: ArrayLike<number>, na: number, b: ArrayLike<number>, nb: number, dim: number): number {
  if (a.length !== na * dim || b.length !== nb * dim) throw new DimensionError(`point sets must hold ${na}×${dim} and ${nb}×${dim} values, not ${a.length} and ${b.length}`);
  if (na < 2 || nb < 2) throw new DimensionError(`a covariance needs at least 2 points per set, not ${na} and ${nb}`);
  const [ma, ca] = moments(a, na, dim), [mb, cb] = moments(b, nb, dim);
  let d2 = 0;
  for (let i = 0; i < dim; i++) d2 += (ma[i] - mb[i]) ** 2;
  const root = sqrtPsd(ca, dim);
  // M = Σ₁^½ Σ₂ Σ₁^½ is symmetric PSD; Tr(M^½) is the sum of the roots of its eigenvalues.
  const m = multiply(multiply(root, cb, dim), root, dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) m[i * dim + j] = m[j * dim + i] = (m[i * dim + j] + m[j * dim + i]) / 2;
  let cross = 0;
  for (const v of symmetricEigen(m, dim).values) cross += Math.sqrt(Math.max(v, 0));
  for (let i = 0; i < dim; i++) d2 += ca[i * dim + i] + cb[i * dim + i];
  return Math.max(d2 - 2 * cross, 0);
}

/** Mean and unbiased covariance (dim×dim, row-major) of n rows. */
function moments(x: ArrayLike<number>, n: number, dim: number): [Float64Array, Float64Array] {
  const mean = new Float64Array(dim), cov = new Float64Array(dim * dim);
  for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) mean[i] += x[r * dim + i] / n;
  const d = new Float64Array(dim);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < dim; i++) d[i] = x[r * dim + i] - mean[i];
    for (let i = 0; i < dim; i++) for (let j = i; j < dim; j++) cov[i * dim + j] += d[i] * d[j];
  }
  for (let i = 0; i < dim; i++) for (let j = i; j < dim; j++) cov[j * dim + i] = cov[i * dim + j] /= n - 1;
  return [mean, cov];
}

/** The symmetric square root of a PSD matrix. */
function sqrtPsd(c: Float64Array, dim: number): Float64Array {
  const { values, vectors } = symmetricEigen(c, dim);
  const out = new Float64Array(dim * dim);
  for (let k = 0; k < dim; k++) {
    const s = Math.sqrt(Math.max(values[k], 0));
    if (s === 0) continue;
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) out[i * dim + j] += s * vectors[i * dim + k] * vectors[j * dim + k];
  }
  return out;
}

function multiply(a: Float64Array, b: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) for (let k = 0; k < dim; k++) {
    const aik = a[i * dim + k];
    for (let j = 0; j < dim; j++) out[i * dim + j] += aik * b[k * dim + j];
  }
  return out;
}
