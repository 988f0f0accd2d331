/**
 * What the live viewer shows, as it grows: the prompts, every step's
 * images (for hovering), the latest frame of each layout, the latest
 * lineage tree and the status. Pages listen to it as events; one that
 * connects late first gets the latest of each kind, so it shows what the
 * others show.
 *
 * Events (the data is JSON):
 * - `views`: { views: string[] }: the views to offer, in order: each
 *   layout's name (its frames), and "tree" for the lineage tree
 * - `prompts`: { prompts: string[], colors: string[] }: `colors[k]` is prompt k's colour, fixed by
 *   its label (promptColors), so a prompt looks the same in every view and picture (`palette`, the
 *   same list, for older pages)
 * - `steps`: { steps: number[] (received so far), rows: number, imageShape: [C, H, W] | null }
 * - `frame`: { view, layout, update, rows: { instance, prompt, step, x, y }, guides }: the latest
 *   frame of a view, of any layout: points and guides in display coordinates
 *   (`layout` is the frame's layout name; `prompt` indexes `prompts`;
 *   `update` is the frame's FrameUpdate, when it has one)
 * - `tree`: { nodes: { node, parent, step, size, prompt, representative, x, y, committed? }, links: { source, target, size, prompt },
 *   branchPoints, guides }: `committed[i]` is the share of node i's instances committed at its step, null where
 *   unknown, when the session has a commitment (sent again as the commitment grows)
 * - `status`: { state: "running" | "done" | "failed", message?: string }
 */
import type { Table } from "apache-arrow";
import { readDictionary, readInt32 } from "../data/columns.ts";
import { asFrameTable, type FrameTable, LAYOUT_KEY, UPDATE_KEY } from "../data/frame_table.ts";
import { type ImageShape, readStepTable, type StepTable } from "../data/step_table.ts";
import { committedShares, type LineageTree } from "../lineage/lineage.ts";
import { readGuides } from "../data/guides.ts";
import { promptColors } from "../render/palette.ts";
import type { Commitment } from "../explain/commitment.ts";
import type { Concepts } from "../explain/concepts.ts";
import type { Saliencies } from "../explain/saliency.ts";
import { imageSimilarity } from "../quality/image_similarity.ts";
import type { RowScores } from "../stream/explanations.ts";

/** What the explanations say about one instance at one step (the hovered point's panel; `/explain`). */
export interface ExplanationFacts {
  instance: number;
  step: number;
  /** From a Commitment: the step from which the class stays the final one, that class, the class at this step and the final class's probability. */
  commitmentStep?: number;
  finalClass?: string;
  classAtStep?: string;
  confidence?: number;
  /** The classifier's most probable classes at this step (at most 3), most probable first. */
  classScores?: { class: string; probability: number }[];
  /** Projections on each concept direction (0 baseline, 1 the concept's mean). */
  concepts?: Record<string, number>;
  /**
   * Denoising level: this step's x̂0 against the instance's latest (`against`:
   * the last step so far, the final image once the run is done), from the
   * 8-bit images the session keeps — mean SSIM, and the distance relative to
   * the first step's (1 at the first step, 0 at `against`; NaN when they are one).
   */
  level?: { ssim: number; relative: number; against: number };
  /** Whether a DF-RISE map of this point is there (`/saliency`), with its AUCs. */
  saliency: boolean;
  insertionAuc?: number;
  deletionAuc?: number;
}

export interface ViewerEvent {
  event: "views" | "prompts" | "steps" | "frame" | "tree" | "status";
  data: unknown;
}

/** A view of the viewer: a layout's name (its frames), or "tree". */
export type ViewName = string;

interface StepImages {
  /** Row of each instance. */
  row: Map<number, number>;
  /** 8-bit, as the page gets them (a quarter of the memory of Float32: every step is kept for hovering). */
  image: Uint8Array;
}

export class ViewerSession {
  readonly prompts: string[] = [];
  /** The views offered, in order (see the `views` event). */
  readonly views: ViewName[] = [];
  private readonly images = new Map<number, StepImages>();
  private shape: ImageShape | null = null;
  private readonly steps = new Set<number>();
  private rows = 0;
  private readonly latest = new Map<string, ViewerEvent>();
  private readonly listeners = new Set<(event: ViewerEvent) => void>();
  private readonly explanations: { commitment?: Commitment; saliency?: Saliencies; classScores?: RowScores } = {};
  /** Concept projections by "instance/step": given whole (setExplanations) or step by step (addConcepts). */
  private readonly conceptScores = new Map<string, Record<string, number>>();
  private tree?: LineageTree;

  /** Index of a prompt label in `prompts`, adding it (and announcing it) when new. */
  promptIndex(label: string): number {
    let k = this.prompts.indexOf(label);
    if (k < 0) {
      k = this.prompts.push(label) - 1;
      const colors = promptColors(this.prompts);
      this.emit("prompts", "prompts", { prompts: this.prompts, colors, palette: colors });
    }
    return k;
  }

