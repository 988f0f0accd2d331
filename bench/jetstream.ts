/**
 * Ingest through NATS JetStream against reading the same rows from a local
 * file, in one run (issue: many generators, one tree). Three producers of
 * 1000 instances each, 12 steps of 50-dimensional features (bench/synthetic.ts), on a
 * nats-server started here (skipped with a note when it is not installed):
 *
 * - `ingest`: rows/s and MB/s of reading every step — from an Arrow IPC
 *   file, and from the run's durable consumer (whole steps gathered from the
 *   three producers' messages), and of the producers' publishing;
 * - `latency`: per step, from the moment the step is available (its last
 *   part stored by the server; read from the file) to its frame — at a
 *   watcher (`followRun`) for NATS, out of `evolve` for the file — with the
 *   steps coming one every `PACE` ms and the same embedder settings.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableToIPC } from "apache-arrow";
import { connect } from "@nats-io/transport-node";
import { concatMap, from, lastValueFrom, map, tap, timer, toArray } from "rxjs";
import { asStepTable, evolve, readFrameTable, readRecording, type StepTable } from "../mod.ts";
import { embedRun, followRun, publishEnd, publishStepTable, StepConsumer } from "../nats.ts";
import { writeIpcStream } from "../src/data/ipc_stream.ts";
import { concatBytes } from "../src/util/bytes.ts";
import { NATS_SERVER, NatsServer } from "../test/nats_server.ts";
import { type BenchCase, percentile, round, timed } from "./bench.ts";
import { syntheticSteps } from "./synthetic.ts";

const PRODUCERS = 3, PER_PRODUCER = 1000, STEPS = 12, PACE = 400;
const EMBEDDER = { iterationsPerStep: 20, polish: 0, quality: false, seed: 0 } as const;

export const jetstreamCase: BenchCase = {
  name: "jetstream",
  async *run() {
    if (!NATS_SERVER) {
      yield { what: "skipped", note: "nats-server is not installed (apt-get install nats-server)" };
      return;
    }
    const steps = syntheticSteps(PRODUCERS * PER_PRODUCER, STEPS);
    // Producer p holds instances [p·1000, (p+1)·1000) of every step.
    const parts = (p: number) => steps.map((t) => asStepTable(t.slice(p * PER_PRODUCER, (p + 1) * PER_PRODUCER)));
    const rows = PRODUCERS * PER_PRODUCER * STEPS;
    const folder = mkdtempSync(join(tmpdir(), "dl-bench-jetstream-"));
    const file = join(folder, "steps.arrows");
    const written: Uint8Array[] = [];
    await writeIpcStream((async function* () {
      yield* steps;
    })(), async (bytes) => void written.push(bytes.slice()));
    writeFileSync(file, concatBytes(written));
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url });
    try {
      // Ingest: the file, then publishing and consuming.
      const [fileSteps, fileMs] = await timed(async () => {
        let n = 0;
        for await (const t of readRecording(file)) n += t.numRows;
        return n;
      });
      const bytes = steps.reduce((sum, t) => sum + tableToIPC(t, "stream").length, 0);
      yield { what: "ingest", from: "file", rows: fileSteps, ms: round(fileMs, 1), rowsPerS: Math.round(fileSteps / fileMs * 1000), MBPerS: round(bytes / 1e3 / fileMs, 1) };
      const [, publishMs] = await timed(() => Promise.all(Array.from({ length: PRODUCERS }, (_, p) => publishAll(nc, "ingest", `p${p}`, parts(p)))));
      yield { what: "ingest", from: "publish (3 producers at once)", rows, ms: round(publishMs, 1), rowsPerS: Math.round(rows / publishMs * 1000), MBPerS: round(bytes / 1e3 / publishMs, 1) };
      const consumer = await StepConsumer.open(nc, { run: "ingest", producers: ["p0", "p1", "p2"] });
      const [read, consumeMs] = await timed(() => lastValueFrom(consumer.steps().pipe(toArray())));
      consumer.acknowledge(STEPS - 1);
      consumer.finish();
      const consumed = read.reduce((sum, t) => sum + t.numRows, 0);
      yield {
        what: "ingest",
        from: "durable consumer (whole steps)",
        rows: consumed,
        ms: round(consumeMs, 1),
        rowsPerS: Math.round(consumed / consumeMs * 1000),
        MBPerS: round(consumer.stats.bytes / 1e3 / consumeMs, 1),
        vsFile: round(fileMs / consumeMs, 3),
      };

      // Latency: the file, paced, through evolve.
      const fileLatency: number[] = [];
      const available = new Map<number, number>();
      await lastValueFrom(
        from(steps).pipe(
          concatMap((t, i) => timer(i === 0 ? 0 : PACE).pipe(map(() => t))),
          tap((t) => available.set(stepOf(t), performance.now())),
          evolve({ ...EMBEDDER, wholeSteps: true }),
          tap((frame) => {
            for (const s of readFrameTable(frame).update?.steps ?? []) fileLatency.push(performance.now() - available.get(s)!);
          }),
        ),
      );
      // NATS: three producers, paced; the embedder and a watcher in this process.
      const stored = new Map<number, number>(), natsLatency: number[] = [];
      const watcher = lastValueFrom(
        followRun(nc, { run: "paced" }).pipe(tap((e) => {
          if (e.kind !== "frame") return;
          for (const s of readFrameTable(e.frame).update?.steps ?? []) natsLatency.push(performance.now() - stored.get(s)!);
        })),
        { defaultValue: undefined },
      );
      const embedder = lastValueFrom(embedRun(nc, { run: "paced", producers: ["p0", "p1", "p2"], checkpoint: join(folder, "checkpoint.arrow"), tree: false, ...EMBEDDER }));
      const done = new Map<number, number>();
      await Promise.all(Array.from({ length: PRODUCERS }, (_, p) =>
        publishAll(nc, "paced", `p${p}`, parts(p), PACE, (step) => {
          // A step is available once its last producer's part is stored.
          done.set(step, (done.get(step) ?? 0) + 1);
          if (done.get(step) === PRODUCERS) stored.set(step, performance.now());
        })
      ));
      await embedder;
      await watcher;
      for (const [from, latency] of [["file", fileLatency], ["NATS (publish to watcher)", natsLatency]] as const) {
        const warm = latency.slice(1); // the first step has no warm start
        yield { what: "latency", from, steps: latency.length, paceMs: PACE, p50Ms: round(percentile(warm, 50), 1), p95Ms: round(percentile(warm, 95), 1), eachMs: latency.map(Math.round) };
      }
      yield { what: "latency", from: "ratio", natsOverFileP50: round(percentile(natsLatency.slice(1), 50) / percentile(fileLatency.slice(1), 50), 3) };
    } finally {
      await nc.close();
      await server.close();
      rmSync(folder, { recursive: true, force: true });
    }
  },
};

/** Publishes a producer's steps, `pace` ms apart, then its end. */
async function publishAll(nc: Awaited<ReturnType<typeof connect>>, run: string, producer: string, tables: StepTable[], pace = 0, onStored?: (step: number) => void): Promise<void> {
  for (const [i, t] of tables.entries()) {
    if (pace > 0 && i > 0) await new Promise((r) => setTimeout(r, pace));
    const [published] = await publishStepTable(nc, t, { run, producer });
    onStored?.(published.step);
  }
  await publishEnd(nc, { run, producer, steps: tables.map((_, s) => s) });
}

function stepOf(t: StepTable): number {
  return t.getChild("step")!.get(0) as number;
}
