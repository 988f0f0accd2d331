/**
 * The shipped U-Net (models/unet.onnx, trained and exported with PyTorch by
 * scripts/train_unet.py): onnxruntime-web reproduces the outputs PyTorch
 * saved as fixtures, both `prediction` and the bottleneck `h`, and a short
 * generation goes through the encoders and the evolutionary embedder.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFile } from "node:fs/promises";
import { embedSteps, encodeTable, pixels, readStepTable } from "../mod.ts";
import { createSession, DIGIT_UNET_URL, digitUnet, readModelInfo } from "../onnx.ts";
import { mnistTrajectories } from "../mnist.ts";

interface FixtureTensor {
  type: "float32" | "int64";
  dims: number[];
  data: number[];
}
const fixtures = JSON.parse(await readFile(new URL("../models/fixtures/unet-fixtures.json", import.meta.url), "utf8")) as {
  inputs: Record<string, FixtureTensor>;
  outputs: Record<"prediction" | "h", FixtureTensor>;
};
const model = new Uint8Array(await readFile(DIGIT_UNET_URL));

test("the shipped U-Net: onnxruntime-web (wasm) reproduces PyTorch's prediction and h to 1e-4", async () => {
  const session = await createSession(model, { backend: "wasm" });
  const feeds = Object.fromEntries(Object.entries(fixtures.inputs).map(([name, t]) => [name, {
    data: t.type === "int64" ? BigInt64Array.from(t.data, (v) => BigInt(v)) : Float32Array.from(t.data),
    dims: t.dims,
  }]));
  const out = await session.run(feeds, ["prediction", "h"]);
  for (const name of ["prediction", "h"] as const) {
    const want = fixtures.outputs[name], got = out[name];
    assert.equal(got.dims, want.dims, name);
    let max = 0;
    want.data.forEach((v, i) => (max = Math.max(max, Math.abs(Number(got.data[i]) - v))));
    assert.ok(max <= 1e-4, `${name}: max |onnxruntime-web − PyTorch| = ${max}`);
  }
  await session.release();
});

test("the shipped U-Net declares its interface in its metadata, and is at most 10 MB", () => {
  const { metadata, inputs, outputs } = readModelInfo(model);
  assert.is(metadata.prediction, "v");
  assert.is(metadata.schedule, "cosine");
  assert.is(metadata.null_label, "10");
  assert.equal(inputs.map((i) => i.name), ["x_t", "timestep", "label"]);
  assert.equal(outputs.map((o) => o.name), ["prediction", "h"]);
  assert.ok(model.length <= 10 * 2 ** 20, `${model.length} bytes`);
});

test("a short generation with the U-Net (3 digits × 20 instances × 10 steps, guided) goes through the evolutionary embedder", async () => {
  const denoiser = await digitUnet({ backend: "wasm" });
  const steps = await mnistTrajectories({ denoiser, prompts: [0, 1, 7], instancesPerPrompt: 20, steps: 10, guidance: 2, seed: 1 });
  await denoiser.release();
  const cols = readStepTable(steps);
  assert.is(steps.numRows, 600);
  assert.ok(cols.image!.every((v) => v >= 0 && v <= 1), "x̂0 is clipped to the data range");
  const { frame, quality } = await embedSteps(await encodeTable(steps, pixels()), { iterations: 300, seed: 0 });
  assert.is(frame.numRows, 600);
  // The network draws its noughts, ones and sevens apart, and the tree's last step keeps them apart.
  const last = quality.steps[quality.steps.length - 1];
  assert.ok(last.featureNeighborhoodHit >= 0.95, `features: prompt hit ${last.featureNeighborhoodHit}`);
  assert.ok(last.neighborhoodHit >= 0.9, `embedding: prompt hit ${last.neighborhoodHit}`);
});

test.run();
