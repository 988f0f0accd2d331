/**
 * The generic diffusion sampler: any Denoiser, any Scheduler, any noise
 * schedule, with classifier-free guidance. Every denoising step yields one
 * step table with a row per instance: `step` (0 = noisiest), `timestep` (the
 * model's t at that step), `image` = x̂0 and `noisy` = the x_t the denoiser
 * saw (variance-preserving). Everything is reproducible from `seed`.
 *
 * Guidance with scale g runs the conditional rows once more unconditionally
 * (condition −1) in the same denoiser call and mixes the raw predictions,
 * p = p_uncond + g·(p_cond − p_uncond), as diffusers does; since every
 * parametrisation is affine in the prediction, this equals mixing x̂0.
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import { type ImageShape, type StepTable, stepTable } from "../data/step_table.ts";
import type { StepSource } from "./source.ts";
import { random } from "../util/random.ts";
import { type Denoiser, fromPrediction, type NoiseLevel } from "./denoiser.ts";
import { noiseSchedule, type NoiseSchedule, type ScheduleName } from "./schedule.ts";
import { ddim } from "./schedulers/ddim.ts";
import type { Scheduler } from "./schedulers/scheduler.ts";

export interface SamplerPrompt {
  /** The prompt's label in the step table. */
  label: string;
  /** The denoiser's conditioning index for it (−1 = unconditional). */
  condition: number;
}

export interface SamplerOptions {
  /** One entry per prompt; instances are numbered prompt by prompt. */
  prompts: SamplerPrompt[];
  /** Instances (seeds) per prompt (default 1). */
  instancesPerPrompt?: number;
  /** Denoiser calls (default 20). */
  steps?: number;
  /** Default DDIM with η = 0. */
  scheduler?: Scheduler;
  /** The training noise schedule: a name (1000 timesteps) or ᾱ itself (default "cosine"). */
  schedule?: ScheduleName | NoiseSchedule;
  /** Classifier-free guidance scale (default 1: conditional only, no extra pass). */
  guidance?: number;
  /**
   * The range of the model's clean data, e.g. [−1, 1]: x̂0 is clipped to it
   * (diffusers' clip_sample) and `image` and `noisy` are rescaled from it to
   * [0, 1]. Default: no clipping, values as the model gives them.
   */
  range?: readonly [number, number];
  /** [C, H, W] of the image (default the denoiser's shape, else [1, 1, dim]). */
  imageShape?: ImageShape;
  /** Also emit x_t as `noisy` (default true). */
  noisy?: boolean;
  /** Seed of the initial noise and of stochastic schedulers (default 0). */
  seed?: number;
  signal?: AbortSignal;
}

/** Options checked and defaults filled, ready to run against a denoiser. */
export interface SamplerPlan {
  prompts: SamplerPrompt[];
  instancesPerPrompt: number;
  scheduler: Scheduler;
  levels: NoiseLevel[];
  guidance: number;
  range?: readonly [number, number];
  imageShape?: ImageShape;
  noisy: boolean;
  seed: number;
  signal?: AbortSignal;
}

