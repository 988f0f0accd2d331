import { test } from "uvu";
import * as assert from "uvu/assert";
import { DimensionError, ModelError, OptionError } from "../src/errors.ts";
import { readModelInfo } from "../src/onnx/model_info.ts";
import { pruneToOutputs } from "../src/onnx/prune.ts";
import { createSession, hasWebGpu } from "../src/onnx/session.ts";
import { OnnxGraph } from "../src/onnx/writer.ts";
import { random } from "../src/util/random.ts";

/** y = relu(x·W + b), z = sum of y over features: two outputs, a batch dim. */
function affineModel(w: Float32Array, b: Float32Array, inDim: number, outDim: number): Uint8Array {
  const g = new OnnxGraph("affine");
  g.input("x", { shape: ["batch", inDim] });
  const xw = g.node("MatMul", ["x", g.initializer("w", { data: w, dims: [inDim, outDim] })]);
  const pre = g.node("Add", [xw, g.initializer("b", { data: b, dims: [outDim] })]);
  g.node("Relu", [pre], {}, { outputs: ["y"] });
  g.node("ReduceSum", ["y", g.initializer("axes", { data: new BigInt64Array([1n]), dims: [1] })], { keepdims: 0 }, { outputs: ["z"] });
  g.output("y", { shape: ["batch", outDim] });
  g.output("z", { shape: ["batch"] });
  return g.toBytes({ opset: 17, metadata: { purpose: "test" } });
}

function affineReference(x: Float32Array, w: Float32Array, b: Float32Array, n: number, inDim: number, outDim: number) {
  const y = new Float32Array(n * outDim), z = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let d = 0; d < inDim; d++) s += x[i * inDim + d] * w[d * outDim + o];
      y[i * outDim + o] = Math.max(s, 0);
      z[i] += y[i * outDim + o];
    }
  }
  return { y, z };
}

const rng = random(3);
const [inDim, outDim, n] = [5, 4, 3];
const w = Float32Array.from({ length: inDim * outDim }, () => rng.normal());
const b = Float32Array.from({ length: outDim }, () => rng.normal());
const x = Float32Array.from({ length: n * inDim }, () => rng.normal());
const model = affineModel(w, b, inDim, outDim);

function close(a: ArrayLike<number>, e: ArrayLike<number>, tol = 1e-5) {
  assert.is(a.length, e.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= tol * (1 + Math.abs(e[i])), `index ${i}: ${a[i]} vs ${e[i]}`);
}

test("onnx: readModelInfo gives the inputs, outputs, shapes, opset and metadata the writer wrote", () => {
  const info = readModelInfo(model);
  assert.equal(info.inputs, [{ name: "x", type: "float32", shape: ["batch", inDim] }]);
  assert.equal(info.outputs.map((o) => [o.name, o.shape]), [["y", ["batch", outDim]], ["z", ["batch"]]]);
  assert.is(info.opsets[""], 17);
  assert.is(info.irVersion, 8);
  assert.is(info.metadata.purpose, "test");
});

test("onnx: a written model runs in onnxruntime-web (wasm) and matches the TypeScript computation", async () => {
  const session = await createSession(model, { backend: "wasm", inputs: ["x"], outputs: ["y", "z"] });
  assert.is(session.backend, "wasm");
  const out = await session.run({ x: { data: x, dims: [n, inDim] } });
  const want = affineReference(x, w, b, n, inDim, outDim);
  assert.equal(out.y.dims, [n, outDim]);
  close(out.y.data as Float32Array, want.y);
  close(out.z.data as Float32Array, want.z);
  const onlyZ = await session.run({ x: { data: x, dims: [n, inDim] } }, ["z"]);
  assert.equal(Object.keys(onlyZ), ["z"]);
  await session.release();
});

