/**
 * `embedRun`: the embedder process of a run on JetStream. It reads the
 * run's whole steps from a durable consumer (any number of producers),
 * encodes them, embeds each as it comes (the incremental embedder), and
 * fans every frame and the lineage tree out to the run's watchers as it is
 * made, and writes its checkpoint (atomically, flushed to disk; updates
 * that come while one is written share the next) before it acknowledges
 * the steps the checkpoint holds. When every producer has ended it runs the polish
 * pass and writes the final frame.
 *
 * Killed at any moment, it resumes from its checkpoint: the steps the
 * checkpoint holds are not embedded again (their messages, delivered again,
 * are dropped and counted), the rest arrive again, and the final frame is
 * the one an uninterrupted run on the same rows makes. Started on the
 * checkpoint of a finished run, it says so (OptionError) rather than wait
 * for producers that have ended.
 */
import { concatMap, defer, finalize, ignoreElements, map, merge, mergeMap, Observable, type OperatorFunction, share, tap } from "rxjs";
import type { NatsConnection } from "@nats-io/nats-core";
import { type FrameTable, readFrameTable } from "../data/frame_table.ts";
import { splitColumns } from "../data/per_step.ts";
import { readStepTable } from "../data/step_table.ts";
import type { DataLimits } from "../data/sizes.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { IncrementalEmbedder, type IncrementalStats } from "../embed/run/incremental.ts";
import type { IncrementalOptions } from "../embed/run/incremental_options.ts";
import { Lineage, type LineageOptions } from "../lineage/lineage.ts";
import { readFileBytes } from "../runtime/read_files.ts";
import { writeOutput, writeTable } from "../runtime/write_files.ts";
import { encode } from "../stream/encode.ts";
import { evolve } from "../stream/evolve.ts";
import { OptionError } from "../errors.ts";
import { publishUpdate } from "./publish_update.ts";
import { StepConsumer, type StepConsumerStats } from "./step_consumer.ts";

export interface EmbedRunOptions extends Omit<IncrementalOptions, "wholeSteps"> {
  run: string;
  /** Every producer of the run, by name. */
  producers: readonly string[];
  /** The checkpoint file: written after every update, read on start when it exists. */
  checkpoint: string;
  /** Where the final frame is written (an Arrow IPC file, atomically). */
  out?: string;
  /** The durable consumer's name (default "embedder"). */
  durable?: string;
  /** Applied in turn to each step (none: the producers send features). */
  encoders?: readonly Encoder[];
  /** Grow the lineage tree and publish it with each frame (default true; or its options). */
  tree?: boolean | LineageOptions;
  /** Publish frames and the tree for watchers (default true). */
  fanOut?: boolean;
  ackWaitMs?: number;
  maxAckPending?: number;
  limits?: DataLimits;
}

/** A durable update: its frame, checkpointed and acknowledged, with what the consumer and the embedder have seen so far. */
export interface RunUpdate {
  frame: FrameTable;
  consumer: StepConsumerStats;
  embedder: IncrementalStats;
}

/**
 * @example
 * ```ts
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * const last = await lastValueFrom(embedRun(nc, {
 *   run: "digits", producers: ["gpu0", "gpu1"], checkpoint: "digits.ckpt.arrow", out: "digits.frames.arrow",
 *   encoders: [pixelEncoder()], seed: 1,
 * }));
 * console.log(last.consumer.duplicateRows, "rows delivered twice, dropped");
 * ```
 * Unsubscribing stops it; what was not checkpointed is delivered again to the next start.
 */
