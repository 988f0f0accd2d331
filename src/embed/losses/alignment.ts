/**
 * Instance-alignment loss: the same instance at consecutive steps should
 * share its free coordinate f. Radial: 1 − cos(Δf) (Δf an angle);
 * rectilinear: Δf²/2 (f = y / scale); the two agree for small Δf, so one
 * weight means the same in both. Unlike the reference, both ends of every
 * pair are pulled, so no step is privileged. Averaged over instances, so
 * the weight is on the scale of the per-step KL (the default 1 plays the
 * role of the reference's 0.05 on its unaveraged sum). Where a circular
 * layout gives the free coordinate's direction (`freeDirection`), sin Δf
 * and cos Δf are the cross and dot products of the two unit vectors: no
 * angle is computed.
 */
import type { Layout } from "../../layouts/layout.ts";
import type { StepState } from "../state/state.ts";
import { type Loss, type LossContext, type Weight, weightAt } from "./loss.ts";
import { cos as cosine, sin } from "../../util/portable_math.ts";

export interface AlignmentOptions {
  weight?: Weight;
}

export function alignment(options: AlignmentOptions = {}): Loss {
  const weight = options.weight ?? 1;
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
        // Arrays are taken out of their objects before the loop (Node 20's V8 reloads them on every pass otherwise).
        const n = a.n, scale = w / n, hu = here.u, tu = there.u, hf = here.f, tf = there.f, hg = here.g, tg = there.g;
        const next = a.next, aGrad = a.grad, bGrad = b.grad;
        for (let i = 0; i < n; i++) {
          const j = next[i];
          if (j < 0) continue;
          // sin Δf as the cross product of the directions, where the layout gives them.
          const h = scale * (hu && tu ? hu[2 * i + 1] * tu[2 * j] - hu[2 * i] * tu[2 * j + 1] : circular ? sin(hf[i] - tf[j]) : hf[i] - tf[j]);
          if (activeA) {
            aGrad[2 * i] += h * hg[2 * i];
            aGrad[2 * i + 1] += h * hg[2 * i + 1];
          }
          if (activeB) {
            bGrad[2 * j] -= h * tg[2 * j];
            bGrad[2 * j + 1] -= h * tg[2 * j + 1];
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
        const a = ctx.steps[k], b = ctx.steps[k + 1], here = freeOf(ctx.layout, a, freeBuffer(a.n)), there = freeOf(ctx.layout, b, freeBuffer(b.n));
        const hu = here.u, tu = there.u;
        for (let i = 0; i < a.n; i++) {
          const j = a.next[i];
          if (j < 0) continue;
          const d = here.f[i] - there.f[j];
          const cos = hu && tu ? hu[2 * i] * tu[2 * j] + hu[2 * i + 1] * tu[2 * j + 1] : circular ? cosine(d) : 0;
          total += (w / a.n) * (circular ? 1 - cos : (d * d) / 2);
        }
      }
      return total;
    },
  };
}

interface FreeBuffer {
  /** Free coordinate of each point (unset where `u` is given). */
  f: Float64Array;
  /** Its gradient, n×2. */
  g: Float64Array;
  /** The unit vector (cos f, sin f) of each point, n×2, where the layout gives it (`freeDirection`). */
  u?: Float64Array;
}

function freeBuffer(n: number): FreeBuffer {
  return { f: new Float64Array(n), g: new Float64Array(2 * n) };
}

/** Fills (growing if needed) a buffer with a step's free coordinates, or their directions where the layout gives them. */
function freeOf(layout: Layout, s: StepState, into: FreeBuffer): FreeBuffer {
  const buffer = into.f.length < s.n ? freeBuffer(s.n) : into;
  const g = new Float64Array(2), u = new Float64Array(2);
  const { y, n } = s, { f, g: grad } = buffer;
  if (layout.circular && layout.freeDirection) {
    const dir = (buffer.u = buffer.u && buffer.u.length >= 2 * n ? buffer.u : new Float64Array(2 * f.length));
    for (let i = 0; i < n; i++) {
      layout.freeDirection(y[2 * i], y[2 * i + 1], g, u);
      grad[2 * i] = g[0];
      grad[2 * i + 1] = g[1];
      dir[2 * i] = u[0];
      dir[2 * i + 1] = u[1];
    }
    return buffer;
  }
  buffer.u = undefined;
  for (let i = 0; i < n; i++) {
    f[i] = layout.free(y[2 * i], y[2 * i + 1], g);
    grad[2 * i] = g[0];
    grad[2 * i + 1] = g[1];
  }
  return buffer;
}
