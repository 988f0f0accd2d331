/**
 * Trains the shipped digit encoder and writes models/digit-encoder.onnx.
 *
 *   node --import tsx scripts/train-digit-encoder.ts [--seed 0] [--epochs 8] [--out models/digit-encoder.onnx]
 *
 * A LeNet-style network, trained by hand-written forward and backward passes
 * (no JavaScript training library works offline here, and the network is
 * small): conv 5×5×8 → ReLU → max-pool 2 → conv 5×5×16 → ReLU → max-pool 2
 * → dense 64 → ReLU (the "embedding") → dense 10 ("logits"). Adam,
 * mini-batches of 32, random shifts of up to one pixel, learning rate
 * decayed by cosine. Data: the `mnist` package's 10,000 digits; per class
 * the first 85% train, the last 15% are held out (digitSplit). Everything
 * random comes from the seed, and the arithmetic is sequential, so a seed
 * gives the same model file on every run.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import process from "node:process";
import { DIGIT_HELD_OUT, digitSplit } from "../src/encoders/digit.ts";
import { onnxImageEncoder } from "../src/encoders/onnx_image.ts";
import { OnnxGraph } from "../src/onnx/writer.ts";
import { loadMnist, type MnistDigits } from "../src/sources/mnist.ts";
import { random, type Random } from "../src/util/random.ts";

declare const Deno: { args: string[] } | undefined;
const args = typeof Deno !== "undefined" ? Deno.args : process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const seed = Number(arg("seed", "0"));
const epochs = Number(arg("epochs", "8"));
const out = arg("out", "models/digit-encoder.onnx");

// ---- the network -----------------------------------------------------------

const C1 = 8, C2 = 16, K = 5, EMBED = 64, CLASSES = 10;
const S0 = 28, S1 = S0 - K + 1, P1 = S1 / 2, S2 = P1 - K + 1, P2 = S2 / 2, FLAT = C2 * P2 * P2; // 24, 12, 8, 4, 256

/** Every weight, as named in the ONNX file; shapes in ONNX order (Conv: out, in, kh, kw; Gemm with transB: out, in). */
const SHAPES = {
  conv1_w: [C1, 1, K, K], conv1_b: [C1],
  conv2_w: [C2, C1, K, K], conv2_b: [C2],
  dense1_w: [EMBED, FLAT], dense1_b: [EMBED],
  dense2_w: [CLASSES, EMBED], dense2_b: [CLASSES],
} as const;
type Name = keyof typeof SHAPES;
type Params = Record<Name, Float64Array>;
const NAMES = Object.keys(SHAPES) as Name[];
const count = (n: Name) => SHAPES[n].reduce((a: number, b: number) => a * b, 1);
const zeros = (): Params => Object.fromEntries(NAMES.map((n) => [n, new Float64Array(count(n))])) as Params;

/** He-normal weights, zero biases. */
function initParams(rng: Random): Params {
  const p = zeros();
  const fanIn: Partial<Record<Name, number>> = { conv1_w: K * K, conv2_w: C1 * K * K, dense1_w: FLAT, dense2_w: EMBED };
  for (const [name, fan] of Object.entries(fanIn) as [Name, number][]) {
    const scale = Math.sqrt(2 / fan);
    for (let i = 0; i < p[name].length; i++) p[name][i] = rng.normal() * scale;
  }
  return p;
}

/** The activations of one image, kept for the backward pass. */
class Activations {
  x = new Float64Array(S0 * S0);
  a1 = new Float64Array(C1 * S1 * S1);
  p1 = new Float64Array(C1 * P1 * P1);
  arg1 = new Int32Array(C1 * P1 * P1);
  a2 = new Float64Array(C2 * S2 * S2);
  p2 = new Float64Array(FLAT);
  arg2 = new Int32Array(FLAT);
  h = new Float64Array(EMBED);
  z = new Float64Array(CLASSES);
}

