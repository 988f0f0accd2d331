/**
 * Publishing a producer's step tables to a run: each step's rows as Arrow
 * IPC parts on `dl.<run>.steps.<producer>`, and, when the producer is done,
 * its end (the steps it published), which tells the embedder that no more
 * rows of that producer will come.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { natsClient } from "./nats_client.ts";
import { tablesPerStep } from "../data/per_step.ts";
import { asStepTable, readStepTable, type StepTable } from "../data/step_table.ts";
import { OptionError } from "../errors.ts";
import { checkToken, ensureRunStream, HEADER, runSubjects } from "./run_subjects.ts";
import { tableParts } from "./table_parts.ts";
import { withRetry } from "./retry.ts";

export interface PublishOptions {
  run: string;
  /** This producer's name, unique in the run (one subject token). */
  producer: string;
  /**
   * How long a publish the server does not confirm is retried (default
   * 120000 ms): long enough to ride out a server restart. Retries carry the
   * same message id, so the stream stores each part once.
   */
  retryMs?: number;
  signal?: AbortSignal;
}

/** What one step's publication took. */
export interface PublishedStep {
  step: number;
  rows: number;
  parts: number;
  bytes: number;
  /** Parts the stream already held (a producer that restarted and published them again). */
  duplicates: number;
}

/**
 * Publishes a step table (one step or several, each step's rows whole) and
 * resolves once the stream has stored every part. A table is validated
 * first (typed errors, nothing published).
 *
 * @example
 * ```ts
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * for await (const table of readRecording("steps.arrow")) {
 *   await publishStepTable(nc, table, { run: "cats", producer: "gpu0" });
 * }
 * await publishEnd(nc, { run: "cats", producer: "gpu0", steps: [0, 1, 2] });
 * ```
 */
export async function publishStepTable(nc: NatsConnection, table: StepTable, options: PublishOptions): Promise<PublishedStep[]> {
  const checked = asStepTable(table);
  const { run, producer } = options;
  checkToken("producer", producer);
  const subjects = runSubjects(run);
  const subject = subjects.producer(producer);
  const { jetstream, headers: natsHeaders } = await natsClient();
  const js = jetstream(nc);
  await withRetry(async () => ensureRunStream(await js.jetstreamManager(), run), options);
  const maxBytes = nc.info?.max_payload ?? 1 << 20;
  const out: PublishedStep[] = [];
  for (const part of tablesPerStep(checked)) {
    const step = readStepTable(part).step[0] ?? 0;
    const parts = tableParts(part, maxBytes);
    let bytes = 0, duplicates = 0;
    for (let k = 0; k < parts.length; k++) {
      const h = natsHeaders();
      h.set(HEADER.run, run);
      h.set(HEADER.producer, producer);
      h.set(HEADER.step, String(step));
      h.set(HEADER.part, `${k}/${parts.length}`);
      const ack = await withRetry(() => js.publish(subject, parts[k], { headers: h, msgID: `${run}/${producer}/${step}/${k}` }), options);
      bytes += parts[k].length;
      if (ack.duplicate) duplicates++;
    }
    out.push({ step, rows: part.numRows, parts: parts.length, bytes, duplicates });
  }
  return out;
}

/**
 * Publishes a producer's end: the steps it published. The embedder treats
 * a step as whole once every producer of the run has sent all its parts of
 * it, or has ended without it.
 */
export async function publishEnd(nc: NatsConnection, options: PublishOptions & { steps: readonly number[] }): Promise<void> {
  const { run, producer } = options;
  checkToken("producer", producer);
  const steps = [...new Set(options.steps)].sort((a, b) => a - b);
  if (!steps.every((s) => Number.isInteger(s) && s >= 0)) throw new OptionError("steps", "must be integers ≥ 0");
  const subject = runSubjects(run).producer(producer);
  const { jetstream, headers: natsHeaders } = await natsClient();
  const js = jetstream(nc);
  await withRetry(async () => ensureRunStream(await js.jetstreamManager(), run), options);
  const h = natsHeaders();
  h.set(HEADER.run, run);
  h.set(HEADER.producer, producer);
  h.set(HEADER.end, JSON.stringify(steps));
  await withRetry(() => js.publish(subject, new Uint8Array(0), { headers: h, msgID: `${run}/${producer}/end` }), options);
}
