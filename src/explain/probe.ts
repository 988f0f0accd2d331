/**
 * Linear probes: does a step's representation (its features, or a
 * denoiser's internal activations `h`) already tell which class the
 * generation will end as? Per step, a multinomial logistic regression
 * (softmax, L2-penalised, features standardised on the training folds)
 * predicts each instance's final class from that step's vectors; its
 * accuracy is measured by stratified k-fold cross-validation (every
 * instance is predicted by a model that never saw it). Vectors wider than
 * `components` (default 20) are first reduced to that many principal
 * components of the training fold (e.g. the U-Net's h, 64×7×7): with a
 * hundred instances, more standardised components let the model fit noise
 * (on the demo's 64-d digit features: 0.98 at the last step unreduced, 0.97
 * with 20 components, 0.90 with 50). Chance is the frequency of the most
 * common class.
 */
import { DimensionError, OptionError, throwIfAborted } from "../errors.ts";
import { random } from "../util/random.ts";
import { pca } from "../linalg/pca.ts";
import type { Trajectories } from "./trajectories.ts";

export interface LogisticOptions {
  /** L2 penalty on the weights (not the biases), per sample (default 1e-3). */
  l2?: number;
  /** Adam iterations over the whole training set (default 300). */
  iterations?: number;
  /** Adam's learning rate (default 0.05). */
  learningRate?: number;
}

export interface LogisticModel {
  /** k×(d+1): per class the weights of the standardised features, then the bias. */
  weights: Float64Array;
  mean: Float64Array;
  scale: Float64Array;
  d: number;
  k: number;
  /** The most probable class of each row of x (n×d). */
  predict(x: ArrayLike<number>, n: number): Int32Array;
}

/** Fits softmax regression of labels y (0..k−1) on the rows of x (n×d). */
export function logisticRegression(x: ArrayLike<number>, n: number, d: number, y: Int32Array, k: number, options: LogisticOptions = {}): LogisticModel {
  if (x.length !== n * d) throw new DimensionError(`x holds ${x.length} values, not ${n}×${d}`);
  if (y.length !== n) throw new DimensionError(`y holds ${y.length} labels, not ${n}`);
  const l2 = options.l2 ?? 1e-3, iterations = options.iterations ?? 300, lr = options.learningRate ?? 0.05;
  if (!(l2 >= 0)) throw new OptionError("l2", `must be ≥ 0, not ${l2}`);
  if (!(Number.isInteger(iterations) && iterations >= 0)) throw new OptionError("iterations", `must be an integer ≥ 0, not ${iterations}`);
  const mean = new Float64Array(d), scale = new Float64Array(d).fill(1);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let j = 0; j < d; j++) {
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * d + j] - mean[j]) ** 2;
    const sd = Math.sqrt(v / n);
    scale[j] = sd > 1e-12 ? sd : 1;
  }
  const z = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) z[i * d + j] = (x[i * d + j] - mean[j]) / scale[j];
  const D = d + 1, w = new Float64Array(k * D), g = new Float64Array(k * D), m1 = new Float64Array(k * D), m2 = new Float64Array(k * D);
  const p = new Float64Array(k);
  const b1 = 0.9, b2 = 0.999;
  for (let it = 1; it <= iterations; it++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const zi = i * d;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = w[c * D + d];
        for (let j = 0; j < d; j++) s += w[c * D + j] * z[zi + j];
        p[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < k; c++) sum += p[c] = Math.exp(p[c] - max);
      for (let c = 0; c < k; c++) {
        const e = (p[c] / sum - (y[i] === c ? 1 : 0)) / n;
        for (let j = 0; j < d; j++) g[c * D + j] += e * z[zi + j];
        g[c * D + d] += e;
      }
    }
    const c1 = 1 - b1 ** it, c2 = 1 - b2 ** it;
    for (let q = 0; q < w.length; q++) {
      const grad = g[q] + (q % D === d ? 0 : l2 * w[q]);
      m1[q] = b1 * m1[q] + (1 - b1) * grad;
      m2[q] = b2 * m2[q] + (1 - b2) * grad * grad;
      w[q] -= (lr * (m1[q] / c1)) / (Math.sqrt(m2[q] / c2) + 1e-8);
    }
  }
  return {
    weights: w, mean, scale, d, k,
    predict(rows, count) {
      if (rows.length !== count * d) throw new DimensionError(`x holds ${rows.length} values, not ${count}×${d}`);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        let best = 0, max = -Infinity;
        for (let c = 0; c < k; c++) {
          let s = w[c * D + d];
          for (let j = 0; j < d; j++) s += (w[c * D + j] * (rows[i * d + j] - mean[j])) / scale[j];
          if (s > max) (max = s), (best = c);
        }
        out[i] = best;
      }
      return out;
    },
  };
}

export interface CrossValidationOptions extends LogisticOptions {
  /** Folds (default 5; at most the number of rows). */
  folds?: number;
  /** Seed of the shuffle within each class (default 0). */
  seed?: number;
  /** Wider vectors are reduced to this many principal components of each training fold (default 20). */
  components?: number;
}

