/**
 * The repulsive half of t-SNE's gradient for one step: for every point i,
 * Σ_j q_ij² (y_i − y_j) with q_ij = 1/(1 + |y_i − y_j|²), and the
 * normalisation Z = Σ_{i≠j} q_ij. Exact in O(n²), or Barnes-Hut in
 * O(n log n) with the usual opening criterion (cell size / distance < θ).
 */
import { QuadTree, type TreeStorage } from "./quadtree.ts";
import { groupSums, interactionLists } from "./interaction_lists.ts";
import { sharedArray } from "../../runtime/shared_memory.ts";
import { awaitChange } from "../../runtime/spin.ts";

export interface Repulsion {
  readonly name: string;
  /** Writes Σ_j q_ij² (y_i − y_j) into rep (n×2) and returns Z. */
  compute(y: Float64Array, n: number, rep: Float64Array): number;
  /** Present where one step's rows can be shared out over threads. */
  readonly split?: RepulsionSplit;
}

/**
 * One step's repulsion in chunks of rows that threads may take in any
 * order: every row belongs to one chunk, and its figures do not depend on
 * which thread computed it, so a split result is the same for any number
 * of threads.
 */
export interface RepulsionSplit {
  /**
   * Shared memory for splitting steps of n points (optional), made once by
   * the calling thread and handed to every thread's `prepare`: with it, work
   * that every chunk needs is done once, as chunk 0, by the thread that
   * claims it, and the other chunks wait for it.
   */
  workspace?(n: number): unknown;
  /** Readies the repulsion for these points (every thread, every iteration); returns the number of chunks. */
  prepare(y: Float64Array, n: number, workspace?: unknown): number;
  /** For every row i of chunk c: out[s·i], out[s·i+1] = Σ_j q_ij² (y_i − y_j) and out[s·i+2] = Σ_j q_ij (stride s). */
  chunk(y: Float64Array, n: number, c: number, out: Float64Array, stride: number): void;
}

/** Rows per chunk of the exact repulsion, so that threads can balance their shares. */
const EXACT_CHUNK = 64;
/** Chunks a Barnes-Hut step is split into, at most. */
const TREE_CHUNKS = 64;

export function exactRepulsion(): Repulsion {
  return {
    name: "exact",
    compute(y, n, rep) {
      rep.fill(0, 0, 2 * n);
      let z = 0;
      // Each pair is visited once and applied to both ends.
      for (let i = 0; i < n; i++) {
        const xi = y[2 * i], yi = y[2 * i + 1];
        let fx = 0, fy = 0;
        for (let j = i + 1; j < n; j++) {
          const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
          const q = 1 / (1 + dx * dx + dy * dy);
          z += q;
          const q2 = q * q;
          const gx = q2 * dx, gy = q2 * dy;
          fx += gx;
          fy += gy;
          rep[2 * j] -= gx;
          rep[2 * j + 1] -= gy;
        }
        rep[2 * i] += fx;
        rep[2 * i + 1] += fy;
      }
      return 2 * z;
    },
    // Split rows sum over all pairs of their own (twice the work of the
    // symmetric sum, but rows are independent).
    split: {
      prepare: (_y, n) => Math.ceil(n / EXACT_CHUNK),
      chunk(y, n, c, out, stride) {
        for (let i = c * EXACT_CHUNK; i < Math.min((c + 1) * EXACT_CHUNK, n); i++) {
          const xi = y[2 * i], yi = y[2 * i + 1];
          let fx = 0, fy = 0, z = 0;
          for (let j = 0; j < n; j++) {
            if (j === i) continue;
            const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
            const q = 1 / (1 + dx * dx + dy * dy);
            z += q;
            fx += q * q * dx;
            fy += q * q * dy;
          }
          out[stride * i] = fx;
          out[stride * i + 1] = fy;
          out[stride * i + 2] = z;
        }
      },
    },
  };
}

/**
 * Barnes-Hut over a Morton-ordered quadtree, traversed once per group of
 * nearby points rather than once per point (Barnes 1990): a cell far from
 * the whole group's bounding box (extent < θ · distance) acts on every
 * point of the group through its centre of mass; cells too near are opened
 * down to their points, which act exactly. The group's points then run
 * through the same two flat interaction lists, which is where the speed
 * is (interaction_lists.ts: the walk and the sums in WebAssembly, four
 * points at a time, where the runtime has SIMD; `simd` false keeps to
 * JavaScript; both give the same bits). The
 * sums are in float32 on coordinates relative to the group's centre, which
 * costs about 1e-6 of each force against double precision: far below the
 * approximation itself, which is at least as accurate as per-point
 * Barnes-Hut with the same θ. Split over threads with a workspace, the
 * tree is built once, into shared memory, while the other threads compute
 * chunks that do not need it (the attraction comes between chunk 0 and the
 * rest); without one, every thread builds its own.
 */