  /** Keeps a step table's images (x̂0) for hovering and announces its steps. */
  addSteps(table: StepTable): void {
    const cols = readStepTable(table);
    cols.prompts.forEach((label) => this.promptIndex(label));
    const byStep = new Map<number, number[]>();
    cols.step.forEach((s, r) => (byStep.get(s) ?? byStep.set(s, []).get(s)!).push(r));
    for (const [s, rows] of byStep) {
      this.steps.add(s);
      if (!cols.image || !cols.imageShape) continue;
      this.shape = cols.imageShape;
      const dim = cols.image.length / cols.instance.length;
      // Rows of one step may arrive in several tables: append.
      const entry = this.images.get(s) ?? { row: new Map<number, number>(), image: new Uint8Array(0) };
      const start = entry.image.length / dim;
      const grown = new Uint8Array(entry.image.length + rows.length * dim);
      grown.set(entry.image);
      rows.forEach((r, i) => {
        const from = cols.image!.subarray(r * dim, (r + 1) * dim), at = (start + i) * dim;
        for (let k = 0; k < dim; k++) grown[at + k] = toByte(from[k]);
        entry.row.set(cols.instance[r], start + i);
      });
      entry.image = grown;
      this.images.set(s, entry);
    }
    this.rows += cols.instance.length;
    this.emit("steps", "steps", { steps: [...this.steps].sort((a, b) => a - b), rows: this.rows, imageShape: this.shape });
  }

  /** The image of an instance at a step (values in [0, 1], to 8 bits), or undefined. */
  image(instance: number, step: number): { pixels: Float32Array; shape: ImageShape } | undefined {
    const found = this.imageBytes(instance, step);
    return found && { pixels: Float32Array.from(found.bytes, (b) => b / 255), shape: found.shape };
  }

  /** The image of an instance at a step as 8-bit values (0..255, channel-major [C, H, W]), or undefined. */
  imageBytes(instance: number, step: number): { bytes: Uint8Array; shape: ImageShape } | undefined {
    const entry = this.images.get(step);
    const row = entry?.row.get(instance);
    if (!entry || row === undefined || !this.shape) return undefined;
    const dim = this.shape[0] * this.shape[1] * this.shape[2];
    return { bytes: entry.image.subarray(row * dim, (row + 1) * dim), shape: this.shape };
  }

  /** Announces the views to offer, in order (views that frames or the tree bring later are added at the end). */
  setViews(views: readonly ViewName[]): void {
    this.views.splice(0, this.views.length, ...new Set(views));
    this.emit("views", "views", { views: this.views });
  }

  /** The latest frame of a view (any layout's frame table; `view` is usually its layout's name). */
  addFrame(view: ViewName, frame: FrameTable): void {
    // Only the columns the page draws (a validated frame's are Int32 and Float32, without nulls), read as they are.
    const f = asFrameTable(frame);
    const values = <T>(name: string) => f.getChild(name)!.toArray() as T;
    const { codes, labels } = readDictionary(f, "prompt");
    const global = labels.map((label) => this.promptIndex(label));
    const update = f.schema.metadata.get(UPDATE_KEY);
    if (!this.views.includes(view)) this.setViews([...this.views, view]);
    this.emit(`frame:${view}`, "frame", {
      view,
      layout: f.schema.metadata.get(LAYOUT_KEY) ?? "unknown",
      update: update ? JSON.parse(update) : null,
      rows: {
        instance: Array.from(values<Int32Array>("instance")),
        prompt: Array.from(codes, (c) => global[c]),
        step: Array.from(values<Int32Array>("step")),
        x: rounded(values<Float32Array>("x")),
        y: rounded(values<Float32Array>("y")),
      },
      guides: readGuides(frame) ?? [],
    });
  }

  setTree(tree: LineageTree): void {
    const { nodes, links } = tree;
    this.tree = tree;
    if (!this.views.includes("tree")) this.setViews([...this.views, "tree"]);
    const { commitment } = this.explanations;
    const codes = (t: Table) => {
      const { codes, labels } = readDictionary(t, "prompt");
      return Array.from(codes, (c) => this.promptIndex(labels[c]));
    };
    const ints = (t: Table, name: string) => [...readInt32(t, name)];
    this.emit("tree", "tree", {
      nodes: {
        node: ints(nodes, "node"),
        parent: ints(nodes, "parent"),
        step: ints(nodes, "step"),
        size: ints(nodes, "size"),
        prompt: codes(nodes),
        representative: ints(nodes, "representative"),
        x: rounded(nodes.getChild("x")!.toArray() as Float32Array),
        y: rounded(nodes.getChild("y")!.toArray() as Float32Array),
        ...(commitment && { committed: Array.from(committedShares(tree, commitment), (v) => (Number.isFinite(v) ? Math.round(v * 1e3) / 1e3 : null)) }),
      },
      links: { source: ints(links, "source"), target: ints(links, "target"), size: ints(links, "size"), prompt: codes(links) },
      branchPoints: tree.branchPoints,
      guides: readGuides(nodes) ?? [],
    });
  }

