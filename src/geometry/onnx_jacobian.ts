/**
 * The local latent basis of an ONNX denoiser that exposes a feature output
 * (the shipped U-Net's bottleneck `h`): J = ∂h/∂x_t by finite-difference
 * JVPs (finite_difference.ts), one batch of perturbed inputs per point.
 * Three methods, by cost:
 *
 *   "full"    J on every direction of the orthonormal 2-D DCT basis: 2·dim
 *             runs (1568 for 28×28). The top-k SVD (Gram of the smaller side
 *             + subspace iteration, linalg/top_eigen.ts) gives σ, the right
 *             vectors (rotated back to pixels: the local basis) and the left
 *             ones (the tangent basis in h); the column norms give the exact
 *             pullback metric per frequency band.
 *   "sketch"  J on `sketch` random orthonormal directions Ω (default 60:
 *             120 runs): Y = JΩ spans, approximately, the top of J's range,
 *             so its top-k left singular vectors estimate the tangent space
 *             in h (the randomised range finder of Halko, Martinsson & Tropp
 *             2011) and √(dim/ℓ)·σ(Y) the singular values. Forward-only
 *             products cannot give the right vectors (that needs Jᵀ), so a
 *             sketch has no `vectors`: its distances are taken in h.
 *   "bands"   J on `bandDirections` random orthonormal directions within
 *             each frequency band's DCT subspace (default 16 × 8 bands: 256
 *             runs): E‖J·d‖² estimates the band's metric (Hutchinson's
 *             trace estimator); the same products, each band weighted by
 *             √(dim_b/16), are a frequency-stratified sketch of J's range,
 *             giving the tangent space in h and σ as "sketch" does (and,
 *             when the basis is low-frequency, better: the small low bands
 *             are covered almost entirely).
 *
 * `compare` measures a sketch's error against the full Jacobian at a point.
 */
import { OptionError } from "../errors.ts";
import type { NoiseLevel } from "../sources/denoiser.ts";
import type { OnnxDenoiser } from "../sources/onnx_denoiser.ts";
import { orthonormalizeRows, topSingular, type TopEigenOptions } from "../linalg/top_eigen.ts";
import { random } from "../util/random.ts";
import { bandMetric, dctBasis } from "./dct.ts";
import { type FeatureMap, jacobianVectorProducts, type JvpOptions } from "./finite_difference.ts";
import { normalizedGrassmannDistance } from "./grassmann.ts";
import type { BasisEngine, LocalBasis } from "./local_basis.ts";
import { centroidOf } from "./spectral_centroid.ts";

export type JacobianMethod = "full" | "sketch" | "bands";

/** ε defaults to 3e-2 here (see below). */
export interface OnnxJacobianOptions extends JvpOptions {
  /** The feature output (default "h"). */
  output?: string;
  /** "full" (default), "sketch" or "bands". */
  method?: JacobianMethod;
  /** Random directions of the sketch (default 60). */
  sketch?: number;
  /** Random directions per band for "bands" (default 16). */
  bandDirections?: number;
  /** Bands, as the `frequency` encoder (default 8, "linear"). */
  bands?: number;
  spacing?: "linear" | "log";
  /** Seed of the random directions (default 0; the same directions at every point). */
  seed?: number;
  eigen?: TopEigenOptions;
}

export interface OnnxJacobian extends BasisEngine {
  readonly method: JacobianMethod;
  /** The full Jacobian at one point, in the DCT basis: dim×featureDim rows J·φ_i. */
  fullJacobian(xt: ArrayLike<number>, level: NoiseLevel, condition: number): Promise<{ values: Float32Array; featureDim: number; runs: number }>;
}

