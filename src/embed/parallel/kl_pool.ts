/**
 * Spreads the per-step KL gradients of an iteration over worker threads:
 * steps are independent within an iteration, so each is computed whole by
 * one thread (the main thread takes a share too) and results do not depend
 * on how steps were assigned. A single step (a new step of a stream) is
 * split in chunks of rows instead, which the threads claim one at a time
 * from a shared counter until none is left (so a busier main thread simply
 * takes fewer); the main thread finishes the gradient. Rows do not depend
 * on who computed them, so neither does the result. Synchronisation is one
 * shared counter per iteration (Atomics), not a message, so an iteration
 * costs microseconds of overhead.
 */
import { type Kernel, studentT } from "../kernel.ts";
import type { StepState } from "../state.ts";
import { claimChunks } from "./chunks.ts";
import type { KlReply } from "./messages.ts";
import { awaitChange } from "./spin.ts";
import { spawnThread, type Thread } from "./threads.ts";

interface Worker {
  thread: Thread;
  /** Resolvers waiting for the worker to leave its iteration loop. */
  idle: (() => void)[];
  error?: string;
}

export class KlPool {
  private workers: Worker[] = [];
  /** Steps the current workers hold, by id. */
  private ids = new WeakMap<StepState, number>();
  private nextId = 0;
  private ctrl = new Int32Array(new SharedArrayBuffer(4));
  private readonly params = new Float64Array(new SharedArrayBuffer(16));
  private seq = 0;
  private local: StepState[] = [];
  private running = false;
  private readonly splitKernels = new Map<string, Kernel>();
  /** The split of a single step, while such a run lasts. */
  private split?: { step: StepState; kernel: Kernel; out: Float64Array };
  /** The iteration `beginIteration` started, until its gradient is taken. */
  private started?: number;

  constructor(private readonly size: number, private readonly kernel: Kernel) {}

  /** Starts a run over the given steps: hands each worker its share and enters their loops. */
  async begin(active: StepState[]): Promise<void> {
    while (this.workers.length < this.size) this.workers.push(await this.spawn());
    for (const s of active) this.share(s);
    this.ctrl = new Int32Array(new SharedArrayBuffer(4 * (2 + this.workers.length)));
    this.seq = 0;
    this.started = undefined;
    const one = active.length === 1 ? active[0] : undefined;
    const choice = one && this.kernel.spec && this.kernel.splitRepulsion?.(one.y, one.n);
    this.split = undefined;
    if (one && choice) {
      const spec = { ...this.kernel.spec, repulsion: choice };
      // One kernel per choice for the pool's life, so its loops stay warm from step to step.
      const kernel = this.splitKernels.get(choice) ?? this.splitKernels.set(choice, studentT(spec)).get(choice)!;
      this.split = { step: one, kernel, out: new Float64Array(new SharedArrayBuffer(40 * one.n)) };
      const split = { out: this.split.out, claim: this.claim };
      this.local = [];
      this.workers.forEach((w, slot) => {
        w.thread.keepAlive(true);
        w.thread.post({ type: "run", ids: [this.ids.get(one)!], ctrl: this.ctrl, params: this.params, slot, kernel: spec, split });
      });
    } else {
      const shares = assign(active, this.workers.length + 1);
      this.local = shares[0];
      this.workers.forEach((w, slot) => {
        w.thread.keepAlive(true);
        w.thread.post({ type: "run", ids: shares[slot + 1].map((s) => this.ids.get(s)!), ctrl: this.ctrl, params: this.params, slot, kernel: this.kernel.spec });
      });
    }
    this.running = true;
  }

  /**
   * Starts an iteration of a split step: the workers claim its chunks while
   * this thread computes the other losses. (Steps computed whole start in
   * `gradient`: their workers write into the steps' gradients, which the
   * other losses add to.)
   */
  beginIteration(exaggeration: number, weight: number): void {
    if (this.split) this.started = this.release(exaggeration, weight);
  }

  /** One iteration's KL gradients of every active step, added to their `grad`. */
  gradient(exaggeration: number, weight: number): void {
    const seq = this.started ?? this.release(exaggeration, weight);
    this.started = undefined;
    const split = this.split;
    if (split) claimChunks(split.kernel, split.step.y, split.step.P, split.out, this.ctrl, this.claim);
    for (const s of this.local) this.kernel.klGradient(s.y, s.P, exaggeration, weight, s.grad);
    this.workers.forEach((w, slot) => {
      for (;;) {
        const done = Atomics.load(this.ctrl, 1 + slot);
        if (done === seq) break;
        if (done < 0) throw new Error(`a gradient worker failed: ${w.error ?? "unknown error"}`);
        awaitChange(this.ctrl, 1 + slot, done, 100);
      }
    });
    if (split) split.kernel.finishChunks!(split.step.n, split.out, exaggeration, weight, split.step.grad);
  }

  /** Lets the workers into the next iteration; returns its number. */
  private release(exaggeration: number, weight: number): number {
    this.params[0] = exaggeration;
    this.params[1] = weight;
    // Chunks are claimed from 0 again; every worker finished claiming in the last iteration.
    if (this.split) Atomics.store(this.ctrl, this.claim, 0);
    const seq = ++this.seq;
    Atomics.store(this.ctrl, 0, seq);
    Atomics.notify(this.ctrl, 0);
    return seq;
  }

  /** Where in ctrl the next chunk to claim is counted. */
  private get claim(): number {
    return 1 + this.workers.length;
  }

  /** Ends the run: workers leave their loops and wait for the next one. */
  async end(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    const idle = this.workers.map((w) => new Promise<void>((resolve) => w.idle.push(resolve)));
    Atomics.store(this.ctrl, 0, -1);
    Atomics.notify(this.ctrl, 0);
    await Promise.all(idle);
    for (const w of this.workers) w.thread.keepAlive(false);
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
    for (const w of this.workers) {
      w.thread.post({ type: "step", id, n: s.n, y: s.y, grad: s.grad, rowPtr: s.P.rowPtr, col: s.P.col, val: s.P.val });
    }
  }

  private async spawn(): Promise<Worker> {
    const thread = await spawnThread(new URL("./kl_worker.ts", import.meta.url));
    const worker: Worker = { thread, idle: [] };
    thread.onMessage((data) => {
      const m = data as KlReply;
      if (m.type === "idle") worker.idle.splice(0).forEach((resolve) => resolve());
      else worker.error = m.message;
    });
    thread.onError((error) => (worker.error = String(error)));
    return worker;
  }
}

/**
 * Longest-processing-time assignment of steps to `parts` threads by O(n²)
 * cost. Share 0 is the main thread's, which also runs the other losses and
 * the updates: about as much, measured, as 100 n²-units per point, so it
 * starts with that load.
 */
function assign(steps: StepState[], parts: number): StepState[][] {
  const shares: StepState[][] = Array.from({ length: parts }, () => []);
  const load = new Float64Array(parts);
  load[0] = 100 * steps.reduce((sum, s) => sum + s.n, 0);
  for (const s of [...steps].sort((a, b) => b.n - a.n)) {
    let best = 0;
    for (let p = 1; p < parts; p++) if (load[p] < load[best]) best = p;
    shares[best].push(s);
    load[best] += s.n * s.n;
  }
  return shares;
}
