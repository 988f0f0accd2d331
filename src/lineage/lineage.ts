/**
 * The lineage tree: the Tree of Diffusion Life drawn literally.
 *
 * At every step the instances are clustered by their features (Ward linkage
 * on the step's PCA features, ./lineage_clusters.ts); each cluster is linked
 * to the cluster of the previous step that holds most of its instances. The
 * root is the noise every generation starts from (step −1: before the first
 * denoising step, all instances are one cloud, whatever their prompt); the
 * leaves are the instances at the last step, the final images. d3-hierarchy's
 * tidy tree lays it out radially (step level L on the ring of radius L + 1) or
 * rectilinearly (in the column x = L + 1).
 *
 * The cut height is one for all steps, so the tree refines as the
 * predictions sharpen (clusters split when their predictions drift apart)
 * instead of following a per-step criterion that makes branches appear and
 * vanish from one step to the next. It is given in units of the last step's
 * median pairwise distance, so it does not depend on the encoder's scale. The
 * default 1.5, on the default MNIST data (pixels + PCA 50, 5 prompts × 20),
 * gives 4–5 clusters at step 0 (the prompts' mean images) growing to 9–10 by
 * step 8 (digit classes and styles).
 *
 * Output, like the other layouts' frames: a node table — `node` (Int32, =
 * row), `parent` (Int32, −1 for the root), `step` (Int32, −1 for the root),
 * `size` (Int32, instances), `prompt` (Dictionary<Utf8>: the most frequent
 * prompt; the dictionary lists every prompt), `mix` (FixedSizeList<Float32>:
 * each prompt's share, in dictionary order), `representative` (Int32: the
 * instance nearest the cluster's centroid, −1 for the root), `x`, `y` and the
 * native coordinates (`radius`, `angle` or `lane`, `offset`) — and a link
 * table — `source`, `target` (node ids), `step` (the target's), `size`
 * (instances the two share), `prompt` (the target's), `x1`, `y1`, `x2`, `y2`.
 * Both carry `diffusion-life.layout` = "tree"; the node table also the lane
 * guides and `diffusion-life.lineage` (JSON: shape, threshold, height, branch
 * points). Beside the tables, `members` lists each node's instances, which
 * `committedShares` reads to mark the nodes by commitment.
 */
import { Table } from "apache-arrow";
import { hierarchy, type HierarchyPointNode, tree as tidyTree } from "d3-hierarchy";
import { dictionaryColumn, float32Column, int32Column, readInt32, vectorColumn } from "../data/columns.ts";
import { LAYOUT_KEY } from "../data/frame_table.ts";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import { splitColumns, type StepInput } from "../data/per_step.ts";
import { OptionError, StepOrderError } from "../errors.ts";
import { type Guide, setGuides } from "../data/guides.ts";
import type { Commitment } from "../explain/commitment.ts";
import { clusterStep, cutStep, representative, type StepClusters } from "./clusters.ts";

export const LINEAGE_KEY = "diffusion-life.lineage";

export interface LineageOptions {
  /** Cut height of every step's dendrogram, in units of the last step's median pairwise distance (default 1.5). */
  threshold?: number;
  /** "radial" (default) or "rectilinear". */
  shape?: "radial" | "rectilinear";
  /** PCA components the features are reduced to before clustering (default 50). */
  pcaComponents?: number;
  seed?: number;
}

/** Where generations diverge: a node whose instances go two or more ways at the next step. */
export interface BranchPoint {
  /** The step of the branches (the node that branches is at the step before). */
  step: number;
  /** The node that branches. */
  node: number;
  /** Prompts of its instances, most frequent first. */
  prompts: string[];
  branches: { node: number; size: number; prompts: string[] }[];
}

export interface LineageTree {
  nodes: Table;
  links: Table;
  branchPoints: BranchPoint[];
  /** The cut height, in feature units. */
  height: number;
  /** Each node's instances, ascending, by node id (the root holds them all). */
  members: Int32Array[];
}

interface TreeNode {
  step: number;
  /** Instance ids, ascending. */
  members: number[];
  /** Instances per prompt code. */
  counts: number[];
  /** The most frequent prompt (lowest code on ties). */
  prompt: number;
  representative: number;
  /** Members shared with the parent. */
  shared: number;
  /** Creation order, for deterministic ties. */
  order: number;
  children: TreeNode[];
}

export class Lineage {
  /** Prompt labels, indexed by the steps' prompt codes. */
  readonly prompts: string[] = [];
  private readonly steps: StepClusters[] = [];
  private readonly threshold: number;
  private readonly shape: "radial" | "rectilinear";
  private readonly components: number;
  private readonly seed: number;

