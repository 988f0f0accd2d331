/**
 * Issue 14, item 12: seeded mutations of valid inputs — step tables as Arrow
 * IPC streams and files (plain, and LZ4/ZSTD compressed by polars) and
 * checkpoints — by bit flips, overwritten length fields, cuts, repeats and
 * schema edits. Whatever the bytes, reading them must end in a step table
 * or a typed error (a DiffusionLifeError), quickly, within a memory ceiling.
 * Bounded in count and in time: about 10 s in each runtime. A longer
 * campaign: FUZZ_SEED=3 FUZZ_CASES=15000 FUZZ_MS=120000 (and FUZZ_TRACE=file
 * to name each case before it runs).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import { appendFileSync } from "node:fs";
import pl from "nodejs-polars";
import { Field, Float64, Int32, List, Table, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import { DiffusionLifeError } from "../src/errors.ts";
import { stepTable, type StepColumns } from "../src/data/step_table.ts";
import { loadRecording } from "../src/sources/recording.ts";
import { readCheckpoint } from "../src/embed/run/checkpoint.ts";
import { IncrementalEmbedder } from "../src/embed/run/incremental.ts";
import { random, type Random } from "../src/util/random.ts";

const SEED = Number(process.env.FUZZ_SEED ?? 14);
/** At most this many mutated inputs, and no more time than this (whichever comes first). */
const MAX_CASES = Number(process.env.FUZZ_CASES ?? 3000), MAX_MS = Number(process.env.FUZZ_MS ?? 9000);
/** One input may take at most this long, and the process may grow at most this much. */
const CASE_MS = 2000, MEMORY_MB = 768;

function columns(rng: Random, n: number, steps: number, dim: number): StepColumns {
  return {
    instance: Int32Array.from({ length: n * steps }, (_, r) => r % n),
    prompt: Int32Array.from({ length: n * steps }, (_, r) => r % 2),
    prompts: ["a cat", "a dog on a long red sofa"],
    step: Int32Array.from({ length: n * steps }, (_, r) => Math.floor(r / n)),
    timestep: Float32Array.from({ length: n * steps }, (_, r) => 999 - Math.floor(r / n)),
    image: Float32Array.from({ length: n * steps * 4 }, () => rng.next()),
    imageShape: [1, 2, 2],
    features: Float32Array.from({ length: n * steps * dim }, () => rng.normal()),
    featureDim: dim,
  };
}

