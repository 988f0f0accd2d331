/**
 * `diffusion-life watch`: the live viewer on the default generator (no
 * argument), a recorded step table (a file, replayed step by step) or an
 * Arrow IPC stream on stdin (`-`, e.g. from `diffusion-life generate -o -`).
 * A file is replayed one step at a time, --interval ms apart. With
 * --backlog n, at most n complete steps wait for the embedder: when a source
 * outruns it, the oldest waiting steps are dropped (and counted on the page),
 * which bounds memory and the frames' latency.
 * Serves on 127.0.0.1 unless --host says otherwise, and keeps serving after
 * the generation ends until Ctrl-C (or stops then, with --once).
 */
import { type Observable, tap } from "rxjs";
import { tablesPerStep } from "../data/per_step.ts";
import type { StepTable } from "../data/step_table.ts";
import { startViewer } from "../viewer/start.ts";
import { readRecording } from "../sources/recording.ts";
import { fromAsync } from "../stream/from_async.ts";
import { liveMnistDiffusion } from "../stream/live_mnist.ts";
import { loadMnist } from "../sources/mnist.ts";
import { runLive } from "../viewer/run_live.ts";
import { ViewerSession } from "../viewer/viewer_session.ts";
import { BasisPanel } from "../viewer/basis_panel.ts";
import { type Command, UsageError } from "./args.ts";
import { chooseEncoders, ENCODER_FLAGS } from "./encoding.ts";
import { digitCondition } from "./explain.ts";
import { basisEngine } from "./geometry.ts";
import { GENERATOR_FLAGS, generatorOptions } from "./generate.ts";
import { chooseLayouts, knownLayoutNames } from "./layouts.ts";
import { progressBar } from "./progress.ts";
import { NATS_FLAGS } from "./nats_flags.ts";
import { watchRun } from "./watch_run.ts";

export const watch: Command = {
  name: "watch",
  summary: "Serve the live viewer while the default generator runs (or a recording is replayed, stdin streams in, or a run on NATS is embedded).",
  positionals: "[<steps.arrow> | -]",
  flags: {
    host: { type: "string", value: "<host>", help: "interface to listen on (default 127.0.0.1: this machine only)" },
    port: { type: "string", short: "p", value: "<port>", help: "port (default 8080; 0 picks a free one)" },
    ...GENERATOR_FLAGS,
    ...ENCODER_FLAGS,
    layout: {
      type: "string",
      short: "l",
      value: "<names>",
      help: `views: ${knownLayoutNames()}, or a module whose default export is a Layout; several comma-separated (default radial,rectilinear,tree)`,
    },
    iterations: { type: "string", value: "<n>", help: "embedding iterations per new step (default 50)" },
    threshold: { type: "string", value: "<h>", help: "lineage tree cut height (default 1.5)" },
    interval: { type: "string", value: "<ms>", help: "pause between the steps of a replayed file (default 200)" },
    backlog: { type: "string", value: "<n>", help: "complete steps that may wait for the embedder; more, and the oldest are dropped (default: no limit)" },
    once: { type: "boolean", help: "stop serving when the generation is done" },
    ...NATS_FLAGS,
    basis: {
      type: "boolean",
      help: "the hovered point shows its local latent basis: the 6 directions of x_t the denoiser is most sensitive to (the U-Net's full Jacobian: seconds a point)",
    },
    explain: {
      type: "boolean",
      help: "explain as the steps come: the hovered point shows its class scores and commitment step (the digit encoder's), its concept projections " +
        "(against \"any digit\"), its denoising level; tree nodes are filled by the share committed (DF-RISE saliency is too costly live: see the explain command)",
    },
  },
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError("watch takes at most one step table: a file, or - for stdin");
    // A run on NATS: its embedder (embed-run) makes the frames; this viewer follows them.
    if (args.string("nats") !== undefined) {
      if (args.positionals.length > 0) throw new UsageError("watch --nats follows a run: it takes no step table");
      return watchRun(args, io);
    }
    const [input] = args.positionals;
    const port = args.integer("port", 8080, 0, 65535);
    const host = args.string("host") ?? "127.0.0.1";
    const iterations = args.integer("iterations", 50, 1);
    const threshold = args.number("threshold", 1.5, 0);
    const interval = args.number("interval", 200, 0);
    const seed = args.integer("seed", 0);
    const backlog = args.string("backlog") === undefined ? undefined : args.integer("backlog", 0, 1);
    const chosen = await chooseLayouts(args.string("layout") ?? "radial,rectilinear,tree");
    const layouts = chosen.filter((c) => c !== "tree");
    const { signal } = io;

    let source: Observable<StepTable>;
    let total = 0;
    if (input === undefined) {
      const options = await generatorOptions(args);
      total = options.steps ?? 20;
      source = liveMnistDiffusion(options);
      // Parsing the digits holds the thread for seconds: before the server starts, not while a page loads.
      if (!options.denoiser) await loadMnist();
    } else {
      source = fromAsync(async function* (stop) {
        for await (const table of readRecording(input === "-" ? io.stdin() : input, { signal: stop })) {
          if (input === "-") yield table; // live: as it comes
          else {
            // A replay: one step at a time, paced.
            for (const step of tablesPerStep(table)) {
              yield step;
              if (interval > 0) await new Promise((resolve) => setTimeout(resolve, interval));
            }
          }
        }
      });
    }
    const encoders = await chooseEncoders(args, (text) => io.stderr(`diffusion-life watch: ${text}`));
    const session = new ViewerSession();
    const basis = args.flag("basis")
      ? new BasisPanel((await basisEngine(args, "full")).engine, { condition: digitCondition })
      : undefined;
    const server = await startViewer(session, { host, port, basis });
    await io.stdout(`viewer: ${server.url} (Ctrl-C to stop)\n`);
    const bar = progressBar("steps", io, args);
    let received = 0;
    try {
      await runLive(source.pipe(tap((table) => basis?.addSteps(table)), tap(() => ++received && total > 0 && bar.update(received, total))), session, {
        encoders,
        layouts,
        tree: chosen.includes("tree"),
        iterations,
        threshold,
        seed,
        signal,
        backlog,
        explain: args.flag("explain")
          ? { classifier: await (await import("../encoders/digit.ts")).digitEncoder({ output: "logits" }), baseline: "any digit" }
          : undefined,
      });
      bar.finish();
      await io.stdout(`done: ${received} step table${received === 1 ? "" : "s"} embedded${args.flag("once") ? "" : "; still serving (Ctrl-C to stop)"}\n`);
      if (!args.flag("once")) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    } catch (error) {
      // Ctrl-C is how a viewer is stopped: not an error.
      if (!signal.aborted) throw error;
    } finally {
      await server.close();
    }
  },
};