export interface CrossValidation {
  /** Fraction of rows whose held-out prediction is their label. */
  accuracy: number;
  /** Each row's held-out prediction. */
  predictions: Int32Array;
  /** The fold each row was held out in. */
  fold: Int32Array;
  /** The frequency of the most common label (what always guessing it scores). */
  chance: number;
}

/**
 * Stratified k-fold cross-validation of the logistic regression: rows are
 * shuffled within their class (seeded) and dealt to the folds in turn, so
 * every fold holds each class in proportion. A training fold with one
 * class only predicts that class.
 */
export function crossValidate(x: ArrayLike<number>, n: number, d: number, y: Int32Array, options: CrossValidationOptions = {}): CrossValidation {
  if (y.length !== n) throw new DimensionError(`y holds ${y.length} labels, not ${n}`);
  if (n < 2) throw new OptionError("rows", `cross-validation needs at least 2 rows, not ${n}`);
  const folds = Math.min(options.folds ?? 5, n);
  if (!(Number.isInteger(folds) && folds >= 2)) throw new OptionError("folds", `must be an integer ≥ 2, not ${options.folds}`);
  const k = Math.max(...y) + 1;
  const rng = random(options.seed ?? 0);
  const fold = new Int32Array(n);
  let deal = 0;
  for (let c = 0; c < k; c++) {
    const rows = [...y.keys()].filter((i) => y[i] === c);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    for (const r of rows) fold[r] = deal++ % folds;
  }
  const predictions = new Int32Array(n);
  for (let f = 0; f < folds; f++) {
    const train = [...fold.keys()].filter((i) => fold[i] !== f), test = [...fold.keys()].filter((i) => fold[i] === f);
    if (test.length === 0) continue;
    const ty = Int32Array.from(train, (i) => y[i]);
    const testX = gather(x, test, d);
    if (new Set(ty).size === 1) {
      for (const i of test) predictions[i] = ty[0];
      continue;
    }
    let trainX = gather(x, train, d), heldOut = testX, width = d;
    const components = options.components ?? 20;
    if (d > components) [trainX, heldOut, width] = [...reduce(trainX, train.length, testX, test.length, d, components), components];
    const model = logisticRegression(trainX, train.length, width, ty, k, options);
    model.predict(heldOut, test.length).forEach((c, j) => (predictions[test[j]] = c));
  }
  let right = 0;
  for (let i = 0; i < n; i++) if (predictions[i] === y[i]) right++;
  const counts = new Int32Array(k);
  for (const c of y) counts[c]++;
  return { accuracy: right / n, predictions, fold, chance: Math.max(...counts) / n };
}

/** Both row sets projected on the top principal axes of the first (about its mean). */
function reduce(train: Float64Array, n: number, test: Float64Array, m: number, d: number, components: number): [Float64Array, Float64Array] {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += train[i * d + j] / n;
  const { axes, components: c } = pca(train, n, d, components);
  const project = (rows: Float64Array, count: number) => {
    const out = new Float64Array(count * components);
    for (let i = 0; i < count; i++) {
      for (let a = 0; a < c; a++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (rows[i * d + j] - mean[j]) * axes[a * d + j];
        out[i * components + a] = s;
      }
    }
    return out;
  };
  return [project(train, n), project(test, m)];
}

function gather(x: ArrayLike<number>, rows: number[], d: number): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((r, i) => {
    for (let j = 0; j < d; j++) out[i * d + j] = x[r * d + j];
  });
  return out;
}

export interface StepProbe {
  step: number;
  accuracy: number;
  chance: number;
  instances: number;
}

export interface StepProbeOptions extends CrossValidationOptions {
  signal?: AbortSignal;
  /** Steps probed so far, after each step. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The probe at every step: `vectors` (rows×dim, in table row order, e.g. the
 * features column or activations from `denoiserActivations`) of each
 * instance at that step against `labels`, one per instance in
 * `traj.instances` order (e.g. the final classes of a Commitment).
 */
export function stepProbe(traj: Trajectories, vectors: { values: Float32Array; dim: number }, labels: Int32Array, options: StepProbeOptions = {}): StepProbe[] {
  const n = traj.instances.length, T = traj.steps.length, { values, dim } = vectors;
  if (labels.length !== n) throw new DimensionError(`${labels.length} labels for ${n} instances`);
  // Labels renumbered 0..k−1 in order of first appearance.
  const codes = new Map<number, number>();
  const y = Int32Array.from(labels, (l) => codes.get(l) ?? codes.set(l, codes.size).get(l)!);
  const out: StepProbe[] = [];
  const x = new Float32Array(n * dim);
  for (let s = 0; s < T; s++) {
    throwIfAborted(options.signal, "the probe");
    for (let i = 0; i < n; i++) x.set(values.subarray(traj.rows[i * T + s] * dim, (traj.rows[i * T + s] + 1) * dim), i * dim);
    const cv = crossValidate(x, n, dim, y, options);
    out.push({ step: traj.steps[s], accuracy: cv.accuracy, chance: cv.chance, instances: n });
    options.onProgress?.(s + 1, T);
  }
  return out;
}
