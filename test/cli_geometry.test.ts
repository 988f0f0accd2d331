import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { runCli as run } from "./cli_run.ts";

const dir = mkdtempSync(join(tmpdir(), "diffusion-life-geometry-"));


test("cli geometry: the closed form's tables of a generated table, with progress", async () => {
  const steps = join(dir, "steps.arrow"), out = join(dir, "out");
  assert.is((await run(["generate", "--prompts", "any,3", "--instances", "3", "--steps", "4", "--digits-per-class", "30", "-o", steps])).code, 0);
  const r = await run(["geometry", steps, "--digits-per-class", "30", "--k", "3", "--vectors", "--progress", "-o", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /geometry \[#+\] 100% 36\/36/); // 24 rows, 12 of them conditional: each also without the prompt
  assert.match(r.stdout, /step 0: centroid 0\.\d+, within 0\.\d+, across 0\.\d+, conditional 0\.\d+/);
  assert.match(r.stdout, /Spearman\(step, centroid\) -?[\d.]+ over \d+ bases of closed-form/);
  for (const f of ["geometry.arrow", "distances.arrow", "summary.json", "readings.svg"]) assert.ok(existsSync(join(out, f)), f);
  const geometry = tableFromIPC(readFileSync(join(out, "geometry.arrow")));
  assert.is(geometry.numRows, 24);
  assert.is(geometry.getChild("basis")!.get(0)!.length, 3 * 784);
  const distances = tableFromIPC(readFileSync(join(out, "distances.arrow")));
  const kinds = new Set([...distances.getChild("kind")!].map(String));
  assert.equal([...kinds].sort(), ["across", "conditional", "within"]);
  assert.is(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).perStep.length, 4);
});

test("cli geometry: the U-Net by a forward-only sketch (tangent spaces in h, the band metric's centroid)", async () => {
  const steps = join(dir, "unet.arrow"), out = join(dir, "unet");
  assert.is((await run(["generate", "--model", "unet", "--prompts", "3", "--instances", "2", "--steps", "2", "-o", steps])).code, 0);
  const r = await run(["geometry", steps, "--model", "unet", "--method", "bands", "--k", "4", "-o", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /step 1: centroid 0\.\d+, within 0\.\d+, across —, conditional 0\.\d+/);
  const geometry = tableFromIPC(readFileSync(join(out, "geometry.arrow")));
  assert.is(geometry.numRows, 4);
  assert.is(geometry.getChild("runs")!.get(0), 512); // 256 runs with the prompt, 256 without
  assert.is(geometry.getChild("basis"), null);
});

test("cli geometry: wrong input is a usage error; an interrupt exits 130 and writes nothing", async () => {
  assert.is((await run(["geometry"])).code, 2);
  assert.is((await run(["geometry", join(dir, "steps.arrow"), "--method", "bands"])).code, 2); // the closed form has no method
  assert.is((await run(["geometry", join(dir, "steps.arrow"), "--model", "unet", "--method", "lanczos"])).code, 2);
  const controller = new AbortController();
  controller.abort();
  const out = join(dir, "interrupted");
  const r = await run(["geometry", join(dir, "steps.arrow"), "--digits-per-class", "30", "-o", out], controller.signal);
  assert.is(r.code, 130, r.stderr);
  assert.not.ok(existsSync(join(out, "geometry.arrow")));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
