/**
 * Runs the WGSL t-SNE gradient on a device for all the steps of one
 * iteration: one upload of the points, one submit (two dispatches), one
 * read-back. P and the tile tables are uploaded when the set of steps
 * changes (once for a batch run; once per arriving step when steps arrive
 * one at a time), not every iteration.
 */
import { GpuUnavailableError } from "../../../errors.ts";
import type { KernelStep } from "../kernel.ts";
import type { SparseMatrix } from "../../../linalg/sparse.ts";
import { KL_GRADIENT_WGSL, TILE } from "./kl_gradient.wgsl.ts";

/**
 * GPUBufferUsage and GPUMapMode flags, by their values in the WebGPU spec:
 * the globals are missing where the GPU object comes from a package (Node's
 * `webgpu`) rather than the runtime.
 */
const MAP_READ = 0x1, COPY_SRC = 0x4, COPY_DST = 0x8, UNIFORM = 0x40, STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

export interface GpuKlGradient {
  /** Adds weight · ∂KL(P‖Q)/∂y to each step's grad, attraction × exaggeration. */
  run(steps: readonly KernelStep[], exaggeration: number, weight: number): Promise<void>;
  destroy(): void;
}

/** The device buffers for one set of steps. */
interface Packing {
  /** The steps' affinity matrices, which identify the set. */
  readonly key: readonly SparseMatrix[];
  readonly points: number;
  readonly tiles: number;
  /** Staging for the points, float32, each step centred on its mean. */
  readonly positions: Float32Array<ArrayBuffer>;
  readonly y: GPUBuffer;
  readonly force: GPUBuffer;
  readonly readback: GPUBuffer;
  readonly buffers: GPUBuffer[];
  readonly repulsionGroup: GPUBindGroup;
  readonly gradientGroup: GPUBindGroup;
}

export async function gpuKlGradient(device: GPUDevice): Promise<GpuKlGradient> {
  const module = device.createShaderModule({ code: KL_GRADIENT_WGSL });
  const [repulsion, gradient] = await Promise.all(
    ["repulsion", "gradient"].map((entryPoint) => device.createComputePipelineAsync({ layout: "auto", compute: { module, entryPoint } })),
  );
  const params = device.createBuffer({ size: 16, usage: UNIFORM | COPY_DST });
  let packing: Packing | undefined;

  function pack(steps: readonly KernelStep[]): Packing {
    const meta = new Uint32Array(4 * steps.length);
    let points = 0, tiles = 0, nnz = 0;
    steps.forEach(({ P }, k) => {
      const stepTiles = Math.ceil(P.n / TILE);
      meta.set([points, P.n, tiles, stepTiles], 4 * k);
      points += P.n;
      tiles += stepTiles;
      nnz += P.rowPtr[P.n];
    });
    const { maxComputeWorkgroupsPerDimension, maxStorageBufferBindingSize } = device.limits;
    if (tiles > maxComputeWorkgroupsPerDimension || 8 * nnz > maxStorageBufferBindingSize) {
      throw new GpuUnavailableError(`${points} points with ${nnz} affinities exceed the adapter's limits`);
    }
    const tileStep = new Uint32Array(tiles);
    const rowPtr = new Uint32Array(points + 1);
    const edges = new ArrayBuffer(8 * Math.max(nnz, 1));
    const edgeJ = new Uint32Array(edges), edgeP = new Float32Array(edges);
    steps.forEach(({ P }, k) => {
      const [offset, n, firstTile, stepTiles] = meta.subarray(4 * k, 4 * k + 4);
      tileStep.fill(k, firstTile, firstTile + stepTiles);
      const e0 = rowPtr[offset];
      for (let i = 0; i < n; i++) rowPtr[offset + i + 1] = e0 + P.rowPtr[i + 1];
      for (let e = 0; e < P.rowPtr[n]; e++) {
        edgeJ[2 * (e0 + e)] = offset + P.col[e];
        edgeP[2 * (e0 + e) + 1] = P.val[e];
      }
    });
    const y = device.createBuffer({ size: 8 * Math.max(points, 1), usage: STORAGE | COPY_DST });
    const force = device.createBuffer({ size: 8 * Math.max(points, 1), usage: STORAGE | COPY_SRC });
    const zTile = device.createBuffer({ size: 4 * Math.max(tiles, 1), usage: STORAGE });
    const readback = device.createBuffer({ size: 8 * Math.max(points, 1), usage: MAP_READ | COPY_DST });
    const fixed = [meta, tileStep, rowPtr, edges].map((data) => upload(device, data));
    const [stepsBuffer, tileStepBuffer, rowPtrBuffer, edgesBuffer] = fixed;
    const bind = (pipeline: GPUComputePipeline, buffers: GPUBuffer[]) =>
      device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const common = [y, stepsBuffer, tileStepBuffer, force, zTile];
    return {
      key: steps.map((s) => s.P),
      points,
      tiles,
      positions: new Float32Array(2 * points),
      y,
      force,
      readback,
      buffers: [y, force, zTile, readback, ...fixed],
      repulsionGroup: bind(repulsion, common),
      gradientGroup: bind(gradient, [...common, rowPtrBuffer, edgesBuffer, params]),
    };
  }

  return {
    async run(steps, exaggeration, weight) {
      if (!steps.some((s) => s.P.n > 0)) return;
      if (!packing || packing.key.length !== steps.length || steps.some((s, k) => s.P !== packing!.key[k])) {
        const old = packing;
        packing = undefined; // not left pointing at destroyed buffers should pack() throw
        old?.buffers.forEach((b) => b.destroy());
        packing = pack(steps);
      }
      const { positions, points, tiles, readback } = packing;
      // The gradient is translation invariant: centring each step keeps float32's digits for the differences.
      let row = 0;
      for (const { y, P } of steps) {
        let mx = 0, my = 0;
        for (let i = 0; i < P.n; i++) {
          mx += y[2 * i];
          my += y[2 * i + 1];
        }
        mx /= P.n;
        my /= P.n;
        for (let i = 0; i < P.n; i++, row++) {
          positions[2 * row] = y[2 * i] - mx;
          positions[2 * row + 1] = y[2 * i + 1] - my;
        }
      }
      device.queue.writeBuffer(packing.y, 0, positions);
      device.queue.writeBuffer(params, 0, Float32Array.of(4 * weight * exaggeration, 4 * weight));
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(repulsion);
      pass.setBindGroup(0, packing.repulsionGroup);
      pass.dispatchWorkgroups(tiles);
      pass.setPipeline(gradient);
      pass.setBindGroup(0, packing.gradientGroup);
      pass.dispatchWorkgroups(tiles);
      pass.end();
      encoder.copyBufferToBuffer(packing.force, 0, readback, 0, 8 * points);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(MAP_MODE_READ, 0, 8 * points);
      const out = new Float32Array(readback.getMappedRange(0, 8 * points));
      row = 0;
      for (const { grad, P } of steps) {
        for (let c = 0; c < 2 * P.n; c++) grad[c] += out[2 * row + c];
        row += P.n;
      }
      readback.unmap();
    },
    destroy() {
      packing?.buffers.forEach((b) => b.destroy());
      packing = undefined;
      params.destroy();
    },
  };
}

/** A storage buffer holding `data`. */
function upload(device: GPUDevice, data: ArrayBufferView<ArrayBuffer> | ArrayBuffer): GPUBuffer {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // Storage bindings cannot be empty, and mapped sizes are multiples of 4.
  const buffer = device.createBuffer({ size: Math.max(16, Math.ceil(bytes.length / 4) * 4), usage: STORAGE, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(bytes);
  buffer.unmap();
  return buffer;
}
