/**
 * Concept directions (after "Decoding Diffusion"): at every step, a
 * concept's direction is the mean of its generations' vectors (features, or
 * a denoiser's activations h) minus the mean of the unconditional
 * generations' (the baseline) at the same step. Every instance's projection
 * on every concept, per step,
 *   π = (v − μ_baseline)·d / ‖d‖²
 * is 0 at the baseline's mean and 1 at the concept's mean: averaged per
 * prompt, the concept-emergence curves. Where a direction is still
 * vanishing (‖d‖ below `minNorm` of its largest length over the steps, e.g.
 * at the first step, where all unconditional x̂0 are nearly the mean image),
 * the projections are NaN rather than noise divided by almost nothing.
 * With `direction: "final"`, every step is projected on the last step's
 * direction and baseline mean instead: how far each step already is along
 * the line its concept ends on (0 → 1 for the concept's own instances).
 * For a class concept, the curves also follow its members alone (prompt
 * label "any digit → class 3"). Concepts are the conditional
 * prompts and, given a Commitment, the final classes of the baseline's own
 * instances ("class 3": the unconditional generations that end as a 3).
 */
import { DimensionError, OptionError } from "../errors.ts";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import type { Commitment } from "./commitment.ts";
import { mean, trajectories, type Trajectories } from "./trajectories.ts";

export interface ConceptOptions {
  /** The vectors, rows×dim in table row order (default the `features` column). */
  vectors?: { values: Float32Array; dim: number };
  /** The unconditional prompt (default: the mean over all rows of the step). */
  baseline?: string;
  /** Adds a concept per final class of the baseline's instances (at least `minInstances`). */
  commitment?: Commitment;
  /** Fewest instances a class concept needs (default 2). */
  minInstances?: number;
  /** A direction shorter than this fraction of its longest (over the steps) projects to NaN (default 0.05). */
  minNorm?: number;
  /** Each step's own direction ("per-step", default) or the last step's for all ("final"). */
  direction?: "per-step" | "final";
}

export interface ConceptCurve {
  /** The prompt whose instances are averaged. */
  prompt: string;
  concept: string;
  step: number;
  /** Mean projection (0 baseline, 1 concept mean). */
  projection: number;
}

export interface Concepts {
  names: string[];
  steps: Int32Array;
  trajectories: Trajectories;
  /** projections[(i·T + s)·K + q]: instance i (trajectories order) at step s on concept q. */
  projections: Float32Array;
  /** ‖d‖ per step and concept: T×K. */
  norms: Float32Array;
  curves: ConceptCurve[];
}

