/**
 * The closed-form denoiser (closed_form.ts) written as an ONNX model, with
 * the inputs and outputs of a diffusers U-Net export: `sample` [batch, C, H, W]
 * float32, `timestep` [batch] int64, `class_labels` [batch] int64 (−1 =
 * unconditional) → `out_sample` [batch, C, H, W], either x̂0 or ε.
 *
 * The graph computes, in float64 as the TypeScript denoiser does:
 *   ᾱ = Gather(ᾱ table, timestep)
 *   logits = (√ᾱ·x·Xᵀ − ½ᾱ‖X‖²)/(1−ᾱ) + mask(class)       (MatMul)
 *   x̂0 = Softmax(logits)·X                                  (MatMul)
 *   ε = (x − √ᾱ·x̂0)/√(1−ᾱ)                                 (prediction "epsilon")
 * so any ONNX runtime reproduces the exact denoiser: a model to check an
 * ONNX pipeline against, and to run the default diffusion on WebGPU.
 * Keep the data small (a few hundred images): they are stored in the file.
 */
import { OptionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import { OnnxGraph } from "../onnx/writer.ts";
import type { ClosedFormData } from "./closed_form.ts";
import type { NoiseSchedule } from "./schedule.ts";

export interface ClosedFormOnnxOptions {
  /** ᾱ by training timestep, indexed by the `timestep` input. */
  schedule: NoiseSchedule;
  /** [C, H, W] of the `sample` input (default [1, 1, dim]). */
  shape?: ImageShape;
  /** What `out_sample` holds (default "x0"). */
  prediction?: "x0" | "epsilon";
}

/** ONNX model bytes of the closed-form denoiser of `data`. */
export function closedFormOnnx(data: ClosedFormData, options: ClosedFormOnnxOptions): Uint8Array {
  const { images, labels, dim } = data;
  const n = labels.length;
  const shape = options.shape ?? [1, 1, dim];
  if (shape[0] * shape[1] * shape[2] !== dim) throw new OptionError("shape", `[${shape}] does not hold ${dim} values`);
  const prediction = options.prediction ?? "x0";

  const X = Float64Array.from(images, (p) => 2 * p - 1); // n × dim, in [−1, 1]
  const XT = new Float64Array(dim * n);
  const halfNorms = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < dim; k++) {
      XT[k * n + j] = X[j * dim + k];
      halfNorms[j] += 0.5 * X[j * dim + k] ** 2;
    }
  }

  const g = new OnnxGraph("closed_form_denoiser");
  const f64 = (name: string, values: number[] | Float64Array, dims: number[]) => g.initializer(name, { data: Float64Array.from(values), dims });
  const i64 = (name: string, values: number[], dims: number[]) => g.initializer(name, { data: BigInt64Array.from(values, BigInt), dims });
  g.input("sample", { shape: ["batch", ...shape] });
  g.input("timestep", { type: "int64", shape: ["batch"] });
  g.input("class_labels", { type: "int64", shape: ["batch"] });
  const dataRows = f64("data", X, [n, dim]);
  const dataT = f64("data_t", XT, [dim, n]);
  const one = f64("one", [1], []);
  const axis1 = i64("axis1", [1], [1]);

  const x = g.node("Reshape", [g.node("Cast", ["sample"], { to: 11 }), i64("rows", [-1, dim], [2])]);
  const ab = g.node("Unsqueeze", [g.node("Gather", [f64("alpha_bar", options.schedule.alphaBar, [options.schedule.alphaBar.length]), "timestep"]), axis1]);
  const sa = g.node("Sqrt", [ab]);
  const dot = g.node("Mul", [g.node("MatMul", [x, dataT]), sa]);
  const logits = g.node("Div", [g.node("Sub", [dot, g.node("Mul", [ab, f64("half_norms", halfNorms, [1, n])])]), g.node("Sub", [one, ab])]);
  // Rows of class c see only data of class c; −1 sees all.
  const label = g.node("Unsqueeze", ["class_labels", axis1]);
  const allowed = g.node("Or", [
    g.node("Equal", [label, i64("data_labels", Array.from(labels), [1, n])]),
    g.node("Equal", [label, i64("unconditional", [-1], [])]),
  ]);
  const mask = g.node("Where", [allowed, f64("zero", [0], []), f64("excluded", [-1e300], [])]);
  const weights = g.node("Softmax", [g.node("Add", [logits, mask])], { axis: 1 });
  const x0 = g.node("MatMul", [weights, dataRows]);
  const out = prediction === "x0" ? x0 : g.node("Div", [g.node("Sub", [x, g.node("Mul", [sa, x0])]), g.node("Sqrt", [g.node("Sub", [one, ab])])]);
  g.node("Reshape", [g.node("Cast", [out], { to: 1 }), i64("image", [-1, ...shape], [4])], {}, { outputs: ["out_sample"] });
  g.output("out_sample", { shape: ["batch", ...shape] });
  return g.toBytes({ doc: `closed-form denoiser of ${n} images, predicting ${prediction}`, metadata: { prediction } });
}
