/**
 * Many producers, one embedder, through a real nats-server (Debian's
 * package, started here on 127.0.0.1 with JetStream in a temporary folder):
 * three producer processes publish 10 steps × 300 instances each into a run.
 * - uninterrupted, with two watchers and malformed messages: every row
 *   embedded once, the malformed ones in the dead-letter subject, both
 *   watchers get every frame and tree;
 * - the embedder killed (SIGKILL) mid-run, the server killed and started
 *   again, the embedder restarted from its checkpoint: the run completes
 *   and its final frame is the uninterrupted run's, bit for bit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { tableFromIPC, tableToIPC } from "apache-arrow";
import { lastValueFrom, toArray } from "rxjs";
import { readFrameTable, readStepTable, stepTable } from "../mod.ts";
import { buildStepTable } from "../src/data/step_table.ts";
import { ensureRunStream, followRun, HEADER, publishEnd, publishStepTable, type RunEvent, StepConsumer } from "../nats.ts";
import { NATS_SERVER, NatsServer } from "./nats_server.ts";

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const script = (name: string, args: string[]): ChildProcess => {
  const command = g.Deno ? [process.execPath, "run", "-A", name] : g.Bun ? [process.execPath, name] : [process.execPath, "--import", "tsx", name];
  return spawn(command[0], [...command.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"] });
};
const PRODUCERS = ["a", "b", "c"];

/** Runs the three producers (300 instances each, 10 steps, `interval` ms apart) to their end. */
function produce(url: string, run: string, interval: number): Promise<void[]> {
  return Promise.all(PRODUCERS.map((p, i) => finished(script("test/jetstream_producer.script.ts", [url, run, p, String(300 * i), "300", "10", String(interval)]), `producer ${p}`)));
}

function finished(child: ChildProcess, what: string): Promise<void> {
  let err = "";
  child.stderr!.on("data", (d) => (err += d));
  return new Promise((resolve, reject) => child.once("exit", (code, signal) => (code === 0 ? resolve() : reject(new Error(`${what} exited ${code ?? signal}: ${err.slice(-2000)}`)))));
}

interface Line {
  update: number;
  steps: number[];
  final: boolean;
  rows: number;
  consumer: { rows: number; duplicateRows: number; deadLetters: number; redelivered: number };
}

/** The embedder process; `lines` fills with its updates, `onLine` sees each as it comes. */
function embedder(url: string, run: string, folder: string, tree: boolean, onLine: (line: Line) => void = () => {}) {
  const child = script("test/jetstream_embedder.script.ts", [url, run, PRODUCERS.join(","), join(folder, "checkpoint.arrow"), join(folder, "final.arrow"), "5000", tree ? "tree" : "no-tree"]);
  const lines: Line[] = [];
  let buffer = "";
  child.stdout!.on("data", (d) => {
    buffer += d;
    for (let at = buffer.indexOf("\n"); at >= 0; at = buffer.indexOf("\n")) {
      const line = JSON.parse(buffer.slice(0, at)) as Line;
      buffer = buffer.slice(at + 1);
      lines.push(line);
      onLine(line);
    }
  });
  return { child, lines, done: finished(child, "the embedder") };
}

const coordinates = (path: string) => {
  const f = readFrameTable(tableFromIPC(readFileSync(path)));
  return { instance: Array.from(f.instance), step: Array.from(f.step), x: Array.from(f.x), y: Array.from(f.y) };
};

