/**
 * The encoders a command line can name. "pca" (pixels, then PCA per step)
 * is what the demo uses; "digits" is the bundled digit network
 * (src/encoders/digit.ts), loaded only when asked for.
 */
import type { StepTable } from "../data/step_table.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { encodeTable } from "../encoders/encode_table.ts";
import { pcaEncoder } from "../encoders/pca_encoder.ts";
import { pixels } from "../encoders/pixels.ts";
import type { Flags, ParsedArgs } from "./args.ts";

export const ENCODERS = ["auto", "pca", "pixels", "digits", "features"] as const;

export const ENCODER_FLAGS: Flags = {
  encoder: {
    type: "string",
    value: "<name>",
    help: "auto (default: the table's features if it has them, else pca), pca (pixels then PCA per step), pixels, digits (the bundled digit network), features",
  },
  components: { type: "string", value: "<n>", help: "PCA components of the pca encoder (default 50)" },
};

/** The chain of encoders the flags ask for. */
export async function chooseEncoders(args: ParsedArgs): Promise<Encoder[]> {
  const name = args.choice("encoder", ENCODERS, "auto");
  const components = args.integer("components", 50, 1);
  switch (name) {
    case "auto":
      return [featuresOrPca(pcaEncoder({ components }))];
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
 * A table's own features when it has them, else PCA of its images: an
 * encoder that reads "features" gets the image (with its shape) only when
 * the table has no features.
 */
function featuresOrPca(pca: Encoder): Encoder {
  return {
    name: "auto",
    input: "features",
    encode: (input) => (input.imageShape ? pca.encode(input) : { features: input.values, dim: input.dim }),
  };
}
