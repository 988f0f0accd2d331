/**
 * Issue 14, the data half: forged sizes (1), large ids (3), and the smaller
 * data defects (10): bad metadata, truncated checkpoints, nulls, negative or
 * fractional shapes, bytes after the end-of-stream marker, too few
 * instances, negative steps.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import process from "node:process";
import {
  Field,
  FixedSizeList,
  Float32,
  Int64,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Uint32,
  vectorFromArray,
} from "apache-arrow";
import {
  DiffusionLifeError,
  DimensionError,
  FormatError,
  LimitError,
  OutOfRangeError,
  SchemaError,
  TruncatedError,
} from "../src/errors.ts";
import { IMAGE_SHAPE_KEY, readStepTable, stepTable, type StepColumns, type StepTable } from "../src/data/step_table.ts";
import { loadRecording, type RecordingOptions } from "../src/sources/recording.ts";
import { embedSteps } from "../src/embed/run/batch.ts";
import { EvolutionaryEmbedding } from "../src/embed/embedding.ts";
import { IncrementalEmbedder } from "../src/embed/run/incremental.ts";
import { readCheckpoint } from "../src/embed/run/checkpoint.ts";
import { random } from "../src/util/random.ts";

function columns(n = 4, steps = 2, dim = 3, seed = 1): StepColumns {
  const rng = random(seed);
  return {
    instance: Int32Array.from({ length: n * steps }, (_, r) => r % n),
    prompt: Int32Array.from({ length: n * steps }, (_, r) => (r % n) & 1),
    prompts: ["a", "b"],
    step: Int32Array.from({ length: n * steps }, (_, r) => Math.floor(r / n)),
    features: Float32Array.from({ length: n * steps * dim }, () => rng.normal()),
    featureDim: dim,
  };
}

/** The table's one batch with `features` re-typed to FixedSizeList[size] over the same values: a forged list size. */
function forgedListSize(table: StepTable, size: number, format: "file" | "stream"): Uint8Array {
  const batch = table.batches[0];
  const fields = table.schema.fields.map((f) => (f.name === "features" ? new Field("features", new FixedSizeList(size, new Field("item", new Float32(), false)), false) : f));
  const schema = new Schema(fields, table.schema.metadata);
  const children = batch.data.children.map((c, i) => (fields[i].name === "features" ? makeData({ type: fields[i].type as FixedSizeList, length: batch.numRows, nullCount: 0, child: c.children[0] }) : c));
  const writer = format === "file" ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  writer.write(new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children })));
  writer.finish();
  return writer.toUint8Array(true);
}

async function rejects(p: Promise<unknown> | (() => unknown), type: new (...a: never[]) => Error): Promise<DiffusionLifeError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    if (!(e instanceof type)) throw new assert.Assertion({ message: `expected a ${type.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`, operator: "rejects", expects: type.name, actual: (e as Error)?.name });
    return e as DiffusionLifeError;
  }
  throw new assert.Assertion({ message: `expected a ${type.name}`, operator: "rejects", expects: type.name, actual: "none" });
}

// ---- 1. forged sizes ---------------------------------------------------------------

test("forged sizes: a FixedSizeList size patched to 2^31−1 is a FormatError at once, without allocating from it", async () => {
  const table = stepTable(columns());
  for (const format of ["file", "stream"] as const) {
    const bytes = forgedListSize(table, 2 ** 31 - 1, format);
    const before = process.memoryUsage().rss, t0 = performance.now();
    const e = await rejects(loadRecording(bytes), FormatError);
    const ms = performance.now() - t0, grew = (process.memoryUsage().rss - before) / 2 ** 20;
    assert.is(e.column, "features");
    assert.match(e.message, /2147483647/);
    assert.ok(ms < 2000, `took ${ms} ms`);
    assert.ok(grew < 200, `memory grew ${grew} MB`);
  }
});

