/**
 * `diffusion-life geometry`: the local latent basis at every row of a step
 * table of digits (as `generate` writes it) and its readings per step — the
 * spectral centroid of the basis, the Grassmann distances within and across
 * prompts and between the bases under the prompt and under none. The
 * denoiser that made the table (`--model`, with `--guidance` and
 * `--digits-per-class` as they were) gives the basis: the closed form
 * analytically, the U-Net by finite differences of its bottleneck `h`
 * (`--method`). Writes geometry.arrow (a row per instance and step),
 * distances.arrow (per step and kind), summary.json and readings.svg (.png
 * with --png) into --out, all or none.
 */
import { OutputFiles } from "../runtime/write_files.ts";
import { pngAssets } from "../runtime/png_assets.ts";
import { svgToPng } from "../render/png.ts";
import { loadRecording } from "../sources/recording.ts";
import { throwIfAborted } from "../errors.ts";
import { readStepTable } from "../data/step_table.ts";
import type { BasisEngine } from "../geometry/local_basis.ts";
import type { JacobianMethod } from "../geometry/onnx_jacobian.ts";
import { distanceTable, geometryTable, spearman, stepGeometry } from "../geometry/readings.ts";
import { renderReadingsSvg } from "../geometry/geometry_svg.ts";
import { BrokenPipeError, type Command, type ParsedArgs, UsageError } from "./args.ts";
import { digitCondition } from "./explain.ts";
import { progressBar } from "./progress.ts";

/**
 * The basis engine of the denoiser the flags name (--model, --guidance,
 * --digits-per-class as generated; also `watch --basis`). `release` frees
 * the U-Net's session.
 */
export async function basisEngine(args: ParsedArgs, method: JacobianMethod): Promise<{ engine: BasisEngine; release: () => Promise<void> }> {
  if (args.choice("model", ["closed-form", "unet"] as const, "closed-form") === "unet") {
    const { onnxJacobian } = await import("../geometry/onnx_jacobian.ts");
    const unet = await (await import("../sources/digit_unet.ts")).digitUnet();
    return { engine: onnxJacobian(unet, { method }), release: () => unet.release() };
  }
  const { loadMnist, mnistSubset, MNIST_DIM } = await import("../sources/mnist.ts");
  const { closedFormDenoiser } = await import("../sources/closed_form.ts");
  const { closedFormJacobian } = await import("../geometry/closed_form_jacobian.ts");
  let d = await loadMnist();
  if (args.string("digits-per-class") !== undefined) d = mnistSubset(d, args.integer("digits-per-class", 0, 1));
  const denoiser = closedFormDenoiser({ images: d.images, labels: d.labels, dim: MNIST_DIM });
  return { engine: closedFormJacobian(denoiser, { guidance: args.number("guidance", 1, 0) }), release: async () => {} };
}

export const geometry: Command = {
  name: "geometry",
  summary: "The local latent basis of a step table of digits per instance and step: its frequency and tangent-space distances.",
  positionals: "<steps.arrow | ->",
  flags: {
    out: { type: "string", short: "o", value: "<dir>", help: "folder for the results (default out/geometry)" },
    model: { type: "string", value: "<name>", help: 'the denoiser that made the table: "closed-form" (default, exact) or "unet" (finite differences of h)' },
    method: { type: "string", value: "<name>", help: "the U-Net's Jacobian: full (1568 runs a basis, default), sketch (120) or bands (256)" },
    k: { type: "string", value: "<n>", help: "basis vectors per point (default 10)" },
    guidance: { type: "string", value: "<w>", help: "the guidance scale the closed form generated with (default 1)" },
    "digits-per-class": { type: "string", value: "<n>", help: "the closed form's digits per class, as generated (default: all)" },
    vectors: { type: "boolean", help: "keep the basis vectors in geometry.arrow (k×784 per row)" },
    png: { type: "boolean", help: "also write readings.png" },
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError("geometry takes one step table: a file, or - for stdin");
    const out = args.string("out") ?? "out/geometry";
    const model = args.choice("model", ["closed-form", "unet"] as const, "closed-form");
    const method = args.choice("method", ["full", "sketch", "bands"] as const, "full");
    if (model !== "unet" && args.string("method") !== undefined) throw new UsageError("--method chooses the U-Net's Jacobian; the closed form's is exact (add --model unet)");
    const k = args.integer("k", 10, 1, 784);
    const { signal } = io;
    const files = await OutputFiles.open(out);
    try {
      const report = (text: string) => io.stdout(text).catch((error) => {
        if (!(error instanceof BrokenPipeError)) throw error;
      });
      const steps = await loadRecording(args.positionals[0] === "-" ? io.stdin() : args.positionals[0], { signal });
      const shape = readStepTable(steps, { image: false }).imageShape;
      if (!shape || shape[0] !== 1 || shape[1] !== 28 || shape[2] !== 28) throw new UsageError(`geometry reads 1×28×28 digits; this table's images are ${shape?.join("×") ?? "missing"}`);
      const { engine, release } = await basisEngine(args, method);
      const bar = progressBar("geometry", io, args);
      const result = await stepGeometry(steps, {
        engine, k, condition: digitCondition, signal,
        progress: (done, total) => bar.update(done, total),
      }).finally(release);
      bar.finish();
      // The forward-only sketches have no basis vectors: their frequency is the band metric's centroid.
      const vectors = result.rows.every((r) => r.basis.vectors);
      await files.table("geometry.arrow", geometryTable(result.rows, { vectors: vectors && args.flag("vectors"), shape }));
      await files.table("distances.arrow", distanceTable(result.distances));
      const live = result.rows.filter((r) => r.rank > 0);
      const centroid = (r: { meanCentroid: number; bandCentroid: number }) => (vectors ? r.meanCentroid : r.bandCentroid);
      const stepCentroid = (s: { meanCentroid: number; meanBandCentroid: number }) => (vectors ? s.meanCentroid : s.meanBandCentroid);
      const summary = {
        engine: engine.name,
        k,
        spearmanStepCentroid: spearman(live.map((r) => r.step), live.map(centroid)),
        perStep: result.summary,
      };
      await files.write("summary.json", JSON.stringify(summary, null, 1) + "\n");
      const svg = renderReadingsSvg([{ name: engine.name, summary: result.summary }], { title: `${engine.name}: readings of the local basis per step` });
      await files.write("readings.svg", svg);
      if (args.flag("png")) await files.write("readings.png", await svgToPng(svg, await pngAssets(), { scale: 1.5 }));
      const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "—");
      for (const s of result.summary) {
        await report(`step ${s.step}: centroid ${f(stepCentroid(s))}, within ${f(s.within)}, across ${f(s.across)}, conditional ${f(s.conditional)}\n`);
      }
      await report(`Spearman(step, centroid) ${f(summary.spearmanStepCentroid)} over ${live.length} bases of ${engine.name}\n`);
      throwIfAborted(signal, "geometry");
      const written = await files.commit();
      await report(`wrote ${written.join(", ")}\n`);
    } catch (error) {
      await files.discard();
      throw error;
    }
  },
};