export function onnxJacobian(denoiser: OnnxDenoiser, options: OnnxJacobianOptions = {}): OnnxJacobian {
  const output = options.output ?? "h";
  const method = options.method ?? "full";
  if (!["full", "sketch", "bands"].includes(method)) throw new OptionError("method", `must be "full", "sketch" or "bands", not ${JSON.stringify(method)}`);
  const sketch = options.sketch ?? 60;
  if (!Number.isInteger(sketch) || sketch < 1) throw new OptionError("sketch", `must be a positive integer, not ${sketch}`);
  const bandDirections = options.bandDirections ?? 16;
  if (!Number.isInteger(bandDirections) || bandDirections < 1) throw new OptionError("bandDirections", `must be a positive integer, not ${bandDirections}`);
  const bands = options.bands ?? 8;
  if (!Number.isInteger(bands) || bands < 1) throw new OptionError("bands", `must be a positive integer, not ${bands}`);
  const { dim, shape } = denoiser;
  const dct = dctBasis(shape);
  const bandOf = dct.bandOf(bands, options.spacing ?? "linear");
  const bandCount = new Float64Array(bands), bandCentres = new Float64Array(bands);
  bandOf.forEach((b, i) => {
    if (b >= 0) {
      bandCount[b]++;
      bandCentres[b] += dct.radius[i];
    }
  });
  for (let b = 0; b < bands; b++) if (bandCount[b] > 0) bandCentres[b] /= bandCount[b];
  // ε = 3e-2: against PyTorch's autograd on the U-Net (float64) the top-10 σ err by 1e-5..3e-5 at 3e-2,
  // 6e-5..8e-5 at 1e-2 and 1.4e-4..1.8e-4 at 3e-3 — float32 rounding, not truncation, dominates.
  const jvp: JvpOptions = { epsilon: options.epsilon ?? 3e-2, scheme: options.scheme, batchRows: options.batchRows };

  // The directions, fixed per engine (seeded), in pixel space.
  let dctDirections: Float64Array | undefined, sketchDirections: Float64Array | undefined, bandDirs: { directions: Float64Array; band: Int32Array } | undefined;
  const fullDirections = () => (dctDirections ??= (() => {
    const out = new Float64Array(dim * dim), unit = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      unit.fill(0);
      unit[i] = 1;
      dct.inverse(unit, out.subarray(i * dim, (i + 1) * dim));
    }
    return out;
  })());
  const randomDirections = () => (sketchDirections ??= (() => {
    const rng = random(options.seed ?? 0);
    const l = Math.min(sketch, dim);
    const out = Float64Array.from({ length: l * dim }, () => rng.normal());
    orthonormalizeRows(out, l, dim, rng);
    return out;
  })());
  const perBand = () => (bandDirs ??= (() => {
    const rng = random(options.seed ?? 0);
    const used = [...Array(bands).keys()].filter((b) => bandCount[b] > 0);
    const directions = new Float64Array(used.length * bandDirections * dim);
    const band = new Int32Array(used.length * bandDirections);
    const coefficients = new Float64Array(dim);
    used.forEach((b, u) => {
      for (let r = 0; r < bandDirections; r++) {
        let norm = 0;
        for (let i = 0; i < dim; i++) {
          coefficients[i] = bandOf[i] === b ? rng.normal() : 0;
          norm += coefficients[i] ** 2;
        }
        for (let i = 0; i < dim; i++) coefficients[i] /= Math.sqrt(norm);
        const row = u * bandDirections + r;
        dct.inverse(coefficients, directions.subarray(row * dim, (row + 1) * dim));
        band[row] = b;
      }
      // Orthonormal within the band (a random frame: each direction still uniform on the band's sphere).
      const rows = Math.min(bandDirections, bandCount[b]);
      orthonormalizeRows(directions.subarray(u * bandDirections * dim, (u * bandDirections + rows) * dim), rows, dim, rng);
    });
    return { directions, band };
  })());

  function featureMap(level: NoiseLevel, condition: number): FeatureMap {
    return async (x, rows) => (await denoiser.run(x, level, new Int32Array(rows).fill(condition), [output]))[output];
  }

  async function fullJacobian(xt: ArrayLike<number>, level: NoiseLevel, condition: number) {
    return await jacobianVectorProducts(featureMap(level, condition), xt, fullDirections(), dim, jvp);
  }

  /** The band metric from J·φ_i (rows of the DCT-basis Jacobian). */
  function exactBandMetric(jd: Float32Array, m: number): Float64Array {
    const norms = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let s = 0;
      for (let j = 0; j < m; j++) s += jd[i * m + j] ** 2;
      norms[i] = s;
    }
    return bandMetric(dct, norms, bands, options.spacing).metric;
  }

  async function basis(xt: ArrayLike<number>, level: NoiseLevel, condition: number, k: number): Promise<LocalBasis> {
    if (method === "full") {
      const { values: jd, featureDim, runs } = await fullJacobian(xt, level, condition);
      // Rows of jd are J·φ_i: the Jacobian in DCT coordinates, transposed (dim × featureDim).
      const svd = topSingular(jd, featureDim, dim, k, options.eigen);
      const kk = svd.values.length;
      const vectors = new Float64Array(kk * dim);
      const left = svd.left, m = featureDim;
      for (let c = 0; c < kk; c++) {
        const row = vectors.subarray(c * dim, (c + 1) * dim);
        dct.inverse(svd.right.subarray(c * dim, (c + 1) * dim), row);
        // The sign the fixtures use: the largest pixel positive (u follows v).
        let big = 0;
        for (const x of row) if (Math.abs(x) > Math.abs(big)) big = x;
        if (big < 0) {
          for (let i = 0; i < dim; i++) row[i] = -row[i];
          for (let j = 0; j < m; j++) left[c * m + j] = -left[c * m + j];
        }
      }
      return {
        values: svd.values, vectors, left, featureDim, runs, converged: svd.converged,
        bandMetric: exactBandMetric(jd, featureDim), bandCentres,
      };
    }
    if (method === "sketch") {
      const omega = randomDirections();
      const l = omega.length / dim;
      const { values: y, featureDim, runs } = await jacobianVectorProducts(featureMap(level, condition), xt, omega, l, jvp);
      const svd = topSingular(y, featureDim, l, Math.min(k, l), options.eigen);
      const scale = Math.sqrt(dim / l);
      return { values: svd.values.map((s) => s * scale), left: svd.left, featureDim, runs, converged: svd.converged };
    }
    const { directions, band } = perBand();
    const count = band.length;
    const { values: jd, featureDim, runs } = await jacobianVectorProducts(featureMap(level, condition), xt, directions, count, jvp);
    const metric = new Float64Array(bands);
    for (let r = 0; r < count; r++) {
      let s = 0;
      for (let j = 0; j < featureDim; j++) s += jd[r * featureDim + j] ** 2;
      metric[band[r]] += s / bandDirections;
    }
    // The same products as a frequency-stratified sketch of J's range: with each band's
    // columns weighted by √(dim_b/r), Σ_b (dim_b/r)·Y_b·Y_bᵀ estimates J·Jᵀ without bias.
    const weighted = new Float32Array(jd.length);
    for (let r = 0; r < count; r++) {
      const w = Math.sqrt(bandCount[band[r]] / bandDirections);
      for (let j = 0; j < featureDim; j++) weighted[r * featureDim + j] = jd[r * featureDim + j] * w;
    }
    const svd = topSingular(weighted, featureDim, count, Math.min(k, count), options.eigen);
    return { values: svd.values, left: svd.left, featureDim, runs, converged: svd.converged, bandMetric: metric, bandCentres };
  }

  return {
    name: `onnx-${method}(${output})`,
    dim,
    method,
    basis,
    fullJacobian,
  };
}

