/**
 * Encoders turn each row's image (or its current features) into a feature
 * vector. One interface serves the built-ins and a user's own.
 */
import type { ImageShape } from "../data/step_table.ts";

export interface EncoderInput {
  /** count×dim, row-major: images (C·H·W) or features, per `Encoder.input`. */
  values: Float32Array;
  dim: number;
  count: number;
  /** Present when `values` are images. */
  imageShape?: ImageShape;
  /** Step of each row, for encoders fitted per step. */
  step: Int32Array;
  /** Checked between batches; a fired signal ends the work with a CancelledError. */
  signal?: AbortSignal;
  /** Called after each batch with the rows encoded so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface EncoderOutput {
  features: Float32Array;
  dim: number;
}

export interface Encoder {
  readonly name: string;
  /**
   * What the encoder reads: "image" always reads the image column;
   * "features" reads the features when the table has them, else the image.
   */
  readonly input: "image" | "features";
  encode(input: EncoderInput): EncoderOutput | Promise<EncoderOutput>;
}
