import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  EvolutionaryEmbedding,
  gradientError,
  type KernelStep,
  OptionError,
  random,
  semantic,
  type StepInput,
  studentT,
  webgpuKernel,
  type WebGpuKernelOptions,
} from "../mod.ts";

const isDeno = "Deno" in globalThis;

/** Steps of clustered instances (4 clusters), sizes that leave partial GPU tiles. */
function clusteredSteps(sizes: number[], dim: number, seed: number): StepInput[] {
  const rng = random(seed);
  const centres = Array.from({ length: 4 }, () => Float32Array.from({ length: dim }, () => 4 * rng.normal()));
  return sizes.map((n, t) => {
    const features = Float32Array.from({ length: n * dim }, (_, k) => centres[Math.floor(k / dim) % 4][k % dim] * (t + 1) / sizes.length + rng.normal());
    return { step: t, instance: Int32Array.from({ length: n }, (_, i) => i), prompt: Int32Array.from({ length: n }, (_, i) => i % 4), features, dim };
  });
}

/** Realistic points: an embedding's steps after some CPU iterations (lanes, clusters, early exaggeration). */
async function embeddedSteps(sizes: number[]): Promise<KernelStep[]> {
  const e = new EvolutionaryEmbedding({ seed: 5 });
  for (const s of clusteredSteps(sizes, 10, 4)) e.addStep(s);
  await e.optimize(30);
  return e.steps.map((s) => ({ y: s.y, P: s.P, grad: new Float64Array(s.grad.length) }));
}

/** The gradients a kernel's batched path adds to fresh gradient arrays. */
async function batched(options: WebGpuKernelOptions, steps: KernelStep[], exaggeration: number) {
  const kernel = webgpuKernel(options);
  const fresh = steps.map((s) => ({ ...s, grad: new Float64Array(s.grad.length) }));
  await kernel.klGradientSteps(fresh, exaggeration, 0.7);
  return { kernel, grads: fresh.map((s) => s.grad) };
}

function cpuGradients(steps: KernelStep[], exaggeration: number): Float64Array[] {
  const exact = studentT({ repulsion: "exact" });
  return steps.map((s) => {
    const grad = new Float64Array(s.grad.length);
    exact.klGradient(s.y, s.P, exaggeration, 0.7, grad);
    return grad;
  });
}

