/**
 * The interaction lists of Barnes-Hut's group-wise walk (see
 * repulsion.ts): the cells and the points that act on one group of a
 * quadtree's points, and their sums. Three ways to the same bits: in
 * JavaScript (`InteractionLists`), the JavaScript walk with the WebAssembly
 * SIMD sums (`SimdLists`, for a group of another tree's points), and the
 * walk and the sums both in WebAssembly (`WasmGroups`, for a tree's own
 * groups).
 */
import type { QuadTree } from "./quadtree.ts";
import { reserve, simdModule } from "../../util/wasm_module.ts";
import { wasm } from "../wasm/repulsion_wasm.ts";

/** The repulsion on the groups of one tree from the tree itself. */
export interface GroupSums {
  /** Takes up the tree (after every build) over its n points. */
  upload(tree: QuadTree, n: number): void;
  /** Sums group node g's repulsion into out: row i's (fx, fy, z) at stride·i. */
  apply(tree: QuadTree, g: number, theta2: number, out: Float64Array, stride: number): void;
}

/** Sums for a tree's own groups: in WebAssembly where the runtime has SIMD (and `simd`), else in JavaScript. */
export function groupSums(simd = true): GroupSums {
  const module = simd ? simdModule(wasm) : null;
  if (module) return new WasmGroups(new WebAssembly.Instance(module));
  const lists = new InteractionLists();
  return {
    upload() {},
    apply(tree, g, theta2, out, stride) {
      lists.gather(tree, g, theta2);
      lists.apply(tree, g, out, stride);
    },
  };
}

/** Lists for groups of one tree walked over another: summed by the SIMD kernel where the runtime has it (and `simd`). */
export function interactionLists(simd = true): InteractionLists {
  const module = simd ? simdModule(wasm) : null;
  return module ? new SimdLists(new WebAssembly.Instance(module)) : new InteractionLists();
}

/**
 * The cells and the points that act on one group of points, summed in
 * JavaScript. Both lists hold float32 coordinates relative to the group's
 * centre (where the forces are large, the offsets are small, so they keep
 * their precision), and the sums are rounded to float32 after every
 * operation, as the SIMD kernel computes them.
 */
export class InteractionLists {
  /** The centre of the group the lists were made for. */
  originX = 0;
  originY = 0;
  cells = 0;
  cellX = new Float32Array(256);
  cellY = new Float32Array(256);
  cellMass = new Float32Array(256);
  points = 0;
  pointX = new Float32Array(256);
  pointY = new Float32Array(256);
  /** Sorted position of each listed point, so that a point skips itself. */
  pointAt = new Int32Array(256);
  private stack = new Int32Array(256);

  /** Walks `from` (by default the group's own tree) for group node g of `tree`. */
  gather(tree: QuadTree, g: number, theta2: number, from = tree): void {
    const { start, count, sx, sy } = tree;
    const gs = start[g], ge = gs + count[g];
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (let p = gs; p < ge; p++) {
      minX = Math.min(minX, sx[p]);
      maxX = Math.max(maxX, sx[p]);
      minY = Math.min(minY, sy[p]);
      maxY = Math.max(maxY, sy[p]);
    }
    this.walk(from, minX, minY, maxX, maxY, theta2, from === tree ? gs : -1);
  }

  /**
   * Walks the tree for points in the box [minX, maxX] × [minY, maxY]; `gs`,
   * the sorted position of a group's first point when the group is the
   * tree's own (a node holding it is always opened), −1 for points of
   * another set.
   */
  private walk(tree: QuadTree, minX: number, minY: number, maxX: number, maxY: number, theta2: number, gs: number): void {
    const { start, count, comX, comY, extent, firstChild, children, sx, sy } = tree;
    const ox = (this.originX = (minX + maxX) / 2), oy = (this.originY = (minY + maxY) / 2);
    this.cells = 0;
    this.points = 0;
    let top = 0;
    this.stack[top++] = 0;
    while (top > 0) {
      const k = this.stack[--top];
      const cx = comX[k], cy = comY[k], s = start[k];
      // Distance from the centre of mass to the group's box; a node holding the group is always opened.
      const dx = Math.max(minX - cx, 0, cx - maxX), dy = Math.max(minY - cy, 0, cy - maxY);
      const holdsGroup = gs >= 0 && s <= gs && gs < s + count[k];
      if (!holdsGroup && extent[k] * extent[k] < theta2 * (dx * dx + dy * dy)) this.addCell(cx - ox, cy - oy, count[k]);
      else if (children[k] === 0) for (let p = s; p < s + count[k]; p++) this.addPoint(sx[p] - ox, sy[p] - oy, p);
      else {
        if (top + 4 > this.stack.length) this.stack = grow(this.stack, 2 * this.stack.length);
        for (let c = firstChild[k]; c < firstChild[k] + children[k]; c++) this.stack[top++] = c;
      }
    }
  }

