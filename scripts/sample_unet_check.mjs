// A quick quality check of the MNIST U-Net (scripts/train_unet.py): samples
// `--per-class` digits of each class with DDIM (η = 0, trailing timesteps,
// the "cosine" schedule of 1000 steps, x̂0 clipped to [−1, 1]: what the
// library's sampler does with range [−1, 1]) and classifier-free guidance,
// classifies the results with models/digit-encoder.onnx and prints the
// per-class accuracy (the fraction of samples of class c classified as c).
//
//   node scripts/sample_unet_check.mjs [--model models/unet.onnx] [--steps 20] [--guidance 2]
//        [--per-class 20] [--seed 0] [--prediction v] [--null-label 10] [--png grid.png]
//   node --import tsx scripts/sample_unet_check.mjs --library ...   (the same through the library's
//        onnxDenoiser (onnx.ts) and sampleDiffusion (mod.ts), instead of the plain-JS DDIM below)
//
// Plain JS with onnxruntime-web (wasm, one thread); the library is not needed
// unless --library is given.
import { readFileSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import process from "node:process";
import * as ort from "onnxruntime-web";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const modelPath = arg("model", "models/unet.onnx");
const steps = Number(arg("steps", "20"));
const guidance = Number(arg("guidance", "2"));
const perClass = Number(arg("per-class", "20"));
const seed = Number(arg("seed", "0"));
const prediction = arg("prediction", "v");
const nullLabel = Number(arg("null-label", "10"));
const useLibrary = args.includes("--library");
const pngPath = arg("png", "");
const T = 1000, DIM = 784, CLASSES = 10;

ort.env.wasm.numThreads = 1;

// ---- the schedule, as src/sources/schedule.ts ----
function cosineAlphaBar(T, s = 0.008) {
  const f = (tau) => Math.cos(((tau + s) / (1 + s)) * Math.PI / 2) ** 2;
  const out = new Float64Array(T);
  let p = 1;
  for (let t = 0; t < T; t++) out[t] = p *= 1 - Math.min(1 - f((t + 1) / T) / f(t / T), 0.999);
  return out;
}
const ddimTimesteps = (T, steps) => Array.from({ length: steps }, (_, i) => Math.round(T - (i * T) / steps) - 1);

// ---- seeded normals (mulberry32 + Box–Muller) ----
function normals(n, seed) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u())), th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

async function samplePlain() {
  const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ["wasm"] });
  const ab = cosineAlphaBar(T);
  const n = CLASSES * perClass;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / perClass));
  const xt = normals(n * DIM, seed);
  const guided = guidance !== 1;
  const rows = guided ? 2 * n : n;
  const labelFeed = new BigInt64Array(rows);
  for (let r = 0; r < rows; r++) labelFeed[r] = BigInt(r < n ? labels[r] : nullLabel);
  const ts = ddimTimesteps(T, steps);
  const x0 = new Float32Array(n * DIM);
  for (let s = 0; s < steps; s++) {
    const t = ts[s], a = ab[t], abNext = s + 1 < steps ? ab[ts[s + 1]] : 1;
    const input = new Float32Array(rows * DIM);
    input.set(xt);
    if (guided) input.set(xt, n * DIM);
    const result = await session.run({
      x_t: new ort.Tensor("float32", input, [rows, 1, 28, 28]),
      timestep: new ort.Tensor("float32", new Float32Array(rows).fill(t), [rows]),
      label: new ort.Tensor("int64", labelFeed, [rows]),
    }, ["prediction"]);
    const out = result.prediction.data;
    const sa = Math.sqrt(a), ss = Math.sqrt(1 - a);
    for (let i = 0; i < n * DIM; i++) {
      const p = guided ? out[n * DIM + i] + guidance * (out[i] - out[n * DIM + i]) : out[i];
      const x = xt[i];
      let x0i = prediction === "v" ? sa * x - ss * p : prediction === "epsilon" ? (x - ss * p) / sa : p;
      x0i = x0i < -1 ? -1 : x0i > 1 ? 1 : x0i;
      const eps = (x - sa * x0i) / ss;
      x0[i] = x0i;
      xt[i] = Math.sqrt(abNext) * x0i + Math.sqrt(Math.max(0, 1 - abNext)) * eps;
    }
  }
  await session.release();
  return { images: x0.map((v) => (v + 1) / 2), labels };
}

