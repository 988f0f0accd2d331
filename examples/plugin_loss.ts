/**
 * A worked Loss plugin (docs/plugins.md): track smoothness. The alignment
 * loss keeps an instance's free coordinate f from changing between
 * consecutive steps; this one keeps the *change* from changing. It penalises
 * the second difference d = f(t) − 2·f(t+1) + f(t+2) of every instance's
 * track, so a branch bends over several steps instead of kinking at one:
 * 1 − cos d where the free coordinate is an angle, d²/2 otherwise (the two
 * agree for small d, as in the alignment loss), averaged over the middle
 * step's points.
 *
 *   embedSteps(table, { losses: [semantic(), displacement(), alignment(), smoothness({ weight: 4 })] })
 *
 * It is written against the public Loss contract only, and tested in
 * test/plugin_loss_example.test.ts (checkGradient in both built-in layouts,
 * and smoother tracks in a real embedding).
 */
import { type Loss, type LossContext, type Weight, weightAt } from "../mod.ts";

export interface SmoothnessOptions {
  /** Constant, or a function of the optimisation's progress (default 1). */
  weight?: Weight;
}

export function smoothness(options: SmoothnessOptions = {}): Loss {
  const weight = options.weight ?? 1;
  const ga = new Float64Array(2), gb = new Float64Array(2), gc = new Float64Array(2);

  /**
   * Visits every track through three consecutive steps t, t+1, t+2 (rows
   * i, j, k, linked by `next`; −1 where an instance is missing) with its
   * second difference d; the free coordinates' gradients are in ga, gb, gc.
   * With `moving`, triples whose three steps are all held are skipped.
   */
  function tracks(ctx: LossContext, moving: boolean, visit: (d: number, t: number, i: number, j: number, k: number) => void): void {
    const { steps, layout, active } = ctx;
    for (let t = 0; t + 2 < steps.length; t++) {
      if (moving && !active[t] && !active[t + 1] && !active[t + 2]) continue;
      const a = steps[t], b = steps[t + 1], c = steps[t + 2];
      for (let i = 0; i < a.n; i++) {
        const j = a.next[i], k = j < 0 ? -1 : b.next[j];
        if (k < 0) continue;
        const fa = layout.free(a.y[2 * i], a.y[2 * i + 1], ga);
        const fb = layout.free(b.y[2 * j], b.y[2 * j + 1], gb);
        const fc = layout.free(c.y[2 * k], c.y[2 * k + 1], gc);
        visit(fa - 2 * fb + fc, t, i, j, k);
      }
    }
  }

  return {
    name: "smoothness",
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress), { steps, active, layout } = ctx;
      // Adds ∂L/∂d · ∂d/∂f · ∂f/∂y to a point, if its step is being optimised.
      const add = (s: number, row: number, g: Float64Array, dd: number) => {
        if (!active[s]) return;
        steps[s].grad[2 * row] += dd * g[0];
        steps[s].grad[2 * row + 1] += dd * g[1];
      };
      tracks(ctx, true, (d, t, i, j, k) => {
        const h = (w / steps[t + 1].n) * (layout.circular ? Math.sin(d) : d);
        add(t, i, ga, h);
        add(t + 1, j, gb, -2 * h);
        add(t + 2, k, gc, h);
      });
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress), circular = ctx.layout.circular;
      let total = 0;
      tracks(ctx, false, (d, t) => (total += (w / ctx.steps[t + 1].n) * (circular ? 1 - Math.cos(d) : (d * d) / 2)));
      return total;
    },
  };
}
