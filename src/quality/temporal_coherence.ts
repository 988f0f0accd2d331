/**
 * Temporal coherence between consecutive steps.
 *
 * Alignment ratio: how far an instance's free coordinate moves from one step
 * to the next, relative to the distance between random instances of the two
 * steps. 0: every instance keeps its coordinate; ≈ 1: the steps are unrelated.
 *
 * Movement correlation (Vernier et al., EuroVis 2020): whether instances that
 * move far in high-D also move far in the embedding.
 */
import { DimensionError } from "../errors.ts";
import { Correlation } from "./correlation.ts";
import { difference, sumAllDifferences } from "./pair_differences.ts";

/** Numerator and denominator sums of one step pair, for pooling. */
interface AlignmentSums {
  same: number; // Σ_i diff(a_i, b_i)
  random: number; // Σ_{i ≠ j} diff(a_i, b_j)
}

function alignmentSums(a: ArrayLike<number>, b: ArrayLike<number>, circular: boolean): AlignmentSums {
  if (a.length !== b.length) throw new DimensionError(`alignment: ${a.length} vs ${b.length} instances`);
  let same = 0;
  for (let i = 0; i < a.length; i++) same += difference(a[i], b[i], circular);
  // All pairs minus the diagonal; rounding must not make it negative.
  const random = Math.max(0, sumAllDifferences(a, b, circular) - same);
  return { same, random };
}

function ratio(same: number, sameCount: number, random: number, randomCount: number): number {
  if (sameCount === 0 || randomCount === 0) return NaN;
  return same / sameCount / (random / randomCount);
}

/**
 * mean_i diff(a_i, b_i) / mean_{i ≠ j} diff(a_i, b_j); a and b are instance i's
 * free coordinate at two consecutive steps (radians when circular, the
 * difference then wrapped to [0, π]). NaN when n < 2 or all values coincide.
 */
export function alignmentRatio(a: ArrayLike<number>, b: ArrayLike<number>, circular: boolean): number {
  const n = a.length;
  const { same, random } = alignmentSums(a, b, circular);
  return ratio(same, n, random, n * (n - 1));
}

/**
 * The alignment ratio pooled over every consecutive pair of steps: numerator
 * and denominator sums are added across pairs, then divided once, so each
 * instance-step weighs the same. NaN with fewer than two steps.
 */
export function alignmentRatioOverSteps(free: ArrayLike<number>[], circular: boolean): number {
  let same = 0, random = 0, sameCount = 0, randomCount = 0;
  for (let t = 1; t < free.length; t++) {
    const n = free[t].length;
    const sums = alignmentSums(free[t - 1], free[t], circular);
    same += sums.same;
    random += sums.random;
    sameCount += n;
    randomCount += n * (n - 1);
  }
  return ratio(same, sameCount, random, randomCount);
}

/** Adds ‖after_i − before_i‖ of both spaces for every instance i. */
function addMovements(
  into: Correlation,
  highBefore: ArrayLike<number>, highAfter: ArrayLike<number>, highDim: number,
  lowBefore: ArrayLike<number>, lowAfter: ArrayLike<number>, lowDim: number,
): void {
  const n = highBefore.length / highDim;
  if (highAfter.length !== highBefore.length || lowBefore.length !== lowAfter.length || lowBefore.length !== n * lowDim) {
    throw new DimensionError(
      `movementCorrelation: high ${highBefore.length}→${highAfter.length} (dim ${highDim}), ` +
        `low ${lowBefore.length}→${lowAfter.length} (dim ${lowDim}) do not describe the same instances`,
    );
  }
  for (let i = 0; i < n; i++) {
    let h = 0, l = 0;
    for (let d = 0, o = i * highDim; d < highDim; d++, o++) {
      const t = highAfter[o] - highBefore[o];
      h += t * t;
    }
    for (let d = 0, o = i * lowDim; d < lowDim; d++, o++) {
      const t = lowAfter[o] - lowBefore[o];
      l += t * t;
    }
    into.add(Math.sqrt(h), Math.sqrt(l));
  }
}

/**
 * Pearson correlation between how far each instance moves in high-D and in
 * the embedding between two steps. NaN when either side has zero variance.
 */
export function movementCorrelation(
  highBefore: ArrayLike<number>, highAfter: ArrayLike<number>, highDim: number,
  lowBefore: ArrayLike<number>, lowAfter: ArrayLike<number>, lowDim: number,
): number {
  const c = new Correlation();
  addMovements(c, highBefore, highAfter, highDim, lowBefore, lowAfter, lowDim);
  return c.value();
}

/** The movement correlation of all consecutive step pairs pooled into one. */
export function movementCorrelationOverSteps(
  high: ArrayLike<number>[], highDim: number, low: ArrayLike<number>[], lowDim: number,
): number {
  if (high.length !== low.length) {
    throw new DimensionError(`movementCorrelationOverSteps: ${high.length} high-D steps, ${low.length} low-D steps`);
  }
  const c = new Correlation();
  for (let t = 1; t < high.length; t++) addMovements(c, high[t - 1], high[t], highDim, low[t - 1], low[t], lowDim);
  return c.value();
}
