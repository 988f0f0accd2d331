/**
 * Pixels as features, optionally resized to size×size, so images of any
 * resolution compare on one grid.
 */
import { OptionError } from "../errors.ts";
import { imageShapeOf } from "./batches.ts";
import type { Encoder } from "./encoder.ts";
import { checkInterpolation, type Interpolation, resample } from "./resample.ts";

export interface PixelOptions {
  /** Output side length; default: the input size. */
  size?: number;
  /** Default "bilinear" (antialiased when shrinking). */
  interpolation?: Interpolation;
}

export function pixels(options: PixelOptions = {}): Encoder {
  const size = options.size;
  if (size !== undefined && !(Number.isInteger(size) && size >= 1)) throw new OptionError("size", `must be a positive integer, got ${size}`);
  const interpolation = checkInterpolation(options.interpolation ?? "bilinear");
  return {
    name: size === undefined ? "pixels" : `pixels-${size}`,
    input: "image",
    encode(input) {
      const [c, h, w] = imageShapeOf(input, "pixels");
      const { values, count, dim } = input;
      if (size === undefined || (size === h && size === w)) return { features: values.slice(), dim };
      const out = new Float32Array(count * c * size * size);
      for (let plane = 0; plane < count * c; plane++) {
        resample(values.subarray(plane * h * w, (plane + 1) * h * w), h, w, size, size, interpolation, out.subarray(plane * size * size));
      }
      return { features: out, dim: c * size * size };
    },
  };
}
