/**
 * Any ONNX image model as an encoder: CLIP, DINO or ResNet image towers a
 * user exported, or the shipped digit encoder. Images are preprocessed
 * (resize, centre crop, mean/std, NCHW), run in batches through
 * onnxruntime-web, and the chosen output, flattened per image, becomes the
 * features.
 */
import { DimensionError, ModelError } from "../errors.ts";
import { describeValue, findValue } from "../onnx/model_info.ts";
import { createSession, type OnnxSession, type SessionOptions } from "../onnx/session.ts";
import { checkBatchSize, imageShapeOf, inBatches } from "./batches.ts";
import type { Encoder, EncoderOutput } from "./encoder.ts";
import { type ImagePreprocessing, preprocessor } from "./preprocess.ts";

export interface OnnxImageEncoderOptions extends ImagePreprocessing {
  /** The model: ONNX bytes (read a file with `readModelBytes`). */
  model: Uint8Array | ArrayBuffer;
  /** The image input to feed (default: the model's only input). */
  input?: string;
  /** The output to read as features (default: the first). */
  output?: string;
  /** Images per model call (default 32; a model with a fixed batch size gets exactly that many, padded). */
  batchSize?: number;
  backend?: SessionOptions["backend"];
  threads?: number;
  /** The encoder's name (default "onnx:<output>"). */
  name?: string;
}

export interface OnnxImageEncoder extends Encoder {
  readonly session: OnnxSession;
  /** The output read as features. */
  readonly output: string;
}

export async function onnxImageEncoder(options: OnnxImageEncoderOptions): Promise<OnnxImageEncoder> {
  const session = await createSession(options.model, { backend: options.backend, threads: options.threads });
  const { info } = session;
  const inputName = options.input ?? onlyInput(info.inputs.map((i) => i.name));
  const input = findValue(info.inputs, inputName, "input");
  const output = findValue(info.outputs, options.output ?? info.outputs[0].name, "output").name;
  if (input.type !== "float32") throw new ModelError(`the image input ${describeValue(input)} is not float32; export the model with a float32 input`);
  const shape = input.shape ?? [undefined, undefined, undefined, undefined];
  if (shape.length !== 4) throw new ModelError(`the image input ${describeValue(input)} is not NCHW (4 dimensions)`);
  const [fixedBatch, channels, fixedH, fixedW] = shape;
  if (typeof channels !== "number") throw new ModelError(`the image input ${describeValue(input)} does not fix its channel count`);
  // A fixed square input is what the model was trained on: resize and crop to it unless told otherwise.
  const side = typeof fixedH === "number" && fixedH === fixedW ? fixedH : undefined;
  const { interpolation, range, mean, std } = options;
  const config: ImagePreprocessing = { interpolation, range, mean, std, resize: options.resize ?? side, crop: options.crop ?? options.resize ?? side };
  const batchSize = typeof fixedBatch === "number" ? fixedBatch : checkBatchSize(options.batchSize ?? 32);
  const name = options.name ?? `onnx:${output}`;

  return {
    name,
    input: "image",
    session,
    output,
    async encode(encoderInput): Promise<EncoderOutput> {
      const prep = preprocessor(config, imageShapeOf(encoderInput, name), channels);
      const [, oh, ow] = prep.shape;
      if ((typeof fixedH === "number" && fixedH !== oh) || (typeof fixedW === "number" && fixedW !== ow)) {
        throw new DimensionError(`preprocessed images are ${oh}×${ow}, the model's input is ${describeValue(input)}; set resize and crop`, { column: "image" });
      }
      const perImage = channels * oh * ow;
      const batch = new Float32Array(batchSize * perImage);
      let features: Float32Array | undefined, dim = 0;
      await inBatches(encoderInput, batchSize, `encoder "${name}"`, async (start, end) => {
        // A fixed batch size is padded with zero images; a free one takes the rows there are.
        const rows = typeof fixedBatch === "number" ? fixedBatch : end - start;
        batch.fill(0);
        prep.apply(encoderInput.values, start, end, batch);
        const feed = { data: batch.subarray(0, rows * perImage), dims: [rows, channels, oh, ow] };
        const { data, dims } = (await session.run({ [inputName]: feed }, [output]))[output];
        if (dims[0] !== rows || !(data instanceof Float32Array || data instanceof Float64Array)) {
          throw new ModelError(`output "${output}" gave ${data.constructor.name}[${dims.join(", ")}] for a batch of ${rows}; features need a float output with the batch first`);
        }
        dim = data.length / rows;
        features ??= new Float32Array(encoderInput.count * dim);
        features.set(data.subarray(0, (end - start) * dim), start * dim);
      });
      return { features: features ?? new Float32Array(0), dim };
    },
  };
}

function onlyInput(names: string[]): string {
  if (names.length !== 1) throw new ModelError(`the model has ${names.length} inputs (${names.join(", ")}); say which takes the image with the "input" option`);
  return names[0];
}
