/**
 * The WebGPU t-SNE gradient against the CPU kernel, in the same process:
 * milliseconds per iteration for all steps of an iteration (one batched GPU
 * submit against the CPU kernel step by step, exact and default), and the
 * GPU's gradient error against the exact CPU gradient. Only Deno and
 * browsers have navigator.gpu (`npx deno run -A bench/main.ts webgpu`);
 * elsewhere the case reports why no adapter was used. On a machine without
 * a GPU, Deno's adapter is llvmpipe, a software rasteriser: its times are
 * CPU times and are labelled so, never GPU times.
 */
import { EvolutionaryEmbedding, gradientError, type KernelStep, random, type StepInput, studentT, webgpuKernel } from "../mod.ts";
import { type BenchCase, round, timed } from "./bench.ts";

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
    const gpu = webgpuKernel();
    const status = await gpu.status();
    if (status.backend === "cpu") {
      yield { backend: "cpu", reason: status.reason };
      return;
    }
    const adapter = {
      name: status.adapter.name,
      software: status.adapter.software,
      ...(status.adapter.software && { note: "software rasteriser (llvmpipe-like): these are CPU times, not GPU times" }),
    };
    const exact = studentT({ repulsion: "exact" }), auto = studentT();
    for (const [steps, n] of [[10, 500], [10, 2000]]) {
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
      yield {
        backend: "webgpu",
        adapter,
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
