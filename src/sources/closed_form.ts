/**
 * The ideal (closed-form) denoiser of a finite data set: the exact posterior
 * mean E[x0 | x_t] when x0 is drawn uniformly from the data.
 *
 * With data x⁽ʲ⁾ (mapped from [0, 1] to [−1, 1]) and x_t = √ᾱ·x0 + √(1−ᾱ)·ε,
 *   x̂0(x_t) = Σ_j w_j x⁽ʲ⁾,  w = softmax_j(−‖x_t − √ᾱ x⁽ʲ⁾‖² / (2(1−ᾱ))),
 * j running over the condition's class (all data when unconditional).
 * ‖x_t‖² is the same for every j and cancels in the softmax, so the logits are
 * (√ᾱ·x_t·x⁽ʲ⁾ − ½ᾱ‖x⁽ʲ⁾‖²)/(1−ᾱ): dot products against precomputed norms,
 * with no cancellation of large terms. (Classifier-free guidance is the
 * sampler's: it asks again with condition −1 and mixes.)
 *
 * Speed: with p⁽ʲ⁾ ∈ [0, 1] the image and x⁽ʲ⁾ = 2p⁽ʲ⁾ − 1, x_t·x⁽ʲ⁾ = 2 x_t·p⁽ʲ⁾ − Σx_t,
 * and Σx_t is again the same for every j, so only the non-zero pixels of p⁽ʲ⁾
 * take part (about 19% for MNIST); likewise Σ w_j x⁽ʲ⁾ = 2 Σ w_j p⁽ʲ⁾ − Σ w_j.
 * The data are kept as sparse rows and four query rows are processed per pass
 * over them. All sums are float64.
 */
import { DimensionError, OptionError } from "../errors.ts";
import type { Denoiser, NoiseLevel } from "./denoiser.ts";

export interface ClosedFormData {
  /** count × dim, values in [0, 1]. */
  images: Float32Array;
  /** Class of each image, integers ≥ 0. */
  labels: Int32Array;
  dim: number;
}

/** Rows processed together, so each data vector is loaded once per block (the kernels are unrolled for 4). */
const BLOCK = 4;
/** Weights at or below this (all rows of a block) are skipped in the weighted sum. */
const NEGLIGIBLE = 1e-15;
/** Below this 1 − ᾱ the posterior is the nearest neighbour. */
const HARD_LIMIT = 1e-12;

export interface ClosedFormDenoiser extends Denoiser {
  readonly prediction: "x0";
  /** The class labels present, ascending. */
  readonly classes: readonly number[];
  /** The data it was built from (not copied). */
  readonly data: ClosedFormData;
  /**
   * The posterior weights w behind one row's x̂0 (x̂0 = Σ_j w_j x⁽ʲ⁾), computed
   * exactly as `predict` computes them: the data rows of the condition's
   * class (all for −1) whose weight is above 1e-15, by index into `data`.
   */
  posterior(xt: ArrayLike<number>, level: NoiseLevel, condition: number): ClosedFormPosterior;
}

export interface ClosedFormPosterior {
  /** Their rows in `data` (indices into its images and labels). */
  index: Int32Array;
  /** Their weights (the rest, all ≤ 1e-15, sum to 1 − Σ weight). */
  weight: Float64Array;
}

