/**
 * DDPM ancestral sampling (Ho et al. 2020), as diffusers' DDPMScheduler with
 * fewer steps than training timesteps: from t to t' (α = ᾱ/ᾱ', β = 1 − α)
 *   mean = √ᾱ'·β/(1−ᾱ)·x̂0 + √α·(1−ᾱ')/(1−ᾱ)·x_t,
 *   x_{t'} = mean + √((1−ᾱ')/(1−ᾱ)·β)·z     ("fixed small" variance).
 */
import { levelsAt, type Scheduler, spacedTimesteps, type SpacingOptions } from "./scheduler.ts";

export function ddpm(options: SpacingOptions = {}): Scheduler {
  return {
    name: options.timesteps && options.timesteps !== "trailing" ? `ddpm, ${options.timesteps}` : "ddpm",
    levels: (schedule, steps) => levelsAt(schedule, spacedTimesteps(schedule.alphaBar.length, steps, options)),
    step(xt, x0, _eps, from, to, rng) {
      const ab = from.alphaBar, abPrev = to.alphaBar;
      const alpha = ab / abPrev, beta = 1 - alpha;
      const cx0 = (Math.sqrt(abPrev) * beta) / (1 - ab);
      const cxt = (Math.sqrt(alpha) * (1 - abPrev)) / (1 - ab);
      const sd = Math.sqrt(((1 - abPrev) / (1 - ab)) * beta);
      for (let i = 0; i < xt.length; i++) xt[i] = cx0 * x0[i] + cxt * xt[i] + (sd > 0 ? sd * rng.normal() : 0);
    },
  };
}
