/**
 * Displacement loss: a Gaussian well −N(r; r_t, σ) on the lane coordinate r
 * keeps every point of step t in step t's lane. σ narrows as the
 * optimisation proceeds (by default 20 → 15 → 10 → 8 at 50%, 62.5% and 75%),
 * so points first settle semantically and are then drawn into their lane.
 * r and σ are measured in units where the layout's lane scale is 20 (the
 * reference's ring radius), so the schedule fits a lane of any scale.
 * Averaged over a step's points, so the weight does not depend on n; the
 * default weight (16) holds points within about a tenth of the lane scale.
 *
 * Beyond σ the well continues as a straight slope (its steepest pull):
 * a pure Gaussian lets go of a point that t-SNE's repulsion has pushed a few
 * σ out, and it never comes back; with the slope it always does.
 */
import { type Loss, stepSchedule, type Weight, weightAt } from "./loss.ts";
import { exp } from "../../util/portable_math.ts";

export interface DisplacementOptions {
  weight?: Weight;
  /** σ of the well, constant or by progress. */
  sigma?: Weight;
}

export const defaultSigma: (progress: number) => number = stepSchedule([[0, 20], [0.5, 15], [0.625, 10], [0.75, 8]]);

const SQRT_2PI = Math.sqrt(2 * Math.PI);
/** The reference's ring radius: r and σ are measured in units where the lane scale is 20. */
const REFERENCE_SCALE = 20;

/** The well at offset u (reference units): −N(u; 0, σ) inside ±σ, its tangent outside. */
function well(u: number, sd: number): number {
  const a = Math.abs(u), peak = 1 / (sd * SQRT_2PI);
  if (a <= sd) return -peak * exp(-(u * u) / (2 * sd * sd));
  const edge = peak * exp(-0.5);
  return -edge + (edge / sd) * (a - sd);
}

/** d well / du. */
function slope(u: number, sd: number): number {
  const peak = 1 / (sd * SQRT_2PI);
  if (Math.abs(u) <= sd) return ((u / (sd * sd)) * peak) * exp(-(u * u) / (2 * sd * sd));
  return (Math.sign(u) * peak * exp(-0.5)) / sd;
}

export function displacement(options: DisplacementOptions = {}): Loss {
  const weight = options.weight ?? 16;
  const sigma = options.sigma ?? defaultSigma;
  const g = new Float64Array(2);
  return {
    name: "displacement",
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress), sd = weightAt(sigma, ctx.progress);
      ctx.steps.forEach((s, k) => {
        if (!ctx.active[k]) return;
        const { layout } = ctx, { y, grad, n } = s;
        const c = layout.laneCenter(s.step), unit = REFERENCE_SCALE / layout.scale, scale = (w * unit) / n;
        // Arrays and the layout are taken out of their objects before the loop: Node 20's V8 reloads
        // them on every pass otherwise, which made this loop twice as slow there.
        for (let i = 0; i < n; i++) {
          const u = (layout.lane(y[2 * i], y[2 * i + 1], g) - c) * unit;
          const dr = scale * slope(u, sd);
          grad[2 * i] += dr * g[0];
          grad[2 * i + 1] += dr * g[1];
        }
      });
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress), sd = weightAt(sigma, ctx.progress);
      let total = 0;
      for (const s of ctx.steps) {
        const c = ctx.layout.laneCenter(s.step), unit = REFERENCE_SCALE / ctx.layout.scale;
        for (let i = 0; i < s.n; i++) total += (w / s.n) * well((ctx.layout.lane(s.y[2 * i], s.y[2 * i + 1], g) - c) * unit, sd);
      }
      return total;
    },
  };
}
