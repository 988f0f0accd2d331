/** `diffusion-life embed --spec FILE` (issue 18): a spec file, or the frame that recorded one. */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { checkSpec, DEFAULT_SPEC, readSpec } from "../mod.ts";
import { runCli as run } from "./cli_run.ts";

const dir = mkdtempSync(join(tmpdir(), "diffusion-life-cli-spec-"));


const xy = (path: string) => {
  const t = tableFromIPC(readFileSync(path));
  return [Array.from(t.getChild("x")!.toArray() as Float32Array), Array.from(t.getChild("y")!.toArray() as Float32Array)];
};

test("cli: embed --spec runs a spec file, records it in the frame, and reruns a picture from its own frame", async () => {
  const steps = join(dir, "steps.arrow");
  const g = await run(["generate", "--prompts", "3,7", "--instances", "4", "--steps", "3", "--digits-per-class", "30", "--seed", "2", "-o", steps]);
  assert.is(g.code, 0, g.stderr);
  const spec = join(dir, "short.json");
  writeFileSync(spec, JSON.stringify({ ...DEFAULT_SPEC, phases: [{ iterations: 40, exaggeration: 4 }, { iterations: 80 }] }));
  const a = await run(["embed", steps, "--spec", spec, "-o", join(dir, "a")]);
  assert.is(a.code, 0, a.stderr);
  assert.match(a.stdout, /radial: trustworthiness/);
  const recorded = readSpec(tableFromIPC(readFileSync(join(dir, "a", "radial.arrow"))));
  assert.equal(recorded!.phases.map((p) => p.iterations), [40, 80]);
  const b = await run(["embed", steps, "--spec", join(dir, "a", "radial.arrow"), "-o", join(dir, "b")]);
  assert.is(b.code, 0, b.stderr);
  assert.equal(xy(join(dir, "b", "radial.arrow")), xy(join(dir, "a", "radial.arrow")));
  // --layout replaces the spec's layout, and the recorded spec says so.
  const c = await run(["embed", steps, "--spec", spec, "--layout", "rectilinear", "--seed", "3", "-o", join(dir, "c")]);
  assert.is(c.code, 0, c.stderr);
  const other = readSpec(tableFromIPC(readFileSync(join(dir, "c", "rectilinear.arrow"))))!;
  assert.equal([other.layout.type, other.seed], ["rectilinear", 3]);
  assert.equal(other.losses, checkSpec(DEFAULT_SPEC).losses);
});

test("cli: embed --spec: a bad field is one line naming it; --iterations is refused", async () => {
  const steps = join(dir, "steps.arrow");
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ version: 1, losses: [{ type: "semantic" }, { type: "displacement", weight: -1 }] }));
  const r = await run(["embed", steps, "--spec", bad, "-o", join(dir, "bad")]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /^diffusion-life embed: spec field losses\[1\]\.weight: must be a number ≥ 0, not -1\n$/);
  const i = await run(["embed", steps, "--spec", bad, "--iterations", "10"]);
  assert.is(i.code, 2);
  assert.match(i.stderr, /--iterations: with --spec/);
});

test.run();
