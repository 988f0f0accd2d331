// The streaming operators: evolve, encode, and cancellable sources.
import { firstValueFrom, from, map, Observable, Subject, tap, throwError, toArray } from "rxjs";
import { makeVector, Table } from "apache-arrow";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CancelledError, DuplicateRowError, encode, type Encoder, evolve, type FrameTable, fromAsync, IncrementalEmbedder, type Loss, pcaEncoder, pixels, random, readFrameTable, readStepTable, SchemaError, semantic, StepOrderError, type StepTable, stepTable } from "../mod.ts";
import { liveMnistDiffusion } from "../mnist.ts";

const DIM = 6;

/** Step t of three clusters that separate as the steps go on; instance i has prompt i % 3. */
function stepOf(t: number, steps: number, n: number, seed = 1): StepTable {
  const rng = random(seed), noise = random(seed * 1000 + t);
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: DIM }, () => 5 * rng.normal()));
  return stepTable({
    instance: Int32Array.from({ length: n }, (_, i) => i),
    prompt: Int32Array.from({ length: n }, (_, i) => i % 3),
    prompts: ["a", "b", "c"],
    step: new Int32Array(n).fill(t),
    features: Float32Array.from({ length: n * DIM }, (_, k) => (centres[Math.floor(k / DIM) % 3][k % DIM] * (t + 1)) / steps + noise.normal()),
    featureDim: DIM,
  });
}
const stepsOf = (steps: number, n: number) => Array.from({ length: steps }, (_, t) => stepOf(t, steps, n));

const update = (frame: FrameTable) => readFrameTable(frame).update!;
const nextMacrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

test("evolve: frames arrive while the source is still running, then a final one", async () => {
  const source = new Subject<StepTable>();
  const frames: FrameTable[] = [];
  let completed = false;
  const done = new Promise<void>((resolve, reject) => {
    source.pipe(evolve({ iterationsPerStep: 20, polish: 20, seed: 1 })).subscribe({
      next: (f) => frames.push(f),
      error: reject,
      complete: () => resolve(),
    });
  });
  const tables = stepsOf(4, 12);
  source.next(tables[0]);
  source.next(tables[1]); // step 0 is complete now
  while (frames.length === 0) await nextMacrotask();
  assert.is(completed, false);
  assert.equal(update(frames[0]).steps, [0]);
  assert.equal(Array.from(new Set(readFrameTable(frames[0]).step)), [0]);
  source.next(tables[2]);
  source.next(tables[3]);
  completed = true;
  source.complete();
  await done;
  const updates = frames.map(update);
  const last = updates[updates.length - 1];
  assert.ok(last.final && last.polish === 20);
  assert.equal(updates.slice(0, -1).flatMap((u) => u.steps), [0, 1, 2, 3]);
  assert.is(readFrameTable(frames[frames.length - 1]).step.length, 4 * 12);
  const quality = readFrameTable(frames[frames.length - 1]).quality as { steps: unknown[] };
  assert.is(quality.steps.length, 4);
});

test("evolve: a fast synchronous producer coalesces steps and the buffer never outgrows one update", async () => {
  const steps = 60, n = 9;
  // No time budget: an update takes every step waiting, however slow the machine (budgets: test/backpressure.test.ts).
  const embedder = new IncrementalEmbedder({ iterationsPerStep: 10, polish: 0, seed: 2, budgetMs: Infinity });
  const frames = await firstValueFrom(from(stepsOf(steps, n)).pipe(evolve(embedder), toArray()));
  const updates = frames.map(update);
  // Frames do not queue up one per step: the producer ran ahead, so steps were coalesced.
  assert.ok(frames.length <= 4, `${frames.length} frames for ${steps} steps`);
  assert.equal(updates.flatMap((u) => u.steps), Array.from({ length: steps }, (_, t) => t));
  assert.ok(Math.max(...updates.map((u) => u.coalesced)) > 1);
  // The buffer held at most the steps one update then took (plus the one still open).
  const stats = embedder.stats;
  assert.ok(stats.peakPendingSteps <= Math.max(...updates.map((u) => u.coalesced)) + 1, JSON.stringify(stats));
  assert.ok(stats.peakPendingRows <= steps * n);
  assert.equal([stats.pendingRows, stats.embeddedSteps], [0, steps]);
});

test("evolve: unsubscribing stops the embedder within one batch of iterations", async () => {
  // A loss that counts the gradient evaluations (iterations) of the real semantic loss.
  let iterations = 0;
  const inner = semantic();
  const counting: Loss = { name: "semantic", gradient: (ctx) => (iterations++, inner.gradient(ctx)), value: (ctx) => inner.value(ctx) };
  const source = new Subject<StepTable>();
  const embedder = new IncrementalEmbedder({ iterationsPerStep: 1_000_000, seed: 3, losses: [counting] });
  const subscription = source.pipe(evolve(embedder)).subscribe();
  source.next(stepOf(0, 2, 30));
  source.next(stepOf(1, 2, 30));
  while (iterations === 0) await nextMacrotask();
  await nextMacrotask();
  subscription.unsubscribe();
  const atUnsubscribe = iterations;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(iterations, atUnsubscribe);
  assert.ok(atUnsubscribe < 1_000_000);
  assert.is(source.observed, false);
});

