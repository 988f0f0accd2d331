/**
 * The orthonormal 2-D DCT-II basis of a C×H×W image, per channel: the real,
 * non-periodic frequency basis the finite-difference Jacobian is taken in,
 * so that one Jacobian gives both the local basis (rotated back to pixels)
 * and the pullback metric per frequency band. Basis function (ky, kx) has
 * radius √((ky/2H)² + (kx/2W)²) cycles per pixel (0.5 at Nyquist), and
 * falls in the bands of the `frequency` encoder by that radius; the DC
 * function (ky = kx = 0) is in no band, as the encoder leaves the mean out.
 */
import { DimensionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";

export interface DctBasis {
  readonly shape: ImageShape;
  readonly dim: number;
  /** Radius (cycles per pixel) of each basis function, indexed c·H·W + ky·W + kx. */
  readonly radius: Float64Array;
  /** Band of each basis function (−1 for DC), for `bands` bands with the encoder's edges. */
  bandOf(bands: number, spacing?: "linear" | "log"): Int32Array;
  /** Coefficients of an image (length dim): Φ·x. */
  forward(x: ArrayLike<number>, out?: Float64Array): Float64Array;
  /** The image of coefficients: Φᵀ·c. */
  inverse(c: ArrayLike<number>, out?: Float64Array): Float64Array;
}

export function dctBasis(shape: ImageShape): DctBasis {
  const [channels, h, w] = shape;
  const dim = channels * h * w;
  const cy = dctMatrix(h), cx = dctMatrix(w);
  const radius = new Float64Array(dim);
  for (let c = 0; c < channels; c++) {
    for (let ky = 0; ky < h; ky++) for (let kx = 0; kx < w; kx++) radius[c * h * w + ky * w + kx] = Math.hypot(ky / (2 * h), kx / (2 * w));
  }
  const tmp = new Float64Array(h * w);

  /** out = A·X·Bᵀ per channel (A h×h, B w×w), or Aᵀ·X·B with `transpose`. */
  function apply(x: ArrayLike<number>, out: Float64Array, transpose: boolean): Float64Array {
    if (x.length !== dim) throw new DimensionError(`${x.length} values are not an image of [${shape}]`);
    for (let c = 0; c < channels; c++) {
      const o = c * h * w;
      // Rows: tmp[y][kx] = Σ_x X[y][x]·B[kx][x]  (or Σ_x X[y][x]·B[x][kx]).
      for (let y = 0; y < h; y++) {
        for (let k = 0; k < w; k++) {
          let s = 0;
          for (let t = 0; t < w; t++) s += x[o + y * w + t] * (transpose ? cx[t * w + k] : cx[k * w + t]);
          tmp[y * w + k] = s;
        }
      }
      // Columns: out[ky][k] = Σ_y A[ky][y]·tmp[y][k]  (or A[y][ky]).
      for (let k = 0; k < h; k++) {
        for (let col = 0; col < w; col++) {
          let s = 0;
          for (let t = 0; t < h; t++) s += (transpose ? cy[t * h + k] : cy[k * h + t]) * tmp[t * w + col];
          out[o + k * w + col] = s;
        }
      }
    }
    return out;
  }

  return {
    shape,
    dim,
    radius,
    bandOf(bands, spacing = "linear") {
      // The encoder's edges: linear in r/0.5, or log from the lowest radius of its padded FFT grid.
      const lowest = 1 / Math.max(2 ** Math.ceil(Math.log2(Math.max(h, 2))), 2 ** Math.ceil(Math.log2(Math.max(w, 2))));
      return Int32Array.from(radius, (r0) => {
        const r = Math.min(r0, 0.5);
        if (r === 0) return -1;
        const t = spacing === "linear" ? r / 0.5 : Math.log(r / lowest) / Math.log(0.5 / lowest);
        return Math.min(bands - 1, Math.max(0, Math.floor(t * bands)));
      });
    },
    forward: (x, out = new Float64Array(dim)) => apply(x, out, false),
    inverse: (c, out = new Float64Array(dim)) => apply(c, out, true),
  };
}

/** The orthonormal DCT-II matrix: row k = c_k·cos(π(2t+1)k/2n). */
function dctMatrix(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const c = Math.sqrt((k === 0 ? 1 : 2) / n);
    for (let t = 0; t < n; t++) m[k * n + t] = c * Math.cos((Math.PI * (2 * t + 1) * k) / (2 * n));
  }
  return m;
}

/**
 * The pullback metric per band from ‖J·φ_i‖² of every DCT basis function:
 * the mean over each band's functions (tr(P_bᵀJᵀJP_b)/dim_b), with the
 * bands' mean radii.
 */
export function bandMetric(dct: DctBasis, squaredNorms: ArrayLike<number>, bands: number, spacing: "linear" | "log" = "linear"): { metric: Float64Array; centres: Float64Array } {
  const bandOf = dct.bandOf(bands, spacing);
  const metric = new Float64Array(bands), centres = new Float64Array(bands), count = new Float64Array(bands);
  for (let i = 0; i < dct.dim; i++) {
    const b = bandOf[i];
    if (b < 0) continue;
    metric[b] += squaredNorms[i];
    centres[b] += dct.radius[i];
    count[b]++;
  }
  for (let b = 0; b < bands; b++) {
    if (count[b] > 0) {
      metric[b] /= count[b];
      centres[b] /= count[b];
    }
  }
  return { metric, centres };
}
