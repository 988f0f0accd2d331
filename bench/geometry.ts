/**
 * The geometry of the latent space (issue 16), as JSON lines:
 *
 * - speed: the local basis (Jacobian + top-10 SVD) per point per step —
 *   analytic for the closed-form denoiser (over all 10,000 digits), and,
 *   when models/unet.onnx exists, by finite differences through the U-Net
 *   for each method (full 1568 runs, sketch 120, bands 256), with each
 *   sketch's error against the full Jacobian at the same points;
 * - findings: per step, the mean spectral centroid of the basis, the mean
 *   within-prompt and across-prompt Grassmann distance and the conditional-
 *   vs-unconditional distance, and the Spearman correlation between step
 *   and centroid: closed form, then the U-Net (bands method: centroid of the
 *   band metric, distances between tangent spaces in h).
 *
 * Size: GEOMETRY_PROMPTS (default "any,3,7"), GEOMETRY_INSTANCES (default 2),
 * GEOMETRY_STEPS (default 10), GEOMETRY_UNET_POINTS (default 3): about 5
 * minutes on a quiet 2-core machine, most of it the U-Net; GEOMETRY_FINDINGS=0 runs
 * the speed part alone. The README's tables are examples/geometry.ts at
 * larger sizes (see there).
 */
import { existsSync } from "node:fs";
import process from "node:process";
import {
  type BasisEngine,
  closedFormDenoiser,
  closedFormJacobian,
  collectSteps,
  conditionsOf,
  type Denoiser,
  ddimTimesteps,
  noiseSchedule,
  sampleDiffusion,
  type SamplerOptions,
  spearman,
  stepGeometry,
} from "../mod.ts";
import { compareToFull, digitUnet, onnxJacobian } from "../onnx.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistPrompt, mnistPromptLabel } from "../mnist.ts";
import { type BenchCase, round, timed } from "./bench.ts";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const UNET = env("UNET_MODEL", "models/unet.onnx");

export const geometryCase: BenchCase = {
  name: "geometry",
  async *run() {
    const prompts: MnistPrompt[] = env("GEOMETRY_PROMPTS", "any,3,7").split(",").map((p) => (p === "any" ? "any" : Number(p)));
    const instances = Number(env("GEOMETRY_INSTANCES", "2"));
    const steps = Number(env("GEOMETRY_STEPS", "10"));
    const sampler: SamplerOptions = {
      prompts: prompts.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p })),
      instancesPerPrompt: instances, steps, seed: 1, range: [-1, 1], imageShape: MNIST_SHAPE,
    };
    const digits = await loadMnist();
    const closedForm = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
    const cf = closedFormJacobian(closedForm);

    // Speed of the analytic basis along one trajectory, per step.
    const one = await collectSteps(sampleDiffusion(closedForm, { ...sampler, prompts: [{ label: "digit 3", condition: 3 }], instancesPerPrompt: 1 }));
    const noisy = one.getChild("noisy")!;
    const levels = ddimTimesteps(1000, steps);
    const schedule = noiseSchedule("cosine");
    for (const s of [0, Math.floor(steps / 4), Math.floor(steps / 2)]) {
      const xt = Float64Array.from(noisy.get(s)!.toArray() as Float32Array, (v) => 2 * v - 1);
      const level = { t: levels[s], alphaBar: schedule.alphaBar[levels[s]] };
      for (const condition of [3, -1]) {
        const [basis, ms] = await timed(() => cf.basis(xt, level, condition, 10));
        yield { measure: "speed", source: "closed-form", step: s, condition, ms: round(ms, 1), ess: round(basis.ess!, 1), topValue: round(basis.values[0], 4) };
      }
    }

    const withFindings = env("GEOMETRY_FINDINGS", "1") !== "0";
    if (withFindings) yield* findings("closed-form", closedForm, cf, sampler);

    if (!existsSync(UNET)) {
      yield { measure: "note", source: "unet", note: `${UNET} is not there: U-Net speed and findings skipped` };
      return;
    }
    const unet = await digitUnet({ model: UNET, backend: "wasm" });
    const engines = Object.fromEntries((["full", "sketch", "bands"] as const).map((m) => [m, onnxJacobian(unet, { method: m })]));
    const points = Number(env("GEOMETRY_UNET_POINTS", "3"));
    const traj = await collectSteps(sampleDiffusion(unet, { ...sampler, prompts: [{ label: "digit 3", condition: 3 }], instancesPerPrompt: 1 }));
    const unetNoisy = traj.getChild("noisy")!;
    for (let p = 0; p < points; p++) {
      const s = Math.round((p * (steps - 1)) / Math.max(1, points - 1));
      const xt = Float64Array.from(unetNoisy.get(s)!.toArray() as Float32Array, (v) => 2 * v - 1);
      const level = { t: levels[s], alphaBar: schedule.alphaBar[levels[s]] };
      const [full, fullMs] = await timed(() => engines.full.basis(xt, level, 3, 10));
      yield { measure: "speed", source: "unet", method: "full", step: s, runs: full.runs, ms: Math.round(fullMs), topValue: round(full.values[0], 4) };
      for (const m of ["sketch", "bands"] as const) {
        const [b, ms] = await timed(() => engines[m].basis(xt, level, 3, 10));
        const e = compareToFull(b, full);
        yield {
          measure: "speed", source: "unet", method: m, step: s, runs: b.runs, ms: Math.round(ms),
          tangentDistance: e.tangentDistance === undefined ? undefined : round(e.tangentDistance, 3),
          singularValueError: e.singularValueError === undefined ? undefined : round(e.singularValueError, 3),
          bandMetricError: e.bandMetricError === undefined ? undefined : round(e.bandMetricError, 3),
          centroidError: e.centroidError === undefined ? undefined : round(e.centroidError, 4),
        };
      }
    }
    if (withFindings) yield* findings("unet-bands", unet, engines.bands, sampler);
    await unet.release();
  },
};

async function* findings(source: string, denoiser: Denoiser, engine: BasisEngine, sampler: SamplerOptions) {
  const steps = await collectSteps(sampleDiffusion(denoiser, sampler));
  const [result, ms] = await timed(() => stepGeometry(steps, { engine, k: 10, condition: conditionsOf(sampler.prompts) }));
  const bases = result.rows.reduce((n, r) => n + (Number.isNaN(r.conditionalDistance) && r.prompt === "any digit" ? 1 : 2), 0);
  for (const s of result.summary) {
    yield {
      measure: "findings", source, step: s.step, timestep: s.timestep,
      meanCentroid: round(s.meanCentroid, 4), meanBandCentroid: round(s.meanBandCentroid, 4),
      within: round(s.within, 3), across: round(s.across, 3), conditional: round(s.conditional, 3),
      meanEss: round(s.meanEss, 1), degenerate: s.degenerate,
    };
  }
  const live = result.rows.filter((r) => r.rank > 0);
  yield {
    measure: "findings-summary", source,
    prompts: sampler.prompts.map((p) => p.label), instancesPerPrompt: sampler.instancesPerPrompt, steps: sampler.steps,
    spearmanStepCentroid: round(spearman(live.map((r) => r.step), live.map((r) => (Number.isNaN(r.meanCentroid) ? r.bandCentroid : r.meanCentroid))), 3),
    spearmanStepMeanCentroid: round(spearman(result.summary.map((s) => s.step), result.summary.map((s) => (Number.isNaN(s.meanCentroid) ? s.meanBandCentroid : s.meanCentroid))), 3),
    totalMs: Math.round(ms), msPerBasis: Math.round(ms / bases),
  };
}
