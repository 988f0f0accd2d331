/**
 * `diffusion-life watch --nats <url> --run <name>`: the live viewer on a run
 * that an embedder elsewhere (`embed-run`) embeds — its frames, its lineage
 * tree and the producers' images, replayed from the run's start, so any
 * number of viewers on any machines show the same tree.
 */
import { filter, lastValueFrom, tap } from "rxjs";
import { followRun } from "../jetstream/follow_run.ts";
import { startViewer } from "../viewer/start.ts";
import { ViewerSession } from "../viewer/viewer_session.ts";
import type { CliIO, ParsedArgs } from "./args.ts";
import { connectNats } from "./nats_flags.ts";

export async function watchRun(args: ParsedArgs, io: CliIO): Promise<void> {
  const { nc, run } = await connectNats(args, "watch");
  const session = new ViewerSession();
  const server = await startViewer(session, { host: args.string("host") ?? "127.0.0.1", port: args.integer("port", 8080, 0, 65535) });
  const { signal } = io;
  try {
    await io.stdout(`viewer: ${server.url} following run ${run} (Ctrl-C to stop)\n`);
    session.setStatus("running");
    let frames = 0;
    const stop = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([
      stop,
      lastValueFrom(
        followRun(nc, { run, steps: true }).pipe(
          tap((e) => {
            if (e.kind === "steps") session.addSteps(e.table);
            else if (e.kind === "tree") session.setTree(e.tree);
            else session.addFrame(e.view, e.frame), frames++;
          }),
          filter(() => false),
        ),
        { defaultValue: undefined },
      ),
    ]);
    if (signal.aborted) return;
    session.setStatus("done");
    await io.stdout(`done: ${frames} frames${args.flag("once") ? "" : "; still serving (Ctrl-C to stop)"}\n`);
    if (!args.flag("once")) await stop;
  } catch (error) {
    if (!signal.aborted) {
      session.setStatus("failed", (error as Error).message);
      throw error;
    }
  } finally {
    await server.close();
    await nc.close();
  }
}
