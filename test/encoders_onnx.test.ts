import { test } from "uvu";
import * as assert from "uvu/assert";
import { CancelledError, DimensionError, ModelError } from "../src/errors.ts";
import type { EncoderInput } from "../src/encoders/encoder.ts";
import { onnxImageEncoder } from "../src/encoders/onnx_image.ts";
import { CLIP_PREPROCESSING, preprocessor } from "../src/encoders/preprocess.ts";
import { resample } from "../src/encoders/resample.ts";
import { type GraphDim, OnnxGraph } from "../src/onnx/writer.ts";
import { random } from "../src/util/random.ts";

// A tiny image model: conv 3×3 (3 → 2 channels) → ReLU → global average → dense 2 → 4.
const rng = random(5);
const convW = Float32Array.from({ length: 2 * 3 * 9 }, () => rng.normal());
const convB = Float32Array.from({ length: 2 }, () => rng.normal() * 0.1);
const denseW = Float32Array.from({ length: 4 * 2 }, () => rng.normal());
const denseB = Float32Array.from({ length: 4 }, () => rng.normal());

function tinyModel(inputShape: GraphDim[] = ["batch", 3, 6, 6], extraInput = false): Uint8Array {
  const g = new OnnxGraph("tiny");
  g.input("pixels", { shape: inputShape });
  if (extraInput) g.input("mask", { shape: ["batch"] });
  let x = g.node("Conv", ["pixels", g.initializer("cw", { data: convW, dims: [2, 3, 3, 3] }), g.initializer("cb", { data: convB, dims: [2] })], { kernel_shape: [3, 3] });
  x = g.node("GlobalAveragePool", [g.node("Relu", [x])]);
  g.node("Flatten", [x], { axis: 1 }, { outputs: ["pooled"] });
  g.node("Gemm", ["pooled", g.initializer("dw", { data: denseW, dims: [4, 2] }), g.initializer("db", { data: denseB, dims: [4] })], { transB: 1 }, { outputs: ["features"] });
  g.output("features", { shape: [inputShape[0], 4] });
  g.output("pooled", { shape: [inputShape[0], 2] });
  return g.toBytes();
}

/** The same network in TypeScript, on one preprocessed 3×s×s image. */
function tinyReference(img: Float32Array, s: number): { features: number[]; pooled: number[] } {
  const os = s - 2;
  const pooled = [0, 1].map((oc) => {
    let sum = 0;
    for (let y = 0; y < os; y++) {
      for (let x = 0; x < os; x++) {
        let v = convB[oc];
        for (let c = 0; c < 3; c++) for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) v += convW[((oc * 3 + c) * 3 + ky) * 3 + kx] * img[(c * s + y + ky) * s + x + kx];
        sum += Math.max(v, 0);
      }
    }
    return sum / (os * os);
  });
  const features = [0, 1, 2, 3].map((o) => denseB[o] + denseW[o * 2] * pooled[0] + denseW[o * 2 + 1] * pooled[1]);
  return { features, pooled };
}

const images = (count: number, shape: [number, number, number]) => Float32Array.from({ length: count * shape[0] * shape[1] * shape[2] }, () => rng.next() * 2 - 1);
const input = (values: Float32Array, count: number, shape: [number, number, number]): EncoderInput =>
  ({ values, count, dim: shape[0] * shape[1] * shape[2], imageShape: shape, step: new Int32Array(count) });

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) {
  assert.is(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) < 1e-4 * (1 + Math.abs(expected[i])), `${what} [${i}]: ${actual[i]} vs ${expected[i]}`);
}

const model = tinyModel();
const mean = [0.5, 0.4, 0.3], std = [0.2, 0.25, 0.3];

test("onnx encoder: features match a TypeScript reimplementation of the model, any named output", async () => {
  const n = 5, imgs = images(n, [3, 6, 6]);
  const expected = Array.from({ length: n }, (_, i) => {
    // range [−1, 1] → [0, 1], then (x − mean) / std per channel
    const img = Float32Array.from(imgs.subarray(i * 108, (i + 1) * 108), (v, k) => ((v + 1) / 2 - mean[Math.floor(k / 36)]) / std[Math.floor(k / 36)]);
    return tinyReference(img, 6);
  });
  for (const output of ["features", "pooled"] as const) {
    const encoder = await onnxImageEncoder({ model, output, range: [-1, 1], mean, std, backend: "wasm" });
    assert.is(encoder.name, `onnx:${output}`);
    const { features, dim } = await encoder.encode(input(imgs, n, [3, 6, 6]));
    assert.is(dim, output === "features" ? 4 : 2);
    close(features, expected.flatMap((e) => e[output]), output);
    assert.equal((await encoder.encode(input(imgs, n, [3, 6, 6]))).features, features);
  }
});

