/**
 * A quadtree over points sorted in Morton (Z) order, rebuilt every
 * iteration for Barnes-Hut. Sorting first makes every node a contiguous
 * range of the sorted points, so the tree is a few flat typed arrays, the
 * points of a subtree sit together in memory, and groups of nearby points
 * (for group-wise traversal) are ranges too. A tree may live in shared
 * memory (`TreeStorage`), built by one thread and read by others. The
 * build runs in WebAssembly (quadtree.wat), whose memory holds the tree;
 * a tree in shared memory is copied there after each build.
 */
import { boundingBox } from "./bounds.ts";
import { sharedArray } from "../../runtime/shared_memory.ts";
import { reserve, simdModule } from "../../util/wasm_module.ts";
import { wasm } from "../wasm/quadtree_wasm.ts";

/** Grid resolution per axis: 2^16 cells, so a Morton code fits 32 bits. */
const BITS = 16;
/** The radix sort's bucket offsets: three passes of 2^11 buckets. */
const COUNTS = 3 * 2048;
/** Depth ≤ 16 and at most four children pushed per level: (node, grouped) pairs. */
const STACK = 2 * (4 * (BITS + 1) + 1);

/**
 * The arrays a tree is read from, for up to `points` points, in shared
 * memory: one thread builds the tree into them, others `load` it. Every
 * node but a leaf has two children or more, so n points make fewer than 2n
 * nodes, and the arrays never grow.
 */
export interface TreeStorage {
  points: number;
  order: Int32Array;
  sx: Float64Array;
  sy: Float64Array;
  groups: Int32Array;
  start: Int32Array;
  count: Int32Array;
  comX: Float64Array;
  comY: Float64Array;
  extent: Float64Array;
  firstChild: Int32Array;
  children: Int32Array;
  /** [nodes, groups] of the last build. */
  sizes: Int32Array;
}

export class QuadTree {
  /** Number of nodes; node 0 is the root. */
  size = 0;
  /** Point indices in Morton order, and their coordinates in that order. */
  order: Int32Array = new Int32Array(0);
  sx: Float64Array = new Float64Array(0);
  sy: Float64Array = new Float64Array(0);
  /** Per node: its points are sorted positions [start, start + count). */
  start: Int32Array = new Int32Array(0);
  count: Int32Array = new Int32Array(0);
  /** Per node: centre of mass and the larger side of its points' bounding box. */
  comX: Float64Array = new Float64Array(0);
  comY: Float64Array = new Float64Array(0);
  extent: Float64Array = new Float64Array(0);
  /** Per node: its children are nodes [firstChild, firstChild + children); none for a leaf. */
  firstChild: Int32Array = new Int32Array(0);
  children: Int32Array = new Int32Array(0);
  /**
   * Nodes of at most `groupSize` points (or leaves) whose parent holds more,
   * in Morton order: they partition the points.
   */
  groups: Int32Array = new Int32Array(0);
  groupCount = 0;
  /** The build's kernel and its arrays, made at the first build. */
  private kernel?: BuildKernel;
  private readonly box = new Float64Array(4);

  /**
   * `leafSize`: points a leaf may hold; `groupSize`: points a group may hold
   * (≥ leafSize); `storage`: shared arrays to build into or load from.
   */
  constructor(readonly leafSize = 8, readonly groupSize = 64, private readonly storage?: TreeStorage) {
    if (storage) {
      ({ order: this.order, sx: this.sx, sy: this.sy, groups: this.groups } = storage);
      ({ start: this.start, count: this.count, comX: this.comX, comY: this.comY, extent: this.extent } = storage);
      ({ firstChild: this.firstChild, children: this.children } = storage);
    }
  }

  /** Shared arrays for the tree of up to n points. */
  static storage(n: number): TreeStorage {
    const nodes = Math.max(2 * n, 1), int = (length: number) => sharedArray(Int32Array, length), float = (length: number) => sharedArray(Float64Array, length);
    return {
      points: n,
      order: int(n),
      sx: float(n),
      sy: float(n),
      groups: int(n),
      start: int(nodes),
      count: int(nodes),
      comX: float(nodes),
      comY: float(nodes),
      extent: float(nodes),
      firstChild: int(nodes),
      children: int(nodes),
      sizes: int(2),
    };
  }

  /** Takes up the tree another thread last built into the shared storage. */
  load(): void {
    this.size = this.storage!.sizes[0];
    this.groupCount = this.storage!.sizes[1];
  }

