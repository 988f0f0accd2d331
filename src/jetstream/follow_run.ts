/**
 * `followRun`: a watcher's view of a run on JetStream — every frame and
 * lineage tree the embedder published, in order, from the run's start (an
 * ordered consumer of its own, so any number of watchers follow one run
 * and one that joins late replays what it missed), and, on request, the
 * producers' steps for their images. Completes after the final frame.
 */
import type { JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { last, merge, Observable, share, takeUntil } from "rxjs";
import { type FrameTable, readFrameTable } from "../data/frame_table.ts";
import { asStepTable, type StepTable } from "../data/step_table.ts";
import type { LineageTree } from "../lineage/lineage.ts";
import { concatBytes } from "../util/bytes.ts";
import { decodeFrame, decodeLineage } from "./fan_out_messages.ts";
import { natsClient } from "./nats_client.ts";
import { ensureRunStream, HEADER, parsePart, type RunSubjects, runSubjects } from "./run_subjects.ts";
import { readPart } from "./table_parts.ts";

export type RunEvent =
  | { kind: "frame"; view: string; update: number; frame: FrameTable }
  | { kind: "tree"; update: number; tree: LineageTree }
  | { kind: "steps"; table: StepTable };

export interface FollowOptions {
  run: string;
  /** Also deliver the producers' step tables (their images, for the viewer). */
  steps?: boolean;
}

/**
 * @example
 * ```ts
 * followRun(nc, { run: "digits" }).subscribe((e) => {
 *   if (e.kind === "frame") session.addFrame(e.view, e.frame);
 *   if (e.kind === "tree") session.setTree(e.tree);
 * });
 * ```
 */
export function followRun(nc: NatsConnection, options: FollowOptions): Observable<RunEvent> {
  const subjects = runSubjects(options.run);
  const updates = ordered(nc, subjects, subjects.frames, (msgs, emit) => {
    const chunks = new Map<string, Uint8Array[]>();
    return (msg: JsMsg) => {
      const view = msg.headers?.get(HEADER.view) ?? "", update = Number(msg.headers?.get(HEADER.update));
      const part = parsePart(msg.headers?.get(HEADER.part));
      if (!part || !Number.isInteger(update)) return;
      const key = `${view}/${update}`;
      const have = chunks.get(key) ?? chunks.set(key, []).get(key)!;
      have[part.part] = msg.data;
      if (have.filter(Boolean).length < part.parts) return;
      chunks.delete(key);
      const bytes = concatBytes(have);
      if (view === "tree") return emit({ kind: "tree", update, tree: decodeLineage(bytes) });
      const frame = decodeFrame(bytes);
      emit({ kind: "frame", view, update, frame });
      if (readFrameTable(frame).update?.final) msgs.complete();
    };
  });
  if (!options.steps) return updates;
  const steps = ordered(nc, subjects, subjects.steps, (_, emit) => (msg: JsMsg) => {
    if (msg.headers?.get(HEADER.end) || !msg.headers?.get(HEADER.step)) return;
    try {
      emit({ kind: "steps", table: asStepTable(readPart(msg.data)) });
    } catch {
      // A malformed part is the embedder's dead letter; a watcher passes over it.
    }
  });
  // The images stop with the updates: after the final frame.
  const shared = updates.pipe(share());
  return merge(shared, steps.pipe(takeUntil(shared.pipe(last(undefined, null)))));
}

type Handler = (msg: JsMsg) => void;

/** An ordered consumer of `filter` from the run stream's start, each message handed to the handler `make` returns. */
function ordered(
  nc: NatsConnection,
  stream: RunSubjects,
  filter: string,
  make: (control: { complete(): void }, emit: (e: RunEvent) => void) => Handler,
): Observable<RunEvent> {
  return new Observable<RunEvent>((subscriber) => {
    let stop: (() => void) | undefined, stopped = false;
    (async () => {
      const { jetstream, DeliverPolicy } = await natsClient();
      // A watcher may start before any producer: the stream is made by whoever comes first.
      await ensureRunStream(await jetstream(nc).jetstreamManager(), stream.run);
      const consumer = await jetstream(nc).consumers.get(stream.stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.All });
      const messages = await consumer.consume();
      stop = () => messages.stop();
      if (stopped) return stop();
      const handle = make({ complete: () => subscriber.complete() }, (e) => subscriber.next(e));
      for await (const msg of messages) {
        handle(msg);
        if (subscriber.closed) break;
      }
    })().catch((error) => subscriber.error(error));
    return () => {
      stopped = true;
      stop?.();
    };
  });
}
