import { spawnSync } from "node:child_process";
import process from "node:process";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { alignment, displacement, EvolutionaryEmbedding, perplexityAffinity, random, semantic, studentT } from "../mod.ts";
import { clusteredSteps as steps, ring, trustworthinessWith } from "./fixtures.ts";
import { barnesHutRepulsion, exactRepulsion } from "../src/embed/kernel/repulsion.ts";
import { type AffinityTask, runHere, taskWork, warmAffinities, warmJob } from "../src/embed/affinity/warm.ts";
import { symmetrized, SYMMETRIZE_ROWS, type SymmetrizeJob } from "../src/embed/affinity/symmetrize.ts";
import { WARM_BLOCK, warmBlocks } from "../src/embed/affinity/neighbor_graph.ts";
import { AffinityPool } from "../src/embed/affinity/affinity_pool.ts";
import { pack, unpack } from "../src/runtime/wire.ts";
import type { Thread } from "../src/runtime/threads.ts";

test("Barnes-Hut repulsion approximates the exact sum (θ = 0.5) and is exact as θ → 0, to float32's precision", () => {
  const n = 800, y = ring(n, 1);
  const exact = new Float64Array(2 * n), approx = new Float64Array(2 * n), fine = new Float64Array(2 * n);
  const ze = exactRepulsion().compute(y, n, exact);
  const zb = barnesHutRepulsion(0.5).compute(y, n, approx);
  const zf = barnesHutRepulsion(0).compute(y, n, fine);
  let num = 0, den = 0, worst = 0, largest = 0;
  for (let i = 0; i < 2 * n; i++) {
    num += (exact[i] - approx[i]) ** 2;
    den += exact[i] ** 2;
    worst = Math.max(worst, Math.abs(exact[i] - fine[i]));
    largest = Math.max(largest, Math.abs(exact[i]));
  }
  assert.ok(Math.sqrt(num / den) < 0.03, `relative error ${Math.sqrt(num / den)}`);
  assert.ok(Math.abs(zb / ze - 1) < 0.02);
  // The kernel sums in float32: θ = 0 opens every cell, and what is left is rounding.
  assert.ok(Math.abs(zf / ze - 1) < 1e-6 && worst < 1e-5 * largest, `θ = 0: Z off by ${zf / ze - 1}, a force by ${worst / largest} of the largest`);
});

test("Barnes-Hut: the SIMD kernel gives the bits of the JavaScript loops", () => {
  const n = 3001, y = ring(n, 2);
  for (let i = 0; i < 70; i++) y.set([0.5, -0.25], 2 * i); // a pile of coincident points, more than a group holds
  for (const [leaf, group] of [[8, 64], [3, 7]]) {
    const simd = new Float64Array(2 * n), plain = new Float64Array(2 * n);
    const zs = barnesHutRepulsion(0.5, leaf, group).compute(y, n, simd), zp = barnesHutRepulsion(0.5, leaf, group, false).compute(y, n, plain);
    assert.is(zs, zp);
    assert.equal(Array.from(simd), Array.from(plain));
  }
});

test("Barnes-Hut split with a workspace: one thread builds the shared tree, the others read it, to the same bits", () => {
  const n = 3001, y = ring(n, 3);
  for (let i = 0; i < 70; i++) y.set([0.5, -0.25], 2 * i);
  const whole = new Float64Array(2 * n), z = barnesHutRepulsion(0.5).compute(y, n, whole);
  // Two kernels stand for two threads: each prepares every iteration; the builder takes chunk 0, the reader the rest.
  const builder = barnesHutRepulsion(0.5).split!, reader = barnesHutRepulsion(0.5).split!;
  const workspace = builder.workspace!(n);
  for (let iteration = 0; iteration < 2; iteration++) {
    const moved = y.map((v) => v * (1 + iteration));
    const expected = new Float64Array(2 * n), zExpected = barnesHutRepulsion(0.5).compute(moved, n, expected);
    const chunks = builder.prepare(moved, n, workspace);
    assert.is(reader.prepare(moved, n, workspace), chunks);
    const out = new Float64Array(3 * n);
    builder.chunk(moved, n, 0, out, 3);
    for (let c = 1; c < chunks; c++) reader.chunk(moved, n, c, out, 3);
    let zSplit = 0;
    for (let i = 0; i < n; i++) zSplit += out[3 * i + 2];
    assert.is(zSplit, zExpected);
    assert.equal(Array.from({ length: 2 * n }, (_, k) => out[3 * (k >> 1) + (k & 1)]), Array.from(expected));
    if (iteration === 0) assert.is(zExpected, z);
  }
  // A build that fails (more points than the workspace holds) lets the waiting threads go with an error.
  const small = builder.workspace!(10);
  builder.prepare(y, n, small);
  reader.prepare(y, n, small);
  assert.throws(() => builder.chunk(y, n, 0, new Float64Array(3 * n), 3), /holds 10 points, not 3001/);
  assert.throws(() => reader.chunk(y, n, 1, new Float64Array(3 * n), 3), /could not be built on another thread/);
});

