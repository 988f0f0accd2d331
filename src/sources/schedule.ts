/**
 * Noise schedules and timestep selection, shared by every sampler.
 *
 * Convention (as in DDPM and diffusers): a schedule has T training timesteps
 * t = 0..T−1 and ᾱ_t = Π_{i≤t} (1 − β_i), so x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε.
 * ᾱ decreases with t; t = T−1 is the noisiest.
 */
import { OptionError } from "../errors.ts";

export interface NoiseSchedule {
  /** "cosine", "linear", "scaled-linear", or a name of the caller's choosing. */
  readonly name: string;
  /** ᾱ_t for t = 0..T−1, decreasing, in (0, 1]. */
  readonly alphaBar: Float64Array;
}

export type ScheduleName = "cosine" | "linear" | "scaled-linear";
export const SCHEDULE_NAMES: readonly ScheduleName[] = ["cosine", "linear", "scaled-linear"];

function checkT(T: number): void {
  if (!Number.isInteger(T) || T < 1) throw new OptionError("T", `must be a positive integer, not ${T}`);
}

function checkBetas(betaStart: number, betaEnd: number): void {
  for (const [name, b] of [["betaStart", betaStart], ["betaEnd", betaEnd]] as const) {
    if (!(b > 0 && b < 1)) throw new OptionError(name, `must lie in (0, 1), not ${b}`);
  }
}

function cumprod(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let p = 1;
  for (let t = 0; t < betas.length; t++) out[t] = p *= 1 - betas[t];
  return out;
}

/**
 * The cosine schedule (Nichol & Dhariwal 2021): f(τ) = cos²((τ + s)/(1 + s)·π/2),
 * β_t = min(1 − f((t+1)/T)/f(t/T), 0.999), ᾱ = cumprod(1 − β).
 */
export function cosineAlphaBar(T = 1000, s = 0.008): Float64Array {
  checkT(T);
  if (!(s >= 0) || !Number.isFinite(s)) throw new OptionError("s", `must be a finite number ≥ 0, not ${s}`);
  const f = (tau: number) => Math.cos(((tau + s) / (1 + s)) * Math.PI / 2) ** 2;
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f((t + 1) / T) / f(t / T), 0.999);
  return cumprod(betas);
}

/** The linear schedule of DDPM: β evenly spaced from betaStart to betaEnd. */
export function linearAlphaBar(T = 1000, betaStart = 1e-4, betaEnd = 0.02): Float64Array {
  checkT(T);
  checkBetas(betaStart, betaEnd);
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) betas[t] = T === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * t) / (T - 1);
  return cumprod(betas);
}

/**
 * The "scaled linear" schedule of Stable Diffusion: √β evenly spaced from
 * √betaStart to √betaEnd.
 */
export function scaledLinearAlphaBar(T = 1000, betaStart = 0.00085, betaEnd = 0.012): Float64Array {
  checkT(T);
  checkBetas(betaStart, betaEnd);
  const a = Math.sqrt(betaStart), b = Math.sqrt(betaEnd);
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) betas[t] = (T === 1 ? a : a + ((b - a) * t) / (T - 1)) ** 2;
  return cumprod(betas);
}

/** A named schedule with T training timesteps. */
export function noiseSchedule(name: ScheduleName = "cosine", T = 1000): NoiseSchedule {
  if (name === "cosine") return { name, alphaBar: cosineAlphaBar(T) };
  if (name === "linear") return { name, alphaBar: linearAlphaBar(T) };
  if (name === "scaled-linear") return { name, alphaBar: scaledLinearAlphaBar(T) };
  throw new OptionError("schedule", `must be one of ${SCHEDULE_NAMES.map((n) => JSON.stringify(n)).join(", ")}, not ${JSON.stringify(name)}`);
}

/**
 * `steps` timesteps of a T-step schedule, evenly spaced and descending, the
 * first being T−1 (the "trailing" spacing: t_i = round(T − i·T/steps) − 1).
 * For T = 1000, steps = 20: 999, 949, …, 49. After the last, a sampler steps
 * to the clean image (ᾱ = 1).
 */
export function ddimTimesteps(T: number, steps: number): Int32Array {
  checkT(T);
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new OptionError("steps", `must be an integer in 1..${T}, not ${steps}`);
  }
  const out = new Int32Array(steps);
  for (let i = 0; i < steps; i++) out[i] = Math.round(T - (i * T) / steps) - 1;
  return out;
}

/** Where the exponential timestep schedules put their steps densely: near t = T (early) or near t = 0 (late). */
export type ExponentialStage = "early" | "late";

/**
 * The exponential timestep schedules of the visual-analysis work
 * (ian-jihoonpark/X-Diffusion, `time_step_sampling`, for T = 1000): with
 * α = e^{ln T/(N+λ)} and N = steps,
 *   early: 999, then T − ⌊α^{i+1+λ}⌋ for i = 0..N−2 (dense near T: the
 *          semantic, early steps);
 *   late:  ⌊α^{i+1+λ}⌋ for i = 0..N−1, descending, T becoming T − 1 (dense
 *          near 0: the fine, late steps).
 * `steps` timesteps, descending (T − 1 stands for 999). λ (default 30, as
 * the code's notebook) sets how strongly they bunch: the larger λ, the
 * more evenly the steps are spread. As the original, two adjacent steps may
 * share a timestep when λ is small; a sampler then takes a zero-length step.
 */
export function exponentialTimesteps(T: number, steps: number, stage: ExponentialStage, lambda = 30): Int32Array {
  checkT(T);
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new OptionError("steps", `must be an integer in 1..${T}, not ${steps}`);
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new OptionError("lambda", `must be a finite number ≥ 0, not ${lambda}`);
  const alpha = Math.exp(Math.log(T) / (steps + lambda));
  const power = (i: number) => Math.floor(alpha ** (i + 1 + lambda));
  const out = new Int32Array(steps);
  if (stage === "early") {
    out[0] = T - 1;
    for (let i = 0; i + 1 < steps; i++) out[i + 1] = Math.min(T - 1, T - power(i));
  } else if (stage === "late") {
    for (let i = 0; i < steps; i++) out[steps - 1 - i] = Math.min(T - 1, power(i));
  } else {
    throw new OptionError("timesteps", `the exponential stage must be "early" or "late", not ${JSON.stringify(stage)}`);
  }
  return out;
}
