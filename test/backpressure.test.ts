// Bounded buffers end to end (issue 14, item 5): the IPC writer waits for its sink; the incremental
// embedder answers a burst within its budget, and with a backlog drops (and counts) what it cannot take.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tableFromIPC } from "apache-arrow";
import { firstValueFrom, of } from "rxjs";
import { writeIpcStream } from "../src/data/ipc_stream.ts";
import { readFrameTable } from "../src/data/frame_table.ts";
import { stepTable, type StepTable } from "../src/data/step_table.ts";
import { IncrementalEmbedder } from "../src/embed/run/incremental.ts";
import { evolve } from "../src/stream/evolve.ts";
import { random } from "../src/util/random.ts";

const DIM = 4;

/** `steps` steps × `n` instances (two prompts drifting apart) in one table, steps from `first`. */
function burst(steps: number, n: number, first = 0): StepTable {
  const rng = random(7);
  const rows = steps * n;
  return stepTable({
    instance: Int32Array.from({ length: rows }, (_, r) => r % n),
    prompt: Int32Array.from({ length: rows }, (_, r) => (r % n) % 2),
    prompts: ["a", "b"],
    step: Int32Array.from({ length: rows }, (_, r) => first + Math.floor(r / n)),
    features: Float32Array.from({ length: rows * DIM }, (_, k) => {
      const r = Math.floor(k / DIM), t = Math.floor(r / n);
      return ((r % n) % 2 ? 1 : -1) * (t / steps) * 3 + rng.normal();
    }),
    featureDim: DIM,
  });
}

test("writeIpcStream: the next table is read only once the sink has taken the last (a stalled reader holds the producer)", async () => {
  let pulled = 0;
  async function* tables() {
    for (let s = 0; s < 6; s++) {
      pulled++;
      yield burst(1, 4, s);
    }
  }
  const chunks: Uint8Array[] = [];
  let release!: () => void, stalled!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const stalling = new Promise<void>((resolve) => (stalled = resolve));
  const writing = writeIpcStream(tables(), async (bytes) => {
    chunks.push(bytes.slice());
    if (chunks.length === 2) {
      // The reader stops reading for a while: the producer must wait, not run ahead.
      stalled();
      await released;
    }
  });
  await stalling;
  await new Promise((resolve) => setTimeout(resolve, 100)); // room for a producer that would run ahead
  assert.is(pulled, 2, "two tables read, their bytes in the sink, nothing more");
  release();
  await writing;
  assert.is(pulled, 6);
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (all.set(c, at), at + c.length), 0);
  assert.equal([...tableFromIPC(all).getChild("step")!], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5]);
});

test("incremental: 2,000 steps delivered at once give a frame within the budget, not after all of them", async () => {
  const embedder = new IncrementalEmbedder({ iterationsPerStep: 20, quality: false, seed: 1, budgetMs: 100 });
  try {
    embedder.push(burst(2000, 6));
    const started = performance.now();
    const frame = await embedder.update();
    const ms = performance.now() - started;
    const update = readFrameTable(frame!).update!;
    assert.ok(update.coalesced >= 1 && update.coalesced < 2000, `the first frame holds ${update.coalesced} steps`);
    assert.is(embedder.stats.embeddedSteps, update.coalesced);
    assert.ok(embedder.stats.pendingSteps > 1000, "the rest wait for the next updates");
    assert.ok(ms < 5000, `first frame after ${ms.toFixed(0)} ms`);
    // The next update goes on where this one stopped.
    const next = readFrameTable((await embedder.update())!).update!;
    assert.is(next.steps[0], update.steps[update.steps.length - 1] + 1);
  } finally {
    embedder.dispose();
  }
});

test("evolve: a burst of 2,000 steps gives its first frame promptly", async () => {
  const started = performance.now();
  const frame = await firstValueFrom(of(burst(2000, 6)).pipe(evolve({ iterationsPerStep: 20, quality: false, seed: 1, budgetMs: 100 })));
  const ms = performance.now() - started;
  const update = readFrameTable(frame).update!;
  assert.ok(update.coalesced < 2000 && !update.final, `${update.coalesced} steps in the first frame`);
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
});

test("incremental: with a backlog, the oldest waiting steps are dropped, counted, and their late rows dropped too", async () => {
  const embedder = new IncrementalEmbedder({ iterationsPerStep: 10, polish: 0, quality: false, seed: 1, backlog: 3 });
  try {
    // Ten steps arrive while nothing is embedded: steps 0..8 are complete (a later one came), 9 is open.
    for (let s = 0; s < 10; s++) embedder.push(burst(1, 6, s));
    const stats = embedder.stats;
    assert.is(stats.droppedSteps, 6, "0..5 dropped; 6, 7, 8 wait (the backlog), 9 is still open");
    assert.is(stats.droppedRows, 36);
    assert.is(stats.pendingSteps, 4);
    // More rows of a dropped step are not an error (the producer did nothing wrong): dropped and counted.
    embedder.push(stepTable({ instance: Int32Array.of(99), prompt: Int32Array.of(0), prompts: ["a", "b"], step: Int32Array.of(2), features: new Float32Array(DIM), featureDim: DIM }));
    assert.is(embedder.stats.droppedRows, 37);
    const frame = readFrameTable(await embedder.finish());
    assert.equal([...new Set(frame.step)], [6, 7, 8, 9]);
    assert.is(frame.update!.droppedSteps, 6);
    assert.is(frame.update!.droppedRows, 37);
  } finally {
    embedder.dispose();
  }
  assert.throws(() => new IncrementalEmbedder({ backlog: 0 }), /backlog/);
  assert.throws(() => new IncrementalEmbedder({ budgetMs: -1 }), /budgetMs/);
});

test("incremental: the budget does not change the result (steps are embedded one after another either way)", async () => {
  const run = async (budgetMs: number) => {
    const e = new IncrementalEmbedder({ iterationsPerStep: 10, polish: 10, quality: false, seed: 2, budgetMs });
    e.push(burst(12, 6));
    while (e.ready) await e.update();
    const f = readFrameTable(await e.finish());
    e.dispose();
    return Array.from(f.x);
  };
  assert.equal(await run(0), await run(1e9));
});

test.run();
