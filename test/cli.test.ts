import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { tableFromIPC } from "apache-arrow";
import type { CliIO } from "../src/cli/args.ts";
import { main } from "../src/cli/main.ts";

const dir = mkdtempSync(join(tmpdir(), "diffusion-life-cli-"));
// A small generation: 2 prompts × 3 instances × 4 steps over 30 digits per class.
const SMALL = ["--prompts", "3,7", "--instances", "3", "--steps", "4", "--digits-per-class", "30", "--seed", "2"];

interface Run {
  code: number;
  stdout: string;
  bytes: Uint8Array;
  stderr: string;
}

/** Runs a command in this process, with captured output and the given stdin bytes. */
async function run(argv: string[], stdin: Uint8Array = new Uint8Array(0), tty = false): Promise<Run> {
  const out: Uint8Array[] = [];
  let stderr = "";
  const io: CliIO = {
    stdout: async (data) => void out.push(typeof data === "string" ? new TextEncoder().encode(data) : data.slice()),
    stderr: (text) => void (stderr += text),
    stdin: async function* () {
      yield stdin;
    },
    stderrIsTTY: tty,
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  const bytes = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  out.reduce((offset, c) => (bytes.set(c, offset), offset + c.length), 0);
  return { code, stdout: new TextDecoder().decode(bytes), bytes, stderr };
}

/** One line on stderr, naming the command, and no stack trace. */
function oneLine(r: Run, command: string) {
  assert.is(r.stderr.split("\n").filter(Boolean).length, 1, r.stderr);
  assert.ok(r.stderr.startsWith(`diffusion-life ${command}: `), r.stderr);
  assert.not.match(r.stderr, /\n\s+at /);
}

test("cli: generate writes a step table file, with a progress bar when asked", async () => {
  const r = await run(["generate", ...SMALL, "-o", join(dir, "steps.arrow"), "--progress"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /steps\.arrow: 24 rows \(4 steps\)/);
  assert.match(r.stderr, /generating \[#+\] 100% 4\/4\n$/);
  const table = tableFromIPC(readFileSync(join(dir, "steps.arrow")));
  assert.is(table.numRows, 24);
  assert.equal([...new Set(Array.from(table.getChild("prompt")!, String))], ["digit 3", "digit 7"]);
});

test("cli: embed draws every layout (SVG and PNG) and reports the tree's branch points", async () => {
  const out = join(dir, "out");
  const r = await run(["embed", join(dir, "steps.arrow"), "--layout", "radial,rectilinear,tree", "--iterations", "60", "--png", "-o", out]);
  assert.is(r.code, 0, r.stderr);
  for (const name of ["radial", "rectilinear"]) {
    assert.is(tableFromIPC(readFileSync(join(out, `${name}.arrow`))).numRows, 24);
    assert.match(readFileSync(join(out, `${name}.svg`), "utf8"), new RegExp(`data-layout="${name}"`));
    assert.equal(Array.from(readFileSync(join(out, `${name}.png`)).subarray(1, 4)), [80, 78, 71]);
  }
  const nodes = tableFromIPC(readFileSync(join(out, "tree-nodes.arrow")));
  assert.ok(nodes.numRows >= 1 + 3 + 6, `${nodes.numRows} nodes`);
  assert.is(tableFromIPC(readFileSync(join(out, "tree-links.arrow"))).numRows, nodes.numRows - 1);
  assert.match(readFileSync(join(out, "tree.svg"), "utf8"), /data-layout="tree"/);
  const branches = JSON.parse(readFileSync(join(out, "tree-branches.json"), "utf8"));
  assert.match(r.stdout, new RegExp(`tree: ${nodes.numRows} nodes, ${branches.length} branch points`));
  assert.match(r.stdout, /radial: trustworthiness \d\.\d{3}/);
  assert.match(r.stdout, /wrote .*tree\.png/);
});

test("cli: --layout takes a module path (its default export) and a registered name; an unknown name suggests one", async () => {
  const out = join(dir, "own");
  const r = await run(["embed", join(dir, "steps.arrow"), "--layout", "./examples/horizontal_lanes.ts,rectilinear", "--iterations", "30", "-o", out]);
  assert.is(r.code, 0, r.stderr);
  const frame = tableFromIPC(readFileSync(join(out, "horizontal-lanes.arrow")));
  assert.is(frame.numRows, 24);
  assert.is(frame.schema.metadata.get("diffusion-life.layout"), "horizontal-lanes");
  assert.match(readFileSync(join(out, "horizontal-lanes.svg"), "utf8"), /data-layout="horizontal-lanes"/);
  assert.ok(existsSync(join(out, "rectilinear.svg")));
  assert.match(r.stdout, /horizontal-lanes: trustworthiness \d\.\d{3}/);

  const typo = await run(["embed", join(dir, "steps.arrow"), "--layout", "radail"]);
  assert.is(typo.code, 2);
  oneLine(typo, "embed");
  assert.match(typo.stderr, /unknown layout "radail"; known: radial, rectilinear, tree, or a module path \(did you mean "radial"\?\)/);
  const missing = await run(["embed", join(dir, "steps.arrow"), "--layout", "./no/such_layout.ts"]);
  assert.is(missing.code, 1);
  oneLine(missing, "embed");
  assert.match(missing.stderr, /cannot load the module "\.\/no\/such_layout\.ts"/);
  const notALayout = await run(["embed", join(dir, "steps.arrow"), "--layout", "./test/fixtures.ts"]);
  assert.is(notALayout.code, 1);
  assert.match(notALayout.stderr, /exports no Layout/);
});

test("cli: generate -o - streams Arrow IPC that embed - reads from stdin", async () => {
  const g = await run(["generate", ...SMALL, "-o", "-"]);
  assert.is(g.code, 0, g.stderr);
  assert.is(g.stderr, "", "not a terminal and no --progress: no progress bar");
  assert.equal(Array.from(g.bytes.subarray(0, 4)), [255, 255, 255, 255], "an IPC stream message");
  assert.is(tableFromIPC(g.bytes).numRows, 24);
  const e = await run(["embed", "-", "--layout", "tree", "-o", join(dir, "piped")], g.bytes);
  assert.is(e.code, 0, e.stderr);
  assert.ok(existsSync(join(dir, "piped", "tree.svg")));
});

test("cli: watch serves the viewer while the generator runs, then stops with --once", async () => {
  const r = await run(["watch", ...SMALL, "--port", "0", "--iterations", "20", "--once"]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^viewer: http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)\ndone: 4 step tables embedded\n$/);
  const file = await run(["watch", join(dir, "steps.arrow"), "--port", "0", "--interval", "0", "--iterations", "20", "--once"]);
  assert.is(file.code, 0, file.stderr);
  assert.match(file.stdout, /done: 4 step tables embedded/);
});

test("cli: help for the tool and each command", async () => {
  const top = await run(["--help"]);
  assert.is(top.code, 0);
  assert.match(top.stdout, /Commands:\n {2}generate .*\n {2}embed .*\n {2}watch /);
  for (const command of ["generate", "embed", "watch"]) {
    const r = await run([command, "--help"]);
    assert.is(r.code, 0);
    assert.ok(r.stdout.startsWith(`Usage: diffusion-life ${command} `), r.stdout);
    assert.match(r.stdout, /--seed <n>/);
  }
  assert.match((await run(["embed", "--help"])).stdout, /--layout <names>\s+radial, rectilinear or tree/);
  const none = await run([]);
  assert.is(none.code, 2);
  assert.match(none.stdout, /^Usage: diffusion-life <command>/);
});

test("cli: a bad file or a bad command line is one line on stderr and a non-zero exit", async () => {
  const garbage = join(dir, "garbage.arrow");
  writeFileSync(garbage, "this is not arrow\n");
  const cases: [string[], number, string][] = [
    [["embed", join(dir, "missing.arrow")], 1, "embed"],
    [["embed", garbage], 1, "embed"],
    [["watch", garbage, "--port", "0"], 1, "watch"],
    [["embed", join(dir, "steps.arrow"), "--layout", "spiral"], 2, "embed"],
    [["embed"], 2, "embed"],
    [["generate", "--bogus"], 2, "generate"],
    [["generate", "--steps", "0"], 2, "generate"],
    [["generate", "--prompts", "3,x"], 2, "generate"],
    [["embed", join(dir, "steps.arrow"), "--encoder", "features"], 1, "embed"],
  ];
  for (const [argv, code, command] of cases) {
    const r = await run(argv);
    assert.is(r.code, code, `${argv.join(" ")}: ${r.stderr}`);
    oneLine(r, command);
  }
  const unknown = await run(["paint"]);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /^diffusion-life: unknown command "paint"/);
});

test("cli: the real entry in this runtime: a bad file is one line and exit code 1", () => {
  const deno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";
  const bun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  const entry = deno ? [process.execPath, "run", "-A", "cli.ts"] : bun ? [process.execPath, "cli.ts"] : [process.execPath, "bin/diffusion-life.mjs"];
  const cli = (...args: string[]) => spawnSync(entry[0], [...entry.slice(1), ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const bad = cli("embed", join(dir, "garbage.arrow"));
  assert.is(bad.status, 1);
  assert.is(bad.stdout, "");
  assert.match(bad.stderr, /^diffusion-life embed: not Arrow IPC: [^\n]*\n$/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