  /**
   * Explanations for the hovered point's panel; each kind given replaces the
   * one before (a streamed commitment grows). `classScores`: the class
   * probabilities of the rows (`commit` gives them with the commitment).
   */
  setExplanations(explanations: { commitment?: Commitment; saliency?: Saliencies; concepts?: Concepts; classScores?: RowScores }): void {
    const { concepts, ...rest } = explanations;
    Object.assign(this.explanations, rest);
    if (concepts) {
      this.conceptScores.clear();
      this.addConcepts(concepts);
    }
    // The tree's nodes are marked by commitment: a new one redraws them.
    if (explanations.commitment && this.tree) this.setTree(this.tree);
  }

  /** Adds (or replaces) the concept projections of the instances and steps `k` holds, e.g. one step's as it arrives. */
  addConcepts(k: Concepts): void {
    const K = k.names.length, T = k.steps.length;
    k.trajectories.instances.forEach((instance, i) => {
      k.steps.forEach((step, t) => {
        const scores = Object.fromEntries(k.names.map((name, q) => [name, k.projections[(i * T + t) * K + q]]).filter(([, v]) => Number.isFinite(v)));
        if (Object.keys(scores).length > 0) this.conceptScores.set(`${instance}/${step}`, scores);
        else this.conceptScores.delete(`${instance}/${step}`);
      });
    });
  }

  /** What the explanations say about an instance at a step, or undefined when none says anything. */
  explanation(instance: number, step: number): ExplanationFacts | undefined {
    const { commitment, saliency, classScores } = this.explanations;
    const facts: ExplanationFacts = { instance, step, saliency: false };
    const c = commitment?.instances.find((i) => i.instance === instance);
    const s = c ? commitment!.steps.indexOf(step) : -1;
    const name = (k: number) => commitment?.classNames[k] ?? String(k);
    if (c && s >= 0) {
      Object.assign(facts, { commitmentStep: c.commitmentStep, finalClass: name(c.finalClass), classAtStep: name(c.classes[s]), confidence: c.confidence[s] });
    }
    const r = classScores ? classScores.instance.findIndex((v, r) => v === instance && classScores.step[r] === step) : -1;
    if (r >= 0) {
      const { k, probabilities } = classScores!;
      facts.classScores = Array.from({ length: k }, (_, j) => ({ class: name(j), probability: probabilities[r * k + j] }))
        .sort((a, b) => b.probability - a.probability).slice(0, 3);
    }
    const concepts = this.conceptScores.get(`${instance}/${step}`);
    if (concepts) facts.concepts = concepts;
    const row = saliency?.rows.find((r) => r.instance === instance && r.step === step);
    if (row) Object.assign(facts, { saliency: true, insertionAuc: row.curves?.insertion.auc, deletionAuc: row.curves?.deletion.auc });
    if (!(c || facts.classScores || facts.concepts || row)) return undefined;
    facts.level = this.level(instance, step);
    return facts;
  }

  /** The denoising level of an instance at a step from the kept images (see ExplanationFacts.level); computed on demand, per hover. */
  private level(instance: number, step: number): ExplanationFacts["level"] {
    const held = [...this.steps].filter((s) => this.images.get(s)?.row.has(instance)).sort((a, b) => a - b);
    const at = this.image(instance, step);
    if (!at || held.length === 0) return undefined;
    const against = held[held.length - 1];
    const last = this.image(instance, against)!.pixels, first = this.image(instance, held[0])!.pixels;
    const distance = (x: Float32Array) => Math.sqrt(x.reduce((sum, v, i) => sum + (v - last[i]) ** 2, 0));
    const d0 = distance(first);
    return { ssim: imageSimilarity("ssim", last, at.shape).mean(at.pixels), relative: d0 > 0 ? distance(at.pixels) / d0 : NaN, against };
  }

  /** The DF-RISE map (H×W) of an instance at a step, or undefined. */
  saliencyMap(instance: number, step: number): { values: Float32Array; height: number; width: number } | undefined {
    const s = this.explanations.saliency;
    const row = s?.rows.find((r) => r.instance === instance && r.step === step);
    return row && { values: row.saliency, height: s!.shape[1], width: s!.shape[2] };
  }

  setStatus(state: "running" | "done" | "failed", message?: string): void {
    this.emit("status", "status", { state, message });
  }

  /** Calls `listener` with the latest event of each kind, then with every new one; returns the unsubscribe. */
  subscribe(listener: (event: ViewerEvent) => void): () => void {
    // The status last, so a page that connects after the end has everything before it hears "done".
    const replay = [...this.latest.values()].sort((a, b) => Number(a.event === "status") - Number(b.event === "status"));
    for (const event of replay) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(key: string, event: ViewerEvent["event"], data: unknown): void {
    const e = { event, data };
    this.latest.set(key, e);
    for (const listener of this.listeners) listener(e);
  }
}

/** [0, 1] to 0..255, rounded (clamped outside). */
const toByte = (v: number): number => Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));

/** Coordinates with four significant decimals: plenty for a screen, a third of the JSON. */
const rounded = (values: ArrayLike<number>): number[] => Array.from(values, (v) => Math.round(v * 1e4) / 1e4);