/** The exact x̂0 predictor of `data`; condition c restricts it to class c, −1 uses all data. */
export function closedFormDenoiser(data: ClosedFormData): ClosedFormDenoiser {
  const { images, labels, dim } = data;
  if (!Number.isInteger(dim) || dim < 1) throw new OptionError("dim", `must be a positive integer, not ${dim}`);
  const n = labels.length;
  if (n === 0) throw new OptionError("data", "needs at least one image");
  if (images.length !== n * dim) {
    throw new DimensionError(`${images.length} image values do not make ${n} images of ${dim}`, { column: "image" });
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0)) throw new OptionError("labels", `label ${labels[i]} at ${i} is negative`);
  }

  // Sort by label so each class is one contiguous range [start, end); keep
  // the non-zero pixels of each image as a sparse row.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[a] - labels[b] || a - b);
  const ptr = new Int32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < images.length; i++) if (images[i] !== 0) nnz++;
  const idx = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  const norms = new Float64Array(n); // ‖x⁽ʲ⁾‖² of the [−1, 1] image
  const ranges = new Map<number, [number, number]>();
  for (let r = 0, e = 0; r < n; r++) {
    const src = order[r] * dim;
    let s = 0;
    for (let k = 0; k < dim; k++) {
      const p = images[src + k];
      if (!(p >= 0 && p <= 1)) throw new OptionError("images", `value ${p} of image ${order[r]} is outside [0, 1]`);
      s += (2 * p - 1) * (2 * p - 1);
      if (p !== 0) {
        idx[e] = k;
        val[e++] = p;
      }
    }
    ptr[r + 1] = e;
    norms[r] = s;
    const label = labels[order[r]];
    const range = ranges.get(label);
    if (range) range[1] = r + 1;
    else ranges.set(label, [r, r + 1]);
  }
  const classes = [...ranges.keys()];

  // Scratch, grown on demand and reused between calls. Query rows and
  // accumulators are interleaved: q[k·BLOCK + b] is pixel k of block row b.
  const q = new Float64Array(dim * BLOCK);
  const acc = new Float64Array(dim * BLOCK);
  const wsum = new Float64Array(BLOCK);
  let logits = new Float64Array(0);
  let weights = new Float64Array(0);

  function predict(xt: Float32Array, level: NoiseLevel, condition: Int32Array, out: Float32Array): void {
    const { alphaBar } = level;
    const batch = condition.length;
    if (xt.length !== batch * dim) throw new DimensionError(`xt holds ${xt.length} values, not ${batch}×${dim}`);
    if (out.length !== batch * dim) throw new DimensionError(`out holds ${out.length} values, not ${batch}×${dim}`);
    if (!(alphaBar >= 0 && alphaBar <= 1)) throw new OptionError("alphaBar", `must lie in [0, 1], not ${alphaBar}`);

    // Rows by condition: each group runs over its class (all data for −1).
    const groups = new Map<number, number[]>();
    for (let r = 0; r < batch; r++) {
      const c = condition[r];
      if (c !== -1 && !ranges.has(c)) throw new OptionError("condition", `class ${c} (row ${r}) is not in the data`);
      const rows = groups.get(c);
      if (rows) rows.push(r);
      else groups.set(c, [r]);
    }
    const span = Math.max(...[...groups.keys()].map((key) => (key === -1 ? n : ranges.get(key)![1] - ranges.get(key)![0])));
    if (logits.length < BLOCK * span) {
      logits = new Float64Array(BLOCK * span);
      weights = new Float64Array(BLOCK * span);
    }

    const sa = Math.sqrt(alphaBar);
    const hard = 1 - alphaBar < HARD_LIMIT;
    const inv = hard ? 1 : 1 / (1 - alphaBar);
    const halfAb = 0.5 * alphaBar;

    for (const [key, rows] of groups) {
      const [lo, hi] = key === -1 ? [0, n] : ranges.get(key)!;
      const m = hi - lo;
      for (let b0 = 0; b0 < rows.length; b0 += BLOCK) {
        const used = Math.min(BLOCK, rows.length - b0);
        for (let b = 0; b < BLOCK; b++) {
          const off = b < used ? rows[b0 + b] * dim : -1;
          for (let k = 0; k < dim; k++) q[k * BLOCK + b] = off < 0 ? 0 : xt[off + k];
        }
        blockLogits(lo, hi, m, sa, halfAb, inv);
        for (let b = 0; b < BLOCK; b++) {
          const w = weights.subarray(b * m, (b + 1) * m);
          if (b < used) softmax(logits.subarray(b * m, (b + 1) * m), hard, w);
          else w.fill(0);
        }
        blockSum(lo, m);
        for (let b = 0; b < used; b++) {
          const off = rows[b0 + b] * dim, shift = wsum[b];
          for (let k = 0; k < dim; k++) out[off + k] = 2 * acc[k * BLOCK + b] - shift;
        }
      }
    }
  }

  /**
   * logits[b·m + (j − lo)] = (2√ᾱ q_b·p⁽ʲ⁾ − ½ᾱ‖x⁽ʲ⁾‖²)/(1−ᾱ), the softmax
   * logits up to a per-row constant, for the BLOCK query rows in q.
   */
  function blockLogits(lo: number, hi: number, m: number, sa: number, halfAb: number, inv: number): void {
    const L = logits, Q = q, I = idx, V = val, P = ptr, N = norms;
    const sa2 = 2 * sa;
    for (let j = lo; j < hi; j++) {
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let e = P[j], end = P[j + 1]; e < end; e++) {
        const k = I[e] << 2, v = V[e];
        d0 += Q[k] * v;
        d1 += Q[k + 1] * v;
        d2 += Q[k + 2] * v;
        d3 += Q[k + 3] * v;
      }
      const c = halfAb * N[j], i = j - lo;
      L[i] = (sa2 * d0 - c) * inv;
      L[m + i] = (sa2 * d1 - c) * inv;
      L[2 * m + i] = (sa2 * d2 - c) * inv;
      L[3 * m + i] = (sa2 * d3 - c) * inv;
    }
  }

  /** acc[k·BLOCK + b] = Σ_j w_bj p⁽ʲ⁾_k and wsum[b] = Σ_j w_bj, w_bj = weights[b·m + j − lo]. */
  function blockSum(lo: number, m: number): void {
    const A = acc, W = weights, I = idx, V = val, P = ptr;
    A.fill(0);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < m; i++) {
      const w0 = W[i], w1 = W[m + i], w2 = W[2 * m + i], w3 = W[3 * m + i];
      if (Math.abs(w0) + Math.abs(w1) + Math.abs(w2) + Math.abs(w3) <= NEGLIGIBLE) continue;
      s0 += w0, s1 += w1, s2 += w2, s3 += w3;
      for (let e = P[lo + i], end = P[lo + i + 1]; e < end; e++) {
        const k = I[e] << 2, v = V[e];
        A[k] += w0 * v;
        A[k + 1] += w1 * v;
        A[k + 2] += w2 * v;
        A[k + 3] += w3 * v;
      }
    }
    wsum[0] = s0, wsum[1] = s1, wsum[2] = s2, wsum[3] = s3;
  }

  function posterior(xt: ArrayLike<number>, level: NoiseLevel, condition: number): ClosedFormPosterior {
    const { alphaBar } = level;
    if (xt.length !== dim) throw new DimensionError(`xt holds ${xt.length} values, not ${dim}`);
    if (!(alphaBar >= 0 && alphaBar <= 1)) throw new OptionError("alphaBar", `must lie in [0, 1], not ${alphaBar}`);
    if (condition !== -1 && !ranges.has(condition)) throw new OptionError("condition", `class ${condition} is not in the data`);
    const [lo, hi] = condition === -1 ? [0, n] : ranges.get(condition)!;
    const m = hi - lo;
    if (logits.length < BLOCK * m) {
      logits = new Float64Array(BLOCK * m);
      weights = new Float64Array(BLOCK * m);
    }
    // The row in block slot 0, the other slots zero: the same arithmetic as `predict`.
    q.fill(0);
    for (let k = 0; k < dim; k++) q[k * BLOCK] = xt[k];
    const hard = 1 - alphaBar < HARD_LIMIT;
    blockLogits(lo, hi, m, Math.sqrt(alphaBar), 0.5 * alphaBar, hard ? 1 : 1 / (1 - alphaBar));
    const w = weights.subarray(0, m);
    softmax(logits.subarray(0, m), hard, w);
    const keep: number[] = [];
    for (let i = 0; i < m; i++) if (w[i] > NEGLIGIBLE) keep.push(i);
    return { index: Int32Array.from(keep, (i) => order[lo + i]), weight: Float64Array.from(keep, (i) => w[i]) };
  }

  // 8 rows a call over the 10,000 MNIST digits (some 30 ms): a viewer on the same thread stays responsive.
  const maxBatch = BLOCK * Math.max(1, Math.floor(8e7 / Math.max(1, n * dim) / BLOCK));
  return { predict, prediction: "x0", dim, classes, data, posterior, maxBatch };
}

/**
 * out = softmax(l), log-sum-exp stabilised; in hard mode (ᾱ = 1) all weight
 * goes to the (first) largest logit.
 */
function softmax(l: Float64Array, hard: boolean, out: Float64Array): void {
  let max = -Infinity, arg = 0;
  for (let j = 0; j < l.length; j++) {
    if (l[j] > max) {
      max = l[j];
      arg = j;
    }
  }
  if (hard) {
    out.fill(0);
    out[arg] = 1;
    return;
  }
  let sum = 0;
  for (let j = 0; j < l.length; j++) sum += Math.exp(l[j] - max);
  const f = 1 / sum;
  for (let j = 0; j < l.length; j++) out[j] = Math.exp(l[j] - max) * f;
}
