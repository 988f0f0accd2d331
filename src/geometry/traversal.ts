/**
 * Traversal edits (Park et al. 2023, §3.3): at step s of a generation, move
 * x_t along a basis vector, x_t' = x_t + γ·v_i, and denoise on to the end
 * with the same denoiser, scheduler and guidance. The run re-samples every
 * instance from the same seed, so the originals are the generation the
 * sampler makes, and each edit is a new track (instance n, n+1, … after the
 * n originals) that branches from its original at step s: it has no rows
 * before s, and the same prompt. The branches are listed in the schema
 * metadata under `diffusion-life.branches` ({ instance, parent, step,
 * direction, gamma } each), and the tables flow through encoders and the
 * embedder like any generation.
 *
 * A branch draws the same scheduler noise as its parent (for DDPM or
 * ancestral Euler), so γ = 0 reproduces the parent exactly; the test checks
 * it bit for bit. The branches go to the denoiser in a batch of their own:
 * a denoiser whose output for a row depends on the other rows of its batch
 * would break that equality (none of the library's do).
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import { stepTable, type StepTable } from "../data/step_table.ts";
import { type Denoiser, fromPrediction } from "../sources/denoiser.ts";
import { planSampler, type SamplerOptions } from "../sources/sampler.ts";
import type { StepSource } from "../sources/source.ts";
import { random, resumeRandom } from "../util/random.ts";
import type { BasisEngine } from "./local_basis.ts";

export const BRANCHES_KEY = "diffusion-life.branches";

export interface TraversalEdit {
  /** The instance edited, numbered as the sampler numbers them (prompt by prompt). */
  instance: number;
  /** The step whose x_t moves (0 = noisiest). */
  step: number;
  /** v: the index i of a basis vector v_i at that x_t (needs `engine`), or a direction of dim values on the denoiser's scale. */
  direction: number | ArrayLike<number>;
  /** x_t + γ·v. */
  gamma: number;
}

export interface TraversalOptions extends SamplerOptions {
  edits: readonly TraversalEdit[];
  /** Finds the basis vectors of index-valued directions (closedFormJacobian, onnxJacobian). */
  engine?: BasisEngine;
}

export interface Branch {
  instance: number;
  parent: number;
  step: number;
  /** The basis index, or −1 for a direction given as values. */
  direction: number;
  gamma: number;
}

/** Samples with `denoiser` and the edits' branches, yielding one step table per step (originals and branches). */
export function traverse(denoiser: Denoiser, options: TraversalOptions): StepSource {
  const plan = planSampler(options);
  const { dim } = denoiser;
  const n = plan.prompts.length * plan.instancesPerPrompt;
  const steps = plan.levels.length - 1;
  const edits = options.edits ?? [];
  edits.forEach((e, i) => {
    if (!Number.isInteger(e.instance) || e.instance < 0 || e.instance >= n) throw new OptionError("edits", `edit ${i}: instance ${e.instance} is not one of 0..${n - 1}`);
    if (!Number.isInteger(e.step) || e.step < 0 || e.step >= steps) throw new OptionError("edits", `edit ${i}: step ${e.step} is not one of 0..${steps - 1}`);
    if (!Number.isFinite(e.gamma)) throw new OptionError("edits", `edit ${i}: gamma must be finite, not ${e.gamma}`);
    if (typeof e.direction === "number") {
      if (!Number.isInteger(e.direction) || e.direction < 0) throw new OptionError("edits", `edit ${i}: direction ${e.direction} is not a basis index`);
      if (!options.engine) throw new OptionError("engine", `edit ${i} names basis vector ${e.direction}; pass an engine to find it`);
      if (options.engine.dim !== dim) throw new OptionError("engine", `works on ${options.engine.dim} values, the denoiser on ${dim}`);
    } else if (e.direction.length !== dim) {
      throw new OptionError("edits", `edit ${i}: a direction of ${e.direction.length} values, not ${dim}`);
    }
  });
  const branches: Branch[] = edits.map((e, b) => ({
    instance: n + b, parent: e.instance, step: e.step, direction: typeof e.direction === "number" ? e.direction : -1, gamma: e.gamma,
  }));
  return run(denoiser, plan, edits, branches, options.engine);
}

