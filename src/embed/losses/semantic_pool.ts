/**
 * Spreads the per-step KL gradients of an iteration over worker threads.
 * Steps are independent within an iteration, so each is computed whole by
 * one thread, into a buffer of its own; a single step (a new step of a
 * stream) is split in chunks of rows instead. Either way the threads claim
 * work one piece at a time from a shared counter until none is left, so a
 * busier main thread simply takes fewer. The workers start each iteration
 * while the main thread computes the other losses (`beginIteration`); the
 * main thread then takes what is left and adds the results to the steps'
 * gradients. Pieces do not depend on who computed them, so neither does the
 * result. Synchronisation is one shared counter per iteration (Atomics), not
 * a message, so an iteration costs microseconds of overhead.
 */
import { kernelFromRecipe, type SplitKernel, type ThreadedKernel } from "../kernel/threaded.ts";
import { sharedArray } from "../../runtime/shared_memory.ts";
import type { StepState } from "../state/state.ts";
import { placementOf } from "../wasm/attraction.ts";
import { claimChunks, claimSteps, type KlStepView } from "./semantic_chunks.ts";
import type { KlReply } from "./semantic_messages.ts";
import { awaitChange } from "../../runtime/spin.ts";
import { siblingModule, spawnThread, type Thread } from "../../runtime/threads.ts";

/** How long an iteration waits for the workers while blocking, before it waits without (ms). */
const BLOCKING_WAIT_MS = 50;

interface Worker {
  thread: Thread;
  /** Resolvers waiting for the worker to leave its iteration loop. */
  idle: (() => void)[];
  error?: string;
}

export class KlPool {
  private workers: Worker[] = [];
  /** Steps the current workers hold, by id, with their KL buffers. */
  private ids = new WeakMap<StepState, number>();
  private kl = new WeakMap<StepState, Float64Array>();
  private nextId = 0;
  private ctrl = new Int32Array(new SharedArrayBuffer(4));
  private readonly params = new Float64Array(new SharedArrayBuffer(16));
  private seq = 0;
  /** The steps of a run, in the order they are claimed, as this thread sees them. */
  private steps: (KlStepView & { grad: Float64Array })[] = [];
  private running = false;
  /** The split of a single step, while such a run lasts. */
  private split?: { step: StepState; kernel: SplitKernel; out: Float64Array; workspace: unknown };
  /** The iteration `beginIteration` started, until its gradient is taken. */
  private started?: number;

  constructor(private readonly size: number, private readonly kernel: ThreadedKernel) {}

  /** Starts the threads (once); they come up in the background. */
  async start(): Promise<void> {
    while (this.workers.length < this.size) this.workers.push(await this.spawn());
  }