if (isDeno) {
  // Deno has navigator.gpu and finds a software adapter (llvmpipe) on machines without a GPU, so this runs in CI.
  test("webgpu: the batched GPU gradient matches the CPU one to float32 tolerance, every step", async () => {
    const steps = await embeddedSteps([300, 300, 300, 170, 64]);
    for (const exaggeration of [4, 1]) {
      const { kernel, grads } = await batched({}, steps, exaggeration);
      const status = await kernel.status();
      assert.ok(status.backend === "webgpu", `Deno: ${status.backend === "cpu" && status.reason}`);
      console.log(`  webgpu test adapter: ${status.adapter.name}${status.adapter.software ? " (software)" : ""}, validation error ${status.error.toExponential(1)}`);
      const reference = cpuGradients(steps, exaggeration);
      reference.forEach((ref, k) => {
        const error = gradientError([grads[k]], [ref]);
        assert.ok(error < 1e-4, `step ${k} (n=${steps[k].P.n}), exaggeration ${exaggeration}: relative error ${error}`);
      });
      // Another set of steps re-packs the device buffers; gradients add to what is there.
      const subset = [steps[3], steps[1]].map((s) => ({ ...s, grad: Float64Array.from(s.y) }));
      await kernel.klGradientSteps(subset, exaggeration, 0.7);
      const expected = [reference[3], reference[1]].map((g, k) => g.map((v, i) => v + subset[k].y[i]));
      assert.ok(gradientError(subset.map((s) => s.grad), expected) < 1e-4);
      kernel.dispose();
    }
  });

  test("webgpu: an embedding with backend 'webgpu' follows the CPU one", async () => {
    const run = async (backend: "cpu" | "webgpu") => {
      const e = new EvolutionaryEmbedding({ seed: 2, backend });
      for (const s of clusteredSteps([150, 150, 150], 8, 6)) e.addStep(s);
      await e.optimize(5);
      e.dispose();
      return e.steps.map((s) => s.y);
    };
    const cpu = await run("cpu"), gpu = await run("webgpu");
    const moved = gradientError(gpu, cpu);
    assert.ok(moved > 0 && moved < 1e-4, `positions differ by ${moved} (relative)`);
  });

  test("webgpu: allowSoftware false refuses a software adapter, and takes a hardware one", async () => {
    const status = await webgpuKernel({ allowSoftware: false }).status();
    if (status.backend === "cpu") assert.match(status.reason, /software/);
    else assert.not.ok(status.adapter.software);
  });
} else {
  test("webgpu: without navigator.gpu the CPU path is used, identical to the CPU kernel", async () => {
    const steps = await embeddedSteps([120, 90]);
    const { kernel, grads } = await batched({}, steps, 4);
    const status = await kernel.status();
    assert.equal(status.backend, "cpu");
    assert.match(status.backend === "cpu" ? status.reason : "", /navigator\.gpu/);
    assert.equal(grads, cpuGradients(steps, 4));
  });

  test("webgpu: a null-backend adapter (Node's webgpu package) fails validation and the CPU path is used", async () => {
    // Dawn's null backend hands out an adapter and a device that run nothing: read-backs return uninitialised memory.
    // It fails on numbers, not on the shader: Dawn's WGSL compiler (Chrome's) accepted it.
    const { create } = await import("webgpu");
    const steps = await embeddedSteps([120, 90]);
    const { kernel, grads } = await batched({ gpu: create(["backend=null"]) }, steps, 4);
    const status = await kernel.status();
    assert.equal(status.backend, "cpu");
    assert.match(status.backend === "cpu" ? status.reason : "", /failed validation: relative gradient error/);
    assert.equal(grads, cpuGradients(steps, 4));
  });

  test("webgpu: an embedding given Node's webgpu package as its gpu validates it, and on the null backend falls back to exactly the CPU result", async () => {
    const { create } = await import("webgpu");
    const run = async (gpu?: GPU) => {
      const e = new EvolutionaryEmbedding({ seed: 2, ...(gpu ? { backend: "webgpu" as const, gpu } : {}) });
      for (const s of clusteredSteps([60, 60], 8, 6)) e.addStep(s);
      await e.optimize(5);
      const status = await (e.kernel as ReturnType<typeof webgpuKernel>).status?.();
      return { y: e.steps.map((s) => s.y), reason: status?.backend === "cpu" ? status.reason : undefined };
    };
    const gpu = await run(create(["backend=null"]));
    assert.match(gpu.reason ?? "", /failed validation/);
    assert.equal(gpu.y, (await run()).y);
    assert.throws(() => new EvolutionaryEmbedding({ gpu: create(["backend=null"]) }), (e: unknown) => e instanceof OptionError && /gpu/.test(e.message));
  });

  test("webgpu: an embedding with backend 'webgpu' falls back to exactly the CPU result", async () => {
    const run = async (backend: "cpu" | "webgpu") => {
      const e = new EvolutionaryEmbedding({ seed: 2, backend });
      for (const s of clusteredSteps([60, 60], 8, 6)) e.addStep(s);
      await e.optimize(5);
      return e.steps.map((s) => s.y);
    };
    assert.equal(await run("webgpu"), await run("cpu"));
  });
}

test("webgpu: the backend option applies to the default losses only", () => {
  assert.throws(() => new EvolutionaryEmbedding({ backend: "webgpu", losses: [semantic()] }), (e: unknown) => e instanceof OptionError);
});

test.run();