if (!NATS_SERVER) {
  test("JetStream tests need nats-server (npm test installs it with apt-get)", () => assert.unreachable("nats-server is not installed"));
} else {
  let server: NatsServer;
  const folder = mkdtempSync(join(tmpdir(), "dl-jetstream-"));
  const [first, second] = [join(folder, "uninterrupted"), join(folder, "restarted")];

  test.before(async () => {
    server = await NatsServer.start();
  });
  test.after(async () => {
    await server.close();
    rmSync(folder, { recursive: true, force: true });
  });

  test("three producers, one embedder, two watchers: every row once, malformed messages in the dead-letter subject", async () => {
    const run = "uninterrupted";
    const nc = await connect({ servers: server.url });
    try {
      const subjects = await ensureRunStream(await jetstreamManager(nc), run);
      const js = jetstream(nc);
      // Malformed, before anything else: NaN features (a step no producer has), bytes that are no Arrow, no headers.
      const features = new Float32Array(16).fill(NaN);
      const nan = buildStepTable({ instance: Int32Array.of(5000), prompt: Int32Array.of(0), prompts: ["cat"], step: Int32Array.of(10), features, featureDim: 16 });
      const part = (step: string | undefined) => {
        const h = headers();
        if (step !== undefined) {
          h.set(HEADER.step, step);
          h.set(HEADER.part, "0/1");
        }
        return h;
      };
      await js.publish(subjects.producer("a"), tableToIPC(nan, "stream"), { headers: part("10") });
      await js.publish(subjects.producer("b"), new TextEncoder().encode("not arrow at all"), { headers: part("11") });
      await js.publish(subjects.producer("c"), new Uint8Array([1, 2, 3]), { headers: part(undefined) });

      const watchers = [followRun(nc, { run }), followRun(nc, { run })].map((w) => lastValueFrom(w.pipe(toArray())));
      const e = embedder(server.url, run, first, true);
      await produce(server.url, run, 100);
      await e.done;
      const [seenA, seenB] = await Promise.all(watchers);

      const final = e.lines[e.lines.length - 1];
      assert.ok(final.final);
      assert.is(final.rows, 9000, "every row of 3 × 300 instances × 10 steps");
      assert.is(final.consumer.rows, 9000, "no row doubled");
      assert.is(final.consumer.deadLetters, 3);
      const f = coordinates(join(first, "final.arrow"));
      assert.is(new Set(f.instance.map((id, r) => `${id}/${f.step[r]}`)).size, 9000);

      const dl = await (await jetstream(nc).consumers.get(subjects.stream, { filter_subjects: subjects.dead })).fetch({ max_messages: 3, expires: 2000 });
      const errors: string[] = [];
      for await (const m of dl) errors.push(`${m.headers?.get(HEADER.errorCode)}`);
      assert.equal(errors.sort(), ["invalid-format", "invalid-format", "non-finite"]);

      for (const seen of [seenA, seenB]) {
        const frames = seen.filter((x): x is Extract<RunEvent, { kind: "frame" }> => x.kind === "frame");
        assert.equal(frames.map((x) => x.update), e.lines.map((l) => l.update), "every frame, in order");
        assert.equal(frames.map((x) => x.frame.numRows), e.lines.map((l) => l.rows));
        assert.is(seen.filter((x) => x.kind === "tree").length, e.lines.length, "a tree with every frame");
      }
    } finally {
      await nc.close();
    }
  });

  test("a step wider than a message travels in parts and is read back whole, in instance order", async () => {
    const nc = await connect({ servers: server.url });
    try {
      const run = "wide", dim = 4096, n = 300; // 4.9 MB of features: five or more messages of at most 1 MiB
      const instance = Int32Array.from({ length: n }, (_, i) => n - 1 - i); // descending: read back ascending
      const features = Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i));
      const table = stepTable({ instance, prompt: new Int32Array(n), prompts: ["p"], step: new Int32Array(n).fill(2), features, featureDim: dim });
      const [published] = await publishStepTable(nc, table, { run, producer: "solo" });
      assert.ok(published.parts >= 5, `${published.parts} parts`);
      await publishEnd(nc, { run, producer: "solo", steps: [2] });
      const consumer = await StepConsumer.open(nc, { run, producers: ["solo"] });
      const [back] = await lastValueFrom(consumer.steps().pipe(toArray()));
      const cols = readStepTable(back, { features: true });
      assert.equal(Array.from(cols.instance), Array.from({ length: n }, (_, i) => i));
      const row = 17, original = n - 1 - row;
      assert.equal(Array.from(cols.features!.subarray(row * dim, row * dim + 8)), Array.from(features.subarray(original * dim, original * dim + 8)));
      consumer.acknowledge(2);
      consumer.finish();
      assert.is(consumer.stats.rows, n);
    } finally {
      await nc.close();
    }
  });

  test("the embedder killed mid-run and the server restarted: the run completes with the uninterrupted run's final frame", async () => {
    const run = "restarted";
    let killed!: () => void;
    const midRun = new Promise<void>((resolve) => (killed = resolve));
    const e1 = embedder(server.url, run, second, false, (line) => {
      if (!line.final && line.update === 2) {
        e1.child.kill("SIGKILL");
        killed();
      }
    });
    const producers = produce(server.url, run, 300);
    await midRun;
    await e1.done.catch(() => undefined);
    assert.ok(!e1.lines.some((l) => l.final), "killed before the end");
    await server.down();
    await new Promise((r) => setTimeout(r, 500));
    await server.up();
    const e2 = embedder(server.url, run, second, false);
    await producers;
    await e2.done;
    const final = e2.lines[e2.lines.length - 1];
    assert.ok(final.final);
    assert.is(final.rows, 9000);
    const a = coordinates(join(first, "final.arrow")), b = coordinates(join(second, "final.arrow"));
    assert.equal(b.instance, a.instance);
    assert.equal(b.step, a.step);
    assert.ok(b.x.every((v, i) => v === a.x[i]) && b.y.every((v, i) => v === a.y[i]), "the same coordinates, bit for bit");
    // Started again on the finished run's checkpoint: it says so, rather than wait for producers that have ended.
    const e3 = embedder(server.url, run, second, false);
    const refused = await e3.done.then(() => "", (error: Error) => error.message);
    assert.match(refused, /holds a finished run/);
  });
}

test.run();