  constructor(options: LineageOptions = {}) {
    this.threshold = options.threshold ?? 1.5;
    if (!(this.threshold >= 0) || !Number.isFinite(this.threshold)) {
      throw new OptionError("threshold", `must be a finite number ≥ 0, got ${options.threshold}`);
    }
    this.shape = options.shape ?? "radial";
    if (this.shape !== "radial" && this.shape !== "rectilinear") {
      throw new OptionError("shape", `must be "radial" or "rectilinear", got ${JSON.stringify(options.shape)}`);
    }
    this.components = options.pcaComponents ?? 50;
    if (!Number.isInteger(this.components) || this.components < 1) {
      throw new OptionError("pcaComponents", `must be a positive integer, got ${options.pcaComponents}`);
    }
    this.seed = options.seed ?? 0;
  }

  /** Steps added so far. */
  get size(): number {
    return this.steps.length;
  }

  /** Clusters one more step (steps must arrive in increasing order). */
  addStep(input: StepInput): void {
    const last = this.steps[this.steps.length - 1];
    if (last && input.step <= last.step) throw new StepOrderError(`step ${input.step} arrived after step ${last.step}`);
    this.steps.push(clusterStep(input, this.components, this.seed));
  }

  /** The tree of the steps so far, laid out. */
  tree(): LineageTree {
    const { steps } = this;
    const last = steps[steps.length - 1];
    const height = this.threshold * (last?.medianDistance ?? 0);
    const promptCount = Math.max(1, this.prompts.length, ...steps.map((s) => s.prompt.reduce((a, b) => Math.max(a, b), -1) + 1));
    let order = 0;
    const makeNode = (step: number, members: number[], prompts: number[], rep: number): TreeNode => {
      const counts = new Array<number>(promptCount).fill(0);
      for (const p of prompts) counts[p]++;
      const prompt = counts.indexOf(Math.max(...counts));
      return { step, members, counts, prompt, representative: rep, shared: 0, order: order++, children: [] };
    };

    // The root: every instance, with the prompt it has where it first appears.
    const promptOf = new Map<number, number>();
    for (const s of steps) s.instance.forEach((id, r) => promptOf.has(id) || promptOf.set(id, s.prompt[r]));
    const all = [...promptOf.keys()].sort((a, b) => a - b);
    const root = makeNode(-1, all, all.map((id) => promptOf.get(id)!), -1);

    let previous = new Map<number, TreeNode>(all.map((id) => [id, root]));
    steps.forEach((s, level) => {
      const groups = level === steps.length - 1 ? Array.from(s.instance, (_, r) => [r]) : cutStep(s, height);
      const current = new Map<number, TreeNode>();
      for (const rows of groups) {
        const members = rows.map((r) => s.instance[r]).sort((a, b) => a - b);
        const node = makeNode(s.step, members, rows.map((r) => s.prompt[r]), s.instance[representative(s, rows)]);
        const votes = new Map<TreeNode, number>();
        for (const id of members) {
          const p = previous.get(id);
          if (p) votes.set(p, (votes.get(p) ?? 0) + 1);
        }
        let parent = root, best = 0;
        for (const [p, v] of votes) if (v > best || (v === best && p.order < parent.order)) [parent, best] = [p, v];
        node.shared = best;
        parent.children.push(node);
        for (const id of members) current.set(id, node);
      }
      previous = current;
    });
    return this.layOut(root, height);
  }

