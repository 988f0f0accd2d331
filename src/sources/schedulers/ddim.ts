/**
 * DDIM (Song et al. 2021): x_{t'} = √ᾱ'·x̂0 + √(1 − ᾱ' − σ²)·ε̂ + σ·z with
 * σ = η·√((1−ᾱ')/(1−ᾱ))·√(1 − ᾱ/ᾱ'). η = 0 is deterministic; η = 1 has
 * DDPM's marginals. Timesteps evenly spaced ("trailing"), as ddimTimesteps, or
 * exponentially (`timesteps: "early" | "late"`, exponentialTimesteps).
 */
import { OptionError } from "../../errors.ts";
import { levelsAt, type Scheduler, spacedTimesteps, type SpacingOptions } from "./scheduler.ts";

export interface DdimOptions extends SpacingOptions {
  /** η (default 0). */
  eta?: number;
}

export function ddim(options: DdimOptions = {}): Scheduler {
  const eta = options.eta ?? 0;
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new OptionError("eta", `must be a finite number ≥ 0, not ${eta}`);
  const spacing = options.timesteps && options.timesteps !== "trailing" ? `, ${options.timesteps}` : "";
  return {
    name: (eta === 0 ? "ddim" : `ddim(η=${eta})`) + spacing,
    levels: (schedule, steps) => levelsAt(schedule, spacedTimesteps(schedule.alphaBar.length, steps, options)),
    step(xt, x0, eps, from, to, rng) {
      const ab = from.alphaBar, abPrev = to.alphaBar;
      const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
      const cx0 = Math.sqrt(abPrev), ceps = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
      for (let i = 0; i < xt.length; i++) {
        xt[i] = cx0 * x0[i] + ceps * eps[i] + (sigma > 0 ? sigma * rng.normal() : 0);
      }
    },
  };
}