/** Valid 5×5 convolution, bias, ReLU in place of the output. */
function conv(input: Float64Array, cin: number, size: number, w: Float64Array, b: Float64Array, cout: number, outAct: Float64Array): void {
  const os = size - K + 1;
  for (let oc = 0; oc < cout; oc++) {
    const o = outAct.subarray(oc * os * os, (oc + 1) * os * os);
    o.fill(b[oc]);
    for (let ic = 0; ic < cin; ic++) {
      for (let ky = 0; ky < K; ky++) {
        for (let kx = 0; kx < K; kx++) {
          const wv = w[((oc * cin + ic) * K + ky) * K + kx];
          const base = ic * size * size + ky * size + kx;
          for (let oy = 0; oy < os; oy++) {
            const src = base + oy * size, dst = oy * os;
            for (let ox = 0; ox < os; ox++) o[dst + ox] += wv * input[src + ox];
          }
        }
      }
    }
    for (let i = 0; i < o.length; i++) if (o[i] < 0) o[i] = 0;
  }
}

/** 2×2 max-pool, remembering where each maximum came from. */
function pool(input: Float64Array, channels: number, size: number, out: Float64Array, arg: Int32Array): void {
  const ps = size / 2;
  for (let c = 0; c < channels; c++) {
    for (let py = 0; py < ps; py++) {
      for (let px = 0; px < ps; px++) {
        let best = -Infinity, at = 0;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const i = c * size * size + (2 * py + dy) * size + 2 * px + dx;
            if (input[i] > best) (best = input[i]), (at = i);
          }
        }
        out[c * ps * ps + py * ps + px] = best;
        arg[c * ps * ps + py * ps + px] = at;
      }
    }
  }
}

/** out = relu?(W·x + b) for W rows×cols. */
function dense(w: Float64Array, b: Float64Array, x: Float64Array, rows: number, cols: number, out: Float64Array, relu: boolean): void {
  for (let r = 0; r < rows; r++) {
    let s = b[r];
    for (let c = 0; c < cols; c++) s += w[r * cols + c] * x[c];
    out[r] = relu && s < 0 ? 0 : s;
  }
}

function forward(p: Params, act: Activations): void {
  conv(act.x, 1, S0, p.conv1_w, p.conv1_b, C1, act.a1);
  pool(act.a1, C1, S1, act.p1, act.arg1);
  conv(act.p1, C1, P1, p.conv2_w, p.conv2_b, C2, act.a2);
  pool(act.a2, C2, S2, act.p2, act.arg2);
  dense(p.dense1_w, p.dense1_b, act.p2, EMBED, FLAT, act.h, true);
  dense(p.dense2_w, p.dense2_b, act.h, CLASSES, EMBED, act.z, false);
}

/** Adds this image's cross-entropy gradient to `g`; returns its loss. */
function backward(p: Params, act: Activations, label: number, g: Params): number {
  const max = Math.max(...act.z);
  let total = 0;
  const dz = new Float64Array(CLASSES);
  for (let k = 0; k < CLASSES; k++) total += dz[k] = Math.exp(act.z[k] - max);
  for (let k = 0; k < CLASSES; k++) dz[k] /= total;
  const loss = -Math.log(Math.max(dz[label], 1e-300));
  dz[label] -= 1;
  // dense2, then dense1 through its ReLU
  const dh = new Float64Array(EMBED);
  for (let k = 0; k < CLASSES; k++) {
    g.dense2_b[k] += dz[k];
    for (let j = 0; j < EMBED; j++) {
      g.dense2_w[k * EMBED + j] += dz[k] * act.h[j];
      dh[j] += p.dense2_w[k * EMBED + j] * dz[k];
    }
  }
  const dp2 = new Float64Array(FLAT);
  for (let j = 0; j < EMBED; j++) {
    if (act.h[j] <= 0) continue;
    g.dense1_b[j] += dh[j];
    for (let c = 0; c < FLAT; c++) {
      g.dense1_w[j * FLAT + c] += dh[j] * act.p2[c];
      dp2[c] += p.dense1_w[j * FLAT + c] * dh[j];
    }
  }
  // pool2 and ReLU2 route the gradient to the maxima that were positive
  const da2 = new Float64Array(C2 * S2 * S2);
  for (let i = 0; i < FLAT; i++) if (act.a2[act.arg2[i]] > 0) da2[act.arg2[i]] += dp2[i];
  const dp1 = new Float64Array(C1 * P1 * P1);
  convBackward(act.p1, C1, P1, p.conv2_w, da2, C2, g.conv2_w, g.conv2_b, dp1);
  const da1 = new Float64Array(C1 * S1 * S1);
  for (let i = 0; i < dp1.length; i++) if (act.a1[act.arg1[i]] > 0) da1[act.arg1[i]] += dp1[i];
  convBackward(act.x, 1, S0, p.conv1_w, da1, C1, g.conv1_w, g.conv1_b, undefined);
  return loss;
}

