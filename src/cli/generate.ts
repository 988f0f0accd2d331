/**
 * `diffusion-life generate`: the embedded default generator (MNIST digits
 * by an exact diffusion process) to a step table, as an Arrow IPC file, or
 * as an Arrow IPC stream on stdout (`-o -`, one record batch per step as it
 * is computed, for `diffusion-life watch -`).
 */
import { writeIpcStream } from "../data/ipc_stream.ts";
import { dirname } from "node:path";
import { prepareFolder, writeTable } from "../runtime/write_files.ts";
import { collectSteps } from "../sources/collect.ts";
import { mnistDiffusion, type MnistDiffusionOptions, type MnistPrompt } from "../sources/mnist_diffusion.ts";
import { type Command, type Flags, type ParsedArgs, UsageError } from "./args.ts";
import { progressBar } from "./progress.ts";

export const GENERATOR_FLAGS: Flags = {
  prompts: { type: "string", value: "<list>", help: 'digit classes and "any", comma-separated (default any,0,1,3,7)' },
  instances: { type: "string", value: "<n>", help: "instances per prompt (default 20)" },
  steps: { type: "string", value: "<n>", help: "denoising steps (default 20)" },
  guidance: { type: "string", value: "<w>", help: "classifier-free guidance scale (default 1)" },
  "digits-per-class": { type: "string", value: "<n>", help: "use only the first n MNIST digits of each class (default: all)" },
  seed: { type: "string", value: "<n>", help: "seed of the noise (default 0)" },
  model: { type: "string", value: "<name>", help: 'the denoiser: "closed-form" (exact, default) or "unet" (the shipped neural network)' },
};

/** The generator's options from the flags (the U-Net is loaded here, so a missing runtime fails before any work). */
export async function generatorOptions(args: ParsedArgs, signal?: AbortSignal): Promise<MnistDiffusionOptions> {
  const model = args.string("model") ?? "closed-form";
  if (model !== "closed-form" && model !== "unet") throw new UsageError(`--model must be "closed-form" or "unet", not "${model}"`);
  const prompts = args.string("prompts")?.split(",").map((p): MnistPrompt => {
    const t = p.trim();
    if (t === "any") return "any";
    if (!/^\d$/.test(t)) throw new UsageError(`--prompts: each prompt must be a digit 0..9 or "any", not "${t}"`);
    return Number(t);
  });
  const digits = args.string("digits-per-class");
  return {
    prompts,
    instancesPerPrompt: args.integer("instances", 20, 1),
    steps: args.integer("steps", 20, 1, 1000),
    guidance: args.number("guidance", 1, 0),
    digitsPerClass: digits === undefined ? undefined : args.integer("digits-per-class", 0, 1),
    seed: args.integer("seed", 0),
    denoiser: model === "unet" ? await (await import("../sources/digit_unet.ts")).digitUnet() : undefined,
    signal,
  };
}

export const generate: Command = {
  name: "generate",
  summary: "Run the default generator (MNIST digits by diffusion, DDIM; exact or the shipped U-Net) and write its step table.",
  positionals: "",
  flags: {
    output: { type: "string", short: "o", value: "<file>", help: 'Arrow IPC file to write (default steps.arrow); "-" streams Arrow IPC to stdout' },
    ...GENERATOR_FLAGS,
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`generate takes no positional arguments, got "${args.positionals[0]}"`);
    const options = await generatorOptions(args, io.signal);
    const output = args.string("output") ?? "steps.arrow";
    // A folder that cannot be made or written is an error now, not after the generation.
    if (output !== "-") await prepareFolder(dirname(output), "output");
    const total = options.steps ?? 20;
    const bar = progressBar("generating", io, args);
    let done = 0;
    const steps = (async function* () {
      for await (const table of mnistDiffusion(options)) {
        bar.update(++done, total);
        yield table;
      }
      bar.finish();
    })();
    if (output === "-") {
      await writeIpcStream(steps, io.stdout);
      return;
    }
    const table = await collectSteps(steps);
    await writeTable(output, table);
    await io.stdout(`${output}: ${table.numRows} rows (${done} steps)\n`);
  },
};
