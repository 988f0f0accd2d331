/**
 * FFT-accelerated interpolation of the repulsion (FIt-SNE, Linderman et al.
 * 2019; openTSNE's "fft" negative gradient). The points' bounding square is
 * cut into B×B equal boxes with p Lagrange interpolation nodes per box and
 * dimension, so the nodes form one equispaced N×N grid (N = pB). Each point
 * spreads four charges (1, y_x, y_y, |y|²) onto its box's p×p nodes; the
 * node potentials are the charges convolved with the squared kernel
 * K(d) = 1/(1 + d²)², a Toeplitz product done by 2-D FFT on a zero-padded
 * m×m circulant (m ≥ 2N − 1); the potentials are interpolated back to the
 * points. With φ1..φ4 the potentials of the four charges at point i,
 *   Σ_j q_ij² (y_i − y_j) = y_i φ1 − (φ2, φ3),
 *   Σ_j q_ij = Σ_j q_ij² (1 + |y_i − y_j|²) = (1 + |y_i|²) φ1 − 2 y_i·(φ2, φ3) + φ4,
 * and Z is their sum over i less n (the i = j terms, K(0) = 1).
 *
 * The cost is O(n p²) for the interpolation plus O(m² log m) for the FFTs,
 * so it depends on the points' extent more than on n: boxes are at most
 * 1/intervalsPerUnit wide (the kernel varies on a scale of 1).
 */
import { boundingBox } from "./bounds.ts";
import FFT from "fft.js";
import { OptionError } from "../../errors.ts";
import type { Repulsion } from "./repulsion.ts";
import { cos, sin } from "../../util/portable_math.ts";

export interface FftRepulsionOptions {
  /** Lagrange interpolation nodes per box and dimension (FIt-SNE's n_interpolation_points; default 3). */
  interpolationPoints?: number;
  /** Boxes per unit length, so a box is at most about 1/intervalsPerUnit wide (FIt-SNE's intervals_per_integer; default 1). */
  intervalsPerUnit?: number;
  /**
   * The fewest boxes per dimension (FIt-SNE's min_num_intervals; default 40,
   * not 50: fft.js needs powers of two, and m = 256 holds 42 boxes where 50
   * would double m).
   */
  minIntervals?: number;
  /**
   * The largest FFT size per dimension (a power of two; default 1024). Points
   * spread wider than it holds at the target box size get wider boxes, and
   * the accuracy drops.
   */
  maxGrid?: number;
}

/** Box sizes snap to powers of 2^(1/8), so a drifting extent reuses a cached kernel. */
const LADDER = 8;
/**
 * 2^(j/8) for j = 0..7, so a box width 2^(step/8) is the same double in
 * every runtime (their pow functions differ in the last bit).
 */
const LADDER_ROOTS = [1, 1.0905077326652577, 1.189207115002721, 1.2968395546510096, 1.4142135623730951, 1.542210825407941, 1.6817928305074292, 1.8340080864093424];
/** Kernels kept for the box sizes met last (an extent wavering at a ladder step). */
const CACHED = 2;
/**
 * Measured costs (`npm run bench repulsion`, Node 20 and Bun 1.4): the FFTs
 * take about 7 ns · m² log₂ m, the interpolation 0.2 µs a point, Barnes-Hut
 * (θ = 0.5, group-wise traversal) 30 to 60 ns · n log₂ n (Node); a near tie
 * goes to the tree.
 */
const FFT_NS = 7, POINT_NS = 200, TREE_NS = 50;

export interface FftRepulsion extends Repulsion {
  /**
   * Whether the grid holds these points with boxes of the target size;
   * where it does not (points spread wider than maxGrid allows), boxes are
   * widened and the error grows with them (past 100 % on a 10,000-point
   * lane ring, `npm run bench repulsion`).
   */
  holds(y: Float64Array, n: number): boolean;
  /**
   * Whether these points are predicted to be summed faster this way than by
   * Barnes-Hut, with boxes within the target size (not widened by maxGrid).
   */
  fasterThanTree(y: Float64Array, n: number): boolean;
}

