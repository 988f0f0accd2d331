/**
 * Radial layout: lane coordinate = radius, free coordinate = angle. During
 * optimisation every lane is the same ring (radius `scale`), so each step's
 * t-SNE works at the same scale; for display step t is pushed out by
 * `gap · t`, turning the rings into the growth rings of the tree.
 */
import { autoScale, type Guide, type Layout } from "./layout.ts";
import { atan2, cos, sin } from "../util/portable_math.ts";

export interface RadialOptions {
  /** Ring radius during optimisation, or "auto" (default): fitted to the number of points. */
  radius?: number | "auto";
  /** Display distance between consecutive rings (default 1.75 × radius). */
  gap?: number;
}

export function radial(options: RadialOptions = {}): Layout {
  const radius = options.radius ?? "auto";
  const R = radius === "auto" ? 20 : radius, gap = options.gap ?? 1.75 * R;
  return {
    name: "radial",
    circular: true,
    native: ["radius", "angle"],
    scale: R,
    fit: (n) => (radius === "auto" ? radial({ ...options, radius: autoScale(n) }) : radial(options)),
    arrange() {
      return this;
    },
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
    place(_t, f, d, out) {
      out[0] = (R + d) * cos(f);
      out[1] = (R + d) * sin(f);
    },
    display(x, y, t, out) {
      const r = Math.sqrt(x * x + y * y) + gap * t, a = atan2(y, x);
      out[0] = r * cos(a);
      out[1] = r * sin(a);
      out[2] = r;
      out[3] = a;
    },
    guides: (steps) => steps.map((t) => ({ step: t, shape: "circle", cx: 0, cy: 0, r: R + gap * t }) as Guide),
  };
}