/** Checks the options (OptionError) without running anything. */
export function planSampler(options: SamplerOptions): SamplerPlan {
  const { prompts } = options;
  if (!Array.isArray(prompts) || prompts.length === 0) throw new OptionError("prompts", "must be a non-empty array");
  for (const p of prompts) {
    if (typeof p?.label !== "string" || !Number.isInteger(p.condition) || p.condition < -1) {
      throw new OptionError("prompts", `each prompt needs a string label and an integer condition ≥ −1, not ${JSON.stringify(p)}`);
    }
  }
  const instancesPerPrompt = options.instancesPerPrompt ?? 1;
  if (!Number.isInteger(instancesPerPrompt) || instancesPerPrompt < 1) {
    throw new OptionError("instancesPerPrompt", `must be a positive integer, not ${instancesPerPrompt}`);
  }
  const steps = options.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError("steps", `must be a positive integer, not ${steps}`);
  const scheduler = options.scheduler ?? ddim();
  const schedule = typeof options.schedule === "object" ? options.schedule : noiseSchedule(options.schedule ?? "cosine");
  const levels = scheduler.levels(schedule, steps);
  const guidance = options.guidance ?? 1;
  if (!(guidance >= 0) || !Number.isFinite(guidance)) throw new OptionError("guidance", `must be a finite number ≥ 0, not ${guidance}`);
  const { range } = options;
  if (range && !(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new OptionError("range", `must be [low, high] with low < high, not ${JSON.stringify(range)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new OptionError("seed", `must be an integer, not ${seed}`);
  return {
    prompts,
    instancesPerPrompt,
    scheduler,
    levels,
    guidance,
    range,
    imageShape: options.imageShape,
    noisy: options.noisy ?? true,
    seed,
    signal: options.signal,
  };
}

/**
 * Samples with `denoiser`, yielding one step table per denoising step.
 * Options are checked at the call (OptionError); an aborted signal stops it
 * between steps (CancelledError).
 */
export function sampleDiffusion(denoiser: Denoiser, options: SamplerOptions): StepSource {
  return runSampler(denoiser, planSampler(options));
}

/** Runs a checked plan. */
export async function* runSampler(denoiser: Denoiser, plan: SamplerPlan): AsyncGenerator<StepTable> {
  const { dim } = denoiser;
  const shape = plan.imageShape ?? denoiser.shape ?? [1, 1, dim];
  if (shape[0] * shape[1] * shape[2] !== dim) {
    throw new OptionError("imageShape", `[${shape}] does not hold the denoiser's ${dim} values`);
  }
  const n = plan.prompts.length * plan.instancesPerPrompt;
  const instance = Int32Array.from({ length: n }, (_, i) => i);
  const prompt = Int32Array.from({ length: n }, (_, i) => Math.floor(i / plan.instancesPerPrompt));
  const condition = Int32Array.from(prompt, (p) => plan.prompts[p].condition);
  const labels = plan.prompts.map((p) => p.label);

  // Guided rows run twice: conditional (rows 0..n−1), then unconditional.
  const guided = plan.guidance === 1 ? [] : [...condition.keys()].filter((r) => condition[r] !== -1);
  const rows = n + guided.length;
  const batchCondition = new Int32Array(rows);
  batchCondition.set(condition);
  batchCondition.fill(-1, n);
  const batchX = guided.length ? new Float32Array(rows * dim) : undefined;
  const output = new Float32Array(rows * dim);

  const rng = random(plan.seed);
  const xt = new Float32Array(n * dim);
  for (let i = 0; i < xt.length; i++) xt[i] = rng.normal();
  const x0 = new Float32Array(n * dim);
  const eps = new Float32Array(n * dim);
  const [lo, hi] = plan.range ?? [0, 1];
  const rescale = (x: Float32Array) => (plan.range ? x.map((v) => (v - lo) / (hi - lo)) : x.slice());

  const { levels, scheduler, guidance } = plan;
  for (let s = 0; s + 1 < levels.length; s++) {
    // A macrotask between steps, so an abort() from a timer or an event can land.
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwIfAborted(plan.signal, "diffusion sampling");
    const from = levels[s], to = levels[s + 1];

    if (batchX) {
      batchX.set(xt);
      guided.forEach((r, k) => batchX.set(xt.subarray(r * dim, (r + 1) * dim), (n + k) * dim));
    }
    // In slices of maxBatch rows, with a macrotask between them (see Denoiser.maxBatch).
    const input = batchX ?? xt, slice = denoiser.maxBatch && denoiser.maxBatch > 0 ? denoiser.maxBatch : rows;
    for (let r0 = 0; r0 < rows; r0 += slice) {
      const r1 = Math.min(rows, r0 + slice);
      if (r0 > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      await denoiser.predict(input.subarray(r0 * dim, r1 * dim), from, batchCondition.subarray(r0, r1), output.subarray(r0 * dim, r1 * dim));
    }
    guided.forEach((r, k) => {
      for (let i = r * dim, u = (n + k) * dim, end = i + dim; i < end; i++, u++) {
        output[i] = output[u] + guidance * (output[i] - output[u]);
      }
    });
    fromPrediction(denoiser.prediction, output.subarray(0, n * dim), xt, from.alphaBar, x0, eps);
    if (plan.range) {
      for (let i = 0; i < x0.length; i++) x0[i] = x0[i] < lo ? lo : x0[i] > hi ? hi : x0[i];
      fromPrediction("x0", x0, xt, from.alphaBar, x0, eps);
    }

    const table = stepTable({
      instance,
      prompt,
      prompts: labels,
      step: new Int32Array(n).fill(s),
      timestep: new Float32Array(n).fill(from.t),
      image: rescale(x0),
      imageShape: shape,
      noisy: plan.noisy ? rescale(xt) : undefined,
    });
    scheduler.step(xt, x0, eps, from, to, rng);
    yield table;
  }
}
