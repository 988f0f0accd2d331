/**
 * Reading a run's steps from a durable JetStream consumer: the parts of
 * every producer are gathered into whole steps, which come out in ascending
 * order, each step's rows sorted by instance, so what the embedder sees does
 * not depend on how the producers' messages interleaved.
 *
 * - A step is *whole* once every producer of the run has delivered all its
 *   parts of it, or has ended (publishEnd) without it. (Nothing is inferred
 *   from a producer's later steps: a stray message must not close a step.)
 * - Messages are acknowledged only when `acknowledge(step)` says the steps
 *   up to `step` are embedded and checkpointed; until then the consumer keeps
 *   them in progress. A process that dies gets them again (after the ack
 *   wait), and the rows a restored embedder already holds — every step up to
 *   `embeddedThrough`, and whatever `holds` says — are dropped and counted:
 *   at-least-once delivery, exactly once in effect, keyed by (instance, step).
 * - A message that cannot be read (not Arrow, a schema other than the run's,
 *   NaN features, rows of another step than its header says, an instance
 *   that another producer owns) goes to the dead-letter subject with the
 *   typed error in its headers, and counts as an empty part: the run goes on.
 * - Memory: the server hands out at most `maxAckPending` unacknowledged
 *   messages, so a producer far ahead of the embedder waits in the stream,
 *   on disk, not here.
 */
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { type NatsClient, natsClient } from "./nats_client.ts";
import { Observable } from "rxjs";
import { buildStepTable, readStepTable, type StepColumns, type StepTable } from "../data/step_table.ts";
import type { DataLimits } from "../data/sizes.ts";
import { selectRows } from "../data/per_step.ts";
import { DiffusionLifeError, DuplicateRowError, FormatError, OptionError, SchemaError } from "../errors.ts";
import { checkToken, ensureRunStream, HEADER, parsePart, type RunSubjects } from "./run_subjects.ts";
import { readPart } from "./table_parts.ts";
import { withRetry } from "./retry.ts";

export interface StepConsumerOptions {
  run: string;
  /** Every producer of the run, by name: a step is whole once each has delivered its part. */
  producers: readonly string[];
  /** The durable consumer's name (default "embedder"); a restarted process passes the same. */
  durable?: string;
  /** Steps up to this one are embedded already (a restored embedder's last step): their messages are acknowledged at once. */
  embeddedThrough?: number;
  /** Rows a restored embedder holds besides those steps (its buffered rows): dropped and counted. */
  holds?: (instance: number, step: number) => boolean;
  /** How long the server waits for an acknowledgement before it delivers a message again (default 30000 ms). */
  ackWaitMs?: number;
  /** Unacknowledged messages the server hands out at once (default 4096): the bound on what waits here. */
  maxAckPending?: number;
  limits?: DataLimits;
}

/** What the consumer has seen, for progress displays, the bench and tests. */
export interface StepConsumerStats {
  messages: number;
  bytes: number;
  /** Rows in the steps it emitted. */
  rows: number;
  /** Rows dropped because they were already embedded or held (redeliveries). */
  duplicateRows: number;
  /** Messages delivered again while still held here. */
  redelivered: number;
  deadLetters: number;
  stepsEmitted: number;
  /** Steps gathering parts now. */
  openSteps: number;
}

interface Part {
  /** Rows kept (none for a dead letter or a redelivery). */
  columns?: StepColumns;
  msg: JsMsg;
}

interface OpenStep {
  /** Per producer: its parts by index, and how many it has. */
  byProducer: Map<string, { parts: Map<number, Part>; count: number }>;
}

export class StepConsumer {
  private readonly js: JetStreamClient;
  private readonly open = new Map<number, OpenStep>();
  /** Messages of emitted steps, waiting for `acknowledge`. */
  private readonly emitted = new Map<number, JsMsg[]>();
  /** Producers' end messages: held until `finish`. */
  private readonly ends = new Map<string, { steps: Set<number>; msg: JsMsg }>();
  private readonly owner = new Map<number, string>();
  private embeddedThrough: number;
  /** The highest step passed on (or held whole by the restored embedder). */
  private emittedThrough: number;
  private schema?: string;
  private readonly counts: Omit<StepConsumerStats, "openSteps"> = { messages: 0, bytes: 0, rows: 0, duplicateRows: 0, redelivered: 0, deadLetters: 0, stepsEmitted: 0 };