export function barnesHutRepulsion(theta = 0.5, leafSize = 8, groupSize = 64, simd = true): Repulsion {
  const own = new QuadTree(leafSize, groupSize);
  const theta2 = theta * theta, groups = groupSums(simd);
  /** This thread's view of each workspace it was handed: the shared tree, the builds it has asked for and taken up. */
  const views = new WeakMap<TreeWorkspace, { tree: QuadTree; generation: number; taken: number }>();
  let tree = own, shared: TreeWorkspace | undefined, chunks = 0, tmp = new Float64Array(0);
  const groupOf = (c: number) => Math.floor((c * tree.groupCount) / chunks);
  const split: RepulsionSplit = {
    workspace: (n): TreeWorkspace => ({ tree: QuadTree.storage(n), built: sharedArray(Int32Array, 1) }),
    prepare(y, n, workspace) {
      shared = workspace as TreeWorkspace | undefined;
      if (!shared) {
        (tree = own).build(y, n);
        groups.upload(tree, n);
        return (chunks = Math.min(tree.groupCount, TREE_CHUNKS));
      }
      let view = views.get(shared);
      if (!view) views.set(shared, view = { tree: new QuadTree(leafSize, groupSize, shared.tree), generation: 0, taken: 0 });
      view.generation++;
      tree = view.tree;
      chunks = TREE_CHUNKS;
      return 1 + TREE_CHUNKS;
    },
    chunk(y, n, c, out, stride) {
      if (shared) {
        const view = views.get(shared)!;
        if (c === 0) return buildShared(tree, shared, view.generation, y, n);
        if (view.taken !== view.generation) {
          awaitBuilt(tree, shared, view.generation);
          groups.upload(tree, n);
          view.taken = view.generation;
        }
        c--;
      }
      for (let g = groupOf(c); g < groupOf(c + 1); g++) groups.apply(tree, tree.groups[g], theta2, out, stride);
    },
  };
  return {
    name: "barnes-hut",
    compute(y, n, rep) {
      if (tmp.length < 3 * n) tmp = new Float64Array(3 * n);
      const count = split.prepare(y, n);
      for (let c = 0; c < count; c++) split.chunk(y, n, c, tmp, 3);
      let z = 0;
      for (let i = 0; i < n; i++) {
        rep[2 * i] = tmp[3 * i];
        rep[2 * i + 1] = tmp[3 * i + 1];
        z += tmp[3 * i + 2];
      }
      return z;
    },
    split,
  };
}

/** A Barnes-Hut split's shared memory: the tree, and the number of its last build (−1: that build failed). */
interface TreeWorkspace {
  tree: TreeStorage;
  built: Int32Array;
}

/** Builds the shared tree (chunk 0) and lets the threads waiting for build `generation` go. */
function buildShared(tree: QuadTree, workspace: TreeWorkspace, generation: number, y: Float64Array, n: number): void {
  try {
    tree.build(y, n);
    Atomics.store(workspace.built, 0, generation);
  } catch (error) {
    Atomics.store(workspace.built, 0, -1);
    throw error;
  } finally {
    Atomics.notify(workspace.built, 0);
  }
}

/** Waits for build `generation` of the shared tree and takes it up. */
function awaitBuilt(tree: QuadTree, workspace: TreeWorkspace, generation: number): void {
  for (let built = Atomics.load(workspace.built, 0); built !== generation; built = Atomics.load(workspace.built, 0)) {
    if (built < 0) throw new Error("the step's quadtree could not be built on another thread");
    awaitChange(workspace.built, 0, built);
  }
  tree.load();
}

/**
 * The repulsion on points of one set from the points of another, fixed one
 * (a fitted step's): for every target i, Σ_j q_ij² (y_i − r_j) and
 * Σ_j q_ij over the reference points r_j, by the same group-wise Barnes-Hut
 * (and SIMD kernel) as `barnesHutRepulsion`: the targets are grouped by a
 * quadtree of their own, and each group walks the reference tree once.
 */
export function crossRepulsion(theta = 0.5, leafSize = 8, groupSize = 64, simd = true): {
  /** Rebuilds the reference tree over r (m×2). */
  reference(r: Float64Array, m: number): void;
  /** For every target i of y (n×2): out[3i], out[3i+1] = Σ_j q_ij² (y_i − r_j), out[3i+2] = Σ_j q_ij. */
  compute(y: Float64Array, n: number, out: Float64Array): void;
} {
  const reference = new QuadTree(leafSize, groupSize), targets = new QuadTree(leafSize, groupSize);
  const theta2 = theta * theta, lists = interactionLists(simd);
  return {
    reference: (r, m) => reference.build(r, m),
    compute(y, n, out) {
      targets.build(y, n);
      for (let k = 0; k < targets.groupCount; k++) {
        const g = targets.groups[k];
        lists.gather(targets, g, theta2, reference);
        lists.apply(targets, g, out, 3, false);
      }
    },
  };
}