export function concepts(steps: StepTable, options: ConceptOptions = {}): Concepts {
  const cols = readStepTable(steps, { features: !options.vectors });
  const traj = trajectories(cols);
  const { values, dim } = options.vectors ?? { values: cols.features!, dim: cols.featureDim! };
  if (values.length !== cols.instance.length * dim) throw new DimensionError(`vectors hold ${values.length} values, not ${cols.instance.length}×${dim}`);
  const { baseline } = options;
  if (baseline !== undefined && !traj.prompts.includes(baseline)) throw new OptionError("baseline", `no prompt ${JSON.stringify(baseline)} (the table has ${traj.prompts.map((p) => JSON.stringify(p)).join(", ")})`);
  const n = traj.instances.length, T = traj.steps.length;
  // Members of each concept: instance indices.
  const groups: { name: string; members: number[] }[] = traj.prompts.filter((p) => p !== baseline).map((p) => ({ name: p, members: [...Array(n).keys()].filter((i) => traj.prompt[i] === p) }));
  if (options.commitment && baseline !== undefined) {
    const final = new Map(options.commitment.instances.map((c) => [c.instance, c.finalClass]));
    const base = [...Array(n).keys()].filter((i) => traj.prompt[i] === baseline);
    const classes = [...new Set(base.map((i) => final.get(traj.instances[i])!))].filter((c) => c !== undefined).sort((a, b) => a - b);
    for (const c of classes) {
      const members = base.filter((i) => final.get(traj.instances[i]) === c);
      if (members.length >= (options.minInstances ?? 2)) groups.push({ name: `class ${options.commitment.classNames[c] ?? c}`, members });
    }
  }
  const K = groups.length;
  const baseMembers = baseline === undefined ? [...Array(n).keys()] : [...Array(n).keys()].filter((i) => traj.prompt[i] === baseline);
  const projections = new Float32Array(n * T * K).fill(NaN), norms = new Float32Array(T * K);
  const centroid = (members: number[], s: number) => {
    const m = new Float64Array(dim);
    for (const i of members) {
      const o = traj.rows[i * T + s] * dim;
      for (let k = 0; k < dim; k++) m[k] += values[o + k] / members.length;
    }
    return m;
  };
  const directions: Float64Array[] = [], means: Float64Array[] = [];
  for (let s = 0; s < T; s++) {
    const mu = centroid(baseMembers, s);
    means.push(mu);
    groups.forEach(({ members }, q) => {
      const d = centroid(members, s);
      let nn = 0;
      for (let k = 0; k < dim; k++) nn += (d[k] -= mu[k]) ** 2;
      norms[s * K + q] = Math.sqrt(nn);
      directions.push(d);
    });
  }
  const longest = Array.from({ length: K }, (_, q) => Math.max(...Array.from({ length: T }, (_, s) => norms[s * K + q])));
  const minNorm = options.minNorm ?? 0.05;
  const final = options.direction === "final";
  if (options.direction !== undefined && !final && options.direction !== "per-step") throw new OptionError("direction", `must be "per-step" or "final", not ${JSON.stringify(options.direction)}`);
  for (let s = 0; s < T; s++) {
    const at = final ? T - 1 : s, mu = means[at];
    groups.forEach((_, q) => {
      const d = directions[at * K + q], nn = norms[at * K + q] ** 2;
      if (!(nn > 0) || norms[at * K + q] < minNorm * longest[q]) return;
      for (let i = 0; i < n; i++) {
        const o = traj.rows[i * T + s] * dim;
        let p = 0;
        for (let k = 0; k < dim; k++) p += (values[o + k] - mu[k]) * d[k];
        projections[(i * T + s) * K + q] = p / nn;
      }
    });
  }
  const curves: ConceptCurve[] = [];
  const curve = (prompt: string, members: number[], q: number) => {
    for (let s = 0; s < T; s++) curves.push({ prompt, concept: groups[q].name, step: traj.steps[s], projection: mean(members.map((i) => projections[(i * T + s) * K + q])) });
  };
  for (const prompt of traj.prompts) {
    const members = [...Array(n).keys()].filter((i) => traj.prompt[i] === prompt);
    groups.forEach((_, q) => curve(prompt, members, q));
  }
  groups.forEach(({ name, members }, q) => {
    if (name.startsWith("class ")) curve(`${baseline} → ${name}`, members, q);
  });
  return { names: groups.map((g) => g.name), steps: traj.steps, trajectories: traj, projections, norms, curves };
}

/** The mean pairwise Euclidean distance between the last step's vectors of each prompt's instances. */
export function diversity(steps: StepTable, vectors?: { values: Float32Array; dim: number }): { prompt: string; diversity: number; instances: number }[] {
  const cols = readStepTable(steps, { features: !vectors });
  const traj = trajectories(cols);
  const { values, dim } = vectors ?? { values: cols.features!, dim: cols.featureDim! };
  const T = traj.steps.length;
  return traj.prompts.map((prompt) => {
    const rows = [...traj.instances.keys()].filter((i) => traj.prompt[i] === prompt).map((i) => traj.rows[i * T + T - 1]);
    let sum = 0, pairs = 0;
    for (let a = 0; a < rows.length; a++) {
      for (let b = a + 1; b < rows.length; b++, pairs++) {
        let d = 0;
        for (let k = 0; k < dim; k++) d += (values[rows[a] * dim + k] - values[rows[b] * dim + k]) ** 2;
        sum += Math.sqrt(d);
      }
    }
    return { prompt, diversity: pairs ? sum / pairs : NaN, instances: rows.length };
  });
}