  private constructor(private readonly client: NatsClient, nc: NatsConnection, readonly subjects: RunSubjects, private readonly options: StepConsumerOptions & { durable: string }) {
    this.js = client.jetstream(nc);
    this.embeddedThrough = options.embeddedThrough ?? -1;
    this.emittedThrough = this.embeddedThrough;
  }

  /** Creates the run's stream and the durable consumer when they do not exist (a restart finds both). */
  static async open(nc: NatsConnection, options: StepConsumerOptions): Promise<StepConsumer> {
    const durable = checkToken("durable", options.durable ?? "embedder");
    if (!Array.isArray(options.producers) || options.producers.length === 0) throw new OptionError("producers", "name at least one producer");
    options.producers.forEach((p) => checkToken("producers", p));
    if (new Set(options.producers).size !== options.producers.length) throw new OptionError("producers", "a producer is named twice");
    const ackWait = options.ackWaitMs ?? 30_000, maxAckPending = options.maxAckPending ?? 4096;
    if (!(ackWait >= 100)) throw new OptionError("ackWaitMs", `must be ≥ 100, not ${ackWait}`);
    if (!(Number.isInteger(maxAckPending) && maxAckPending >= 2 * options.producers.length)) {
      throw new OptionError("maxAckPending", `must be an integer ≥ twice the producers (${2 * options.producers.length}), not ${maxAckPending}`);
    }
    const client = await natsClient();
    const { AckPolicy, nanos } = client;
    const jsm = await client.jetstream(nc).jetstreamManager();
    const subjects = await ensureRunStream(jsm, options.run);
    const config = { durable_name: durable, ack_policy: AckPolicy.Explicit, filter_subject: subjects.steps, ack_wait: nanos(ackWait), max_ack_pending: maxAckPending };
    try {
      await jsm.consumers.info(subjects.stream, durable);
      await jsm.consumers.update(subjects.stream, durable, { ack_wait: config.ack_wait, max_ack_pending: maxAckPending });
    } catch {
      await jsm.consumers.add(subjects.stream, config);
    }
    return new StepConsumer(client, nc, subjects, { ...options, durable, ackWaitMs: ackWait });
  }

  get stats(): StepConsumerStats {
    return { ...this.counts, openSteps: this.open.size };
  }

  /**
   * The run's whole steps, ascending; completes once every producer has
   * ended and its steps have come out. Subscribing starts the consumer;
   * unsubscribing stops it (what it held is delivered again later).
   */
  steps(): Observable<StepTable> {
    return new Observable<StepTable>((subscriber) => {
      let stopped = false;
      let messages: Awaited<ReturnType<Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>["consume"]>> | undefined;
      // Held messages stay in progress while they wait for their step.
      const keepAlive = setInterval(() => this.touch(), Math.max(50, this.options.ackWaitMs! / 3));
      const emit = () => {
        for (let table = this.nextWhole(); table; table = this.nextWhole()) subscriber.next(table);
        if (this.ended()) subscriber.complete();
      };
      (async () => {
        const consumer = await this.js.consumers.get(this.subjects.stream, this.options.durable);
        messages = await consumer.consume({ max_messages: 256 });
        if (stopped) return messages.stop();
        emit(); // a restored run may have nothing left to read
        for await (const msg of messages) {
          await this.receive(msg);
          emit();
          if (subscriber.closed) break;
        }
      })().catch((error) => subscriber.error(error));
      return () => {
        stopped = true;
        clearInterval(keepAlive);
        messages?.stop();
      };
    });
  }

  /** Acknowledges the messages of every emitted step up to `step` (embedded and checkpointed). */
  acknowledge(step: number): void {
    for (const [s, msgs] of this.emitted) {
      if (s > step) continue;
      msgs.forEach((m) => m.ack());
      this.emitted.delete(s);
    }
    this.embeddedThrough = Math.max(this.embeddedThrough, step);
  }

  /** Acknowledges the producers' end messages: the run is over and its last frame durable. */
  finish(): void {
    for (const { msg } of this.ends.values()) msg.ack();
  }

