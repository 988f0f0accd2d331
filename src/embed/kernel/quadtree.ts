/**
 * A quadtree over points sorted in Morton (Z) order, rebuilt every
 * iteration for Barnes-Hut. Sorting first makes every node a contiguous
 * range of the sorted points, so the tree is a few flat typed arrays, the
 * points of a subtree sit together in memory, and groups of nearby points
 * (for group-wise traversal) are ranges too.
 */
import { boundingBox } from "./bounds.ts";

/** Grid resolution per axis: 2^16 cells, so a Morton code fits 32 bits. */
const BITS = 16;
/** The radix sort's digits: 11 bits, so three passes cover a 32-bit code. */
const RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, RADIX_MASK = RADIX - 1;

export class QuadTree {
  /** Number of nodes; node 0 is the root. */
  size = 0;
  /** Point indices in Morton order, and their coordinates in that order. */
  order = new Int32Array(0);
  sx = new Float64Array(0);
  sy = new Float64Array(0);
  /** Per node: its points are sorted positions [start, start + count). */
  start = new Int32Array(0);
  count = new Int32Array(0);
  /** Per node: centre of mass and the larger side of its points' bounding box. */
  comX = new Float64Array(0);
  comY = new Float64Array(0);
  extent = new Float64Array(0);
  /** Per node: its points' bounding box [minX, minY, maxX, maxY]. */
  private bounds = new Float64Array(0);
  /** Per node: its children are nodes [firstChild, firstChild + children); none for a leaf. */
  firstChild = new Int32Array(0);
  children = new Int32Array(0);
  /**
   * Nodes of at most `groupSize` points (or leaves) whose parent holds more,
   * in Morton order: they partition the points.
   */
  groups = new Int32Array(0);
  groupCount = 0;
  /** Sorted Morton codes, and buffers for the sort. */
  private codes = new Uint32Array(0);
  private spareCodes = new Uint32Array(0);
  private spareOrder = new Int32Array(0);
  private readonly box = new Float64Array(4);
  /** The radix sort's bucket offsets, one run of RADIX a pass. */
  private readonly counts = new Int32Array(3 * RADIX);
  /** Depth ≤ 16 and at most four children pushed per level: (node, depth, grouped) triples. */
  private readonly stack = new Int32Array(3 * (4 * (BITS + 1) + 1));

  /** `leafSize`: points a leaf may hold; `groupSize`: points a group may hold (≥ leafSize). */
  constructor(readonly leafSize = 8, readonly groupSize = 64) {}

  /** Rebuilds the tree over the n points of y (n×2). */
  build(y: Float64Array, n: number): void {
    this.reservePoints(n);
    this.sortByMorton(y, n);
    this.size = 0;
    this.groupCount = 0;
    if (n === 0) return;
    this.addNode(0, n);
    // Depth first from the root, children pushed in reverse, so that groups come out in Morton order.
    const stack = this.stack;
    let top = 0;
    stack[top++] = 0; // node
    stack[top++] = 0; // depth
    stack[top++] = 0; // inside a group already
    while (top > 0) {
      const inGroup = stack[--top], depth = stack[--top], k = stack[--top];
      // A leaf deeper than the grid (coincident points) may hold more than a group: it is a group all the same.
      const leaf = this.count[k] <= this.leafSize || depth === BITS;
      const grouped = inGroup || leaf || this.count[k] <= this.groupSize;
      if (grouped && !inGroup) this.groups[this.groupCount++] = k;
      if (leaf) continue;
      // The two code bits below this depth's prefix pick the quadrant; the range is sorted by them.
      const s = this.start[k], e = s + this.count[k], shift = 2 * (BITS - 1 - depth);
      const first = this.size;
      for (let q = 0, from = s; q < 4 && from < e; q++) {
        const to = this.upperBound(from, e, shift, q);
        if (to > from) this.addNode(from, to);
        from = to;
      }
      this.firstChild[k] = first;
      this.children[k] = this.size - first;
      for (let c = this.size - 1; c >= first; c--) {
        stack[top++] = c;
        stack[top++] = depth + 1;
        stack[top++] = +grouped;
      }
    }
    this.summarize();
  }

  private addNode(from: number, to: number): void {
    if (this.size === this.count.length) this.growNodes(2 * this.size);
    const k = this.size++;
    this.start[k] = from;
    this.count[k] = to - from;
    this.children[k] = 0;
  }