  /** Starts a run over the given steps: hands the workers the steps and enters their loops. */
  async begin(active: StepState[]): Promise<void> {
    await this.start();
    for (const s of active) this.share(s);
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (2 + this.workers.length)));
    this.seq = 0;
    this.started = undefined;
    const one = active.length === 1 ? active[0] : undefined;
    const splitRecipe = one && this.kernel.split?.recipe(one.y, one.n);
    this.split = undefined;
    let recipe = this.kernel.recipe, split: { out: Float64Array; workspace: unknown } | undefined;
    if (one && splitRecipe) {
      recipe = splitRecipe;
      // Built once per recipe for the thread's life, so its loops stay warm from step to step.
      const splitKernel = (await kernelFromRecipe(recipe)).split!;
      split = { out: sharedArray(Float64Array, 5 * one.n), workspace: splitKernel.workspace?.(one.y, one.n) };
      this.split = { step: one, kernel: splitKernel, ...split };
    }
    // The largest steps first, so the last claims are short.
    const order = [...active].sort((a, b) => b.n - a.n);
    this.steps = order.map((s) => ({ y: s.y, P: s.P, kl: this.kl.get(s)!, grad: s.grad }));
    const ids = order.map((s) => this.ids.get(s)!);
    this.workers.forEach((w, slot) => {
      w.thread.keepAlive(true);
      w.thread.post({ type: "run", ids, ctrl: this.ctrl, params: this.params, slot, claim: this.claim, recipe, split });
    });
    this.running = true;
  }

  /** Starts an iteration: the workers claim its work while this thread computes the other losses. */
  beginIteration(exaggeration: number, weight: number): void {
    this.started = this.release(exaggeration, weight);
  }

  /**
   * One iteration's KL gradients of every active step, added to their
   * `grad`. Workers that have not finished within a few milliseconds (one
   * still starting, or one that failed to) are awaited without blocking, so
   * that their errors can arrive.
   */
  gradient(exaggeration: number, weight: number): void | Promise<void> {
    const seq = this.started ?? this.release(exaggeration, weight);
    this.started = undefined;
    const split = this.split;
    if (split) claimChunks(split.kernel, split.step.y, split.step.P, split.out, split.workspace, this.ctrl, this.claim);
    else claimSteps(this.kernel, this.steps, exaggeration, weight, this.ctrl, this.claim);
    const add = () => {
      if (split) split.kernel.finishChunks(split.step.n, split.out, exaggeration, weight, split.step.grad);
      else {
        for (const { kl, grad } of this.steps) for (let i = 0; i < grad.length; i++) grad[i] += kl[i];
      }
    };
    if (this.finished(seq, BLOCKING_WAIT_MS)) return add();
    return (async () => {
      while (!this.finished(seq, 0)) await new Promise((resolve) => setTimeout(resolve, 1));
      add();
    })();
  }

  /** Whether every worker has finished iteration seq, waiting up to `ms` (blocking); throws for a failed one. */
  private finished(seq: number, ms: number): boolean {
    const until = performance.now() + ms;
    return this.workers.every((w, slot) => {
      for (;;) {
        const done = Atomics.load(this.ctrl, 1 + slot);
        if (done === seq) return true;
        if (done < 0 || w.error !== undefined) throw new Error(`a gradient worker failed: ${w.error ?? "unknown error"}`);
        const left = until - performance.now();
        if (left <= 0) return false;
        awaitChange(this.ctrl, 1 + slot, done, left);
      }
    });
  }

  /** Lets the workers into the next iteration; returns its number. */
  private release(exaggeration: number, weight: number): number {
    this.params[0] = exaggeration;
    this.params[1] = weight;
    // Work is claimed from 0 again; every worker finished claiming in the last iteration.
    Atomics.store(this.ctrl, this.claim, 0);
    const seq = ++this.seq;
    Atomics.store(this.ctrl, 0, seq);
    Atomics.notify(this.ctrl, 0);
    return seq;
  }

  /** Where in ctrl the next piece of work to claim is counted. */
  private get claim(): number {
    return 1 + this.workers.length;
  }

  /** Ends the run: workers leave their loops and wait for the next one. */
  async end(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    // A worker that failed will not leave a loop it may never have entered.
    const idle = this.workers.map((w) => w.error !== undefined ? Promise.resolve() : new Promise<void>((resolve) => w.idle.push(resolve)));
    Atomics.store(this.ctrl, 0, -1);
    Atomics.notify(this.ctrl, 0);
    await Promise.all(idle);
    for (const w of this.workers) w.thread.keepAlive(false);
    // A failed worker is not trusted again: the next run starts new ones.
    if (this.workers.some((w) => w.error !== undefined)) this.dispose();
  }

  /** Stops the threads; a later `begin` starts new ones. */
  dispose(): void {
    for (const w of this.workers) w.thread.terminate();
    this.workers = [];
    this.ids = new WeakMap(); // new workers hold no steps yet
  }

  private share(s: StepState): void {
    if (this.ids.has(s)) return;
    const id = this.nextId++;
    this.ids.set(s, id);
    if (!this.kl.has(s)) this.kl.set(s, sharedArray(Float64Array, 2 * s.n));
    const kl = this.kl.get(s)!;
    for (const w of this.workers) {
      w.thread.post({ type: "step", id, n: s.n, y: s.y, kl, rowPtr: s.P.rowPtr, col: s.P.col, val: s.P.val, placement: placementOf(s.P) });
    }
  }

  private async spawn(): Promise<Worker> {
    const thread = await spawnThread(siblingModule("./semantic_worker", import.meta.url));
    const worker: Worker = { thread, idle: [] };
    thread.onMessage((data) => {
      const m = data as KlReply;
      if (m.type === "idle") worker.idle.splice(0).forEach((resolve) => resolve());
      else worker.error = m.message;
    });
    thread.onError((error) => {
      worker.error = String(error);
      worker.idle.splice(0).forEach((resolve) => resolve());
    });
    return worker;
  }
}
