/**
 * The spectral centroid of an image-shaped vector (a basis vector of the
 * local latent basis): its radially averaged 2-D power spectrum in the bands
 * of the `frequency` encoder (the same code: mean removed, Hann window,
 * zero-padded FFT, mean power per band), and the power-weighted mean of the
 * bands' radii, Σ r_b·P_b / Σ P_b, in cycles per pixel (0.5 = Nyquist).
 * Low for a smooth, blob-like direction; high for a speckled one. Channels
 * are pooled (their band powers summed).
 */
import { DimensionError, OptionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import { PowerSpectrum } from "../encoders/frequency.ts";

export interface SpectralOptions {
  /** Bands (default 8, as the `frequency` encoder). */
  bands?: number;
  /** "linear" (default) or "log" band edges, as the `frequency` encoder. */
  spacing?: "linear" | "log";
}

export interface SpectralCentroid {
  /** The centroid of each vector (NaN for a vector with no power outside DC). */
  centroids(vectors: ArrayLike<number>, count: number): Float64Array;
  /** The mean power of each band, summed over channels, for one vector. */
  bandPowers(vector: ArrayLike<number>): Float64Array;
  /** Mean radius of each band, cycles per pixel. */
  readonly centres: Float64Array;
}

export function spectralCentroid(shape: ImageShape, options: SpectralOptions = {}): SpectralCentroid {
  const [c, h, w] = shape;
  if (![c, h, w].every((d) => Number.isInteger(d) && d > 0)) throw new OptionError("shape", `must be [C, H, W] of positive integers, not [${shape}]`);
  const bands = options.bands ?? 8;
  if (!Number.isInteger(bands) || bands < 1) throw new OptionError("bands", `must be a positive integer, got ${bands}`);
  const spacing = options.spacing ?? "linear";
  if (spacing !== "linear" && spacing !== "log") throw new OptionError("spacing", `must be "linear" or "log", not ${JSON.stringify(spacing)}`);
  const spectrum = new PowerSpectrum(h, w, bands, spacing);
  const plane = new Float32Array(h * w);
  const powers = new Float64Array(bands);
  const dim = c * h * w;

  function bandPowers(vector: ArrayLike<number>, offset = 0): Float64Array {
    const total = new Float64Array(bands);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h * w; i++) plane[i] = vector[offset + ch * h * w + i];
      spectrum.bandPowers(plane, powers, true);
      for (let b = 0; b < bands; b++) total[b] += powers[b];
    }
    return total;
  }

  return {
    centres: spectrum.centres,
    bandPowers(vector) {
      if (vector.length !== dim) throw new DimensionError(`a vector of ${vector.length} values is not [${shape}]`);
      return bandPowers(vector);
    },
    centroids(vectors, count) {
      if (vectors.length !== count * dim) throw new DimensionError(`${vectors.length} values are not ${count} vectors of [${shape}]`);
      const out = new Float64Array(count);
      for (let r = 0; r < count; r++) out[r] = centroidOf(bandPowers(vectors, r * dim), spectrum.centres);
      return out;
    },
  };
}

/** Σ r_b·P_b / Σ P_b (NaN when all P_b are 0). */
export function centroidOf(powers: ArrayLike<number>, centres: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let b = 0; b < powers.length; b++) {
    num += centres[b] * powers[b];
    den += powers[b];
  }
  return den > 0 ? num / den : NaN;
}
