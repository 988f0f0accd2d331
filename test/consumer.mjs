// The consumer test: what someone who depends on the package gets (issue 12).
//
// In a temporary folder: `npm pack` (which builds dist/ through `prepare`), then
// the tarball installed into two apps — the core alone, and with every optional
// peer — from where it runs, under plain node, deno and bun, a small embedding
// (workers included) and the typed error of each optional package the core app
// lacks; the digit encoder and PNG export; every TypeScript block of README.md
// (each a copy of an examples/readme_*.ts file, importing "diffusion-life" by
// name); a strict tsc of a consumer file and of those blocks; and the command
// through `npx diffusion-life` (--help, --version, generate). In the
// repository: `deno check` of every entry and `deno publish --dry-run`.
//
// Prints a line per check, the install sizes, and "N passed, N failed" last.
// Installs prefer npm's cache (--prefer-offline). Run alone:
//   node test/consumer.mjs            (or node scripts/test.mjs consumer)
// KEEP=1 keeps the temporary folder.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name) => join(root, "node_modules", ".bin", name);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const ENTRIES = ["mod.ts", "onnx.ts", "mnist.ts", "png.ts", "viewer.ts", "nats.ts", "cli.ts"];
/** Modules only workers load (no entry imports them), checked with the entries. */
const WORKERS = ["src/embed/losses/semantic_worker.ts", "src/embed/affinity/affinity_worker.ts"];
const RUNTIMES = {
  node: (file) => [process.execPath, file.replace(/\.ts$/, ".mjs")],
  deno: (file) => [bin("deno"), "run", "-A", "--quiet", file],
  bun: (file) => [bin("bun"), file],
};

const tmp = mkdtempSync(join(tmpdir(), "diffusion-life-consumer-"));
let passed = 0, failed = 0;
const notes = [];

/** Runs a command; resolves to its stdout, or throws with its output when it fails. */
function sh(cmd, args, { cwd = tmp, input, timeout = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd, timeout, stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", npm_config_update_notifier: "false" },
    });
    let stdout = "", stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d) => (stderr += d));
    child.stdin?.on("error", () => {}).end(input);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve(stdout);
      const out = `${stdout}${stderr}`.trim().split("\n").slice(-15).join("\n");
      reject(new Error(`${[cmd, ...args].join(" ")} exited ${code ?? signal}\n${out}`));
    });
  });
}

/** At most this many checks' commands at once (the machine's threads, 2 to 4). */
const slots = Math.min(4, Math.max(2, availableParallelism()));
let running = 0;
const waiting = [];

