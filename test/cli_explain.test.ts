import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { digitCondition } from "../src/cli/explain.ts";
import { runCli as run } from "./cli_run.ts";

const dir = mkdtempSync(join(tmpdir(), "diffusion-life-explain-"));


test("cli explain: commitment, level, concepts, bias and saliency of a generated table", async () => {
  const steps = join(dir, "steps.arrow"), out = join(dir, "out");
  assert.is((await run(["generate", "--prompts", "any,3", "--instances", "3", "--steps", "4", "--digits-per-class", "30", "-o", steps])).code, 0);
  const r = await run(["explain", steps, "--masks", "20", "--saliency-steps", "1,3", "-o", out]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /commitment digit 3: median step/);
  assert.match(r.stdout, /bias any digit: χ² [\d.]+, df \d, p /);
  assert.match(r.stdout, /step 3: insertion AUC [\d.]+ \(random [\d.]+\), deletion AUC/);
  for (const f of ["commitment.arrow", "commitment-steps.arrow", "level.arrow", "concepts.arrow", "saliency.arrow", "summary.json", "saliency.svg", "auc.svg", "commitment.svg", "tree.svg"]) assert.ok(existsSync(join(out, f)), f);
  assert.match(readFileSync(join(out, "tree.svg"), "utf8"), /<circle data-node="\d+" data-step="3" data-size="1" data-committed="1"/, "the leaves have committed");
  const saliency = tableFromIPC(readFileSync(join(out, "saliency.arrow")));
  assert.is(saliency.numRows, 4); // the first instance of each prompt at steps 1 and 3
  assert.is(tableFromIPC(readFileSync(join(out, "commitment.arrow"))).numRows, 24);
});

test("cli explain: wrong input is a usage error; an interrupt exits 130 and writes nothing", async () => {
  assert.is((await run(["explain"])).code, 2);
  assert.is((await run(["explain", join(dir, "steps.arrow"), "--mask-kind", "hex"])).code, 2);
  assert.throws(() => digitCondition("a red bicycle"), /not one of generate's/);
  assert.is(digitCondition("any digit"), -1);
  const controller = new AbortController();
  controller.abort();
  const out = join(dir, "interrupted");
  const r = await run(["explain", join(dir, "steps.arrow"), "--masks", "20", "-o", out], controller.signal);
  assert.is(r.code, 130, r.stderr);
  assert.not.ok(existsSync(join(out, "commitment.arrow")));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
