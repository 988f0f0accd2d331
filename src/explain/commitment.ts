/**
 * Commitment: when does a generation settle on what it becomes? A concept
 * classifier (any encoder whose output is class scores, such as the digit
 * encoder's "logits") names the class of every step's x̂0; an instance's
 * *commitment step* is the earliest step from which that class equals the
 * final step's class for good. Per prompt: the distribution of commitment
 * steps, and per step the accuracy of predicting the final class from that
 * step's x̂0 (the fraction of instances whose class already is the final
 * one), the committed fraction and the mean probability of the final class.
 */
import { DimensionError, OptionError, throwIfAborted } from "../errors.ts";
import { readStepTable, type StepColumns, type StepTable } from "../data/step_table.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { mean, trajectories, type Trajectories } from "./trajectories.ts";

export interface ClassScoreOptions {
  /** Class scores per row from each row's image (x̂0): an encoder whose output is one score per class. */
  classifier?: Encoder;
  /** Or the scores themselves: rows×dim, in table row order. */
  scores?: { values: Float32Array; dim: number };
  /** What the scores are: "logits" (default; softmax gives probabilities) or "probabilities". */
  scoresAre?: "logits" | "probabilities";
  signal?: AbortSignal;
  /** Rows classified so far, after each batch of the classifier. */
  onProgress?: (done: number, total: number) => void;
}

export interface CommitmentOptions extends ClassScoreOptions {
  /** Class names by index (default "0", "1", …). */
  classes?: readonly string[];
}

/** Class probabilities per row (rows×k) and the most probable class. */
export interface ClassScores {
  probabilities: Float32Array;
  k: number;
  predicted: Int32Array;
}

export interface InstanceCommitment {
  instance: number;
  prompt: string;
  /** The class of the last step's x̂0. */
  finalClass: number;
  /** The earliest step from which the class is the final one at every later step. */
  commitmentStep: number;
  /** How often the class changes along the trajectory. */
  changes: number;
  /** The class at each step (in `Commitment.steps` order). */
  classes: Int32Array;
  /** The probability of the final class at each step. */
  confidence: Float32Array;
}

/** One prompt (or "" for all prompts together) at one step. */
export interface CommitmentAtStep {
  prompt: string;
  step: number;
  instances: number;
  /** The fraction whose class at this step already is their final class. */
  accuracy: number;
  /** The fraction committed by this step (commitment step ≤ step). */
  committed: number;
  /** Mean probability of the final class. */
  confidence: number;
}

export interface CommitmentDistribution {
  /** The prompt, or "" for all prompts together. */
  prompt: string;
  /** counts[s]: instances whose commitment step is steps[s]. */
  counts: Int32Array;
  mean: number;
  median: number;
}

export interface Commitment {
  steps: Int32Array;
  classNames: string[];
  instances: InstanceCommitment[];
  /** Per prompt and step, then all prompts together (prompt ""). */
  perStep: CommitmentAtStep[];
  /** Per prompt, then all prompts together. */
  distributions: CommitmentDistribution[];
}

/** Class probabilities of every row of `cols`, from a classifier or given scores. */
export async function classScores(cols: StepColumns, options: ClassScoreOptions): Promise<ClassScores> {
  const rows = cols.instance.length;
  let values: Float32Array, k: number;
  if (options.scores) {
    ({ values, dim: k } = options.scores);
    if (values.length !== rows * k) throw new DimensionError(`scores hold ${values.length} values, not ${rows}×${k}`);
  } else if (options.classifier) {
    if (!cols.image || !cols.imageShape) throw new OptionError("classifier", `classifying needs the "image" column (x̂0)`);
    const [c, h, w] = cols.imageShape;
    throwIfAborted(options.signal, "classifying");
    const out = await options.classifier.encode({
      values: cols.image, dim: c * h * w, count: rows, imageShape: cols.imageShape, step: cols.step,
      signal: options.signal, onProgress: options.onProgress,
    });
    values = out.features;
    k = out.dim;
  } else {
    throw new OptionError("classifier", "give a classifier (an encoder of class scores) or the scores");
  }
  if (!(k >= 2)) throw new OptionError("classifier", `needs at least 2 class scores per row, not ${k}`);
  const probabilities = new Float32Array(rows * k), predicted = new Int32Array(rows);
  const logits = (options.scoresAre ?? "logits") === "logits";
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let best = 0, max = -Infinity;
    for (let j = 0; j < k; j++) if (values[o + j] > max) (max = values[o + j]), (best = j);
    predicted[r] = best;
    let s = 0;
    for (let j = 0; j < k; j++) s += probabilities[o + j] = logits ? Math.exp(values[o + j] - max) : values[o + j];
    for (let j = 0; j < k; j++) probabilities[o + j] /= s;
  }
  return { probabilities, k, predicted };
}

/** Commitment of every instance of a step table (rows need `image` unless scores are given). */
export async function commitment(steps: StepTable, options: CommitmentOptions): Promise<Commitment> {
  const cols = readStepTable(steps, { image: !options.scores });
  const traj = trajectories(cols);
  const scores = await classScores(cols, options);
  return commitmentOf(traj, scores, options.classes);
}

/** Commitment from trajectories and per-row class scores (the rows `traj.rows` points to). */
export function commitmentOf(traj: Trajectories, scores: ClassScores, classes?: readonly string[]): Commitment {
  const { k, probabilities, predicted } = scores;
  const classNames = classes ? [...classes] : Array.from({ length: k }, (_, i) => String(i));
  if (classNames.length < k) throw new OptionError("classes", `names ${classNames.length} classes; the scores have ${k}`);
  const T = traj.steps.length;
  const instances: InstanceCommitment[] = [];
  traj.instances.forEach((instance, i) => {
    const rows = traj.rows.subarray(i * T, (i + 1) * T);
    const cls = Int32Array.from(rows, (r) => predicted[r]);
    const finalClass = cls[T - 1];
    let last = T - 1;
    while (last > 0 && cls[last - 1] === finalClass) last--;
    let changes = 0;
    for (let s = 1; s < T; s++) if (cls[s] !== cls[s - 1]) changes++;
    instances.push({
      instance, prompt: traj.prompt[i], finalClass, commitmentStep: traj.steps[last], changes, classes: cls,
      confidence: Float32Array.from(rows, (r) => probabilities[r * k + finalClass]),
    });
  });
  const groups: [string, InstanceCommitment[]][] = [...traj.prompts.map((p) => [p, instances.filter((c) => c.prompt === p)] as [string, InstanceCommitment[]]), ["", instances]];
  const perStep: CommitmentAtStep[] = [];
  const distributions: CommitmentDistribution[] = [];
  for (const [prompt, group] of groups) {
    if (group.length === 0) continue;
    for (let s = 0; s < T; s++) {
      const step = traj.steps[s];
      perStep.push({
        prompt, step, instances: group.length,
        accuracy: group.filter((c) => c.classes[s] === c.finalClass).length / group.length,
        committed: group.filter((c) => c.commitmentStep <= step).length / group.length,
        confidence: mean(group.map((c) => c.confidence[s])),
      });
    }
    const counts = new Int32Array(T);
    const at = group.map((c) => c.commitmentStep).sort((a, b) => a - b);
    for (const step of at) counts[traj.steps.indexOf(step)]++;
    const mid = at.length >> 1;
    distributions.push({ prompt, counts, mean: mean(at), median: at.length % 2 ? at[mid] : (at[mid - 1] + at[mid]) / 2 });
  }
  return { steps: traj.steps, classNames, instances, perStep, distributions };
}
