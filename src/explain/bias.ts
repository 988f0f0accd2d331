/**
 * What does a model favour? The classes of an unconditional prompt's final
 * images against the classes of the data it learned from: Pearson's χ²
 * goodness-of-fit test, χ² = Σ_c (O_c − E_c)²/E_c with E_c = n·q_c, on the
 * classes whose expected count is above 0, with (that many − 1) degrees of
 * freedom and the p-value P[χ²_df ≥ χ²] (quality/special.ts). Small
 * expected counts (below 5) make the χ² approximation rough: `sparse`
 * says how many classes have them.
 */
import { DimensionError, OptionError } from "../errors.ts";
import { chiSquareSurvival } from "../quality/special.ts";
import type { Commitment } from "./commitment.ts";

export interface ChiSquareTest {
  chiSquare: number;
  df: number;
  p: number;
  expected: Float64Array;
  /** Classes with an expected count below 5. */
  sparse: number;
}

/** Observed counts against expected proportions (any non-negative weights; normalised). */
export function chiSquareTest(observed: ArrayLike<number>, proportions: ArrayLike<number>): ChiSquareTest {
  if (observed.length !== proportions.length) throw new DimensionError(`${observed.length} observed counts, ${proportions.length} proportions`);
  let n = 0, total = 0;
  for (let c = 0; c < observed.length; c++) {
    if (!(observed[c] >= 0) || !(proportions[c] >= 0)) throw new OptionError("counts", `counts and proportions must be ≥ 0 (class ${c}: ${observed[c]}, ${proportions[c]})`);
    n += observed[c];
    total += proportions[c];
  }
  if (!(total > 0)) throw new OptionError("proportions", "must not all be 0");
  const expected = Float64Array.from(proportions, (q) => (n * q) / total);
  let chiSquare = 0, classes = 0, sparse = 0;
  for (let c = 0; c < observed.length; c++) {
    if (expected[c] > 0) {
      chiSquare += (observed[c] - expected[c]) ** 2 / expected[c];
      classes++;
      if (expected[c] < 5) sparse++;
    } else if (observed[c] > 0) chiSquare = Infinity; // a class the data never has
  }
  const df = classes - 1;
  return { chiSquare, df, p: df > 0 ? (chiSquare === Infinity ? 0 : chiSquareSurvival(chiSquare, df)) : NaN, expected, sparse };
}

export interface ClassBias extends ChiSquareTest {
  prompt: string;
  instances: number;
  counts: Int32Array;
  /** counts / instances. */
  frequencies: Float64Array;
  /** The data's proportions, normalised. */
  dataFrequencies: Float64Array;
}

/**
 * The final classes of `prompt`'s instances against the data's class
 * proportions (e.g. the label counts of the training digits).
 */
export function classBias(commitment: Commitment, prompt: string, dataProportions: ArrayLike<number>): ClassBias {
  const members = commitment.instances.filter((c) => c.prompt === prompt);
  if (members.length === 0) throw new OptionError("prompt", `no instances of ${JSON.stringify(prompt)}`);
  const k = dataProportions.length;
  const counts = new Int32Array(k);
  for (const c of members) {
    if (c.finalClass >= k) throw new DimensionError(`class ${c.finalClass} has no data proportion (${k} given)`);
    counts[c.finalClass]++;
  }
  const test = chiSquareTest(counts, dataProportions);
  let total = 0;
  for (let c = 0; c < k; c++) total += dataProportions[c];
  return {
    ...test, prompt, instances: members.length, counts,
    frequencies: Float64Array.from(counts, (v) => v / members.length),
    dataFrequencies: Float64Array.from(dataProportions, (v) => v / total),
  };
}
