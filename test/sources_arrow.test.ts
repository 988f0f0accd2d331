import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  makeData,
  makeVector,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  vectorFromArray,
} from "apache-arrow";
import * as flechette from "@uwdata/flechette";
import * as arrowRs from "parquet-wasm";
import { CancelledError, DiffusionLifeError, DuplicateRowError, FormatError, NonFiniteError, OptionError, SchemaError, TruncatedError } from "../src/errors.ts";
import { buildStepTable, IMAGE_SHAPE_KEY, readStepTable, type StepColumns, stepTable } from "../src/data/step_table.ts";
import { loadRecording, readRecording, type RecordingInput, type RecordingOptions } from "../src/sources/recording.ts";
import { random } from "../src/util/random.ts";

// ---- a small recording: 3 steps × 4 instances (2 prompts), images 1×3×3 ----

const STEPS = 3, N = 4, D = 9;

function columns(): StepColumns {
  const rng = random(7);
  const rows = STEPS * N;
  return {
    instance: Int32Array.from({ length: rows }, (_, r) => r % N),
    prompt: Int32Array.from({ length: rows }, (_, r) => (r % N) >> 1),
    prompts: ["a cat", "a dog"],
    step: Int32Array.from({ length: rows }, (_, r) => Math.floor(r / N)),
    timestep: Float32Array.from({ length: rows }, (_, r) => 999 - 333 * Math.floor(r / N)),
    image: Float32Array.from({ length: rows * D }, () => rng.next()),
    imageShape: [1, 3, 3],
    noisy: Float32Array.from({ length: rows * D }, () => rng.normal()),
  };
}

/** IPC bytes with one record batch per step, and the byte length after each batch (streams). */
function ipc(format: "stream" | "file", table = stepTable(columns())): { bytes: Uint8Array; ends: number[] } {
  const writer = format === "stream" ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  const batch = table.batches[0];
  const ends: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    writer.write(batch.slice(s * N, (s + 1) * N));
    if (format === "stream") ends.push(writer.toUint8Array(true).length);
  }
  writer.finish();
  return { bytes: writer.toUint8Array(true), ends };
}

async function readAll(input: RecordingInput, options?: RecordingOptions): Promise<{ steps: StepColumns[]; error?: unknown }> {
  const steps: StepColumns[] = [];
  try {
    for await (const t of readRecording(input, options)) steps.push(readStepTable(t));
  } catch (error) {
    return { steps, error };
  }
  return { steps };
}

/** Chunks of `size` bytes, as a socket or a pipe delivers them. */
function chunked(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

function assertSameSteps(got: StepColumns, want: StepColumns): void {
  assert.equal([...got.instance], [...want.instance]);
  assert.equal([...got.step], [...want.step]);
  assert.equal(got.prompt.map((c) => got.prompts[c] as never), want.prompt.map((c) => want.prompts[c] as never));
  assert.equal(got.timestep, want.timestep);
  assert.equal(got.image, want.image);
  assert.equal(got.imageShape, want.imageShape);
  assert.equal(got.noisy, want.noisy);
}

const want = columns();

async function rejects(p: Promise<unknown>, type: new (...a: never[]) => Error): Promise<DiffusionLifeError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, type);
    return e as DiffusionLifeError;
  }
  throw new assert.Assertion({ message: `expected a ${type.name}`, operator: "rejects", expects: type.name, actual: "none" });
}

// ---- round trips -------------------------------------------------------------