  private layOut(root: TreeNode, height: number): LineageTree {
    const levels = this.steps.length;
    const radial = this.shape === "radial";
    // Radial: breadth is the angle; rectilinear: about twice as wide as tall.
    const breadth = radial ? 2 * Math.PI : Math.max(levels, 1) / 2;
    const h = hierarchy(root, (d) => d.children).sort((a, b) =>
      a.data.prompt - b.data.prompt || b.data.members.length - a.data.members.length || a.data.members[0] - b.data.members[0]
    );
    const laid = tidyTree<TreeNode>()
      .size([breadth, Math.max(levels, 1)])
      .separation((a, b) => (a.parent === b.parent ? 1 : 2) / (radial ? Math.max(a.depth, 1) : 1))(h);
    const nodes = laid.descendants(); // breadth first: by level, then along the level
    const id = new Map<HierarchyPointNode<TreeNode>, number>(nodes.map((d, i) => [d, i]));
    const place = (d: HierarchyPointNode<TreeNode>): [x: number, y: number, lane: number, free: number] =>
      radial
        ? [d.depth * Math.cos(d.x), d.depth * Math.sin(d.x), d.depth, d.x]
        : [d.depth, breadth / 2 - d.x, d.depth, breadth / 2 - d.x];

    const count = nodes.length, P = root.counts.length;
    const col = {
      node: Int32Array.from(nodes, (_, i) => i),
      parent: Int32Array.from(nodes, (d) => (d.parent ? id.get(d.parent)! : -1)),
      step: Int32Array.from(nodes, (d) => d.data.step),
      size: Int32Array.from(nodes, (d) => d.data.members.length),
      prompt: Int32Array.from(nodes, (d) => d.data.prompt),
      mix: new Float32Array(count * P),
      representative: Int32Array.from(nodes, (d) => d.data.representative),
      x: new Float32Array(count),
      y: new Float32Array(count),
      lane: new Float32Array(count),
      free: new Float32Array(count),
    };
    nodes.forEach((d, i) => {
      d.data.counts.forEach((c, k) => (col.mix[i * P + k] = c / Math.max(d.data.members.length, 1)));
      [col.x[i], col.y[i], col.lane[i], col.free[i]] = place(d);
    });
    const labels = Array.from({ length: P }, (_, k) => this.prompts[k] ?? `prompt ${k}`);
    const [laneName, freeName] = radial ? ["radius", "angle"] : ["lane", "offset"];
    const nodeTable = new Table({
      node: int32Column(col.node),
      parent: int32Column(col.parent),
      step: int32Column(col.step),
      size: int32Column(col.size),
      prompt: dictionaryColumn(col.prompt, labels),
      mix: vectorColumn(col.mix, P),
      representative: int32Column(col.representative),
      x: float32Column(col.x),
      y: float32Column(col.y),
      [laneName]: float32Column(col.lane),
      [freeName]: float32Column(col.free),
    } as never);

    const linked = nodes.slice(1);
    const from = linked.map((d) => id.get(d.parent!)!), to = linked.map((d) => id.get(d)!);
    const linkTable = new Table({
      source: int32Column(Int32Array.from(from)),
      target: int32Column(Int32Array.from(to)),
      step: int32Column(Int32Array.from(to, (t) => col.step[t])),
      size: int32Column(Int32Array.from(linked, (d) => d.data.shared)),
      prompt: dictionaryColumn(Int32Array.from(to, (t) => col.prompt[t]), labels),
      x1: float32Column(Float32Array.from(from, (s) => col.x[s])),
      y1: float32Column(Float32Array.from(from, (s) => col.y[s])),
      x2: float32Column(Float32Array.from(to, (t) => col.x[t])),
      y2: float32Column(Float32Array.from(to, (t) => col.y[t])),
    } as never);

    const promptsOf = (d: TreeNode) =>
      d.counts.map((c, k) => [c, k]).filter(([c]) => c > 0).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, k]) => labels[k]);
    const branchPoints: BranchPoint[] = nodes
      .filter((d) => (d.children?.length ?? 0) >= 2 && d.depth + 1 < levels)
      .map((d) => ({
        step: d.children![0].data.step,
        node: id.get(d)!,
        prompts: promptsOf(d.data),
        branches: d.children!.map((c) => ({ node: id.get(c)!, size: c.data.members.length, prompts: promptsOf(c.data) })),
      }));

    const guides: Guide[] = this.steps.map((s, level) =>
      radial
        ? { step: s.step, shape: "circle", cx: 0, cy: 0, r: level + 1 }
        : { step: s.step, shape: "line", x1: level + 1, y1: -breadth / 2, x2: level + 1, y2: breadth / 2 }
    );
    for (const t of [nodeTable, linkTable]) t.schema.metadata.set(LAYOUT_KEY, "tree");
    setGuides(nodeTable, guides);
    nodeTable.schema.metadata.set(LINEAGE_KEY, JSON.stringify({ shape: this.shape, threshold: this.threshold, height, branchPoints }));
    return { nodes: nodeTable, links: linkTable, branchPoints, height, members: nodes.map((d) => Int32Array.from(d.data.members)) };
  }
}

/**
 * Per node, the share of its instances that have committed to their final
 * class at the node's step (see `commitment`); NaN where nothing is known:
 * the root (the noise, before any step), a step the commitment has not
 * classified (a live one lags the tree) or no member it knows.
 */
export function committedShares(tree: { nodes: Table; members: readonly ArrayLike<number>[] }, c: Commitment): Float32Array {
  const step = readInt32(tree.nodes, "step");
  const commitmentStep = new Map(c.instances.map((i) => [i.instance, i.commitmentStep]));
  const classified = new Set(c.steps);
  return Float32Array.from(tree.members, (members, node) => {
    if (!classified.has(step[node])) return NaN;
    let known = 0, committed = 0;
    for (let k = 0; k < members.length; k++) {
      const at = commitmentStep.get(members[k]);
      if (at === undefined) continue;
      known++;
      if (step[node] >= at) committed++;
    }
    return known > 0 ? committed / known : NaN;
  });
}

/** The lineage tree of a whole step table (it needs a `features` column). */
export function lineageTree(table: StepTable, options: LineageOptions = {}): LineageTree {
  const lineage = new Lineage(options);
  const cols = readStepTable(table, { features: true });
  lineage.prompts.push(...cols.prompts);
  for (const step of splitColumns(cols)) lineage.addStep(step);
  return lineage.tree();
}
