/** The quality figures: neighbourhoods, alignment across steps, the report. */
export { BLOCK_ROWS, distanceBlock, squaredDistance } from "./distances.ts";
export { clampK, knn, nearestInRow, neighborOverlap, offer } from "./neighbors.ts";
export {
  knnPreservation,
  trustworthiness,
  trustworthinessK,
  trustworthinessWithNeighbors,
} from "./trustworthiness.ts";
export { neighborhoodHit, neighborhoodHitFromNeighbors } from "./neighborhood_hit.ts";
export {
  alignmentRatio,
  alignmentRatioOverSteps,
  movementCorrelation,
  movementCorrelationOverSteps,
} from "./alignment.ts";
export { difference, sumAllDifferences } from "./pair_differences.ts";
export { Correlation } from "./correlation.ts";
export { type QualityReport, type QualityStep, qualityReport, type StepQuality } from "./report.ts";
