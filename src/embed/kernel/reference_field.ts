/**
 * The Student-t field of a fixed set of reference points (a fitted step),
 * felt by points that are not among them: for a point y,
 * Z(y) = Σ_j q_j and Σ_j q_j² (y − y_j), q_j = 1/(1 + |y − y_j|²). This is
 * the repulsion of openTSNE's transform, where each new point is placed
 * against the fitted points alone. The reference points never move, so
 * their quadtree is built once; the points that feel it are grouped by a
 * quadtree of their own, and each group walks the reference tree once
 * (Barnes-Hut as the fitted steps' repulsion, `crossRepulsion`), or the sum
 * is exact below `exactBelow` reference points.
 */
import { crossRepulsion } from "./repulsion.ts";

export interface ReferenceFieldOptions {
  /** Barnes-Hut opening angle (default 0.5). */
  theta?: number;
  /** Reference points below which the field is summed exactly (default 500). */
  exactBelow?: number;
}

export class ReferenceField {
  readonly n: number;
  private readonly y: Float64Array;
  private readonly tree?: ReturnType<typeof crossRepulsion>;
  private one = new Float64Array(3);

  /** Over the n reference points y (n×2, x and y interleaved), which it copies. */
  constructor(y: Float64Array, n: number, options: ReferenceFieldOptions = {}) {
    this.n = n;
    this.y = y.slice(0, 2 * n);
    if (n >= (options.exactBelow ?? 500)) {
      this.tree = crossRepulsion(options.theta ?? 0.5);
      this.tree.reference(this.y, n);
    }
  }

  /**
   * For each of the `count` points of `targets` (count×2): out[3i], out[3i+1]
   * = Σ_j q_ij² (target − y_j) and out[3i+2] = Z_i = Σ_j q_ij.
   */
  sum(targets: Float64Array, count: number, out: Float64Array): void {
    if (this.tree) return this.tree.compute(targets, count, out);
    for (let i = 0; i < count; i++) out[3 * i + 2] = this.exact(targets[2 * i], targets[2 * i + 1], out, 3 * i);
  }

  /** One point: writes the force to out[0], out[1] and returns Z. */
  at(x: number, y: number, out: Float64Array): number {
    if (!this.tree) return this.exact(x, y, out, 0);
    this.tree.compute(Float64Array.of(x, y), 1, this.one);
    out[0] = this.one[0];
    out[1] = this.one[1];
    return this.one[2];
  }

  private exact(x: number, y: number, out: Float64Array, at: number): number {
    const ref = this.y;
    let z = 0, fx = 0, fy = 0;
    for (let j = 0; j < this.n; j++) {
      const dx = x - ref[2 * j], dy = y - ref[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      z += q;
      fx += q * q * dx;
      fy += q * q * dy;
    }
    out[at] = fx;
    out[at + 1] = fy;
    return z;
  }
}
