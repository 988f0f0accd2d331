import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { OnnxGraph } from "../src/onnx/writer.ts";
import { onnxDenoiser } from "../src/sources/onnx_denoiser.ts";
import { random } from "../src/util/random.ts";
import { collectSteps } from "../src/sources/collect.ts";
import { planSampler, sampleDiffusion } from "../src/sources/sampler.ts";
import { readStepTable } from "../src/data/step_table.ts";
import { conditionsOf } from "../src/geometry/readings.ts";
import { denoiserActivations } from "../src/explain/activations.ts";
import { stepProbe } from "../src/explain/probe.ts";
import { trajectories } from "../src/explain/trajectories.ts";
import { commitment } from "../src/explain/commitment.ts";
import { digitEncoder } from "../src/encoders/digit.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { digitUnet } from "../src/sources/digit_unet.ts";
import { riseSaliency } from "../src/explain/rise.ts";
import { inputOf } from "../src/explain/guided.ts";

const N = 784, M = 16;
const rng = random(7);

/** The U-Net's interface; h = tanh(x·W + E[label]) with a small W: h says the label, whatever x_t is. */
function labelModel(): Uint8Array {
  const W = Float32Array.from({ length: N * M }, () => rng.normal() * 0.002);
  const E = Float32Array.from({ length: 11 * M }, () => rng.normal());
  const g = new OnnxGraph("label_h");
  g.input("x_t", { shape: ["batch", 1, 28, 28] });
  g.input("timestep", { shape: ["batch"] });
  g.input("label", { type: "int64", shape: ["batch"] });
  const flat = g.node("Reshape", ["x_t", g.initializer("rows", { data: BigInt64Array.of(-1n, BigInt(N)), dims: [2] })]);
  g.node("Tanh", [g.node("Add", [g.node("MatMul", [flat, g.initializer("w", { data: W, dims: [N, M] })]), g.node("Gather", [g.initializer("e", { data: E, dims: [11, M] }), "label"])])], {}, { outputs: ["h"] });
  g.node("Mul", ["x_t", g.initializer("half", { data: Float32Array.of(0.5), dims: [] })], {}, { outputs: ["prediction"] });
  g.output("prediction", { shape: ["batch", 1, 28, 28] });
  g.output("h", { shape: ["batch", M] });
  return g.toBytes();
}

test("probe on h: activations that encode the condition predict it at every step", async () => {
  const denoiser = await onnxDenoiser({
    model: labelModel(), shape: [1, 28, 28], prediction: "epsilon", sample: "x_t", timestep: "timestep",
    condition: { input: "label", kind: "label", unconditional: 10 }, output: "prediction", backend: "wasm",
  });
  const sampler = { prompts: [0, 1, 2].map((d) => ({ label: `digit ${d}`, condition: d })), instancesPerPrompt: 6, steps: 3, seed: 1, range: [-1, 1] as const, imageShape: MNIST_SHAPE };
  const steps = await collectSteps(sampleDiffusion(denoiser, sampler));
  const h = await denoiserActivations(steps, denoiser, { condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, batch: 7 });
  assert.is(h.dim, M);
  const traj = trajectories(readStepTable(steps, { image: true }));
  const labels = Int32Array.from(traj.prompt, (p) => Number(p.slice(-1)));
  const probe = stepProbe(traj, h, labels, { folds: 3 });
  assert.equal(probe.map((p) => p.accuracy), [1, 1, 1]);
  assert.ok(Math.abs(probe[0].chance - 1 / 3) < 1e-12);
  await denoiser.release();
});

test("commitment with the digit encoder: conditional closed-form digits end as their class", async () => {
  const digits = mnistSubset(await loadMnist(), 30);
  const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
  const sampler = { prompts: [3, 7].map((d) => ({ label: `digit ${d}`, condition: d })), instancesPerPrompt: 5, steps: 8, seed: 2, range: [-1, 1] as const, imageShape: MNIST_SHAPE };
  const c = await commitment(await collectSteps(sampleDiffusion(denoiser, sampler)), { classifier: await digitEncoder({ output: "logits" }) });
  const right = c.instances.filter((i) => `digit ${i.finalClass}` === i.prompt).length;
  assert.ok(right >= 9, `${right} of 10 end as their prompt's digit`);
  assert.ok(c.instances.every((i) => i.commitmentStep >= 0 && i.commitmentStep <= 7));
});

test("the shipped U-Net: DF-RISE saliency at a middle step, finite and not flat", async () => {
  if (!existsSync("models/unet.onnx")) return console.log("  (models/unet.onnx is not there: skipped)");
  const unet = await digitUnet({ backend: "wasm" });
  const sampler = { prompts: [{ label: "digit 3", condition: 3 }], instancesPerPrompt: 1, steps: 10, seed: 1, range: [-1, 1] as const, imageShape: MNIST_SHAPE, guidance: 2 };
  const steps = await collectSteps(sampleDiffusion(unet, sampler));
  const cols = readStepTable(steps, { image: true });
  const r = [...cols.step.keys()].find((i) => cols.step[i] === 5)!;
  const { saliency } = await riseSaliency(unet, inputOf(cols, r, { condition: () => 3, levels: planSampler(sampler).levels, guidance: 2 }), MNIST_SHAPE, { masks: 60, guidance: 2 });
  assert.ok(saliency.every(Number.isFinite));
  assert.ok(Math.max(...saliency) > Math.min(...saliency));
  await unet.release();
});

test.run();