async function sampleLibrary() {
  // onnxDenoiser is in the "onnx" entry (onnx.ts) since the entries were split; older trees export it from mod.ts.
  const lib = { ...(await import("../mod.ts")), ...(await import("../onnx.ts").catch(() => ({}))) };
  const denoiser = await lib.onnxDenoiser({
    model: readFileSync(modelPath), shape: [1, 28, 28], prediction, sample: "x_t", timestep: "timestep",
    condition: { input: "label", kind: "label", unconditional: nullLabel }, output: "prediction", backend: "wasm",
  });
  const prompts = Array.from({ length: CLASSES }, (_, c) => ({ label: `digit ${c}`, condition: c }));
  let last;
  for await (const table of lib.sampleDiffusion(denoiser, { prompts, instancesPerPrompt: perClass, steps, guidance, schedule: "cosine", range: [-1, 1], seed, noisy: false })) last = table;
  await denoiser.release();
  const { image: images, instance } = lib.readStepTable(last);
  if (!instance.every((v, i) => v === i)) throw new Error("unexpected instance order");
  return { images: Float32Array.from(images), labels: Int32Array.from({ length: CLASSES * perClass }, (_, i) => Math.floor(i / perClass)) };
}

const t0 = performance.now();
const { images, labels } = useLibrary ? await sampleLibrary() : await samplePlain();
const t1 = performance.now();

const encoder = await ort.InferenceSession.create(readFileSync("models/digit-encoder.onnx"), { executionProviders: ["wasm"] });
const n = labels.length;
const { logits } = await encoder.run({ image: new ort.Tensor("float32", Float32Array.from(images), [n, 1, 28, 28]) }, ["logits"]);
const correct = new Array(CLASSES).fill(0), confusion = Array.from({ length: CLASSES }, () => new Array(CLASSES).fill(0));
for (let i = 0; i < n; i++) {
  let best = 0;
  for (let c = 1; c < CLASSES; c++) if (logits.data[i * CLASSES + c] > logits.data[i * CLASSES + best]) best = c;
  confusion[labels[i]][best]++;
  if (best === labels[i]) correct[labels[i]]++;
}
const total = correct.reduce((a, b) => a + b, 0);
console.log(`${modelPath}: ${useLibrary ? "library sampler" : "plain-JS DDIM"}, ${steps} steps, guidance ${guidance}, ${perClass} per class, seed ${seed} (${((t1 - t0) / 1000).toFixed(1)} s)`);
console.log(`per-class accuracy: ${correct.map((c, k) => `${k}:${(c / perClass).toFixed(2)}`).join(" ")}`);
console.log(`overall: ${total}/${n} = ${(total / n).toFixed(3)}`);
console.log(`confusion (row = asked, column = classified):\n${confusion.map((r, k) => `  ${k}: ${r.map((v) => String(v).padStart(3)).join("")}`).join("\n")}`);
await encoder.release();

// ---- optional: the samples as a grey PNG grid (a row per class) ----
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
function png(width, height, grey) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "ascii");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (grey)
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = grey[y * width + x];
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}
if (pngPath) {
  const cell = 30, w = perClass * cell, h = CLASSES * cell;
  const grey = new Uint8Array(w * h);
  for (let i = 0; i < n; i++) {
    const gx = (i % perClass) * cell + 1, gy = labels[i] * cell + 1;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) {
      grey[(gy + y) * w + gx + x] = Math.round(255 * Math.min(1, Math.max(0, images[i * DIM + y * 28 + x])));
    }
  }
  writeFileSync(pngPath, png(w, h, grey));
  console.log(`samples: ${pngPath}`);
}
