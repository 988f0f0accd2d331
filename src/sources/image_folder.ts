/**
 * Intermediate images saved by any tool, as PNG files laid out
 * `root/<prompt>/<instance>/<step>.png`: the prompt is the folder's name;
 * instances are numbered prompt by prompt in natural order of their folder
 * names; steps are each instance's PNG files in natural order of their names
 * (`0.png`, `1.png`, … `10.png`, or `step_003.png`), the first being step 0
 * (the noisiest). Other files are ignored.
 *
 * `readImageFolder` yields one step table per step (every instance that has
 * that step), decoding only that step's files, with `image` in [0, 1]:
 * 8- and 16-bit grey, grey+alpha, RGB, RGBA and palette PNGs (decoded by
 * fast-png); alpha is dropped. All images must share one size.
 */
import { decode, type DecodedPng, convertIndexedToRgb } from "fast-png";
import { DimensionError, FormatError, OptionError, throwIfAborted } from "../errors.ts";
import type { ImageShape, StepTable } from "../data/step_table.ts";
import { stepTable } from "../data/step_table.ts";
import { collectSteps } from "./collect.ts";
import type { StepSource } from "./source.ts";
import { type FilePath, joinPath, listDirectory, readFileBytes } from "../runtime/read_files.ts";

export interface ImageFolderOptions {
  /** 1 (grey; colour becomes BT.601 luma) or 3 (RGB). Default: 1 when the first image is grey, else 3. */
  channels?: 1 | 3;
  signal?: AbortSignal;
}

interface Instance {
  prompt: number;
  /** Step files in order. */
  files: FilePath[];
}

const natural = new Intl.Collator(undefined, { numeric: true }).compare;

/** One step table per step. Options are checked at the call. */
export function readImageFolder(root: FilePath, options: ImageFolderOptions = {}): StepSource {
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) {
    throw new OptionError("channels", `must be 1 or 3, not ${options.channels}`);
  }
  return steps(root, options);
}

/** The whole folder as one step table. */
export function loadImageFolder(root: FilePath, options: ImageFolderOptions = {}): Promise<StepTable> {
  return collectSteps(readImageFolder(root, options));
}

async function* steps(root: FilePath, options: ImageFolderOptions): AsyncGenerator<StepTable> {
  const { prompts, instances } = await layout(root);
  const stepCount = Math.max(...instances.map((i) => i.files.length));
  let shape: ImageShape | undefined;
  let channels = options.channels;
  for (let s = 0; s < stepCount; s++) {
    throwIfAborted(options.signal, "reading the image folder");
    const rows = [...instances.keys()].filter((i) => s < instances[i].files.length);
    const images: Float32Array[] = [];
    for (const i of rows) {
      const file = instances[i].files[s];
      const png = await decodeFile(file);
      channels ??= png.channels <= 2 && !png.palette ? 1 : 3;
      shape ??= [channels, png.height, png.width];
      if (png.height !== shape[1] || png.width !== shape[2]) {
        throw new DimensionError(`${String(file)} is ${png.width}×${png.height}, the first image ${shape[2]}×${shape[1]}`, { column: "image", row: images.length });
      }
      images.push(toChannels(png, channels, file));
    }
    const dim = shape![0] * shape![1] * shape![2];
    const image = new Float32Array(rows.length * dim);
    images.forEach((im, r) => image.set(im, r * dim));
    yield stepTable({
      instance: Int32Array.from(rows),
      prompt: Int32Array.from(rows, (i) => instances[i].prompt),
      prompts,
      step: new Int32Array(rows.length).fill(s),
      image,
      imageShape: shape,
    });
  }
}

async function layout(root: FilePath): Promise<{ prompts: string[]; instances: Instance[] }> {
  const visible = (e: { name: string }) => !e.name.startsWith(".");
  const prompts: string[] = [];
  const instances: Instance[] = [];
  const promptDirs = (await listDirectory(root)).filter((e) => e.directory && visible(e)).map((e) => e.name).sort(natural);
  for (const name of promptDirs) {
    const dir = joinPath(root, name);
    const instanceDirs = (await listDirectory(dir)).filter((e) => e.directory && visible(e)).map((e) => e.name).sort(natural);
    const found: Instance[] = [];
    for (const inst of instanceDirs) {
      const instDir = joinPath(dir, inst);
      const files = (await listDirectory(instDir))
        .filter((e) => !e.directory && visible(e) && e.name.toLowerCase().endsWith(".png"))
        .map((e) => e.name)
        .sort(natural)
        .map((f) => joinPath(instDir, f));
      if (files.length) found.push({ prompt: prompts.length, files });
    }
    if (found.length) {
      prompts.push(name);
      instances.push(...found);
    }
  }
  if (instances.length === 0) throw new OptionError("root", `${String(root)} holds no <prompt>/<instance>/<step>.png images`);
  return { prompts, instances };
}

async function decodeFile(file: FilePath): Promise<DecodedPng> {
  const bytes = await readFileBytes(file);
  try {
    return decode(bytes);
  } catch (error) {
    throw new FormatError(`${String(file)} is not a PNG image: ${(error as Error).message}`, { column: "image" });
  }
}

/** Channel-major values in [0, 1] with `channels` channels. */
function toChannels(png: DecodedPng, channels: 1 | 3, file: FilePath): Float32Array {
  const { width, height } = png;
  let data: ArrayLike<number> = png.data, have = png.channels, max = 2 ** png.depth - 1;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    have = data.length / (width * height);
    max = 255;
  } else if (png.depth < 8) {
    throw new FormatError(`${String(file)} has ${png.depth}-bit samples; save 8- or 16-bit PNGs`, { column: "image" });
  }
  const colour = have >= 3;
  const pixels = width * height;
  const out = new Float32Array(channels * pixels);
  for (let p = 0; p < pixels; p++) {
    const at = p * have;
    const r = data[at] / max, g = colour ? data[at + 1] / max : r, b = colour ? data[at + 2] / max : r;
    if (channels === 1) {
      out[p] = colour ? 0.299 * r + 0.587 * g + 0.114 * b : r;
    } else {
      out[p] = r;
      out[pixels + p] = g;
      out[2 * pixels + p] = b;
    }
  }
  return out;
}
