/**
 * t-SNE's attraction, Σ_j p_ij q_ij (y_i − y_j) over rows of P: by the SIMD
 * kernel (attraction.wat) for a step placed in shared WebAssembly memory,
 * else in JavaScript. Both give the same bits.
 *
 * A step is placed once, when its state is made (`placeStep`): its points,
 * its P and a buffer for the kernel's results are copied into a segment of
 * shared WebAssembly memory, and the state keeps those copies, so the
 * kernel reads them in place on every thread, with no copy per iteration
 * and no second P. Segments are never reused: one is released with the last
 * view into it, so a placed array can never be overwritten by another.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";
import { wasm } from "./attraction_wasm.ts";
import { simdModule } from "../../util/wasm_module.ts";

/** Where a placed step lies in its segment (byte offsets), as sent to worker threads. */
export interface Placement {
  memory: WebAssembly.Memory;
  /** The segment's number in this process, so that a thread instantiates the kernel once per segment. */
  segment: number;
  y: number;
  out: number;
  rowPtr: number;
  col: number;
  val: number;
}

type Kernel = (y: number, rowPtr: number, col: number, val: number, from: number, to: number, out: number) => void;

/** A placed step as one thread sees it: its points (the very array the state holds), results, kernel. */
interface Placed {
  y: Float64Array;
  out: Float64Array;
  run: Kernel;
  placement: Placement;
}

/** Steps placed or adopted on this thread, by their P. */
const placed = new WeakMap<SparseMatrix, Placed>();

/** A segment holds the steps placed until it is full (a larger step gets a segment of its own size). */
const SEGMENT_BYTES = 64 * 2 ** 20, PAGE = 65536, MAX_PAGES = 65536;

let current: { memory: WebAssembly.Memory; segment: number; used: number; run: Kernel } | undefined;
let segments = 0;

/**
 * The step's points and P in shared WebAssembly memory, for the SIMD
 * kernel: the points (n×2, zero, to be filled by the caller) and a P with
 * the same entries. Undefined where the runtime has no WebAssembly SIMD or
 * shared memory (a page without cross-origin isolation); the step then
 * keeps its own arrays and the JavaScript kernel.
 */
export function placeStep(P: SparseMatrix): { P: SparseMatrix; y: Float64Array } | undefined {
  const module = simdModule(wasm);
  if (!module || typeof SharedArrayBuffer !== "function") return undefined;
  const n = P.n, nnz = P.col.length;
  const y = 0, out = 16 * n, rowPtr = 32 * n, col = rowPtr + 4 * (n + 1), val = 8 * Math.ceil((col + 4 * nnz) / 8);
  const bytes = 16 * Math.ceil((val + 8 * nnz) / 16);
  if (!current || current.used + bytes > current.memory.buffer.byteLength) {
    const pages = Math.ceil(Math.max(bytes, SEGMENT_BYTES) / PAGE);
    if (pages > MAX_PAGES) return undefined;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    } catch {
      return undefined;
    }
    current = { memory, segment: segments++, used: 0, run: kernelIn(module, memory) };
  }
  const base = current.used, buffer = current.memory.buffer;
  current.used += bytes;
  const placement: Placement = { memory: current.memory, segment: current.segment, y: base + y, out: base + out, rowPtr: base + rowPtr, col: base + col, val: base + val };
  const copy: SparseMatrix = {
    n,
    rowPtr: new Int32Array(buffer, placement.rowPtr, n + 1),
    col: new Int32Array(buffer, placement.col, nnz),
    val: new Float64Array(buffer, placement.val, nnz),
  };
  copy.rowPtr.set(P.rowPtr);
  copy.col.set(P.col);
  copy.val.set(P.val);
  const points = new Float64Array(buffer, placement.y, 2 * n);
  placed.set(copy, { y: points, out: new Float64Array(buffer, placement.out, 2 * n), run: current.run, placement });
  return { P: copy, y: points };
}

/** Where P was placed, for a worker thread to adopt it; undefined if it was not. */
export const placementOf = (P: SparseMatrix): Placement | undefined => placed.get(P)?.placement;

/** Kernels a worker thread made, by segment (a thread instantiates the kernel once per segment). */
const adopted = new Map<number, Kernel>();

/** On a worker thread: P and y, as received, are the placed step `placement` describes. */
export function adoptPlacement(P: SparseMatrix, y: Float64Array, placement: Placement): void {
  const module = simdModule(wasm)!;
  let run = adopted.get(placement.segment);
  if (!run) adopted.set(placement.segment, run = kernelIn(module, placement.memory));
  placed.set(P, { y, out: new Float64Array(placement.memory.buffer, placement.out, y.length), run, placement });
}

function kernelIn(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernel {
  return new WebAssembly.Instance(module, { env: { memory } }).exports.attraction as Kernel;
}

/**
 * Σ_j p_ij q_ij (y_i − y_j) over each row i in [from, to) of P (unscaled),
 * into out[stride·i + at], out[stride·i + at + 1]: by the SIMD kernel where
 * P and y are a placed step's own, else in JavaScript.
 */
export function attraction(y: Float64Array, P: SparseMatrix, from: number, to: number, out: Float64Array, stride: number, at: number): void {
  const step = placed.get(P);
  if (step?.y !== y) return scalarAttraction(y, P, from, to, out, stride, at);
  const { placement: p, out: o } = step;
  step.run(p.y, p.rowPtr, p.col, p.val, from, to, p.out);
  for (let i = from; i < to; i++) {
    out[stride * i + at] = o[2 * i];
    out[stride * i + at + 1] = o[2 * i + 1];
  }
}

/**
 * The JavaScript kernel: for steps not placed, and where the runtime has no
 * WebAssembly SIMD. A row's even and odd entries are summed apart and added
 * at the end, as the SIMD kernel's two lanes sum them.
 */
export function scalarAttraction(y: Float64Array, P: SparseMatrix, from: number, to: number, out: Float64Array, stride: number, at: number): void {
  const { rowPtr, col, val } = P;
  for (let i = from; i < to; i++) {
    const xi = y[2 * i], yi = y[2 * i + 1], end = rowPtr[i + 1];
    let fx0 = 0, fy0 = 0, fx1 = 0, fy1 = 0, e = rowPtr[i];
    for (; e + 1 < end; e += 2) {
      const j = col[e], k = col[e + 1];
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1], ex = xi - y[2 * k], ey = yi - y[2 * k + 1];
      const pq = val[e] / (1 + dx * dx + dy * dy), pr = val[e + 1] / (1 + ex * ex + ey * ey);
      fx0 += pq * dx;
      fy0 += pq * dy;
      fx1 += pr * ex;
      fy1 += pr * ey;
    }
    if (e < end) {
      const j = col[e];
      const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
      const pq = val[e] / (1 + dx * dx + dy * dy);
      fx0 += pq * dx;
      fy0 += pq * dy;
    }
    out[stride * i + at] = fx0 + fx1;
    out[stride * i + at + 1] = fy0 + fy1;
  }
}
