/**
 * The exact Jacobian of the closed-form denoiser. Its x̂0 is a softmax-
 * weighted mean of the data, x̂0 = Σ_j w_j x⁽ʲ⁾ with logits
 * l_j = (√ᾱ·x_t·x⁽ʲ⁾ − ½ᾱ‖x⁽ʲ⁾‖²)/(1−ᾱ), so ∂l_j/∂x_t = √ᾱ·x⁽ʲ⁾/(1−ᾱ) and
 *
 *   ∂x̂0/∂x_t = (√ᾱ/(1−ᾱ)) · Σ_j w_j (x⁽ʲ⁾ − x̂0)(x⁽ʲ⁾ − x̂0)ᵀ = (√ᾱ/(1−ᾱ)) · Cov_w(x),
 *
 * the posterior covariance of the data: symmetric, positive semi-definite,
 * so its top eigenvectors are both the left and the right singular vectors
 * (the local basis). Under classifier-free guidance with scale g the sampler
 * mixes x̂0 = x̂0_u + g(x̂0_c − x̂0_u), so J = g·J_c + (1 − g)·J_u, still
 * symmetric (indefinite for g > 1; the basis is then ordered by |λ|).
 *
 * With x = 2p − 1 (p the [0, 1] image), Cov_w(x) = 4·Cov_w(p), accumulated
 * over the sparse non-zero pixels of each p: Σ w_j p_j p_jᵀ − p̄p̄ᵀ. When one
 * weight dominates (> ½) that difference would cancel, so it is taken about
 * the dominant image r instead: Σ_{j≠r} w_j d_j d_jᵀ − δδᵀ with d_j = p_j − p_r
 * and δ = Σ_{j≠r} w_j d_j, every term small. Once all weight is on one image
 * (the weights below 1e-15 are dropped, as `predict` drops them) J is exactly
 * 0: the denoiser has chosen its digit and no small move of x_t changes x̂0.
 *
 * The effective sample size 1/Σw² says how many images share the weight
 * (the conditional posterior's, for a guided prompt).
 */
import { OptionError } from "../errors.ts";
import type { ClosedFormDenoiser, ClosedFormPosterior } from "../sources/closed_form.ts";
import type { NoiseLevel } from "../sources/denoiser.ts";
import { denseOperator, topEigen, type TopEigenOptions } from "../linalg/top_eigen.ts";
import type { BasisEngine, LocalBasis } from "./local_basis.ts";
import { bandMetric, dctBasis } from "./dct.ts";

export interface ClosedFormJacobianOptions {
  /** The sampler's classifier-free guidance scale (default 1: the condition's own posterior). */
  guidance?: number;
  /** Options of the eigen-solver. */
  eigen?: TopEigenOptions;
  /**
   * The image shape, for the pullback metric per frequency band (JᵀJ = J²,
   * in the `frequency` encoder's bands; about 0.1 s a point), or false for none
   * (default [1, √dim, √dim] when dim is a square).
   */
  shape?: readonly [number, number, number] | false;
  /** Bands of that metric (default 8, "linear"). */
  bands?: number;
  spacing?: "linear" | "log";
}

export interface ClosedFormJacobian extends BasisEngine {
  /** J = ∂x̂0/∂x_t at one x_t ([−1, 1] scale), dim×dim row-major, and the posterior's effective sample size. */
  jacobian(xt: ArrayLike<number>, level: NoiseLevel, condition: number): { matrix: Float64Array; ess: number };
  /** x̂0 at one x_t in float64, from the same weights (guided as the sampler guides). */
  denoise(xt: ArrayLike<number>, level: NoiseLevel, condition: number): Float64Array;
}

