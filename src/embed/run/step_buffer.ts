/**
 * Rows of steps that arrived but are not embedded yet, grouped by step.
 * A step is *complete* once a row of a later step has arrived, once it holds
 * the expected number of instances, once it arrived at all (when tables hold
 * whole steps), or once the stream has ended; complete
 * steps are taken in ascending order.
 */
import type { StepInput } from "../../data/per_step.ts";

/** Rows of one step from one table. */
export interface StepChunk {
  instance: Int32Array;
  prompt: Int32Array;
  features: Float32Array;
}

interface Pending {
  chunks: StepChunk[];
  ids: Set<number>;
  /** When the step became complete (performance.now()), or NaN. */
  completeAt: number;
}

export class StepBuffer {
  private readonly pending = new Map<number, Pending>();
  /** The most rows and steps the buffer ever held. */
  readonly peak = { rows: 0, steps: 0 };

  /** Whether (instance, step) is buffered already. */
  has(step: number, instance: number): boolean {
    return this.pending.get(step)?.ids.has(instance) ?? false;
  }

  add(step: number, chunk: StepChunk): void {
    const p = this.pending.get(step) ?? this.pending.set(step, { chunks: [], ids: new Set(), completeAt: NaN }).get(step)!;
    p.chunks.push(chunk);
    chunk.instance.forEach((id) => p.ids.add(id));
    const { rows, steps } = this.size();
    this.peak.rows = Math.max(this.peak.rows, rows);
    this.peak.steps = Math.max(this.peak.steps, steps);
  }

  /** Marks the steps that are complete now (see the header). */
  markComplete(maxStep: number, ended: boolean, instances: number | undefined, whole = false): void {
    const now = performance.now();
    for (const [step, p] of this.pending) {
      if (Number.isNaN(p.completeAt) && (ended || whole || step < maxStep || (instances !== undefined && p.ids.size >= instances))) p.completeAt = now;
    }
  }

  /** The highest complete step and when the first complete step became so; undefined when none is. */
  complete(): { upTo: number; since: number } | undefined {
    let upTo = -Infinity, since = Infinity;
    for (const [step, p] of this.pending) {
      if (Number.isNaN(p.completeAt)) continue;
      upTo = Math.max(upTo, step);
      since = Math.min(since, p.completeAt);
    }
    return upTo === -Infinity ? undefined : { upTo, since };
  }

  /** The lowest buffered step up to `upTo`. */
  next(upTo: number): number | undefined {
    let next: number | undefined;
    for (const step of this.pending.keys()) if (step <= upTo && (next === undefined || step < next)) next = step;
    return next;
  }

  /** A buffered step's rows as one step input, sorted by instance (as splitSteps does). */
  assemble(step: number, dim: number): StepInput {
    const { chunks } = this.pending.get(step)!;
    const rows = chunks.flatMap((c, k) => Array.from(c.instance, (id, i) => [id, k, i] as const)).sort((a, b) => a[0] - b[0]);
    const features = new Float32Array(rows.length * dim);
    rows.forEach(([, k, i], r) => features.set(chunks[k].features.subarray(i * dim, (i + 1) * dim), r * dim));
    return {
      step,
      instance: Int32Array.from(rows, ([id]) => id),
      prompt: Int32Array.from(rows, ([, k, i]) => chunks[k].prompt[i]),
      features,
      dim,
    };
  }

  /** The complete steps, ascending. */
  completeSteps(): number[] {
    return [...this.pending].filter(([, p]) => !Number.isNaN(p.completeAt)).map(([step]) => step).sort((a, b) => a - b);
  }

  /** How many rows a step holds (0 if none is buffered). */
  rows(step: number): number {
    return this.pending.get(step)?.ids.size ?? 0;
  }

  /** Removes a step without assembling it; returns how many rows it held. */
  drop(step: number): number {
    const rows = this.pending.get(step)?.ids.size ?? 0;
    this.pending.delete(step);
    return rows;
  }

  /** Removes a step and returns its rows. */
  take(step: number, dim: number): StepInput {
    const input = this.assemble(step, dim);
    this.pending.delete(step);
    return input;
  }

  /** Every buffered step, in step order. */
  all(dim: number): StepInput[] {
    return [...this.pending.keys()].sort((a, b) => a - b).map((step) => this.assemble(step, dim));
  }

  size(): { rows: number; steps: number } {
    let rows = 0;
    for (const p of this.pending.values()) rows += p.ids.size;
    return { rows, steps: this.pending.size };
  }

  clear(): void {
    this.pending.clear();
  }
}
