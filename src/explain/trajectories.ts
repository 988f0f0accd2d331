/**
 * A step table's rows as trajectories: every instance with its row at each
 * step, in step order. The explanations all read the table this way.
 */
import { OptionError } from "../errors.ts";
import type { StepColumns } from "../data/step_table.ts";

export interface Trajectories {
  /** Instance ids, ascending. */
  instances: Int32Array;
  /** The steps present, ascending (every instance has each). */
  steps: Int32Array;
  /** Prompt label of each instance. */
  prompt: string[];
  /** rows[i·steps.length + s]: the table row of instance i at steps[s]. */
  rows: Int32Array;
  /** The prompts in the table's order (that occur). */
  prompts: string[];
}

/** The trajectories of `cols`; an instance missing a step another has is an OptionError. */
export function trajectories(cols: StepColumns): Trajectories {
  const instances = Int32Array.from(new Set(cols.instance)).sort();
  const steps = Int32Array.from(new Set(cols.step)).sort();
  const iIndex = new Map(Array.from(instances, (v, i) => [v, i]));
  const sIndex = new Map(Array.from(steps, (v, i) => [v, i]));
  const T = steps.length;
  const rows = new Int32Array(instances.length * T).fill(-1);
  const prompt = new Array<string>(instances.length);
  for (let r = 0; r < cols.instance.length; r++) {
    const i = iIndex.get(cols.instance[r])!;
    rows[i * T + sIndex.get(cols.step[r])!] = r;
    const label = cols.prompts[cols.prompt[r]];
    if (prompt[i] !== undefined && prompt[i] !== label) {
      throw new OptionError("steps", `instance ${cols.instance[r]} has the prompts ${JSON.stringify(prompt[i])} and ${JSON.stringify(label)}`);
    }
    prompt[i] = label;
  }
  const missing = rows.indexOf(-1);
  if (missing >= 0) {
    throw new OptionError("steps", `instance ${instances[Math.floor(missing / T)]} has no row at step ${steps[missing % T]}; explanations need whole trajectories`);
  }
  const used = new Set(prompt);
  return { instances, steps, prompt, rows, prompts: cols.prompts.filter((p) => used.has(p)) };
}

export function mean(values: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i])) continue;
    s += values[i];
    c++;
  }
  return c ? s / c : NaN;
}
