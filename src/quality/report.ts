/**
 * Every quality figure of a run, per step and over the steps: what the tests,
 * the bench and the frames all print.
 */
import { DimensionError, OptionError } from "../errors.ts";
import { alignmentRatioOverSteps, movementCorrelationOverSteps } from "./temporal_coherence.ts";
import { knn, neighborOverlap } from "./exact_knn.ts";
import { neighborhoodHitFromNeighbors } from "./neighborhood_hit.ts";
import { trustworthinessK, trustworthinessOfEach } from "./trustworthiness.ts";

export interface StepQuality {
  step: number;
  trustworthiness: number;
  /** Trustworthiness of the drawn picture (`QualityStep.display`), when given. */
  displayTrustworthiness?: number;
  knnPreservation: number;
  /** Neighbourhood hit by prompt in the embedding. */
  neighborhoodHit: number;
  /** Neighbourhood hit by prompt of the features themselves: the separation the embedding can at best show. */
  featureNeighborhoodHit: number;
  kl?: number;
}

export interface QualityReport {
  /** The k every neighbourhood figure used (after clamping; 0 when n < 3). */
  k: number;
  steps: StepQuality[];
  alignmentRatio: number;
  movementCorrelation: number;
  meanTrustworthiness: number;
  meanTrustworthinessSecondHalf: number;
  /** The mean of the steps' displayTrustworthiness, when every step has a display. */
  meanDisplayTrustworthiness?: number;
}

/** One step of a run; row i is the same instance in every step. */
export interface QualityStep {
  step: number;
  /** n×dim, row-major. */
  features: ArrayLike<number>;
  dim: number;
  /** n×2 embedding positions (the optimisation frame). */
  position: ArrayLike<number>;
  /**
   * n×2 positions as drawn (the display frame), to measure the picture too:
   * a layout may draw a step other than as a similarity of its optimisation
   * frame (the radial layout's rings stretch their points along the angle).
   */
  display?: ArrayLike<number>;
  /** n free coordinates (radians when circular). */
  free: ArrayLike<number>;
  prompt: Int32Array;
  kl?: number;
}

function checkStep(s: QualityStep, n: number): void {
  const bad = (what: string, got: number, want: number) =>
    new DimensionError(`qualityReport: step ${s.step} has ${got} ${what}, expected ${want}`);
  if (s.prompt.length !== n) throw bad("prompts", s.prompt.length, n);
  if (s.free.length !== n) throw bad("free coordinates", s.free.length, n);
  if (s.position.length !== 2 * n) throw bad("position values", s.position.length, 2 * n);
  if (s.display && s.display.length !== 2 * n) throw bad("display values", s.display.length, 2 * n);
  if (!(s.dim >= 1) || s.features.length !== n * s.dim) throw bad("feature values", s.features.length, n * s.dim);
}

function mean(xs: number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * The figures of every step and the temporal ones across steps. One k serves
 * all neighbourhood figures so they compare: options.k (default 10) clamped
 * to k < n / 2 (see trustworthinessK). With n < 3 no k fits: the neighbourhood
 * figures are NaN and k is 0; alignment and movement are still computed.
 * Movement correlation needs the same feature dim in every step, else NaN.
 */
export function qualityReport(steps: QualityStep[], options: { k?: number; circular: boolean }): QualityReport {
  const wanted = options.k ?? 10;
  if (!Number.isInteger(wanted) || wanted < 1) throw new OptionError("k", `must be a positive integer, got ${wanted}`);
  const n = steps.length > 0 ? steps[0].prompt.length : 0;
  for (const s of steps) checkStep(s, n);
  const k = trustworthinessK(n, wanted);

  const perStep = steps.map((s): StepQuality => {
    const q: StepQuality = {
      step: s.step, trustworthiness: NaN, knnPreservation: NaN, neighborhoodHit: NaN, featureNeighborhoodHit: NaN,
    };
    if (s.kl !== undefined) q.kl = s.kl;
    if (k < 1) return q;
    // Each space's neighbour lists are found once and shared by every figure.
    const lowKnn = knn(s.position, 2, k);
    const lowKnns = s.display ? [lowKnn, knn(s.display, 2, k)] : [lowKnn];
    const { trustworthiness, highKnn } = trustworthinessOfEach(s.features, s.dim, lowKnns, k);
    q.trustworthiness = trustworthiness[0];
    if (s.display) q.displayTrustworthiness = trustworthiness[1];
    q.knnPreservation = neighborOverlap(highKnn, lowKnn, k);
    q.neighborhoodHit = neighborhoodHitFromNeighbors(lowKnn, s.prompt, k);
    q.featureNeighborhoodHit = neighborhoodHitFromNeighbors(highKnn, s.prompt, k);
    return q;
  });

  const sameDim = steps.every((s) => s.dim === steps[0].dim);
  const trust = perStep.map((q) => q.trustworthiness);
  const drawn = steps.length > 0 && steps.every((s) => s.display) ? { meanDisplayTrustworthiness: mean(perStep.map((q) => q.displayTrustworthiness ?? NaN)) } : {};
  return {
    k,
    steps: perStep,
    alignmentRatio: alignmentRatioOverSteps(steps.map((s) => s.free), options.circular),
    movementCorrelation: sameDim && steps.length > 0
      ? movementCorrelationOverSteps(steps.map((s) => s.features), steps[0].dim, steps.map((s) => s.position), 2)
      : NaN,
    meanTrustworthiness: mean(trust),
    meanTrustworthinessSecondHalf: mean(trust.slice(Math.floor(trust.length / 2))),
    ...drawn,
  };
}