/** Gradients of a valid 5×5 convolution: weights, bias, and (when asked) its input. */
function convBackward(
  input: Float64Array, cin: number, size: number, w: Float64Array, dOut: Float64Array, cout: number,
  dw: Float64Array, db: Float64Array, dInput: Float64Array | undefined,
): void {
  const os = size - K + 1;
  for (let oc = 0; oc < cout; oc++) {
    const d = dOut.subarray(oc * os * os, (oc + 1) * os * os);
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += d[i];
    if (sum === 0 && d.every((v) => v === 0)) continue;
    db[oc] += sum;
    for (let ic = 0; ic < cin; ic++) {
      for (let ky = 0; ky < K; ky++) {
        for (let kx = 0; kx < K; kx++) {
          const wi = ((oc * cin + ic) * K + ky) * K + kx, wv = w[wi];
          const base = ic * size * size + ky * size + kx;
          let s = 0;
          for (let oy = 0; oy < os; oy++) {
            const src = base + oy * size, row = oy * os;
            for (let ox = 0; ox < os; ox++) {
              s += d[row + ox] * input[src + ox];
              if (dInput) dInput[src + ox] += wv * d[row + ox];
            }
          }
          dw[wi] += s;
        }
      }
    }
  }
}

// ---- training --------------------------------------------------------------

/** Copies a digit into act.x, shifted by (dy, dx) pixels with zeros coming in. */
function load(digits: MnistDigits, i: number, dy: number, dx: number, act: Activations): void {
  act.x.fill(0);
  const img = digits.images.subarray(i * S0 * S0, (i + 1) * S0 * S0);
  for (let y = Math.max(0, dy); y < Math.min(S0, S0 + dy); y++) {
    for (let x = Math.max(0, dx); x < Math.min(S0, S0 + dx); x++) act.x[y * S0 + x] = img[(y - dy) * S0 + x - dx];
  }
}

function accuracy(p: Params, digits: MnistDigits): number {
  const act = new Activations();
  let right = 0;
  for (let i = 0; i < digits.count; i++) {
    load(digits, i, 0, 0, act);
    forward(p, act);
    if (act.z.indexOf(Math.max(...act.z)) === digits.labels[i]) right++;
  }
  return right / digits.count;
}

function train(data: MnistDigits, rng: Random, log: (line: string) => void): Params {
  const p = initParams(rng);
  const m = zeros(), v = zeros(), g = zeros();
  const batch = 32, lr0 = 2e-3, beta1 = 0.9, beta2 = 0.999;
  const stepsPerEpoch = Math.ceil(data.count / batch), totalSteps = epochs * stepsPerEpoch;
  const act = new Activations();
  const order = Int32Array.from({ length: data.count }, (_, i) => i);
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let start = 0; start < order.length; start += batch) {
      for (const n of NAMES) g[n].fill(0);
      const end = Math.min(start + batch, order.length);
      for (let b = start; b < end; b++) {
        load(data, order[b], rng.int(3) - 1, rng.int(3) - 1, act);
        forward(p, act);
        lossSum += backward(p, act, data.labels[order[b]], g);
      }
      t++;
      const lr = lr0 * 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / totalSteps));
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      for (const n of NAMES) {
        const pn = p[n], mn = m[n], vn = v[n], gn = g[n];
        for (let i = 0; i < pn.length; i++) {
          const grad = gn[i] / (end - start);
          mn[i] = beta1 * mn[i] + (1 - beta1) * grad;
          vn[i] = beta2 * vn[i] + (1 - beta2) * grad * grad;
          pn[i] -= (lr * mn[i]) / c1 / (Math.sqrt(vn[i] / c2) + 1e-8);
        }
      }
    }
    log(`epoch ${epoch + 1}/${epochs}: mean loss ${(lossSum / data.count).toFixed(4)}`);
  }
  return p;
}

