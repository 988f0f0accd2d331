// The test command: type check, then the uvu suites under Node, Deno and Bun
// (installing Debian's chromium and nats-server first when they are missing),
// then, once, the consumer stage (test/consumer.mjs: the packed package
// installed into temporary apps, under all three runtimes; deno check and
// deno publish --dry-run). Ends with one line "N passed, N failed" summed over
// every stage. Arguments pick test files by name; "consumer" alone runs only
// the consumer stage.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";

const only = process.argv.slice(2);
const consumerOnly = only.length === 1 && only[0] === "consumer";
const consumer = only.length === 0 || only.includes("consumer");
const files = readdirSync("test").filter((f) => f.endsWith(".test.ts")).sort()
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .map((f) => `test/${f}`);
const bin = (name) => `node_modules/.bin/${name}`;
const runtimes = [
  ["node", [process.execPath, "--import", "tsx", "test/run.ts", ...files]],
  ["deno", [bin("deno"), "run", "-A", "--quiet", "test/run.ts", ...files]],
  ["bun", [bin("bun"), "test/run.ts", ...files]],
];

let passed = 0, failed = 0;
const summary = [];

// Debian packages the tests drive, installed on a fresh machine (as root, with apt): chromium for
// the browser test, nats-server for the JetStream tests (which start and stop it themselves).
const missing = [
  ["chromium", ["/usr/bin/chromium", "/usr/bin/chromium-browser"]],
  ["nats-server", ["/usr/sbin/nats-server", "/usr/bin/nats-server"]],
].filter(([, paths]) => !paths.some((p) => existsSync(p))).map(([name]) => name);
if (!consumerOnly && missing.length > 0 && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
  console.log(`== installing ${missing.join(", ")} (apt-get) for the browser and JetStream tests`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  spawnSync("apt-get", ["update"], { stdio: "inherit", env });
  spawnSync("apt-get", ["install", "-y", ...missing], { stdio: "inherit", env });
}

if (!consumerOnly) {
  console.log("== type check (tsc --noEmit)");
  const tsc = spawnSync(bin("tsc"), ["--noEmit", "-p", "."], { stdio: "inherit" });
  if (tsc.status === 0) passed++; else failed++;
  summary.push(`type check: ${tsc.status === 0 ? "ok" : "FAILED"}`);
}

for (const [name, [cmd, ...args]] of consumerOnly ? [] : runtimes) {
  console.log(`\n== ${name}`);
  const run = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" }, maxBuffer: 1 << 28 });
  process.stdout.write(run.stdout ?? "");
  process.stderr.write(run.stderr ?? "");
  const total = Number(/Total:\s+(\d+)/.exec(run.stdout ?? "")?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(run.stdout ?? "")?.[1] ?? 0);
  // A crash before uvu's summary counts as one failure of that runtime.
  const crashed = run.status !== 0 && total === ok ? 1 : 0;
  passed += ok;
  failed += total - ok + crashed;
  summary.push(`${name}: ${ok}/${total} passed${crashed ? " (exited " + run.status + ")" : ""}`);
}

if (consumer) {
  console.log("\n== consumer (the packed package in temporary apps; JSR checks)");
  const run = spawnSync(process.execPath, ["test/consumer.mjs"], { encoding: "utf8", maxBuffer: 1 << 26 });
  process.stdout.write(run.stdout ?? "");
  process.stderr.write(run.stderr ?? "");
  const [, ok = "0", bad = "0"] = /(\d+) passed, (\d+) failed\s*$/.exec(run.stdout ?? "") ?? [];
  // A crash before its summary counts as one failure.
  const crashed = run.status !== 0 && Number(bad) === 0 ? 1 : 0;
  passed += Number(ok);
  failed += Number(bad) + crashed;
  summary.push(`consumer: ${ok}/${Number(ok) + Number(bad)} passed${crashed ? " (exited " + run.status + ")" : ""}`);
}

console.log("\n" + summary.join("; "));
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
