/**
 * `diffusion-life embed`: a step table (Arrow IPC file or stream, or stdin)
 * to frame tables and pictures, one set per layout: `<out>/<layout>.arrow`
 * and `<layout>.svg` (and `.png` with --png) for each layout (radial,
 * rectilinear, any registered or loaded from a module: see ./layouts.ts);
 * for the lineage tree `tree-nodes.arrow`, `tree-links.arrow`, `tree.svg`
 * and `tree-branches.json` (the branch points, also summarised on stdout).
 */
import { embedSteps } from "../embed/run/batch.ts";
import { OutputFiles } from "../runtime/write_files.ts";
import { pngAssets } from "../runtime/png_assets.ts";
import { type BranchPoint, lineageTree } from "../lineage/lineage.ts";
import { renderLineageSvg } from "../lineage/lineage_svg.ts";
import { MAX_PNG_SIDE, svgToPng } from "../render/png.ts";
import { renderSvg } from "../render/svg.ts";
import { loadRecording } from "../sources/recording.ts";
import { throwIfAborted } from "../errors.ts";
import { BrokenPipeError, type Command, type Flags, UsageError } from "./args.ts";
import { applyEncoders, chooseEncoders, ENCODER_FLAGS } from "./encoding.ts";
import { chooseLayouts, knownLayoutNames } from "./layouts.ts";
import { progressBar } from "./progress.ts";
import { SPEC_FLAGS, specFlag, specRunOptions } from "./spec_flag.ts";

export const LAYOUT_FLAGS: Flags = {
  layout: {
    type: "string",
    short: "l",
    value: "<names>",
    help: `${knownLayoutNames()}, or a module whose default export is a Layout (./my_layout.ts); several comma-separated (default radial)`,
  },
  threshold: { type: "string", value: "<h>", help: "tree: cut height in units of the last step's median distance (default 1.5)" },
  "tree-shape": { type: "string", value: "<shape>", help: "tree: radial (default) or rectilinear" },
};

/** One line per branch point: "step 4: digit 0 (20) → 11 digit 0 | 9 digit 0, any digit". */
export function describeBranch(b: BranchPoint): string {
  return `step ${b.step}: ${b.prompts.join(", ")} → ${b.branches.map((x) => `${x.size} ${x.prompts.join(", ")}`).join(" | ")}`;
}

export const embed: Command = {
  name: "embed",
  summary: "Embed a step table (a file, or - for stdin) and write frame tables and pictures for each layout.",
  positionals: "<steps.arrow | ->",
  flags: {
    out: { type: "string", short: "o", value: "<dir>", help: "folder for the results (default out)" },
    ...LAYOUT_FLAGS,
    ...ENCODER_FLAGS,
    ...SPEC_FLAGS,
    iterations: { type: "string", value: "<n>", help: "gradient-descent iterations (default 1000)" },
    seed: { type: "string", value: "<n>", help: "seed of the embedding (default 0)" },
    png: { type: "boolean", help: "also write PNG pictures" },
    scale: { type: "string", value: "<k>", help: "PNG pixels per SVG pixel (default 2)" },
    width: { type: "string", value: "<px>", help: "width of the pictures (default 900)" },
  },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError("embed takes one step table: a file, or - for stdin");
    const spec = await specFlag(args);
    const layouts = await chooseLayouts(args.string("layout") ?? spec?.layout.type ?? "radial");
    const out = args.string("out") ?? "out";
    const iterations = args.integer("iterations", 1000, 1);
    const seed = args.integer("seed", 0);
    const width = args.number("width", 900, 1);
    const scale = args.number("scale", 2, 0.01);
    const threshold = args.number("threshold", 1.5, 0);
    const shape = args.choice("tree-shape", ["radial", "rectilinear"] as const, "radial");
    if (args.flag("png") && width * scale > MAX_PNG_SIDE) {
      throw new UsageError(`--scale ${scale} with --width ${width} makes pictures ${Math.ceil(width * scale)} px wide; PNGs are at most ${MAX_PNG_SIDE} px a side`);
    }
    const { signal } = io;
    const [input] = args.positionals;
    // The folder is made and checked before any work; outputs are staged there and renamed into place at the end.
    const files = await OutputFiles.open(out);
    try {
      // The report on stdout may be cut short (`| head -1`); the files are the output, and are all written.
      const report = (text: string) => io.stdout(text).catch((error) => {
        if (!(error instanceof BrokenPipeError)) throw error;
      });
      // Between phases: let a signal be heard, and stop when it was.
      const checkpoint = async (what: string) => {
        await new Promise((resolve) => setTimeout(resolve, 0));
        throwIfAborted(signal, what);
      };
      const steps = await loadRecording(input === "-" ? io.stdin() : input, { signal });
      await checkpoint("embed");
      const encoders = await chooseEncoders(args, (text) => io.stderr(`diffusion-life embed: ${text}`));
      const encodeBar = progressBar("encoding", io, args);
      const encoded = await applyEncoders(steps, encoders, { signal, onProgress: (d, t) => encodeBar.update(d, t) });
      encodeBar.finish();

      const picture = async (name: string, svg: string) => {
        await files.write(`${name}.svg`, svg);
        if (args.flag("png")) {
          await checkpoint("embed");
          await files.write(`${name}.png`, await svgToPng(svg, await pngAssets(), { scale }));
        }
      };
      for (const layout of layouts) {
        await checkpoint("embed");
        if (layout === "tree") {
          const tree = lineageTree(encoded, { threshold, shape, seed });
          await files.table("tree-nodes.arrow", tree.nodes);
          await files.table("tree-links.arrow", tree.links);
          await files.write("tree-branches.json", JSON.stringify(tree.branchPoints, null, 2) + "\n");
          await picture("tree", renderLineageSvg(tree, { width }));
          await report(`tree: ${tree.nodes.numRows} nodes, ${tree.branchPoints.length} branch points\n`);
          for (const b of tree.branchPoints) await report(`  ${describeBranch(b)}\n`);
          continue;
        }
        const { name } = layout;
        const bar = progressBar(`embedding (${name})`, io, args);
        const result = await embedSteps(encoded, {
          ...(spec ? specRunOptions(spec, layout) : { layout, iterations, seed }),
          signal,
          onProgress: ({ phase, done, total }) => phase === "optimize" && bar.update(done, total),
        });
        bar.finish();
        await files.table(`${name}.arrow`, result.frame);
        await picture(name, renderSvg(result.frame, { width }));
        const q = result.quality;
        await report(
          `${name}: trustworthiness ${q.meanTrustworthiness.toFixed(3)}, alignment ratio ${q.alignmentRatio.toFixed(3)}\n`,
        );
      }
      await checkpoint("embed");
      const written = await files.commit();
      await report(`wrote ${written.join(", ")}\n`);
    } catch (error) {
      await files.discard(); // a failed or interrupted run leaves the previous outputs as they were
      throw error;
    }
  },
};