export function fftRepulsion(options: FftRepulsionOptions = {}): FftRepulsion {
  const p = options.interpolationPoints ?? 3, perUnit = options.intervalsPerUnit ?? 1;
  const minIntervals = options.minIntervals ?? 40, maxGrid = options.maxGrid ?? 1024;
  if (!Number.isInteger(p) || p < 2) throw new OptionError("interpolationPoints", `must be an integer of at least 2, got ${p}`);
  if (!(perUnit > 0) || !Number.isFinite(perUnit)) throw new OptionError("intervalsPerUnit", `must be a positive number, got ${perUnit}`);
  if (!Number.isInteger(minIntervals) || minIntervals < 1) throw new OptionError("minIntervals", `must be a positive integer, got ${minIntervals}`);
  if (!Number.isInteger(maxGrid) || maxGrid < 2 * p || (maxGrid & (maxGrid - 1)) !== 0) {
    throw new OptionError("maxGrid", `must be a power of two of at least ${2 * p}, got ${maxGrid}`);
  }
  // Nodes sit at (k + ½)/p of a box, so the nodes of all boxes are equispaced.
  const lagrange = new Float64Array(p);
  for (let k = 0; k < p; k++) {
    let d = 1;
    for (let l = 0; l < p; l++) if (l !== k) d *= (k - l) / p;
    lagrange[k] = 1 / d;
  }
  const weights = (t: number, out: Float64Array, at: number) => {
    for (let k = 0; k < p; k++) {
      let w = lagrange[k];
      for (let l = 0; l < p; l++) if (l !== k) w *= t - (l + 0.5) / p;
      out[at + k] = w;
    }
  };

  // The points' bounding box (minX, minY, maxX, maxY) and its side, at least one box wide.
  const box = new Float64Array(4);
  const extentOf = (y: Float64Array, n: number): number => {
    boundingBox(y, n, box);
    return Math.max(box[2] - box[0], box[3] - box[1], 1 / perUnit);
  };
  // The FFT size for boxes of at most the target width: m ≥ 2N − 1 for N = p·boxes nodes.
  const sizeFor = (extent: number): number => {
    const target = Math.min(1 / perUnit, extent / minIntervals);
    return Math.max(2 * p, 2 ** Math.ceil(Math.log2(2 * p * Math.ceil(extent / target) - 1)));
  };

  const grids = new Map<string, Grid>();
  const gridFor = (extent: number): Grid => {
    const m = Math.min(maxGrid, sizeFor(extent));
    // The finest boxes this FFT size holds, their width snapped up to the ladder.
    const boxes = Math.floor((m + 1) / (2 * p));
    const step = Math.ceil(LADDER * Math.log2(extent / boxes));
    const key = `${m}/${step}`;
    let grid = grids.get(key);
    if (grid) {
      grids.delete(key);
    } else {
      grid = new Grid(m, p * boxes, ladderWidth(step), p);
      if (grids.size >= CACHED) grids.delete(grids.keys().next().value!);
    }
    grids.set(key, grid);
    return grid;
  };

  // Per point: the flat index of its first node and the p weights per dimension.
  let first = new Int32Array(0), wx = new Float64Array(0), wy = new Float64Array(0);
  return {
    name: "fft",
    holds: (y, n) => sizeFor(extentOf(y, n)) <= maxGrid,
    fasterThanTree(y, n) {
      const m = sizeFor(extentOf(y, n));
      return m <= maxGrid && FFT_NS * m * m * Math.log2(m) + POINT_NS * n < TREE_NS * n * Math.log2(n);
    },
    compute(y, n, rep) {
      rep.fill(0, 0, 2 * n);
      if (n < 2) return 0;
      const grid = gridFor(extentOf(y, n));
      const { m, h, last } = grid, minX = box[0], minY = box[1], maxX = box[2], maxY = box[3];
      if (first.length < n) {
        first = new Int32Array(n);
        wx = new Float64Array(n * p);
        wy = new Float64Array(n * p);
      }
      // Charges use coordinates about the centre: smaller |y| cancels less in φ.
      const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
      const g1 = grid.charges[0], g2 = grid.charges[1];
      g1.fill(0);
      g2.fill(0);
      for (let i = 0; i < n; i++) {
        const u = (y[2 * i] - minX) / h, v = (y[2 * i + 1] - minY) / h;
        const bx = Math.min(last, Math.floor(u)), by = Math.min(last, Math.floor(v));
        weights(u - bx, wx, i * p);
        weights(v - by, wy, i * p);
        const f = first[i] = by * p * m + bx * p;
        const x = y[2 * i] - cx, yy = y[2 * i + 1] - cy, r2 = x * x + yy * yy;
        for (let a = 0; a < p; a++) {
          const row = f + a * m, wa = wy[i * p + a];
          for (let b = 0; b < p; b++) {
            const w = wa * wx[i * p + b], at = 2 * (row + b);
            g1[at] += w;
            g1[at + 1] += w * x;
            g2[at] += w * yy;
            g2[at + 1] += w * r2;
          }
        }
      }
      grid.convolve();
      let z = 0;
      for (let i = 0; i < n; i++) {
        const f = first[i];
        let phi1 = 0, phi2 = 0, phi3 = 0, phi4 = 0;
        for (let a = 0; a < p; a++) {
          const row = f + a * m, wa = wy[i * p + a];
          for (let b = 0; b < p; b++) {
            const w = wa * wx[i * p + b], at = 2 * (row + b);
            phi1 += w * g1[at];
            phi2 += w * g1[at + 1];
            phi3 += w * g2[at];
            phi4 += w * g2[at + 1];
          }
        }
        const x = y[2 * i] - cx, yy = y[2 * i + 1] - cy;
        rep[2 * i] = x * phi1 - phi2;
        rep[2 * i + 1] = yy * phi1 - phi3;
        z += (1 + x * x + yy * yy) * phi1 - 2 * (x * phi2 + yy * phi3) + phi4;
      }
      return z - n;
    },
  };
}

