/**
 * Semantic loss: t-SNE's KL(P_t ‖ Q_t) within each step, which groups
 * semantically similar instances of that step.
 */
import { type Kernel, studentT } from "../kernel.ts";
import { type Loss, type Weight, weightAt } from "./loss.ts";

export interface SemanticOptions {
  kernel?: Kernel;
  weight?: Weight;
}

export function semantic(options: SemanticOptions = {}): Loss {
  const kernel = options.kernel ?? studentT();
  const weight = options.weight ?? 1;
  return {
    name: "semantic",
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress);
      ctx.steps.forEach((s, i) => {
        if (ctx.active[i]) kernel.klGradient(s.y, s.P, ctx.exaggeration, w, s.grad);
      });
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress);
      return ctx.steps.reduce((sum, s) => sum + w * kernel.kl(s.y, s.P), 0);
    },
  };
}
