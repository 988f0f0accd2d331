/**
 * The embedded default generator: a real diffusion process over the MNIST
 * digits of the `mnist` package with the exact (closed-form) denoiser,
 * sampled with DDIM (η = 0) or stochastic DDIM/DDPM-like (η > 0).
 *
 * Each step yields a step table with one row per instance: `instance`,
 * `prompt` ("any digit" or "digit 3"), `step` (0 = noisiest), `timestep` (the
 * scheduler's t) and `image` = the predicted clean image x̂0 in [0, 1],
 * shape [1, 28, 28]. Everything is reproducible from `seed`.
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import { type StepColumns, type StepTable, stepTable } from "../data/step_table.ts";
import { random } from "../util/random.ts";
import { closedFormDenoiser } from "./closed_form.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "./mnist.ts";
import { ddimTimesteps, noiseSchedule, type ScheduleName } from "./schedule.ts";

/** Training timesteps of the schedule. */
const T = 1000;

export type MnistPrompt = number | "any";

export interface MnistDiffusionOptions {
  /** Digit classes 0..9, or "any" for unconditional (default ["any", 0, 1, 3, 7]). */
  prompts?: MnistPrompt[];
  /** Instances (seeds) per prompt (default 20). */
  instancesPerPrompt?: number;
  /** Denoising steps (default 20, at most 1000). */
  steps?: number;
  /** Seed of the initial noise and of η-noise (default 0). */
  seed?: number;
  /** DDIM η: 0 = deterministic DDIM (default), 1 ≈ DDPM. */
  eta?: number;
  /** Classifier-free guidance scale (default 1 = purely conditional). */
  guidance?: number;
  /** Noise schedule (default "cosine"). */
  schedule?: ScheduleName;
  /** Use only the first n digits of each class (default: all, about 1,000 each). */
  digitsPerClass?: number;
  signal?: AbortSignal;
}

interface Resolved {
  prompts: MnistPrompt[];
  instancesPerPrompt: number;
  steps: number;
  seed: number;
  eta: number;
  guidance: number;
  schedule: ScheduleName;
  digitsPerClass?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MNIST_PROMPTS: readonly MnistPrompt[] = ["any", 0, 1, 3, 7];

/** The prompt label used in the step table: "any digit" or "digit 3". */
export function mnistPromptLabel(prompt: MnistPrompt): string {
  return prompt === "any" ? "any digit" : `digit ${prompt}`;
}

function resolve(options: MnistDiffusionOptions): Resolved {
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
  const positiveInt = (name: string, v: number | undefined, fallback: number, max = Infinity) => {
    const value = v ?? fallback;
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new OptionError(name, `must be an integer in 1..${max}, not ${value}`);
    }
    return value;
  };
  const instancesPerPrompt = positiveInt("instancesPerPrompt", options.instancesPerPrompt, 20);
  const steps = positiveInt("steps", options.steps, 20, T);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new OptionError("seed", `must be an integer, not ${seed}`);
  const eta = options.eta ?? 0;
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new OptionError("eta", `must be a finite number ≥ 0, not ${eta}`);
  const guidance = options.guidance ?? 1;
  if (!(guidance >= 0) || !Number.isFinite(guidance)) {
    throw new OptionError("guidance", `must be a finite number ≥ 0, not ${guidance}`);
  }
  const schedule = options.schedule ?? "cosine";
  if (schedule !== "cosine" && schedule !== "linear") {
    throw new OptionError("schedule", `must be "cosine" or "linear", not ${JSON.stringify(schedule)}`);
  }
  const digitsPerClass = options.digitsPerClass === undefined
    ? undefined
    : positiveInt("digitsPerClass", options.digitsPerClass, 0);
  return { prompts, instancesPerPrompt, steps, seed, eta, guidance, schedule, digitsPerClass, signal: options.signal };
}

