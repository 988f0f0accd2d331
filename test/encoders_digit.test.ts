import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFile } from "node:fs/promises";
import { DIGIT_ENCODER_URL, digitEncoder, digitSplit } from "../src/encoders/digit.ts";
import { readModelInfo } from "../src/onnx/model_info.ts";
import { loadMnist, MNIST_DIM } from "../src/sources/mnist.ts";

test("digit encoder: the shipped model is ONNX, at most 1 MB, with an embedding and class logits", async () => {
  const bytes = await readFile(DIGIT_ENCODER_URL);
  assert.ok(bytes.length <= 1 << 20, `${bytes.length} bytes`);
  const info = readModelInfo(new Uint8Array(bytes));
  assert.equal(info.inputs.map((i) => i.shape), [["batch", 1, 28, 28]]);
  assert.equal(info.outputs.map((o) => [o.name, o.shape]), [["embedding", ["batch", 64]], ["logits", ["batch", 10]]]);
  assert.ok(Number(info.metadata["held-out-accuracy"]) >= 0.95);
});

test("digit encoder: classifies held-out digits (every third of them) with at least 95% accuracy, deterministically", async () => {
  const { test: heldOut } = digitSplit(await loadMnist());
  const rows = Array.from({ length: Math.ceil(heldOut.count / 3) }, (_, i) => 3 * i);
  const values = new Float32Array(rows.length * MNIST_DIM);
  rows.forEach((r, i) => values.set(heldOut.images.subarray(r * MNIST_DIM, (r + 1) * MNIST_DIM), i * MNIST_DIM));
  const input = { values, dim: MNIST_DIM, count: rows.length, imageShape: [1, 28, 28] as const, step: new Int32Array(rows.length) };
  const logits = await digitEncoder({ output: "logits", backend: "wasm" });
  const { features, dim } = await logits.encode(input);
  assert.is(dim, 10);
  let right = 0;
  rows.forEach((r, i) => {
    const z = features.subarray(i * 10, (i + 1) * 10);
    if (z.indexOf(Math.max(...z)) === heldOut.labels[r]) right++;
  });
  assert.ok(right / rows.length >= 0.95, `accuracy ${right / rows.length}`);
  const embedding = await digitEncoder({ backend: "wasm" });
  const a = await embedding.encode(input), b = await embedding.encode(input);
  assert.is(a.dim, 64);
  assert.equal(a.features, b.features);
});

test.run();
