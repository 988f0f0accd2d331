/**
 * Issue 14, item 7: Arrow written by polars (the npm package nodejs-polars,
 * which loads in Node, Deno and Bun alike): an IPC file's String column is
 * Utf8View, lists are LargeList, and bodies may be LZ4-frame or ZSTD
 * compressed. The files are written here, by polars, in each runtime.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import pl from "nodejs-polars";
import { BinaryView, makeBuilder, Table, tableFromIPC, tableToIPC, Type, Utf8View } from "apache-arrow";
import { DiffusionLifeError, FormatError, LimitError, SchemaError } from "../src/errors.ts";
import { readStepTable, stepTable, type StepColumns } from "../src/data/step_table.ts";
import { loadRecording } from "../src/sources/recording.ts";

const N = 5, T = 3, D = 6;
const PROMPTS = ["a cat", "a dog sitting on a long red sofa in the sun"]; // the second is longer than a view's 12 inline bytes

function expected(): StepColumns {
  const rows = N * T;
  return {
    instance: Int32Array.from({ length: rows }, (_, r) => 1000 + (r % N)),
    prompt: Int32Array.from({ length: rows }, (_, r) => (r % N) % 2),
    prompts: PROMPTS,
    step: Int32Array.from({ length: rows }, (_, r) => Math.floor(r / N)),
    features: Float32Array.from({ length: rows * D }, (_, k) => Math.fround(Math.sin(k) * 3)),
    featureDim: D,
  };
}

/** The expected table as a polars DataFrame: Int32 ids, String prompts, List<Float32> features. */
function frame(c = expected(), extraWidth = 0) {
  const rows = c.instance.length;
  const features = Array.from({ length: rows }, (_, r) => [...c.features!.subarray(r * D, (r + 1) * D), ...new Array(extraWidth).fill(0)]);
  return pl.DataFrame([
    pl.Series("instance", [...c.instance], pl.Int32),
    pl.Series("prompt", [...c.prompt].map((p) => c.prompts[p]), pl.Utf8),
    pl.Series("step", [...c.step], pl.Int32),
    pl.Series("features", features, pl.List(pl.Float32)),
  ]);
}

const bytes = (b: Uint8Array | ArrayBuffer) => (b instanceof Uint8Array ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b));

function assertSame(table: Table, want: StepColumns, dim = D): void {
  const got = readStepTable(table);
  assert.equal([...got.instance], [...want.instance]);
  assert.equal([...got.step], [...want.step]);
  assert.equal([...got.prompt].map((p) => got.prompts[p]), [...want.prompt].map((p) => want.prompts[p]));
  assert.is(got.featureDim, dim);
  for (let r = 0; r < want.instance.length; r++) {
    assert.equal([...got.features!.subarray(r * dim, r * dim + D)], [...want.features!.subarray(r * D, (r + 1) * D)]);
  }
}

test("polars: its IPC file (String as Utf8View, lists as LargeList) reads as the same step table as its stream", async () => {
  const df = frame(), want = expected();
  const file = bytes(df.writeIPC());
  // What makes it polars' own: the prompt is a Utf8View in the file.
  assert.is(tableFromIPC(file).schema.fields.find((f) => f.name === "prompt")!.typeId, Type.Utf8View);
  assertSame(await loadRecording(file), want);
  assertSame(await loadRecording(bytes(df.writeIPCStream())), want);
});

test("polars: LZ4-frame and ZSTD compressed IPC files and streams read, through lz4-napi and fzstd", async () => {
  const df = frame(), want = expected();
  for (const compression of ["lz4", "zstd"] as const) {
    const file = bytes(df.writeIPC({ compression }));
    assertSame(await loadRecording(file), want);
    assertSame(await loadRecording(bytes(df.writeIPCStream({ compression }))), want);
  }
});

test("polars: a compressed batch that declares more than maxBatchBytes once decompressed is a LimitError, before decompression", async () => {
  // Rows of mostly zeros compress well: the body is small, the declared sizes are not.
  const df = frame(expected(), 2000);
  for (const compression of ["lz4", "zstd"] as const) {
    for (const data of [bytes(df.writeIPC({ compression })), bytes(df.writeIPCStream({ compression }))]) {
      let error: unknown;
      try {
        await loadRecording(data, { limits: { maxBatchBytes: 50_000 } });
      } catch (e) {
        error = e;
      }
      assert.instance(error, LimitError);
      assert.is((error as LimitError).limit, "maxBatchBytes");
      assertSame(await loadRecording(data), expected(), D + 2000);
    }
  }
});

test("polars: a compressed stream with any byte damaged reads or fails with a typed error, never a raw one", async () => {
  const df = frame();
  for (const compression of ["lz4", "zstd"] as const) {
    const good = bytes(df.writeIPCStream({ compression }));
    let typed = 0;
    for (let at = 0; at < good.length; at += 5) {
      const bad = good.slice();
      bad[at] ^= 0x5a;
      try {
        const table = await loadRecording(bad);
        readStepTable(table);
      } catch (e) {
        if (!(e instanceof DiffusionLifeError)) throw e;
        typed++;
      }
    }
    assert.ok(typed > 0);
  }
});

test("string views: Utf8View prompts (inline and in data buffers) read; BinaryView columns are carried past; a BinaryView prompt is a SchemaError naming the type", async () => {
  const c = expected();
  const base = stepTable(c);
  const views = makeBuilder({ type: new Utf8View() }), blobs = makeBuilder({ type: new BinaryView() });
  for (let r = 0; r < c.instance.length; r++) {
    views.append(c.prompts[c.prompt[r]]);
    blobs.append(new Uint8Array(r + 10).fill(r));
  }
  const columns = Object.fromEntries(base.schema.fields.map((f) => [f.name, base.getChild(f.name)!]));
  const withViews = new Table({ ...columns, prompt: views.finish().toVector(), blob: blobs.finish().toVector() });
  for (const format of ["file", "stream"] as const) assertSame(await loadRecording(tableToIPC(withViews, format)), c);
  const binaryPrompt = new Table({ ...columns, prompt: withViews.getChild("blob")! });
  let error: unknown;
  try {
    await loadRecording(tableToIPC(binaryPrompt, "file"));
  } catch (e) {
    error = e;
  }
  assert.instance(error, SchemaError);
  assert.match((error as Error).message, /BinaryView/);
  // A view that points past its data buffer is a FormatError, not a read out of bounds.
  const data = withViews.getChild("prompt")!.data[0];
  const forged = (data.values as unknown as Uint8Array).slice();
  new DataView(forged.buffer).setInt32(16 * 1 + 12, 1 << 20, true);
  const { makeData, makeVector } = await import("apache-arrow");
  const broken = makeVector(makeData({ type: new Utf8View(), length: data.length, nullCount: 0, views: forged, variadicBuffers: data.variadicBuffers } as never));
  let formatError: unknown;
  try {
    readStepTable(new Table({ ...columns, prompt: broken }));
  } catch (e) {
    formatError = e;
  }
  assert.instance(formatError, FormatError);
});

test.run();
