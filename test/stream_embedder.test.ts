// The incremental embedder on its own: row policies, coalescing, checkpoints.
import { tableFromIPC, tableToIPC } from "apache-arrow";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CancelledError,
  DimensionError,
  DuplicateRowError,
  gradientDescent,
  IncrementalEmbedder,
  type IncrementalOptions,
  OptionError,
  random,
  readFrameTable,
  readStepTable,
  rectilinear,
  StepOrderError,
  type StepTable,
  stepTable,
} from "../mod.ts";

const DIM = 6;

/** Three clusters that separate as the steps go on; row r of step t is instance r, prompt r % 3. */
function features(steps: number, n: number, seed = 1): Float32Array[] {
  const rng = random(seed);
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: DIM }, () => 5 * rng.normal()));
  return Array.from({ length: steps }, (_, t) => Float32Array.from({ length: n * DIM }, (_, k) => {
    const i = Math.floor(k / DIM), d = k % DIM;
    return (centres[i % 3][d] * (t + 1)) / steps + rng.normal();
  }));
}

/** A step table of the given (step, instance) rows, features taken from `f`. */
function rows(f: Float32Array[], pairs: [step: number, instance: number][]): StepTable {
  const out = new Float32Array(pairs.length * DIM);
  pairs.forEach(([t, i], r) => out.set(f[t].subarray(i * DIM, (i + 1) * DIM), r * DIM));
  return stepTable({
    instance: Int32Array.from(pairs, ([, i]) => i),
    prompt: Int32Array.from(pairs, ([, i]) => i % 3),
    prompts: ["a", "b", "c"],
    step: Int32Array.from(pairs, ([t]) => t),
    features: out,
    featureDim: DIM,
  });
}

const whole = (f: Float32Array[], t: number, n: number) => rows(f, Array.from({ length: n }, (_, i) => [t, i]));
const options: IncrementalOptions = { iterationsPerStep: 20, polish: 20, seed: 3 };

async function embedWhole(f: Float32Array[], n: number): Promise<IncrementalEmbedder> {
  const e = new IncrementalEmbedder(options);
  for (let t = 0; t < f.length; t++) {
    e.push(whole(f, t, n));
    await e.update();
  }
  await e.finish();
  return e;
}

const positions = (e: IncrementalEmbedder) => e.embedding.steps.map((s) => Array.from(s.y));

test("a step is complete when a later step starts, when it holds `instances` rows, or at the end", async () => {
  const f = features(3, 12);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 0, 12));
  assert.is(e.ready, false);
  assert.is(await e.update(), undefined);
  e.push(rows(f, [[1, 0]]));
  assert.is(e.ready, true);
  const frame = readFrameTable((await e.update())!);
  assert.equal(frame.update!.steps, [0]);
  assert.is(frame.update!.pendingRows, 1);

  const counted = new IncrementalEmbedder({ ...options, instances: 12 });
  counted.push(rows(f, Array.from({ length: 11 }, (_, i) => [0, i])));
  assert.is(counted.ready, false);
  counted.push(rows(f, [[0, 11]]));
  assert.is(counted.ready, true);

  e.end();
  assert.equal(readFrameTable((await e.update())!).update!.steps, [1]);
});

test("partial steps in mixed tables merge: the same result as whole steps", async () => {
  const n = 12, f = features(3, n);
  const reference = await embedWhole(f, n);
  const e = new IncrementalEmbedder(options);
  const half = (t: number, from: number) => Array.from({ length: n / 2 }, (_, i): [number, number] => [t, from + i]);
  // Rows of two steps in one table, a step spread over two tables, instances in any order.
  e.push(rows(f, [...half(0, 6).reverse(), ...half(1, 0)]));
  e.push(rows(f, half(0, 0)));
  await e.update();
  e.push(rows(f, [...half(2, 0), ...half(1, 6)]));
  e.push(rows(f, half(2, 6)));
  await e.update();
  await e.finish();
  assert.equal(positions(e), positions(reference));
});

test("a step that arrives before an earlier one is embedded in step order, while both are buffered", async () => {
  const f = features(3, 9);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 2, 9));
  e.push(whole(f, 0, 9));
  e.push(whole(f, 1, 9));
  const frame = readFrameTable((await e.update())!);
  assert.equal(frame.update!.steps, [0, 1]);
  assert.is(frame.update!.coalesced, 2);
  assert.equal(e.embedding.steps.map((s) => s.step), [0, 1]);
});

