/**
 * Explanations over the steps (issue 17), as JSON lines, for the closed
 * form and, when models/unet.onnx exists, the U-Net, side by side:
 *
 * - cost: DF-RISE masks per second (one x_t, conditional and unconditional,
 *   batches of 50), per runtime (main.ts names it on every line);
 * - commitment: per prompt, the distribution of commitment steps (digit
 *   encoder logits on x̂0), and per step the accuracy of the current class;
 * - bias: the unconditional prompt's final classes against the digits'
 *   class frequencies, χ² and its p-value — on the prompts' instances and on
 *   a run of EXPLAIN_BIAS_INSTANCES (default 200) unconditional instances
 *   alone, where the χ² approximation holds (expected counts near 20);
 * - saliency: per step, the mean insertion and deletion AUC of the DF-RISE
 *   order against a random order (2 random orders per row);
 * - live (the first source): what `watch --explain` adds per step — `commit`
 *   (classify, update the commitment) and one step's concepts on 64-d digit
 *   features — and per hover (the session's facts with the level), in ms.
 *
 * Size: EXPLAIN_PROMPTS (default "any,0,1,3,7"), EXPLAIN_INSTANCES (20 per
 * prompt), EXPLAIN_STEPS (20), EXPLAIN_MASKS (500), EXPLAIN_SALIENCY_INSTANCES
 * (1 per prompt), EXPLAIN_SALIENCY_STEPS ("0,4,8,12,16,19"), EXPLAIN_GUIDANCE
 * (2: classifier-free guidance, as the U-Net is sampled elsewhere; every
 * masked x_t then costs a conditional and an unconditional pass). With
 * EXPLAIN_FIGURES=<folder> it also writes auc.svg (both sources on one
 * chart) and commitment-<source>.svg, and .png beside each. Progress goes to
 * stderr; SIGINT cancels the saliency part of the source in progress.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import {
  CancelledError,
  classBias,
  closedFormDenoiser,
  collectSteps,
  commit,
  commitment,
  concepts,
  conditionsOf,
  type Denoiser,
  type Encoder,
  encodeTable,
  explainSaliency,
  inputOf,
  planSampler,
  readStepTable,
  renderAucSvg,
  renderCommitmentSvg,
  riseSaliency,
  type SaliencyAtStep,
  sampleDiffusion,
  type SamplerOptions,
  type StepTable,
  tablesPerStep,
} from "../mod.ts";
import { ViewerSession } from "../viewer.ts";
import { from, lastValueFrom } from "rxjs";
import { digitEncoder, digitUnet } from "../onnx.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistPrompt, mnistPromptLabel } from "../mnist.ts";
import { type BenchCase, round } from "./bench.ts";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const UNET = env("UNET_MODEL", "models/unet.onnx");

export const explainCase: BenchCase = {
  name: "explain",
  async *run() {
    const prompts: MnistPrompt[] = env("EXPLAIN_PROMPTS", "any,0,1,3,7").split(",").map((p) => (p === "any" ? "any" : Number(p)));
    const steps = Number(env("EXPLAIN_STEPS", "20"));
    const sampler: SamplerOptions = {
      prompts: prompts.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p })),
      instancesPerPrompt: Number(env("EXPLAIN_INSTANCES", "20")), steps, seed: 1, range: [-1, 1], imageShape: MNIST_SHAPE,
      guidance: Number(env("EXPLAIN_GUIDANCE", "2")),
    };
    const digits = await loadMnist();
    const counts = new Array(10).fill(0);
    for (const l of digits.labels) counts[l]++;
    const sources: [string, () => Promise<Denoiser>][] = [["closed-form", async () => closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM })]];
    if (existsSync(UNET)) sources.push(["unet", () => digitUnet({ model: UNET, backend: "wasm" })]);
    else yield { measure: "note", source: "unet", note: `${UNET} is not there: U-Net lines skipped` };
    const classifier = await digitEncoder({ output: "logits" });
    const controller = new AbortController();
    process.once("SIGINT", () => controller.abort());
    const figuresDir = process.env.EXPLAIN_FIGURES;
    const figures: Record<string, string> = {};
    const aucs: Record<string, readonly SaliencyAtStep[]> = {};

    for (const [source, make] of sources) {
      const denoiser = await make();
      const table = await collectSteps(sampleDiffusion(denoiser, sampler));
      const cols = readStepTable(table, { image: true });
      const provenance = { condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, guidance: sampler.guidance };

      // Cost: masks per second on one x_t at the middle step, conditional and unconditional.
      for (const prompt of [sampler.prompts.find((p) => p.condition !== -1), sampler.prompts.find((p) => p.condition === -1)]) {
        if (!prompt) continue;
        const r = [...cols.instance.keys()].find((i) => cols.step[i] === Math.floor(steps / 2) && cols.prompts[cols.prompt[i]] === prompt.label)!;
        const masks = 200;
        const rise = await riseSaliency(denoiser, inputOf(cols, r, provenance), MNIST_SHAPE, { masks, guidance: sampler.guidance });
        yield { measure: "cost", source, prompt: prompt.label, guidance: sampler.guidance, masks, ms: Math.round(rise.ms), masksPerSecond: Math.round(masks / (rise.ms / 1000)) };
      }

      if (source === sources[0][0]) yield { measure: "live", source, ...await liveCost(table, classifier) };
      const c = await commitment(table, { classifier });
      figures[`commitment-${source}.svg`] = renderCommitmentSvg(c, { title: `When do generations commit? (${source}, guidance ${sampler.guidance})` });
      for (const d of c.distributions) {
        yield { measure: "commitment", source, prompt: d.prompt || "all", instances: d.counts.reduce((a, b) => a + b, 0), mean: round(d.mean, 2), median: d.median, counts: Array.from(d.counts) };
      }
      yield { measure: "accuracy", source, perStep: c.perStep.filter((p) => p.prompt === "").map((p) => round(p.accuracy, 3)), committed: c.perStep.filter((p) => p.prompt === "").map((p) => round(p.committed, 3)) };
      const biasInstances = Number(env("EXPLAIN_BIAS_INSTANCES", "200"));
      const unconditional = biasInstances > 0 ? await commitment(await collectSteps(sampleDiffusion(denoiser, { ...sampler, prompts: [{ label: "any digit", condition: -1 }], instancesPerPrompt: biasInstances, seed: 2 })), { classifier }) : undefined;
      for (const [run, cc] of [["prompts", prompts.includes("any") ? c : undefined], ["unconditional", unconditional]] as const) {
        if (!cc) continue;
        const b = classBias(cc, "any digit", counts);
        yield { measure: "bias", source, run, prompt: b.prompt, instances: b.instances, counts: Array.from(b.counts), dataFrequencies: Array.from(b.dataFrequencies, (v) => round(v, 4)), chiSquare: round(b.chiSquare, 2), df: b.df, p: Number(b.p.toPrecision(3)), sparse: b.sparse };
      }

      const perPrompt = Number(env("EXPLAIN_SALIENCY_INSTANCES", "1"));
      const chosen = sampler.prompts.flatMap((_, p) => Array.from({ length: perPrompt }, (_, i) => p * sampler.instancesPerPrompt! + i));
      const saliencySteps = env("EXPLAIN_SALIENCY_STEPS", "0,4,8,12,16,19").split(",").map(Number).filter((s) => s < steps);
      let last = 0;
      const t0 = performance.now();
      try {
        const s = await explainSaliency(table, {
          ...provenance, denoiser, masks: Number(env("EXPLAIN_MASKS", "500")), instances: chosen, steps: saliencySteps,
          insertion: { randomOrders: 2 }, signal: controller.signal,
          onProgress: (done, total) => {
            if (performance.now() - last > 5000) (last = performance.now()), process.stderr.write(`explain ${source}: ${(100 * done / total).toFixed(0)}%\n`);
          },
        });
        aucs[source === "unet" ? "U-Net" : "closed form"] = s.perStep;
        for (const p of s.perStep) {
          yield {
            measure: "saliency", source, step: p.step, rows: p.rows,
            insertionAuc: round(p.insertionAuc, 3), randomInsertionAuc: round(p.randomInsertionAuc, 3),
            deletionAuc: round(p.deletionAuc, 3), randomDeletionAuc: round(p.randomDeletionAuc, 3),
          };
        }
        yield { measure: "saliency-total", source, rows: s.rows.length, masks: Number(env("EXPLAIN_MASKS", "500")), seconds: round((performance.now() - t0) / 1000, 1), masksPerSecond: Math.round(s.masksPerSecond) };
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        yield { measure: "note", source, note: "saliency cancelled" };
      }
      if ("release" in denoiser) await (denoiser as { release(): Promise<void> }).release();
    }
    if (figuresDir) {
      if (Object.keys(aucs).length > 0) {
        figures["auc.svg"] = renderAucSvg(aucs, { title: `Insertion and deletion in DF-RISE order (solid) and random order (dashed), guidance ${sampler.guidance}` });
      }
      const { pngAssets, svgToPng } = await import("../png.ts");
      const assets = await pngAssets();
      await mkdir(figuresDir, { recursive: true });
      for (const [name, svg] of Object.entries(figures)) {
        await writeFile(`${figuresDir}/${name}`, svg);
        await writeFile(`${figuresDir}/${name.replace(/\.svg$/, ".png")}`, await svgToPng(svg, assets, { scale: 1.5 }));
      }
      yield { measure: "figures", folder: figuresDir, files: Object.keys(figures) };
    }
  },
};

/** Per step, what runLive's `explain` adds, and a hover's facts; means in ms. */
async function liveCost(table: StepTable, classifier: Encoder) {
  const steps = tablesPerStep(table);
  let t = performance.now();
  await lastValueFrom(from(steps).pipe(commit({ classifier })));
  const commitMs = (performance.now() - t) / steps.length;
  const features = tablesPerStep(await encodeTable(table, await digitEncoder({ output: "embedding" })));
  t = performance.now();
  const session = new ViewerSession();
  const baseline = readStepTable(features[0]).prompts.includes("any digit") ? "any digit" : undefined;
  for (const step of features) session.addConcepts(concepts(step, { baseline }));
  const conceptMs = (performance.now() - t) / steps.length;
  for (const step of steps) session.addSteps(step);
  const cols = readStepTable(steps[Math.floor(steps.length / 2)]);
  t = performance.now();
  for (let r = 0; r < cols.instance.length; r++) session.explanation(cols.instance[r], cols.step[r]);
  return { rowsPerStep: cols.instance.length, commitMsPerStep: round(commitMs, 1), conceptMsPerStep: round(conceptMs, 1), hoverMs: round((performance.now() - t) / cols.instance.length, 2) };
}
