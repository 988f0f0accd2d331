/**
 * Feeds a live source into a viewer session: the steps' images as they
 * arrive, then, from the encoded steps, the incremental embedding in each
 * layout (`evolve`; radial and rectilinear unless told otherwise, any
 * Layout) and the lineage tree, re-laid out each time a step is complete.
 * Each layout is a view named after it; the tree is the view "tree".
 *
 * With `explain`, what the hovered point's panel shows is kept current as
 * cheaply as the steps come: every step's x̂0 classified once (`commit`: the
 * commitment so far, which also marks the tree's nodes, and each row's class
 * probabilities), and each complete step's concept projections on its own
 * per-prompt directions, from the features the embedding already has (one
 * pass over the step's rows); the denoising level the session computes per
 * hover. DF-RISE saliency is not computed live: it costs N masks (500 by
 * default) denoiser passes per point and step — seconds to minutes — so it
 * is asked for on demand (`saliency`, `setExplanations`).
 */
import { concat, defer, map, merge, type Observable, of, share, tap } from "rxjs";
import { readStepTable, type StepTable, stepTable } from "../data/step_table.ts";
import { splitColumns, type StepInput } from "../data/per_step.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { CancelledError, OptionError } from "../errors.ts";
import { Lineage } from "../lineage/lineage.ts";
import type { Layout } from "../layouts/layout.ts";
import { radial } from "../layouts/radial.ts";
import { rectilinear } from "../layouts/rectilinear.ts";
import { encode } from "../stream/encode.ts";
import { evolve } from "../stream/evolve.ts";
import { commit } from "../stream/explanations.ts";
import type { CommitmentOptions } from "../explain/commitment.ts";
import { concepts } from "../explain/concepts.ts";
import type { ViewerSession } from "./viewer_session.ts";

export interface LiveOptions {
  /** Applied in turn to each step table (none: the tables have features). */
  encoders: readonly Encoder[];
  /** The layouts to embed in, each shown as the view of its name (default radial and rectilinear). */
  layouts?: readonly Layout[];
  /** Grow the lineage tree, the view "tree" (default true). */
  tree?: boolean;
  /** Iterations per new step of the incremental embedder (default 50). */
  iterations?: number;
  /** Lineage cut height (see LineageOptions.threshold). */
  threshold?: number;
  /** Complete steps that may wait for each layout's embedder; more, and the oldest are dropped (see IncrementalOptions.backlog). */
  backlog?: number;
  seed?: number;
  signal?: AbortSignal;
  /** Explain as the steps come (see above): classify every step's x̂0 (e.g. the digit encoder's logits), project on the concepts. */
  explain?: LiveExplainOptions;
}

export interface LiveExplainOptions extends CommitmentOptions {
  /** The unconditional prompt, the concepts' baseline (default, or when a step lacks it: the mean of all the step's instances). */
  baseline?: string;
}

