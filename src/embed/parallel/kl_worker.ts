/**
 * Worker side of the parallel semantic gradient: holds the affinities of
 * the steps it was given and, while a run lasts, every time the main thread
 * bumps the iteration counter, claims steps (their KL gradients go to the
 * steps' shared buffers) or, for one split step, chunks of its rows.
 */
import { type Kernel, studentT, type StudentTOptions } from "../kernel.ts";
import type { KlReply, KlRun, KlStep, KlWorkerMessage } from "./messages.ts";
import { claimChunks, claimSteps, type KlStepView } from "./chunks.ts";
import { awaitChange } from "./spin.ts";
import { parentPort } from "./worker_port.ts";

const steps = new Map<number, KlStepView>();
const port = await parentPort();
const post = (m: KlReply) => port.post(m);

port.listen((message) => {
  const m = message as KlWorkerMessage;
  if (m.type === "step") hold(m);
  else run(m);
});

function hold(m: KlStep): void {
  steps.set(m.id, { y: m.y, kl: m.kl, P: { n: m.n, rowPtr: m.rowPtr, col: m.col, val: m.val } });
}

// Kernels are kept across runs: a fresh one would start its hot loops cold
// (V8 keeps type feedback per closure), which costs a short run much of its speed.
const kernels = new Map<string, Kernel>();

function run({ ids, ctrl, params, slot, claim, kernel: options, split }: KlRun): void {
  const key = JSON.stringify(options);
  const kernel = kernels.get(key) ?? kernels.set(key, studentT(options as StudentTOptions)).get(key)!;
  const mine = ids.map((id) => steps.get(id)!);
  const work = split
    ? () => claimChunks(kernel, mine[0].y, mine[0].P, split.out, ctrl, claim)
    : () => claimSteps(kernel, mine, params[0], params[1], ctrl, claim);
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
