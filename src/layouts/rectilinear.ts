/**
 * Rectilinear layout: lane coordinate = x, free coordinate = y / scale.
 * During optimisation every lane is the line x = 0; for display step t moves
 * to x = gap · t, so steps read left to right as columns, and its guide is
 * the column from the lowest to the highest point's y.
 */
import { autoScale, type Guide, type Layout } from "./layout.ts";

export interface RectilinearOptions {
  /** Lane length scale (y is measured in units of it for the alignment loss), or "auto" (default). */
  scale?: number | "auto";
  /**
   * Display distance between consecutive columns, or "auto" (default): the
   * picture is about twice as wide as the points are tall (chosen by
   * `arrange`; 1.75 × scale before).
   */
  gap?: number | "auto";
}

export function rectilinear(options: RectilinearOptions = {}): Layout {
  const scale = options.scale ?? "auto";
  const S = scale === "auto" ? 20 : scale, gap = options.gap === undefined || options.gap === "auto" ? 1.75 * S : options.gap;
  return {
    name: "rectilinear",
    circular: false,
    native: ["lane", "offset"],
    scale: S,
    fit: (n) => (scale === "auto" ? rectilinear({ ...options, scale: autoScale(n) }) : rectilinear(options)),
    arrange(lanes, span) {
      if (options.gap !== undefined && options.gap !== "auto") return this;
      return rectilinear({ ...options, scale: S, gap: Math.max((2 * (span.max - span.min) * S) / Math.max(lanes - 1, 1), 1) });
    },
    laneCenter: () => 0,
    lane(x, _y, g) {
      g[0] = 1;
      g[1] = 0;
      return x;
    },
    free(_x, y, g) {
      g[0] = 0;
      g[1] = 1 / S;
      return y / S;
    },
    place(_t, f, d, out) {
      out[0] = d;
      out[1] = f * S;
    },
    display(x, y, t, out) {
      out[0] = x + gap * t;
      out[1] = y;
      out[2] = out[0];
      out[3] = y;
    },
    guides: (steps, span) =>
      steps.map((t) => ({ step: t, shape: "line", x1: gap * t, y1: span.min * S, x2: gap * t, y2: span.max * S }) as Guide),
  };
}
