/**
 * Worker side of the parallel semantic gradient: holds the affinities of
 * the steps it was given and, while a run lasts, every time the main thread
 * bumps the iteration counter, claims steps (their KL gradients go to the
 * steps' shared buffers) or, for one split step, chunks of its rows.
 */
import { kernelFromRecipe } from "../kernel/threaded.ts";
import type { KlReply, KlRun, KlStep, KlWorkerMessage } from "./semantic_messages.ts";
import { claimChunks, claimSteps, type KlStepView } from "./semantic_chunks.ts";
import { awaitChange } from "../../runtime/spin.ts";
import { parentPort } from "../../runtime/worker_port.ts";
import { adoptPlacement } from "../wasm/attraction.ts";

const steps = new Map<number, KlStepView>();
const port = await parentPort();
const post = (m: KlReply) => port.post(m);

// Messages are handled in order: a run waits for its kernel before the next message is read.
let queue = Promise.resolve();
port.listen((message) => {
  const m = message as KlWorkerMessage;
  queue = queue.then(() => (m.type === "step" ? hold(m) : run(m))).catch((error) =>
    post({ type: "error", message: String((error as Error)?.stack ?? error) })
  );
});

function hold(m: KlStep): void {
  const P = { n: m.n, rowPtr: m.rowPtr, col: m.col, val: m.val };
  if (m.placement) adoptPlacement(P, m.y, m.placement);
  steps.set(m.id, { y: m.y, kl: m.kl, P });
}

async function run({ ids, ctrl, params, slot, claim, recipe, split }: KlRun): Promise<void> {
  const kernel = await kernelFromRecipe(recipe);
  const mine = ids.map((id) => steps.get(id)!);
  const work = split
    ? () => claimChunks(kernel.split!, mine[0].y, mine[0].P, split.out, split.workspace, ctrl, claim)
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
