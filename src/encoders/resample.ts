/**
 * Image resampling as PIL does it (and so as torchvision's Resize on PIL
 * images, which CLIP- and ImageNet-style preprocessing use): separable, with
 * the filter stretched by the scale factor when shrinking, so a smaller image
 * averages every source pixel instead of sampling a few (antialiasing).
 */
import { OptionError } from "../errors.ts";

export type Interpolation = "bilinear" | "bicubic";

export function checkInterpolation(value: string): Interpolation {
  if (value !== "bilinear" && value !== "bicubic") throw new OptionError("interpolation", `must be "bilinear" or "bicubic", not ${JSON.stringify(value)}`);
  return value;
}

interface Filter {
  support: number;
  weight(x: number): number;
}

const FILTERS: Record<Interpolation, Filter> = {
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  // Keys' cubic with a = −0.5, PIL's BICUBIC.
  bicubic: {
    support: 2,
    weight(x) {
      const a = -0.5, t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** For each output index along one axis: the first source index and the normalised weights. */
interface Taps {
  start: Int32Array;
  weights: Float64Array[];
}

function taps(inSize: number, outSize: number, filter: Filter): Taps {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = filter.support * stretch;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.floor(centre - support + 0.5), 0);
    const hi = Math.min(Math.floor(centre + support + 0.5), inSize);
    const w = new Float64Array(hi - lo);
    let total = 0;
    for (let j = lo; j < hi; j++) total += w[j - lo] = filter.weight((j - centre + 0.5) / stretch);
    if (total !== 0) for (let j = 0; j < w.length; j++) w[j] /= total;
    start[i] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/**
 * Resamples one channel (h×w, row-major) to outH×outW into `out`. Same-size
 * resampling copies.
 */
export function resample(
  src: Float32Array,
  h: number,
  w: number,
  outH: number,
  outW: number,
  interpolation: Interpolation,
  out: Float32Array = new Float32Array(outH * outW),
): Float32Array {
  if (outH === h && outW === w) {
    out.set(src.subarray(0, h * w));
    return out;
  }
  const filter = FILTERS[interpolation];
  const across = taps(w, outW, filter), down = taps(h, outH, filter);
  // Horizontal pass into h×outW, then vertical into outH×outW.
  const mid = new Float64Array(h * outW);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const weights = across.weights[x], s = y * w + across.start[x];
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k] * src[s + k];
      mid[y * outW + x] = v;
    }
  }
  for (let y = 0; y < outH; y++) {
    const weights = down.weights[y], s = down.start[y];
    for (let x = 0; x < outW; x++) {
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k] * mid[(s + k) * outW + x];
      out[y * outW + x] = v;
    }
  }
  return out;
}
