/**
 * Euler on Karras sigmas (Karras et al. 2022), as diffusers'
 * EulerDiscreteScheduler with use_karras_sigmas. In σ-space x_σ = x0 + σ·ε
 * (= x_t/√ᾱ with σ² = (1−ᾱ)/ᾱ), an Euler step along d = ε̂ is
 * x_σ' = x_σ + (σ' − σ)·ε̂. The ancestral variant (EulerAncestralDiscrete)
 * steps down to σ↓ and adds fresh noise σ↑·z, σ↑² = σ'²(σ² − σ'²)/σ², σ↓² = σ'² − σ↑².
 *
 * Sigmas: σ_i = (σmax^(1/ρ) + i/(n−1)·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ between the
 * schedule's smallest and largest σ; the model's timestep for σ interpolates
 * log σ between training timesteps, so it is fractional.
 */
import { OptionError } from "../../errors.ts";
import type { NoiseLevel } from "../denoiser.ts";
import type { NoiseSchedule } from "../schedule.ts";
import type { Scheduler } from "./scheduler.ts";

export interface EulerOptions {
  /** Karras ρ (default 7). */
  rho?: number;
  /** Ancestral sampling: fresh noise at every step (default false). */
  ancestral?: boolean;
}

export function euler(options: EulerOptions = {}): Scheduler {
  const rho = options.rho ?? 7;
  if (!(rho > 0) || !Number.isFinite(rho)) throw new OptionError("rho", `must be a finite number > 0, not ${rho}`);
  const ancestral = options.ancestral ?? false;
  return {
    name: ancestral ? "euler-ancestral" : "euler",
    levels: (schedule, steps) => karrasLevels(schedule, steps, rho),
    step(xt, _x0, eps, from, to, rng) {
      const sigma = sigmaOf(from.alphaBar), next = sigmaOf(to.alphaBar);
      const up = ancestral ? Math.min(next, Math.sqrt((next * next * (sigma * sigma - next * next)) / (sigma * sigma))) : 0;
      const down = Math.sqrt(next * next - up * up);
      const toSigma = 1 / Math.sqrt(from.alphaBar), fromSigma = Math.sqrt(to.alphaBar);
      for (let i = 0; i < xt.length; i++) {
        const x = xt[i] * toSigma + (down - sigma) * eps[i] + (up > 0 ? up * rng.normal() : 0);
        xt[i] = x * fromSigma;
      }
    },
  };
}

const sigmaOf = (alphaBar: number): number => Math.sqrt((1 - alphaBar) / alphaBar);

function karrasLevels(schedule: NoiseSchedule, steps: number, rho: number): NoiseLevel[] {
  const T = schedule.alphaBar.length;
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError("steps", `must be a positive integer, not ${steps}`);
  const logSigma = Float64Array.from(schedule.alphaBar, (ab) => Math.log(sigmaOf(ab)));
  const lo = Math.exp(logSigma[0]) ** (1 / rho), hi = Math.exp(logSigma[T - 1]) ** (1 / rho);
  const levels: NoiseLevel[] = [];
  for (let i = 0; i < steps; i++) {
    const sigma = (hi + (steps === 1 ? 0 : i / (steps - 1)) * (lo - hi)) ** rho;
    levels.push({ t: timestepOf(Math.log(sigma), logSigma), alphaBar: 1 / (1 + sigma * sigma) });
  }
  levels.push({ t: -1, alphaBar: 1 });
  return levels;
}

/** The fractional training timestep whose log σ is `s` (log σ increases with t). */
function timestepOf(s: number, logSigma: Float64Array): number {
  const T = logSigma.length;
  if (s <= logSigma[0]) return 0;
  if (s >= logSigma[T - 1]) return T - 1;
  let a = 0, b = T - 1;
  while (b - a > 1) {
    const m = (a + b) >> 1;
    if (logSigma[m] <= s) a = m;
    else b = m;
  }
  return a + (s - logSigma[a]) / (logSigma[b] - logSigma[a]);
}