export interface SketchError {
  /** Normalised Grassmann distance between the sketch's and the full Jacobian's tangent spaces in h (sketch only). */
  tangentDistance?: number;
  /** max_i |σ̂_i − σ_i|/σ_i (sketch only). */
  singularValueError?: number;
  /** max_b |Ê_b − E_b|/E_b of the band metric, and the error of its centroid in cycles per pixel (bands only). */
  bandMetricError?: number;
  centroidError?: number;
}

/** A sketch's error against the full Jacobian's basis at the same point. */
export function compareToFull(sketch: LocalBasis, full: LocalBasis): SketchError {
  const out: SketchError = {};
  if (sketch.left && full.left && sketch.featureDim === full.featureDim) {
    const k = Math.min(sketch.values.length, full.values.length);
    out.tangentDistance = normalizedGrassmannDistance(sketch.left.subarray(0, k * sketch.featureDim!), k, full.left.subarray(0, k * full.featureDim!), k, full.featureDim!);
    let worst = 0;
    for (let i = 0; i < k; i++) worst = Math.max(worst, Math.abs(sketch.values[i] - full.values[i]) / full.values[i]);
    out.singularValueError = worst;
  }
  if (sketch.bandMetric && full.bandMetric && sketch.bandCentres) {
    let worst = 0;
    sketch.bandMetric.forEach((e, b) => {
      if (full.bandMetric![b] > 0) worst = Math.max(worst, Math.abs(e - full.bandMetric![b]) / full.bandMetric![b]);
    });
    out.bandMetricError = worst;
    out.centroidError = Math.abs(centroidOf(sketch.bandMetric, sketch.bandCentres) - centroidOf(full.bandMetric, full.bandCentres!));
  }
  return out;
}
