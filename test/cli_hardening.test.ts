// The command line as a careless or hostile user meets it (issue 14, items 2, 4, 6, 9 and 10):
// unwritable output folders fail at once, outputs are replaced atomically (all or none), a closed
// pipe ends quietly, signals stop the work, and wrong command lines get a clear message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { tableFromIPC } from "apache-arrow";
import { join } from "node:path";
import process from "node:process";
import type { CliIO } from "../src/cli/args.ts";
import { main } from "../src/cli/main.ts";
import * as writeFiles from "../src/runtime/write_files.ts";

const dir = mkdtempSync(join(tmpdir(), "diffusion-life-hardening-"));
const SMALL = ["--prompts", "3,7", "--instances", "3", "--steps", "4", "--digits-per-class", "30", "--seed", "2"];
const STEPS = join(dir, "steps.arrow");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a command in this process; `onStdout` sees each write (and may abort); gives up after `limit` ms. */
async function run(argv: string[], options: { onStdout?: (text: string, abort: () => void) => void; limit?: number } = {}): Promise<Run> {
  let stdout = "", stderr = "";
  const controller = new AbortController();
  const io: CliIO = {
    stdout: async (data) => {
      const text = typeof data === "string" ? data : new TextDecoder().decode(data);
      stdout += text;
      options.onStdout?.(text, () => controller.abort());
    },
    stderr: (text) => void (stderr += text),
    stdin: async function* () {},
    stderrIsTTY: false,
    signal: controller.signal,
  };
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<number>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${argv.join(" ")}: no answer within ${options.limit ?? 20000} ms`));
    }, options.limit ?? 20000);
  });
  try {
    const code = await Promise.race([main(argv, io), limit]);
    return { code, stdout, stderr, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

const deno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
const bun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const ENTRY = deno ? [process.execPath, "run", "-A", "cli.ts"] : bun ? [process.execPath, "cli.ts"] : [process.execPath, "bin/diffusion-life.mjs"];

/** The real entry in this runtime, as a child process. */
function child(args: string[]) {
  const proc = spawn(ENTRY[0], [...ENTRY.slice(1), ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  proc.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    proc.on("close", (code, signal) => resolve({ code, signal, stderr }))
  );
  const kill = setTimeout(() => proc.kill("SIGKILL"), 90000);
  void exit.then(() => clearTimeout(kill));
  return { proc, exit, stderr: () => stderr };
}

const files = (folder: string) => readdirSync(folder).sort();
const snapshot = (folder: string) => Object.fromEntries(files(folder).map((f) => [f, readFileSync(join(folder, f)).toString("base64")]));

test("setup: a small step table", async () => {
  const r = await run(["generate", ...SMALL, "-o", STEPS], { limit: 60000 });
  assert.is(r.code, 0, r.stderr);
});

test("item 2: an output folder that cannot be made or written is a typed error at once, before any work", async () => {
  for (const out of ["/proc/x", "/proc/x/y", "/proc"]) {
    const r = await run(["embed", STEPS, "--iterations", "100000", "-o", out]);
    assert.is(r.code, 1, `${out}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^diffusion-life embed: option "out": cannot write to the folder ${out}: `));
    assert.ok(r.ms < 5000, `${out}: ${r.ms.toFixed(0)} ms`);
  }
  const g = await run(["generate", "--steps", "1000", "-o", "/proc/x/steps.arrow"]);
  assert.is(g.code, 1, g.stderr);
  assert.match(g.stderr, /^diffusion-life generate: option "output": cannot write to the folder \/proc\/x: /);
  assert.ok(g.ms < 5000, `${g.ms.toFixed(0)} ms`);
  // A file where a folder should be.
  writeFileSync(join(dir, "a-file"), "x");
  const f = await run(["embed", STEPS, "-o", join(dir, "a-file", "out")]);
  assert.is(f.code, 1);
  assert.match(f.stderr, /cannot write to the folder/);
});

test("item 2: the first SIGINT/SIGTERM cancels, the second ends the process at once", async () => {
  const { cancelOnSignals } = await import("../src/cli/signals.ts");
  const target = new EventEmitter();
  const controller = new AbortController();
  const exits: number[] = [];
  const remove = cancelOnSignals(controller, target as never, (code) => exits.push(code));
  target.emit("SIGTERM");
  assert.ok(controller.signal.aborted, "the first cancels the work");
  assert.equal(exits, [], "and does not end the process");
  target.emit("SIGINT");
  assert.equal(exits, [130], "the second ends it (130 after SIGINT)");
  target.emit("SIGTERM");
  assert.equal(exits, [130, 143]);
  remove();
  assert.is(target.listenerCount("SIGINT") + target.listenerCount("SIGTERM"), 0);
});

test("item 2: the real entry stops a long embedding on SIGTERM (checked between batches), exit 130", async () => {
  const c = child(["embed", STEPS, "--iterations", "1000000", "--progress", "-o", join(dir, "signalled")]);
  // Wait until the embedding runs (its progress bar), then signal.
  const started = Date.now();
  while (!/embedding \(radial\)/.test(c.stderr()) && Date.now() - started < 60000) await new Promise((r) => setTimeout(r, 100));
  assert.match(c.stderr(), /embedding \(radial\)/, c.stderr());
  const signalled = Date.now();
  c.proc.kill("SIGTERM");
  const { code, signal, stderr } = await c.exit;
  assert.match(stderr, /diffusion-life embed: interrupted\n$/);
  // Deno's child_process reports a child it sent a signal to as ended by it, whatever its exit code.
  assert.ok(code === 130 || (deno && signal === "SIGTERM"), `exit ${code}, signal ${signal}`);
  assert.ok(Date.now() - signalled < 5000, `${Date.now() - signalled} ms after the signal`);
  assert.equal(existsSync(join(dir, "signalled")) ? files(join(dir, "signalled")) : [], [], "nothing half-written");
});

test("item 4: a failed or interrupted run leaves every previous output as it was (no mix, no temporary files)", async () => {
  const out = join(dir, "atomic");
  const first = await run(["embed", STEPS, "--layout", "radial,tree", "--iterations", "30", "--seed", "1", "-o", out], { limit: 120000 });
  assert.is(first.code, 0, first.stderr);
  const before = snapshot(out);
  assert.equal(Object.keys(before), ["radial.arrow", "radial.svg", "tree-branches.json", "tree-links.arrow", "tree-nodes.arrow", "tree.svg"]);
  // Another seed, interrupted once the radial layout is done (its files made, the tree's not yet).
  const second = await run(["embed", STEPS, "--layout", "radial,tree", "--iterations", "30", "--seed", "2", "-o", out], {
    limit: 120000,
    onStdout: (text, abort) => text.startsWith("radial:") && abort(),
  });
  assert.is(second.code, 130, second.stderr);
  assert.equal(snapshot(out), before, "the folder holds the first run's outputs, byte for byte");
  // A complete run replaces them all.
  const third = await run(["embed", STEPS, "--layout", "radial,tree", "--iterations", "30", "--seed", "2", "-o", out], { limit: 120000 });
  assert.is(third.code, 0, third.stderr);
  const after = snapshot(out);
  assert.equal(Object.keys(after), Object.keys(before));
  assert.not.equal(after["radial.arrow"], before["radial.arrow"]);
});

test("item 4: writeOutput replaces a file whole; a write that fails keeps the old one and leaves nothing behind", async () => {
  const { OutputFiles, writeOutput } = writeFiles as typeof writeFiles & Record<string, any>;
  const folder = join(dir, "writes");
  const path = join(folder, "a.json");
  await writeOutput(path, "old\n");
  await writeOutput(path, "new\n");
  assert.is(readFileSync(path, "utf8"), "new\n");
  mkdirSync(join(folder, "taken"));
  try {
    await writeOutput(join(folder, "taken"), "x"); // a folder is in the way: the rename fails
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code?: string }).code, "invalid-option");
  }
  const staged = await OutputFiles.open(folder);
  await staged.write("a.json", "staged\n");
  assert.is(readFileSync(path, "utf8"), "new\n", "staged, not yet in place");
  await staged.discard();
  assert.is(readFileSync(path, "utf8"), "new\n");
  assert.equal(files(folder), ["a.json", "taken"], "no temporary file left");
});

test("item 6: a reader that closes the pipe ends `generate -o -` quietly (exit 141, no trace)", async () => {
  const c = child(["generate", "--prompts", "3,7", "--instances", "3", "--steps", "200", "--digits-per-class", "30", "-o", "-"]);
  let got = 0;
  await new Promise<void>((resolve) => {
    c.proc.stdout.on("data", (d: Uint8Array) => {
      got += d.length;
      if (got >= 1000) {
        c.proc.stdout.destroy(); // `| head -c 1000`
        resolve();
      }
    });
    c.proc.on("close", () => resolve());
  });
  const { code, stderr } = await c.exit;
  assert.ok(got >= 1000, `${got} bytes`);
  assert.is(stderr, "", "nothing on stderr");
  assert.is(code, 141);
});

test("item 6: `embed … | head -1` still writes every layout, and exits 0", async () => {
  const out = join(dir, "piped-head");
  const c = child(["embed", STEPS, "--layout", "radial,rectilinear,tree", "--iterations", "30", "-o", out]);
  await new Promise<void>((resolve) => {
    let text = "";
    c.proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      text += d;
      if (text.includes("\n")) {
        c.proc.stdout.destroy();
        resolve();
      }
    });
    c.proc.on("close", () => resolve());
  });
  const { code, stderr } = await c.exit;
  assert.is(stderr, "");
  assert.is(code, 0);
  for (const f of ["radial.arrow", "radial.svg", "rectilinear.arrow", "rectilinear.svg", "tree-nodes.arrow", "tree.svg", "tree-branches.json"]) {
    assert.ok(existsSync(join(out, f)), f);
  }
});

test("item 10: clear messages for a negative count, an unknown flag or command, a PNG too large", async () => {
  const negative = await run(["generate", "--instances", "-5"]);
  assert.is(negative.code, 2);
  assert.match(negative.stderr, /^diffusion-life generate: --instances must be an integer ≥ 1, not "-5"\n$/);
  const typo = await run(["embed", STEPS, "--iteratons", "5"]);
  assert.is(typo.code, 2);
  assert.match(typo.stderr, /Unknown option '--iteratons' \(did you mean --iterations\?\)/);
  const command = await run(["embd", STEPS]);
  assert.is(command.code, 2);
  assert.match(command.stderr, /unknown command "embd" \(did you mean "embed"\?\)/);
  const huge = await run(["embed", STEPS, "--png", "--scale", "1000", "-o", join(dir, "huge")]);
  assert.is(huge.code, 2);
  assert.match(huge.stderr, /^diffusion-life embed: --scale 1000 with --width 900 makes pictures 900000 px wide; PNGs are at most 16384 px a side\n$/);
  assert.ok(huge.ms < 3000, "before any work");
  assert.not.match(huge.stderr, /aliasing|rust/i);
});

test("item 9: the CLI's default features for MNIST-shaped images are the digit network's", async () => {
  const auto = await run(["embed", STEPS, "--iterations", "30", "-o", join(dir, "auto")], { limit: 120000 });
  assert.is(auto.code, 0, auto.stderr);
  const digits = await run(["embed", STEPS, "--iterations", "30", "--encoder", "digits", "-o", join(dir, "digits")], { limit: 120000 });
  assert.is(digits.code, 0, digits.stderr);
  const points = (folder: string) => {
    const t = tableFromIPC(readFileSync(join(dir, folder, "radial.arrow")));
    return [Array.from(t.getChild("x")!.toArray() as Float32Array), Array.from(t.getChild("y")!.toArray() as Float32Array)];
  };
  assert.equal(points("auto"), points("digits"));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
