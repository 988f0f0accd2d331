/**
 * What the explanations ask of a denoiser: x̂0 for a batch of inputs at one
 * noise level and condition, with classifier-free guidance mixed as the
 * sampler mixes it and x̂0 clipped to the model's range as the sampler
 * clips it; and where a step table's rows came from (their x_t, level and
 * condition), to explain them.
 */
import { OptionError, SchemaError } from "../errors.ts";
import type { StepColumns } from "../data/step_table.ts";
import { type Denoiser, fromPrediction, type NoiseLevel } from "../sources/denoiser.ts";
import { noiseSchedule, type NoiseSchedule, type ScheduleName } from "../sources/schedule.ts";
import { levelAt } from "../geometry/readings.ts";

/** How a step table's rows were generated: enough to run the denoiser again on them. */
export interface Provenance {
  /** The denoiser's condition index for a prompt label (−1 = unconditional), e.g. conditionsOf(prompts). */
  condition: (prompt: string) => number;
  /** ᾱ and t per step, as the sampler visited them (planSampler(options).levels); else looked up from `timestep`. */
  levels?: readonly NoiseLevel[];
  /** The schedule to look ᾱ up in when `levels` is not given (default "cosine", 1000 steps). */
  schedule?: ScheduleName | NoiseSchedule;
  /** The model's clean range that `image` and `noisy` were rescaled from to [0, 1] (default [−1, 1], as mnistDiffusion). */
  range?: readonly [number, number];
  /** Classifier-free guidance scale the generation used (default 1). */
  guidance?: number;
}

/** One input to explain: x_t on the model's scale, its level and condition. */
export interface ExplainInput {
  xt: Float32Array;
  level: NoiseLevel;
  condition: number;
}

/** The input of row `r` of `cols` (which needs `noisy`). */
export function inputOf(cols: StepColumns, r: number, provenance: Provenance): ExplainInput {
  if (!cols.noisy || !cols.imageShape) throw new SchemaError("missing-column", `explaining a step needs "noisy" (the x_t of each row)`, { column: "noisy" });
  const [c, h, w] = cols.imageShape, dim = c * h * w;
  const [lo, hi] = provenance.range ?? [-1, 1];
  const xt = new Float32Array(dim);
  for (let i = 0; i < dim; i++) xt[i] = lo + (hi - lo) * cols.noisy[r * dim + i];
  const step = cols.step[r];
  let level = provenance.levels?.[step];
  if (!level) {
    const schedule = typeof provenance.schedule === "object" ? provenance.schedule : noiseSchedule(provenance.schedule ?? "cosine");
    if (!cols.timestep) throw new OptionError("levels", `step ${step} has no level: give the sampler's levels or a table with "timestep"`);
    level = levelAt(schedule, cols.timestep[r]);
  }
  return { xt, level, condition: provenance.condition(cols.prompts[cols.prompt[r]]) };
}

/**
 * x̂0 of `rows` inputs (rows×dim in xt) at `level` under `condition`, with
 * guidance g (p = p_uncond + g·(p_cond − p_uncond) for a conditional
 * input), clipped to `range` when given and then rescaled from it to
 * [0, 1] (`out`, rows×dim).
 */
export async function guidedX0(denoiser: Denoiser, xt: Float32Array, rows: number, level: NoiseLevel, condition: number, out: Float32Array, options: { guidance?: number; range?: readonly [number, number] } = {}): Promise<Float32Array> {
  const { dim } = denoiser;
  const guidance = options.guidance ?? 1;
  const guided = guidance !== 1 && condition !== -1;
  const batch = guided ? 2 * rows : rows;
  const input = guided ? new Float32Array(batch * dim) : xt.subarray(0, rows * dim);
  if (guided) {
    input.set(xt.subarray(0, rows * dim));
    input.set(xt.subarray(0, rows * dim), rows * dim);
  }
  const conditions = new Int32Array(batch).fill(condition);
  if (guided) conditions.fill(-1, rows);
  const prediction = new Float32Array(batch * dim);
  const slice = denoiser.maxBatch && denoiser.maxBatch > 0 ? denoiser.maxBatch : batch;
  for (let r0 = 0; r0 < batch; r0 += slice) {
    const r1 = Math.min(batch, r0 + slice);
    await denoiser.predict(input.subarray(r0 * dim, r1 * dim), level, conditions.subarray(r0, r1), prediction.subarray(r0 * dim, r1 * dim));
  }
  if (guided) {
    for (let i = 0, u = rows * dim; i < rows * dim; i++, u++) prediction[i] = prediction[u] + guidance * (prediction[i] - prediction[u]);
  }
  const x0 = out.subarray(0, rows * dim), eps = new Float32Array(rows * dim);
  fromPrediction(denoiser.prediction, prediction.subarray(0, rows * dim), xt.subarray(0, rows * dim), level.alphaBar, x0, eps);
  if (options.range) {
    const [lo, hi] = options.range;
    for (let i = 0; i < x0.length; i++) x0[i] = ((x0[i] < lo ? lo : x0[i] > hi ? hi : x0[i]) - lo) / (hi - lo);
  }
  return x0;
}
