/**
 * `diffusion-life explain`: the explanations of a step table of digits (as
 * `generate` writes it): when each generation commits to its class (the
 * digit encoder's logits on x̂0), the denoising level per step, concept
 * directions (digit-encoder features) and the unconditional prompt's bias
 * (χ² against the digits' class frequencies), and DF-RISE saliency with
 * insertion/deletion for chosen instances and steps — for which the
 * denoiser runs again on each row's x_t (`--model`, the one that generated
 * the table; `--guidance` as it was). Writes commitment.arrow,
 * commitment-steps.arrow, level.arrow, concepts.arrow, saliency.arrow,
 * summary.json and commitment.svg, tree.svg (the lineage tree of the
 * digit-encoder features, each node marked by the share of its instances
 * committed), level.svg, concepts.svg, saliency.svg, auc.svg (and .png with
 * --png) into --out.
 */
import { OutputFiles } from "../runtime/write_files.ts";
import { pngAssets } from "../runtime/png_assets.ts";
import { svgToPng } from "../render/png.ts";
import { loadRecording } from "../sources/recording.ts";
import { throwIfAborted } from "../errors.ts";
import { readStepTable } from "../data/step_table.ts";
import type { Denoiser } from "../sources/denoiser.ts";
import { encodeTable } from "../encoders/encode_table.ts";
import { classBias } from "../explain/bias.ts";
import { commitment } from "../explain/commitment.ts";
import { concepts } from "../explain/concepts.ts";
import { denoisingLevel } from "../explain/level.ts";
import { explainSaliency, type Saliencies } from "../explain/saliency.ts";
import { commitmentStepTable, commitmentTable, conceptTable, levelTable, saliencyTable } from "../explain/explain_tables.ts";
import { renderAucSvg, renderCommitmentSvg, renderConceptSvg, renderLevelSvg, renderSaliencySvg } from "../explain/explain_svg.ts";
import { lineageTree } from "../lineage/lineage.ts";
import { renderLineageSvg } from "../lineage/lineage_svg.ts";
import { BrokenPipeError, type Command, type ParsedArgs, UsageError } from "./args.ts";
import { progressBar } from "./progress.ts";

/** "any digit" → −1, "digit 3" → 3: the conditions of `generate`'s prompts. */
export function digitCondition(prompt: string): number {
  if (prompt === "any digit") return -1;
  const m = /^digit (\d)$/.exec(prompt);
  if (!m) throw new UsageError(`the prompt "${prompt}" is not one of generate's ("any digit", "digit 0" … "digit 9"): its condition is unknown`);
  return Number(m[1]);
}

