/**
 * The Student-t field of a fixed set of reference points (a fitted step),
 * felt by points that are not among them: for a point y,
 * Z(y) = Σ_j q_j and Σ_j q_j² (y − y_j), q_j = 1/(1 + |y − y_j|²). This is
 * the repulsion of openTSNE's transform, where each new point is placed
 * against the fitted points alone. The reference points never move, so
 * their quadtree is built once; each query walks it (Barnes-Hut, opening
 * criterion cell extent < θ · distance), or sums exactly below `exactBelow`
 * reference points.
 */
import { QuadTree } from "./quadtree.ts";

export interface ReferenceFieldOptions {
  /** Barnes-Hut opening angle (default 0.5). */
  theta?: number;
  /** Reference points below which the field is summed exactly (default 500). */
  exactBelow?: number;
}

export class ReferenceField {
  readonly n: number;
  private readonly y: Float64Array;
  private readonly tree?: QuadTree;
  private readonly theta2: number;
  private stack = new Int32Array(256);

  /** Over the n reference points y (n×2, x and y interleaved), which it copies. */
  constructor(y: Float64Array, n: number, options: ReferenceFieldOptions = {}) {
    this.n = n;
    this.y = y.slice(0, 2 * n);
    const theta = options.theta ?? 0.5;
    this.theta2 = theta * theta;
    if (n >= (options.exactBelow ?? 500)) {
      this.tree = new QuadTree();
      this.tree.build(this.y, n);
    }
  }

  /** Writes Σ_j q_j² (x − x_j), Σ_j q_j² (y − y_j) to out[0], out[1] and returns Z = Σ_j q_j. */
  at(x: number, y: number, out: Float64Array): number {
    return this.tree ? this.walk(this.tree, x, y, out) : this.exact(x, y, out);
  }

  private exact(x: number, y: number, out: Float64Array): number {
    const ref = this.y;
    let z = 0, fx = 0, fy = 0;
    for (let j = 0; j < this.n; j++) {
      const dx = x - ref[2 * j], dy = y - ref[2 * j + 1];
      const q = 1 / (1 + dx * dx + dy * dy);
      z += q;
      fx += q * q * dx;
      fy += q * q * dy;
    }
    out[0] = fx;
    out[1] = fy;
    return z;
  }

  private walk(tree: QuadTree, x: number, y: number, out: Float64Array): number {
    const { start, count, comX, comY, extent, firstChild, children, sx, sy } = tree;
    let z = 0, fx = 0, fy = 0, top = 0;
    let stack = this.stack;
    stack[top++] = 0;
    while (top > 0) {
      const k = stack[--top];
      if (children[k] === 0) {
        for (let p = start[k]; p < start[k] + count[k]; p++) {
          const dx = x - sx[p], dy = y - sy[p];
          const q = 1 / (1 + dx * dx + dy * dy);
          z += q;
          fx += q * q * dx;
          fy += q * q * dy;
        }
        continue;
      }
      const dx = x - comX[k], dy = y - comY[k], d2 = dx * dx + dy * dy;
      if (extent[k] * extent[k] < this.theta2 * d2) {
        const q = 1 / (1 + d2), mq = count[k] * q;
        z += mq;
        fx += mq * q * dx;
        fy += mq * q * dy;
        continue;
      }
      if (top + 4 > stack.length) {
        const grown = new Int32Array(2 * stack.length);
        grown.set(stack);
        stack = this.stack = grown;
      }
      for (let c = firstChild[k]; c < firstChild[k] + children[k]; c++) stack[top++] = c;
    }
    out[0] = fx;
    out[1] = fy;
    return z;
  }
}
