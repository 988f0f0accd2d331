/**
 * The benchmarks: `npm run bench [case…]`. Each case prints one JSON line per
 * measurement on stdout (progress goes to stderr), so results can be piped
 * into any tool. Cases run one after another in this process, so ratios
 * between a case and its baseline are measured under the same conditions.
 */
import process from "node:process";
import { cases } from "./cases.ts";

declare const Deno: { args: string[] } | undefined;
const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const selected = cases.filter((c) => args.length === 0 || args.some((a) => c.name.includes(a)));
if (selected.length === 0) {
  console.error(`no case matches ${args.join(" ")}; cases: ${cases.map((c) => c.name).join(", ")}`);
  process.exit(2);
}
for (const c of selected) {
  console.error(`# ${c.name}`);
  for await (const result of c.run()) console.log(JSON.stringify({ case: c.name, runtime: runtime(), ...result }));
}

function runtime(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}
