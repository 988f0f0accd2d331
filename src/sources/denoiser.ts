/**
 * The denoiser plugin interface: anything that predicts the clean image from
 * a noisy one. The built-in closed-form MNIST denoiser implements it; a real
 * model (an ONNX U-Net) plugs in the same way. Samplers (DDIM now; DDPM and
 * Euler later) only talk to this interface and to a NoiseSchedule.
 */
export interface Denoiser {
  /**
   * Predicts the clean image x̂0 for a batch, in the model's data space.
   * xt: batch×dim, row-major; alphaBar: ᾱ at this timestep (the same for the
   * whole batch); condition: per-row class index (−1 = unconditional).
   * Writes batch×dim values into out.
   */
  predictX0(xt: Float32Array, alphaBar: number, condition: Int32Array, out: Float32Array): void | Promise<void>;
  /** Values per image. */
  readonly dim: number;
}
