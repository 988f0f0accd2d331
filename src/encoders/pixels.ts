/**
 * Pixels as features, optionally resized (bilinear) to size×size, so images
 * of any resolution compare on one grid.
 */
import { OptionError } from "../errors.ts";
import type { Encoder } from "./encoder.ts";

export interface PixelOptions {
  /** Output side length; default: the input size. */
  size?: number;
}

export function pixels(options: PixelOptions = {}): Encoder {
  if (options.size !== undefined && !(options.size >= 1)) throw new OptionError("size", `must be ≥ 1, got ${options.size}`);
  return {
    name: "pixels",
    input: "image",
    encode({ values, count, dim, imageShape }) {
      const [c, h, w] = imageShape ?? [1, 1, dim];
      const size = options.size;
      if (size === undefined || (size === h && size === w)) return { features: values.slice(), dim };
      const out = new Float32Array(count * c * size * size);
      for (let r = 0; r < count; r++) {
        for (let ch = 0; ch < c; ch++) {
          resize(values.subarray((r * c + ch) * h * w, (r * c + ch + 1) * h * w), h, w, size, out.subarray((r * c + ch) * size * size));
        }
      }
      return { features: out, dim: c * size * size };
    },
  };
}

/** Bilinear resampling with pixel centres aligned (align_corners = false). */
function resize(src: Float32Array, h: number, w: number, size: number, out: Float32Array): void {
  for (let y = 0; y < size; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * h) / size - 0.5, 0), h - 1);
    const y0 = Math.floor(sy), y1 = Math.min(y0 + 1, h - 1), fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * w) / size - 0.5, 0), w - 1);
      const x0 = Math.floor(sx), x1 = Math.min(x0 + 1, w - 1), fx = sx - x0;
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
}
