/**
 * The repulsive half of t-SNE's gradient for one step: for every point i,
 * Σ_j q_ij² (y_i − y_j) with q_ij = 1/(1 + |y_i − y_j|²), and the
 * normalisation Z = Σ_{i≠j} q_ij. Exact in O(n²), or Barnes-Hut in
 * O(n log n) with the usual opening criterion (cell size / distance < θ).
 */
import { QuadTree } from "./quadtree.ts";

export interface Repulsion {
  readonly name: string;
  /** Writes Σ_j q_ij² (y_i − y_j) into rep (n×2) and returns Z. */
  compute(y: Float64Array, n: number, rep: Float64Array): number;
  /**
   * The share of rows [from, to) (for one step split over threads): rep
   * (n×2, cleared first) and the returned part of Z add up, over shares
   * covering all rows, to what `compute` gives.
   */
  rows?(y: Float64Array, n: number, rep: Float64Array, from: number, to: number): number;
}

/**
 * Row boundaries that give each of `parts` threads the same work: equal
 * pair counts for the exact sum (row i holds n − 1 − i pairs), equal rows
 * otherwise.
 */
export function splitRows(n: number, parts: number, pairwise: boolean): number[] {
  const bounds = [0];
  for (let p = 1; p < parts; p++) {
    // Rows [0, b) hold n·b − b(b+1)/2 pairs; solve for a p/parts share.
    const share = p / parts;
    bounds.push(pairwise ? Math.round(n - Math.sqrt(n * n * (1 - share))) : Math.round(n * share));
  }
  bounds.push(n);
  return bounds;
}

export function exactRepulsion(): Repulsion {
  const rows = (y: Float64Array, n: number, rep: Float64Array, from: number, to: number): number => {
    rep.fill(0, 0, 2 * n);
    let z = 0;
    // Each pair is visited once and applied to both ends.
    for (let i = from; i < to; i++) {
      const xi = y[2 * i], yi = y[2 * i + 1];
      let fx = 0, fy = 0;
      for (let j = i + 1; j < n; j++) {
        const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        z += q;
        const q2 = q * q;
        const gx = q2 * dx, gy = q2 * dy;
        fx += gx;
        fy += gy;
        rep[2 * j] -= gx;
        rep[2 * j + 1] -= gy;
      }
      rep[2 * i] += fx;
      rep[2 * i + 1] += fy;
    }
    return 2 * z;
  };
  return { name: "exact", compute: (y, n, rep) => rows(y, n, rep, 0, n), rows };
}

export function barnesHutRepulsion(theta = 0.5): Repulsion {
  const tree = new QuadTree();
  let stack = new Int32Array(256);
  const theta2 = theta * theta;
  const rows = (y: Float64Array, n: number, rep: Float64Array, from: number, to: number): number => {
    // Every thread builds the tree over all points; it is cheap next to the traversals.
    tree.build(y, n);
    if (from > 0 || to < n) rep.fill(0, 0, 2 * n);
    const { count, comX, comY, half, child, point } = tree;
    let z = 0;
    for (let i = from; i < to; i++) {
      const xi = y[2 * i], yi = y[2 * i + 1];
      let fx = 0, fy = 0, top = 0;
      stack[top++] = 0;
      while (top > 0) {
        const k = stack[--top];
        const m = count[k];
        if (m === 0 || (m === 1 && point[k] === i)) continue;
        const dx = xi - comX[k], dy = yi - comY[k];
        const d2 = dx * dx + dy * dy;
        const width = 2 * half[k];
        if (child[k] < 0 || width * width < theta2 * d2) {
          // A far cell (or a leaf) acts as m points at its centre of mass;
          // a leaf of coincident points that holds i counts the others.
          const others = d2 === 0 && child[k] < 0 ? m - 1 : m;
          const q = 1 / (1 + d2);
          z += others * q;
          const w = others * q * q;
          fx += w * dx;
          fy += w * dy;
        } else {
          if (top + 4 > stack.length) {
            const bigger = new Int32Array(stack.length * 2);
            bigger.set(stack);
            stack = bigger;
          }
          const c = child[k];
          stack[top++] = c;
          stack[top++] = c + 1;
          stack[top++] = c + 2;
          stack[top++] = c + 3;
        }
      }
      rep[2 * i] = fx;
      rep[2 * i + 1] = fy;
    }
    return z;
  };
  return { name: "barnes-hut", compute: (y, n, rep) => rows(y, n, rep, 0, n), rows };
}
