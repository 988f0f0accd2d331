/**
 * The embedded default generator as a live source: each step table is
 * emitted as soon as the sampler has computed it, and unsubscribing aborts
 * the generation between (or inside) its steps.
 */
import type { Observable } from "rxjs";
import type { StepTable } from "../data/step_table.ts";
import { mnistDiffusion, type MnistDiffusionOptions } from "../sources/mnist_diffusion.ts";
import { fromAsync } from "./from_async.ts";

export function liveMnistDiffusion(options: Omit<MnistDiffusionOptions, "signal"> = {}): Observable<StepTable> {
  return fromAsync((signal) => mnistDiffusion({ ...options, signal }));
}
