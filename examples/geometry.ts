/**
 * The geometry of the latent space over the steps (issue 16): generate,
 * compute the local latent basis at every (instance, step), read it
 * (spectral centroid, Grassmann distances within and across prompts and
 * conditional vs unconditional) and write the tables, the findings and the
 * figures.
 *
 *   node --import tsx examples/geometry.ts [--source closed-form|unet] [--instances 20] [--steps 20]
 *        [--prompts any,0,1,3,7] [--method full|sketch|bands] [--scheme central|forward] [--k 10]
 *        [--out out/geometry/closed-form]
 *   (deno run -A examples/geometry.ts …, bun examples/geometry.ts …)
 *
 * Writes <out>/steps.arrow, geometry.arrow, distances.arrow, summary.json
 * (findings per step and the Spearman correlations), basis.svg (the basis
 * of the first instance of each prompt, by step), readings.svg, and
 * traversal.svg (x̂0 at the last step after x_t + γ·v_i at one step).
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import { tableToIPC } from "apache-arrow";
import {
  type BasisEngine,
  closedFormDenoiser,
  closedFormJacobian,
  collectSteps,
  conditionsOf,
  type Denoiser,
  distanceTable,
  geometryTable,
  renderBasisSvg,
  renderReadingsSvg,
  renderTraversalSvg,
  sampleDiffusion,
  type SamplerOptions,
  spearman,
  stepGeometry,
  traverse,
} from "../mod.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistPrompt, mnistPromptLabel } from "../mnist.ts";
import { digitUnet, type JacobianMethod, onnxJacobian } from "../onnx.ts";

declare const Deno: { args: string[] } | undefined;
const argv = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const source = arg("source", "closed-form");
const instances = Number(arg("instances", "20"));
const stepsCount = Number(arg("steps", "20"));
const k = Number(arg("k", "10"));
const method = arg("method", "full") as JacobianMethod;
const prompts: MnistPrompt[] = arg("prompts", "any,0,1,3,7").split(",").map((p) => (p === "any" ? "any" : Number(p)));
const OUT = arg("out", `out/geometry/${source === "unet" ? `unet-${method}` : "closed-form"}`);
const started = performance.now();
const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(1).padStart(7)}s] ${line}`);
await mkdir(OUT, { recursive: true });

let denoiser: Denoiser, engine: BasisEngine;
if (source === "unet") {
  const unet = await digitUnet({ model: arg("model", "models/unet.onnx"), backend: "wasm" });
  denoiser = unet;
  engine = onnxJacobian(unet, { method, scheme: arg("scheme", "central") as "central" | "forward", batchRows: Number(arg("batch-rows", "512")) });
} else {
  const digits = await loadMnist();
  const cf = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
  denoiser = cf;
  engine = closedFormJacobian(cf);
}
const sampler: SamplerOptions = {
  prompts: prompts.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p })),
  instancesPerPrompt: instances,
  steps: stepsCount,
  seed: Number(arg("seed", "1")),
  range: [-1, 1],
  imageShape: MNIST_SHAPE,
};

log(`${source}: ${prompts.length} prompts × ${instances} instances × ${stepsCount} steps, basis k = ${k} by ${engine.name}`);
const steps = await collectSteps(sampleDiffusion(denoiser, sampler));
await writeFile(`${OUT}/steps.arrow`, tableToIPC(steps, "file"));
let last = 0;
const t0 = performance.now();
const result = await stepGeometry(steps, {
  engine, k, condition: conditionsOf(sampler.prompts),
  progress: (done, total) => {
    if (done - last >= Math.max(1, Math.floor(total / 20)) || done === total) {
      last = done;
      log(`basis ${done}/${total} (${((performance.now() - t0) / done / 1000).toFixed(2)} s per basis)`);
    }
  },
});
const perBasis = (performance.now() - t0) / result.rows.reduce((s, r) => s + (Number.isNaN(r.conditionalDistance) ? 1 : 2), 0);
await writeFile(`${OUT}/geometry.arrow`, tableToIPC(geometryTable(result.rows, { vectors: source !== "unet" || method === "full", shape: MNIST_SHAPE }), "file"));
await writeFile(`${OUT}/distances.arrow`, tableToIPC(distanceTable(result.distances), "file"));

const live = result.rows.filter((r) => r.rank > 0);
const findings = {
  source: engine.name,
  prompts: sampler.prompts.map((p) => p.label),
  instancesPerPrompt: instances,
  steps: stepsCount,
  k,
  msPerBasis: Math.round(perBasis),
  spearmanStepCentroid: {
    rows: spearman(live.map((r) => r.step), live.map((r) => r.meanCentroid)),
    stepMeans: spearman(result.summary.map((s) => s.step), result.summary.map((s) => s.meanCentroid)),
    bandMetricRows: spearman(live.map((r) => r.step), live.map((r) => r.bandCentroid)),
  },
  perStep: result.summary,
};
await writeFile(`${OUT}/summary.json`, JSON.stringify(findings, null, 2));
console.log(JSON.stringify({ ...findings, perStep: undefined }));
console.log("step  t     ESS     degenerate centroid  band-c  within  across  cond-vs-uncond  σ1");
for (const s of result.summary) {
  const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "—").padStart(7);
  console.log(`${String(s.step).padStart(4)}  ${String(s.timestep).padStart(4)} ${f(s.meanEss, 1)} ${String(s.degenerate).padStart(9)}  ${f(s.meanCentroid)}  ${f(s.meanBandCentroid)} ${f(s.within)} ${f(s.across)} ${f(s.conditional)}        ${f(s.meanTopValue, 4)}`);
}

// Figures: the basis of the first instance of each prompt, and the readings.
const basisFigures: string[] = [];
for (const [p, label] of sampler.prompts.map((q) => q.label).entries()) {
  const first = p * instances;
  const rows = result.rows.filter((r) => r.instance === first).sort((a, b) => a.step - b.step);
  if (rows.some((r) => r.basis.vectors)) basisFigures.push(renderBasisSvg(rows, MNIST_SHAPE, { title: `${engine.name}: local basis of instance ${first} (${label}) by step`, k }));
}
for (const [i, svg] of basisFigures.entries()) await writeFile(`${OUT}/basis-${i}.svg`, svg);
await writeFile(`${OUT}/readings.svg`, renderReadingsSvg([{ name: engine.name, summary: result.summary }], { title: `${engine.name}: readings of the local basis per step` }));

// A traversal: the first conditional instance, at a quarter of the way, along v1..v3, γ ∈ {−4, −2, 2, 4}.
if (source !== "unet" || method === "full") {
  const parent = sampler.prompts.findIndex((p) => p.condition !== -1) * instances;
  const editStep = Math.max(0, Math.round(stepsCount / 4));
  const edits = [0, 1, 2].flatMap((direction) => [-4, -2, 0, 2, 4].map((gamma) => ({ instance: Math.max(0, parent), step: editStep, direction, gamma })));
  let final;
  for await (const t of traverse(denoiser, { ...sampler, edits, engine })) final = t;
  await writeFile(`${OUT}/traversal.svg`, renderTraversalSvg(final!, { title: `${engine.name}: x̂0 at the last step after x_t + γ·v_i at step ${editStep}` }));
}
log(`done: ${OUT}/{steps,geometry,distances}.arrow, summary.json, basis-*.svg, readings.svg, traversal.svg`);