  /**
   * Every node's centre of mass and extent, children before parents (a
   * child is made after its parent): a leaf from its points, any other node
   * from its children, so each point is read once rather than once a level.
   */
  private summarize(): void {
    const { start, count, firstChild, children, sx, sy, comX, comY, extent, bounds } = this;
    for (let k = this.size - 1; k >= 0; k--) {
      let sumX = 0, sumY = 0, minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      if (children[k] === 0) {
        for (let p = start[k]; p < start[k] + count[k]; p++) {
          const x = sx[p], y = sy[p];
          sumX += x;
          sumY += y;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      } else {
        for (let c = firstChild[k]; c < firstChild[k] + children[k]; c++) {
          sumX += comX[c] * count[c];
          sumY += comY[c] * count[c];
          if (bounds[4 * c] < minX) minX = bounds[4 * c];
          if (bounds[4 * c + 1] < minY) minY = bounds[4 * c + 1];
          if (bounds[4 * c + 2] > maxX) maxX = bounds[4 * c + 2];
          if (bounds[4 * c + 3] > maxY) maxY = bounds[4 * c + 3];
        }
      }
      comX[k] = sumX / count[k];
      comY[k] = sumY / count[k];
      extent[k] = Math.max(maxX - minX, maxY - minY);
      bounds[4 * k] = minX;
      bounds[4 * k + 1] = minY;
      bounds[4 * k + 2] = maxX;
      bounds[4 * k + 3] = maxY;
    }
  }

  /** First position in [from, to) whose quadrant bits at `shift` exceed q. */
  private upperBound(from: number, to: number, shift: number, q: number): number {
    const codes = this.codes;
    let lo = from, hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((codes[mid] >>> shift) & 3) <= q) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Sorts the points by their Morton code on a 2^16 grid over the bounding
   * box: an LSD radix sort in three passes of 11, 11 and 10 bits, whose
   * bucket counts are all taken in the pass that makes the codes.
   */
  private sortByMorton(y: Float64Array, n: number): void {
    const box = boundingBox(y, n, this.box), minX = box[0], minY = box[1];
    const scale = (2 ** BITS - 1e-6) / Math.max(box[2] - minX, box[3] - minY, 1e-12);
    // The codes start in the spare buffers, so that the third pass leaves them sorted in codes and order.
    const { codes, spareCodes: spare, order, spareOrder, counts, sx, sy } = this;
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const code = (interleave((y[2 * i] - minX) * scale) | (interleave((y[2 * i + 1] - minY) * scale) << 1)) >>> 0;
      spare[i] = code;
      spareOrder[i] = i;
      counts[code & RADIX_MASK]++;
      counts[RADIX + ((code >>> RADIX_BITS) & RADIX_MASK)]++;
      counts[2 * RADIX + (code >>> (2 * RADIX_BITS))]++;
    }
    for (let pass = 0; pass < 3; pass++) {
      for (let b = pass * RADIX, sum = 0; b < (pass + 1) * RADIX; b++) {
        const c = counts[b];
        counts[b] = sum;
        sum += c;
      }
    }
    scatter(spare, spareOrder, codes, order, counts, 0, n);
    scatter(codes, order, spare, spareOrder, counts, 1, n);
    scatter(spare, spareOrder, codes, order, counts, 2, n);
    for (let p = 0; p < n; p++) {
      sx[p] = y[2 * order[p]];
      sy[p] = y[2 * order[p] + 1];
    }
  }

  private reservePoints(n: number): void {
    if (this.order.length >= n) return;
    this.order = new Int32Array(n);
    this.spareOrder = new Int32Array(n);
    this.codes = new Uint32Array(n);
    this.spareCodes = new Uint32Array(n);
    this.sx = new Float64Array(n);
    this.sy = new Float64Array(n);
    this.groups = new Int32Array(n);
    if (this.count.length < 2 * n) this.growNodes(2 * n + 16);
  }

  private growNodes(capacity: number): void {
    const grow = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a.subarray(0, Math.min(a.length, capacity)));
      return b;
    };
    const int = (n: number) => new Int32Array(n), float = (n: number) => new Float64Array(n);
    this.start = grow(this.start, int);
    this.count = grow(this.count, int);
    this.firstChild = grow(this.firstChild, int);
    this.children = grow(this.children, int);
    this.comX = grow(this.comX, float);
    this.comY = grow(this.comY, float);
    this.extent = grow(this.extent, float);
    this.bounds = grow(this.bounds, (n) => new Float64Array(4 * n));
  }
}

/** One pass of the radix sort: the n codes (and their points) in bucket order of digit `pass`, from one pair of buffers to the other. */
function scatter(codes: Uint32Array, order: Int32Array, toCodes: Uint32Array, toOrder: Int32Array, counts: Int32Array, pass: number, n: number): void {
  const shift = pass * RADIX_BITS, base = pass * RADIX;
  for (let p = 0; p < n; p++) {
    const code = codes[p], to = counts[base + ((code >>> shift) & RADIX_MASK)]++;
    toCodes[to] = code;
    toOrder[to] = order[p];
  }
}

/** Spreads the low 16 bits of ⌊v⌋ to the even bit positions. */
function interleave(v: number): number {
  let x = v & 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x >>> 0;
}