/** Schema edits through the API: columns retyped, renamed, dropped, re-sized. */
function schemaEdits(table: Table): Table[] {
  const cols = Object.fromEntries(table.schema.fields.map((f) => [f.name, table.getChild(f.name)!]));
  const n = table.numRows;
  const { features: _features, ...withoutFeatures } = cols;
  return [
    new Table({ ...cols, instance: vectorFromArray(Array.from({ length: n }, (_, i) => i + 0.5), new Float64()) }),
    new Table({ ...cols, prompt: vectorFromArray(Array.from({ length: n }, (_, i) => i), new Int32()) }),
    new Table({ ...cols, step: vectorFromArray(Array.from({ length: n }, (_, i) => String(i)), new Utf8()) }),
    new Table({ ...cols, features: cols.image }),
    new Table({ ...withoutFeatures, image: cols.timestep }),
    new Table({ ...withoutFeatures, img: cols.image }),
    new Table({ instance: cols.instance }),
    new Table({ ...cols, features: vectorFromArray(Array.from({ length: n }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => i)), new List(new Field("item", new Float64()))) }),
  ].map((t) => {
    for (const [k, v] of table.schema.metadata) t.schema.metadata.set(k, v);
    return t;
  });
}

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/** One seeded mutation of `bytes`. */
function mutate(rng: Random, bytes: Uint8Array): { how: string; bytes: Uint8Array } {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const at = (width: number) => rng.int(Math.max(1, out.length - width + 1));
  switch (rng.int(7)) {
    case 0: {
      const flips = 1 + rng.int(8);
      for (let i = 0; i < flips; i++) out[at(1)] ^= 1 << rng.int(8);
      return { how: `${flips} bit flips`, bytes: out };
    }
    case 1: {
      // A 32-bit length field, aligned as flatbuffers and Arrow's framing lay them out.
      const where = at(4) & ~3, value = pick(rng, [0, -1, 1, 2 ** 31 - 1, -(2 ** 31), 65536, 0x7ffffff0, out.length, out.length + 1, rng.int(2 ** 31)]);
      if (where + 4 <= out.length) view.setInt32(where, value, true);
      return { how: `int32 ${value} at ${where}`, bytes: out };
    }
    case 2: {
      const where = at(8) & ~7, value = pick(rng, [0n, -1n, 2n ** 31n, 2n ** 40n, 2n ** 62n, BigInt(out.length) * 4n]);
      if (where + 8 <= out.length) view.setBigInt64(where, value, true);
      return { how: `int64 ${value} at ${where}`, bytes: out };
    }
    case 3: {
      const cut = rng.int(out.length);
      return { how: `cut at ${cut}`, bytes: out.subarray(0, cut) };
    }
    case 4: {
      const from = at(1), length = 1 + rng.int(64), to = at(1);
      const copy = out.slice(from, from + length), joined = new Uint8Array(out.length + copy.length);
      joined.set(out.subarray(0, to));
      joined.set(copy, to);
      joined.set(out.subarray(to), to + copy.length);
      return { how: `${copy.length} bytes repeated at ${to}`, bytes: joined };
    }
    case 5: {
      // The first 512 bytes hold the schema: edit there.
      const flips = 1 + rng.int(3);
      for (let i = 0; i < flips; i++) out[rng.int(Math.min(512, out.length))] = pick(rng, [0, 0xff, 0x7f, 0x80, rng.int(256)]);
      return { how: `${flips} schema bytes`, bytes: out };
    }
    default: {
      // Bytes of text (a checkpoint's JSON, the image-shape metadata, prompts) edited as text.
      const text = new TextDecoder("latin1").decode(out);
      const spots = [...text.matchAll(/[0-9\]\[",{}:]/g)].map((m) => m.index!);
      if (spots.length === 0) return { how: "no text", bytes: out };
      const where = pick(rng, spots);
      out[where] = pick(rng, [...'-9e.]"0,{'].map((c) => c.charCodeAt(0)));
      return { how: `text edit at ${where}`, bytes: out };
    }
  }
}

type Reader = (bytes: Uint8Array) => Promise<unknown>;

const readRecordingAll: Reader = async (bytes) => (await loadRecording(bytes)).numRows;
const restore: Reader = async (bytes) => {
  readCheckpoint(bytes);
  IncrementalEmbedder.restore(bytes).dispose();
};

test("fuzz: mutated step tables (streams, files, compressed) and checkpoints give a table or a typed error, quickly, within a memory ceiling", async () => {
  const rng = random(SEED);
  const table = stepTable(columns(rng, 6, 3, 5));
  const df = pl.DataFrame([
    pl.Series("instance", [...table.getChild("instance")!.toArray()], pl.Int32),
    pl.Series("prompt", [...table.getChild("prompt")!].map(String), pl.Utf8),
    pl.Series("step", [...table.getChild("step")!.toArray()], pl.Int32),
    pl.Series("features", [...table.getChild("features")!].map((v) => [...v!.toArray()]), pl.List(pl.Float32)),
  ]);
  const embedder = new IncrementalEmbedder({ instances: 6, iterationsPerStep: 2, seed: 1 });
  embedder.push(stepTable(columns(rng, 6, 2, 5)));
  await embedder.update();
  embedder.push(stepTable({ ...columns(rng, 6, 1, 5), step: new Int32Array(6).fill(5) }));
  const checkpoint = await embedder.checkpoint();
  embedder.dispose();

  const u8 = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));
  const inputs: { name: string; bytes: Uint8Array; read: Reader }[] = [
    { name: "stream", bytes: tableToIPC(table, "stream"), read: readRecordingAll },
    { name: "file", bytes: tableToIPC(table, "file"), read: readRecordingAll },
    { name: "polars file", bytes: u8(df.writeIPC()), read: readRecordingAll },
    { name: "polars lz4 stream", bytes: u8(df.writeIPCStream({ compression: "lz4" })), read: readRecordingAll },
    { name: "polars zstd file", bytes: u8(df.writeIPC({ compression: "zstd" })), read: readRecordingAll },
    { name: "checkpoint", bytes: checkpoint, read: restore },
    ...schemaEdits(table).flatMap((t, i) => [
      { name: `schema edit ${i} (stream)`, bytes: tableToIPC(t, "stream"), read: readRecordingAll },
      { name: `schema edit ${i} (file)`, bytes: tableToIPC(t, "file"), read: readRecordingAll },
    ]),
  ];
  // Every unmutated input reads or fails typed, too.
  for (const input of inputs) await input.read(input.bytes).catch((e) => assert.instance(e, DiffusionLifeError, `${input.name}: ${e}`));

  const baseline = process.memoryUsage().rss;
  let peak = baseline, cases = 0, typed = 0, slowest = 0;
  const start = performance.now();
  while (cases < MAX_CASES && performance.now() - start < MAX_MS) {
    const input = inputs[cases % inputs.length];
    const { how, bytes } = mutate(rng, input.bytes);
    const t0 = performance.now();
    // FUZZ_TRACE=file names each case before it runs: the last line is the case that hung or crashed.
    if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${cases} ${input.name} ${how}\n`);
    try {
      await input.read(bytes);
    } catch (error) {
      if (!(error instanceof DiffusionLifeError)) {
        assert.unreachable(`${input.name}, ${how} (case ${cases}, seed ${SEED}): untyped ${(error as Error)?.name}: ${(error as Error)?.message}`);
      }
      typed++;
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    assert.ok(ms < CASE_MS, `${input.name}, ${how} (case ${cases}) took ${ms.toFixed(0)} ms`);
    if (cases % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    cases++;
  }
  const grew = (peak - baseline) / 2 ** 20;
  assert.ok(cases >= 300, `only ${cases} cases in ${MAX_MS} ms`);
  assert.ok(typed > cases / 4, `${typed} of ${cases} mutations failed`);
  assert.ok(grew < MEMORY_MB, `memory grew ${grew.toFixed(0)} MB`);
  console.log(`  fuzz: ${cases} cases, ${typed} typed errors, slowest ${slowest.toFixed(0)} ms, memory +${grew.toFixed(0)} MB, ${((performance.now() - start) / 1000).toFixed(1)} s`);
});

test.run();
