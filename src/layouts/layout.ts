/**
 * A layout gives the losses their geometry and maps the optimisation frame
 * to renderer coordinates. Every point of step t lives in step t's *lane*:
 * the lane coordinate (radius, or x) is held near the lane by the
 * displacement loss; the free coordinate (angle, or y) is where t-SNE places
 * it and what the alignment loss keeps constant along an instance's track.
 */
import type { Guide } from "../data/guides.ts";

export type { Guide };

export interface Layout {
  readonly name: string;
  /** The free coordinate wraps around (an angle). */
  readonly circular: boolean;
  /** Names of the native coordinates in frame tables, lane first. */
  readonly native: readonly [lane: string, free: string];
  /** Length scale of a lane (the ring radius, or its rectilinear equivalent). */
  readonly scale: number;
  /**
   * The layout for lanes of n points. A layout whose scale is "auto" picks
   * one that lets t-SNE's natural extent (about 0.3 units per point along a
   * lane) fill the lane; a fixed one returns itself.
   */
  fit(n: number): Layout;
  /**
   * The layout for displaying `lanes` lanes whose points reach `extent` on
   * the free axis (in the optimisation frame): a layout with an automatic
   * display gap picks it here; others return themselves.
   */
  arrange(lanes: number, extent: number): Layout;
  /** Lane coordinate of step t's lane during optimisation. */
  laneCenter(t: number): number;
  /** Lane coordinate of (x, y); its gradient is written to g[0], g[1]. */
  lane(x: number, y: number, g: Float64Array): number;
  /**
   * Free coordinate of (x, y) in lane-relative units (radians for the
   * radial layout, y / scale for the rectilinear one), so one alignment
   * weight means the same in both; its gradient is written to g[0], g[1].
   */
  free(x: number, y: number, g: Float64Array): number;
  /** Writes the optimisation-frame point of lane t at free coordinate f, lane deviation d. */
  place(t: number, f: number, d: number, out: Float64Array): void;
  /** Writes renderer x, y and the two native coordinates of a point of lane t. */
  display(x: number, y: number, t: number, out: Float64Array): void;
  /** Lane guides for a renderer, one per step; `extent` is the largest |y| drawn. */
  guides(steps: readonly number[], extent: number): Guide[];
}

/**
 * The lane scale at which t-SNE's spread of n points, about 0.3 units per
 * point along a near one-dimensional lane, fills a ring of that radius.
 */
export const autoScale = (n: number): number => Math.max(5, 0.05 * n);
