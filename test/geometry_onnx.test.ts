import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { OnnxGraph } from "../src/onnx/writer.ts";
import { onnxDenoiser } from "../src/sources/onnx_denoiser.ts";
import { topSingular } from "../src/linalg/top_eigen.ts";
import { compareToFull, onnxJacobian } from "../src/geometry/onnx_jacobian.ts";
import { normalizedGrassmannDistance } from "../src/geometry/grassmann.ts";
import { dctBasis } from "../src/geometry/dct.ts";
import { random } from "../src/util/random.ts";

const N = 784, M = 48;
const rng = random(61);
const W = Float32Array.from({ length: N * M }, () => rng.normal() * 0.05);
const C = Float32Array.from({ length: M }, () => rng.normal() * 1e-3);
const E = Float32Array.from({ length: 11 * M }, () => rng.normal() * 0.3);

/**
 * The U-Net's interface with a one-layer feature map: h = tanh(x·W + t·c + E[label]),
 * prediction = x_t/2, so J = ∂h/∂x_t = diag(1 − h²)·Wᵀ exactly.
 */
function featureModel(): Uint8Array {
  const g = new OnnxGraph("feature_map");
  g.input("x_t", { shape: ["batch", 1, 28, 28] });
  g.input("timestep", { shape: ["batch"] });
  g.input("label", { type: "int64", shape: ["batch"] });
  const flat = g.node("Reshape", ["x_t", g.initializer("rows", { data: BigInt64Array.of(-1n, BigInt(N)), dims: [2] })]);
  const t = g.node("Unsqueeze", ["timestep", g.initializer("axis1", { data: BigInt64Array.of(1n), dims: [1] })]);
  const z = g.node("Add", [
    g.node("Add", [g.node("MatMul", [flat, g.initializer("w", { data: W, dims: [N, M] })]), g.node("Mul", [t, g.initializer("c", { data: C, dims: [1, M] })])]),
    g.node("Gather", [g.initializer("e", { data: E, dims: [11, M] }), "label"]),
  ]);
  g.node("Tanh", [z], {}, { outputs: ["h"] });
  g.node("Mul", ["x_t", g.initializer("half", { data: Float32Array.of(0.5), dims: [] })], {}, { outputs: ["prediction"] });
  g.output("prediction", { shape: ["batch", 1, 28, 28] });
  g.output("h", { shape: ["batch", M] });
  return g.toBytes();
}

async function featureDenoiser() {
  return await onnxDenoiser({
    model: featureModel(), shape: [1, 28, 28], prediction: "v", sample: "x_t", timestep: "timestep",
    condition: { input: "label", kind: "label", unconditional: 10 }, output: "prediction", backend: "wasm",
  });
}

/** The exact J at x (label c, timestep t) as Jᵀ rows (N×M) for topSingular. */
function exactJacobianT(x: Float32Array, t: number, label: number): Float64Array {
  const jt = new Float64Array(N * M);
  for (let j = 0; j < M; j++) {
    let z = t * C[j] + E[label * M + j];
    for (let i = 0; i < N; i++) z += x[i] * W[i * M + j];
    const d = 1 - Math.tanh(z) ** 2;
    for (let i = 0; i < N; i++) jt[i * M + j] = d * W[i * M + j];
  }
  return jt;
}

test("dctBasis: orthonormal, inverse ∘ forward = identity, bands by radius", () => {
  const dct = dctBasis([1, 28, 28]);
  const x = Float64Array.from({ length: N }, () => rng.normal());
  const back = dct.inverse(dct.forward(x));
  assert.ok(Math.max(...back.map((v, i) => Math.abs(v - x[i]))) < 1e-12);
  const c = dct.forward(x);
  assert.ok(Math.abs(Math.hypot(...c) - Math.hypot(...x)) < 1e-10); // Parseval
  const band = dct.bandOf(8);
  assert.is(band[0], -1);
  assert.is(band[N - 1], 7);
  assert.is(band[1], 0); // (0, 1): 1/56 cycles per pixel
});