/** Runs until the source completes (the session's status says "done") or fails ("failed", and the promise rejects). */
export async function runLive(source: Observable<StepTable>, session: ViewerSession, options: LiveOptions): Promise<void> {
  const { iterations = 50, seed = 0, layouts = [radial(), rectilinear()], tree = true } = options;
  const views = [...layouts.map((layout) => layout.name), ...(tree ? ["tree"] : [])];
  if (views.length === 0) throw new OptionError("layouts", "nothing to show: no layout and no tree");
  const twice = views.find((name, i) => views.indexOf(name) !== i);
  if (twice !== undefined) throw new OptionError("layouts", `two views are named "${twice}" (the lineage tree is "tree")`);
  session.setViews(views);
  session.setStatus("running");
  const steps$ = source.pipe(tap((table) => session.addSteps(table)), share());
  const encoded$ = options.encoders.reduce((s$, encoder) => s$.pipe(encode(encoder)), steps$).pipe(share());
  const lineage = new Lineage({ threshold: options.threshold, seed });
  const pending = new PendingSteps();
  // The steps whose rows have all come, with prompt codes into session.prompts: for the tree and the concepts.
  const complete$ = concat(
    encoded$.pipe(map((table) => {
      const cols = readStepTable(table, { features: true });
      const global = cols.prompts.map((label) => session.promptIndex(label));
      return pending.add(splitColumns(cols).map((s) => ({ ...s, prompt: s.prompt.map((c) => global[c]) })));
    })),
    defer(() => of(pending.flush())),
  ).pipe(share());
  const addToTree = (complete: StepInput[]) => {
    if (complete.length === 0) return;
    for (const step of complete) lineage.addStep(step);
    lineage.prompts.splice(0, lineage.prompts.length, ...session.prompts);
    session.setTree(lineage.tree());
  };
  const addConcepts = (complete: StepInput[], baseline?: string) => {
    for (const s of complete) {
      const table = stepTable({ instance: s.instance, prompt: s.prompt, prompts: [...session.prompts], step: new Int32Array(s.instance.length).fill(s.step), features: s.features, featureDim: s.dim });
      const k = session.prompts.indexOf(baseline ?? "");
      session.addConcepts(concepts(table, { baseline: k >= 0 && s.prompt.includes(k) ? baseline : undefined }));
    }
  };
  const explain = options.explain;
  const all$ = merge(
    ...(tree ? [complete$.pipe(tap(addToTree))] : []),
    ...(explain
      ? [
        steps$.pipe(commit(explain), tap((u) => session.setExplanations({ commitment: u.commitment, classScores: u.scores }))),
        complete$.pipe(tap((complete) => addConcepts(complete, explain.baseline))),
      ]
      : []),
    ...layouts.map((layout) =>
      encoded$.pipe(
        evolve({ layout, iterationsPerStep: iterations, seed, backlog: options.backlog }),
        tap((frame) => session.addFrame(layout.name, frame)),
      )
    ),
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const subscription = all$.subscribe({ error: reject, complete: resolve });
      const stop = () => {
        subscription.unsubscribe();
        reject(new CancelledError("the live view"));
      };
      if (options.signal?.aborted) stop();
      options.signal?.addEventListener("abort", stop, { once: true });
    });
    session.setStatus("done");
  } catch (error) {
    session.setStatus("failed", error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/**
 * Rows of steps not yet complete for the lineage tree. A step is complete
 * once a later step arrives or it has as many rows as the step before it;
 * the rest when the stream ends.
 */
class PendingSteps {
  private readonly parts = new Map<number, StepInput[]>();
  private previousRows = 0;

  add(steps: StepInput[]): StepInput[] {
    for (const s of steps) (this.parts.get(s.step) ?? this.parts.set(s.step, []).get(s.step)!).push(s);
    const latest = Math.max(...this.parts.keys());
    const done = [...this.parts.keys()].sort((a, b) => a - b).filter((step) =>
      step < latest || (this.previousRows > 0 && this.rows(step) >= this.previousRows)
    );
    return this.take(done);
  }

  flush(): StepInput[] {
    return this.take([...this.parts.keys()].sort((a, b) => a - b));
  }

  private rows(step: number): number {
    return this.parts.get(step)!.reduce((sum, s) => sum + s.instance.length, 0);
  }

  private take(steps: number[]): StepInput[] {
    return steps.map((step) => {
      const parts = this.parts.get(step)!;
      this.parts.delete(step);
      const dim = parts[0].dim;
      const cat = <A extends Int32Array | Float32Array>(make: (n: number) => A, pick: (s: StepInput) => A): A => {
        const out = make(parts.reduce((n, s) => n + pick(s).length, 0));
        let offset = 0;
        for (const s of parts) {
          out.set(pick(s), offset);
          offset += pick(s).length;
        }
        return out;
      };
      const merged: StepInput = {
        step,
        dim,
        instance: cat((n) => new Int32Array(n), (s) => s.instance),
        prompt: cat((n) => new Int32Array(n), (s) => s.prompt),
        features: cat((n) => new Float32Array(n), (s) => s.features),
      };
      this.previousRows = merged.instance.length;
      return merged;
    });
  }
}
