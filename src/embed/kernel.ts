/**
 * Low-dimensional relations (ParaDime's "relations" on the embedding): the
 * kernel that turns 2-D distances of one step's points into Q_t, with the
 * gradient of KL(P_t ‖ Q_t). Each kernel owns its hot loop, specialised for
 * its form, because this loop is where nearly all the time goes.
 */
import type { SparseMatrix } from "./sparse.ts";

export interface Kernel {
  readonly name: string;
  /**
   * Adds weight · ∂KL(P‖Q)/∂y to grad for one step's points y (n×2), with
   * the attraction multiplied by `exaggeration`.
   */
  klGradient(y: Float64Array, P: SparseMatrix, exaggeration: number, weight: number, grad: Float64Array): void;
  /** KL(P‖Q) for the current points. */
  kl(y: Float64Array, P: SparseMatrix): number;
}

/** t-SNE's Student-t kernel with one degree of freedom, q ∝ 1/(1 + d²), computed exactly. */
export function studentT(): Kernel {
  let repulsion = new Float64Array(0);
  return {
    name: "student-t",
    klGradient(y, P, exaggeration, weight, grad) {
      const n = P.n;
      if (repulsion.length < 2 * n) repulsion = new Float64Array(2 * n);
      const rep = repulsion;
      rep.fill(0, 0, 2 * n);
      // Repulsion over all pairs, each pair visited once.
      let z = 0;
      for (let i = 0; i < n; i++) {
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
      const invZ = z > 0 ? 1 / (2 * z) : 0;
      // Attraction over the sparse P.
      const { rowPtr, col, val } = P;
      const a = 4 * weight * exaggeration, r = 4 * weight * invZ;
      for (let i = 0; i < n; i++) {
        const xi = y[2 * i], yi = y[2 * i + 1];
        let fx = 0, fy = 0;
        for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
          const j = col[e];
          const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
          const pq = val[e] / (1 + dx * dx + dy * dy);
          fx += pq * dx;
          fy += pq * dy;
        }
        grad[2 * i] += a * fx - r * rep[2 * i];
        grad[2 * i + 1] += a * fy - r * rep[2 * i + 1];
      }
    },
    kl(y, P) {
      const n = P.n;
      let z = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          z += 2 / (1 + dx * dx + dy * dy);
        }
      }
      let kl = 0;
      for (let i = 0; i < n; i++) {
        for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
          const p = P.val[e];
          if (p <= 0) continue;
          const j = P.col[e];
          const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          kl += p * Math.log(p / (1 / (1 + dx * dx + dy * dy) / z));
        }
      }
      return kl;
    },
  };
}
