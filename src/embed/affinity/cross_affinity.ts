/**
 * Affinities of new points to a fixed reference set (a fitted step), as
 * openTSNE's transform computes them: for each new point its nearest
 * reference points, and Gaussian conditional affinities p(j | i) over them
 * at a perplexity (each row sums to 1; not symmetrised, since the reference
 * points do not move). Distances are measured where the fitted step's
 * affinities were: in its PCA projection (the same seeded PCA the
 * embedding reduced it with), into which the new points are projected.
 */
import { pca } from "../../linalg/pca.ts";
import type { SparseMatrix } from "../../linalg/sparse.ts";
import { offer } from "../../quality/nearest_buffer.ts";
import { distanceKernel } from "../wasm/distances.ts";
import { calibrateRow } from "./calibrate.ts";

/** A reference set in the space its distances are measured in. */
export interface ReferenceSpace {
  n: number;
  /** The reference points, projected (n × dim). */
  points: Float32Array;
  dim: number;
  /** Projects new rows (of the original dimension) into the space. */
  project(features: Float32Array, count: number): Float32Array;
}

/**
 * The space of a fitted step's features (row-major n×dim, as the step keeps
 * them): its PCA to `components` when the embedding reduced it (dim and n
 * above `components`, seeded `seed`), else the features as they are.
 */
export function referenceSpace(features: Float32Array, n: number, dim: number, components: number, seed: number): ReferenceSpace {
  if (components === 0 || dim <= components || n <= components) {
    return { n, points: features, dim, project: (f) => f };
  }
  const { components: c, axes } = pca(features, n, dim, components, seed);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let d = 0; d < dim; d++) mean[d] += features[i * dim + d];
  for (let d = 0; d < dim; d++) mean[d] /= n;
  const project = (f: Float32Array, count: number) => {
    const out = new Float32Array(count * c), row = new Float64Array(dim);
    for (let i = 0; i < count; i++) {
      for (let d = 0; d < dim; d++) row[d] = f[i * dim + d] - mean[d];
      for (let a = 0; a < c; a++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += row[d] * axes[a * dim + d];
        out[i * c + a] = s;
      }
    }
    return out;
  };
  // The reference points go through the same projection as the new ones, so both sides are measured alike.
  return { n, points: project(features, n), dim: c, project };
}

export interface CrossAffinities {
  /** count × n: row i holds new point i's affinities to reference points (columns), summing to 1. */
  P: SparseMatrix;
  /** count × k: each new point's k nearest reference points, nearest first. */
  neighbors: Int32Array;
  k: number;
}

/**
 * The affinities of `count` new rows (original dimension, as the reference
 * step's features were prepared) to the reference space, at `perplexity`
 * (capped, as the fit's, at (n − 1) / 3) over its 3·perplexity nearest
 * reference points; and each row's `neighbors` nearest reference points.
 */
export function crossAffinities(space: ReferenceSpace, features: Float32Array, count: number, perplexity: number, neighbors: number): CrossAffinities {
  const { n, dim } = space;
  const perp = Math.min(perplexity, Math.max((n - 1) / 3, 1.01));
  const kP = Math.max(1, Math.min(n, Math.ceil(3 * perp))), k = Math.max(1, Math.min(n, neighbors));
  const keep = Math.max(kP, k);
  const projected = space.project(features, count);
  // One kernel over the reference points and the new ones after them; a new row measures every reference row.
  const all = new Float32Array((n + count) * dim);
  all.set(space.points.subarray(0, n * dim));
  all.set(projected, n * dim);
  const kernel = distanceKernel(all, n + count, dim, n);
  for (let j = 0; j < n; j++) kernel.candidates[j] = j;
  const index = new Int32Array(count * keep), distance = new Float64Array(count * keep);
  for (let i = 0; i < count; i++) {
    kernel.measure(n + i, n);
    let filled = 0;
    for (let j = 0; j < n; j++) filled = offer(distance, index, i * keep, filled, keep, kernel.distances[j], j);
  }
  const rowPtr = Int32Array.from({ length: count + 1 }, (_, i) => i * kP);
  const col = new Int32Array(count * kP), val = new Float64Array(count * kP);
  const d2 = new Float64Array(kP), p = new Float64Array(kP);
  const nearest = new Int32Array(count * k);
  for (let i = 0; i < count; i++) {
    for (let a = 0; a < kP; a++) {
      d2[a] = distance[i * keep + a];
      col[i * kP + a] = index[i * keep + a];
    }
    calibrateRow(d2, perp, p);
    val.set(p, i * kP);
    nearest.set(index.subarray(i * keep, i * keep + k), i * k);
  }
  return { P: { n: count, rowPtr, col, val }, neighbors: nearest, k };
}
