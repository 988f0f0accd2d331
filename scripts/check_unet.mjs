// Checks models/unet.onnx (from scripts/train_unet.py) against the PyTorch
// fixtures: runs the fixture inputs through onnxruntime-web (wasm, the Node
// build, as src/onnx/session.ts uses it) as one batch and row by row (the
// batch axis is dynamic), and prints the largest absolute difference of both
// outputs. Exits 1 if either exceeds the tolerance (default 1e-4).
//
//   node scripts/check_unet.mjs [--model models/unet.onnx] [--fixtures models/fixtures/unet-fixtures.json] [--tol 1e-4]
import { readFileSync, statSync } from "node:fs";
import process from "node:process";
import * as ort from "onnxruntime-web";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const modelPath = arg("model", "models/unet.onnx");
const fixturesPath = arg("fixtures", "models/fixtures/unet-fixtures.json");
const tol = Number(arg("tol", "1e-4"));

ort.env.wasm.numThreads = 1;
const fx = JSON.parse(readFileSync(fixturesPath, "utf8"));
const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ["wasm"] });
console.log(`model ${modelPath} (${statSync(modelPath).size} bytes): inputs ${session.inputNames.join(", ")}; outputs ${session.outputNames.join(", ")}`);
for (const name of ["x_t", "timestep", "label"]) if (!session.inputNames.includes(name)) throw new Error(`no input "${name}"`);
if (session.outputNames[0] !== "prediction" || !session.outputNames.includes("h")) throw new Error(`outputs must be "prediction" (first) and "h"`);

const tensor = (spec, rows) => {
  const [r0, r1] = rows;
  const per = spec.data.length / spec.dims[0];
  const data = spec.data.slice(r0 * per, r1 * per);
  const dims = [r1 - r0, ...spec.dims.slice(1)];
  if (spec.type === "float32") return new ort.Tensor("float32", Float32Array.from(data), dims);
  if (spec.type === "int64") return new ort.Tensor("int64", BigInt64Array.from(data, (v) => BigInt(v)), dims);
  throw new Error(`fixture type ${spec.type}`);
};

const n = fx.inputs.x_t.dims[0];
const worst = { prediction: 0, h: 0 };
const runs = [[0, n], ...Array.from({ length: n }, (_, i) => [i, i + 1])];
for (const rows of runs) {
  const feeds = Object.fromEntries(Object.entries(fx.inputs).map(([name, spec]) => [name, tensor(spec, rows)]));
  const result = await session.run(feeds);
  for (const name of ["prediction", "h"]) {
    const want = fx.outputs[name];
    const per = want.data.length / want.dims[0];
    const got = result[name];
    const dims = [rows[1] - rows[0], ...want.dims.slice(1)];
    if (got.dims.join() !== dims.join()) throw new Error(`${name}: dims [${got.dims}], expected [${dims}]`);
    let max = 0;
    for (let i = 0; i < got.data.length; i++) max = Math.max(max, Math.abs(got.data[i] - want.data[rows[0] * per + i]));
    worst[name] = Math.max(worst[name], max);
    if (rows[1] - rows[0] === n) {
      let scale = 0;
      for (const v of want.data) scale = Math.max(scale, Math.abs(v));
      console.log(`batch of ${n}: ${name} [${got.dims}] max |onnx − torch| = ${max.toExponential(3)} (max |torch| = ${scale.toFixed(4)})`);
    }
  }
}
console.log(`all runs (batch ${n} and ${n} × batch 1): prediction ${worst.prediction.toExponential(3)}, h ${worst.h.toExponential(3)}; tolerance ${tol}`);
const ok = worst.prediction <= tol && worst.h <= tol;
console.log(ok ? "OK" : "FAILED");
await session.release();
process.exit(ok ? 0 : 1);
