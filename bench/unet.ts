/**
 * The shipped U-Net against the closed form, on the digits: 1000
 * conditional samples (100 of each digit, 20 DDIM steps, classifier-free
 * guidance) from each denoiser with the same seeds, then
 *   - accuracy: the share the shipped digit encoder classifies as their
 *     prompt's digit, per class;
 *   - Fréchet distance between the digit encoder's 64-d embeddings of the
 *     samples and of the 1501 held-out digits (the floor: held-out against
 *     the training digits);
 *   - novelty: the median pixel distance (images in [0, 1]) from a sample
 *     to its nearest training digit (for scale: the same for the held-out
 *     digits, which are new digits by construction);
 *   - speed: samples × steps per second through onnxruntime-web (wasm),
 *     and, where Debian's python3-torch is installed, through PyTorch on
 *     the same weights in a subprocess (scripts/unet_torch_speed.py), as a
 *     ratio from the same run.
 * `BENCH_UNET_GUIDANCE` and `BENCH_UNET_PER_CLASS` change the guidance
 * (default 2) and the samples per class (default 100).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { type Denoiser, frechetDistance, readStepTable } from "../mod.ts";
import { digitEncoder, digitUnet } from "../onnx.ts";
import { loadMnist, mnistDiffusion } from "../mnist.ts";
import { digitSplit } from "../src/encoders/digit.ts";
import type { OnnxImageEncoder } from "../src/encoders/onnx_image.ts";
import { type BenchCase, round, timed } from "./bench.ts";

const DIM = 784, CLASSES = 10, STEPS = 20;
const guidance = Number(process.env.BENCH_UNET_GUIDANCE ?? 2);
const perClass = Number(process.env.BENCH_UNET_PER_CLASS ?? 100);

export const unetCase: BenchCase = {
  name: "unet",
  async *run() {
    const digits = await loadMnist();
    const { train, test } = digitSplit(digits);
    const [embedder, classifier] = await Promise.all([digitEncoder({ output: "embedding" }), digitEncoder({ output: "logits" })]);
    const heldOut = await encode(embedder, test.images, test.count);
    const trained = await encode(embedder, train.images, train.count);
    yield {
      denoiser: "held-out digits (floor)",
      frechet: round(frechetDistance(heldOut, test.count, trained, train.count, 64), 2),
      noveltyMedian: round(nearestDistanceMedian(test.images, test.count, train.images, train.count)),
    };

    const unet = await digitUnet({ backend: "wasm" });
    const denoisers: [string, Denoiser | undefined][] = [["unet", unet], ["closed form", undefined]];
    let onnxRate = 0;
    for (const [name, denoiser] of denoisers) {
      const [images, ms] = await timed(() => finalImages(denoiser));
      const count = CLASSES * perClass;
      const logits = await encode(classifier, images, count);
      const accuracy = Array.from({ length: CLASSES }, (_, c) => {
        let hit = 0;
        for (let i = c * perClass; i < (c + 1) * perClass; i++) hit += +(argmax(logits.subarray(i * CLASSES, (i + 1) * CLASSES)) === c);
        return hit / perClass;
      });
      const embedded = await encode(embedder, images, count);
      const rate = (count * STEPS) / (ms / 1000);
      if (name === "unet") onnxRate = rate;
      yield {
        denoiser: name,
        samples: count,
        steps: STEPS,
        guidance,
        accuracy: round(accuracy.reduce((a, b) => a + b, 0) / CLASSES),
        accuracyPerClass: accuracy.map((a) => round(a, 2)),
        frechet: round(frechetDistance(embedded, count, heldOut, test.count, 64), 2),
        noveltyMedian: round(nearestDistanceMedian(images, count, train.images, train.count)),
        samplesStepsPerSecond: round(rate, 1),
      };
    }
    await unet.release();
    const torch = torchSpeed();
    if (torch) yield { denoiser: "unet", backend: "pytorch (same weights, subprocess)", samplesStepsPerSecond: round(torch, 1), onnxruntimeWebOverPytorch: round(onnxRate / torch) };
    else yield { denoiser: "unet", backend: "pytorch", skipped: "Debian's python3-torch is not installed (/usr/bin/python3 cannot import torch)" };
  },
};

/** The final x̂0 (in [0, 1]) of `perClass` samples of each digit, prompts 0..9, seed 0. */
async function finalImages(denoiser: Denoiser | undefined): Promise<Float32Array> {
  let last: Float32Array | undefined;
  const prompts = Array.from({ length: CLASSES }, (_, c) => c);
  for await (const table of mnistDiffusion({ denoiser, prompts, instancesPerPrompt: perClass, steps: STEPS, guidance, seed: 0 })) {
    last = readStepTable(table).image;
  }
  return last!;
}

async function encode(encoder: OnnxImageEncoder, images: Float32Array, count: number): Promise<Float32Array> {
  const out = await encoder.encode({ values: images, dim: DIM, count, imageShape: [1, 28, 28], step: new Int32Array(count) });
  return out.features;
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** The median over samples of the Euclidean distance to the nearest reference image. */
function nearestDistanceMedian(samples: Float32Array, count: number, reference: Float32Array, refCount: number): number {
  const nearest = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let best = Infinity;
    for (let j = 0; j < refCount; j++) {
      let s = 0;
      for (let d = 0, a = i * DIM, b = j * DIM; d < DIM && s < best; d++) {
        const t = samples[a + d] - reference[b + d];
        s += t * t;
      }
      if (s < best) best = s;
    }
    nearest[i] = Math.sqrt(best);
  }
  nearest.sort();
  return nearest[count >> 1];
}

/** Samples × steps per second of the same sampling in PyTorch, or undefined where torch is missing. */
function torchSpeed(): number | undefined {
  if (!existsSync("/usr/bin/python3")) return undefined;
  const run = spawnSync("/usr/bin/python3", ["scripts/unet_torch_speed.py", "--samples", String(CLASSES * perClass), "--steps", String(STEPS), "--guidance", String(guidance)], { encoding: "utf8" });
  if (run.status !== 0) return undefined;
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!).samplesStepsPerSecond;
}