test("onnxJacobian full: finite differences through onnxruntime match the analytic Jacobian of h (σ, right and left vectors)", async () => {
  const denoiser = await featureDenoiser();
  const engine = onnxJacobian(denoiser, { method: "full" });
  for (const [label, t] of [[3, 999], [10, 250.5]]) {
    const x = Float32Array.from({ length: N }, () => rng.normal());
    const level = { t, alphaBar: 0.5 };
    const got = await engine.basis(x, level, label === 10 ? -1 : label, 10);
    const want = topSingular(exactJacobianT(x, t, label), M, N, 10);
    assert.is(got.runs, 2 * N);
    let sigmaErr = 0;
    for (let i = 0; i < 10; i++) sigmaErr = Math.max(sigmaErr, Math.abs(got.values[i] - want.values[i]) / want.values[i]);
    const right = normalizedGrassmannDistance(got.vectors!, 10, want.right, 10, N);
    const left = normalizedGrassmannDistance(got.left!, 10, want.left, 10, M);
    console.log(`  label ${label}, t ${t}: σ relative error ${sigmaErr.toExponential(2)}, right-basis distance ${right.toExponential(2)}, left ${left.toExponential(2)}`);
    // float32 rounding in the model bounds finite differences (J itself is off by ~2e-4, Frobenius-relative).
    assert.ok(sigmaErr < 1e-3, `σ error ${sigmaErr}`);
    assert.ok(right < 2e-3 && left < 2e-3, `distances ${right}, ${left}`);
    // The band metric sums to ‖J‖_F² (less the DC direction) over the band sizes.
    const dct = dctBasis([1, 28, 28]);
    const bandOf = dct.bandOf(8);
    const counts = new Float64Array(8);
    bandOf.forEach((b) => b >= 0 && counts[b]++);
    const total = got.bandMetric!.reduce((s, e, b) => s + e * counts[b], 0);
    const jt = exactJacobianT(x, t, label);
    const dcDir = dct.inverse(Float64Array.from({ length: N }, (_, i) => (i === 0 ? 1 : 0)));
    let frob = 0, dc = 0;
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let i = 0; i < N; i++) s += jt[i * M + j] * dcDir[i];
      dc += s * s;
    }
    for (const v of jt) frob += v * v;
    assert.ok(Math.abs(total - (frob - dc)) < 1e-4 * frob, `band metric total ${total} vs ${frob - dc}`);
  }
  await denoiser.release();
});

test("onnxJacobian with forward differences: half the runs (dim + 1), σ still to 1e-2", async () => {
  const denoiser = await featureDenoiser();
  const engine = onnxJacobian(denoiser, { method: "full", scheme: "forward", epsilon: 1e-2 });
  const x = Float32Array.from({ length: N }, () => rng.normal());
  const got = await engine.basis(x, { t: 10, alphaBar: 0.5 }, 2, 5);
  const want = topSingular(exactJacobianT(x, 10, 2), M, N, 5);
  assert.is(got.runs, N + 1);
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(got.values[i] - want.values[i]) < 1e-2 * want.values[i], `σ${i} ${got.values[i]} vs ${want.values[i]}`);
  await denoiser.release();
});

