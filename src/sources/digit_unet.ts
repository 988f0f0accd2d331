/**
 * The neural denoiser that ships with the package: a small class-conditional
 * U-Net for the 28×28 digits, trained with PyTorch by scripts/train_unet.py
 * on the digit encoder's training split and exported by torch.onnx.export
 * as models/unet.onnx. It runs through the same ONNX denoiser as any user
 * model, with every scheduler and guidance scale.
 *
 * Its interface (also in the file's metadata): inputs `x_t` [N, 1, 28, 28]
 * on the [−1, 1] scale, `timestep` [N] float32 (the training timestep t of
 * the "cosine" schedule over 1000 steps), `label` [N] int64 (0–9, and 10 for
 * the null label of classifier-free guidance); outputs `prediction` (what the
 * metadata's `prediction` names, "v") and `h`, the bottleneck activations.
 */
import { ModelError } from "../errors.ts";
import { readModelInfo } from "../onnx/model_info.ts";
import { readModelBytes } from "../runtime/model_file.ts";
import type { Prediction } from "./denoiser.ts";
import { onnxDenoiser, type OnnxDenoiser, type OnnxDenoiserOptions } from "./onnx_denoiser.ts";

export const DIGIT_UNET_URL: URL = new URL("../../models/unet.onnx", import.meta.url);

export interface DigitUnetOptions extends Pick<OnnxDenoiserOptions, "backend" | "batchSize"> {
  /** Another file with the same interface (default the shipped models/unet.onnx). */
  model?: Uint8Array | string | URL;
}

/**
 * The shipped U-Net as a Denoiser: sample it with `mnistDiffusion({ denoiser })`
 * (prompts are digits, "any" is the null label) or `sampleDiffusion`.
 *
 * @example
 * const denoiser = await digitUnet();
 * const steps = await mnistTrajectories({ denoiser, prompts: ["any", 3, 7], steps: 20, guidance: 2 });
 */
export async function digitUnet(options: DigitUnetOptions = {}): Promise<OnnxDenoiser> {
  const model = options.model instanceof Uint8Array ? options.model : await readModelBytes(options.model ?? DIGIT_UNET_URL);
  const { metadata } = readModelInfo(model);
  const prediction = (metadata.prediction ?? "v") as Prediction;
  if (metadata.schedule && metadata.schedule !== "cosine") {
    throw new ModelError(`the digit U-Net was trained on the "${metadata.schedule}" schedule; this source samples on "cosine"`);
  }
  return await onnxDenoiser({
    model,
    shape: [1, 28, 28],
    prediction,
    sample: "x_t",
    timestep: "timestep",
    condition: { input: "label", kind: "label", unconditional: Number(metadata.null_label ?? 10) },
    output: "prediction",
    backend: options.backend,
    batchSize: options.batchSize,
  });
}