/** One step's rows as plain columns. */
async function* sample(o: Resolved): AsyncGenerator<StepColumns> {
  const { signal } = o;
  throwIfAborted(signal, "MNIST diffusion");
  let digits = await loadMnist();
  if (o.digitsPerClass !== undefined) digits = mnistSubset(digits, o.digitsPerClass);
  throwIfAborted(signal, "MNIST diffusion");

  const dim = MNIST_DIM;
  const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim }, { guidance: o.guidance });
  const { alphaBar } = noiseSchedule(o.schedule, T);
  const timesteps = ddimTimesteps(T, o.steps);

  const n = o.prompts.length * o.instancesPerPrompt;
  const instance = new Int32Array(n);
  const prompt = new Int32Array(n);
  const condition = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    instance[i] = i;
    prompt[i] = Math.floor(i / o.instancesPerPrompt);
    const p = o.prompts[prompt[i]];
    condition[i] = p === "any" ? -1 : p;
  }
  const prompts = o.prompts.map(mnistPromptLabel);

  const rng = random(o.seed);
  const xt = new Float32Array(n * dim);
  for (let i = 0; i < xt.length; i++) xt[i] = rng.normal();
  const x0 = new Float32Array(n * dim);

  for (let s = 0; s < o.steps; s++) {
    // A macrotask between steps, so an abort() from a timer or an event can land.
    await new Promise((resolve) => setTimeout(resolve, 0));
    throwIfAborted(signal, "MNIST diffusion");
    const t = timesteps[s];
    const ab = alphaBar[t];
    const abPrev = s + 1 < o.steps ? alphaBar[timesteps[s + 1]] : 1;
    await denoiser.predictX0(xt, ab, condition, x0);

    const image = new Float32Array(n * dim);
    for (let i = 0; i < x0.length; i++) {
      // Clip x̂0 to the data range (only guidance > 1 can leave it).
      const v = x0[i] < -1 ? -1 : x0[i] > 1 ? 1 : x0[i];
      x0[i] = v;
      image[i] = (v + 1) / 2;
    }

    // DDIM update to the previous (less noisy) timestep.
    const sigma = o.eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
    const sa = Math.sqrt(ab), s1a = Math.sqrt(1 - ab);
    const cx0 = Math.sqrt(abPrev), ceps = Math.sqrt(Math.max(0, 1 - abPrev - sigma * sigma));
    for (let i = 0; i < xt.length; i++) {
      const eps = (xt[i] - sa * x0[i]) / s1a;
      xt[i] = cx0 * x0[i] + ceps * eps + (sigma > 0 ? sigma * rng.normal() : 0);
    }

    yield {
      instance,
      prompt,
      prompts,
      step: new Int32Array(n).fill(s),
      timestep: new Float32Array(n).fill(t),
      image,
      imageShape: MNIST_SHAPE,
    };
  }
}

/**
 * Generates MNIST digits by diffusion, yielding one step table per denoising
 * step (all instances, steps in order 0..steps−1). Options are checked at the
 * call (OptionError); an aborted signal stops it between steps (CancelledError).
 */
export function mnistDiffusion(options: MnistDiffusionOptions = {}): AsyncGenerator<StepTable> {
  const resolved = resolve(options);
  return (async function* () {
    for await (const columns of sample(resolved)) yield stepTable(columns);
  })();
}

/** All steps of `mnistDiffusion` in one step table (rows ordered by step, then instance). */
export async function mnistTrajectories(options: MnistDiffusionOptions = {}): Promise<StepTable> {
  const resolved = resolve(options);
  const parts: StepColumns[] = [];
  for await (const columns of sample(resolved)) parts.push(columns);
  const cat = <A extends Int32Array | Float32Array>(make: (n: number) => A, pick: (c: StepColumns) => A): A => {
    const out = make(parts.reduce((s, c) => s + pick(c).length, 0));
    let off = 0;
    for (const c of parts) {
      out.set(pick(c), off);
      off += pick(c).length;
    }
    return out;
  };
  return stepTable({
    instance: cat((n) => new Int32Array(n), (c) => c.instance),
    prompt: cat((n) => new Int32Array(n), (c) => c.prompt),
    prompts: parts[0].prompts,
    step: cat((n) => new Int32Array(n), (c) => c.step),
    timestep: cat((n) => new Float32Array(n), (c) => c.timestep!),
    image: cat((n) => new Float32Array(n), (c) => c.image!),
    imageShape: MNIST_SHAPE,
  });
}
