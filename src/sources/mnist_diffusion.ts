/**
 * The embedded default generator: a real diffusion process over the MNIST
 * digits of the `mnist` package with the exact (closed-form) denoiser; a
 * thin configuration of the generic sampler (DDIM by default, any scheduler).
 *
 * Each step yields a step table with one row per instance: `instance`,
 * `prompt` ("any digit" or "digit 3"), `step` (0 = noisiest), `timestep` (the
 * scheduler's t), `image` = the predicted clean image x̂0 in [0, 1] and
 * `noisy` = x_t on the same scale, shape [1, 28, 28]. Everything is
 * reproducible from `seed`.
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import type { StepTable } from "../data/step_table.ts";
import { closedFormDenoiser } from "./closed_form.ts";
import type { Denoiser } from "./denoiser.ts";
import { collectSteps } from "./collect.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "./mnist.ts";
import { planSampler, runSampler, type SamplerOptions } from "./sampler.ts";
import type { StepSource } from "./source.ts";

export type MnistPrompt = number | "any";

export interface MnistDiffusionOptions extends Omit<SamplerOptions, "prompts" | "range" | "imageShape"> {
  /** Digit classes 0..9, or "any" for unconditional (default ["any", 0, 1, 3, 7]). */
  prompts?: MnistPrompt[];
  /** Instances (seeds) per prompt (default 20). */
  instancesPerPrompt?: number;
  /** Use only the first n digits of each class (default: all, about 1,000 each). */
  digitsPerClass?: number;
  /**
   * The denoiser (default: the exact closed form over the digits). Any
   * denoiser of 28×28 digits on the [−1, 1] scale whose conditions are the
   * classes 0..9 (−1 unconditional) fits, such as the shipped U-Net
   * (`digitUnet()` from diffusion-life/onnx); the digits are then not loaded.
   */
  denoiser?: Denoiser;
}

export const DEFAULT_MNIST_PROMPTS: readonly MnistPrompt[] = ["any", 0, 1, 3, 7];

/** The prompt label used in the step table: "any digit" or "digit 3". */
export function mnistPromptLabel(prompt: MnistPrompt): string {
  return prompt === "any" ? "any digit" : `digit ${prompt}`;
}

/**
 * Generates MNIST digits by diffusion, yielding one step table per denoising
 * step (all instances, steps in order 0..steps−1). Options are checked at the
 * call (OptionError); an aborted signal stops it between steps (CancelledError).
 */
export function mnistDiffusion(options: MnistDiffusionOptions = {}): StepSource {
  const prompts = options.prompts ?? [...DEFAULT_MNIST_PROMPTS];
  if (!Array.isArray(prompts) || prompts.length === 0) throw new OptionError("prompts", "must be a non-empty array");
  const seen = new Set<MnistPrompt>();
  for (const p of prompts) {
    if (p !== "any" && !(Number.isInteger(p) && p >= 0 && p <= 9)) {
      throw new OptionError("prompts", `each prompt must be a digit 0..9 or "any", not ${JSON.stringify(p)}`);
    }
    if (seen.has(p)) throw new OptionError("prompts", `${JSON.stringify(p)} is listed twice (raise instancesPerPrompt instead)`);
    seen.add(p);
  }
  const { digitsPerClass } = options;
  if (digitsPerClass !== undefined && !(Number.isInteger(digitsPerClass) && digitsPerClass >= 1)) {
    throw new OptionError("digitsPerClass", `must be a positive integer, not ${digitsPerClass}`);
  }
  const plan = planSampler({
    ...options,
    prompts: prompts.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p })),
    instancesPerPrompt: options.instancesPerPrompt ?? 20,
    range: [-1, 1],
    imageShape: MNIST_SHAPE,
  });
  return (async function* () {
    throwIfAborted(options.signal, "MNIST diffusion");
    yield* runSampler(options.denoiser ?? (await closedForm(digitsPerClass)), plan);
  })();
}

async function closedForm(digitsPerClass: number | undefined): Promise<Denoiser> {
  let digits = await loadMnist();
  if (digitsPerClass !== undefined) digits = mnistSubset(digits, digitsPerClass);
  return closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
}

/** All steps of `mnistDiffusion` in one step table (rows ordered by step, then instance). */
export function mnistTrajectories(options: MnistDiffusionOptions = {}): Promise<StepTable> {
  return collectSteps(mnistDiffusion(options));
}
