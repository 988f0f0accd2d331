/**
 * Instance-alignment loss: the same instance at consecutive steps should
 * share its free coordinate f. Radial: 1 − cos(Δf) (Δf an angle);
 * rectilinear: Δf²/2 (f = y / scale); the two agree for small Δf, so one
 * weight means the same in both. Unlike the reference, both ends of every
 * pair are pulled, so no step is privileged. Averaged over instances, so
 * the weight is on the scale of the per-step KL (the default 1 plays the
 * role of the reference's 0.05 on its unaveraged sum).
 */
import type { Layout } from "../../layouts/layout.ts";
import type { StepState } from "../state/state.ts";
import { type Loss, type LossContext, type Weight, weightAt } from "./loss.ts";
import { cos, sin } from "../../util/portable_math.ts";

export interface AlignmentOptions {
  weight?: Weight;
}

export function alignment(options: AlignmentOptions = {}): Loss {
  const weight = options.weight ?? 1;
  const ga = new Float64Array(2), gb = new Float64Array(2);
  // Each step's free coordinates and their gradients, computed once per call
  // (a step is the later end of one pair and the earlier end of the next);
  // an inactive step does not move during a run (prepare … finish), so its are kept for the run.
  const scratch = [freeBuffer(0), freeBuffer(0)];
  let fixed: Map<StepState, FreeBuffer> | undefined;
  /** Step k's free coordinates: kept if it is inactive, else computed into a scratch buffer other than `busy`. */
  const freeAt = (ctx: LossContext, k: number, busy?: FreeBuffer): FreeBuffer => {
    const s = ctx.steps[k];
    if (fixed && !ctx.active[k]) return fixed.get(s) ?? fixed.set(s, freeOf(ctx.layout, s, freeBuffer(s.n))).get(s)!;
    const slot = scratch[0] === busy ? 1 : 0;
    return (scratch[slot] = freeOf(ctx.layout, s, scratch[slot]));
  };
  return {
    name: "alignment",
    prepare() {
      fixed = new Map();
      return Promise.resolve();
    },
    finish() {
      fixed = undefined;
      return Promise.resolve();
    },
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress), circular = ctx.layout.circular;
      let previous = scratch[0], known = -1; // the step whose coordinates `previous` holds
      for (let k = 0; k + 1 < ctx.steps.length; k++) {
        const a = ctx.steps[k], b = ctx.steps[k + 1];
        const activeA = ctx.active[k], activeB = ctx.active[k + 1];
        if (!activeA && !activeB) continue;
        const here = known === k ? previous : freeAt(ctx, k);
        const there = freeAt(ctx, k + 1, here);
        const scale = w / a.n;
        for (let i = 0; i < a.n; i++) {
          const j = a.next[i];
          if (j < 0) continue;
          const d = here.f[i] - there.f[j];
          const h = scale * (circular ? sin(d) : d);
          if (activeA) {
            a.grad[2 * i] += h * here.g[2 * i];
            a.grad[2 * i + 1] += h * here.g[2 * i + 1];
          }
          if (activeB) {
            b.grad[2 * j] -= h * there.g[2 * j];
            b.grad[2 * j + 1] -= h * there.g[2 * j + 1];
          }
        }
        previous = there;
        known = k + 1;
      }
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress), circular = ctx.layout.circular;
      let total = 0;
      for (let k = 0; k + 1 < ctx.steps.length; k++) {
        const a = ctx.steps[k], b = ctx.steps[k + 1];
        for (let i = 0; i < a.n; i++) {
          const j = a.next[i];
          if (j < 0) continue;
          const d = ctx.layout.free(a.y[2 * i], a.y[2 * i + 1], ga) - ctx.layout.free(b.y[2 * j], b.y[2 * j + 1], gb);
          total += (w / a.n) * (circular ? 1 - cos(d) : (d * d) / 2);
        }
      }
      return total;
    },
  };
}

interface FreeBuffer {
  /** Free coordinate of each point. */
  f: Float64Array;
  /** Its gradient, n×2. */
  g: Float64Array;
}

function freeBuffer(n: number): FreeBuffer {
  return { f: new Float64Array(n), g: new Float64Array(2 * n) };
}

/** Fills (growing if needed) a buffer with a step's free coordinates. */
function freeOf(layout: Layout, s: StepState, into: FreeBuffer): FreeBuffer {
  const buffer = into.f.length < s.n ? freeBuffer(s.n) : into;
  const g = new Float64Array(2);
  for (let i = 0; i < s.n; i++) {
    buffer.f[i] = layout.free(s.y[2 * i], s.y[2 * i + 1], g);
    buffer.g[2 * i] = g[0];
    buffer.g[2 * i + 1] = g[1];
  }
  return buffer;
}