test("readRecording: IPC stream and file round-trip from bytes, a path, a ReadableStream and an async iterable", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dl-arrow-"));
  try {
    for (const format of ["stream", "file"] as const) {
      const { bytes } = ipc(format);
      const path = join(dir, `steps.${format === "file" ? "arrow" : "arrows"}`);
      await writeFile(path, bytes);
      async function* iterable() {
        for (let i = 0; i < bytes.length; i += 100) yield bytes.subarray(i, i + 100);
      }
      const inputs: Array<[string, RecordingInput]> = [
        ["bytes", bytes], ["ArrayBuffer", bytes.slice().buffer], ["path", path], ["file URL", new URL(`file://${path}`)],
        ["ReadableStream", chunked(bytes, 7)], ["async iterable", iterable()],
      ];
      for (const [kind, input] of inputs) {
        const { steps, error } = await readAll(input);
        assert.is(error, undefined, `${format} from ${kind}: ${error}`);
        assert.is(steps.length, STEPS, `${format} from ${kind}`);
        steps.forEach((s, i) => assert.equal([...s.step], [i, i, i, i]));
      }
      assertSameSteps(readStepTable(await loadRecording(bytes)), want);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("readRecording: steps come out as their record batches arrive, before the stream ends", async () => {
  const { bytes, ends } = ipc("stream");
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  controller.enqueue(bytes.slice(0, ends[0]));
  const steps = readRecording(stream)[Symbol.asyncIterator]();
  const first = await steps.next();
  assert.ok(!first.done);
  assert.equal([...readStepTable(first.value).step], [0, 0, 0, 0]);
  controller.enqueue(bytes.slice(ends[0]));
  controller.close();
  const rest: number[] = [];
  for (let r = await steps.next(); !r.done; r = await steps.next()) rest.push(readStepTable(r.value).step[0]);
  assert.equal(rest, [1, 2]);
});

test("readRecording: an AbortSignal stops it with CancelledError, even while it waits for bytes", async () => {
  const { bytes, ends } = ipc("stream");
  let cancelled = false;
  const stalled = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(bytes.slice(0, ends[0])),
    cancel: () => void (cancelled = true),
  });
  const controller = new AbortController();
  const steps = readRecording(stalled, { signal: controller.signal })[Symbol.asyncIterator]();
  assert.ok(!(await steps.next()).done);
  setTimeout(() => controller.abort(), 10);
  await rejects(steps.next(), CancelledError);
  assert.ok(cancelled, "the input stream is cancelled");
});

// ---- other writers ---------------------------------------------------------------

test("readRecording: tables written by flechette (stream and file) and by arrow-rs (parquet-wasm) read correctly", async () => {
  const rows = STEPS * N;
  const f = flechette;
  const table = f.tableFromArrays({
    instance: want.instance,
    prompt: Array.from(want.prompt, (c) => want.prompts[c]),
    step: want.step,
    timestep: want.timestep!,
    image: Array.from({ length: rows }, (_, r) => want.image!.subarray(r * D, (r + 1) * D)),
  }, {
    types: { instance: f.int32(), prompt: f.dictionary(f.utf8(), f.int32()), step: f.int32(), timestep: f.float32(), image: f.fixedSizeList(f.float32(), D) },
    maxBatchRows: N,
  });
  table.schema.metadata = new Map([[IMAGE_SHAPE_KEY, "[1,3,3]"]]);
  const expected = { ...want, noisy: undefined };
  for (const format of ["stream", "file"] as const) {
    const bytes = f.tableToIPC(table, { format })!;
    const { steps, error } = await readAll(bytes);
    assert.is(error, undefined, `flechette ${format}: ${error}`);
    assert.is(steps.length, STEPS, `flechette ${format} writes a batch per step`);
    assertSameSteps(readStepTable(await loadRecording(bytes)), expected);
  }

  // arrow-rs re-encodes what it read (its own IPC writer).
  const rs = arrowRs.Table.fromIPCStream(f.tableToIPC(table, { format: "stream" })!).intoIPCStream();
  assertSameSteps(readStepTable(await loadRecording(rs)), expected);
  assertSameSteps(readStepTable(await loadRecording(chunked(rs, 64))), expected);
});

test("readRecording: other column names and types map through options", async () => {
  const rows = STEPS * N;
  const f = flechette;
  const table = f.tableFromArrays({
    seed: BigInt64Array.from(want.instance, BigInt),
    caption: Array.from(want.prompt, (c) => want.prompts[c]),
    i: Int16Array.from(want.step),
    sigma: Float64Array.from(want.timestep!),
    x0: Array.from({ length: rows }, (_, r) => Float64Array.from(want.image!.subarray(r * D, (r + 1) * D))),
  }, { types: { seed: f.int64(), caption: f.utf8(), i: f.int16(), sigma: f.float64(), x0: f.list(f.float64()) } });
  const bytes = f.tableToIPC(table, { format: "stream" })!;
  const columns = { instance: "seed", prompt: "caption", step: "i", timestep: "sigma", image: "x0" };
  const got = readStepTable(await loadRecording(bytes, { columns, imageShape: [1, 3, 3] }));
  assertSameSteps(got, { ...want, noisy: undefined });

  const e = await rejects(loadRecording(bytes, { columns: { ...columns, step: "step_index" } }), SchemaError);
  assert.is(e.code, "missing-column");
  assert.match(e.message, /"step_index"/);
  assert.throws(() => readRecording(bytes, { columns: { colour: "c" } as never }), (x: unknown) => x instanceof OptionError);
  assert.throws(() => readRecording(bytes, { imageShape: [1, 3] as never }), (x: unknown) => x instanceof OptionError);
});

// ---- errors ------------------------------------------------------------------------

test("readRecording: a truncated stream yields every complete batch, then TruncatedError; a clean cut between messages is an end", async () => {
  const { bytes, ends } = ipc("stream");
  // Every byte around the ends of batches, every 13th elsewhere.
  const cuts = [...Array(bytes.length).keys()].map((i) => i + 1).filter((c) => c % 13 === 0 || ends.some((e) => Math.abs(c - e) <= 9));
  for (const cut of cuts) {
    const { steps, error } = await readAll(chunked(bytes.subarray(0, cut), 50));
    assert.is(steps.length, ends.filter((e) => e <= cut).length, `cut at ${cut}`);
    // No error only where a message ends: after the schema or the dictionary (before batch 0), after a batch, after the EOS marker.
    if (error === undefined) assert.ok(cut < ends[0] || ends.includes(cut) || cut === bytes.length, `cut at ${cut} read as complete`);
    else assert.instance(error, TruncatedError, `cut at ${cut}: ${error}`);
  }
  const { steps, error } = await readAll(bytes.subarray(0, ends[1] + 20));
  assert.is(steps.length, 2);
  assert.instance(error, TruncatedError);
  assert.is((error as TruncatedError).code, "truncated");
});

test("readRecording: a truncated file yields its complete batches (when its writer put the schema first), then TruncatedError", async () => {
  const f = flechette;
  const table = f.tableFromArrays({
    instance: want.instance,
    prompt: Array.from(want.prompt, (c) => want.prompts[c]),
    step: want.step,
    image: Array.from({ length: STEPS * N }, (_, r) => want.image!.subarray(r * D, (r + 1) * D)),
  }, { types: { instance: f.int32(), prompt: f.dictionary(f.utf8(), f.int32()), step: f.int32(), image: f.fixedSizeList(f.float32(), D) }, maxBatchRows: N });
  const bytes = f.tableToIPC(table, { format: "file" })!;
  const { steps, error } = await readAll(bytes.subarray(0, bytes.length - 100));
  assert.is(steps.length, STEPS);
  assert.instance(error, TruncatedError);
  const half = await readAll(bytes.subarray(0, Math.floor(bytes.length / 2)));
  assert.ok(half.steps.length >= 1 && half.steps.length < STEPS);
  assert.instance(half.error, TruncatedError);
  // arrow-js files keep the schema only in the footer: nothing can be read, but the error is typed.
  const js = ipc("file").bytes;
  assert.instance((await readAll(js.subarray(0, js.length - 10))).error, TruncatedError);
});

test("readRecording: bytes that are not Arrow IPC give FormatError; wrong schemas and NaN give typed errors after the good batches", async () => {
  for (const bad of [new Uint8Array(0), new TextEncoder().encode('{"instance": [0, 1]}'), new Uint8Array(64).fill(7)]) {
    const e = await rejects(loadRecording(bad), FormatError);
    assert.is(e.code, "invalid-format");
  }
  await rejects(loadRecording(join(tmpdir(), "no-such-recording.arrows")), OptionError);

  // Missing column, wrong type.
  const c = columns();
  const noStep = new Table({ instance: makeVector(c.instance), prompt: stepTable(c).getChild("prompt")!, image: stepTable(c).getChild("image")! });
  assert.is((await rejects(loadRecording(tableToIPC(noStep, "stream")), SchemaError)).code, "missing-column");
  const textImage = new Table({ ...Object.fromEntries(["instance", "prompt", "step"].map((k) => [k, stepTable(c).getChild(k)!])), image: stepTable({ ...c, image: undefined, features: c.image, featureDim: D }).getChild("prompt")! });
  const wrong = await rejects(loadRecording(tableToIPC(textImage, "stream")), SchemaError);
  assert.is(wrong.code, "wrong-type");
  assert.is(wrong.column, "image");

  // The same (instance, step) in two batches (written by the unchecked builder: stepTable refuses it).
  const twice = columns();
  twice.step.fill(0, N, 2 * N);
  const dup = await readAll(ipc("stream", buildStepTable(twice)).bytes);
  assert.is(dup.steps.length, 1);
  assert.instance(dup.error, DuplicateRowError);
  assert.is((dup.error as DuplicateRowError).row, N);

  // NaN in the second step's batch: the first step is delivered, the error counts rows from the start.
  c.image![(N + 2) * D + 4] = Number.NaN;
  const { steps, error } = await readAll(ipc("stream", buildStepTable(c)).bytes);
  assert.is(steps.length, 1);
  assert.instance(error, NonFiniteError);
  assert.is((error as NonFiniteError).row, N + 2);
  assert.is((error as NonFiniteError).column, "image");
});

// ---- the Python recipe's stream (examples/python/diffusers_to_arrow.py) ----------

/** A stream with exactly the recipe's schema: pyarrow's types, nullability, child names and metadata. */
function recipeStream(shape: [number, number, number], withNoisy: boolean): Uint8Array {
  const dim = shape[0] * shape[1] * shape[2];
  const vector = new FixedSizeList(dim, new Field("item", new Float32(), true));
  const fields = [
    new Field("instance", new Int32(), true),
    new Field("prompt", new Dictionary(new Utf8(), new Int32()), true),
    new Field("step", new Int32(), true),
    new Field("timestep", new Float32(), true),
    new Field("image", vector, true),
    ...(withNoisy ? [new Field("noisy", vector, true)] : []),
  ];
  const metadata = new Map([
    [IMAGE_SHAPE_KEY, JSON.stringify(shape)],
    ["diffusion-life.source", "diffusers"],
    ["diffusion-life.space", withNoisy ? "latent" : "decoded"],
    ["diffusion-life.model", "runwayml/stable-diffusion-v1-5"],
    ["diffusion-life.scheduler", "EulerDiscreteScheduler"],
  ]);
  const schema = new Schema(fields, metadata);
  const prompts = ["a photo of an astronaut", "a watercolour fox"];
  const dictionary = vectorFromArray(prompts, new Utf8());
  const writer = new RecordBatchStreamWriter();
  const rng = random(3);
  const n = 4, timesteps = [999, 949.5, 899];
  for (const [step, t] of timesteps.entries()) {
    const values = () => makeData({ type: new Float32(), length: n * dim, data: Float32Array.from({ length: n * dim }, () => rng.normal()) });
    const children = [
      makeData({ type: new Int32(), length: n, data: Int32Array.from([0, 1, 2, 3]) }),
      makeData({ type: fields[1].type as Dictionary<Utf8, Int32>, length: n, data: Int32Array.from([0, 0, 1, 1]), dictionary }),
      makeData({ type: new Int32(), length: n, data: new Int32Array(n).fill(step) }),
      makeData({ type: new Float32(), length: n, data: new Float32Array(n).fill(t) }),
      makeData({ type: vector, length: n, child: values() }),
      ...(withNoisy ? [makeData({ type: vector, length: n, child: values() })] : []),
    ];
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, children })));
  }
  writer.finish();
  return writer.toUint8Array(true);
}

test("readRecording: the Python recipe's stream (latents with x_t, and decoded images) reads step by step", async () => {
  for (const [shape, noisy] of [[[4, 8, 8], true], [[3, 16, 16], false]] as const) {
    const bytes = recipeStream([...shape], noisy);
    const steps: StepColumns[] = [];
    for await (const t of readRecording(chunked(bytes, 1000))) steps.push(readStepTable(t));
    assert.is(steps.length, 3);
    steps.forEach((s, i) => {
      assert.equal(s.imageShape, shape);
      assert.equal([...s.step], [i, i, i, i]);
      assert.equal(s.prompts, ["a photo of an astronaut", "a watercolour fox"]);
      assert.equal([...s.prompt], [0, 0, 1, 1]);
      assert.is(s.image!.length, 4 * shape[0] * shape[1] * shape[2]);
      assert.is(s.noisy !== undefined, noisy);
    });
    assert.equal([...steps[1].timestep!], [949.5, 949.5, 949.5, 949.5]);
  }
});

test.run();
