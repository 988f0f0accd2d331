/**
 * t-SNE's Student-t kernel, the built-in Kernel. It owns its hot loops,
 * specialised for its form, because this is where nearly all the time goes,
 * and it is a ThreadedKernel: worker threads rebuild it from its options.
 */
import { fftRepulsion, type FftRepulsionOptions } from "./fft_repulsion.ts";
import { barnesHutRepulsion, exactRepulsion, type Repulsion } from "./repulsion.ts";
import type { KernelRecipe, ThreadedKernel } from "./threaded.ts";
import { attraction } from "../wasm/attraction.ts";
import { log } from "../../util/portable_math.ts";

export interface StudentTOptions {
  /**
   * How the repulsion is summed: "exact" (O(n²)), "barnes-hut" (O(n log n),
   * approximate), "fft" (FIt-SNE's interpolation, O(n) plus a grid that grows
   * with the points' extent; Barnes-Hut where the points spread wider than
   * the largest grid holds, since wider boxes lose the accuracy), or "auto"
   * (default): exact below `exactBelow` points, else FFT where its grid is
   * predicted faster than Barnes-Hut.
   */
  repulsion?: "exact" | "barnes-hut" | "fft" | "auto";
  /** Barnes-Hut opening angle (default 0.5). */
  theta?: number;
  /** The FFT interpolation's grid (defaults as in fftRepulsion). */
  fft?: FftRepulsionOptions;
  /** The point count from which "auto" leaves the exact sum (default 500; Barnes-Hut is faster from about 300). */
  exactBelow?: number;
}

/** Rows per attraction chunk of a step split over threads. */
const ATTRACTION_ROWS = 1024;

/** t-SNE's Student-t kernel with one degree of freedom, q ∝ 1/(1 + d²). */
export function studentT(options: StudentTOptions = {}): ThreadedKernel {
  const mode = options.repulsion ?? "auto", exactBelow = options.exactBelow ?? 500;
  const exact = exactRepulsion(), tree = barnesHutRepulsion(options.theta ?? 0.5), fft = fftRepulsion(options.fft);
  const pick = (y: Float64Array, n: number): Repulsion => {
    if (mode === "fft") return fft.holds(y, n) ? fft : tree;
    if (mode !== "auto") return mode === "exact" ? exact : tree;
    return n < exactBelow ? exact : fft.fasterThanTree(y, n) ? fft : tree;
  };
  let rep = new Float64Array(0), att = new Float64Array(0);
  let chunked: Repulsion | undefined, repulsionChunks = 0, attractionChunks = 0;
  return {
    name: "student-t",
    recipe: recipe(options),
    klGradient(y, P, exaggeration, weight, grad) {
      const n = P.n;
      if (rep.length < 2 * n) rep = new Float64Array(2 * n);
      const z = pick(y, n).compute(y, n, rep), a = 4 * weight * exaggeration, r = z > 0 ? (4 * weight) / z : 0;
      if (att.length < 2 * n) att = new Float64Array(2 * n);
      attraction(y, P, 0, n, att, 2, 0);
      for (let i = 0; i < 2 * n; i++) grad[i] += a * att[i] - r * rep[i];
    },
    split: {
      // Every thread must sum the repulsion alike: the choice travels in the recipe. FFT does not split.
      recipe(y, n) {
        const chosen = pick(y, n);
        return chosen === fft ? undefined : recipe({ ...options, repulsion: chosen === exact ? "exact" : "barnes-hut" });
      },
      workspace: (y, n) => pick(y, n).split!.workspace?.(n),
      // The repulsion's chunk 0 comes first (it may build what its other chunks wait for), then the
      // attraction in runs of rows (in row order, which reads P in order), then the other repulsion chunks.
      prepareChunks(y, n, workspace) {
        chunked = pick(y, n);
        repulsionChunks = chunked.split!.prepare(y, n, workspace);
        attractionChunks = Math.ceil(n / ATTRACTION_ROWS);
        return repulsionChunks + attractionChunks;
      },
      gradientChunk(y, P, c, out) {
        if (c === 0 || c > attractionChunks) return chunked!.split!.chunk(y, P.n, c === 0 ? 0 : c - attractionChunks, out, 5);
        const from = (c - 1) * ATTRACTION_ROWS;
        attraction(y, P, from, Math.min(from + ATTRACTION_ROWS, P.n), out, 5, 3);
      },
      finishChunks(n, out, exaggeration, weight, grad) {
        let z = 0;
        for (let i = 0; i < n; i++) z += out[5 * i + 2];
        const a = 4 * weight * exaggeration, r = z > 0 ? (4 * weight) / z : 0;
        for (let i = 0; i < n; i++) {
          grad[2 * i] += a * out[5 * i + 3] - r * out[5 * i];
          grad[2 * i + 1] += a * out[5 * i + 4] - r * out[5 * i + 1];
        }
      },
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
          kl += p * log((p * z) * (1 + dx * dx + dy * dy));
        }
      }
      return kl;
    },
  };
}

/** How a worker thread rebuilds a Student-t kernel with these options. */
const recipe = (options: StudentTOptions): KernelRecipe => ({ module: import.meta.url, factory: "studentT", options: { ...options } });
