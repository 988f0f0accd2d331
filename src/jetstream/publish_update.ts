/**
 * The embedder's fan-out: each frame (per view) and lineage tree it makes,
 * published to the run's stream, where any number of watchers follow it
 * (`followRun`) — from the start, or joining late and replaying.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { natsClient } from "./nats_client.ts";
import type { FrameTable } from "../data/frame_table.ts";
import type { LineageTree } from "../lineage/lineage.ts";
import { chunk, encodeFrame, encodeLineage } from "./fan_out_messages.ts";
import { OptionError } from "../errors.ts";
import { HEADER, runSubjects } from "./run_subjects.ts";
import { withRetry } from "./retry.ts";

/**
 * Publishes one update of a view: its frame and, when given, the lineage
 * tree. `update` numbers the run's updates; message ids made of it keep a
 * restarted embedder that makes an update again from storing it twice.
 *
 * @example
 * ```ts
 * frames$.subscribe((frame) => publishUpdate(nc, { run: "digits", view: "radial", update: ++n, frame }));
 * ```
 */
export async function publishUpdate(nc: NatsConnection, u: { run: string; view: string; update: number; frame: FrameTable; tree?: LineageTree }): Promise<void> {
  const subjects = runSubjects(u.run);
  if (u.view === "tree") throw new OptionError("view", `"tree" is the lineage tree's view; name the layout's view otherwise`);
  const { jetstream, headers: natsHeaders } = await natsClient();
  const js = jetstream(nc);
  const max = nc.info?.max_payload ?? 1 << 20;
  const send = async (subject: string, bytes: Uint8Array, id: string) => {
    const parts = chunk(bytes, max);
    for (let k = 0; k < parts.length; k++) {
      const h = natsHeaders();
      h.set(HEADER.run, u.run);
      h.set(HEADER.view, subject === subjects.lineage ? "tree" : u.view);
      h.set(HEADER.update, String(u.update));
      h.set(HEADER.part, `${k}/${parts.length}`);
      await withRetry(() => js.publish(subject, parts[k], { headers: h, msgID: `${id}/${u.update}/${k}` }), {});
    }
  };
  // The tree first: a watcher that sees the final frame has everything.
  if (u.tree) await send(subjects.lineage, encodeLineage(u.tree), "tree");
  await send(subjects.view(u.view), encodeFrame(u.frame), `frame/${u.view}`);
}