export function embedRun(nc: NatsConnection, options: EmbedRunOptions): Observable<RunUpdate> {
  return defer(async () => {
    const { run, producers, checkpoint, out, durable, encoders = [], tree = true, fanOut = true, ackWaitMs, maxAckPending, limits, ...incremental } = options;
    const saved = await readFileBytes(checkpoint).catch(() => undefined);
    const embedder = saved
      ? IncrementalEmbedder.restore(saved, { ...incremental, wholeSteps: true })
      : new IncrementalEmbedder({ ...incremental, wholeSteps: true });
    if (embedder.stats.ended) {
      embedder.dispose();
      throw new OptionError("checkpoint", `${checkpoint} holds a finished run${out ? ` (its final frame is in ${out})` : ""}: remove it to embed the run again`);
    }
    const embedded = embedder.embedding.steps;
    const consumer = await StepConsumer.open(nc, {
      run,
      producers,
      durable,
      embeddedThrough: embedded.length > 0 ? embedded[embedded.length - 1].step : -1,
      holds: (instance, step) => embedder.holds(instance, step),
      ackWaitMs,
      maxAckPending,
      limits,
    });
    const lineage = tree ? new Lineage({ seed: incremental.seed, ...(tree === true ? {} : tree) }) : undefined;
    // The tree of a restored run: its embedded steps again (the clustering is seeded, so it is the same tree).
    lineage?.prompts.push(...embedder.embedding.prompts);
    for (const s of embedded) lineage?.addStep(s);
    const view = embedder.embedding.layout.name;

    // The checkpoint of the latest frame: everything it shows is in it, so its steps are acknowledged.
    const makeDurable = async (frame: FrameTable): Promise<void> => {
      const update = readFrameTable(frame).update!;
      // The final frame before the checkpoint that says the run is over: a restart that finds one finds the other.
      if (update.final && out) await writeTable(out, frame);
      await writeOutput(checkpoint, await embedder.checkpoint());
      const through = embedder.embedding.steps[embedder.embedding.steps.length - 1]?.step;
      consumer.acknowledge(Math.max(-1, ...update.steps, update.final && through !== undefined ? through : -1));
      if (update.final) consumer.finish();
    };

    const frames = encoders.reduce((steps$, encoder) => steps$.pipe(encode(encoder)), consumer.steps()).pipe(
      tap((table) => {
        if (!lineage) return;
        const cols = readStepTable(table, { features: true });
        const code = cols.prompts.map((label) => {
          const i = lineage.prompts.indexOf(label);
          return i >= 0 ? i : lineage.prompts.push(label) - 1;
        });
        for (const s of splitColumns(cols)) lineage.addStep({ ...s, prompt: s.prompt.map((c) => code[c]) });
      }),
      evolve(embedder),
      share(),
    );
    // Watchers get each frame as it is made; the checkpoint's flush to disk (which can take seconds) does not hold them up.
    const fannedOut = frames.pipe(
      concatMap((frame) => fanOut ? publishUpdate(nc, { run, view, update: readFrameTable(frame).update!.update, frame, tree: lineage?.tree() }) : []),
      ignoreElements(),
    );
    const durableUpdates = frames.pipe(
      coalescing(makeDurable),
      map((frame): RunUpdate => ({ frame, consumer: consumer.stats, embedder: embedder.stats })),
    );
    return merge(fannedOut, durableUpdates).pipe(finalize(() => embedder.dispose()));
  }).pipe(mergeMap((updates) => updates));
}

/**
 * Runs `write` on the latest frame once the write before it is done — one at
 * a time, frames that came meanwhile sharing the next — and passes each
 * frame on after the write that covers it.
 */
function coalescing(write: (latest: FrameTable) => Promise<void>): OperatorFunction<FrameTable, FrameTable> {
  return (source) =>
    new Observable<FrameTable>((subscriber) => {
      let waiting: FrameTable[] = [], busy = false, ended = false;
      const drain = async () => {
        if (busy) return;
        busy = true;
        try {
          while (waiting.length > 0 && !subscriber.closed) {
            const covered = waiting;
            waiting = [];
            await write(covered[covered.length - 1]);
            for (const frame of covered) subscriber.next(frame);
          }
          if (ended) subscriber.complete();
        } catch (error) {
          subscriber.error(error);
        } finally {
          busy = false;
        }
      };
      const input = source.subscribe({
        next: (frame) => {
          waiting.push(frame);
          void drain();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          ended = true;
          void drain();
        },
      });
      return () => input.unsubscribe();
    });
}
