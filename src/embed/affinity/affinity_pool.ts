/**
 * Shares the warm-started affinities of one step with worker threads: each
 * task (the k-NN search with the perplexity calibration, then the phases of
 * the symmetrisation) is independent by blocks, which the threads claim. The calling thread takes blocks too and then waits for the
 * others with Atomics.wait, so that Affinity.compute stays synchronous;
 * until the threads are up, or where a thread may not wait (a browser's
 * main thread), it works alone. Blocks do not depend on who searched them,
 * so neither does the result.
 */
import type { AffinityRun, AffinityTask } from "./warm.ts";
import { hardwareThreads, siblingModule, spawnThread, type Thread } from "../../runtime/threads.ts";

export class AffinityPool {
  private workers: Thread[] = [];
  private starting?: Promise<void>;
  private errors: string[] = [];

  constructor(private readonly threads: number | "auto") {}

  /** Whether runs are shared now; starts the threads in the background the first time it is asked. */
  get ready(): boolean {
    void this.started();
    return this.workers.length > 0;
  }

  /** Starts the threads (once) and resolves once they are started (each joins runs when it has loaded), or when there are none to start. */
  started(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  /** Threads that share a run, this one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs the task's `work` for every block, on this thread and the pool's,
   * and returns when all are done. It waits for blocks, not for threads: a
   * thread that is not up yet (or never comes up) claims none, so it is not
   * waited for.
   */
  run(task: AffinityTask, work: (block: number) => void): void {
    const ctrl = new Int32Array(new SharedArrayBuffer(12)), blocks = task.blocks;
    const message: AffinityRun = { task, ctrl };
    for (const w of this.workers) {
      w.keepAlive(true);
      w.post(message);
    }
    try {
      for (let b = Atomics.add(ctrl, 0, 1); b < blocks; b = Atomics.add(ctrl, 0, 1)) {
        try {
          work(b);
        } finally {
          Atomics.add(ctrl, 1, 1);
        }
      }
    } finally {
      // After a failure here the blocks nobody claimed yet are dropped; the claimed ones may still be running on
      // other threads, which read and write the task's shared buffers: wait for them either way.
      for (let b = Atomics.add(ctrl, 0, 1); b < blocks; b = Atomics.add(ctrl, 0, 1)) Atomics.add(ctrl, 1, 1);
      for (let settled = Atomics.load(ctrl, 1); settled < blocks; settled = Atomics.load(ctrl, 1)) Atomics.wait(ctrl, 1, settled, 100);
      for (const w of this.workers) w.keepAlive(false);
    }
    if (Atomics.load(ctrl, 2) > 0) throw new Error(`an affinity worker failed: ${this.errors.splice(0).join("; ") || "unknown error"}`);
  }

  dispose(): void {
    for (const w of this.workers) w.terminate();
    this.workers = [];
    this.starting = undefined;
  }

  private async start(): Promise<void> {
    const size = (this.threads === "auto" ? await hardwareThreads() : this.threads) - 1;
    if (size < 1 || !canShare()) return;
    const started = await Promise.all(Array.from({ length: size }, () => spawnThread(siblingModule("./affinity_worker", import.meta.url))));
    for (const w of started) {
      w.onMessage((m) => this.errors.push(String((m as { message?: unknown }).message)));
      w.onError((error) => this.errors.push(String(error)));
    }
    this.workers = started;
  }
}

/** Shared memory, and a thread that may block waiting on it. */
function canShare(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
