/**
 * Similarity maps between two images of one shape [C, H, W], per pixel
 * (averaged over channels), and the Gaussian filter they are built on.
 *
 * SSIM (Wang et al. 2004) with a Gaussian window, as the SSIM module of the
 * visual-analysis work (ian-jihoonpark/X-Diffusion, ssim.py): local means,
 * variances and covariance by a normalised 2-D Gaussian window (size 15,
 * σ 1.5 there and by default here) applied as a convolution with zero
 * padding, C1 = (0.01 L)², C2 = (0.03 L)², C3 = C2/2, L the data range.
 * Kinds:
 *   "structure"   s = (σ_xy + C3)/(σ_x σ_y + C3), SSIM's structure term, in [−1, 1];
 *   "structure-x-diffusion"  (2σ_xy + C3)/(σ_x σ_y + C3), the term exactly as that
 *                 code writes it (its numerator doubles σ_xy, which Wang et al. do not);
 *   "ssim"        the full index (2μ_xμ_y + C1)(2σ_xy + C2)/((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2));
 *   "squared-error"  −(x − y)², so that higher is more similar, like the others.
 * The variances are clamped at 0 before their square roots (rounding).
 */
import { DimensionError, OptionError } from "../errors.ts";

export type SimilarityKind = "structure" | "structure-x-diffusion" | "ssim" | "squared-error";
export const SIMILARITY_KINDS: readonly SimilarityKind[] = ["structure", "structure-x-diffusion", "ssim", "squared-error"];

export interface SimilarityOptions {
  /** Window size in pixels, odd (default 15). */
  window?: number;
  /** σ of the Gaussian window in pixels (default 1.5). */
  sigma?: number;
  /** The data range L of the images (default 1: values in [0, 1]). */
  dataRange?: number;
}

/** A similarity map against one fixed target; `map` writes H·W values (mean over channels). */
export interface ImageSimilarity {
  readonly kind: SimilarityKind;
  readonly shape: readonly [number, number, number];
  /** The map of `image` against the target, into `out` (H·W; allocated when absent). */
  map(image: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** The mean of the map. */
  mean(image: ArrayLike<number>): number;
}

/** The normalised 1-D Gaussian of `size` taps (odd) and σ; its outer product is the 2-D window. */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  if (!Number.isInteger(size) || size < 1 || size % 2 === 0) throw new OptionError("window", `must be an odd positive integer, not ${size}`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new OptionError("sigma", `must be a finite number > 0, not ${sigma}`);
  const half = (size - 1) / 2, k = new Float64Array(size);
  let s = 0;
  for (let i = 0; i < size; i++) s += k[i] = Math.exp(-((i - half) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) k[i] /= s;
  return k;
}

/**
 * Convolves each H×W plane of `image` (C planes) with the separable kernel
 * k ⊗ k, zero padding (as torch's conv2d with padding (size − 1)/2); `out`
 * may not be `image`.
 */
export function gaussianFilter(image: ArrayLike<number>, shape: readonly [number, number, number], kernel: Float64Array, out: Float64Array = new Float64Array(image.length), scratch: Float64Array = new Float64Array(shape[1] * shape[2])): Float64Array {
  const [c, h, w] = shape, half = (kernel.length - 1) / 2;
  if (image.length !== c * h * w) throw new DimensionError(`an image of shape [${shape}] holds ${c * h * w} values, not ${image.length}`);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * h * w;
    // Rows first, into scratch; then columns, into out.
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        const lo = Math.max(0, x - half), hi = Math.min(w - 1, x + half);
        for (let xx = lo; xx <= hi; xx++) s += kernel[xx - x + half] * image[base + y * w + xx];
        scratch[y * w + x] = s;
      }
    }
    for (let y = 0; y < h; y++) {
      const lo = Math.max(0, y - half), hi = Math.min(h - 1, y + half);
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let yy = lo; yy <= hi; yy++) s += kernel[yy - y + half] * scratch[yy * w + x];
        out[base + y * w + x] = s;
      }
    }
  }
  return out;
}

/** The similarity of images to `target` by `kind` (see the module's notes). */
export function imageSimilarity(kind: SimilarityKind, target: ArrayLike<number>, shape: readonly [number, number, number], options: SimilarityOptions = {}): ImageSimilarity {
  if (!SIMILARITY_KINDS.includes(kind)) throw new OptionError("similarity", `must be one of ${SIMILARITY_KINDS.join(", ")}, not ${JSON.stringify(kind)}`);
  const [c, h, w] = shape;
  const n = c * h * w, plane = h * w;
  if (target.length !== n) throw new DimensionError(`the target holds ${target.length} values, an image of shape [${shape}] ${n}`);
  const L = options.dataRange ?? 1;
  if (!(L > 0)) throw new OptionError("dataRange", `must be > 0, not ${L}`);
  const C1 = (0.01 * L) ** 2, C2 = (0.03 * L) ** 2, C3 = C2 / 2;
  const kernel = gaussianKernel(options.window ?? 15, options.sigma ?? 1.5);
  const scratch = new Float64Array(plane);
  const y = Float64Array.from(target);
  const muY = gaussianFilter(y, shape, kernel, undefined, scratch);
  const yy = gaussianFilter(y.map((v) => v * v), shape, kernel, undefined, scratch);
  const varY = yy.map((v, i) => Math.max(0, v - muY[i] * muY[i]));
  const x = new Float64Array(n), prod = new Float64Array(n), muX = new Float64Array(n), xx = new Float64Array(n), xy = new Float64Array(n);

  function map(image: ArrayLike<number>, out = new Float64Array(plane)): Float64Array {
    if (image.length !== n) throw new DimensionError(`the image holds ${image.length} values, not ${n}`);
    if (out.length !== plane) throw new DimensionError(`the map holds ${out.length} values, not ${plane}`);
    out.fill(0);
    if (kind === "squared-error") {
      for (let i = 0; i < n; i++) out[i % plane] -= (image[i] - y[i]) ** 2 / c;
      return out;
    }
    for (let i = 0; i < n; i++) x[i] = image[i];
    gaussianFilter(x, shape, kernel, muX, scratch);
    for (let i = 0; i < n; i++) prod[i] = x[i] * x[i];
    gaussianFilter(prod, shape, kernel, xx, scratch);
    for (let i = 0; i < n; i++) prod[i] = x[i] * y[i];
    gaussianFilter(prod, shape, kernel, xy, scratch);
    for (let i = 0; i < n; i++) {
      const mx = muX[i], my = muY[i];
      const vx = Math.max(0, xx[i] - mx * mx), vy = varY[i], cov = xy[i] - mx * my;
      let s: number;
      if (kind === "structure") s = (cov + C3) / (Math.sqrt(vx * vy) + C3);
      else if (kind === "structure-x-diffusion") s = (2 * cov + C3) / (Math.sqrt(vx * vy) + C3);
      else s = ((2 * mx * my + C1) * (2 * cov + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      out[i % plane] += s / c;
    }
    return out;
  }
  const buffer = new Float64Array(plane);
  return {
    kind,
    shape: [c, h, w],
    map,
    mean(image) {
      map(image, buffer);
      let s = 0;
      for (let i = 0; i < plane; i++) s += buffer[i];
      return s / plane;
    },
  };
}