test("late rows: StepOrderError by default (the table is kept out whole), or dropped and counted", async () => {
  const f = features(3, 9);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 0, 9));
  e.push(whole(f, 1, 9));
  await e.update();
  const before = e.stats;
  assert.throws(
    () => e.push(rows(f, [[2, 0], [0, 3]])),
    (err: unknown) => err instanceof StepOrderError && err.code === "out-of-order" && err.row === 1,
  );
  assert.equal(e.stats, before);

  const dropping = new IncrementalEmbedder({ ...options, late: "drop" });
  dropping.push(whole(f, 0, 9));
  dropping.push(whole(f, 1, 9));
  await dropping.update();
  dropping.push(rows(f, [[0, 3], [0, 4], [2, 0]]));
  assert.is(dropping.stats.droppedRows, 2);
  assert.is(dropping.stats.pendingRows, 10);
  const final = readFrameTable(await dropping.finish());
  assert.is(final.update!.droppedRows, 2);
  assert.equal(dropping.embedding.steps.map((s) => s.n), [9, 9, 1]);
});

test("duplicate rows: DuplicateRowError, within a table or against buffered rows, and nothing is kept", () => {
  const f = features(2, 6);
  const e = new IncrementalEmbedder(options);
  assert.throws(() => e.push(rows(f, [[0, 1], [0, 1]])), (err: unknown) => err instanceof DuplicateRowError && err.code === "duplicate-row");
  e.push(rows(f, [[0, 1], [0, 2]]));
  assert.throws(() => e.push(rows(f, [[0, 3], [0, 2]])), (err: unknown) => err instanceof DuplicateRowError && err.row === 1);
  assert.is(e.stats.pendingRows, 2);
});

test("bad input and options get typed errors", () => {
  const f = features(2, 6);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 0, 6));
  const wide = stepTable({ ...readStepTable(whole(f, 1, 3), { features: true }), features: new Float32Array(3 * 4), featureDim: 4 });
  assert.throws(() => e.push(wide), (err: unknown) => err instanceof DimensionError && err.column === "features");
  assert.throws(() => new IncrementalEmbedder({ iterationsPerStep: 0 }), (err: unknown) => err instanceof OptionError);
  assert.throws(() => new IncrementalEmbedder({ late: "ignore" as never }), (err: unknown) => err instanceof OptionError);
  // `iterations` is embedSteps' total; the incremental embedder's is per step.
  assert.throws(() => new IncrementalEmbedder({ iterations: 20 } as never), (err: unknown) => err instanceof OptionError && /iterationsPerStep/.test(err.message));
  assert.throws(() => new IncrementalEmbedder({ optimizer: { learningRate: 100 } as never }), (err: unknown) => err instanceof OptionError && /gradientDescent/.test(err.message));
});

test("finish embeds every buffered step, however long it takes: the budget paces updates, not the end", async () => {
  const n = 9, f = features(4, n);
  // A budget of 0 ms lets an update take one step; the finish takes all four, into one final frame.
  const e = new IncrementalEmbedder({ ...options, budgetMs: 0 });
  for (let t = 0; t < f.length; t++) e.push(whole(f, t, n));
  const frame = readFrameTable(await e.finish());
  assert.equal([frame.update!.steps, frame.update!.coalesced, frame.update!.iterations], [[0, 1, 2, 3], 4, 4 * 20 + 20]);
  assert.is(e.embedding.steps.length, 4);
  assert.equal(positions(e), positions(await embedWhole(f, n)));
});

test("coalescing does not change the result: steps taken one by one or all at once agree", async () => {
  const n = 9, f = features(4, n);
  const reference = await embedWhole(f, n);
  const e = new IncrementalEmbedder(options);
  for (let t = 0; t < f.length; t++) e.push(whole(f, t, n));
  const frame = readFrameTable(await e.finish());
  assert.ok(frame.update!.final);
  assert.equal([frame.update!.steps, frame.update!.coalesced], [[0, 1, 2, 3], 4]);
  assert.equal(positions(e), positions(reference));
});

test("checkpoint: a restored embedder continues to exactly the same result", async () => {
  const n = 12, f = features(5, n);
  const reference = await embedWhole(f, n);
  const e = new IncrementalEmbedder(options);
  for (let t = 0; t < 3; t++) {
    e.push(whole(f, t, n));
    await e.update();
  }
  e.push(rows(f, [[3, 0], [3, 5]])); // buffered rows travel with the checkpoint
  const restored = IncrementalEmbedder.restore(await e.checkpoint());
  e.dispose();
  assert.equal(restored.stats.pendingRows, n + 2);
  restored.push(rows(f, Array.from({ length: n - 2 }, (_, i) => [3, i < 4 ? i + 1 : i + 2])));
  restored.push(whole(f, 4, n));
  await restored.update();
  await restored.finish();
  assert.equal(positions(restored), positions(reference));
  for (let k = 0; k < reference.embedding.steps.length; k++) {
    assert.equal(Array.from(restored.embedding.steps[k].gains), Array.from(reference.embedding.steps[k].gains));
  }
  assert.equal(restored.embedding.prompts, reference.embedding.prompts);
});

