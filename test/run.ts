/**
 * Runs the given uvu test files in one process of whichever runtime runs
 * this file (Node through tsx, Deno, Bun), the way uvu's own CLI does, which
 * is Node-only.
 */
import process from "node:process";

declare const Deno: { args: string[] } | undefined;
const files = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);

const g = globalThis as { UVU_DEFER?: number; UVU_QUEUE?: unknown[][]; UVU_INDEX?: number };
g.UVU_DEFER = 1; // must be set before uvu loads, so suites queue instead of running
g.UVU_QUEUE = [];
const { exec } = await import("uvu");
for (const [index, file] of files.entries()) {
  g.UVU_INDEX = index;
  g.UVU_QUEUE.push([file]);
  await import(new URL(file, `file://${process.cwd()}/`).href);
}
await exec();