test("onnxJacobian sketches: the h-side random sketch and the band metric, with their errors against the full Jacobian", async () => {
  const denoiser = await featureDenoiser();
  const full = onnxJacobian(denoiser, { method: "full" });
  const sketch = onnxJacobian(denoiser, { method: "sketch", sketch: 60 });
  const bands = onnxJacobian(denoiser, { method: "bands", bandDirections: 16 });
  const x = Float32Array.from({ length: N }, () => rng.normal());
  const level = { t: 500, alphaBar: 0.5 };
  const f = await full.basis(x, level, 7, 10);
  const s = await sketch.basis(x, level, 7, 10);
  const b = await bands.basis(x, level, 7, 10);
  assert.is(s.runs, 120);
  assert.is(b.runs, 256);
  assert.is(s.vectors, undefined);
  const es = compareToFull(s, f), eb = compareToFull(b, f);
  console.log(`  sketch (120 runs): tangent distance ${es.tangentDistance!.toFixed(3)}, σ error ${es.singularValueError!.toFixed(3)}; bands (256 runs): metric error ${eb.bandMetricError!.toFixed(3)}, centroid error ${eb.centroidError!.toFixed(4)} cycles/pixel, tangent distance ${eb.tangentDistance!.toFixed(3)}, σ error ${eb.singularValueError!.toFixed(3)}`);
  assert.ok(es.tangentDistance! < 1 && es.tangentDistance! >= 0);
  assert.ok(eb.bandMetricError! < 1 && eb.centroidError! < 0.05);
  await denoiser.release();
});

// ---- the shipped U-Net against PyTorch's autograd ------------------------------

const UNET = process.env.UNET_MODEL ?? "models/unet.onnx";
const FIXTURE = process.env.UNET_JACOBIAN ?? "models/fixtures/unet-jacobian.json";

interface JacobianFixture {
  points: { x_t: number[]; timestep: number; label: number; h_dims: number[]; singular_values: number[]; right_singular_vectors: number[][] }[];
}

test("U-Net: finite-difference J = ∂h/∂x_t against PyTorch's autograd (top-10 σ and right singular vectors)", async () => {
  if (!existsSync(UNET) || !existsSync(FIXTURE)) {
    console.log(`  skipped: ${existsSync(UNET) ? FIXTURE : UNET} is not there yet`);
    return;
  }
  const { digitUnet } = await import("../src/sources/digit_unet.ts");
  const denoiser = await digitUnet({ model: UNET, backend: "wasm" });
  const engine = onnxJacobian(denoiser, { method: "full" });
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as JacobianFixture;
  for (const p of fixture.points) {
    const t0 = performance.now();
    const got = await engine.basis(Float32Array.from(p.x_t), { t: p.timestep, alphaBar: NaN }, p.label === 10 ? -1 : p.label, 10);
    const ms = performance.now() - t0;
    const want = Float64Array.from(p.right_singular_vectors.flat());
    let sigmaErr = 0;
    for (let i = 0; i < 10; i++) sigmaErr = Math.max(sigmaErr, Math.abs(got.values[i] - p.singular_values[i]) / p.singular_values[i]);
    const distance = normalizedGrassmannDistance(got.vectors!, 10, want, 10, N);
    // Vector by vector, where σ is separated from its neighbours by 2%.
    const cos: string[] = [];
    let worstCos = 1;
    for (let i = 0; i < 10; i++) {
      const s = p.singular_values;
      const gap = Math.min(i > 0 ? s[i - 1] - s[i] : Infinity, i < 9 ? s[i] - s[i + 1] : Infinity) / s[i];
      let c = 0;
      for (let j = 0; j < N; j++) c += got.vectors![i * N + j] * want[i * N + j];
      cos.push(Math.abs(c).toFixed(4));
      if (gap > 0.02) worstCos = Math.min(worstCos, Math.abs(c));
    }
    console.log(`  t ${p.timestep}, label ${p.label}: σ relative error ${sigmaErr.toExponential(2)}, top-10 subspace distance ${distance.toExponential(2)}, |cos| per vector ${cos.join(" ")} (${(ms / 1000).toFixed(1)} s, ${got.runs} runs)`);
    assert.ok(sigmaErr < 1e-3, `σ error ${sigmaErr}`);
    assert.ok(distance < 0.05, `subspace distance ${distance}`);
    assert.ok(worstCos > 0.99, `a well-separated vector is off: |cos| ${worstCos}`);
  }
  await denoiser.release();
});

test.run();
