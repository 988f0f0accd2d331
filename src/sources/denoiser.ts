/**
 * The denoiser plugin interface: anything that looks at a noisy image x_t and
 * predicts the noise ε, the velocity v or the clean image x̂0 (its
 * `prediction`). The closed-form MNIST denoiser predicts x̂0; an ONNX U-Net
 * usually predicts ε or v. Samplers talk only to this interface and to a
 * Scheduler, and `fromPrediction` is the one place that converts between the
 * three parametrisations.
 *
 * Noise is variance-preserving throughout: x_t = √ᾱ·x0 + √(1−ᾱ)·ε, which is
 * also what a σ-space sampler (Euler) feeds a model after diffusers'
 * `scale_model_input` (x_σ/√(σ²+1), with ᾱ = 1/(1+σ²)).
 */
import { DimensionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";

/** What a denoiser's output means: the noise ε, the velocity v = √ᾱ·ε − √(1−ᾱ)·x0, or x̂0 itself. */
export type Prediction = "epsilon" | "v" | "x0";

/** A point on the noise schedule. */
export interface NoiseLevel {
  /** The timestep the model is conditioned on (fractional for Karras sigmas). */
  readonly t: number;
  /** ᾱ at this level, in (0, 1]; 1 is the clean image. */
  readonly alphaBar: number;
}

export interface Denoiser {
  /**
   * Predicts for a batch. xt: batch×dim, row-major; level: the noise level of
   * the whole batch; condition: per-row conditioning index (a class or prompt
   * the denoiser knows, −1 = unconditional). Writes batch×dim values into out.
   */
  predict(xt: Float32Array, level: NoiseLevel, condition: Int32Array, out: Float32Array): void | Promise<void>;
  /** What `predict` writes. */
  readonly prediction: Prediction;
  /** Values per image. */
  readonly dim: number;
  /** [C, H, W] of an image, when the denoiser knows it. */
  readonly shape?: ImageShape;
  /**
   * The most rows one `predict` call should take, for a denoiser that
   * computes on the calling thread: the sampler splits a larger batch and
   * yields to the event loop between the calls, so that a server on the
   * same thread (the live viewer) keeps answering. Rows must not depend on
   * each other. Default: the whole batch in one call.
   */
  readonly maxBatch?: number;
}

/**
 * From a denoiser's output at ᾱ, the clean image x̂0 and the noise ε̂ (both
 * written, element by element, into x0 and eps):
 *   ε:  x̂0 = (x_t − √(1−ᾱ)·ε)/√ᾱ
 *   v:  x̂0 = √ᾱ·x_t − √(1−ᾱ)·v,  ε̂ = √(1−ᾱ)·x_t + √ᾱ·v
 *   x0: ε̂ = (x_t − √ᾱ·x̂0)/√(1−ᾱ)
 * `output` may be `x0` itself: ("x0", x0, xt, ᾱ, x0, eps) re-derives ε̂ from a clipped x̂0.
 */
export function fromPrediction(
  prediction: Prediction,
  output: Float32Array,
  xt: Float32Array,
  alphaBar: number,
  x0: Float32Array,
  eps: Float32Array,
): void {
  if (output.length !== xt.length || x0.length !== xt.length || eps.length !== xt.length) {
    throw new DimensionError(`prediction, x_t, x̂0 and ε̂ must have one length, not ${output.length}, ${xt.length}, ${x0.length}, ${eps.length}`);
  }
  const a = Math.sqrt(alphaBar), s = Math.sqrt(1 - alphaBar);
  for (let i = 0; i < xt.length; i++) {
    const x = xt[i], p = output[i];
    if (prediction === "epsilon") {
      x0[i] = (x - s * p) / a;
      eps[i] = p;
    } else if (prediction === "v") {
      x0[i] = a * x - s * p;
      eps[i] = s * x + a * p;
    } else {
      x0[i] = p;
      eps[i] = (x - a * p) / s;
    }
  }
}