async function* run(
  denoiser: Denoiser,
  plan: ReturnType<typeof planSampler>,
  edits: readonly TraversalEdit[],
  branches: Branch[],
  engine: BasisEngine | undefined,
): AsyncGenerator<StepTable> {
  const { dim } = denoiser;
  const shape = plan.imageShape ?? denoiser.shape ?? [1, 1, dim];
  if (shape[0] * shape[1] * shape[2] !== dim) throw new OptionError("imageShape", `[${shape}] does not hold the denoiser's ${dim} values`);
  const n = plan.prompts.length * plan.instancesPerPrompt;
  const prompt = Int32Array.from({ length: n }, (_, i) => Math.floor(i / plan.instancesPerPrompt));
  const condition = Int32Array.from(prompt, (p) => plan.prompts[p].condition);
  const labels = plan.prompts.map((p) => p.label);
  const { levels, scheduler, guidance } = plan;
  const [lo, hi] = plan.range ?? [0, 1];
  const rescale = (x: Float32Array) => (plan.range ? x.map((v) => (v - lo) / (hi - lo)) : x.slice());

  // The originals, exactly as runSampler has them.
  const rng = random(plan.seed);
  const xt = new Float32Array(n * dim);
  for (let i = 0; i < xt.length; i++) xt[i] = rng.normal();
  const x0 = new Float32Array(n * dim), eps = new Float32Array(n * dim);
  const original = batch(denoiser, condition, guidance);
  // The branches: their x_t, x̂0, ε̂, once started.
  const active: number[] = [];
  let bx = new Float32Array(0), bx0 = new Float32Array(0), beps = new Float32Array(0);
  const basisCache = new Map<string, Float64Array>();
  const scratch = { xt: new Float32Array(n * dim), x0: new Float32Array(n * dim), eps: new Float32Array(n * dim) };

  for (let s = 0; s + 1 < levels.length; s++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwIfAborted(plan.signal, "a traversal");
    const from = levels[s], to = levels[s + 1];
    await original(xt, from, x0, eps, plan.range);

    // Branches that start here: their parent's x_t plus γ·v.
    const starting = branches.filter((b) => b.step === s);
    if (starting.length) {
      const grown = new Float32Array((active.length + starting.length) * dim);
      grown.set(bx);
      for (const [j, b] of starting.entries()) {
        const edit = edits[b.instance - n];
        const parent = xt.subarray(b.parent * dim, (b.parent + 1) * dim);
        let v: ArrayLike<number>;
        if (typeof edit.direction === "number") {
          const key = `${b.parent}/${s}`;
          let basis = basisCache.get(key);
          const need = edit.direction + 1;
          if (!basis || basis.length < need * dim) {
            const found = await engine!.basis(parent, from, condition[b.parent], Math.max(need, basis ? basis.length / dim : 0));
            if (!found.vectors) throw new OptionError("engine", `"${engine!.name}" gives no right singular vectors to move x_t along`);
            basis = found.vectors;
            basisCache.set(key, basis);
          }
          v = basis.subarray(edit.direction * dim, (edit.direction + 1) * dim);
        } else {
          v = edit.direction;
        }
        const row = (active.length + j) * dim;
        for (let i = 0; i < dim; i++) grown[row + i] = parent[i] + b.gamma * v[i];
      }
      bx = grown;
      active.push(...starting.map((b) => b.instance - n));
      bx0 = new Float32Array(active.length * dim);
      beps = new Float32Array(active.length * dim);
    }
    if (active.length) {
      const branchCondition = Int32Array.from(active, (b) => condition[branches[b].parent]);
      await batch(denoiser, branchCondition, guidance)(bx, from, bx0, beps, plan.range);
    }

    const m = n + active.length;
    const rows = (a: Float32Array, b: Float32Array) => {
      const out = new Float32Array(m * dim);
      out.set(a);
      out.set(b, n * dim);
      return out;
    };
    const table = stepTable({
      instance: Int32Array.from({ length: m }, (_, r) => (r < n ? r : branches[active[r - n]].instance)),
      prompt: Int32Array.from({ length: m }, (_, r) => prompt[r < n ? r : branches[active[r - n]].parent]),
      prompts: labels,
      step: new Int32Array(m).fill(s),
      timestep: new Float32Array(m).fill(from.t),
      image: rescale(rows(x0, bx0)),
      imageShape: shape,
      noisy: plan.noisy ? rescale(rows(xt, bx)) : undefined,
    });
    table.schema.metadata.set(BRANCHES_KEY, JSON.stringify(branches));

    // Step the originals; each branch draws its parent's noise: the scheduler
    // runs on a copy of the originals with the branch in its parent's row.
    const state = active.length ? rng.save() : undefined;
    if (active.length) {
      scratch.xt.set(xt);
      scratch.x0.set(x0);
      scratch.eps.set(eps);
    }
    scheduler.step(xt, x0, eps, from, to, rng);
    for (const [j, b] of active.entries()) {
      const p = branches[b].parent * dim, o = j * dim;
      const sx = scratch.xt.slice(), sx0 = scratch.x0.slice(), se = scratch.eps.slice();
      sx.set(bx.subarray(o, o + dim), p);
      sx0.set(bx0.subarray(o, o + dim), p);
      se.set(beps.subarray(o, o + dim), p);
      scheduler.step(sx, sx0, se, from, to, resumeRandom(state!));
      bx.set(sx.subarray(p, p + dim), o);
    }
    yield table;
  }
}

