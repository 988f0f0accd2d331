/**
 * A point quadtree in flat typed arrays (no per-node objects), rebuilt every
 * iteration for Barnes-Hut. Each node keeps its square cell, the number of
 * points below it and their centre of mass.
 */
import { boundingBox } from "./bounds.ts";

export class QuadTree {
  /** Number of nodes in use; node 0 is the root. */
  size = 0;
  count = new Int32Array(0);
  /** Centre of mass (a sum while building). */
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  /** Cell centre and half-width. */
  midX = new Float64Array(0);
  midY = new Float64Array(0);
  half = new Float64Array(0);
  /** First of four consecutive children, or −1 for a leaf. */
  child = new Int32Array(0);
  /** The point a one-point leaf holds, or −1. */
  point = new Int32Array(0);
  private readonly box = new Float64Array(4);

  /** Rebuilds the tree over the n points of y (n×2). */
  build(y: Float64Array, n: number): void {
    this.reserve(4 * n + 16);
    const [minX, minY, maxX, maxY] = boundingBox(y, n, this.box);
    this.size = 0;
    this.node((minX + maxX) / 2, (minY + maxY) / 2, Math.max(maxX - minX, maxY - minY, 1e-9) / 2 + 1e-9);
    for (let i = 0; i < n; i++) this.insert(i, y[2 * i], y[2 * i + 1]);
    for (let k = 0; k < this.size; k++) {
      if (this.count[k] > 0) {
        this.comX[k] /= this.count[k];
        this.comY[k] /= this.count[k];
      }
    }
  }

  private insert(i: number, x: number, y: number): void {
    let k = 0;
    for (let depth = 0; ; depth++) {
      this.count[k]++;
      this.comX[k] += x;
      this.comY[k] += y;
      if (this.child[k] >= 0) {
        k = this.child[k] + this.quadrant(k, x, y);
        continue;
      }
      if (this.count[k] === 1) {
        this.point[k] = i;
        return;
      }
      // Coincident points stop splitting; they stay together in one leaf.
      if (depth > 40) return;
      const old = this.point[k];
      this.split(k);
      this.point[k] = -1;
      if (old >= 0) {
        const ox = this.comX[k] - x, oy = this.comY[k] - y; // the old point (sum minus the new one)
        const c = this.child[k] + this.quadrant(k, ox, oy);
        this.count[c] = 1;
        this.comX[c] = ox;
        this.comY[c] = oy;
        this.point[c] = old;
      }
      k = this.child[k] + this.quadrant(k, x, y);
    }
  }

  private quadrant(k: number, x: number, y: number): number {
    return (x >= this.midX[k] ? 1 : 0) + (y >= this.midY[k] ? 2 : 0);
  }

  private split(k: number): void {
    const h = this.half[k] / 2;
    this.child[k] = this.size;
    for (let q = 0; q < 4; q++) this.node(this.midX[k] + (q & 1 ? h : -h), this.midY[k] + (q & 2 ? h : -h), h);
  }

  private node(mx: number, my: number, half: number): number {
    if (this.size === this.count.length) this.reserve(2 * this.size);
    const k = this.size++;
    this.count[k] = 0;
    this.comX[k] = 0;
    this.comY[k] = 0;
    this.midX[k] = mx;
    this.midY[k] = my;
    this.half[k] = half;
    this.child[k] = -1;
    this.point[k] = -1;
    return k;
  }

  private reserve(capacity: number): void {
    if (capacity <= this.count.length) return;
    const grow = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.count = grow(this.count, (n) => new Int32Array(n));
    this.comX = grow(this.comX, (n) => new Float64Array(n));
    this.comY = grow(this.comY, (n) => new Float64Array(n));
    this.midX = grow(this.midX, (n) => new Float64Array(n));
    this.midY = grow(this.midY, (n) => new Float64Array(n));
    this.half = grow(this.half, (n) => new Float64Array(n));
    this.child = grow(this.child, (n) => new Int32Array(n));
    this.point = grow(this.point, (n) => new Int32Array(n));
  }
}