test("onnx encoder: CLIP-style resize (bicubic, shorter side) and centre crop, and grey images on three channels", async () => {
  const n = 3, shape: [number, number, number] = [1, 10, 15], imgs = images(n, shape).map((v) => (v + 1) / 2);
  const encoder = await onnxImageEncoder({ model, ...CLIP_PREPROCESSING, resize: 8, crop: 6, backend: "wasm" });
  const [clipMean, clipStd] = [CLIP_PREPROCESSING.mean, CLIP_PREPROCESSING.std] as number[][];
  const { features } = await encoder.encode(input(imgs, n, shape));
  // 10×15 → 8×12 (shorter side 8), crop 6×6 at rows 1.., columns 3.. ((12 − 6) / 2 = 3)
  const expected = Array.from({ length: n }, (_, i) => {
    const resized = resample(imgs.subarray(i * 150, (i + 1) * 150), 10, 15, 8, 12, "bicubic");
    const img = new Float32Array(108);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) img[(c * 6 + y) * 6 + x] = (resized[(y + 1) * 12 + x + 3] - clipMean[c]) / clipStd[c];
    return tinyReference(img, 6).features;
  });
  close(features, expected.flat(), "features");
  // torchvision rounds a half offset to even: 8×13 cropped to 6 starts at column round(3.5) = 4, 8×11 at round(2.5) = 2.
  assert.equal(offsets(13), 4);
  assert.equal(offsets(11), 2);
});

/** Where a 6-wide crop of an 8×w image starts, read back from the preprocessor. */
function offsets(w: number): number {
  const img = Float32Array.from({ length: 8 * w }, (_, i) => i % w);
  const out = new Float32Array(36);
  preprocessor({ crop: 6 }, [1, 8, w], 1).apply(img, 0, 1, out);
  return out[0];
}

test("onnx encoder: batches give the same features as one call, report progress, and stop on a fired signal", async () => {
  const n = 7, imgs = images(n, [3, 6, 6]);
  const whole = await (await onnxImageEncoder({ model, backend: "wasm" })).encode(input(imgs, n, [3, 6, 6]));
  const progress: number[] = [];
  const batched = await (await onnxImageEncoder({ model, batchSize: 3, backend: "wasm" })).encode({ ...input(imgs, n, [3, 6, 6]), onProgress: (done) => progress.push(done) });
  assert.equal(batched.features, whole.features);
  assert.equal(progress, [3, 6, 7]);
  // A model exported with batch size 1 gets one image per call.
  const single = await (await onnxImageEncoder({ model: tinyModel([1, 3, 6, 6]), backend: "wasm" })).encode(input(imgs, n, [3, 6, 6]));
  close(single.features, whole.features, "batch-1 model");
  const controller = new AbortController();
  controller.abort();
  try {
    await (await onnxImageEncoder({ model, backend: "wasm" })).encode({ ...input(imgs, n, [3, 6, 6]), signal: controller.signal });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, CancelledError);
  }
});

test("onnx encoder: models and images that do not fit give typed errors naming the problem", async () => {
  const attempts: [() => Promise<unknown>, typeof ModelError | typeof DimensionError, RegExp][] = [
    [() => onnxImageEncoder({ model: new TextEncoder().encode("ResNet-50 weights") }), ModelError, /not an ONNX model/],
    [() => onnxImageEncoder({ model, output: "logits" }), ModelError, /no output "logits"; its outputs: "features"/],
    [() => onnxImageEncoder({ model: tinyModel(["batch", 3, 6, 6], true) }), ModelError, /2 inputs \(pixels, mask\)/],
    [() => onnxImageEncoder({ model: flatModel() }), ModelError, /is not NCHW/],
    [async () => (await onnxImageEncoder({ model })).encode(input(images(2, [2, 6, 6]), 2, [2, 6, 6])), DimensionError, /2 channels, the model takes 3/],
    [async () => (await onnxImageEncoder({ model, crop: 4 })).encode(input(images(2, [3, 6, 6]), 2, [3, 6, 6])), DimensionError, /preprocessed images are 4×4/],
    [async () => (await onnxImageEncoder({ model })).encode({ ...input(images(2, [3, 6, 6]), 2, [3, 6, 6]), imageShape: [3, 5, 5] }), DimensionError, /holds 75 values, the rows have 108/],
  ];
  for (const [attempt, type, message] of attempts) {
    try {
      await attempt();
      assert.unreachable(String(message));
    } catch (error) {
      assert.instance(error, type, String(message));
      assert.match((error as Error).message, message);
    }
  }
});

function flatModel(): Uint8Array {
  const g = new OnnxGraph("flat");
  g.input("x", { shape: ["batch", 36] });
  g.node("Relu", ["x"], {}, { outputs: ["y"] });
  g.output("y", { shape: ["batch", 36] });
  return g.toBytes();
}

test.run();
