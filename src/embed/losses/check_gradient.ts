/**
 * The gradient checker: the tool for writing a Loss. It compares a loss's
 * analytic gradient with central finite differences of its value on a small
 * random embedding state in a given layout.
 */
import { perplexityAffinity } from "../affinity/perplexity.ts";
import type { Layout } from "../../layouts/layout.ts";
import { random, type Random } from "../../util/random.ts";
import { linkSteps, type StepState, stepState } from "../state/state.ts";
import type { Loss, LossContext } from "./loss.ts";

export interface CheckGradientOptions {
  /** Steps in the state (default 3). */
  steps?: number;
  /** Points per step (default 10; the last step lacks one instance). */
  points?: number;
  /** Dimension of the random features the affinities are computed from (default 5). */
  dim?: number;
  /** Where in the schedule the loss is evaluated (default 0.8). */
  progress?: number;
  /** How far points lie off their lanes, in units of the lane scale (default 0.2). */
  spread?: number;
  /** Finite-difference step, in units of the lane scale (default 1e-6). */
  h?: number;
  /** Throws when `maxRelativeError` exceeds it (default 1e-4; Infinity: never). */
  tolerance?: number;
  seed?: number;
}

export interface GradientCheck {
  /** The largest |analytic − numeric| over all coordinates, relative to `scale`. */
  maxRelativeError: number;
  maxAbsoluteError: number;
  /** The largest |numeric| component of the gradient. */
  scale: number;
  /** The coordinate with the largest error. */
  worst: { step: number; point: number; axis: number; analytic: number; numeric: number };
  /** Coordinates compared. */
  coordinates: number;
  /** Whether `gradient` left a held (inactive) step's gradient at 0. */
  inactiveUntouched: boolean;
}

/**
 * Builds a small random embedding state — `steps` steps of `points` points
 * placed in the layout's lanes at random free coordinates (an instance's
 * drifting a little from step to step), rows shuffled per step, P from
 * `perplexityAffinity` on random features — and compares the loss's
 * `gradient` (exaggeration 1) with central finite differences of its
 * `value`. It also runs `gradient` with the middle step held, which must
 * leave that step's gradient at 0. Throws an Error saying where and by how
 * much when the relative error exceeds the tolerance, when a held step's
 * gradient was touched, or when the value does not change with the points
 * (the check would prove nothing).
 *
 * @example
 * const { maxRelativeError } = await checkGradient(myLoss, rectilinear());
 */
export async function checkGradient(loss: Loss, layout: Layout, options: CheckGradientOptions = {}): Promise<GradientCheck> {
  const T = options.steps ?? 3, n = options.points ?? 10, dim = options.dim ?? 5;
  const tolerance = options.tolerance ?? 1e-4, progress = options.progress ?? 0.8;
  const rng = random(options.seed ?? 0);
  const fitted = layout.fit(n);
  const steps = randomSteps(fitted, T, n, dim, options.spread ?? 0.2, rng);
  const context = (active: Uint8Array): LossContext => ({ steps, active, layout: fitted, progress, exaggeration: 1 });

  const analytic = await gradientOf(loss, context(new Uint8Array(T).fill(1)));
  const all = context(new Uint8Array(T).fill(1));
  const h = (options.h ?? 1e-6) * fitted.scale;
  let maxAbsoluteError = 0, scale = 0, coordinates = 0;
  let worst: GradientCheck["worst"] = { step: -1, point: -1, axis: -1, analytic: 0, numeric: 0 };
  steps.forEach((s, k) => {
    for (let c = 0; c < s.y.length; c++) {
      const keep = s.y[c];
      s.y[c] = keep + h;
      const up = loss.value(all);
      s.y[c] = keep - h;
      const down = loss.value(all);
      s.y[c] = keep;
      const numeric = (up - down) / (2 * h), error = Math.abs(numeric - analytic[k][c]);
      coordinates++;
      scale = Math.max(scale, Math.abs(numeric));
      if (!(error <= maxAbsoluteError)) {
        maxAbsoluteError = error;
        worst = { step: s.step, point: c >> 1, axis: c & 1, analytic: analytic[k][c], numeric };
      }
    }
  });

  const held = Math.floor(T / 2), active = new Uint8Array(T).fill(1);
  active[held] = 0;
  const inactiveUntouched = (await gradientOf(loss, context(active)))[held].every((g) => g === 0);

  const maxRelativeError = scale > 0 ? maxAbsoluteError / scale : maxAbsoluteError === 0 ? 0 : Infinity;
  const result = { maxRelativeError, maxAbsoluteError, scale, worst, coordinates, inactiveUntouched };
  if (tolerance < Infinity) {
    const where = `loss "${loss.name}" in the ${fitted.name} layout`;
    if (scale === 0) throw new Error(`checkGradient: ${where}: value(ctx) does not change with the points, so the check proves nothing`);
    if (!(maxRelativeError <= tolerance)) {
      throw new Error(
        `checkGradient: ${where}: relative gradient error ${maxRelativeError.toExponential(2)} > ${tolerance}; ` +
          `worst at step ${worst.step}, point ${worst.point}, ${worst.axis === 0 ? "x" : "y"}: ` +
          `gradient ${worst.analytic}, finite differences ${worst.numeric}`,
      );
    }
    if (!inactiveUntouched) throw new Error(`checkGradient: ${where}: gradient() changed the gradient of a held (inactive) step`);
  }
  return result;
}

/** Each step's gradient from one call of the loss (as an optimisation run makes it), the steps' gradients left at 0. */
async function gradientOf(loss: Loss, ctx: LossContext): Promise<Float64Array[]> {
  for (const s of ctx.steps) s.grad.fill(0);
  await loss.prepare?.(ctx);
  try {
    loss.begin?.(ctx);
    await loss.gradient(ctx);
  } finally {
    await loss.finish?.();
  }
  const out = ctx.steps.map((s) => Float64Array.from(s.grad));
  for (const s of ctx.steps) s.grad.fill(0);
  return out;
}

/** T linked steps of n instances (the last lacks one), shuffled rows, points near their lanes, P from random features. */
function randomSteps(layout: Layout, T: number, n: number, dim: number, spread: number, rng: Random): StepState[] {
  const affinity = perplexityAffinity({ neighbors: "exact", threads: 1 });
  const base = Float64Array.from({ length: n }, () => 4 * (rng.next() - 0.5));
  const centre = [Float64Array.from({ length: dim }, () => 3 * rng.normal()), Float64Array.from({ length: dim }, () => 3 * rng.normal())];
  const point = new Float64Array(2);
  const steps: StepState[] = [];
  for (let t = 0; t < T; t++) {
    const ids = Array.from({ length: t === T - 1 && T > 1 ? n - 1 : n }, (_, i) => i);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const m = ids.length, instance = Int32Array.from(ids), prompt = Int32Array.from(ids, (id) => id % 2);
    const features = Float32Array.from({ length: m * dim }, (_, e) => centre[prompt[Math.floor(e / dim)]][e % dim] + rng.normal());
    const y = new Float64Array(2 * m);
    for (let i = 0; i < m; i++) {
      layout.place(t, base[instance[i]] + 0.3 * rng.normal(), spread * layout.scale * rng.normal(), point);
      y[2 * i] = point[0];
      y[2 * i + 1] = point[1];
    }
    const s = stepState({ step: t, n: m, instance, prompt, features, dim, P: affinity.compute(features, m, dim), y });
    if (t > 0) linkSteps(steps[t - 1], s);
    steps.push(s);
  }
  affinity.dispose?.();
  return steps;
}