const list = (args: ParsedArgs, name: string): number[] | undefined =>
  args.string(name)?.split(",").map((v) => {
    if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${name} must be comma-separated integers ≥ 0, not "${args.string(name)}"`);
    return Number(v);
  });

export const explain: Command = {
  name: "explain",
  summary: "Explain a step table of digits: commitment, denoising level, concepts and bias, DF-RISE saliency with insertion/deletion.",
  positionals: "<steps.arrow | ->",
  flags: {
    out: { type: "string", short: "o", value: "<dir>", help: "folder for the results (default out/explain)" },
    model: { type: "string", value: "<name>", help: 'the denoiser that made the table: "closed-form" (default) or "unet"' },
    guidance: { type: "string", value: "<w>", help: "the guidance scale it was generated with (default 1)" },
    masks: { type: "string", value: "<n>", help: "DF-RISE masks per explained row (default 500; 0: no saliency)" },
    "mask-kind": { type: "string", value: "<kind>", help: "pixel (per-pixel Bernoulli, default) or grid (RISE's upsampled grid)" },
    "saliency-steps": { type: "string", value: "<list>", help: "steps to explain (default: 5 spread over the run)" },
    "saliency-instances": { type: "string", value: "<list>", help: "instances to explain (default: the first of each prompt)" },
    png: { type: "boolean", help: "also write PNG pictures" },
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError("explain takes one step table: a file, or - for stdin");
    const out = args.string("out") ?? "out/explain";
    const model = args.choice("model", ["closed-form", "unet"] as const, "closed-form");
    const guidance = args.number("guidance", 1, 0);
    const masks = args.integer("masks", 500, 0);
    const maskKind = args.choice("mask-kind", ["pixel", "grid"] as const, "pixel");
    const { signal } = io;
    const files = await OutputFiles.open(out);
    try {
      const report = (text: string) => io.stdout(text).catch((error) => {
        if (!(error instanceof BrokenPipeError)) throw error;
      });
      const steps = await loadRecording(args.positionals[0] === "-" ? io.stdin() : args.positionals[0], { signal });
      const cols = readStepTable(steps, { image: true });
      const shape = cols.imageShape!;
      if (shape[0] !== 1 || shape[1] !== 28 || shape[2] !== 28) throw new UsageError(`explain reads 1×28×28 digits; this table's images are ${shape.join("×")}`);
      const { digitEncoder } = await import("../encoders/digit.ts");
      const classifier = await digitEncoder({ output: "logits" });
      const c = await commitment(steps, { classifier, signal });
      throwIfAborted(signal, "explain");
      const level = denoisingLevel(steps, { commitment: c });
      const features = await encodeTable(steps, await digitEncoder({ output: "embedding" }), { signal });
      const baseline = cols.prompts.includes("any digit") ? "any digit" : undefined;
      const k = concepts(features, { baseline, commitment: baseline ? c : undefined });
      const bias = [];
      if (baseline) {
        const { loadMnist } = await import("../sources/mnist.ts");
        const counts = new Array(10).fill(0);
        for (const l of (await loadMnist()).labels) counts[l]++;
        bias.push(classBias(c, baseline, counts));
      }
      const stepList = [...new Set(cols.step)].sort((a, b) => a - b);
      let saliency: Saliencies | undefined;
      if (masks > 0) {
        const chosenSteps = list(args, "saliency-steps") ?? [...new Set([0, 0.25, 0.5, 0.75, 1].map((f) => stepList[Math.round(f * (stepList.length - 1))]))];
        const firsts = cols.prompts.map((_, p) => Math.min(...[...cols.instance].filter((_, r) => cols.prompt[r] === p)));
        const denoiser: Denoiser = model === "unet"
          ? await (await import("../sources/digit_unet.ts")).digitUnet()
          : await (async () => {
            const { loadMnist, MNIST_DIM } = await import("../sources/mnist.ts");
            const { closedFormDenoiser } = await import("../sources/closed_form.ts");
            const d = await loadMnist();
            return closedFormDenoiser({ images: d.images, labels: d.labels, dim: MNIST_DIM });
          })();
        const bar = progressBar("saliency", io, args);
        saliency = await explainSaliency(steps, {
          denoiser, condition: digitCondition, guidance, masks, maskKind, signal,
          steps: chosenSteps, instances: list(args, "saliency-instances") ?? firsts.filter(Number.isFinite),
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.finish();
      }
      await files.table("commitment.arrow", commitmentTable(c));
      await files.table("commitment-steps.arrow", commitmentStepTable(c, bias));
      await files.table("level.arrow", levelTable(level));
      await files.table("concepts.arrow", conceptTable(k));
      const emergence = concepts(features, { baseline, commitment: baseline ? c : undefined, direction: "final" });
      const figures: [string, string][] = [
        ["commitment", renderCommitmentSvg(c)],
        ["tree", renderLineageSvg(lineageTree(features), { commitment: c, title: "Lineage tree: each node filled by the share of its instances committed to their final class" })],
        ["level", renderLevelSvg(level)],
        ["concepts", renderConceptSvg(emergence)],
      ];
      if (saliency) {
        await files.table("saliency.arrow", saliencyTable(saliency));
        const last = stepList[stepList.length - 1], dim = 784;
        const finals = new Map([...cols.instance.keys()].filter((r) => cols.step[r] === last).map((r) => [cols.instance[r], cols.image!.subarray(r * dim, (r + 1) * dim)]));
        figures.push(["saliency", renderSaliencySvg(saliency, { finals })], ["auc", renderAucSvg({ [model]: saliency.perStep })]);
      }
      for (const [name, svg] of figures) {
        throwIfAborted(signal, "explain");
        await files.write(`${name}.svg`, svg);
        if (args.flag("png")) await files.write(`${name}.png`, await svgToPng(svg, await pngAssets(), { scale: 1.5 }));
      }
      const summary = {
        commitment: c.distributions.map((d) => ({ prompt: d.prompt || "all", mean: d.mean, median: d.median, counts: Array.from(d.counts) })),
        bias: bias.map((b) => ({ prompt: b.prompt, counts: Array.from(b.counts), chiSquare: b.chiSquare, df: b.df, p: b.p })),
        saliency: saliency?.perStep,
        masksPerSecond: saliency?.masksPerSecond,
      };
      await files.write("summary.json", JSON.stringify(summary, null, 1) + "\n");
      for (const d of c.distributions) await report(`commitment ${d.prompt || "all prompts"}: median step ${d.median}, mean ${d.mean.toFixed(2)}\n`);
      for (const b of bias) await report(`bias ${b.prompt}: χ² ${b.chiSquare.toFixed(2)}, df ${b.df}, p ${b.p.toPrecision(3)}\n`);
      for (const s of saliency?.perStep ?? []) {
        await report(`step ${s.step}: insertion AUC ${s.insertionAuc.toFixed(3)} (random ${s.randomInsertionAuc.toFixed(3)}), deletion AUC ${s.deletionAuc.toFixed(3)} (random ${s.randomDeletionAuc.toFixed(3)})\n`);
      }
      throwIfAborted(signal, "explain");
      const written = await files.commit();
      await report(`wrote ${written.join(", ")}\n`);
    } catch (error) {
      await files.discard();
      throw error;
    }
  },
};
