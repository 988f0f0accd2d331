/**
 * Semantic loss: t-SNE's KL(P_t ‖ Q_t) within each step, which groups
 * semantically similar instances of that step. Steps are independent here,
 * so large problems spread them over worker threads.
 */
import type { Kernel } from "../kernel/kernel.ts";
import { studentT } from "../kernel/student_t.ts";
import { isThreaded } from "../kernel/threaded.ts";
import { KlPool } from "./semantic_pool.ts";
import { hardwareThreads } from "../../runtime/threads.ts";
import { type Loss, type Weight, weightAt } from "./loss.ts";

export interface SemanticOptions {
  kernel?: Kernel;
  weight?: Weight;
  /**
   * Threads for the gradient: "auto" (default) uses every hardware thread
   * once an iteration holds enough work (≥ `parallelFrom` point pairs) to
   * pay for the synchronisation; 1 stays on the calling thread.
   */
  threads?: number | "auto";
  parallelFrom?: number;
}

export function semantic(options: SemanticOptions = {}): Loss {
  const kernel = options.kernel ?? studentT();
  const threaded = isThreaded(kernel) ? kernel : undefined;
  const weight = options.weight ?? 1;
  const parallelFrom = options.parallelFrom ?? 500_000;
  let pool: KlPool | undefined;
  let inRun = false;
  /** The pool, where an iteration of this many point pairs is shared out over threads. */
  const poolFor = async (pairs: number): Promise<KlPool | undefined> => {
    if (pairs < parallelFrom || threaded === undefined || typeof SharedArrayBuffer !== "function") return undefined;
    const threads = options.threads === "auto" || options.threads === undefined ? await hardwareThreads() : options.threads;
    return threads < 2 ? undefined : (pool ??= new KlPool(threads - 1, threaded));
  };
  return {
    name: "semantic",
    kernel,
    async ready(n) {
      await (await poolFor((n * n) / 2))?.start();
    },
    async prepare(ctx) {
      const active = ctx.steps.filter((_, i) => ctx.active[i]);
      const running = await poolFor(active.reduce((sum, s) => sum + (s.n * s.n) / 2, 0));
      inRun = running !== undefined;
      await running?.begin(active);
    },
    async finish() {
      if (inRun) await pool?.end();
      inRun = false;
    },
    dispose() {
      pool?.dispose();
      pool = undefined;
      kernel.dispose?.();
    },
    begin(ctx) {
      if (inRun) pool!.beginIteration(ctx.exaggeration, weightAt(weight, ctx.progress));
    },
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress);
      if (kernel.klGradientSteps) return kernel.klGradientSteps(ctx.steps.filter((_, i) => ctx.active[i]), ctx.exaggeration, w);
      if (inRun) return pool!.gradient(ctx.exaggeration, w);
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
