/**
 * Which features reveal what: the default data (5 prompts × 20 instances ×
 * 20 steps of the MNIST diffusion, x̂0 images) encoded with each built-in
 * encoder, embedded (radial layout, 1000 iterations, seed 0), and measured
 * per step: neighbourhood hit by prompt of the features and of the
 * embedding, and trustworthiness. Also each encoder's throughput in images
 * per second (after the ONNX session is created; its creation is reported
 * apart).
 */
import { digitEncoder } from "../onnx.ts";
import { embedSteps, type Encoder, encodeTable, frequency, pcaEncoder, pixels, type StepTable } from "../mod.ts";
import { mnistTrajectories } from "../mnist.ts";
import { type BenchCase, round, timed } from "./bench.ts";

interface Variant {
  name: string;
  /** Creates the encoders, applied in order (PCA reads the pixels). */
  make(): Promise<Encoder[]>;
}

const variants: Variant[] = [
  { name: "pixels", make: async () => [pixels()] },
  { name: "pixels → PCA 50 (incremental)", make: async () => [pixels(), pcaEncoder({ components: 50, fit: "incremental" })] },
  { name: "frequency (16 bands)", make: async () => [frequency({ bands: 16 })] },
  { name: "digit encoder: embedding", make: async () => [await digitEncoder({ output: "embedding" })] },
  { name: "digit encoder: logits", make: async () => [await digitEncoder({ output: "logits" })] },
];

export const encodersCase: BenchCase = {
  name: "encoders",
  async *run() {
    const generated = await mnistTrajectories({ instancesPerPrompt: 20, steps: 20, seed: 0 });
    const images = generated.numRows;
    for (const variant of variants) {
      const [encoders, setupMs] = await timed(() => variant.make());
      let encoded: StepTable = generated;
      let encodeMs = 0;
      for (const encoder of encoders) {
        const [table, ms] = await timed(() => encodeTable(encoded, encoder));
        encoded = table;
        encodeMs += ms;
      }
      const result = await embedSteps(encoded, { iterations: 1000, seed: 0 });
      const q = result.quality;
      yield {
        encoder: variant.name,
        images,
        featureDim: encoded.getChild("features")!.type.listSize,
        setupMs: round(setupMs, 1),
        encodeMs: round(encodeMs, 1),
        imagesPerSecond: Math.round((images / encodeMs) * 1000),
        meanTrustworthiness: round(q.meanTrustworthiness),
        lastStep: {
          neighborhoodHit: round(q.steps[q.steps.length - 1].neighborhoodHit),
          featureNeighborhoodHit: round(q.steps[q.steps.length - 1].featureNeighborhoodHit),
          trustworthiness: round(q.steps[q.steps.length - 1].trustworthiness),
        },
        perStep: {
          neighborhoodHit: q.steps.map((s) => round(s.neighborhoodHit)),
          featureNeighborhoodHit: q.steps.map((s) => round(s.featureNeighborhoodHit)),
          trustworthiness: q.steps.map((s) => round(s.trustworthiness)),
        },
      };
    }
  },
};