  private async receive(msg: JsMsg): Promise<void> {
    this.counts.messages++;
    this.counts.bytes += msg.data.length;
    const producer = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    if (!this.options.producers.includes(producer)) {
      return this.deadLetter(msg, new OptionError("producers", `"${producer}" is not a producer of run "${this.subjects.run}"`));
    }
    const end = msg.headers?.get(HEADER.end);
    if (end) return this.receiveEnd(producer, end, msg);
    const stepText = msg.headers?.get(HEADER.step) ?? "";
    const step = /^\d{1,9}$/.test(stepText) ? Number(stepText) : NaN;
    const part = parsePart(msg.headers?.get(HEADER.part));
    if (Number.isNaN(step) || !part) return this.deadLetter(msg, new FormatError(`a step message without valid ${HEADER.step} and ${HEADER.part} headers`));
    if (step <= this.embeddedThrough) {
      // Embedded already: delivered again because its acknowledgement was lost with the process.
      this.counts.duplicateRows += this.rowsOf(msg);
      return msg.ack();
    }
    if (step <= this.emittedThrough) {
      // Passed on, not yet embedded: delivered again while the embedder was busy (its keep-alive came late).
      this.counts.redelivered++;
      this.emitted.get(step)?.push(msg);
      return;
    }
    const open = this.open.get(step) ?? this.open.set(step, { byProducer: new Map() }).get(step)!;
    const mine = open.byProducer.get(producer) ?? open.byProducer.set(producer, { parts: new Map(), count: part.parts }).get(producer)!;
    const held = mine.parts.get(part.part);
    if (held) {
      // Delivered again while held (a slow step): keep the newer delivery to acknowledge.
      this.counts.redelivered++;
      held.msg = msg;
      return;
    }
    try {
      if (part.parts !== mine.count) throw new FormatError(`producer "${producer}" says step ${step} has ${part.parts} parts, and earlier ${mine.count}`);
      mine.parts.set(part.part, { columns: this.readRows(msg, producer, step), msg });
    } catch (error) {
      mine.parts.set(part.part, { msg });
      if (!(error instanceof DiffusionLifeError)) throw error;
      await this.deadLetter(msg, error, false);
    }
  }

  private receiveEnd(producer: string, text: string, msg: JsMsg): void {
    let steps: number[];
    try {
      steps = JSON.parse(text);
      if (!Array.isArray(steps) || !steps.every((s) => Number.isInteger(s) && s >= 0)) throw new Error("not a list of steps");
    } catch (error) {
      void this.deadLetter(msg, new FormatError(`producer "${producer}"'s end is not a list of steps: ${(error as Error).message}`));
      return;
    }
    const known = this.ends.get(producer);
    if (known) known.msg = msg;
    else this.ends.set(producer, { steps: new Set(steps), msg });
  }

  /** The part's rows, checked, less those already embedded or held. */
  private readRows(msg: JsMsg, producer: string, step: number): StepColumns | undefined {
    const table = readPart(msg.data, this.options.limits);
    const schema = table.schema.fields.map((f) => `${f.name}:${f.type}`).join(",");
    this.schema ??= schema;
    if (schema !== this.schema) throw new SchemaError("wrong-type", `a part whose columns (${schema}) are not the run's (${this.schema})`);
    const cols = readStepTable(table, { limits: this.options.limits });
    const other = cols.step.findIndex((s) => s !== step);
    if (other >= 0) throw new FormatError(`row ${other} is for step ${cols.step[other]}, but the message says step ${step}`, { column: "step", row: other });
    const keep: number[] = [];
    for (let r = 0; r < cols.instance.length; r++) {
      const instance = cols.instance[r];
      const owner = this.owner.get(instance);
      if (owner !== undefined && owner !== producer) throw new DuplicateRowError(instance, step, r);
      if (this.options.holds?.(instance, step)) this.counts.duplicateRows++;
      else keep.push(r);
    }
    for (const r of keep) this.owner.set(cols.instance[r], producer);
    return keep.length === 0 ? undefined : selectRows(cols, keep);
  }