test("forged sizes: a declared size slightly larger than the data is refused, never padded with zeros", async () => {
  const table = stepTable(columns(4, 1, 3));
  const e = await rejects(loadRecording(forgedListSize(table, 4, "file")), FormatError);
  assert.match(e.message, /declares 16 values/);
  assert.match(e.message, /holds 12/);
  // A table from elsewhere, checked by readStepTable, likewise.
  const batch = table.batches[0];
  const fields = table.schema.fields.map((f) => (f.name === "features" ? new Field("features", new FixedSizeList(4, new Field("item", new Float32(), false)), false) : f));
  const children = batch.data.children.map((c, i) => (fields[i].name === "features" ? makeData({ type: fields[i].type as FixedSizeList, length: 4, nullCount: 0, child: c.children[0] }) : c));
  const forged = new Table(new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 4, nullCount: 0, children })));
  await rejects(() => readStepTable(forged), FormatError);
});

test("forged sizes: a sliced table reads its own rows (once read as zeros past the slice)", () => {
  const c = columns(4, 1, 2);
  const sliced = new Table(stepTable(c).batches[0].slice(2, 4));
  const got = readStepTable(sliced);
  assert.equal([...got.instance], [2, 3]);
  assert.equal([...got.features!], [...c.features!.subarray(4, 8)]);
});

test("forged sizes: a row count larger than the columns hold is a FormatError", async () => {
  const table = stepTable(columns());
  const batch = table.batches[0];
  const longer = new RecordBatch(table.schema, makeData({ type: new Struct(table.schema.fields), length: 5000, nullCount: 0, children: batch.data.children }));
  for (const format of ["stream", "file"] as const) {
    const bytes = tableToIPC(new Table(longer), format);
    await rejects(loadRecording(bytes), FormatError);
    // The record batch's int64 length, patched to 2^31 − 1 where it occurs (the message, and a file's footer).
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let patched = 0;
    for (let at = 0; at + 8 <= bytes.length; at++) {
      if (view.getBigInt64(at, true) === 5000n) {
        view.setBigInt64(at, 2n ** 31n - 1n, true);
        patched++;
      }
    }
    assert.ok(patched >= 1);
    await rejects(loadRecording(bytes), FormatError);
  }
});

test("limits: maxRowWidth and maxBatchBytes are ceilings (LimitError naming them); raised, the same data reads", async () => {
  const table = stepTable(columns(4, 2, 64));
  for (const format of ["file", "stream"] as const) {
    const bytes = tableToIPC(table, format);
    const wide = await rejects(loadRecording(bytes, { limits: { maxRowWidth: 63 } }), LimitError);
    assert.is((wide as LimitError).limit, "maxRowWidth");
    assert.is(wide.column, "features");
    const big = await rejects(loadRecording(bytes, { limits: { maxBatchBytes: 1000 } }), LimitError);
    assert.is((big as LimitError).limit, "maxBatchBytes");
    assert.is((await loadRecording(bytes, { limits: { maxRowWidth: 64, maxBatchBytes: 1 << 20 } })).numRows, 8);
  }
  await rejects(() => loadRecording(new Uint8Array(8), { limits: { maxRowWidth: -1 } } as RecordingOptions), DiffusionLifeError);
});

// ---- 3. ids over the whole Int32 range ------------------------------------------------

test("ids: instances and steps anywhere in Int32 stay distinct (no packed key): 10^9, 2^31−1, −2^31, steps ≥ 2^26", async () => {
  const instance = Int32Array.of(1e9, 1e9, 1e9 + 1, 2 ** 31 - 1, -(2 ** 31), 0, 1);
  const step = Int32Array.of(0, 1, 0, 5, 5, 2 ** 26, 0);
  const c: StepColumns = { instance, step, prompt: new Int32Array(7), prompts: ["p"], features: new Float32Array(7 * 2).fill(1), featureDim: 2 };
  const table = stepTable(c);
  const read = await loadRecording(tableToIPC(table, "stream"));
  assert.equal([...readStepTable(read).instance], [...instance]);
  assert.equal([...readStepTable(read).step], [...step]);
  // Across batches too.
  const writer = new RecordBatchStreamWriter();
  writer.write(table.batches[0].slice(0, 3));
  writer.write(table.batches[0].slice(3, 7));
  writer.finish();
  assert.is((await loadRecording(writer.toUint8Array(true))).numRows, 7);
});

