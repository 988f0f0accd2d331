/**
 * Radial layout: lane coordinate = radius, free coordinate = angle. During
 * optimisation every lane is the same ring (radius `scale`), so each step's
 * t-SNE works at the same scale; for display step t moves out to its own
 * ring, turning the rings into the growth rings of the tree.
 *
 * A ring of display radius ρ stretches its points along the angle by ρ / R;
 * left unstretched across, each step's t-SNE flattens into a line and its
 * neighbourhoods suffer (per-step trustworthiness 0.936 on the drawn picture
 * against 0.971 in the optimisation frame, 10 steps × 500 instances, with
 * rings evenly spaced). So the distance from the lane centre is stretched
 * too, in proportion to ρ, as far as the neighbouring rings leave room; the
 * rings grow by a constant factor, which gives each ring room in proportion
 * to its radius, so every ring is drawn with the same shape (0.964 there).
 */
import { autoScale, type Guide, type Layout } from "./layout.ts";
import { atan2, cos, exp, pow, sin } from "../util/portable_math.ts";

export interface RadialOptions {
  /** Ring radius during optimisation, or "auto" (default): fitted to the number of points. */
  radius?: number | "auto";
  /**
   * Mean display distance between consecutive rings (default 1.75 × radius):
   * the last of L rings is drawn at radius + gap · (L − 1), as far out as with
   * even spacing, and the radii in between grow by a constant factor.
   */
  gap?: number;
}

/**
 * How far from its lane centre, in units of R, a point's distance stays
 * nearly proportional on display (tanh's linear range): the lanes' radial
 * spread is about ±0.3 R (displacement weights as built in).
 */
const SPREAD = 0.3;

/** The radial layout; until `arrange` tells it how many rings there are, it draws as for two. */
export function radial(options: RadialOptions = {}): Layout {
  return radialFor(options, 2);
}

/** The radial layout that displays `lanes` rings. */
function radialFor(options: RadialOptions, lanes: number): Layout {
  const radius = options.radius ?? "auto";
  const R = radius === "auto" ? 20 : radius, gap = options.gap ?? 1.75 * R;
  const steps = Math.max(lanes - 1, 1);
  const q = pow(1 + (gap * steps) / R, 1 / steps);
  // Display radius ρ_t (1 + κ tanh(d / (SPREAD · R))) for lane offset d: ring t reaches out to ρ_t (1 + κ),
  // ring t + 1 in to ρ_t q (1 − κ), which meet at κ = (q − 1) / (q + 1); at κ = SPREAD a ring keeps its shape.
  const kappa = Math.min(SPREAD, (q - 1) / (q + 1));
  const ring = (t: number) => R * pow(q, t);
  return {
    name: "radial",
    circular: true,
    native: ["radius", "angle"],
    scale: R,
    fit: (n) => radialFor(radius === "auto" ? { ...options, radius: autoScale(n) } : options, lanes),
    arrange: (count) => radialFor({ ...options, radius: R }, count),
    laneCenter: () => R,
    lane(x, y, g) {
      const r = Math.sqrt(x * x + y * y) || 1e-12;
      g[0] = x / r;
      g[1] = y / r;
      return r;
    },
    free(x, y, g) {
      const r2 = x * x + y * y || 1e-12;
      g[0] = -y / r2;
      g[1] = x / r2;
      return atan2(y, x);
    },
    freeDirection(x, y, g, u) {
      const r2 = x * x + y * y || 1e-12, r = Math.sqrt(r2);
      g[0] = -y / r2;
      g[1] = x / r2;
      u[0] = x / r;
      u[1] = y / r;
    },
    place(_t, f, d, out) {
      out[0] = (R + d) * cos(f);
      out[1] = (R + d) * sin(f);
    },
    display(x, y, t, out) {
      const d = Math.sqrt(x * x + y * y) - R, a = atan2(y, x);
      const r = ring(t) * (1 + kappa * (1 - 2 / (exp((2 * d) / (SPREAD * R)) + 1))); // tanh, the same bits in every runtime
      out[0] = r * cos(a);
      out[1] = r * sin(a);
      out[2] = r;
      out[3] = a;
    },
    guides: (steps) => steps.map((t) => ({ step: t, shape: "circle", cx: 0, cy: 0, r: ring(t) }) as Guide),
  };
}