  /** Publishes the message to the dead-letter subject with its error; a message outside any step is acknowledged at once. */
  private async deadLetter(msg: JsMsg, error: DiffusionLifeError, acknowledge = true): Promise<void> {
    this.counts.deadLetters++;
    const h = this.client.headers();
    for (const [key, values] of msg.headers ?? []) for (const v of values) if (!key.startsWith("Nats-")) h.append(key, v);
    h.set(HEADER.error, `${error.name}: ${error.message}`.replace(/[\r\n]+/g, " "));
    h.set(HEADER.errorCode, error.code);
    // The message id keeps a part that is delivered again (after a restart) from being stored twice.
    await withRetry(() => this.js.publish(this.subjects.dead, msg.data, { headers: h, msgID: `dead/${msg.seq}` }), {});
    if (acknowledge) msg.ack();
  }

  /** The lowest open step as a table once it is whole (its messages then wait for `acknowledge`). */
  private nextWhole(): StepTable | undefined {
    for (;;) {
      const step = Math.min(...this.open.keys());
      if (!Number.isFinite(step)) return undefined;
      const open = this.open.get(step)!;
      const whole = this.options.producers.every((p) => {
        const mine = open.byProducer.get(p);
        if (mine) return mine.parts.size === mine.count;
        const end = this.ends.get(p);
        return end !== undefined && !end.steps.has(step);
      });
      if (!whole) return undefined;
      this.open.delete(step);
      this.emittedThrough = step;
      const parts = this.options.producers.flatMap((p) => [...(open.byProducer.get(p)?.parts.values() ?? [])]);
      this.emitted.set(step, [...(this.emitted.get(step) ?? []), ...parts.map((p) => p.msg)]);
      const columns = parts.flatMap((p) => (p.columns ? [p.columns] : []));
      // A step the restored embedder holds whole: nothing to emit, its messages wait for its frame.
      if (columns.length === 0) continue;
      this.counts.stepsEmitted++;
      const table = joinRows(columns);
      this.counts.rows += table.numRows;
      return table;
    }
  }

  /** Whether every producer has ended and nothing of theirs is open. */
  private ended(): boolean {
    return this.open.size === 0 && this.options.producers.every((p) => this.ends.has(p));
  }

  private touch(): void {
    for (const open of this.open.values()) for (const mine of open.byProducer.values()) for (const p of mine.parts.values()) p.msg.working();
    for (const msgs of this.emitted.values()) msgs.forEach((m) => m.working());
    for (const { msg } of this.ends.values()) msg.working();
  }

  private rowsOf(msg: JsMsg): number {
    try {
      return readPart(msg.data, this.options.limits).numRows;
    } catch {
      return 0;
    }
  }
}

/** One table of the parts' rows, sorted by instance; prompts numbered in the order they first occur in it. */
function joinRows(parts: StepColumns[]): StepTable {
  const rows = parts.flatMap((c, k) => Array.from(c.instance, (id, i) => [id, k, i] as const)).sort((a, b) => a[0] - b[0]);
  const prompts: string[] = [];
  const prompt = Int32Array.from(rows, ([, k, i]) => {
    const label = parts[k].prompts[parts[k].prompt[i]];
    const code = prompts.indexOf(label);
    return code >= 0 ? code : prompts.push(label) - 1;
  });
  const join = (pick: (c: StepColumns) => Int32Array | Float32Array | undefined) => {
    const first = pick(parts[0]);
    if (!first) return undefined;
    const width = first.length / Math.max(parts[0].instance.length, 1);
    const out = new (first.constructor as new (length: number) => Int32Array | Float32Array)(rows.length * width);
    rows.forEach(([, k, i], r) => out.set(pick(parts[k])!.subarray(i * width, (i + 1) * width), r * width));
    return out;
  };
  return buildStepTable({
    instance: join((c) => c.instance) as Int32Array,
    prompt,
    prompts,
    step: join((c) => c.step) as Int32Array,
    timestep: join((c) => c.timestep) as Float32Array | undefined,
    image: join((c) => c.image) as Float32Array | undefined,
    imageShape: parts[0].imageShape,
    noisy: join((c) => c.noisy) as Float32Array | undefined,
    features: join((c) => c.features) as Float32Array | undefined,
    featureDim: parts[0].featureDim,
  });
}
