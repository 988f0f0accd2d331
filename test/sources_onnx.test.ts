import { test } from "uvu";
import * as assert from "uvu/assert";
import { DimensionError, ModelError, OptionError } from "../src/errors.ts";
import { readStepTable, type StepColumns } from "../src/data/step_table.ts";
import { hasWebGpu, type OnnxBackend } from "../src/onnx/session.ts";
import { OnnxGraph } from "../src/onnx/writer.ts";
import { closedFormDenoiser, type ClosedFormData } from "../src/sources/closed_form.ts";
import { closedFormOnnx } from "../src/sources/closed_form_onnx.ts";
import type { Denoiser } from "../src/sources/denoiser.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { onnxDenoiser, type OnnxDenoiserOptions } from "../src/sources/onnx_denoiser.ts";
import { sampleDiffusion, type SamplerOptions } from "../src/sources/sampler.ts";
import { noiseSchedule } from "../src/sources/schedule.ts";
import { ddim } from "../src/sources/schedulers/ddim.ts";
import { ddpm } from "../src/sources/schedulers/ddpm.ts";

/** 20 digits each of 0, 3 and 7: small enough to store in a model. */
async function digits(): Promise<ClosedFormData> {
  const sub = mnistSubset(await loadMnist(), 20);
  const keep = [...sub.labels.keys()].filter((i) => [0, 3, 7].includes(sub.labels[i]));
  const images = new Float32Array(keep.length * MNIST_DIM);
  keep.forEach((i, r) => images.set(sub.images.subarray(i * MNIST_DIM, (i + 1) * MNIST_DIM), r * MNIST_DIM));
  return { images, labels: Int32Array.from(keep, (i) => sub.labels[i]), dim: MNIST_DIM };
}

async function trajectory(denoiser: Denoiser, options: SamplerOptions): Promise<StepColumns[]> {
  const out: StepColumns[] = [];
  for await (const t of sampleDiffusion(denoiser, options)) out.push(readStepTable(t));
  return out;
}

function maxDiff(a: StepColumns[], b: StepColumns[]): number {
  assert.is(a.length, b.length);
  let max = 0;
  a.forEach((s, i) => {
    for (const key of ["image", "noisy"] as const) {
      const x = s[key]!, y = b[i][key]!;
      assert.is(x.length, y.length);
      for (let k = 0; k < x.length; k++) max = Math.max(max, Math.abs(x[k] - y[k]));
    }
  });
  return max;
}

const prompts = [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }, { label: "digit 7", condition: 7 }];
const labels = { input: "class_labels", kind: "label", unconditional: -1 } as const;

test("onnxDenoiser: the closed-form denoiser as an ONNX graph reproduces the TypeScript trajectories to 1e-4", async () => {
  const data = await digits();
  const reference = closedFormDenoiser(data);
  const cases = [
    { prediction: "x0" as const, schedule: "cosine" as const, scheduler: ddim(), guidance: 1, batchSize: undefined },
    { prediction: "x0" as const, schedule: "cosine" as const, scheduler: ddim(), guidance: 2, batchSize: 4 },
    { prediction: "epsilon" as const, schedule: "linear" as const, scheduler: ddpm(), guidance: 1, batchSize: 5 },
  ];
  for (const c of cases) {
    const model = closedFormOnnx(data, { schedule: noiseSchedule(c.schedule), shape: MNIST_SHAPE, prediction: c.prediction });
    const onnx = await onnxDenoiser({ model, shape: MNIST_SHAPE, prediction: c.prediction, condition: labels, batchSize: c.batchSize, backend: "wasm" });
    assert.is(onnx.backend, "wasm");
    const options: SamplerOptions = {
      prompts, instancesPerPrompt: 2, steps: 8, seed: 3, guidance: c.guidance, schedule: c.schedule, scheduler: c.scheduler, range: [-1, 1],
    };
    const want = await trajectory(reference, options);
    const got = await trajectory(onnx, options);
    const diff = maxDiff(got, want);
    assert.ok(diff < 1e-4, `${c.prediction}/${c.scheduler.name}/g=${c.guidance}: max |ONNX − TS| = ${diff}`);
    await onnx.release();
  }
});

/** out = sample·timestep + cond, with a fixed batch of 2 and a scalar float timestep. */
function tinyModel(): Uint8Array {
  const g = new OnnxGraph("tiny");
  g.input("x", { shape: [2, 4] });
  g.input("t", { shape: [] });
  g.input("emb", { shape: [2, 4] });
  g.node("Add", [g.node("Mul", ["x", "t"]), "emb"], {}, { outputs: ["y"] });
  g.output("y", { shape: [2, 4] });
  return g.toBytes();
}

