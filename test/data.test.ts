import { test } from "uvu";
import * as assert from "uvu/assert";
import { Field, FixedSizeList, Float32, Float64, Int32, List, makeData, makeVector, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from "apache-arrow";
import {
  asFrameTable,
  asStepTable,
  DiffusionLifeError,
  DimensionError,
  DuplicateRowError,
  embedSteps,
  frameTable,
  type FrameTable,
  NonFiniteError,
  readFrameTable,
  readStepTable,
  SchemaError,
  stepTable,
  type StepTable,
} from "../mod.ts";

const base = () => ({
  instance: new Int32Array([0, 1, 0, 1]),
  prompt: new Int32Array([0, 1, 0, 1]),
  prompts: ["cat", "dog"],
  step: new Int32Array([0, 0, 1, 1]),
  features: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
  featureDim: 2,
});

/** Asserts that f throws a DiffusionLifeError of the given class, code and column. */
function throwsTyped(f: () => unknown, cls: Function, code: string, column?: string): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, cls);
    assert.instance(e, DiffusionLifeError);
    assert.is((e as DiffusionLifeError).code, code);
    if (column) assert.is((e as DiffusionLifeError).column, column);
    assert.ok((e as Error).message.length > 10);
    return;
  }
  assert.unreachable("expected an error");
}

test("step table: the documented Arrow types survive an IPC round trip", () => {
  const t = tableFromIPC(tableToIPC(stepTable({ ...base(), timestep: new Float32Array([9, 9, 5, 5]), image: new Float32Array(16), imageShape: [1, 2, 2] })));
  const types = Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
  assert.equal(types, {
    instance: "Int32",
    prompt: "Dictionary<Int32, Utf8>",
    step: "Int32",
    timestep: "Float32",
    image: "FixedSizeList[4]<Float32>",
    features: "FixedSizeList[2]<Float32>",
  });
  const back = readStepTable(t);
  assert.equal(Array.from(back.features!), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(back.prompts, ["cat", "dog"]);
  assert.equal(back.imageShape, [1, 2, 2]);
});

test("step table: a missing column is named", () => {
  const t = stepTable(base());
  const noStep = new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, features: t.getChild("features")! });
  throwsTyped(() => readStepTable(noStep), SchemaError, "missing-column", "step");
  const noVectors = new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, step: t.getChild("step")! });
  throwsTyped(() => readStepTable(noVectors), SchemaError, "missing-column");
  throwsTyped(() => readStepTable(stepTable({ ...base(), features: undefined, image: new Float32Array(4), imageShape: [1, 1, 1] }), { features: true }), SchemaError, "missing-column", "features");
});

test("step table: a column of the wrong type is named", () => {
  const t = stepTable(base());
  const stepAsText = new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, step: vectorFromArray(["0", "0", "1", "1"]), features: t.getChild("features")! });
  throwsTyped(() => readStepTable(stepAsText), SchemaError, "wrong-type", "step");
  const featuresAsFloat = new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, step: t.getChild("step")!, features: makeVector(new Float32Array(4)) });
  throwsTyped(() => readStepTable(featuresAsFloat), SchemaError, "wrong-type", "features");
});

test("step table: NaN and Infinity are found with their row", () => {
  const features = new Float32Array([1, 2, 3, 4, 5, NaN, 7, 8]);
  try {
    readStepTable(stepTable({ ...base(), features }));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, NonFiniteError);
    assert.is((e as NonFiniteError).row, 2);
    assert.is((e as NonFiniteError).column, "features");
  }
  throwsTyped(() => readStepTable(stepTable({ ...base(), timestep: new Float32Array([1, Infinity, 1, 1]) })), NonFiniteError, "non-finite", "timestep");
});

test("step table: a duplicate (instance, step) is refused", () => {
  const dup = { ...base(), instance: new Int32Array([0, 1, 1, 1]) };
  try {
    readStepTable(stepTable(dup));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DuplicateRowError);
    assert.is((e as DuplicateRowError).row, 3);
    assert.match((e as Error).message, /instance 1, step 1/);
  }
});

test("step table: a list column whose length changes between rows is refused", () => {
  const t = stepTable(base());
  const child = makeData({ type: new Float32(), length: 9, nullCount: 0, data: new Float32Array(9) });
  const listType = new List(new Field("item", new Float32(), true));
  const ragged = makeVector(makeData({ type: listType, length: 4, nullCount: 0, valueOffsets: new Int32Array([0, 2, 4, 7, 9]), child }));
  const table = new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, step: t.getChild("step")!, features: ragged });
  try {
    readStepTable(table);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DimensionError);
    assert.is((e as DimensionError).row, 2);
  }
  // The same column with equal lengths is accepted as features.
  const even = makeVector(makeData({ type: listType, length: 4, nullCount: 0, valueOffsets: new Int32Array([0, 2, 4, 6, 8]), child }));
  const ok = readStepTable(new Table({ instance: t.getChild("instance")!, prompt: t.getChild("prompt")!, step: t.getChild("step")!, features: even }));
  assert.is(ok.featureDim, 2);
});