  /**
   * Rebuilds the tree over the n points of y (n×2): sorts them by their
   * Morton code on a 2^16 grid over their bounding box, makes the nodes
   * depth first from the root (a node of more than `leafSize` points with
   * more than one code splits at the first quadrant digit where its first
   * and last codes differ: the levels above would be nodes with a single
   * child), then every node's centre of mass and extent.
   */
  build(y: Float64Array, n: number): void {
    if (this.storage && this.storage.points < n) throw new RangeError(`the tree's shared storage holds ${this.storage.points} points, not ${n}`);
    const k = (this.kernel = buildKernel(n, this.kernel));
    const box = boundingBox(y, n, this.box);
    const scale = (2 ** BITS - 1e-6) / Math.max(box[2] - box[0], box[3] - box[1], 1e-12);
    k.y.set(y.subarray(0, 2 * n));
    k.counts.fill(0);
    const { exports: e, at } = k;
    e.sort(at.y, n, box[0], box[1], scale, at.codes, at.order, at.spareCodes, at.spareOrder, at.counts, at.sx, at.sy);
    e.topology(at.codes, n, this.leafSize, this.groupSize, at.start, at.count, at.firstChild, at.children, at.groups, at.stack, at.sizes);
    this.size = k.sizes[0];
    this.groupCount = k.sizes[1];
    e.summarize(this.size, at.start, at.count, at.firstChild, at.children, at.sx, at.sy, at.comX, at.comY, at.extent, at.bounds);
    if (!this.storage) {
      ({ order: this.order, sx: this.sx, sy: this.sy, groups: this.groups, start: this.start, count: this.count } = k);
      ({ comX: this.comX, comY: this.comY, extent: this.extent, firstChild: this.firstChild, children: this.children } = k);
      return;
    }
    for (const name of ["order", "sx", "sy"] as const) this[name].set(k[name].subarray(0, n));
    this.groups.set(k.groups.subarray(0, this.groupCount));
    for (const name of ["start", "count", "firstChild", "children", "comX", "comY", "extent"] as const) this[name].set(k[name].subarray(0, this.size));
    this.storage.sizes.set([this.size, this.groupCount]);
  }
}

/** The build kernel's instance and its arrays (views of its memory) for up to `points` points. */
interface BuildKernel {
  points: number;
  exports: {
    sort(y: number, n: number, minX: number, minY: number, scale: number, codes: number, order: number, spareCodes: number, spareOrder: number, counts: number, sx: number, sy: number): void;
    topology(codes: number, n: number, leafSize: number, groupSize: number, start: number, count: number, firstChild: number, children: number, groups: number, stack: number, sizes: number): void;
    summarize(size: number, start: number, count: number, firstChild: number, children: number, sx: number, sy: number, comX: number, comY: number, extent: number, bounds: number): void;
  };
  memory: WebAssembly.Memory;
  /** Byte offsets of the arrays. */
  at: Record<"y" | "sx" | "sy" | "comX" | "comY" | "extent" | "bounds" | "codes" | "order" | "spareCodes" | "spareOrder" | "counts" | "start" | "count" | "firstChild" | "children" | "groups" | "stack" | "sizes", number>;
  y: Float64Array;
  sx: Float64Array;
  sy: Float64Array;
  comX: Float64Array;
  comY: Float64Array;
  extent: Float64Array;
  order: Int32Array;
  counts: Int32Array;
  start: Int32Array;
  count: Int32Array;
  firstChild: Int32Array;
  children: Int32Array;
  groups: Int32Array;
  sizes: Int32Array;
}

/** The kernel with room for n points (and the fewer than 2n nodes they make): `old` where it has room, else a grown one. */
function buildKernel(n: number, old?: BuildKernel): BuildKernel {
  if (old && old.points >= n) return old;
  let memory = old?.memory, exports = old?.exports;
  if (!memory || !exports) {
    const module = simdModule(wasm);
    if (!module) throw new Error("the quadtree needs WebAssembly, which this runtime lacks");
    const instance = new WebAssembly.Instance(module);
    memory = instance.exports.memory as WebAssembly.Memory;
    exports = instance.exports as unknown as BuildKernel["exports"];
  }
  // Grown with room to spare, so a step that gains a few points does not remake the views.
  const points = Math.max(n, old ? Math.ceil(1.5 * old.points) : n), nodes = Math.max(2 * points, 1);
  // Doubles first (every offset a multiple of 8), then 32-bit integers.
  const layout: [keyof BuildKernel["at"], number][] = [
    ["y", 16 * points], ["sx", 8 * points], ["sy", 8 * points], ["comX", 8 * nodes], ["comY", 8 * nodes], ["extent", 8 * nodes], ["bounds", 32 * nodes],
    ["codes", 4 * points], ["order", 4 * points], ["spareCodes", 4 * points], ["spareOrder", 4 * points], ["counts", 4 * COUNTS],
    ["start", 4 * nodes], ["count", 4 * nodes], ["firstChild", 4 * nodes], ["children", 4 * nodes], ["groups", 4 * points], ["stack", 4 * STACK], ["sizes", 8],
  ];
  const at = {} as BuildKernel["at"];
  let end = 0;
  for (const [name, bytes] of layout) {
    at[name] = end;
    end += bytes;
  }
  const buffer = reserve(memory, end);
  const f64 = (name: keyof BuildKernel["at"], length: number) => new Float64Array(buffer, at[name], length);
  const i32 = (name: keyof BuildKernel["at"], length: number) => new Int32Array(buffer, at[name], length);
  return {
    points,
    exports,
    memory,
    at,
    y: f64("y", 2 * points),
    sx: f64("sx", points),
    sy: f64("sy", points),
    comX: f64("comX", nodes),
    comY: f64("comY", nodes),
    extent: f64("extent", nodes),
    order: i32("order", points),
    counts: i32("counts", COUNTS),
    start: i32("start", nodes),
    count: i32("count", nodes),
    firstChild: i32("firstChild", nodes),
    children: i32("children", nodes),
    groups: i32("groups", points),
    sizes: i32("sizes", 2),
  };
}
