/**
 * Worker side of the parallel semantic gradient: holds the affinities of
 * the steps it was given and, while a run lasts, computes the KL gradient of
 * its assigned steps in place (points and gradients are shared memory), or
 * its rows of one split step's repulsion, every time the main thread bumps
 * the iteration counter.
 */
import { type Kernel, studentT, type StudentTOptions } from "../kernel.ts";
import type { SparseMatrix } from "../sparse.ts";
import type { KlReply, KlRun, KlStep, KlWorkerMessage } from "./messages.ts";
import { claimChunks } from "./chunks.ts";
import { awaitChange } from "./spin.ts";
import { parentPort } from "./worker_port.ts";

interface Held {
  y: Float64Array;
  grad: Float64Array;
  P: SparseMatrix;
}

const steps = new Map<number, Held>();
const port = await parentPort();
const post = (m: KlReply) => port.post(m);

port.listen((message) => {
  const m = message as KlWorkerMessage;
  if (m.type === "step") hold(m);
  else run(m);
});

function hold(m: KlStep): void {
  steps.set(m.id, { y: m.y, grad: m.grad, P: { n: m.n, rowPtr: m.rowPtr, col: m.col, val: m.val } });
}

// Kernels are kept across runs: a fresh one would start its hot loops cold
// (V8 keeps type feedback per closure), which costs a short run much of its speed.
const kernels = new Map<string, Kernel>();

function run({ ids, ctrl, params, slot, kernel: options, split }: KlRun): void {
  const key = JSON.stringify(options);
  const kernel = kernels.get(key) ?? kernels.set(key, studentT(options as StudentTOptions)).get(key)!;
  const mine = ids.map((id) => steps.get(id)!);
  const work = split
    ? () => claimChunks(kernel, mine[0].y, mine[0].P, split.out, ctrl, split.claim)
    : () => mine.forEach((s) => kernel.klGradient(s.y, s.P, params[0], params[1], s.grad));
  let seen = 0;
  for (;;) {
    awaitChange(ctrl, 0, seen);
    const seq = Atomics.load(ctrl, 0);
    if (seq < 0) break;
    seen = seq;
    try {
      work();
      Atomics.store(ctrl, 1 + slot, seq);
    } catch (error) {
      Atomics.store(ctrl, 1 + slot, -1);
      post({ type: "error", message: String((error as Error)?.stack ?? error) });
    }
    Atomics.notify(ctrl, 1 + slot);
  }
  post({ type: "idle" });
}