  /**
   * Sums both lists for every point of group node g into out (row i at
   * stride·i); with `self` false the group's points are not the listed
   * tree's (none is skipped as itself).
   */
  apply(tree: QuadTree, g: number, out: Float64Array, stride: number, self = true): void {
    const { sx, sy, order, start, count } = tree;
    const { cellX, cellY, cellMass, pointX, pointY, pointAt, cells, points, originX, originY } = this;
    const f = Math.fround;
    for (let p = start[g]; p < start[g] + count[g]; p++) {
      const xi = f(sx[p] - originX), yi = f(sy[p] - originY), at = self ? p : -1;
      let fx = 0, fy = 0, z = 0;
      for (let e = 0; e < cells; e++) {
        const dx = f(xi - cellX[e]), dy = f(yi - cellY[e]);
        const q = f(1 / f(f(1 + f(dx * dx)) + f(dy * dy)));
        let w = f(cellMass[e] * q);
        z = f(z + w);
        w = f(w * q);
        fx = f(fx + f(w * dx));
        fy = f(fy + f(w * dy));
      }
      for (let e = 0; e < points; e++) {
        if (pointAt[e] === at) continue;
        const dx = f(xi - pointX[e]), dy = f(yi - pointY[e]);
        const q = f(1 / f(f(1 + f(dx * dx)) + f(dy * dy)));
        z = f(z + q);
        const w = f(q * q);
        fx = f(fx + f(w * dx));
        fy = f(fy + f(w * dy));
      }
      const i = order[p];
      out[stride * i] = fx;
      out[stride * i + 1] = fy;
      out[stride * i + 2] = z;
    }
  }

  /** Makes room for twice the cells or points listed now. */
  protected grow(what: "cells" | "points"): void {
    if (what === "cells") [this.cellX, this.cellY, this.cellMass] = [this.cellX, this.cellY, this.cellMass].map((a) => grow(a, 2 * a.length));
    else {
      [this.pointX, this.pointY] = [this.pointX, this.pointY].map((a) => grow(a, 2 * a.length));
      this.pointAt = grow(this.pointAt, 2 * this.pointAt.length);
    }
  }

  private addCell(x: number, y: number, mass: number): void {
    if (this.cells === this.cellX.length) this.grow("cells");
    this.cellX[this.cells] = x;
    this.cellY[this.cells] = y;
    this.cellMass[this.cells++] = mass;
  }

  private addPoint(x: number, y: number, at: number): void {
    if (this.points === this.pointX.length) this.grow("points");
    this.pointX[this.points] = x;
    this.pointY[this.points] = y;
    this.pointAt[this.points++] = at;
  }
}

/**
 * The lists in a WebAssembly instance's memory, summed by its SIMD kernel
 * (repulsion.wat), four group points at a time. Memory: the group's points
 * (x, y, sorted position; padded to a multiple of four), their results (fx,
 * fy, z of each four), then the cells' and the points' lists; growing one
 * lays all out anew.
 */
class SimdLists extends InteractionLists {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (...offsets: number[]) => void;
  private targets = { x: new Float32Array(0), y: new Float32Array(0), at: new Int32Array(0), out: new Float32Array(0) };

  constructor(instance: WebAssembly.Instance) {
    super();
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = instance.exports.apply as SimdLists["run"];
    this.layout(64, this.cellX.length, this.pointX.length);
  }

  protected override grow(what: "cells" | "points"): void {
    this.layout(this.targets.x.length, (what === "cells" ? 2 : 1) * this.cellX.length, (what === "points" ? 2 : 1) * this.pointX.length);
  }

  override apply(tree: QuadTree, g: number, out: Float64Array, stride: number, self = true): void {
    const { sx, sy, order } = tree, s = tree.start[g], count = tree.count[g];
    if (count + 3 > this.targets.x.length) this.layout(2 * (count + 3), this.cellX.length, this.pointX.length);
    const { x, y, at, out: o } = this.targets, { originX, originY } = this;
    for (let k = 0; k < count; k++) {
      x[k] = sx[s + k] - originX;
      y[k] = sy[s + k] - originY;
      at[k] = self ? s + k : -1;
    }
    // A group that does not fill its last vector repeats its last point in the spare lanes.
    for (let k = count; k % 4 !== 0; k++) {
      x[k] = x[count - 1];
      y[k] = y[count - 1];
      at[k] = at[count - 1];
    }
    this.run(x.byteOffset, y.byteOffset, at.byteOffset, count, this.cellX.byteOffset, this.cellY.byteOffset, this.cellMass.byteOffset, this.cells,
      this.pointX.byteOffset, this.pointY.byteOffset, this.pointAt.byteOffset, this.points, o.byteOffset);
    takeResults(o, order, s, count, out, stride);
  }