/**
 * One denoising pass over rows with their conditions, as runSampler does it:
 * guided rows run again unconditionally in the same call and are mixed;
 * x̂0 is clipped to `range` and ε̂ re-derived from it.
 */
function batch(denoiser: Denoiser, condition: Int32Array, guidance: number) {
  const { dim } = denoiser;
  const n = condition.length;
  const guided = guidance === 1 ? [] : [...condition.keys()].filter((r) => condition[r] !== -1);
  const rows = n + guided.length;
  const batchCondition = new Int32Array(rows);
  batchCondition.set(condition);
  batchCondition.fill(-1, n);
  const batchX = guided.length ? new Float32Array(rows * dim) : undefined;
  const output = new Float32Array(rows * dim);
  return async (xt: Float32Array, from: { t: number; alphaBar: number }, x0: Float32Array, eps: Float32Array, range?: readonly [number, number]) => {
    if (batchX) {
      batchX.set(xt);
      guided.forEach((r, k) => batchX.set(xt.subarray(r * dim, (r + 1) * dim), (n + k) * dim));
    }
    await denoiser.predict(batchX ?? xt, from, batchCondition, output);
    guided.forEach((r, k) => {
      for (let i = r * dim, u = (n + k) * dim, end = i + dim; i < end; i++, u++) {
        output[i] = output[u] + guidance * (output[i] - output[u]);
      }
    });
    fromPrediction(denoiser.prediction, output.subarray(0, n * dim), xt, from.alphaBar, x0, eps);
    if (range) {
      const [lo, hi] = range;
      for (let i = 0; i < x0.length; i++) x0[i] = x0[i] < lo ? lo : x0[i] > hi ? hi : x0[i];
      fromPrediction("x0", x0, xt, from.alphaBar, x0, eps);
    }
  };
}

/** The branches a traversal's step table lists (empty for a plain generation). */
export function readBranches(table: StepTable): Branch[] {
  const raw = table.schema.metadata.get(BRANCHES_KEY);
  return raw ? (JSON.parse(raw) as Branch[]) : [];
}
