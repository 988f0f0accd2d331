/**
 * A layout gives the losses their geometry and maps the optimisation frame
 * to the picture. Every point of step t lives in step t's *lane*: its *lane
 * coordinate* (radius, or x) is held near the lane's centre by the
 * displacement loss; its *free coordinate* (angle, or y) is where t-SNE
 * places it and what the alignment loss keeps constant along an instance's
 * track.
 *
 * Three frames, named in every member below:
 * - the **optimisation frame**: the 2-D points the losses and the kernel
 *   move (`StepState.y`, x and y interleaved). Lanes may all lie in one place
 *   here (every radial lane is one ring, every rectilinear lane the line
 *   x = 0): each step's t-SNE then works at the same scale;
 * - **lane-relative units** of the free coordinate: radians when the layout
 *   is `circular`, otherwise length along the lane divided by `scale`, so
 *   one alignment weight means the same in every layout;
 * - the **display frame**: renderer coordinates, the `x`, `y` of frame tables
 *   and the coordinates of guides, in data units with y pointing up. Which
 *   display axis a lane runs along is the layout's business alone: radial
 *   lanes are rings, rectilinear lanes columns, a user's may be rows (see
 *   examples/horizontal_lanes.ts). Nothing outside the layout assumes it.
 *
 * The embedder calls `fit` once, with the first step's number of points,
 * then `laneCenter`, `lane`, `free` and `place` while optimising; a frame is
 * made by `arrange(lanes, span)`, then `display` of every point and
 * `guides` of the layout `arrange` returned.
 */
import type { Guide } from "../data/guides.ts";

export type { Guide };

/**
 * Where the points reach along their lanes: the smallest and the largest
 * free coordinate over all points of a frame, in lane-relative units (what
 * `Layout.free` returns); `{ min: 0, max: 0 }` when there are no points.
 * For a circular layout it is about (−π, π) and usually ignored.
 */
export interface FreeSpan {
  readonly min: number;
  readonly max: number;
}

export interface Layout {
  /**
   * The layout's name: stored in frame tables (`diffusion-life.layout`) and
   * checkpoints (which restore only into a layout of the same name), the
   * view's name in the live viewer and the file name in the CLI.
   */
  readonly name: string;
  /**
   * The free coordinate is an angle in radians that wraps around at ±π: the
   * alignment loss then takes 1 − cos Δf, the quality figures circular
   * differences, and initialisation draws f in (−π, π] (otherwise in [−1, 1]).
   */
  readonly circular: boolean;
  /** Column names in frame tables of `display`'s out[2] (the lane coordinate) and out[3] (the free one). */
  readonly native: readonly [lane: string, free: string];
  /**
   * Length scale of a lane in the optimisation frame (the ring radius, or its
   * rectilinear equivalent): the displacement loss measures a point's
   * distance from its lane centre in units of scale / 20, and a non-circular
   * free coordinate is length / scale.
   */
  readonly scale: number;
  /**
   * The layout for lanes of n points, called once before any point is placed.
   * A layout whose scale is "auto" picks one that lets t-SNE's natural extent
   * (about 0.3 units per point along a lane) fill the lane (`autoScale`); a
   * fixed one returns itself (or an equal layout).
   */
  fit(n: number): Layout;
  /**
   * The layout that displays a frame of `lanes` lanes (the last step + 1)
   * whose points reach `span` along their free coordinate (lane-relative
   * units). Display only: what it returns must keep `fit`'s optimisation
   * geometry (`scale`, `laneCenter`, `lane`, `free`, `place`) and may choose
   * its display spacing (a gap between lanes) from `lanes` and `span`.
   * A layout with nothing to choose returns itself.
   */
  arrange(lanes: number, span: FreeSpan): Layout;
  /** Lane coordinate (as `lane` returns it) of step t's lane centre, in the optimisation frame. */
  laneCenter(t: number): number;
  /**
   * Lane coordinate of the optimisation-frame point (x, y), in that frame's
   * length units; writes its gradient ∂/∂x, ∂/∂y to g[0], g[1].
   */
  lane(x: number, y: number, g: Float64Array): number;
  /**
   * Free coordinate of the optimisation-frame point (x, y), in lane-relative
   * units (radians for the radial layout, y / scale for the rectilinear
   * one); writes its gradient ∂/∂x, ∂/∂y to g[0], g[1].
   */
  free(x: number, y: number, g: Float64Array): number;
  /**
   * Optional, for a circular layout: writes `free`'s gradient to g[0], g[1]
   * and the unit vector (cos f, sin f) of the free coordinate f to u[0],
   * u[1], without computing f. The alignment loss then takes the sine and
   * cosine of a difference of free coordinates from products alone, with
   * no trigonometry per point.
   *
   * @example
   * // The radial layout's: f is the polar angle of (x, y).
   * freeDirection(x, y, g, u) {
   *   const r2 = x * x + y * y || 1e-12, r = Math.sqrt(r2);
   *   g[0] = -y / r2; g[1] = x / r2; u[0] = x / r; u[1] = y / r;
   * }
   */
  freeDirection?(x: number, y: number, g: Float64Array, u: Float64Array): void;
  /**
   * Writes to out[0], out[1] the optimisation-frame point of lane t at free
   * coordinate f (lane-relative units) and lane coordinate laneCenter(t) + d:
   * `free` of it is f, `lane` of it laneCenter(t) + d.
   */
  place(t: number, f: number, d: number, out: Float64Array): void;
  /**
   * Maps the optimisation-frame point (x, y) of lane t to the display frame:
   * writes renderer x, y to out[0], out[1] and the two native coordinates
   * (named by `native`, lane first) to out[2], out[3].
   */
  display(x: number, y: number, t: number, out: Float64Array): void;
  /**
   * Lane guides for a renderer, in the display frame: one per step of
   * `steps` (ascending), each where `display` puts that lane. `span` is
   * `arrange`'s: a guide of a non-circular layout covers the display
   * positions of its lane's centre from free coordinate span.min to span.max
   * (so it encloses the points along the lane); a ring covers every angle.
   * Renderers label a line guide at its upper end when it is closer to
   * vertical, at its left end when it is closer to horizontal (see
   * src/data/guides.ts).
   */
  guides(steps: readonly number[], span: FreeSpan): Guide[];
}

/**
 * The lane scale at which t-SNE's spread of n points, about 0.3 units per
 * point along a near one-dimensional lane, fills a ring of that radius.
 *
 * @example
 * // A layout of your own whose scale follows the number of points, as the built-ins' do.
 * fit: (n) => myLayout({ ...options, scale: autoScale(n) }), // autoScale(1000) = 50
 */
export const autoScale = (n: number): number => Math.max(5, 0.05 * n);
