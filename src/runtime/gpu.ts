/**
 * Getting a WebGPU device: from `navigator.gpu` (Deno, browsers) or from a
 * GPU object the caller brings (Node's `webgpu` package, `bun-webgpu`).
 * Here an adapter is only found and described; whether it computes
 * correctly is for the kernel that uses it to check against its CPU path,
 * because some adapters (Dawn's null backend) run shaders without computing
 * anything.
 */
import { GpuUnavailableError } from "../errors.ts";

export interface GpuAdapterDescription {
  /** The adapter's own description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  readonly name: string;
  /**
   * A fallback adapter or a software rasteriser (llvmpipe, lavapipe,
   * SwiftShader, WARP): it computes correctly but at CPU speed, so its
   * timings are never GPU timings.
   */
  readonly software: boolean;
}

export interface Gpu {
  readonly device: GPUDevice;
  readonly adapter: GpuAdapterDescription;
}

export interface GpuOptions {
  /** The WebGPU entry point (default `navigator.gpu`). */
  gpu?: GPU;
  /** Whether a software or fallback adapter will do (default true). */
  allowSoftware?: boolean;
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|basic render|software/i;

/** Requests an adapter and a device, or throws GpuUnavailableError saying why there is none. */
export async function requestGpu(options: GpuOptions = {}): Promise<Gpu> {
  const gpu = options.gpu ?? (typeof navigator === "undefined" ? undefined : navigator.gpu);
  if (!gpu) throw new GpuUnavailableError("this runtime has no navigator.gpu");
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new GpuUnavailableError("requestAdapter() found none");
  const description = describe(adapter);
  if (description.software && options.allowSoftware === false) {
    throw new GpuUnavailableError(`the only adapter is a software one (${description.name})`);
  }
  // The adapter's largest buffers, so that as many points as it can hold fit.
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } });
  return { device, adapter: description };
}

function describe(adapter: GPUAdapter): GpuAdapterDescription {
  const { description, vendor, architecture, device } = adapter.info;
  const name = description || [vendor, architecture, device].filter(Boolean).join(" ") || "unnamed adapter";
  // Older browsers flag fallback adapters on the adapter rather than on its info.
  const fallback = adapter.info.isFallbackAdapter || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  // Dawn's OpenGL ES adapter names its renderer in the device ("llvmpipe-…"), not in the description.
  return { name, software: fallback === true || SOFTWARE.test(name) || SOFTWARE.test(device ?? "") };
}