async function check(name, fn) {
  while (running >= slots) await new Promise((resolve) => waiting.push(resolve));
  running++;
  const t0 = performance.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (error) {
    failed++;
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : error}`);
    return false;
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** The last line of a program's output, as JSON. */
const lastJson = (out) => JSON.parse(out.trim().split("\n").at(-1));

async function app(name, packages) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, type: "module" }));
  await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...packages], { cwd: dir });
  return dir;
}

async function size(dir) {
  return (await sh("du", ["-sh", dir])).split("\t")[0];
}

/** The package's command in an app, as a user runs it (`--no`: never fetched from the registry). */
const npx = (dir, ...args) => sh("npx", ["--no", "--", "diffusion-life", ...args], { cwd: dir });
const tsc = (dir) => sh(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: dir });
/** Checks of one file in every runtime, at once. */
const everyRuntime = (name, file, cwd, test, input) =>
  Promise.all(Object.entries(RUNTIMES).map(([runtime, command]) =>
    check(`${runtime}: ${name}`, async () => {
      const [cmd, ...args] = command(file);
      test(await sh(cmd, args, { cwd, input }));
    })
  ));

// The npm package, and JSR's checks in the repository meanwhile.
await Promise.all([npmPackage(), jsr()]);

if (process.env.KEEP) console.log(`kept ${tmp}`);
else rmSync(tmp, { recursive: true, force: true });
console.log(notes.join("; "));
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;

async function npmPackage() {
  let tarball;
  const packed = await check("npm pack (prepare builds dist/)", async () => {
    const out = await sh("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: root });
    // Lifecycle output comes first; the JSON report starts at a line of its own.
    const [report] = JSON.parse(out.slice(out.search(/^\[/m)));
    tarball = join(tmp, report.filename);
    const files = report.files.map((f) => f.path);
    for (const want of ["LICENSE", "README.md", "package.json", "bin/diffusion-life.mjs", "dist/mod.js", "dist/mod.d.ts", "dist/cli.js",
      "dist/models/digit-encoder.onnx", "dist/src/runtime/node_boot.mjs", "dist/src/viewer/index.html", "dist/src/sources/mnist_digits.js"]) {
      assert(files.includes(want), `the tarball lacks ${want}`);
    }
    const stray = files.filter((f) => !/^(dist|bin)\/|^(LICENSE|README\.md|package\.json)$/.test(f));
    assert(stray.length === 0, `the tarball holds files it should not: ${stray.slice(0, 5).join(", ")}`);
    notes.push(`tarball ${(report.size / 1e3).toFixed(0)} kB (${files.length} files, ${(report.unpackedSize / 1e6).toFixed(1)} MB unpacked)`);
  });
  if (!packed) return;
  // One install at a time: npm's cache does not like two.
  let core, full;
  await check("install the core (no optional peers)", async () => {
    core = await app("core", [tarball]);
    for (const peer of Object.keys(pkg.peerDependencies)) assert(!existsSync(join(core, "node_modules", peer)), `${peer} was installed`);
    notes.push(`install, core: ${await size(join(core, "node_modules"))}`);
  });
  await check("install with every optional peer", async () => {
    full = await app("full", [tarball, ...Object.entries(pkg.peerDependencies).map(([name, range]) => `${name}@${range}`)]);
    notes.push(`install, full: ${await size(join(full, "node_modules"))}`);
  });
  await Promise.all([core && coreApp(core), full && fullApp(full)]);
}

/** The core alone: an embedding, the typed errors, the command, a strict tsc. */
async function coreApp(core) {
  copyFileSync(join(root, "test", "consumer_app.mjs"), join(core, "app.mjs"));
  writeFileSync(join(core, "check.ts"), 'import { embedSteps, radial, type StepTable } from "diffusion-life";\n' +
    "export const embed = (t: StepTable) => embedSteps(t, { layout: radial() });\n");
  writeFileSync(join(core, "tsconfig.json"), JSON.stringify(tsconfig(["check.ts"])));
  await Promise.all([
    everyRuntime("embedding (worker threads), typed errors of the missing optional packages", "app.mjs", core, (out) => {
      const result = lastJson(out);
      assert(result.rows === 216 && result.trustworthiness > 0.5 && result.svg > 1000, `unexpected result ${JSON.stringify(result)}`);
      const want = { onnx: "onnx-proto", mnist: "mnist", png: "@resvg/resvg-wasm" };
      assert(JSON.stringify(result.missing) === JSON.stringify(want), `missing packages: ${JSON.stringify(result.missing)}`);
    }),
    check("npx diffusion-life --help, --version (core)", async () => {
      assert((await npx(core, "--help")).includes("Usage: diffusion-life"), "no usage");
      assert((await npx(core, "--version")).trim() === pkg.version, "wrong version");
    }),
    check("tsc --strict, core entry only", () => tsc(core)),
  ]);
}

/** Every optional peer: MNIST, the digit encoder, PNG, the README blocks, a strict tsc of every entry. */
async function fullApp(full) {
  copyFileSync(join(root, "test", "consumer_full.mjs"), join(full, "full.mjs"));
  const blocks = readmeBlocks();
  for (const file of blocks) {
    copyFileSync(join(root, "examples", file), join(full, file));
    copyFileSync(join(root, "examples", file), join(full, file.replace(/\.ts$/, ".mjs")));
  }
  copyFileSync(join(root, "test", "consumer_types.ts"), join(full, "consumer_types.ts"));
  writeFileSync(join(full, "tsconfig.json"), JSON.stringify(tsconfig(["consumer_types.ts", ...blocks])));
  await Promise.all([
    check("tsc --strict, every entry and the README blocks", () => tsc(full)),
    everyRuntime("MNIST, shipped digit encoder, PNG export", "full.mjs", full, (out) => {
      const result = lastJson(out);
      assert(result.rows === 100 && result.encoder === "digits:embedding" && result.png === "PNG", `unexpected result ${JSON.stringify(result)}`);
    }),
    (async () => {
      // A recording for the README's recording block (it reads stdin), made by the command.
      await check("npx diffusion-life generate", () => npx(full, "generate", "-o", "steps.arrow", "--prompts", "3,7", "--instances", "5", "--steps", "4"));
      const recording = existsSync(join(full, "steps.arrow")) ? readFileSync(join(full, "steps.arrow")) : undefined;
      for (const file of blocks) await everyRuntime(`README block examples/${file}`, file, full, () => {}, recording);
    })(),
  ]);
}

/** In the repository: the versions, deno check of every entry, deno publish --dry-run. */
async function jsr() {
  await check("versions agree (package.json, deno.json, src/version.ts)", () => {
    const deno = JSON.parse(readFileSync(join(root, "deno.json"), "utf8"));
    const source = /VERSION: string = "([^"]+)"/.exec(readFileSync(join(root, "src", "version.ts"), "utf8"))?.[1];
    assert(deno.version === pkg.version && source === pkg.version, `package.json ${pkg.version}, deno.json ${deno.version}, src/version.ts ${source}`);
  });
  await check("deno check of every entry (and worker)", () => sh(bin("deno"), ["check", "--quiet", ...ENTRIES, ...WORKERS], { cwd: root }));
  await check("deno publish --dry-run", () => sh(bin("deno"), ["publish", "--dry-run", "--allow-dirty", "--quiet"], { cwd: root }));
}

/** A user's strict settings: no skipLibCheck, Node's module resolution, nothing else. */
function tsconfig(files) {
  return { compilerOptions: { strict: true, noEmit: true, target: "es2022", module: "nodenext", moduleResolution: "nodenext" }, files };
}

/**
 * The README's TypeScript blocks, each of which must be the whole of one
 * examples/readme_*.ts file (and each such file a block): the files are what runs.
 */
function readmeBlocks() {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const files = readdirSync(join(root, "examples")).filter((f) => /^readme_.*\.ts$/.test(f)).sort();
  const texts = new Map(files.map((f) => [f, readFileSync(join(root, "examples", f), "utf8")]));
  const orphans = blocks.filter((b) => ![...texts.values()].includes(b));
  const unused = files.filter((f) => !blocks.includes(texts.get(f)));
  const problem = [
    orphans.length ? `README blocks that are no examples/readme_*.ts file:\n${orphans.map((b) => b.split("\n")[0]).join("\n")}` : "",
    unused.length ? `examples not in the README: ${unused.join(", ")}` : "",
  ].filter(Boolean).join("\n");
  void check("README: every ts block is an examples/readme_*.ts file, and every such file a block", () => assert(!problem, problem));
  return files.filter((f) => blocks.includes(texts.get(f)));
}
