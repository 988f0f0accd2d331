/**
 * Perplexity calibration: t-SNE's per-point Gaussian bandwidth, found so that
 * each row's conditional distribution over its neighbours has the target
 * perplexity. A building block for any Gaussian affinity.
 */
import { log } from "../../util/portable_math.ts";
import { rowWeights } from "../wasm/gaussian.ts";

/**
 * Calibrates rows [from, to) of the n×k squared distances (nearest first)
 * into conditional affinities `cond`, each from its β in `beta` (kept there)
 * where given.
 *
 * @example
 * const cond = new Float64Array(n * k);
 * calibrateRows(distance, k, 30, cond, 0, n);
 */
export function calibrateRows(distance: Float64Array, k: number, perplexity: number, cond: Float64Array, from: number, to: number, beta?: Float64Array): void {
  for (let i = from; i < to; i++) {
    const b = calibrateRow(distance.subarray(i * k, (i + 1) * k), perplexity, cond.subarray(i * k, (i + 1) * k), beta?.[i]);
    if (beta) beta[i] = b;
  }
}

/**
 * Finds the Gaussian precision β whose conditional distribution over the
 * given squared distances (the nearest first) has the target perplexity
 * (entropy log P), by Halley's method on H(β) (H′ = −β·Var(D), H″ = β·κ₃ −
 * Var(D), κ₃ the third central moment) kept inside a bisection bracket.
 * Started at β = 3 / (mean distance beyond the nearest), on the side where
 * the steps do not overshoot, it takes about 3 iterations (one exp per
 * neighbour each) where the usual bisection takes a few dozen; `start`, the
 * row's β at the step before, where there is one, is closer still. Returns β.
 *
 * @example
 * // One point's squared distances to its 4 nearest neighbours, nearest first.
 * const p = new Float64Array(4);
 * const beta = calibrateRow(Float64Array.of(1, 2, 4, 9), 2, p); // p sums to 1, perplexity 2
 */
export function calibrateRow(d2: Float64Array, perplexity: number, out: Float64Array, start = 0): number {
  const target = log(perplexity);
  const k = d2.length;
  // Distances relative to the nearest keep exp() in range for any scale.
  const d0 = d2[0];
  let total = 0;
  for (let a = 0; a < k; a++) total += d2[a] - d0;
  let beta = start > 0 ? start : total > 0 ? (3 * k) / total : 1, lo = 0, hi = Infinity, sum = 1, lastGap = Infinity;
  const weights = rowWeights(d2), { p, sums } = weights;
  for (let iter = 0; iter < 100; iter++) {
    weights.compute(beta);
    sum = sums[0];
    const s1 = sums[1], s2 = sums[2], s3 = sums[3];
    const mean = s1 / sum, m2 = s2 / sum, variance = m2 - mean * mean;
    const gap = log(sum) + beta * mean - target;
    if (Math.abs(gap) < 1e-5) break;
    if (gap > 0 && s1 === 0 && onlyTies(d2, d0, p)) {
      // All the weight is on the nearest distance's ties, and they outnumber the perplexity (duplicate points):
      // the entropy cannot fall to the target. Every remaining iteration would raise β as below and leave the
      // weights as they are, so β takes those steps without them (a sixth of the rows of a data set full of
      // duplicates took a hundred iterations each).
      for (let rest = iter; rest < 100; rest++) beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      break;
    }
    // H falls as β grows: too much entropy means β must rise.
    if (gap > 0) lo = beta;
    else hi = beta;
    const h1 = -beta * variance, h2 = beta * (s3 / sum - 3 * mean * m2 + 2 * mean * mean * mean) - variance;
    const next = beta - (2 * gap * h1) / (2 * h1 * h1 - gap * h2);
    // A start far off (the last step's β, where the distances' scale has changed by orders of magnitude) leaves
    // all but the nearest neighbour with underflowing weights, where Halley's steps crawl: whenever the last step
    // did not halve the gap, bisect instead.
    const halved = Math.abs(gap) < 0.5 * Math.abs(lastGap);
    lastGap = gap;
    if (variance > 0 && next > lo && next < hi && halved) beta = next;
    else beta = hi === Infinity ? beta * 2 : (lo + hi) / 2;
  }
  for (let a = 0; a < k; a++) out[a] = p[a] / sum;
  return beta;
}

/** Whether every weight beyond the nearest distance's ties is zero. */
function onlyTies(d2: Float64Array, d0: number, p: Float64Array): boolean {
  for (let a = 0; a < d2.length; a++) if (d2[a] !== d0 && p[a] !== 0) return false;
  return true;
}
