/**
 * The semantic loss of new points placed into a fitted step (openTSNE's
 * transform): each new point i has affinities p(j | i) to the fitted points
 * j of its step (summing to 1 over j), and its own Student-t distribution
 * over them, q(j | i) = w_ij / Z_i with w_ij = 1/(1 + |y_i − y_j|²) and
 * Z_i = Σ_j w_ij. The fitted points do not move and new points do not feel
 * one another, so every new point is placed independently of the others.
 *
 * L = weight · (2 / n) · Σ_i KL(p(· | i) ‖ q(· | i)) over a step's n new
 * points; its gradient, weight · (4 / n) · Σ_j (p(j | i) − q(j | i)) w_ij
 * (y_i − y_j), has the size a fitted point's t-SNE gradient has, so the
 * other losses' weights mean what they meant in the fit. The attraction is
 * multiplied by the exaggeration in force.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";
import { ReferenceField } from "../kernel/reference_field.ts";
import type { StepState } from "../state/state.ts";
import { type Loss, type Weight, weightAt } from "./loss.ts";

/** What a step of new points is placed against. */
export interface Anchor {
  /** n × (fitted points): each new point's affinities to the fitted points (columns index `field`'s points). */
  P: SparseMatrix;
  /** The fitted points' positions (n_fit × 2). */
  reference: Float64Array;
  /** Their Student-t field. */
  field: ReferenceField;
}

export interface AnchoredSemanticOptions {
  /** The anchor of each step of new points. */
  anchors: Map<StepState, Anchor>;
  weight?: Weight;
}

export function anchoredSemantic(options: AnchoredSemanticOptions): Loss {
  const { anchors } = options;
  const weight = options.weight ?? 1;
  let rep = new Float64Array(0);
  const anchorOf = (s: StepState) => {
    const a = anchors.get(s);
    if (!a) throw new Error(`anchoredSemantic: step ${s.step} has no anchor`);
    return a;
  };
  return {
    name: "anchored-semantic",
    gradient(ctx) {
      const w = weightAt(weight, ctx.progress), e = ctx.exaggeration;
      ctx.steps.forEach((s, k) => {
        if (!ctx.active[k]) return;
        const { P, reference: r, field } = anchorOf(s), { rowPtr, col, val } = P;
        const scale = (4 * w) / s.n;
        if (rep.length < 3 * s.n) rep = new Float64Array(3 * s.n);
        field.sum(s.y, s.n, rep);
        for (let i = 0; i < s.n; i++) {
          const xi = s.y[2 * i], yi = s.y[2 * i + 1], z = rep[3 * i + 2];
          let ax = 0, ay = 0;
          for (let t = rowPtr[i]; t < rowPtr[i + 1]; t++) {
            const j = col[t], dx = xi - r[2 * j], dy = yi - r[2 * j + 1];
            const pq = val[t] / (1 + dx * dx + dy * dy);
            ax += pq * dx;
            ay += pq * dy;
          }
          s.grad[2 * i] += scale * (e * ax - rep[3 * i] / z);
          s.grad[2 * i + 1] += scale * (e * ay - rep[3 * i + 1] / z);
        }
      });
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress);
      let total = 0;
      for (const s of ctx.steps) {
        const { P, reference: r, field } = anchorOf(s), { rowPtr, col, val } = P;
        let kl = 0;
        if (rep.length < 3 * s.n) rep = new Float64Array(3 * s.n);
        field.sum(s.y, s.n, rep);
        for (let i = 0; i < s.n; i++) {
          const xi = s.y[2 * i], yi = s.y[2 * i + 1];
          const logZ = Math.log(rep[3 * i + 2]);
          for (let t = rowPtr[i]; t < rowPtr[i + 1]; t++) {
            const p = val[t];
            if (p <= 0) continue;
            const j = col[t], dx = xi - r[2 * j], dy = yi - r[2 * j + 1];
            kl += p * (Math.log(p) + Math.log(1 + dx * dx + dy * dy) + logZ);
          }
        }
        total += ((2 * w) / s.n) * kl;
      }
      return total;
    },
  };
}
