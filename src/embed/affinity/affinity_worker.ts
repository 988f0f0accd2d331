/**
 * Worker side of the shared affinities: claims blocks of a task from the
 * shared counter until none is left, counting each block settled (and
 * failed, where it threw). The block's work is made at the first claim, so a
 * thread that comes late to a task finds nothing to do and costs nothing.
 */
import { type AffinityRun, taskWork } from "./warm.ts";
import { parentPort } from "../../runtime/worker_port.ts";

const port = await parentPort();
const onRun = ({ task, ctrl }: AffinityRun) => {
  let work: ((block: number) => void) | undefined;
  for (let b = Atomics.add(ctrl, 0, 1); b < task.blocks; b = Atomics.add(ctrl, 0, 1)) {
    try {
      work ??= taskWork(task);
      work(b);
    } catch (error) {
      port.post({ type: "error", message: String((error as Error)?.stack ?? error) });
      Atomics.add(ctrl, 2, 1);
    } finally {
      Atomics.add(ctrl, 1, 1);
      Atomics.notify(ctrl, 1);
    }
  }
};
port.listen((m) => onRun(m as AffinityRun));
