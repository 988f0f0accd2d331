/**
 * Frequency features: the radially averaged power spectrum of each image in
 * a few bands, from the lowest non-zero frequency to the Nyquist frequency.
 * They say how much coarse versus fine structure an image has, which is how
 * the diffusion literature reads "coarse first, details later": early x̂0 are
 * blurry (energy in the low bands), late ones have edges and strokes.
 *
 * Per channel: subtract the mean, apply a Hann window (an image is not
 * periodic; without it its borders leak into every frequency), zero-pad to
 * powers of two, 2-D FFT (fft.js), and average |F|²/(H·W) over the
 * frequencies whose radius falls in each band. A feature is the natural log
 * of a band's mean power (plus 1e-12, so a flat image gives finite values).
 * Radius is in cycles per pixel, √(fy² + fx²), 0.5 at Nyquist; the corners
 * beyond 0.5 count in the last band.
 */
import FFT from "fft.js";
import { OptionError } from "../errors.ts";
import { imageShapeOf, inBatches } from "./batches.ts";
import type { Encoder } from "./encoder.ts";

export interface FrequencyOptions {
  /** Number of bands (default 8). */
  bands?: number;
  /** Band edges evenly spaced in radius ("linear", default) or in log radius ("log", finer at low frequencies). */
  spacing?: "linear" | "log";
}

const EPSILON = 1e-12;

export function frequency(options: FrequencyOptions = {}): Encoder {
  const bands = options.bands ?? 8;
  if (!Number.isInteger(bands) || bands < 1) throw new OptionError("bands", `must be a positive integer, got ${bands}`);
  const spacing = options.spacing ?? "linear";
  if (spacing !== "linear" && spacing !== "log") throw new OptionError("spacing", `must be "linear" or "log", not ${JSON.stringify(spacing)}`);
  const name = `frequency-${bands}`;
  return {
    name,
    input: "image",
    async encode(input) {
      const [c, h, w] = imageShapeOf(input, name);
      const spectrum = new PowerSpectrum(h, w, bands, spacing);
      const features = new Float32Array(input.count * c * bands);
      await inBatches(input, 256, `encoder "${name}"`, (start, end) => {
        for (let plane = start * c; plane < end * c; plane++) {
          spectrum.bandPowers(input.values.subarray(plane * h * w, (plane + 1) * h * w), features.subarray(plane * bands, (plane + 1) * bands));
        }
      });
      return { features, dim: c * bands };
    },
  };
}

/** The FFT plans, window and band of every frequency for one image size (geometry's spectral centroid reuses it). */
export class PowerSpectrum {
  readonly #h: number;
  readonly #w: number;
  readonly #ph: number;
  readonly #pw: number;
  readonly #rows: FFT;
  readonly #cols: FFT;
  readonly #window: Float64Array;
  /** Band of each padded frequency (ph×pw), −1 for DC. */
  readonly #band: Int32Array;
  readonly #count: Float64Array;
  /** Mean radius (cycles per pixel) of the frequencies in each band. */
  readonly centres: Float64Array;
  readonly #grid: Float64Array;
  readonly #row: number[];
  readonly #rowOut: number[];
  readonly #col: number[];
  readonly #colOut: number[];

  constructor(h: number, w: number, bands: number, spacing: "linear" | "log") {
    this.#h = h;
    this.#w = w;
    // fft.js needs a power of two of at least 2.
    const ph = this.#ph = Math.max(2, 2 ** Math.ceil(Math.log2(h)));
    const pw = this.#pw = Math.max(2, 2 ** Math.ceil(Math.log2(w)));
    this.#rows = new FFT(pw);
    this.#cols = new FFT(ph);
    const hann = (n: number) => Float64Array.from({ length: n }, (_, i) => (n === 1 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n)));
    const wy = hann(h), wx = hann(w);
    this.#window = new Float64Array(h * w);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) this.#window[y * w + x] = wy[y] * wx[x];
    // The lowest non-zero radius on this grid starts the log bands.
    const lowest = 1 / Math.max(ph, pw);
    this.#band = new Int32Array(ph * pw);
    this.#count = new Float64Array(bands);
    this.centres = new Float64Array(bands);
    for (let ky = 0; ky < ph; ky++) {
      const fy = (ky <= ph / 2 ? ky : ky - ph) / ph;
      for (let kx = 0; kx < pw; kx++) {
        const fx = (kx <= pw / 2 ? kx : kx - pw) / pw;
        const r = Math.min(Math.hypot(fy, fx), 0.5);
        let b = -1;
        if (r > 0) {
          const t = spacing === "linear" ? r / 0.5 : Math.log(r / lowest) / Math.log(0.5 / lowest);
          b = Math.min(bands - 1, Math.max(0, Math.floor(t * bands)));
          this.#count[b]++;
          this.centres[b] += r;
        }
        this.#band[ky * pw + kx] = b;
      }
    }
    for (let b = 0; b < bands; b++) if (this.#count[b] > 0) this.centres[b] /= this.#count[b];
    this.#grid = new Float64Array(2 * ph * pw);
    this.#row = new Array(pw).fill(0);
    this.#rowOut = this.#rows.createComplexArray();
    this.#col = this.#cols.createComplexArray();
    this.#colOut = this.#cols.createComplexArray();
  }

  /** Writes the log mean power of each band of one channel into `out` (with `linear`, the mean power itself). */
  bandPowers(image: Float32Array, out: Float32Array | Float64Array, linear = false): void {
    const h = this.#h, w = this.#w, ph = this.#ph, pw = this.#pw, grid = this.#grid;
    let mean = 0;
    for (let i = 0; i < h * w; i++) mean += image[i];
    mean /= h * w;
    // Rows: real FFT of each windowed row (padding rows stay zero).
    grid.fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < pw; x++) this.#row[x] = x < w ? (image[y * w + x] - mean) * this.#window[y * w + x] : 0;
      this.#rows.realTransform(this.#rowOut, this.#row);
      this.#rows.completeSpectrum(this.#rowOut);
      for (let i = 0; i < 2 * pw; i++) grid[y * 2 * pw + i] = this.#rowOut[i];
    }
    // Columns: complex FFT of each column; accumulate power per band.
    const sums = new Float64Array(out.length);
    for (let kx = 0; kx < pw; kx++) {
      for (let y = 0; y < ph; y++) {
        this.#col[2 * y] = grid[y * 2 * pw + 2 * kx];
        this.#col[2 * y + 1] = grid[y * 2 * pw + 2 * kx + 1];
      }
      this.#cols.transform(this.#colOut, this.#col);
      for (let ky = 0; ky < ph; ky++) {
        const b = this.#band[ky * pw + kx];
        if (b >= 0) sums[b] += this.#colOut[2 * ky] ** 2 + this.#colOut[2 * ky + 1] ** 2;
      }
    }
    for (let b = 0; b < out.length; b++) {
      const power = (this.#count[b] > 0 ? sums[b] / this.#count[b] : 0) / (h * w);
      out[b] = linear ? power : Math.log(power + EPSILON);
    }
  }
}