test("ids: large instance ids keep separate tracks through the embedding", async () => {
  const n = 6, T = 2, rng = random(3);
  const c: StepColumns = {
    instance: Int32Array.from({ length: n * T }, (_, r) => 1e9 + (r % n)),
    step: Int32Array.from({ length: n * T }, (_, r) => 2 ** 26 + Math.floor(r / n)),
    prompt: new Int32Array(n * T),
    prompts: ["p"],
    features: Float32Array.from({ length: n * T * 4 }, () => rng.normal()),
    featureDim: 4,
  };
  const { frame } = await embedSteps(stepTable(c), { iterations: 5, seed: 1 });
  const ids = frame.getChild("instance")!.toArray() as Int32Array;
  assert.is(new Set(ids).size, n);
  assert.is(ids.length, n * T);
});

test("ids: Int64 and UInt32 ids that fit are read exactly; one that does not is an OutOfRangeError, never wrapped", async () => {
  const c = columns(3, 1, 2);
  const base = stepTable(c);
  const withInstance = (vector: ReturnType<typeof makeVector>) => new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!])), instance: vector });
  const fits64 = withInstance(makeVector(BigInt64Array.of(-(2n ** 31n), 5n, 2n ** 31n - 1n)));
  assert.equal([...readStepTable(fits64).instance], [-(2 ** 31), 5, 2 ** 31 - 1]);
  assert.equal([...readStepTable(await loadRecording(tableToIPC(fits64, "stream"))).instance], [-(2 ** 31), 5, 2 ** 31 - 1]);
  for (const bad of [makeVector(BigInt64Array.of(0n, 2n ** 31n, 1n)), vectorFromArray([0, 4294967295, 1], new Uint32())]) {
    const e = await rejects(() => readStepTable(withInstance(bad)), OutOfRangeError);
    assert.is(e.code, "out-of-range");
    assert.is(e.row, 1);
    assert.is(e.column, "instance");
    await rejects(loadRecording(tableToIPC(withInstance(bad), "file")), OutOfRangeError);
  }
  // An Int64 step beyond Int32 likewise.
  const step64 = new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!])), step: vectorFromArray([0n, 0n, 2n ** 40n], new Int64()) });
  await rejects(() => readStepTable(step64), OutOfRangeError);
});

// ---- 10. the smaller data defects --------------------------------------------------------

test("image shape metadata: not JSON, not three positive integers → DimensionError (never a raw SyntaxError or TypeError)", () => {
  const c: StepColumns = { ...columns(2, 1, 4), features: undefined, featureDim: undefined, image: new Float32Array(2 * 4), imageShape: [1, 2, 2] };
  for (const raw of ["[1,2", "{}", "null", "7", '"x"', "[-1,-2,-2]", "[1.5,2,1.5]", "[0,2,2]", "[1,2,2,1]", "[1e400,1,1]"]) {
    const table = stepTable(c);
    const copy = new Table(table.batches);
    copy.schema.metadata.set(IMAGE_SHAPE_KEY, raw);
    let error: unknown;
    try {
      readStepTable(copy);
    } catch (e) {
      error = e;
    }
    assert.instance(error, DimensionError, raw);
    assert.is((error as DimensionError).column, "image");
  }
});