test("onnx: a run for some outputs runs only the part of the graph they need, fed only the inputs it reads", async () => {
  const g = new OnnxGraph("two-paths");
  g.input("x", { shape: ["batch", inDim] });
  g.input("s", { shape: ["batch"] });
  const xw = g.node("MatMul", ["x", g.initializer("w", { data: w, dims: [inDim, outDim] })]);
  g.node("Relu", [g.node("Add", [xw, g.initializer("b", { data: b, dims: [outDim] })])], {}, { outputs: ["y"] });
  g.node("Neg", ["s"], {}, { outputs: ["u"] });
  g.output("y", { shape: ["batch", outDim] });
  g.output("u", { shape: ["batch"] });
  const bytes = g.toBytes();
  const pruned = pruneToOutputs(bytes, ["y"])!;
  assert.equal(pruned.inputs, ["x"]);
  assert.equal(readModelInfo(pruned.bytes).outputs.map((o) => o.name), ["y"]);
  assert.is(pruneToOutputs(bytes, ["y", "u"]), undefined, "nothing to remove");
  assert.is(pruneToOutputs(model, ["z"]), undefined, "z needs every node");
  const session = await createSession(bytes, { backend: "wasm" });
  const s = Float32Array.from({ length: n }, (_, i) => i + 0.5);
  const feeds = { x: { data: x, dims: [n, inDim] }, s: { data: s, dims: [n] } };
  close((await session.run(feeds, ["y"])).y.data as Float32Array, affineReference(x, w, b, n, inDim, outDim).y);
  close((await session.run(feeds, ["u"])).u.data as Float32Array, s.map((v) => -v));
  const both = await session.run(feeds);
  close(both.y.data as Float32Array, affineReference(x, w, b, n, inDim, outDim).y);
  await session.release();
});

test("onnx: bytes that are not an ONNX model give a ModelError naming the problem", async () => {
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["text", new TextEncoder().encode("this is not a model, just some text")],
    ["png header", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ["random", Uint8Array.from({ length: 256 }, () => rng.int(256))],
  ];
  for (const [what, bytes] of cases) {
    try {
      await createSession(bytes);
      assert.unreachable(`${what} was accepted`);
    } catch (error) {
      assert.instance(error, ModelError, what);
      assert.is((error as ModelError).code, "invalid-model");
      assert.match((error as Error).message, /empty|not an ONNX model|no graph|no outputs/, what);
    }
  }
});

test("onnx: names the model lacks, wrong feed shapes and types give typed errors", async () => {
  try {
    await createSession(model, { backend: "wasm", outputs: ["embedding"] });
    assert.unreachable();
  } catch (error) {
    assert.instance(error, ModelError);
    assert.match((error as Error).message, /no output "embedding"; its outputs: "y" float32\[batch, 4\], "z"/);
  }
  const session = await createSession(model, { backend: "wasm" });
  const attempts: [Record<string, { data: Float32Array | Int32Array; dims: number[] }>, typeof ModelError | typeof DimensionError, RegExp][] = [
    [{ x: { data: new Float32Array(n * 3), dims: [n, 3] } }, DimensionError, /dims \[3, 3\], the model's input is "x" float32\[batch, 5\]/],
    [{ x: { data: new Float32Array(7), dims: [n, inDim] } }, DimensionError, /has 7 values/],
    [{ x: { data: new Int32Array(n * inDim), dims: [n, inDim] } }, ModelError, /takes float32, the feed is int32/],
    [{ image: { data: x, dims: [n, inDim] } }, ModelError, /no input "image"/],
  ];
  for (const [feeds, type, message] of attempts) {
    try {
      await session.run(feeds);
      assert.unreachable(String(message));
    } catch (error) {
      assert.instance(error, type);
      assert.match((error as Error).message, message);
    }
  }
  await session.release();
});

test("onnx: the writer refuses graphs that read undefined values or reuse names", () => {
  const g = new OnnxGraph("bad");
  g.input("x", { shape: [2] });
  assert.throws(() => g.node("Relu", ["nothing"]), (e: Error) => e instanceof ModelError && /reads "nothing"/.test(e.message));
  assert.throws(() => g.input("x", { shape: [2] }), (e: Error) => e instanceof ModelError && /already defined/.test(e.message));
  assert.throws(() => g.output("y", { shape: [2] }), (e: Error) => e instanceof ModelError && /not defined/.test(e.message));
  assert.throws(() => g.toBytes(), (e: Error) => e instanceof ModelError && /no outputs/.test(e.message));
  assert.throws(() => g.initializer("w", { data: new Float32Array(3), dims: [2, 2] }), (e: Error) => e instanceof ModelError && /need 4/.test(e.message));
});

test("onnx: WebGPU computes what wasm computes where the runtime has an adapter, and is refused where it has none", async () => {
  if (await hasWebGpu(false)) {
    const gpu = await createSession(model, { backend: "webgpu" });
    assert.is(gpu.backend, "webgpu");
    const out = await gpu.run({ x: { data: x, dims: [n, inDim] } });
    close(out.y.data as Float32Array, affineReference(x, w, b, n, inDim, outDim).y, 1e-4);
    await gpu.release();
  } else {
    try {
      await createSession(model, { backend: "webgpu" });
      assert.unreachable();
    } catch (error) {
      assert.instance(error, OptionError);
    }
  }
});

test.run();