test("onnxDenoiser: named inputs, a scalar timestep value, embeddings per condition, a fixed batch padded", async () => {
  const embeddings = [Float32Array.from([1, 2, 3, 4]), Float32Array.from([10, 20, 30, 40])];
  const unconditional = Float32Array.from([-1, -1, -1, -1]);
  const options = {
    model: tinyModel(), shape: [1, 2, 2] as const, prediction: "x0" as const, sample: "x", timestep: "t",
    timestepValue: (l: { alphaBar: number }) => l.alphaBar, condition: { input: "emb", kind: "embedding" as const, dims: [4], embeddings, unconditional },
  };
  const backends: OnnxBackend[] = ["wasm", ...((await hasWebGpu(false)) ? ["webgpu" as const] : [])];
  for (const backend of backends) {
    const den = await onnxDenoiser({ ...options, backend });
    const xt = Float32Array.from({ length: 12 }, (_, i) => i);
    const out = new Float32Array(12);
    await den.predict(xt, { t: 10, alphaBar: 0.5 }, Int32Array.from([1, -1, 0]), out);
    const want = [0, 1, 2, 3].map((k) => 0.5 * k + embeddings[1][k])
      .concat([4, 5, 6, 7].map((k) => 0.5 * k - 1), [8, 9, 10, 11].map((k, i) => 0.5 * k + embeddings[0][i]));
    assert.equal([...out], want, backend);
    await den.release();
  }
});

test("onnxDenoiser: models and options that do not fit give typed errors", async () => {
  const fails = async (p: () => Promise<unknown>, type: new (...a: never[]) => Error, what: string) => {
    try {
      await p();
    } catch (e) {
      assert.instance(e, type, `${what}: ${e}`);
      return;
    }
    assert.unreachable(what);
  };
  const shape = [1, 2, 2] as const;
  await fails(() => onnxDenoiser({ model: new TextEncoder().encode("not a model"), shape }), ModelError, "not ONNX");
  await fails(() => onnxDenoiser({ model: tinyModel(), shape, sample: "x" }), ModelError, "no input named timestep");
  await fails(() => onnxDenoiser({ model: tinyModel(), shape, sample: "x", timestep: "t" }), ModelError, "emb has no feed");
  await fails(() => onnxDenoiser({ model: tinyModel(), shape: [1, 2] as never, sample: "x", timestep: "t" }), OptionError, "bad shape");
  // Inputs and outputs that do not match what the denoiser feeds and reads, refused before any sampling, by name, shape and type.
  const mismatch = async (options: Partial<OnnxDenoiserOptions>, named: string) => {
    const emb = { input: "emb", kind: "embedding" as const, dims: [4], embeddings: [new Float32Array(4)] };
    try {
      await onnxDenoiser({ model: tinyModel(), shape, sample: "x", timestep: "t", condition: emb, ...options });
    } catch (e) {
      assert.instance(e, ModelError, String(e));
      assert.ok((e as Error).message.includes(named), `${(e as Error).message} names ${named}`);
      return;
    }
    assert.unreachable(named);
  };
  await mismatch({ shape: [1, 3, 3] }, `input "x" is "x" float32[2, 4]; it must be [batch, 9]`);
  await mismatch({ condition: { input: "emb", kind: "embedding", dims: [5], embeddings: [new Float32Array(5)] } }, `input "emb"`);
  await mismatch({ condition: { input: "emb", kind: "label" } }, `label input "emb" must be [batch]`);
  await mismatch({ output: "nope" }, `no output "nope"`);
  const den = await onnxDenoiser({ model: tinyModel(), shape, sample: "x", timestep: "t", condition: { input: "emb", kind: "embedding", dims: [4], embeddings: [new Float32Array(4)] }, backend: "wasm" });
  await fails(() => den.predict(new Float32Array(4), { t: 1, alphaBar: 0.5 }, Int32Array.from([-1]), new Float32Array(4)), OptionError, "no unconditional embedding");
  await fails(() => den.predict(new Float32Array(4), { t: 1, alphaBar: 0.5 }, Int32Array.from([3]), new Float32Array(4)), OptionError, "no embedding 3");
  await fails(() => den.predict(new Float32Array(5), { t: 1, alphaBar: 0.5 }, Int32Array.from([0]), new Float32Array(4)), DimensionError, "wrong xt");
  await den.release();
});

test.run();
