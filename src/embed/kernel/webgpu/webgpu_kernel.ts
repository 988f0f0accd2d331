/**
 * The Student-t kernel with its batched gradient on WebGPU: a Kernel whose
 * klGradientSteps computes all the active steps of an iteration in one
 * submit. The adapter is requested on first use and trusted only once the
 * GPU gradient of a small problem matches the CPU kernel's. Where there is
 * no adapter, or it fails that check or a later run, the CPU kernel does the
 * work, and `status()` says why.
 */
import { perplexityAffinity } from "../../affinity/perplexity.ts";
import type { Kernel, KernelStep } from "../kernel.ts";
import { studentT } from "../student_t.ts";
import { GpuUnavailableError } from "../../../errors.ts";
import { random } from "../../../util/random.ts";
import { type GpuAdapterDescription, type GpuOptions, requestGpu } from "../../../runtime/gpu.ts";
import { gpuKlGradient, type GpuKlGradient } from "./kl_gradient.ts";

/** Where the semantic gradient runs: "webgpu" takes any adapter that passes validation; "auto" only a hardware one. */
export type Backend = "cpu" | "webgpu" | "auto";

export type BackendStatus =
  | {
    readonly backend: "webgpu";
    readonly adapter: GpuAdapterDescription;
    /** Relative gradient error against the CPU kernel on the validation problem. */
    readonly error: number;
  }
  | { readonly backend: "cpu"; readonly reason: string };

export interface WebGpuKernelOptions extends GpuOptions {
  /** The CPU kernel: for steps when no adapter is usable, for single steps and for KL values (default studentT()). */
  cpu?: Kernel;
  /** The largest relative gradient error validation accepts (default 1e-4; float32 gives about 1e-6). */
  tolerance?: number;
}

export interface WebGpuKernel extends Kernel {
  klGradientSteps(steps: readonly KernelStep[], exaggeration: number, weight: number): Promise<void>;
  /** Where the batched gradient runs; the first call requests and validates the adapter. */
  status(): Promise<BackendStatus>;
  /** Releases the device; a later gradient requests one again. */
  dispose(): void;
}

interface Connection {
  status: BackendStatus;
  gpu?: { device: GPUDevice; gradient: GpuKlGradient };
}

export function webgpuKernel(options: WebGpuKernelOptions = {}): WebGpuKernel {
  const cpu = options.cpu ?? studentT();
  let connection: Promise<Connection> | undefined;
  // Batched gradients run one at a time: they share the device's buffers.
  let queue: Promise<unknown> = Promise.resolve();
  const connect = () => (connection ??= open());
  return {
    name: "student-t (webgpu)",
    klGradient: (y, P, exaggeration, weight, grad) => cpu.klGradient(y, P, exaggeration, weight, grad),
    kl: (y, P) => cpu.kl(y, P),
    klGradientSteps(steps, exaggeration, weight) {
      const run = queue.then(async () => {
        const c = await connect();
        if (c.gpu) {
          try {
            return await c.gpu.gradient.run(steps, exaggeration, weight);
          } catch (e) {
            // Gradients are added only after a complete read-back, so the CPU can redo this one.
            c.status = { backend: "cpu", reason: `a GPU run failed: ${(e as Error).message}` };
            release(c);
          }
        }
        for (const s of steps) cpu.klGradient(s.y, s.P, exaggeration, weight, s.grad);
      });
      queue = run.catch(() => {});
      return run;
    },
    status: async () => (await connect()).status,
    dispose() {
      connection?.then(release);
      connection = undefined;
    },
  };

  async function open(): Promise<Connection> {
    let device: GPUDevice | undefined;
    try {
      const gpu = await requestGpu(options);
      device = gpu.device;
      const gradient = await gpuKlGradient(device);
      const error = await validate(device, gradient);
      const tolerance = options.tolerance ?? 1e-4;
      if (!(error <= tolerance)) {
        throw new GpuUnavailableError(`${gpu.adapter.name} failed validation: relative gradient error ${error} against the CPU`);
      }
      return { status: { backend: "webgpu", adapter: gpu.adapter, error }, gpu: { device, gradient } };
    } catch (e) {
      device?.destroy();
      return { status: { backend: "cpu", reason: (e as Error).message } };
    }
  }
}

/** The kernel for a backend choice: the CPU Student-t kernel, or the WebGPU one (on `gpu`, default navigator.gpu) with CPU fallback. */
export function backendKernel(backend: Backend, gpu?: GPU): Kernel {
  return backend === "cpu" ? studentT() : webgpuKernel({ allowSoftware: backend === "webgpu", gpu });
}

/** ‖a − b‖ / ‖b‖ over all steps' gradients: the error of `a` against the reference `b`. */
export function gradientError(a: readonly Float64Array[], b: readonly Float64Array[]): number {
  let diff = 0, norm = 0;
  b.forEach((ref, k) => {
    for (let i = 0; i < ref.length; i++) {
      diff += (a[k][i] - ref[i]) ** 2;
      norm += ref[i] ** 2;
    }
  });
  return Math.sqrt(diff / norm);
}

function release(c: Connection): void {
  c.gpu?.gradient.destroy();
  c.gpu?.device.destroy();
  c.gpu = undefined;
}

/**
 * The GPU gradient of a small fixed problem against the exact CPU one: two
 * steps whose sizes leave partial tiles, under exaggeration. Catches
 * adapters that run shaders without computing (Dawn's null backend returns
 * uninitialised memory) and shader validation errors.
 */
async function validate(device: GPUDevice, gradient: GpuKlGradient): Promise<number> {
  const rng = random(7), dim = 5;
  const steps = [45, 300].map((n) => ({
    P: perplexityAffinity({ perplexity: 10 }).compute(Float64Array.from({ length: n * dim }, () => rng.normal()), n, dim),
    y: Float64Array.from({ length: 2 * n }, () => 5 * rng.normal()),
    grad: new Float64Array(2 * n),
  }));
  device.pushErrorScope("validation");
  await gradient.run(steps, 4, 1);
  const invalid = await device.popErrorScope();
  if (invalid) throw new GpuUnavailableError(`the gradient shader is invalid on this adapter: ${invalid.message}`);
  const exact = studentT({ repulsion: "exact" });
  const reference = steps.map((s) => {
    const grad = new Float64Array(s.grad.length);
    exact.klGradient(s.y, s.P, 4, 1, grad);
    return grad;
  });
  return gradientError(steps.map((s) => s.grad), reference);
}