test("Barnes-Hut copes with coincident points", () => {
  const n = 50, y = new Float64Array(2 * n); // all at the origin but one
  y[0] = 3;
  const exact = new Float64Array(2 * n), approx = new Float64Array(2 * n);
  const ze = exactRepulsion().compute(y, n, exact);
  const zb = barnesHutRepulsion(0.5).compute(y, n, approx);
  assert.ok(Math.abs(zb / ze - 1) < 1e-6);
  for (let i = 0; i < 2 * n; i++) assert.ok(Math.abs(exact[i] - approx[i]) < 1e-6 * (1 + Math.abs(exact[i])), `${exact[i]} vs ${approx[i]}`);
});

test("the fast path ends within 0.01 trustworthiness of the exact one", async () => {
  const input = steps(3, 300, 8, 2);
  const exact = await trustworthinessWith("exact", input, 400), fast = await trustworthinessWith("barnes-hut", input, 400);
  assert.ok(exact > 0.85);
  assert.ok(Math.abs(exact - fast) <= 0.01, `exact ${exact}, Barnes-Hut ${fast}`);
});

test("worker threads give exactly the single-thread result", async () => {
  const input = steps(4, 200, 6, 3);
  const run = async (threads: number) => {
    const e = new EvolutionaryEmbedding({ seed: 2, losses: [semantic({ threads, parallelFrom: 0 }), displacement(), alignment()] });
    for (const s of input) e.addStep(s);
    await e.optimize(60);
    e.dispose();
    return e.steps.flatMap((s) => Array.from(s.y));
  };
  const one = await run(1), three = await run(3);
  assert.equal(three, one);
});

test("a gradient worker that cannot build its kernel fails the run with an error, not a hang; the next run starts new workers", async () => {
  const input = steps(3, 150, 6, 7);
  // The recipe names a module no thread can load: each worker reports the error and never enters its loop.
  const broken = { ...studentT(), recipe: { module: new URL("./no_such_kernel.ts", import.meta.url).href, factory: "studentT" } };
  const e = new EvolutionaryEmbedding({ seed: 1, losses: [semantic({ threads: 2, parallelFrom: 0, kernel: broken })] });
  for (const s of input) e.addStep(s);
  let failure: unknown;
  await e.optimize(5).catch((error) => (failure = error));
  assert.match(String(failure), /a gradient worker failed/);
  await e.optimize(5).catch((error) => (failure = error));
  assert.match(String(failure), /a gradient worker failed/, "new workers, and the same error again");
  e.dispose();
});

for (const repulsion of ["exact", "barnes-hut"] as const) {
  test(`one step split by rows over threads matches one thread (${repulsion})`, async () => {
    const [input] = steps(1, 700, 6, 4);
    const run = async (threads: number) => {
      const e = new EvolutionaryEmbedding({ seed: 3, losses: [semantic({ threads, parallelFrom: 0, kernel: studentT({ repulsion }) }), displacement(), alignment()] });
      e.addStep(input);
      await e.optimize(30);
      e.dispose();
      return Array.from(e.steps[0].y);
    };
    const one = await run(1), two = await run(2);
    if (repulsion === "barnes-hut") assert.equal(two, one, "rows do not depend on the thread that summed them");
    else {
      // One thread sums each pair once for both ends; split rows sum their own pairs: only the order differs.
      const scale = Math.max(...one.map(Math.abs));
      assert.ok(one.every((v, i) => Math.abs(v - two[i]) < 1e-9 * scale), "only the summation order differs");
    }
  });
}

test("a warm step shared over threads (search, then symmetrisation) gives the affinities of one thread", async () => {
  const n = 2600, dim = 6, k = 30, rng = random(5);
  const before = Float32Array.from({ length: n * dim }, () => rng.normal());
  const after = Float32Array.from(before, (v) => v + 0.1 * rng.normal());
  const hint = perplexityAffinity({ threads: 1 }).compute(before, n, dim);
  const pool = new AffinityPool(2);
  const started = Date.now();
  while (!pool.ready && Date.now() - started < 20_000) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(pool.ready, "the affinity threads started");
  const alone = warmJob(after, n, dim, k, 10, hint, 7, false), shared = warmJob(after, n, dim, k, 10, hint, 7, true);
  const expected = symmetrized(warmAffinities(alone, runHere, 1));
  // This thread dawdles over its first block of every task, so that the pool's threads take the others; over the
  // search's, until a pool thread has searched another block (its last row's farthest distance is in), however
  // long a loaded machine takes to let that thread run (up to 10 s): 100 ms a task was not always enough.
  const blocks = warmBlocks(n) + pool.size + 2 * Math.ceil(n / SYMMETRIZE_ROWS);
  const words = new Int32Array(shared.distance.buffer, shared.distance.byteOffset, 2 * n * k);
  const searched = (c: number) => Atomics.load(words, 2 * (Math.min(n, (c + 1) * WARM_BLOCK) * k - 1) + 1) !== 0;
  const another = (b: number) => Array.from({ length: warmBlocks(n) }, (_, c) => c).some((c) => c !== b && searched(c));
  let blocksHere = 0, tasks = 0;
  const dawdling = (task: AffinityTask) => {
    const work = taskWork(task);
    let first = true;
    tasks++;
    pool.run(task, (b) => {
      if (first && task.type === "warm") {
        for (const until = Date.now() + 10_000; Date.now() < until && !another(b););
      } else if (first) for (const until = Date.now() + 100; Date.now() < until;);
      first = false;
      blocksHere++;
      work(b);
    });
  };
  const P = symmetrized(warmAffinities(shared, dawdling, pool.size));
  pool.dispose();
  assert.ok(blocksHere < blocks, `the pool's threads took ${blocks - blocksHere} of ${blocks} blocks in ${tasks} tasks`);
  assert.equal(Array.from(shared.index), Array.from(alone.index));
  assert.equal(Array.from(shared.cond), Array.from(alone.cond));
  for (const key of ["rowPtr", "col", "val"] as const) assert.equal(Array.from(P[key]), Array.from(expected[key]), key);
});

