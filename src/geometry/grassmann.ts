/**
 * Distances between subspaces: the principal angles θ between span(V₁) and
 * span(V₂) (orthonormal rows), the geodesic distance on the Grassmannian
 * ‖θ‖₂, and that distance normalised to [0, 1] by its largest value
 * (π/2)·√k, so 0 is the same subspace and 1 orthogonal ones.
 *
 * θᵢ = arccos σᵢ(V₁V₂ᵀ). The cosine loses precision for small angles
 * (cos θ = 1 − θ²/2), so, as Knyazev & Argentati (2002) do, angles below
 * π/4 come from the sines instead: the singular values of V₂ − (V₁V₂ᵀ)ᵀV₁,
 * the part of V₂ outside span(V₁). Same subspace → 0 to ~1e-15, not ~1e-8.
 */
import { DimensionError } from "../errors.ts";
import { symmetricEigen } from "../linalg/eigen.ts";

/**
 * Principal angles (radians, ascending) between the row spaces of a (ka×n)
 * and b (kb×n), both with orthonormal rows; min(ka, kb) of them.
 */
export function principalAngles(a: ArrayLike<number>, ka: number, b: ArrayLike<number>, kb: number, n: number): Float64Array {
  if (a.length !== ka * n || b.length !== kb * n) throw new DimensionError(`bases of ${a.length} and ${b.length} values are not ${ka}×${n} and ${kb}×${n}`);
  // Let the smaller basis be the second, so its part outside the other has min(ka, kb) rows.
  if (ka < kb) return principalAngles(b, kb, a, ka, n);
  const k = kb;
  if (k === 0) return new Float64Array(0);
  // M = A Bᵀ (ka×k); cosines² = eig(MᵀM).
  const m = new Float64Array(ka * k);
  for (let i = 0; i < ka; i++) for (let j = 0; j < k; j++) m[i * k + j] = dot(a, i * n, b, j * n, n);
  const mtm = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let s = 0;
      for (let r = 0; r < ka; r++) s += m[r * k + i] * m[r * k + j];
      mtm[i * k + j] = mtm[j * k + i] = s;
    }
  }
  const cos = symmetricEigen(mtm, k).values.map((v) => Math.sqrt(Math.min(1, Math.max(0, v)))); // descending
  // Every angle above acos 0.75 ≈ 0.72 rad, where the cosines are accurate: the sines are not needed.
  if (!(cos[0] > 0.75)) return Float64Array.from(cos, (c) => Math.acos(c)).sort();
  // R = B − MᵀA (k×n); sines² = eig(RRᵀ).
  const r = new Float64Array(k * n);
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < n; t++) {
      let s = b[j * n + t];
      for (let i = 0; i < ka; i++) s -= m[i * k + j] * a[i * n + t];
      r[j * n + t] = s;
    }
  }
  const rrt = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = i; j < k; j++) rrt[i * k + j] = rrt[j * k + i] = dot(r, i * n, r, j * n, n);
  const sin = symmetricEigen(rrt, k).values.map((v) => Math.sqrt(Math.min(1, Math.max(0, v)))).reverse(); // ascending
  const angles = new Float64Array(k);
  for (let i = 0; i < k; i++) angles[i] = sin[i] < Math.SQRT1_2 ? Math.asin(sin[i]) : Math.acos(cos[i]);
  return angles.sort();
}

/** The geodesic (Grassmann) distance ‖θ‖₂ between the row spaces. */
export function grassmannDistance(a: ArrayLike<number>, ka: number, b: ArrayLike<number>, kb: number, n: number): number {
  let s = 0;
  for (const t of principalAngles(a, ka, b, kb, n)) s += t * t;
  return Math.sqrt(s);
}

/** The Grassmann distance over its maximum, (π/2)·√min(ka, kb): 0 for one subspace, 1 for orthogonal ones. */
export function normalizedGrassmannDistance(a: ArrayLike<number>, ka: number, b: ArrayLike<number>, kb: number, n: number): number {
  const k = Math.min(ka, kb);
  return k === 0 ? 0 : grassmannDistance(a, ka, b, kb, n) / ((Math.PI / 2) * Math.sqrt(k));
}

function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}