/** 2^(step / LADDER), from exact doubling or halving of a tabled root. */
function ladderWidth(step: number): number {
  const whole = Math.floor(step / LADDER);
  let width = LADDER_ROOTS[step - whole * LADDER];
  for (let i = 0; i < whole; i++) width *= 2;
  for (let i = 0; i > whole; i--) width /= 2;
  return width;
}

/**
 * One grid size: N×N nodes spaced h/p apart, the spectrum of the kernel on
 * the m×m circulant, and two complex charge grids (the four real charges
 * packed in pairs; the kernel is real, so the pairs do not mix). A charge
 * grid keeps only the N rows that hold nodes; the padding rows are zero
 * and are supplied inside the column transforms.
 */
class Grid {
  /** The last box index per dimension. */
  readonly last: number;
  readonly charges: [Float64Array, Float64Array];
  /** The kernel's spectrum (real: the kernel is real and even), m×m. */
  readonly #spectrum: Float64Array;
  readonly #fft: FFT;
  // fft.js runs faster on plain arrays than on typed ones.
  readonly #a: number[];
  readonly #b: number[];

  constructor(readonly m: number, readonly nodes: number, readonly h: number, p: number) {
    this.last = nodes / p - 1;
    this.#fft = new FFT(m);
    // fft.js fills its twiddle table with Math.cos and Math.sin, whose last
    // bits differ between runtimes; the same values, computed portably.
    const table = (this.#fft as unknown as { table: number[] }).table;
    for (let i = 0; i < table.length; i += 2) {
      const angle = (Math.PI * i) / m;
      table[i] = cos(angle);
      table[i + 1] = -sin(angle);
    }
    this.#a = this.#fft.createComplexArray();
    this.#b = this.#fft.createComplexArray();
    this.charges = [new Float64Array(2 * m * nodes), new Float64Array(2 * m * nodes)];
    // The kernel at every node offset (dx, dy), |dx|, |dy| < N, wrapped onto the circulant.
    const spacing = h / p, kernel = new Float64Array(2 * m * m);
    for (let r = 0; r < m; r++) {
      const dy = r < nodes ? r : m - r;
      if (dy >= nodes) continue;
      for (let c = 0; c < m; c++) {
        const dx = c < nodes ? c : m - c;
        if (dx >= nodes) continue;
        const q = 1 / (1 + spacing * spacing * (dx * dx + dy * dy));
        kernel[2 * (r * m + c)] = q * q;
      }
    }
    this.#rows(kernel, m, false);
    this.#columns(kernel, m);
    this.#spectrum = new Float64Array(m * m);
    for (let k = 0; k < m * m; k++) this.#spectrum[k] = kernel[2 * k];
  }

  /** Replaces both charge grids by their convolution with the kernel. */
  convolve(): void {
    for (const g of this.charges) {
      this.#rows(g, this.nodes, false);
      this.#columns(g, this.nodes, this.#spectrum);
      this.#rows(g, this.nodes, true);
    }
  }

  /** Transforms the first `count` rows of g (m complex values each) in place. */
  #rows(g: Float64Array, count: number, inverse: boolean): void {
    const m = this.m, fft = this.#fft, a = this.#a, b = this.#b;
    for (let r = 0, o = 0; r < count; r++, o += 2 * m) {
      for (let k = 0; k < 2 * m; k++) a[k] = g[o + k];
      if (inverse) fft.inverseTransform(b, a);
      else fft.transform(b, a);
      for (let k = 0; k < 2 * m; k++) g[o + k] = b[k];
    }
  }

  /**
   * Transforms every column of g, whose rows from `count` on are zero, and
   * keeps the first `count` rows of the result; with a spectrum, multiplies
   * by it and transforms back before keeping them.
   */
  #columns(g: Float64Array, count: number, spectrum?: Float64Array): void {
    const m = this.m, fft = this.#fft, a = this.#a, b = this.#b;
    for (let c = 0; c < m; c++) {
      for (let r = 0; r < count; r++) {
        a[2 * r] = g[2 * (r * m + c)];
        a[2 * r + 1] = g[2 * (r * m + c) + 1];
      }
      for (let k = 2 * count; k < 2 * m; k++) a[k] = 0;
      fft.transform(b, a);
      let out = b;
      if (spectrum) {
        for (let r = 0; r < m; r++) {
          const s = spectrum[r * m + c];
          b[2 * r] *= s;
          b[2 * r + 1] *= s;
        }
        fft.inverseTransform(a, b);
        out = a;
      }
      for (let r = 0; r < count; r++) {
        g[2 * (r * m + c)] = out[2 * r];
        g[2 * (r * m + c) + 1] = out[2 * r + 1];
      }
    }
  }
}