test("an affinity run waits for its blocks, not for threads: one that never comes up does not hang it", () => {
  const pool = new AffinityPool(2);
  // A thread that takes its messages and never answers, as one that failed to load its module would.
  const silent: Thread = { post() {}, onMessage() {}, onError() {}, keepAlive() {}, terminate() {} };
  (pool as unknown as { workers: Thread[] }).workers = [silent];
  const done: number[] = [];
  pool.run({ type: "pack", job: {} as SymmetrizeJob, blocks: 5 }, (b) => done.push(b));
  assert.equal(done, [0, 1, 2, 3, 4]);
  // A block that throws here drops the blocks not yet claimed and passes the error on, after the claimed ones settle.
  assert.throws(() => pool.run({ type: "pack", job: {} as SymmetrizeJob, blocks: 5 }, (b) => {
    if (b === 2) throw new RangeError("block 2");
  }), /block 2/);
});

test("messages to threads carry shared arrays as their buffers, and views over the same memory come back", () => {
  const shared = new Float64Array(new SharedArrayBuffer(80)).subarray(2, 7), plain = Int32Array.of(1, 2, 3);
  const message = { type: "run", job: { y: shared, ids: [plain, 4] }, n: 5 };
  const wire = pack(message) as { job: { y: unknown; ids: unknown[] } };
  assert.not.ok(ArrayBuffer.isView(wire.job.y), "a shared view goes as its buffer and place");
  assert.is(wire.job.ids[0], plain, "an unshared array goes as it is (it is copied either way)");
  const back = unpack(structuredClone(wire)) as typeof message;
  assert.instance(back.job.y, Float64Array);
  assert.is(back.job.y.length, 5);
  back.job.y[0] = 42;
  assert.is(shared[0], 42, "the same memory");
  assert.equal(Array.from(back.job.ids[0] as Int32Array), [1, 2, 3]);
  assert.is(back.n, 5);
});

test("affinities are built in shared memory, so that threads read them at no cost", () => {
  const n = 300, rng = random(2), x = Float32Array.from({ length: n * 4 }, () => rng.normal());
  const P = perplexityAffinity({ threads: 1 }).compute(x, n, 4);
  for (const a of [P.rowPtr, P.col, P.val]) assert.instance(a.buffer, SharedArrayBuffer);
});

test("warm affinities work where the runtime has no shared memory (a page without cross-origin isolation)", () => {
  const g = globalThis as { SharedArrayBuffer?: unknown }, saved = g.SharedArrayBuffer;
  const n = 1500, dim = 4, rng = random(6), x = Float32Array.from({ length: n * dim }, () => rng.normal());
  const reference = perplexityAffinity({ threads: 1 }), expected: number[][] = [];
  let P = reference.compute(x, n, dim);
  for (let step = 0; step < 2; step++) expected.push(Array.from((P = reference.compute(x, n, dim, P)).val));
  delete g.SharedArrayBuffer;
  try {
    const affinity = perplexityAffinity({ threads: 1 });
    let Q = affinity.compute(x, n, dim);
    // The second warm step reuses the first one's arrays.
    for (let step = 0; step < 2; step++) {
      Q = affinity.compute(x, n, dim, Q);
      assert.not.ok(Q.val.buffer.constructor.name === "SharedArrayBuffer");
      assert.equal(Array.from(Q.val), expected[step]);
    }
  } finally {
    g.SharedArrayBuffer = saved;
  }
});

test("idle thread pools let the process end", () => {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  const script = "test/idle_threads.script.ts";
  const command = g.Deno ? [process.execPath, "run", "-A", script] : g.Bun ? [process.execPath, script] : [process.execPath, "--import", "tsx", script];
  const child = spawnSync(command[0], command.slice(1), { encoding: "utf8", timeout: 60_000 });
  assert.is(child.stdout.trim(), "up", child.stderr);
  assert.is(child.status, 0, `the process did not end by itself (${child.signal ?? child.status})`);
});

test.run();