// ---- the ONNX file -----------------------------------------------------------

function toOnnx(p: Params, metadata: Record<string, string>): Uint8Array {
  const g = new OnnxGraph("digit-encoder");
  const w = Object.fromEntries(NAMES.map((n) => [n, g.initializer(n, { data: Float32Array.from(p[n]), dims: SHAPES[n] })])) as Record<Name, string>;
  g.input("image", { shape: ["batch", 1, S0, S0] });
  const pool2 = { kernel_shape: [2, 2], strides: [2, 2] };
  let x = g.node("Conv", ["image", w.conv1_w, w.conv1_b], { kernel_shape: [K, K] });
  x = g.node("MaxPool", [g.node("Relu", [x])], pool2);
  x = g.node("Conv", [x, w.conv2_w, w.conv2_b], { kernel_shape: [K, K] });
  x = g.node("MaxPool", [g.node("Relu", [x])], pool2);
  x = g.node("Flatten", [x], { axis: 1 });
  x = g.node("Gemm", [x, w.dense1_w, w.dense1_b], { transB: 1 });
  g.node("Relu", [x], {}, { outputs: ["embedding"] });
  g.node("Gemm", ["embedding", w.dense2_w, w.dense2_b], { transB: 1 }, { outputs: ["logits"] });
  g.output("embedding", { shape: ["batch", EMBED] });
  g.output("logits", { shape: ["batch", CLASSES] });
  return g.toBytes({ opset: 17, doc: "diffusion-life digit encoder (scripts/train-digit-encoder.ts)", metadata });
}

// ---- main ---------------------------------------------------------------------

const started = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);
const { train: trainDigits, test: testDigits } = digitSplit(await loadMnist());
log(`training on ${trainDigits.count} digits, holding out ${testDigits.count} (the last ${DIGIT_HELD_OUT * 100}% of each class); seed ${seed}, ${epochs} epochs`);
const params = train(trainDigits, random(seed), log);
const heldOut = accuracy(params, testDigits);
log(`held-out accuracy ${(100 * heldOut).toFixed(2)}% (training ${(100 * accuracy(params, trainDigits)).toFixed(2)}%)`);
const bytes = toOnnx(params, { seed: String(seed), epochs: String(epochs), "held-out-accuracy": heldOut.toFixed(4), "held-out": `last ${DIGIT_HELD_OUT * 100}% of each class` });
await mkdir(dirname(out), { recursive: true });
await writeFile(out, bytes);
// The file must classify as the TypeScript network does, through the path every user model takes.
const encoder = await onnxImageEncoder({ model: bytes, output: "logits" });
const { features } = await encoder.encode({ values: testDigits.images, dim: S0 * S0, count: testDigits.count, imageShape: [1, S0, S0], step: new Int32Array(testDigits.count) });
let right = 0;
for (let i = 0; i < testDigits.count; i++) {
  const z = features.subarray(i * CLASSES, (i + 1) * CLASSES);
  if (z.indexOf(Math.max(...z)) === testDigits.labels[i]) right++;
}
log(`wrote ${out} (${bytes.length} bytes); through onnxruntime-web: held-out accuracy ${(100 * right / testDigits.count).toFixed(2)}%`);
