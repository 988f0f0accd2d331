/**
 * Explanations over the steps (issue 17): generate, then ask when each
 * generation commits to its class, how far each step has denoised, which
 * pixels of x_t each step relies on (DF-RISE, insertion/deletion against a
 * random order), which concepts are present, and what the unconditional
 * prompt favours (χ² against the digits' class frequencies).
 *
 *   node --import tsx examples/explain.ts [--source closed-form|unet] [--instances 20] [--steps 20]
 *        [--prompts any,0,1,3,7] [--guidance 2] [--masks 500] [--saliency-instances 2]
 *        [--saliency-steps 0,4,8,12,16,19] [--out out/explain/closed-form] [--png] [--model models/unet.onnx]
 *   (deno run -A examples/explain.ts …, bun examples/explain.ts …)
 *
 * Progress goes to stderr; Ctrl-C cancels the saliency part (and writes what
 * is done so far). Writes <out>/steps.arrow, commitment.arrow,
 * commitment-steps.arrow, level.arrow, concepts.arrow, probe.arrow,
 * saliency.arrow, summary.json and the figures commitment.svg, committed.svg
 * (the radial embedding, each point marked by whether its instance has
 * committed), tree.svg (the lineage tree, each node filled by the share of
 * its instances committed), level.svg, concepts.svg, saliency.svg, auc.svg (and .png with
 * --png).
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import { type Table, tableToIPC } from "apache-arrow";
import {
  CancelledError,
  radial,
  classBias,
  closedFormDenoiser,
  collectSteps,
  commitment,
  commitmentStepTable,
  commitmentTable,
  concepts,
  conceptTable,
  conditionsOf,
  type Denoiser,
  denoiserActivations,
  denoisingLevel,
  diversity,
  embedSteps,
  encodeTable,
  explainSaliency,
  levelTable,
  lineageTree,
  planSampler,
  probeTable,
  readStepTable,
  renderAucSvg,
  renderCommitmentSvg,
  renderCommittedFrameSvg,
  renderConceptSvg,
  renderLevelSvg,
  renderLineageSvg,
  renderSaliencySvg,
  type Saliencies,
  saliencyTable,
  sampleDiffusion,
  type SamplerOptions,
  type StepProbe,
  stepProbe,
  trajectories,
} from "../mod.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistPrompt, mnistPromptLabel } from "../mnist.ts";
import { digitEncoder, digitUnet, type OnnxDenoiser } from "../onnx.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const source = arg("source", "closed-form");
const out = arg("out", `out/explain/${source}`);
const prompts: MnistPrompt[] = arg("prompts", "any,0,1,3,7").split(",").map((p) => (p === "any" ? "any" : Number(p)));
const stepCount = Number(arg("steps", "20"));
const sampler: SamplerOptions = {
  prompts: prompts.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p })),
  instancesPerPrompt: Number(arg("instances", "20")), steps: stepCount, seed: 1, range: [-1, 1], imageShape: MNIST_SHAPE,
  guidance: Number(arg("guidance", "2")),
};
const saliencySteps = arg("saliency-steps", "0,4,8,12,16,19").split(",").map(Number).filter((s) => s < stepCount);
const perPrompt = Number(arg("saliency-instances", "2"));
const log = (line: string) => process.stderr.write(line + "\n");

const digits = await loadMnist();
const denoiser: Denoiser = source === "unet" ? await digitUnet({ backend: "wasm", model: arg("model", "models/unet.onnx") }) : closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
let t = performance.now();
const steps = await collectSteps(sampleDiffusion(denoiser, sampler));
log(`generated ${steps.numRows} rows in ${Math.round(performance.now() - t)} ms`);
const features = await encodeTable(steps, await digitEncoder({ output: "embedding" }));
const classifier = await digitEncoder({ output: "logits" });

// Commitment, level, concepts, bias, diversity, probes.
const c = await commitment(steps, { classifier });
const level = denoisingLevel(steps, { commitment: c });
const k = concepts(features, { baseline: "any digit", commitment: c });
const labelCounts = new Array(10).fill(0);
for (const l of digits.labels) labelCounts[l]++;
const bias = prompts.includes("any") ? [classBias(c, "any digit", labelCounts)] : [];
const traj = trajectories(readStepTable(features, { features: true }));
const finals = Int32Array.from(traj.instances, (i) => c.instances.find((x) => x.instance === i)!.finalClass);
const featureCols = readStepTable(features, { features: true });
const probes: Record<string, StepProbe[]> = { features: stepProbe(traj, { values: featureCols.features!, dim: featureCols.featureDim! }, finals) };
if (source === "unet") {
  t = performance.now();
  const h = await denoiserActivations(steps, denoiser as OnnxDenoiser, { condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels });
  probes.h = stepProbe(traj, h, finals);
  log(`h (${h.dim}-d) read in ${Math.round(performance.now() - t)} ms`);
}

// Saliency of the first `perPrompt` instances of each prompt at the chosen steps; Ctrl-C stops it.
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
const chosen = sampler.prompts.flatMap((_, p) => Array.from({ length: perPrompt }, (_, i) => p * sampler.instancesPerPrompt! + i));
let saliency: Saliencies | undefined;
t = performance.now();
try {
  let last = 0;
  saliency = await explainSaliency(steps, {
    denoiser, condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, guidance: sampler.guidance,
    masks: Number(arg("masks", "500")), steps: saliencySteps, instances: chosen, insertion: { randomOrders: 2 }, signal: controller.signal,
    onProgress: (done, total) => {
      if (performance.now() - last > 2000 || done === total) (last = performance.now()), log(`saliency ${(100 * done / total).toFixed(1)}% (${done}/${total} denoiser inputs)`);
    },
  });
  log(`saliency: ${saliency.rows.length} rows in ${Math.round(performance.now() - t)} ms, ${Math.round(saliency.masksPerSecond)} masks/s`);
} catch (error) {
  if (!(error instanceof CancelledError)) throw error;
  log("saliency cancelled");
}

await mkdir(out, { recursive: true });
const write = (name: string, table: Table) => writeFile(`${out}/${name}`, tableToIPC(table, "file"));
await write("steps.arrow", features);
await write("commitment.arrow", commitmentTable(c));
await write("commitment-steps.arrow", commitmentStepTable(c, bias));
await write("level.arrow", levelTable(level));
await write("concepts.arrow", conceptTable(k));
await write("probe.arrow", probeTable(probes));
const figures: Record<string, string> = {
  "commitment.svg": renderCommitmentSvg(c, { title: `When do generations commit? (${source})` }),
  "level.svg": renderLevelSvg(level, { title: `Denoising level (${source})` }),
  "committed.svg": renderCommittedFrameSvg((await embedSteps(features, { layout: radial(), iterations: 1000, seed: 0 })).frame, c, {
    title: `Committed (filled) or not yet (hollow), by final class (${source})`,
  }),
  "tree.svg": renderLineageSvg(lineageTree(features), { commitment: c, title: `Lineage tree, each node filled by the share of its instances committed (${source})` }),
  "concepts.svg": renderConceptSvg(concepts(features, { baseline: "any digit", commitment: c, direction: "final" }), { title: `Concept emergence along each concept's final direction, digit-encoder features (${source})` }),
};
if (saliency) {
  await write("saliency.arrow", saliencyTable(saliency));
  const cols = readStepTable(steps, { image: true });
  const finalsImg = new Map<number, Float32Array>();
  const lastStep = Math.max(...cols.step);
  for (let r = 0; r < cols.instance.length; r++) if (cols.step[r] === lastStep) finalsImg.set(cols.instance[r], cols.image!.subarray(r * MNIST_DIM, (r + 1) * MNIST_DIM));
  figures["saliency.svg"] = renderSaliencySvg(saliency, { title: `DF-RISE saliency over x_t (${source}, ${saliency.rows[0] ? Number(arg("masks", "500")) : 0} masks)`, finals: finalsImg });
  figures["auc.svg"] = renderAucSvg({ [source]: saliency.perStep });
}
for (const [name, svg] of Object.entries(figures)) await writeFile(`${out}/${name}`, svg);
if (args.includes("--png")) {
  const { pngAssets, svgToPng } = await import("../png.ts");
  const assets = await pngAssets();
  for (const [name, svg] of Object.entries(figures)) await writeFile(`${out}/${name.replace(/\.svg$/, ".png")}`, await svgToPng(svg, assets, { scale: 1.5 }));
}
const round = (x: number) => Math.round(x * 1000) / 1000;
const summary = {
  source, prompts: sampler.prompts.map((p) => p.label), instancesPerPrompt: sampler.instancesPerPrompt, steps: stepCount, guidance: sampler.guidance,
  commitment: c.distributions.map((d) => ({ prompt: d.prompt || "all", mean: round(d.mean), median: d.median, counts: Array.from(d.counts) })),
  accuracy: c.perStep.filter((p) => p.prompt === "").map((p) => round(p.accuracy)),
  bias: bias.map((b) => ({ prompt: b.prompt, counts: Array.from(b.counts), chiSquare: round(b.chiSquare), df: b.df, p: b.p, sparse: b.sparse })),
  diversity: diversity(features).map((d) => ({ ...d, diversity: round(d.diversity) })),
  probe: Object.fromEntries(Object.entries(probes).map(([name, list]) => [name, list.map((p) => round(p.accuracy))])),
  saliency: saliency?.perStep.map((s) => ({ step: s.step, insertion: round(s.insertionAuc), randomInsertion: round(s.randomInsertionAuc), deletion: round(s.deletionAuc), randomDeletion: round(s.randomDeletionAuc) })),
  masksPerSecond: saliency ? Math.round(saliency.masksPerSecond) : undefined,
};
await writeFile(`${out}/summary.json`, JSON.stringify(summary, null, 1));
console.log(JSON.stringify(summary));
if ("release" in denoiser) await (denoiser as OnnxDenoiser).release();