  /** Lays the memory out for the given capacities (in points; targets a multiple of four), keeping the lists' contents. */
  private layout(targets: number, cells: number, points: number): void {
    const old = [this.cellX, this.cellY, this.cellMass, this.pointX, this.pointY, this.pointAt].map((a) => a.slice());
    targets = 4 * Math.ceil(targets / 4);
    const sizes = [targets, targets, targets, 3 * targets, cells, cells, cells, points, points, points];
    const buffer = reserve(this.memory, 4 * sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    const floats = (size: number) => {
      const v = new Float32Array(buffer, offset, size);
      offset += 4 * size;
      return v;
    };
    const ints = (size: number) => {
      const v = new Int32Array(buffer, offset, size);
      offset += 4 * size;
      return v;
    };
    this.targets = { x: floats(targets), y: floats(targets), at: ints(targets), out: floats(3 * targets) };
    [this.cellX, this.cellY, this.cellMass, this.pointX, this.pointY] = [cells, cells, cells, points, points].map(floats);
    this.pointAt = ints(points);
    [this.cellX, this.cellY, this.cellMass, this.pointX, this.pointY, this.pointAt].forEach((a, k) => a.set(old[k].subarray(0, Math.min(old[k].length, a.length))));
  }
}

/**
 * Groups walked and summed in WebAssembly (repulsion.wat's `group`): the
 * tree is copied into the instance's memory once a build (each node as
 * eight doubles, and the sorted points' coordinates), then a group costs one
 * call. The walk lists cells and points by the JavaScript walk's criterion
 * and in its order, so the sums have the bits of InteractionLists'.
 */
class WasmGroups {
  private readonly memory: WebAssembly.Memory;
  private readonly run: (...args: number[]) => void;
  /** Byte offsets of the regions (see `layout`). */
  private at: Record<"nodes" | "sx" | "sy" | "stack" | "tx" | "ty" | "tp" | "out" | "cx" | "cy" | "cm" | "px" | "py" | "pp", number> | undefined;
  private nodes = 0;
  private points = 0;
  private out = new Float32Array(0);

  constructor(instance: WebAssembly.Instance) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.run = instance.exports.group as WasmGroups["run"];
  }

  /** Copies the tree over its n points in. */
  upload(tree: QuadTree, n: number): void {
    if (!this.at || tree.size > this.nodes || n > this.points) this.layout(Math.ceil(1.25 * tree.size), n);
    const at = this.at!, buffer = this.memory.buffer, nodes = new Float64Array(buffer, at.nodes, 8 * tree.size);
    const { comX, comY, extent, start, count, firstChild, children } = tree;
    for (let k = 0, o = 0; k < tree.size; k++, o += 8) {
      nodes[o] = comX[k];
      nodes[o + 1] = comY[k];
      nodes[o + 2] = extent[k] * extent[k];
      nodes[o + 3] = start[k];
      nodes[o + 4] = count[k];
      nodes[o + 5] = firstChild[k];
      nodes[o + 6] = children[k];
    }
    new Float64Array(buffer, at.sx, n).set(tree.sx.subarray(0, n));
    new Float64Array(buffer, at.sy, n).set(tree.sy.subarray(0, n));
  }

  /** Sums group node g of the uploaded tree into out (row i at stride·i). */
  apply(tree: QuadTree, g: number, theta2: number, out: Float64Array, stride: number): void {
    const a = this.at!, s = tree.start[g], count = tree.count[g];
    this.run(a.nodes, a.sx, a.sy, s, count, theta2, a.stack, a.tx, a.ty, a.tp, a.cx, a.cy, a.cm, a.px, a.py, a.pp, a.out);
    takeResults(this.out, tree.order, s, count, out, stride);
  }

  /**
   * Lays the memory out for up to `nodes` nodes and n points: the nodes,
   * the points' coordinates, the walk's stack, a group's points (at most n,
   * padded to four) and results, the cells (at most one per node) and the
   * listed points (at most n).
   */
  private layout(nodes: number, n: number): void {
    const targets = 4 * Math.ceil((n + 3) / 4);
    const sizes = { nodes: 64 * nodes, sx: 8 * n, sy: 8 * n, stack: 4 * 64, tx: 4 * targets, ty: 4 * targets, tp: 4 * targets, out: 12 * targets, cx: 4 * nodes, cy: 4 * nodes, cm: 4 * nodes, px: 4 * n, py: 4 * n, pp: 4 * n };
    let offset = 0;
    const at = {} as NonNullable<WasmGroups["at"]>;
    for (const [region, bytes] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
      at[region] = offset;
      offset += 16 * Math.ceil(bytes / 16);
    }
    const buffer = reserve(this.memory, offset);
    this.at = at;
    this.nodes = nodes;
    this.points = n;
    this.out = new Float32Array(buffer, at.out, 3 * targets);
  }
}

/** A group's results from the SIMD kernel's layout (fx, fy, z of each four points) into out, row i at stride·i. */
function takeResults(o: Float32Array, order: Int32Array, s: number, count: number, out: Float64Array, stride: number): void {
  for (let k = 0; k < count; k++) {
    const i = order[s + k], r = 12 * (k >> 2) + (k & 3);
    out[stride * i] = o[r];
    out[stride * i + 1] = o[r + 4];
    out[stride * i + 2] = o[r + 8];
  }
}

function grow<A extends Float32Array | Int32Array>(a: A, length: number): A {
  const b = new (a.constructor as { new (n: number): A })(length);
  b.set(a);
  return b;
}