export function closedFormJacobian(denoiser: ClosedFormDenoiser, options: ClosedFormJacobianOptions = {}): ClosedFormJacobian {
  const guidance = options.guidance ?? 1;
  if (!(guidance >= 0) || !Number.isFinite(guidance)) throw new OptionError("guidance", `must be a finite number ≥ 0, not ${guidance}`);
  const { dim, data } = denoiser;
  const side = Math.round(Math.sqrt(dim));
  const shape = options.shape === undefined ? (side * side === dim ? ([1, side, side] as const) : false) : options.shape;
  if (shape && shape[0] * shape[1] * shape[2] !== dim) throw new OptionError("shape", `[${shape}] does not hold ${dim} values`);
  const dct = shape ? dctBasis(shape) : undefined;
  const bands = options.bands ?? 8;
  // The data as sparse rows (non-zero pixels of p in [0, 1]).
  const count = data.labels.length;
  const ptr = new Int32Array(count + 1);
  const idx: number[] = [], val: number[] = [];
  for (let j = 0; j < count; j++) {
    for (let k = 0; k < dim; k++) {
      const p = data.images[j * dim + k];
      if (p !== 0) {
        idx.push(k);
        val.push(p);
      }
    }
    ptr[j + 1] = idx.length;
  }
  const index = Int32Array.from(idx), value = Float64Array.from(val);

  /** The condition's own posterior, and the [factor, posterior] pairs the sampler mixes. */
  function parts(xt: ArrayLike<number>, level: NoiseLevel, condition: number): { own: ClosedFormPosterior; mix: [number, ClosedFormPosterior][] } {
    const own = denoiser.posterior(xt, level, condition);
    if (condition === -1 || guidance === 1) return { own, mix: [[1, own]] };
    const unconditional = denoiser.posterior(xt, level, -1);
    return { own, mix: guidance === 0 ? [[1, unconditional]] : [[guidance, own], [1 - guidance, unconditional]] };
  }

  function jacobian(xt: ArrayLike<number>, level: NoiseLevel, condition: number): { matrix: Float64Array; ess: number } {
    const matrix = new Float64Array(dim * dim);
    const { own, mix } = parts(xt, level, condition);
    const hard = 1 - level.alphaBar < 1e-12;
    const scale = hard ? 0 : (4 * Math.sqrt(level.alphaBar)) / (1 - level.alphaBar);
    if (scale > 0) for (const [g, post] of mix) addCovariance(post, g * scale, matrix);
    // Accumulated in the upper triangle; mirror it.
    for (let a = 0; a < dim; a++) for (let b = a + 1; b < dim; b++) matrix[b * dim + a] = matrix[a * dim + b];
    let s = 0;
    for (const w of own.weight) s += w * w;
    return { matrix, ess: 1 / s };
  }

  /** matrix (upper triangle) += scale · Cov_w(p). */
  function addCovariance(post: ClosedFormPosterior, scale: number, matrix: Float64Array): void {
    const { index: rows, weight } = post;
    if (rows.length < 2) return;
    let r = 0;
    for (let i = 1; i < rows.length; i++) if (weight[i] > weight[r]) r = i;
    const dense = new Float64Array(dim);
    const support: number[] = [];
    const mark = new Uint8Array(dim);
    if (weight[r] > 0.5) {
      // About the dominant image: Σ_{j≠r} w_j d_j d_jᵀ − δδᵀ, d_j = p_j − p_r.
      const ref = new Float64Array(dim);
      const jr = rows[r];
      for (let e = ptr[jr]; e < ptr[jr + 1]; e++) ref[index[e]] = value[e];
      const delta = new Float64Array(dim);
      for (let i = 0; i < rows.length; i++) {
        if (i === r) continue;
        const j = rows[i], w = weight[i];
        support.length = 0;
        for (let e = ptr[jr]; e < ptr[jr + 1]; e++) touch(index[e]);
        for (let e = ptr[j]; e < ptr[j + 1]; e++) touch(index[e]);
        for (const k of support) dense[k] = -ref[k];
        for (let e = ptr[j]; e < ptr[j + 1]; e++) dense[index[e]] += value[e];
        support.sort((x, y) => x - y);
        outer(support, dense, w * scale, matrix);
        for (const k of support) {
          delta[k] += w * dense[k];
          dense[k] = 0;
          mark[k] = 0;
        }
      }
      const all = [...Array(dim).keys()].filter((k) => delta[k] !== 0);
      outer(all, delta, -scale, matrix);
    } else {
      // Σ w_j p_j p_jᵀ − p̄p̄ᵀ over the sparse rows.
      const mean = new Float64Array(dim);
      for (let i = 0; i < rows.length; i++) {
        const j = rows[i], w = weight[i];
        const s = ptr[j], e = ptr[j + 1];
        for (let a = s; a < e; a++) {
          const ka = index[a], va = value[a] * w * scale;
          mean[ka] += w * value[a];
          const o = ka * dim;
          for (let b = a; b < e; b++) matrix[o + index[b]] += va * value[b];
        }
      }
      const all = [...Array(dim).keys()].filter((k) => mean[k] !== 0);
      outer(all, mean, -scale, matrix);
    }

    function touch(k: number): void {
      if (!mark[k]) {
        mark[k] = 1;
        support.push(k);
      }
    }
  }

  /** matrix[a][b] += s·x_a·x_b for a ≤ b in the (ascending) support. */
  function outer(support: number[], x: Float64Array, s: number, matrix: Float64Array): void {
    for (let i = 0; i < support.length; i++) {
      const a = support[i], xa = x[a] * s, o = a * dim;
      if (xa === 0) continue;
      for (let t = i; t < support.length; t++) matrix[o + support[t]] += xa * x[support[t]];
    }
  }

  function denoise(xt: ArrayLike<number>, level: NoiseLevel, condition: number): Float64Array {
    const out = new Float64Array(dim);
    for (const [g, post] of parts(xt, level, condition).mix) {
      for (let i = 0; i < post.index.length; i++) {
        const j = post.index[i], w = g * post.weight[i];
        // x = 2p − 1: Σ w (2p − 1)
        for (let k = 0; k < dim; k++) out[k] -= w;
        for (let e = ptr[j]; e < ptr[j + 1]; e++) out[index[e]] += 2 * w * value[e];
      }
    }
    return out;
  }

  async function basis(xt: ArrayLike<number>, level: NoiseLevel, condition: number, k: number): Promise<LocalBasis> {
    const { matrix, ess } = jacobian(xt, level, condition);
    if (matrix.every((v) => v === 0)) {
      // All weight on one image: J = 0, and any basis is as good as another.
      const vectors = new Float64Array(k * dim);
      for (let i = 0; i < k; i++) vectors[i * dim + i] = 1;
      return { values: new Float64Array(k), vectors, ess, converged: true };
    }
    const eig = topEigen(denseOperator(matrix, dim), dim, k, options.eigen);
    const out: LocalBasis = { values: eig.values.map(Math.abs), vectors: eig.vectors, ess, converged: eig.converged };
    if (dct) {
      // ‖J·φ_c‖² = Σ_r (row r of J in DCT coordinates)_c², J symmetric.
      const norms = new Float64Array(dim), coefficients = new Float64Array(dim);
      for (let r = 0; r < dim; r++) {
        dct.forward(matrix.subarray(r * dim, (r + 1) * dim), coefficients);
        for (let c = 0; c < dim; c++) norms[c] += coefficients[c] * coefficients[c];
      }
      const { metric, centres } = bandMetric(dct, norms, bands, options.spacing);
      out.bandMetric = metric;
      out.bandCentres = centres;
    }
    return out;
  }

  return { name: guidance === 1 ? "closed-form" : `closed-form(g=${guidance})`, dim, jacobian, denoise, basis };
}
