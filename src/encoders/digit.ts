/**
 * The digit encoder that ships with the package: a small convolutional
 * network trained on the `mnist` package's digits by
 * scripts/train-digit-encoder.ts (seeded, reproducible) and stored as
 * models/digit-encoder.onnx. It is loaded through the same ONNX encoder as
 * any user model. Outputs: "embedding", the 64 activations of the
 * penultimate layer (the semantic feature space of the default demo), and
 * "logits", the 10 class scores.
 *
 * Input: [batch, 1, 28, 28] grey values in [0, 1], as the MNIST source
 * emits them; other sizes are resized to 28×28.
 */
import type { MnistDigits } from "../sources/mnist.ts";
import { readModelBytes } from "../runtime/model_file.ts";
import { onnxImageEncoder, type OnnxImageEncoder, type OnnxImageEncoderOptions } from "./onnx_image.ts";

export const DIGIT_ENCODER_URL: URL = new URL("../../models/digit-encoder.onnx", import.meta.url);

/** The fraction of each class held out from training: the last 15% of its digits. */
export const DIGIT_HELD_OUT = 0.15;

export interface DigitEncoderOptions extends Omit<OnnxImageEncoderOptions, "model" | "input" | "output"> {
  /** "embedding" (default) or "logits". */
  output?: "embedding" | "logits";
}

export async function digitEncoder(options: DigitEncoderOptions = {}): Promise<OnnxImageEncoder> {
  const output = options.output ?? "embedding";
  return await onnxImageEncoder({ ...options, model: await readModelBytes(DIGIT_ENCODER_URL), output, name: options.name ?? `digits:${output}` });
}

/** The digit encoder's training and held-out digits: per class, the first 85% and the last 15%. */
export function digitSplit(digits: MnistDigits): { train: MnistDigits; test: MnistDigits } {
  const perClass = new Map<number, number[]>();
  for (let i = 0; i < digits.count; i++) (perClass.get(digits.labels[i]) ?? perClass.set(digits.labels[i], []).get(digits.labels[i])!).push(i);
  const train: number[] = [], test: number[] = [];
  for (const rows of perClass.values()) {
    const cut = rows.length - Math.round(rows.length * DIGIT_HELD_OUT);
    train.push(...rows.slice(0, cut));
    test.push(...rows.slice(cut));
  }
  return { train: pick(digits, train), test: pick(digits, test) };
}

function pick(digits: MnistDigits, rows: number[]): MnistDigits {
  const dim = digits.images.length / Math.max(digits.count, 1);
  const images = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => images.set(digits.images.subarray(r * dim, (r + 1) * dim), i * dim));
  return { images, labels: Int32Array.from(rows, (r) => digits.labels[r]), count: rows.length, shape: digits.shape };
}
