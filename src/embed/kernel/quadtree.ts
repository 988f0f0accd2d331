/**
 * A quadtree over points sorted in Morton (Z) order, rebuilt every
 * iteration for Barnes-Hut. Sorting first makes every node a contiguous
 * range of the sorted points, so the tree is a few flat typed arrays, the
 * points of a subtree sit together in memory, and groups of nearby points
 * (for group-wise traversal) are ranges too. A tree may live in shared
 * memory (`TreeStorage`), built by one thread and read by others.
 */
import { boundingBox } from "./bounds.ts";
import { sharedArray } from "../../runtime/shared_memory.ts";

/** Grid resolution per axis: 2^16 cells, so a Morton code fits 32 bits. */
const BITS = 16;
/** The radix sort's digits: 11 bits, so three passes cover a 32-bit code. */
const RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, RADIX_MASK = RADIX - 1;

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
  /** Per node: its points' bounding box [minX, minY, maxX, maxY]. */
  private bounds = new Float64Array(0);
  /** Per node: its children are nodes [firstChild, firstChild + children); none for a leaf. */
  firstChild: Int32Array = new Int32Array(0);
  children: Int32Array = new Int32Array(0);
  /**
   * Nodes of at most `groupSize` points (or leaves) whose parent holds more,
   * in Morton order: they partition the points.
   */
  groups: Int32Array = new Int32Array(0);
  groupCount = 0;
  /** Sorted Morton codes, and buffers for the sort. */
  private codes = new Uint32Array(0);
  private spareCodes = new Uint32Array(0);
  private spareOrder = new Int32Array(0);
  private readonly box = new Float64Array(4);
  /** The radix sort's bucket offsets, one run of RADIX a pass. */
  private readonly counts = new Int32Array(3 * RADIX);
  /** Depth ≤ 16 and at most four children pushed per level: (node, grouped) pairs. */
  private readonly stack = new Int32Array(2 * (4 * (BITS + 1) + 1));

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

  /** Rebuilds the tree over the n points of y (n×2). */
  build(y: Float64Array, n: number): void {
    this.reservePoints(n);
    this.sortByMorton(y, n);
    this.size = 0;
    this.groupCount = 0;
    if (n === 0) return;
    this.addNode(0, n);
    // Depth first from the root, children pushed in reverse, so that groups come out in Morton order.
    const { stack, codes } = this;
    let top = 0;
    stack[top++] = 0; // node
    stack[top++] = 0; // inside a group already
    while (top > 0) {
      const inGroup = stack[--top], k = stack[--top];
      const s = this.start[k], e = s + this.count[k];
      // Points with one code (coincident on the grid) are a leaf, which may hold more than a group: it is a group all the same.
      const leaf = this.count[k] <= this.leafSize || codes[s] === codes[e - 1];
      const grouped = inGroup || leaf || this.count[k] <= this.groupSize;
      if (grouped && !inGroup) this.groups[this.groupCount++] = k;
      if (leaf) continue;
      // The node splits at the first quadrant digit where its first and last codes differ: the levels above,
      // where all its points share one quadrant, would be nodes with a single child, identical to it.
      const shift = 2 * (BITS - 1 - (Math.clz32(codes[s] ^ codes[e - 1]) >> 1));
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
        stack[top++] = +grouped;
      }
    }
    this.summarize();
    if (this.storage) this.storage.sizes.set([this.size, this.groupCount]);
  }

  private addNode(from: number, to: number): void {
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

  /** Room for n points and the fewer than 2n nodes they make. */
  private reservePoints(n: number): void {
    if (this.codes.length >= n) return;
    if (this.storage && this.storage.points < n) throw new RangeError(`the tree's shared storage holds ${this.storage.points} points, not ${n}`);
    this.codes = new Uint32Array(n);
    this.spareCodes = new Uint32Array(n);
    this.spareOrder = new Int32Array(n);
    this.bounds = new Float64Array(8 * n);
    if (this.storage) return;
    this.order = new Int32Array(n);
    this.sx = new Float64Array(n);
    this.sy = new Float64Array(n);
    this.groups = new Int32Array(n);
    const int = () => new Int32Array(2 * n), float = () => new Float64Array(2 * n);
    [this.start, this.count, this.firstChild, this.children] = [int(), int(), int(), int()];
    [this.comX, this.comY, this.extent] = [float(), float(), float()];
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
