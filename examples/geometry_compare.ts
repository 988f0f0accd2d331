/**
 * One readings figure for several runs of examples/geometry.ts (e.g. the
 * closed form and the U-Net):
 *
 *   node --import tsx examples/geometry_compare.ts out/geometry/closed-form out/geometry/unet-bands -o docs/geometry/readings.svg
 */
import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { renderReadingsSvg, type StepSummary } from "../mod.ts";

declare const Deno: { args: string[] } | undefined;
const argv = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const o = argv.indexOf("-o");
const out = o >= 0 ? argv[o + 1] : "readings.svg";
const dirs = argv.filter((_, i) => i !== o && i !== o + 1);
const series = [];
for (const dir of dirs) {
  const s = JSON.parse(await readFile(`${dir}/summary.json`, "utf8")) as { source: string; instancesPerPrompt: number; prompts: string[]; perStep: StepSummary[] };
  series.push({ name: `${s.source}: ${s.prompts.length} prompts × ${s.instancesPerPrompt} instances`, summary: s.perStep });
}
await writeFile(out, renderReadingsSvg(series, { title: "readings of the local latent basis per step" }));
console.error(`wrote ${out}`);
