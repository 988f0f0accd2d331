/**
 * `diffusion-life embed-run`: the embedder of a run on NATS JetStream. Reads
 * the run's steps from every producer (a durable consumer), encodes them,
 * embeds each as it comes, checkpoints and acknowledges after every update,
 * and publishes the frames and the lineage tree for `watch --nats`. Killed,
 * and started again with the same flags, it resumes from its checkpoint.
 * When every producer has ended it writes the final frame (-o).
 */
import { lastValueFrom, tap } from "rxjs";
import { readFrameTable } from "../data/frame_table.ts";
import { embedRun } from "../jetstream/embed_run.ts";
import { checkToken } from "../jetstream/run_subjects.ts";
import { type Command, UsageError } from "./args.ts";
import { chooseEncoders, ENCODER_FLAGS } from "./encoding.ts";
import { chooseLayouts, knownLayoutNames } from "./layouts.ts";
import { connectNats, NATS_FLAGS } from "./nats_flags.ts";

export const runEmbedder: Command = {
  name: "embed-run",
  summary: "Embed a run on NATS JetStream as its producers publish it, resuming from a checkpoint; frames go to its watchers.",
  positionals: "",
  flags: {
    ...NATS_FLAGS,
    producers: { type: "string", value: "<names|n>", help: 'the run\'s producers: names, comma-separated, or a count n for "0".."n-1"' },
    checkpoint: { type: "string", value: "<file>", help: "the checkpoint, written after every update and resumed from (default <run>.checkpoint.arrow)" },
    output: { type: "string", short: "o", value: "<file>", help: "the final frame, an Arrow IPC file (default <run>.frames.arrow)" },
    layout: { type: "string", short: "l", value: "<name>", help: `${knownLayoutNames()}, or a module whose default export is a Layout (default radial)` },
    ...ENCODER_FLAGS,
    iterations: { type: "string", value: "<n>", help: "embedding iterations per new step (default 50)" },
    threshold: { type: "string", value: "<h>", help: "lineage tree cut height (default 1.5)" },
    seed: { type: "string", value: "<n>", help: "seed of the embedding (default 0)" },
    durable: { type: "string", value: "<name>", help: 'the durable consumer (default "embedder")' },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`embed-run takes no positional arguments, got "${args.positionals[0]}"`);
    const list = args.string("producers");
    if (!list) throw new UsageError('embed-run needs --producers: their names ("gpu0,gpu1") or their count');
    const producers = /^\d+$/.test(list) ? Array.from({ length: Number(list) }, (_, i) => String(i)) : list.split(",").map((p) => checkToken("producers", p.trim()));
    if (producers.length === 0) throw new UsageError("--producers names none");
    const [layout] = await chooseLayouts(args.string("layout") ?? "radial");
    if (layout === "tree") throw new UsageError("--layout: the lineage tree is published with every frame; name a layout");
    const encoders = await chooseEncoders(args, (text) => io.stderr(`diffusion-life embed-run: ${text}`));
    const { nc, run } = await connectNats(args, "embed-run");
    const out = args.string("output") ?? `${run}.frames.arrow`;
    try {
      await io.stdout(`run ${run}: waiting for ${producers.length} producer${producers.length === 1 ? "" : "s"} (${producers.join(", ")})\n`);
      const last = await lastValueFrom(
        embedRun(nc, {
          run,
          producers,
          checkpoint: args.string("checkpoint") ?? `${run}.checkpoint.arrow`,
          out,
          durable: args.string("durable"),
          encoders,
          layout,
          iterationsPerStep: args.integer("iterations", 50, 1),
          seed: args.integer("seed", 0),
          tree: { threshold: args.number("threshold", 1.5, 0) },
        }).pipe(
          tap(({ frame, consumer }) => {
            const u = readFrameTable(frame).update!;
            const what = u.final ? "final frame" : `steps ${u.steps.join(", ")}`;
            void io.stdout(`update ${u.update}: ${what}, ${frame.numRows} rows; ${consumer.duplicateRows} delivered twice, ${consumer.deadLetters} dead letters\n`);
          }),
        ),
      ).catch((error) => {
        if (error?.name === "EmptyError") throw new UsageError("the run ended without an update");
        throw error;
      });
      await io.stdout(`${out}: ${last.frame.numRows} rows\n`);
    } finally {
      await nc.close();
    }
  },
};