test("step table: Float64 vectors and plain Utf8 prompts are accepted", () => {
  const t = stepTable(base());
  const child = makeData({ type: new Float64(), length: 8, nullCount: 0, data: new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]) });
  const f64 = makeVector(makeData({ type: new FixedSizeList(2, new Field("item", new Float64())), length: 4, nullCount: 0, child }));
  const table = new Table({ instance: t.getChild("instance")!, prompt: vectorFromArray(["a", "b", "a", "b"], new Utf8()), step: t.getChild("step")!, features: f64 });
  const cols = readStepTable(table);
  assert.equal(Array.from(cols.features!), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(cols.prompts, ["a", "b"]);
  assert.ok(table.getChild("prompt")!.type instanceof Utf8);
});

test("step table: features across several record batches are read in order", () => {
  const a = stepTable(base());
  const b = stepTable({ ...base(), step: new Int32Array([2, 2, 3, 3]) });
  const both = a.concat(b);
  assert.is(both.batches.length, 2);
  const cols = readStepTable(both);
  assert.equal(Array.from(cols.features!), [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(Array.from(cols.step), [0, 0, 1, 1, 2, 2, 3, 3]);
});

test("frame table: contract columns, native coordinates and quality metadata", () => {
  const f = frameTable({
    instance: new Int32Array([3, 4]),
    prompt: new Int32Array([0, 0]),
    prompts: ["p"],
    step: new Int32Array([0, 0]),
    x: new Float32Array([1, 2]),
    y: new Float32Array([3, 4]),
    native: { radius: new Float32Array([5, 6]), angle: new Float32Array([0.1, 0.2]) },
    layout: "radial",
    quality: { k: 10 },
  });
  const back = readFrameTable(tableFromIPC(tableToIPC(f)));
  assert.equal(Array.from(back.instance), [3, 4]);
  assert.equal(Object.keys(back.native), ["radius", "angle"]);
  assert.is(back.layout, "radial");
  assert.equal(back.quality, { k: 10 });
  assert.is(String(f.getChild("x")!.type), "Float32");
  assert.ok(f.getChild("instance")!.type instanceof Int32);
});

test("validated tables: built or checked once, then read without checking again; a plain Table goes through asStepTable", async () => {
  // A step table the library built is not checked again: NaN written into its buffer afterwards goes unnoticed…
  const built = stepTable(base());
  (built.getChild("features")!.data[0].children[0].values as Float32Array)[3] = NaN;
  assert.ok(Number.isNaN(readStepTable(built).features![3]));
  // …while the same table from elsewhere is checked, once, by asStepTable, and returned as it is.
  const plain = tableFromIPC(tableToIPC(built));
  throwsTyped(() => asStepTable(plain), NonFiniteError, "non-finite", "features");
  throwsTyped(() => readStepTable(plain), NonFiniteError, "non-finite", "features");
  const good = tableFromIPC(tableToIPC(stepTable(base())));
  const checked: StepTable = asStepTable(good);
  assert.is(checked, good);
  assert.is(asStepTable(checked), checked);
  (good.getChild("features")!.data[0].children[0].values as Float32Array)[0] = NaN;
  assert.ok(Number.isNaN(readStepTable(checked).features![0]), "not checked a second time");
  // A plain Table cast to StepTable without checking is still checked when a stage reads it.
  const cast = tableFromIPC(tableToIPC(stepTable({ ...base(), features: new Float32Array(8) }))) as StepTable;
  cast.getChild("features")!.data[0].children[0].values[5] = Infinity;
  await embedSteps(cast, { iterations: 1 }).then(() => assert.unreachable(), (e) => assert.instance(e, NonFiniteError));
  // stepTable checks what it builds.
  throwsTyped(() => stepTable({ ...base(), prompt: new Int32Array(3) }), DimensionError, "dimension-mismatch", "prompt");
  throwsTyped(() => stepTable({ ...base(), features: new Float32Array(6) }), DimensionError, "dimension-mismatch", "features");

  // Frames alike.
  const frame = frameTable({ instance: new Int32Array([1]), prompt: new Int32Array([0]), prompts: ["p"], step: new Int32Array([0]), x: new Float32Array([1]), y: new Float32Array([2]), native: {}, layout: "radial" });
  const back = tableFromIPC(tableToIPC(frame));
  const asFrame: FrameTable = asFrameTable(back);
  assert.is(asFrame, back);
  back.getChild("x")!.data[0].values[0] = NaN;
  assert.ok(Number.isNaN(readFrameTable(asFrame).x[0]));
  throwsTyped(() => asFrameTable(tableFromIPC(tableToIPC(back))), NonFiniteError, "non-finite", "x");
  throwsTyped(() => frameTable({ ...readFrameTable(frame), y: new Float32Array([Infinity]) }), NonFiniteError, "non-finite", "y");
  throwsTyped(() => frameTable({ ...readFrameTable(frame), x: new Float32Array(2) }), DimensionError, "dimension-mismatch", "x");
});

test.run();