test("evolve: errors are typed and travel as RxJS errors; the source is unsubscribed", async () => {
  const tables = stepsOf(3, 6);
  const late = new Subject<StepTable>();
  let framed: () => void;
  const firstFrame = new Promise<void>((resolve) => (framed = resolve));
  const failed = firstValueFrom(late.pipe(evolve({ iterationsPerStep: 10 }), tap(() => framed()), toArray()));
  late.next(tables[0]);
  late.next(tables[1]);
  // Once a frame is out, step 0 has left the buffer: sent again, it is late (while buffered, it would be a duplicate row).
  await firstFrame;
  late.next(tables[0]);
  await failed.then(() => assert.unreachable("no error"), (err) => assert.instance(err, StepOrderError));
  assert.is(late.observed, false);

  // stepTable refuses it; a table that skipped validation (as a JavaScript caller could pass) is checked when read.
  assert.throws(() => stepTable({ ...readStepTable(tables[0], { features: true }), instance: new Int32Array(6).fill(1) }), (err: unknown) => err instanceof DuplicateRowError);
  const child = (name: string) => tables[0].getChild(name)!;
  const duplicate = new Table({ instance: makeVector(new Int32Array(6).fill(1)), prompt: child("prompt"), step: child("step"), features: child("features") }) as StepTable;
  await firstValueFrom(from([duplicate]).pipe(evolve())).then(() => assert.unreachable(), (err) => assert.instance(err, DuplicateRowError));

  const noFeatures = stepTable({ ...readStepTable(tables[0], { features: true }), features: undefined, image: new Float32Array(6 * 4), imageShape: [1, 2, 2] });
  await firstValueFrom(from([noFeatures]).pipe(evolve())).then(() => assert.unreachable(), (err) => {
    assert.instance(err, SchemaError);
    assert.is((err as SchemaError).column, "features");
  });

  const broken = new Observable<StepTable>((s) => s.error(new CancelledError("generator")));
  await firstValueFrom(broken.pipe(evolve())).then(() => assert.unreachable(), (err) => assert.instance(err, CancelledError));
  await firstValueFrom(throwError(() => new RangeError("upstream")).pipe(evolve())).then(() => assert.unreachable(), (err) => assert.instance(err, RangeError));
});

test("encode: an encoder as a pipeable operator", async () => {
  const image = Float32Array.from({ length: 8 * 16 }, (_, i) => (i % 7) / 7);
  const table = stepTable({
    instance: Int32Array.from({ length: 8 }, (_, i) => i),
    prompt: new Int32Array(8),
    prompts: ["p"],
    step: new Int32Array(8),
    image,
    imageShape: [1, 4, 4],
  });
  const [out] = await firstValueFrom(from([table]).pipe(encode(pixels()), encode(pcaEncoder({ components: 3 })), toArray()));
  const cols = readStepTable(out, { features: true });
  assert.is(cols.featureDim, 3);
  assert.ok(out.getChild("image"), "the image column is kept");
});

test("encode: unsubscribing aborts the table being encoded", async () => {
  let seen: AbortSignal | undefined;
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const slow: Encoder = {
    name: "slow",
    input: "features",
    encode: ({ values, dim, signal }) => {
      seen = signal;
      started();
      // Finishes only when aborted (or after a second, which would fail the test).
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ features: values, dim }), 1000);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve({ features: values, dim });
        });
      });
    },
  };
  let emitted = 0;
  const subscription = from([stepOf(0, 1, 4)]).pipe(encode(slow)).subscribe(() => emitted++);
  await running;
  subscription.unsubscribe();
  assert.ok(seen?.aborted, "the encoder's signal fired");
  await nextMacrotask();
  assert.is(emitted, 0);
});

test("fromAsync: unsubscribing aborts the generator", async () => {
  let seenAbort = false, finished = false;
  const ticks = fromAsync(async function* (signal) {
    try {
      for (let i = 0; ; i++) {
        await nextMacrotask();
        if (signal.aborted) {
          seenAbort = true;
          return;
        }
        yield i;
      }
    } finally {
      finished = true;
    }
  });
  const got: number[] = [];
  const subscription = ticks.subscribe((i) => got.push(i));
  while (got.length < 3) await nextMacrotask();
  subscription.unsubscribe();
  for (let i = 0; i < 5 && !finished; i++) await nextMacrotask();
  assert.ok(seenAbort && finished);
  assert.ok(got.length <= 4);
});

test("the default generator live: frames arrive while the generation runs", async () => {
  const steps = 8, instances = 6;
  let generated = 0, generating = true;
  const frames = await firstValueFrom(
    liveMnistDiffusion({ prompts: ["any", 1], instancesPerPrompt: 3, steps, digitsPerClass: 20, seed: 0 }).pipe(
      tap({ next: () => generated++, complete: () => (generating = false) }),
      encode(pixels()),
      evolve({ iterationsPerStep: 20, polish: 10, instances, seed: 0 }),
      map((frame) => ({ frame, generated, generating })),
      toArray(),
    ),
  );
  // With `instances` set, each step is embedded as soon as it is whole, while later steps are still being generated.
  assert.ok(frames[0].generating, `the first frame came after all ${frames[0].generated} steps were generated`);
  assert.equal(frames.flatMap(({ frame }) => update(frame).steps), Array.from({ length: steps }, (_, t) => t));
  assert.is(readFrameTable(frames[frames.length - 1].frame).step.length, steps * instances);
});

test.run();
