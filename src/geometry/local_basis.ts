/**
 * The local latent basis (Park et al. 2023, "Understanding the latent space
 * of diffusion models through the lens of Riemannian geometry"; code:
 * enkeejunior1/Diffusion-Pullback): at a point x_t, the top right singular
 * vectors v_i of the Jacobian J of a feature map of x_t — the directions in
 * which the model's features move most — with the singular values σ_i;
 * the left singular vectors u_i span the tangent space in the feature space.
 *
 * A BasisEngine computes it for one point: `closedFormJacobian` exactly for
 * the closed-form denoiser (J = ∂x̂0/∂x_t, symmetric), `onnxJacobian` by
 * finite differences for an ONNX model with a feature output such as the
 * U-Net's bottleneck `h` (J = ∂h/∂x_t).
 */
import type { NoiseLevel } from "../sources/denoiser.ts";

export interface LocalBasis {
  /** k singular values, descending (0 where J has lower rank); estimates for a sketch; empty for the band metric alone. */
  values: Float64Array;
  /** k×dim, row-major: the right singular vectors, unit rows in x_t's space (absent for the forward-only sketches). */
  vectors?: Float64Array;
  /** k×featureDim: the left singular vectors (the tangent basis in feature space), when computed. */
  left?: Float64Array;
  featureDim?: number;
  /**
   * The pullback metric per frequency band: the mean of ‖J·d‖² over unit
   * directions d in the band's DCT subspace (tr(P_bᵀJᵀJP_b)/dim_b), with the
   * bands of the `frequency` encoder, when computed.
   */
  bandMetric?: Float64Array;
  /** The bands' mean radii, cycles per pixel, beside `bandMetric`. */
  bandCentres?: Float64Array;
  /** Effective sample size 1/Σw² of the closed form's posterior weights. */
  ess?: number;
  /** Model evaluations it took (finite differences). */
  runs?: number;
  /** Whether the eigen-solver met its tolerance. */
  converged: boolean;
}

export interface BasisEngine {
  readonly name: string;
  /** Values per x_t. */
  readonly dim: number;
  /**
   * The top-k local basis at one x_t (dim values, on the denoiser's own
   * scale), at `level`, under `condition` (a class or prompt index the
   * denoiser knows, −1 = unconditional).
   */
  basis(xt: ArrayLike<number>, level: NoiseLevel, condition: number, k: number): Promise<LocalBasis>;
}

/**
 * The numerical rank of a basis: the singular values above `tolerance`·σ₁
 * (0 when J vanished: the closed form once its weights are on one image;
 * below k when they are on k images or fewer, where the vectors past the
 * rank are arbitrary directions of a zero eigenvalue).
 */
export function rankOf(basis: LocalBasis, tolerance = 1e-8): number {
  const { values } = basis;
  if (!(values[0] > 0)) return 0;
  let r = 0;
  while (r < values.length && values[r] > tolerance * values[0]) r++;
  return r;
}
