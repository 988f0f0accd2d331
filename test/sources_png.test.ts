import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode } from "fast-png";
import { DimensionError, FormatError, OptionError } from "../src/errors.ts";
import { readStepTable, type StepColumns } from "../src/data/step_table.ts";
import { loadImageFolder, readImageFolder } from "../src/sources/image_folder.ts";

const W = 5, H = 4;
/** The grey value (0..255) of pixel p of an instance at a step. */
const grey = (instance: number, step: number, p: number) => (p * 9 + instance * 40 + step * 3) % 256;

/** prompt/instance/step.png with steps named so that only a numeric sort orders them. */
async function folder(write: (path: string, instance: number, step: number) => Promise<void>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "dl-png-"));
  const layout: Array<[string, string[], number]> = [["a cat", ["seed-2", "seed-10"], 3], ["a dog", ["7"], 2]];
  let instance = 0;
  for (const [prompt, instances, steps] of layout) {
    for (const name of instances) {
      const dir = join(root, prompt, name);
      await mkdir(dir, { recursive: true });
      for (let s = 0; s < steps; s++) await write(join(dir, `step_${[1, 2, 10][s]}.png`), instance, s);
      await writeFile(join(dir, "notes.txt"), "not an image");
      instance++;
    }
  }
  return root;
}

const greyPng = (path: string, instance: number, step: number) =>
  writeFile(path, encode({ width: W, height: H, channels: 1, depth: 8, data: Uint8Array.from({ length: W * H }, (_, p) => grey(instance, step, p)) }));

test("readImageFolder: prompt/instance/step.png becomes one step table per step, in natural order", async () => {
  const root = await folder(greyPng);
  try {
    const steps: StepColumns[] = [];
    for await (const t of readImageFolder(root)) steps.push(readStepTable(t));
    assert.is(steps.length, 3);
    assert.equal(steps.map((s) => [...s.instance]), [[0, 1, 2], [0, 1, 2], [0, 1]]);
    assert.equal(steps[0].prompts, ["a cat", "a dog"]);
    assert.equal([...steps[0].prompt], [0, 0, 1]);
    steps.forEach((cols, s) => {
      assert.equal(cols.imageShape, [1, H, W]);
      cols.instance.forEach((inst, r) => {
        for (let p = 0; p < W * H; p++) assert.is(cols.image![r * W * H + p], Math.fround(grey(inst, s, p) / 255));
      });
    });
    // "seed-2" sorts before "seed-10", "step_2" before "step_10".
    const all = readStepTable(await loadImageFolder(root));
    assert.is(all.step.length, 8);
    assert.is(all.image![W * H + 1], Math.fround(grey(1, 0, 1) / 255));
  } finally {
    await rm(root, { recursive: true });
  }
});

test("readImageFolder: palette, RGBA and 16-bit RGB images, as RGB or grey", async () => {
  const palette = Array.from({ length: 256 }, (_, v) => [v, 255 - v, (v * 2) % 256]);
  const root = await folder((path, instance, step) => {
    if (instance === 0) {
      const indices = Uint8Array.from({ length: W * H }, (_, p) => grey(instance, step, p));
      return writeFile(path, encode({ width: W, height: H, channels: 1, depth: 8, data: indices, palette }));
    }
    const rgba = instance === 1;
    const channels = rgba ? 4 : 3;
    const data = instance === 2 ? new Uint16Array(W * H * channels) : new Uint8Array(W * H * channels);
    const scale = instance === 2 ? 257 : 1;
    for (let p = 0; p < W * H; p++) {
      const v = grey(instance, step, p);
      data.set([v, 255 - v, (v * 2) % 256, 128].slice(0, channels).map((x) => x * scale), p * channels);
    }
    return writeFile(path, encode({ width: W, height: H, channels, depth: instance === 2 ? 16 : 8, data }));
  });
  try {
    const rgb = readStepTable(await loadImageFolder(root));
    assert.equal(rgb.imageShape, [3, H, W]);
    const gray = readStepTable(await loadImageFolder(root, { channels: 1 }));
    assert.equal(gray.imageShape, [1, H, W]);
    for (let r = 0; r < rgb.step.length; r++) {
      const inst = rgb.instance[r], s = rgb.step[r];
      for (const p of [0, 7, W * H - 1]) {
        const v = grey(inst, s, p);
        const want = [v, 255 - v, (v * 2) % 256].map((x) => x / 255);
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(rgb.image![r * 3 * W * H + c * W * H + p] - want[c]) < 1e-6);
        const luma = 0.299 * want[0] + 0.587 * want[1] + 0.114 * want[2];
        assert.ok(Math.abs(gray.image![r * W * H + p] - luma) < 1e-6);
      }
    }
  } finally {
    await rm(root, { recursive: true });
  }
});

test("readImageFolder: a file that is not a PNG, a different size, an empty folder and bad options give typed errors", async () => {
  const root = await folder(async (path, instance, step) => {
    if (instance === 2 && step === 1) return writeFile(path, "not a png at all");
    await greyPng(path, instance, step);
  });
  const sized = await folder(async (path, instance, step) => {
    const w = instance === 1 && step === 2 ? W + 1 : W;
    await writeFile(path, encode({ width: w, height: H, channels: 1, depth: 8, data: new Uint8Array(w * H) }));
  });
  const empty = await mkdtemp(join(tmpdir(), "dl-png-"));
  try {
    const seen: number[] = [];
    try {
      for await (const t of readImageFolder(root)) seen.push(readStepTable(t).step[0]);
      assert.unreachable("a broken PNG must fail");
    } catch (e) {
      assert.instance(e, FormatError);
      assert.match((e as Error).message, /7.step_2\.png/);
    }
    assert.equal(seen, [0], "the step before the broken file is delivered");
    try {
      await loadImageFolder(sized);
      assert.unreachable("sizes differ");
    } catch (e) {
      assert.instance(e, DimensionError);
    }
    for (const [dir, opts] of [[empty, {}], [join(empty, "missing"), {}]] as const) {
      try {
        await loadImageFolder(dir, opts);
        assert.unreachable(dir);
      } catch (e) {
        assert.instance(e, OptionError);
      }
    }
    assert.throws(() => readImageFolder(root, { channels: 2 as never }), (e: unknown) => e instanceof OptionError);
  } finally {
    for (const d of [root, sized, empty]) await rm(d, { recursive: true });
  }
});

test.run();
