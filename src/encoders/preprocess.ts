/**
 * The image preprocessing of pretrained vision models, as their training
 * code does it: scale the values to [0, 1], resize so the shorter side has a
 * given length, crop the centre square, normalise each channel by a mean and
 * standard deviation, and lay the batch out as NCHW.
 */
import { DimensionError, OptionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import { checkInterpolation, type Interpolation, resample } from "./resample.ts";

export interface ImagePreprocessing {
  /** Resize so the shorter side has this length (default: the model's input size when it is fixed, else no resize). */
  resize?: number;
  /** Crop the centre crop×crop square after resizing (default: like resize). */
  crop?: number;
  /** Default "bilinear". */
  interpolation?: Interpolation;
  /** The range the image values span, mapped to [0, 1] first (default [0, 1]; diffusion outputs often span [−1, 1]). */
  range?: readonly [number, number];
  /** Per channel, or one value for all: (x − mean) / std after the range mapping (default 0 and 1). */
  mean?: number | readonly number[];
  std?: number | readonly number[];
}

/** CLIP (OpenAI ViT and ResNet image towers, open_clip): bicubic to 224, centre 224, CLIP's mean and std. */
export const CLIP_PREPROCESSING: Readonly<ImagePreprocessing> = Object.freeze({
  resize: 224,
  crop: 224,
  interpolation: "bicubic",
  mean: Object.freeze([0.48145466, 0.4578275, 0.40821073]),
  std: Object.freeze([0.26862954, 0.26130258, 0.27577711]),
});

/** ImageNet classifiers (torchvision ResNets and most DINO/ViT exports): bilinear to 256, centre 224, ImageNet mean and std. */
export const IMAGENET_PREPROCESSING: Readonly<ImagePreprocessing> = Object.freeze({
  resize: 256,
  crop: 224,
  interpolation: "bilinear",
  mean: Object.freeze([0.485, 0.456, 0.406]),
  std: Object.freeze([0.229, 0.224, 0.225]),
});

/** A preprocessing with every choice made, for images of one shape. */
export interface Preprocessor {
  /** The NCHW shape of one preprocessed image. */
  readonly shape: ImageShape;
  /** Preprocesses rows [start, end) of row-major images into `out` (NCHW). */
  apply(values: Float32Array, start: number, end: number, out: Float32Array): void;
}

/**
 * Fixes the preprocessing for images of `image` shape fed to a model taking
 * `channels` channels (a grey image is repeated over three channels; other
 * mismatches are a DimensionError).
 */
export function preprocessor(config: ImagePreprocessing, image: ImageShape, channels: number): Preprocessor {
  const [c, h, w] = image;
  if (c !== channels && !(c === 1 && channels === 3)) {
    throw new DimensionError(`the images have ${c} channel${c === 1 ? "" : "s"}, the model takes ${channels}`, { column: "image" });
  }
  const interpolation = checkInterpolation(config.interpolation ?? "bilinear");
  const [lo, hi] = config.range ?? [0, 1];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new OptionError("range", `must be [low, high] with low < high, got [${lo}, ${hi}]`);
  const mean = perChannel(config.mean ?? 0, channels, "mean");
  const std = perChannel(config.std ?? 1, channels, "std");
  if (std.some((s) => !(s > 0))) throw new OptionError("std", `must be positive, got [${std.join(", ")}]`);

  // torchvision's Resize(int): the shorter side becomes `resize`, the other keeps the aspect ratio (rounded down).
  const resize = config.resize;
  if (resize !== undefined && !(Number.isInteger(resize) && resize >= 1)) throw new OptionError("resize", `must be a positive integer, got ${resize}`);
  const [rh, rw] = resize === undefined ? [h, w] : h <= w ? [resize, Math.floor((resize * w) / h)] : [Math.floor((resize * h) / w), resize];
  const crop = config.crop;
  if (crop !== undefined && !(Number.isInteger(crop) && crop >= 1 && crop <= Math.min(rh, rw))) {
    throw new OptionError("crop", `must be an integer in 1..${Math.min(rh, rw)} for ${rh}×${rw} resized images, got ${crop}`);
  }
  const [oh, ow] = crop === undefined ? [rh, rw] : [crop, crop];
  const top = roundHalfEven((rh - oh) / 2), left = roundHalfEven((rw - ow) / 2);
  const resized = new Float32Array(rh * rw);
  return {
    shape: [channels, oh, ow],
    apply(values, start, end, out) {
      for (let row = start; row < end; row++) {
        for (let ch = 0; ch < channels; ch++) {
          const from = (row * c + (c === 1 ? 0 : ch)) * h * w;
          resample(values.subarray(from, from + h * w), h, w, rh, rw, interpolation, resized);
          const o = ((row - start) * channels + ch) * oh * ow;
          const scale = 1 / ((hi - lo) * std[ch]), shift = lo / (hi - lo) + mean[ch];
          for (let y = 0; y < oh; y++) {
            for (let x = 0; x < ow; x++) out[o + y * ow + x] = resized[(y + top) * rw + x + left] * scale - shift / std[ch];
          }
        }
      }
    },
  };
}

function perChannel(value: number | readonly number[], channels: number, option: string): number[] {
  const values = typeof value === "number" ? Array(channels).fill(value) : [...value];
  if (values.length !== channels || values.some((v) => !Number.isFinite(v))) {
    throw new OptionError(option, `needs one finite value or ${channels} (one per channel), got ${JSON.stringify(value)}`);
  }
  return values;
}

/** torchvision's CenterCrop offsets are Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
