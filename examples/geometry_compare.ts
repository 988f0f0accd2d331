/**
 * Several runs of examples/geometry.ts (e.g. the closed form and the U-Net)
 * side by side: one readings figure, and the findings as a Markdown table
 * keyed by timestep (on stdout).
 *
 *   node --import tsx examples/geometry_compare.ts out/geometry/closed-form out/geometry/unet-full out/geometry/unet-bands -o docs/geometry/readings.svg
 */
import { readFile, writeFile } from "node:fs/promises";
import process from "node:process";
import { renderReadingsSvg, type StepSummary } from "../mod.ts";

declare const Deno: { args: string[] } | undefined;
const argv = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const o = argv.indexOf("-o");
const out = o >= 0 ? argv[o + 1] : "readings.svg";
const dirs = argv.filter((_, i) => i !== o && i !== o + 1);

interface Summary {
  source: string;
  instancesPerPrompt: number;
  prompts: string[];
  steps: number;
  msPerBasis: number;
  spearmanStepCentroid: { rows: number | null; stepMeans: number | null; bandMetricRows: number | null };
  perStep: StepSummary[];
}
const runs: Summary[] = [];
for (const dir of dirs) runs.push(JSON.parse(await readFile(`${dir}/summary.json`, "utf8")) as Summary);
const name = (s: Summary) => `${s.source}: ${s.prompts.length} prompts × ${s.instancesPerPrompt} × ${s.steps} steps`;
// Runs of fewer steps are drawn at the step of the longest run with the same timestep (DDIM's
// 10 timesteps are every other of its 20), so that one x position is one noise level.
const longest = runs.reduce((a, b) => (b.steps > a.steps ? b : a));
const stepAt = new Map(longest.perStep.map((r) => [r.timestep, r.step]));
const aligned = (s: Summary) => s.perStep.map((r) => ({ ...r, step: stepAt.get(r.timestep) ?? (r.step * (longest.steps - 1)) / Math.max(1, s.steps - 1) }));
await writeFile(out, renderReadingsSvg(runs.map((s) => ({ name: name(s), summary: aligned(s) })), { title: `readings of the local latent basis per step (of ${longest.steps})` }));
console.error(`wrote ${out}`);

// The table: a row per timestep, per run its centroid (basis vectors, else band metric), within, conditional.
const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(d));
const timesteps = [...new Set(runs.flatMap((s) => s.perStep.map((r) => r.timestep)))].sort((a, b) => b - a);
const header = ["t", ...runs.flatMap((s) => [`${s.source} centroid`, "within", "across", "cond.", ...(s.source.startsWith("closed") ? ["ESS"] : [])])];
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const t of timesteps) {
  const cells = [String(t)];
  for (const s of runs) {
    const r = s.perStep.find((q) => q.timestep === t);
    const centroid = r ? (Number.isFinite(r.meanCentroid ?? NaN) && r.meanCentroid !== null ? r.meanCentroid : r.meanBandCentroid) : null;
    cells.push(f(centroid), f(r?.within), f(r?.across), f(r?.conditional));
    if (s.source.startsWith("closed")) cells.push(f(r?.meanEss, 1));
  }
  console.log(`| ${cells.join(" | ")} |`);
}
for (const s of runs) console.log(`\n${name(s)}: Spearman(step, centroid) over rows ${f(s.spearmanStepCentroid.rows)}, over step means ${f(s.spearmanStepCentroid.stepMeans)}, band-metric centroid over rows ${f(s.spearmanStepCentroid.bandMetricRows)}; ${s.msPerBasis} ms per basis`);
