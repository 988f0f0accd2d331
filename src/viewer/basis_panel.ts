/**
 * The hovered node's local latent basis in the live viewer (`watch --basis`,
 * route `/basis?instance=I&step=S`): the panel keeps each row's x_t as the
 * steps come and, when a page asks, computes the top-k basis there with the
 * generating denoiser's engine and draws its vectors in a grid, three to a
 * row (red +, blue −, each scaled to its own largest value).
 *
 * A basis costs from a fraction of a second (the closed form) to seconds
 * (the U-Net's full Jacobian), so requests run one at a time, a request
 * whose page has moved on (its signal aborted) is dropped before it starts,
 * and results are kept.
 */
import { encode as encodePng } from "fast-png";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import { type BasisEngine, rankOf } from "../geometry/local_basis.ts";
import { levelAt } from "../geometry/readings.ts";
import { noiseSchedule } from "../sources/schedule.ts";

export interface BasisPanelOptions {
  /** Basis vectors shown (default 6). */
  k?: number;
  /** The denoiser's condition for a prompt label (−1 = unconditional). */
  condition: (prompt: string) => number;
  /** The denoiser's value range that `noisy` was rescaled from to [0, 1] (default [−1, 1]). */
  range?: readonly [number, number];
}

const GAP = 2, COLUMNS = 3;

export class BasisPanel {
  readonly #points = new Map<string, { xt: Float32Array; prompt: string; timestep: number; width: number; height: number }>();
  readonly #done = new Map<string, Promise<Uint8Array | undefined>>();
  readonly #schedule = noiseSchedule("cosine");
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly engine: BasisEngine, readonly options: BasisPanelOptions) {}

  /** Keeps the x_t of every row that has one (a table without `noisy` adds nothing). */
  addSteps(table: StepTable): void {
    const cols = readStepTable(table, { image: false });
    const shape = cols.imageShape;
    if (!cols.noisy || !cols.timestep || !shape || shape[0] !== 1) return;
    const dim = shape[1] * shape[2];
    for (let r = 0; r < cols.instance.length; r++) {
      this.#points.set(`${cols.instance[r]}/${cols.step[r]}`, {
        xt: cols.noisy.slice(r * dim, (r + 1) * dim),
        prompt: cols.prompts[cols.prompt[r]],
        timestep: cols.timestep[r],
        width: shape[2],
        height: shape[1],
      });
    }
  }

  has(instance: number, step: number): boolean {
    return this.#points.has(`${instance}/${step}`);
  }

  /** The basis at that node as a PNG, or undefined when J vanishes there (the closed form after its collapse) or the page left. */
  png(instance: number, step: number, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    const key = `${instance}/${step}`;
    const cached = this.#done.get(key);
    if (cached) return cached;
    const point = this.#points.get(key);
    if (!point) return Promise.resolve(undefined);
    const result = this.#queue.then(async () => {
      if (signal?.aborted) {
        this.#done.delete(key); // not computed: a later request computes it
        return undefined;
      }
      const [lo, hi] = this.options.range ?? [-1, 1];
      const xt = Float64Array.from(point.xt, (v) => lo + (hi - lo) * v);
      const k = this.options.k ?? 6;
      const basis = await this.engine.basis(xt, levelAt(this.#schedule, point.timestep), this.options.condition(point.prompt), k);
      const rank = basis.values.length > 0 ? rankOf(basis) : 0;
      return basis.vectors && rank > 0 ? drawVectors(basis.vectors, Math.min(rank, k), point.width, point.height) : undefined;
    });
    this.#queue = result.catch(() => undefined);
    this.#done.set(key, result);
    return result;
  }
}

/** k vectors of w×h, v1 first, in rows of up to COLUMNS (the panel's width), GAP white pixels apart. */
function drawVectors(vectors: Float64Array, k: number, w: number, h: number): Uint8Array {
  const columns = Math.min(k, COLUMNS), rows = Math.ceil(k / columns);
  const width = columns * w + (columns - 1) * GAP, height = rows * h + (rows - 1) * GAP;
  const data = new Uint8Array(width * height * 3).fill(255);
  for (let c = 0; c < k; c++) {
    const v = vectors.subarray(c * w * h, (c + 1) * w * h);
    const ox = (c % columns) * (w + GAP), oy = Math.floor(c / columns) * (h + GAP);
    let big = 0;
    for (const x of v) big = Math.max(big, Math.abs(x));
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const t = big > 0 ? v[y * w + x] / big : 0;
        const a = Math.round(255 * (1 - Math.abs(t)));
        data.set(t >= 0 ? [255, a, a] : [a, a, 255], ((oy + y) * width + ox + x) * 3);
      }
    }
  }
  return new Uint8Array(encodePng({ width, height, data, channels: 3, depth: 8 }));
}

/** The `/basis` route: 400 without integer parameters, 404 without the node or a panel; else the PNG, sent once computed. */
export function basisResponse(panel: BasisPanel | undefined, params: URLSearchParams, signal: AbortSignal): Response {
  const int = (name: string) => {
    const raw = params.get(name);
    return raw !== null && /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
  };
  const instance = int("instance"), step = int("step");
  const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  if (instance === undefined || step === undefined) return text(400, "instance and step must be given, as integers\n");
  if (!panel) return text(404, "no basis panel (watch --basis)\n");
  if (!panel.has(instance, step)) return text(404, `no x_t of instance ${instance} at step ${step}\n`);
  // The handler answers at once; the body follows when the basis is done. No basis there (J = 0,
  // a failed engine, a page gone) leaves it empty: not an image, so the page hides the panel.
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const png = await panel.png(instance, step, signal).catch(() => undefined);
      if (png) controller.enqueue(png);
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "image/png", "cache-control": "no-store" } });
}
