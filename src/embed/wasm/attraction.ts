/**
 * t-SNE's attraction, Σ_j p_ij q_ij (y_i − y_j) over the rows of P, for one
 * step whose rows are shared out over threads: by the SIMD kernel
 * (attraction.wat) where the runtime has WebAssembly SIMD, else in
 * JavaScript. Both give the same bits. The SIMD kernel reads P from its own
 * memory, copied there when a step's P first arrives (once a run), and the
 * points once an iteration.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";
import { wasm } from "./attraction_wasm.ts";
import { reserve, simdModule } from "./module.ts";

export interface AttractionRows {
  /** The points (n×2) for the rows that follow, until the next call. */
  points(y: Float64Array, n: number): void;
  /** Rows [from, to) of P into out[stride·i + at], out[stride·i + at + 1]. */
  rows(P: SparseMatrix, from: number, to: number, out: Float64Array, stride: number, at: number): void;
}

export function attractionRows(): AttractionRows {
  const m = simdModule(wasm);
  return m ? new SimdAttraction(new WebAssembly.Instance(m)) : scalarAttraction();
}

/** The JavaScript kernel, where the runtime has no WebAssembly SIMD. */
export function scalarAttraction(): AttractionRows {
  let points: Float64Array = new Float64Array(0);
  return {
    points: (y) => (points = y),
    rows: (P, from, to, out, stride, at) => attraction(points, P, from, to, out, stride, at),
  };
}

/** Σ_j p_ij q_ij (y_i − y_j) over each row i in [from, to) of P (unscaled), into out[stride·i + at], out[stride·i + at + 1]. */
export function attraction(y: Float64Array, P: SparseMatrix, from: number, to: number, out: Float64Array, stride: number, at: number): void {
  const { rowPtr, col, val } = P;
  for (let i = from; i < to; i++) {
    const xi = y[2 * i], yi = y[2 * i + 1], end = rowPtr[i + 1];
    let fx = 0, fy = 0;
    for (let e = rowPtr[i]; e < end; e++) {
      const j = col[e];
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      const pq = val[e] / (1 + dx * dx + dy * dy);
      fx += pq * dx;
      fy += pq * dy;
    }
    out[stride * i + at] = fx;
    out[stride * i + at + 1] = fy;
  }
}

/** Memory: points and results (n×2 f64 each), then P's rowPtr, col and val. */
class SimdAttraction implements AttractionRows {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (y: number, rowPtr: number, col: number, val: number, from: number, to: number, out: number) => void;
  private loaded?: SparseMatrix;
  private source: Float64Array = new Float64Array(0);
  private stale = false;
  private y = new Float64Array(0);
  private out = new Float64Array(0);
  private at = { rowPtr: 0, col: 0, val: 0 };

  constructor(instance: WebAssembly.Instance) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = instance.exports.attraction as SimdAttraction["run"];
  }

  points(y: Float64Array): void {
    this.source = y;
    this.stale = true;
  }

  rows(P: SparseMatrix, from: number, to: number, out: Float64Array, stride: number, at: number): void {
    if (P !== this.loaded) this.load(P);
    if (this.stale) this.y.set(this.source.subarray(0, this.y.length));
    this.stale = false;
    this.run(this.y.byteOffset, this.at.rowPtr, this.at.col, this.at.val, from, to, this.out.byteOffset);
    const o = this.out;
    for (let i = from; i < to; i++) {
      out[stride * i + at] = o[2 * i];
      out[stride * i + at + 1] = o[2 * i + 1];
    }
  }

  private load(P: SparseMatrix): void {
    const n = P.n, nnz = P.col.length;
    const rowPtr = 32 * n, col = rowPtr + 4 * (n + 1), val = 8 * Math.ceil((col + 4 * nnz) / 8);
    const buffer = reserve(this.memory, val + 8 * nnz);
    this.y = new Float64Array(buffer, 0, 2 * n);
    this.out = new Float64Array(buffer, 16 * n, 2 * n);
    new Int32Array(buffer, rowPtr, n + 1).set(P.rowPtr);
    new Int32Array(buffer, col, nnz).set(P.col);
    new Float64Array(buffer, val, nnz).set(P.val);
    this.at = { rowPtr, col, val };
    this.loaded = P;
    this.stale = true;
  }
}
