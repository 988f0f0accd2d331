/**
 * The WebGPU t-SNE gradient against the CPU kernel, in the same process:
 * milliseconds per iteration for all steps of an iteration (one batched GPU
 * submit against the CPU kernel step by step, exact and default), and the
 * GPU's gradient error against the exact CPU gradient. Deno and browsers
 * bring navigator.gpu (`npx deno run -A bench/main.ts webgpu`); in Node the
 * GPU comes from the `webgpu` package (Dawn, a dev dependency; its flags in
 * `BENCH_DAWN_FLAGS`, comma-separated, e.g. `backend=vulkan`), which uses a
 * real adapter where Vulkan finds one. Elsewhere, or without an adapter that
 * passes validation (Dawn's null backend never does), the case reports why
 * no adapter was used. On a machine without a GPU, Deno's adapter is
 * llvmpipe, a software rasteriser: its times are CPU times and are labelled
 * so, never GPU times. `BENCH_WEBGPU_SIZES` sets the problems, as
 * steps×instances separated by commas (default `10x500,10x2000`).
 */
import { type BackendStatus, EvolutionaryEmbedding, gradientError, type KernelStep, random, type StepInput, studentT, webgpuKernel } from "../mod.ts";
import process from "node:process";
import { type BenchCase, round, timed } from "./bench.ts";

/** The benchmarks' WebGPU entry point and where it came from. */
export interface BenchGpu {
  /** None where the runtime has no WebGPU: the kernel then uses the CPU and says why. */
  readonly gpu?: GPU;
  /** "navigator.gpu", "webgpu package (Dawn…)", or why there is no GPU object. */
  readonly source: string;
}

/**
 * The runtime's navigator.gpu, else in Node Dawn from the `webgpu` package,
 * created with the flags in `BENCH_DAWN_FLAGS`. Bun is left out: the
 * package is a Node addon.
 */
export async function benchGpu(): Promise<BenchGpu> {
  if (typeof navigator !== "undefined" && navigator.gpu) return { gpu: navigator.gpu, source: "navigator.gpu" };
  if ("Deno" in globalThis || "Bun" in globalThis) return { source: "this runtime has no navigator.gpu" };
  const flags = (process.env.BENCH_DAWN_FLAGS ?? "").split(",").filter(Boolean);
  try {
    const { create } = await import("webgpu");
    return { gpu: create(flags), source: `webgpu package (Dawn${flags.length > 0 ? `, ${flags.join(" ")}` : ""})` };
  } catch (e) {
    return { source: `no navigator.gpu, and the webgpu package did not load: ${(e as Error).message}` };
  }
}

/** What a WebGPU kernel ran on, for a JSON line: the adapter (software ones flagged) or the CPU fallback's reason. */
export function describeBackend(status: BackendStatus, source: string): Record<string, unknown> {
  if (status.backend === "cpu") return { backend: "cpu", gpu: source, reason: status.reason };
  return {
    backend: "webgpu",
    gpu: source,
    adapter: {
      name: status.adapter.name,
      software: status.adapter.software,
      ...(status.adapter.software && { note: "software rasteriser (llvmpipe-like): these are CPU times, not GPU times" }),
    },
    validationError: Number(status.error.toExponential(2)),
  };
}

/** Clustered steps (5 clusters drifting apart over the steps) embedded for a few iterations. */
async function embeddedSteps(steps: number, n: number): Promise<KernelStep[]> {
  const rng = random(3), dim = 10;
  const centres = Array.from({ length: 5 }, () => Float32Array.from({ length: dim }, () => 4 * rng.normal()));
  const e = new EvolutionaryEmbedding({ seed: 0 });
  for (let t = 0; t < steps; t++) {
    const features = Float32Array.from({ length: n * dim }, (_, k) => centres[Math.floor(k / dim) % 5][k % dim] * (t + 1) / steps + rng.normal());
    const input: StepInput = { step: t, instance: Int32Array.from({ length: n }, (_, i) => i), prompt: Int32Array.from({ length: n }, (_, i) => i % 5), features, dim };
    e.addStep(input);
  }
  await e.optimize(10);
  e.dispose();
  return e.steps.map((s) => ({ y: s.y, P: s.P, grad: new Float64Array(2 * s.n) }));
}

/** Mean milliseconds of `iterations` calls after one warm-up call. */
async function perIteration(iterations: number, f: () => void | Promise<void>): Promise<number> {
  await f();
  const [, ms] = await timed(async () => {
    for (let it = 0; it < iterations; it++) await f();
  });
  return ms / iterations;
}

export const webgpuCase: BenchCase = {
  name: "webgpu-gradient",
  async *run() {
    const { gpu: entry, source } = await benchGpu();
    const gpu = webgpuKernel({ gpu: entry });
    const backend = describeBackend(await gpu.status(), source);
    if (backend.backend === "cpu") {
      yield backend;
      return;
    }
    const sizes = (process.env.BENCH_WEBGPU_SIZES ?? "10x500,10x2000").split(",").map((size) => size.split("x").map(Number));
    const exact = studentT({ repulsion: "exact" }), auto = studentT();
    for (const [steps, n] of sizes) {
      console.error(`  ${steps} steps × ${n}`);
      const states = await embeddedSteps(steps, n);
      const iterations = n > 1000 ? 3 : 10;
      const cpu = (kernel: typeof exact) => () => states.forEach((s) => kernel.klGradient(s.y, s.P, 1, 1, s.grad));
      const exactMs = await perIteration(iterations, cpu(exact));
      const autoMs = await perIteration(iterations, cpu(auto));
      const gpuMs = await perIteration(iterations, () => gpu.klGradientSteps(states, 1, 1));
      // The error of one GPU gradient against the exact CPU one.
      const reference = states.map((s) => new Float64Array(2 * s.P.n)), got = states.map((s) => new Float64Array(2 * s.P.n));
      states.forEach((s, k) => exact.klGradient(s.y, s.P, 1, 1, reference[k]));
      await gpu.klGradientSteps(states.map((s, k) => ({ ...s, grad: got[k] })), 1, 1);
      // Again: a failed GPU run falls back to the CPU, and its times would then be CPU times.
      yield {
        ...describeBackend(await gpu.status(), source),
        steps,
        instances: n,
        msPerIteration: { webgpu: round(gpuMs, 2), cpuExact: round(exactMs, 2), cpuDefault: round(autoMs, 2) },
        ratio: { cpuExactOverWebgpu: round(exactMs / gpuMs, 2), cpuDefaultOverWebgpu: round(autoMs / gpuMs, 2) },
        gradientError: Number(gradientError(got, reference).toExponential(2)),
      };
    }
    gpu.dispose();
  },
};
