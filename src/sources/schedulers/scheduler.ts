/**
 * The scheduler plugin interface: which noise levels a sampler visits and
 * how it moves x_t from one to the next given the denoiser's x̂0 and ε̂.
 * Built-ins: DDIM (η = 0 deterministic), DDPM (ancestral) and Euler on
 * Karras sigmas, after their diffusers namesakes.
 */
import type { Random } from "../../util/random.ts";
import type { NoiseLevel } from "../denoiser.ts";
import { ddimTimesteps, type ExponentialStage, exponentialTimesteps, type NoiseSchedule } from "../schedule.ts";

export interface Scheduler {
  readonly name: string;
  /**
   * The levels a sampling run of `steps` denoiser calls visits, noisiest
   * first, followed by the clean level (t = −1, ᾱ = 1): steps + 1 entries.
   */
  levels(schedule: NoiseSchedule, steps: number): NoiseLevel[];
  /**
   * Moves x_t (variance-preserving, in place) from level `from` to the next
   * level `to`, given the predictions x̂0 and ε̂ at `from`. Stochastic
   * schedulers draw their noise from `rng`.
   */
  step(xt: Float32Array, x0: Float32Array, eps: Float32Array, from: NoiseLevel, to: NoiseLevel, rng: Random): void;
}

/** The levels at the given training timesteps, then the clean level. */
export function levelsAt(schedule: NoiseSchedule, timesteps: Int32Array): NoiseLevel[] {
  const out: NoiseLevel[] = Array.from(timesteps, (t) => ({ t, alphaBar: schedule.alphaBar[t] }));
  out.push({ t: -1, alphaBar: 1 });
  return out;
}

/** Which training timesteps a sampling run visits (DDIM and DDPM). */
export interface SpacingOptions {
  /**
   * "trailing" (default): evenly spaced, as ddimTimesteps; "early" or
   * "late": the exponential schedules of the visual-analysis work
   * (exponentialTimesteps), dense near the noisy or the clean end.
   */
  timesteps?: "trailing" | ExponentialStage;
  /** λ of the exponential schedules (default 30). */
  lambda?: number;
}

/** The timesteps `options` asks for, `steps` of them from a T-step schedule, descending. */
export function spacedTimesteps(T: number, steps: number, options: SpacingOptions = {}): Int32Array {
  const spacing = options.timesteps ?? "trailing";
  return spacing === "trailing" ? ddimTimesteps(T, steps) : exponentialTimesteps(T, steps, spacing, options.lambda);
}