test("checkpoint: options are kept, a different layout is refused, a foreign file is refused", async () => {
  const f = features(2, 6);
  const e = new IncrementalEmbedder({ ...options, late: "drop", window: 1 });
  e.push(whole(f, 0, 6));
  const bytes = await e.checkpoint();
  const restored = IncrementalEmbedder.restore(bytes);
  restored.push(whole(f, 1, 6));
  await restored.update();
  restored.push(rows(f, [[0, 1]]));
  assert.is(restored.stats.droppedRows, 1);
  assert.throws(() => IncrementalEmbedder.restore(bytes, { layout: rectilinear() }), (err: unknown) => err instanceof OptionError);
  assert.throws(() => IncrementalEmbedder.restore(tableToIPC(whole(f, 0, 6), "file")), /not a checkpoint/);
});

test("checkpoint: the built-in optimiser is restored with its options; an older checkpoint's `iterations` is read as iterationsPerStep", async () => {
  const n = 12, f = features(4, n);
  const tuned: IncrementalOptions = { ...options, optimizer: gradientDescent({ learningRate: 20, finalMomentum: 0.6 }) };
  const run = async (e: IncrementalEmbedder, from: number, to: number) => {
    for (let t = from; t < to; t++) {
      e.push(whole(f, t, n));
      await e.update();
    }
  };
  const reference = new IncrementalEmbedder(tuned);
  await run(reference, 0, 4);
  await reference.finish();
  assert.not.equal(positions(reference), positions(await embedWhole(f, n)));
  const e = new IncrementalEmbedder(tuned);
  await run(e, 0, 2);
  const bytes = await e.checkpoint();
  const restored = IncrementalEmbedder.restore(bytes);
  await run(restored, 2, 4);
  await restored.finish();
  assert.equal(positions(restored), positions(reference));

  const old = tableFromIPC(bytes), key = "diffusion-life.checkpoint";
  const meta = JSON.parse(old.schema.metadata.get(key)!);
  meta.options = { ...meta.options, iterations: 7, iterationsPerStep: undefined };
  old.schema.metadata.set(key, JSON.stringify(meta));
  const fromOld = IncrementalEmbedder.restore(tableToIPC(old, "file"));
  fromOld.push(whole(f, 2, n));
  assert.is(readFrameTable((await fromOld.update())!).update!.iterations, 7);
});

test("updates and checkpoints queue: a checkpoint taken during an update holds the whole update", async () => {
  const f = features(3, 9);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 0, 9));
  e.push(whole(f, 1, 9));
  const running = e.update();
  const bytes = e.checkpoint();
  await running;
  const restored = IncrementalEmbedder.restore(await bytes);
  assert.equal(restored.embedding.steps.map((s) => Array.from(s.y)), e.embedding.steps.map((s) => Array.from(s.y)));
  assert.is(restored.stats.pendingRows, 9);
});

test("dispose stops a running update (CancelledError) and frees the buffers", async () => {
  const f = features(2, 30);
  const long = new IncrementalEmbedder({ ...options, iterationsPerStep: 1_000_000 });
  long.push(whole(f, 0, 30));
  long.push(whole(f, 1, 30));
  const running = long.update();
  await new Promise((resolve) => setTimeout(resolve, 50));
  long.dispose();
  await running.then(() => assert.unreachable("finished"), (err) => assert.instance(err, CancelledError));
  assert.equal([long.stats.embeddedSteps, long.stats.pendingRows], [0, 0]);
});

test("dispose frees the buffers and stops further work", async () => {
  const f = features(2, 6);
  const e = new IncrementalEmbedder(options);
  e.push(whole(f, 0, 6));
  e.push(whole(f, 1, 6));
  await e.update();
  e.dispose();
  assert.equal([e.stats.embeddedSteps, e.stats.pendingRows], [0, 0]);
  try {
    await e.update();
    assert.unreachable("update after dispose");
  } catch (err) {
    assert.instance(err, CancelledError);
  }
});

test.run();