test("null feature rows, or nulls inside rows, are a SchemaError naming the row", async () => {
  const c = columns(3, 1, 2);
  const base = stepTable(c);
  const features = base.getChild("features")!.data[0];
  const nullRow = makeData({ type: features.type, length: 3, nullCount: 1, nullBitmap: Uint8Array.of(0b101), child: features.children[0] });
  const t1 = new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!])), features: makeVector(nullRow) });
  const e1 = await rejects(() => readStepTable(t1), SchemaError);
  assert.is(e1.row, 1);
  assert.is(e1.column, "features");
  await rejects(loadRecording(tableToIPC(t1, "stream")), SchemaError);
  const child = features.children[0];
  const nullValue = makeData({ type: child.type, length: 6, nullCount: 1, nullBitmap: Uint8Array.of(0b111011), data: child.values } as never);
  const t2 = new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!])), features: makeVector(makeData({ type: features.type, length: 3, nullCount: 0, child: nullValue })) });
  await rejects(() => readStepTable(t2), SchemaError);
  // A List<Float32> with a null row (polars writes lists so).
  const list = new Table({ ...Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!])), features: vectorFromArray([[1, 2], null, [3, 4]]) });
  assert.is((await rejects(() => readStepTable(list), SchemaError)).row, 1);
});

test("bytes after a stream's end-of-stream marker are a FormatError; the batches before them are delivered", async () => {
  const bytes = tableToIPC(stepTable(columns()), "stream");
  for (const extra of [Uint8Array.of(0), tableToIPC(stepTable(columns()), "stream")]) {
    const joined = new Uint8Array(bytes.length + extra.length);
    joined.set(bytes);
    joined.set(extra, bytes.length);
    const e = await rejects(loadRecording(joined), FormatError);
    assert.match(e.message, /after its end-of-stream marker/);
  }
  assert.is((await loadRecording(bytes)).numRows, 8);
});

test("a truncated checkpoint is a TruncatedError; a corrupt one a typed error", async () => {
  const embedder = new IncrementalEmbedder({ instances: 6, iterationsPerStep: 2, seed: 1 });
  embedder.push(stepTable(columns(6, 2, 4)));
  await embedder.update();
  const bytes = await embedder.checkpoint();
  embedder.dispose();
  readCheckpoint(bytes);
  for (const cut of [bytes.length - 1, bytes.length - 20, Math.floor(bytes.length / 2), 10]) {
    await rejects(() => readCheckpoint(bytes.subarray(0, cut)), TruncatedError);
  }
  await rejects(() => readCheckpoint(new Uint8Array(100).fill(3)), FormatError);
  await rejects(() => IncrementalEmbedder.restore(new Uint8Array(0)), DiffusionLifeError);
});

test("negative steps are an OutOfRangeError wherever they enter: stepTable, readStepTable, readRecording, addStep", async () => {
  const c = columns(3, 2, 2);
  c.step = Int32Array.of(-1, -1, -1, 0, 0, 0);
  const e = await rejects(() => stepTable(c), OutOfRangeError);
  assert.is(e.column, "step");
  assert.is(e.row, 0);
  const unchecked = new Table({ instance: makeVector(c.instance), prompt: stepTable(columns(3, 2, 2)).getChild("prompt")!, step: makeVector(c.step), features: stepTable(columns(3, 2, 2)).getChild("features")! });
  await rejects(() => readStepTable(unchecked), OutOfRangeError);
  await rejects(loadRecording(tableToIPC(unchecked, "file")), OutOfRangeError);
  const embedding = new EvolutionaryEmbedding();
  await rejects(() => embedding.addStep({ step: -2, instance: Int32Array.of(0, 1, 2), prompt: new Int32Array(3), features: new Float32Array(6), dim: 2 }), OutOfRangeError);
});

test("one or two instances: embedSteps is a DimensionError naming the step, not NaN quality", async () => {
  for (const n of [1, 2]) {
    const e = await rejects(embedSteps(stepTable(columns(n, 2, 3))), DimensionError);
    assert.match(e.message, /step 0 has \d instances?: an embedding needs at least 3/);
  }
  const { quality } = await embedSteps(stepTable(columns(3, 2, 3)), { iterations: 5 });
  assert.ok(Number.isFinite(quality.alignmentRatio));
});

test.run();
