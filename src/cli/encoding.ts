/**
 * The encoders a command line can name: "pca" (pixels, then PCA per step),
 * "digits" (the bundled digit network, src/encoders/digit.ts, loaded only
 * when used), "pixels", "features" (the table's own), and "auto", the
 * default: the table's own features when it has them; for MNIST-shaped
 * images (1×28×28) the digit network, when its optional packages are
 * installed; else pixels → PCA.
 *
 * Why the digit network for digits: the tree should show which generations
 * become the same digit, and when. Pixel distances do not say that — a
 * blurry early x̂0 is near the mean image of every class, a thin 1 is far
 * from a thick 1 — so pixels → PCA draws a lopsided swirl (on the default
 * data, radial: trustworthiness 0.957, alignment ratio 0.160, prompt hit at
 * the last step 0.685 in the features themselves). The digit network's
 * features group digits by what they are (0.981, 0.026, 0.784; README,
 * "See it"), and the picture is the tree the process is.
 */
import type { StepTable } from "../data/step_table.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { encodeTable } from "../encoders/encode_table.ts";
import { pcaEncoder } from "../encoders/pca_encoder.ts";
import { pixels } from "../encoders/pixels.ts";
import { MissingDependencyError } from "../errors.ts";
import type { Flags, ParsedArgs } from "./args.ts";

export const ENCODERS = ["auto", "pca", "pixels", "digits", "features"] as const;

export const ENCODER_FLAGS: Flags = {
  encoder: {
    type: "string",
    value: "<name>",
    help:
      "auto (default: the table's features if it has them; digits for 28×28 grey images, when onnxruntime-web is installed; else pca), pca (pixels then PCA per step), pixels, digits (the bundled digit network), features",
  },
  components: { type: "string", value: "<n>", help: "PCA components of the pca encoder (default 50)" },
};

/** The chain of encoders the flags ask for; `note` hears why "auto" chose otherwise than it would. */
export async function chooseEncoders(args: ParsedArgs, note: (text: string) => void = () => {}): Promise<Encoder[]> {
  const name = args.choice("encoder", ENCODERS, "auto");
  const components = args.integer("components", 50, 1);
  switch (name) {
    case "auto":
      return [automatic(pcaEncoder({ components }), note)];
    case "pca":
      return [pixels(), pcaEncoder({ components })];
    case "pixels":
      return [pixels()];
    case "digits":
      return [await (await import("../encoders/digit.ts")).digitEncoder()];
    default:
      return [];
  }
}

/** Applies the encoders in turn (the image column is kept for the viewer and the pictures). */
export async function applyEncoders(
  table: StepTable,
  encoders: readonly Encoder[],
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<StepTable> {
  let out = table;
  for (const [i, encoder] of encoders.entries()) {
    out = await encodeTable(out, encoder, { signal: options.signal });
    options.onProgress?.(i + 1, encoders.length);
  }
  return out;
}

/**
 * A table's own features when it has them; else the digit network for
 * 1×28×28 images (PCA when its packages are missing, said once through
 * `note`); else PCA of the images. An encoder that reads "features" gets
 * the image (with its shape) only when the table has no features.
 */
function automatic(pca: Encoder, note: (text: string) => void): Encoder {
  let digits: Promise<Encoder | undefined> | undefined;
  return {
    name: "auto",
    input: "features",
    async encode(input) {
      const shape = input.imageShape;
      if (!shape) return { features: input.values, dim: input.dim };
      if (shape[0] === 1 && shape[1] === 28 && shape[2] === 28) {
        digits ??= import("../encoders/digit.ts").then((m) => m.digitEncoder()).catch((error) => {
          if (!(error instanceof MissingDependencyError)) throw error;
          note(`the digit encoder needs the package "${error.packageName}": using pixels → PCA instead (npm install onnxruntime-web onnx-proto)\n`);
          return undefined;
        });
        const encoder = await digits;
        if (encoder) return encoder.encode(input);
      }
      return pca.encode(input);
    },
  };
}
