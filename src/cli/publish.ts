/**
 * `diffusion-life publish`: a producer of a run on NATS JetStream. Runs the
 * default generator (or reads a step table: a file, or - for an Arrow IPC
 * stream on stdin) and publishes each step as it is made; ends with the
 * producer's end. Several producers of one run give their instances
 * different ids (--instance-offset) and seeds.
 */
import { concatMap, from, lastValueFrom, map, type Observable, tap } from "rxjs";
import { tablesPerStep } from "../data/per_step.ts";
import { buildStepTable, readStepTable, type StepTable } from "../data/step_table.ts";
import { publishSteps } from "../jetstream/publish_steps.ts";
import { OutOfRangeError } from "../errors.ts";
import { readRecording } from "../sources/recording.ts";
import { liveMnistDiffusion } from "../stream/live_mnist.ts";
import { fromAsync } from "../stream/from_async.ts";
import { type Command, UsageError } from "./args.ts";
import { GENERATOR_FLAGS, generatorOptions } from "./generate.ts";
import { connectNats, NATS_FLAGS } from "./nats_flags.ts";
import { progressBar } from "./progress.ts";

export const publish: Command = {
  name: "publish",
  summary: "Publish a generation's steps to a run on NATS JetStream (the default generator, or a step table) as one of its producers.",
  positionals: "[<steps.arrow> | -]",
  flags: {
    ...NATS_FLAGS,
    producer: { type: "string", value: "<name>", help: 'this producer\'s name in the run (default "0")' },
    "instance-offset": { type: "string", value: "<n>", help: "added to every instance id, so producers of one run do not share ids (default 0)" },
    ...GENERATOR_FLAGS,
  },
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError("publish takes at most one step table: a file, or - for stdin");
    const [input] = args.positionals;
    const producer = args.string("producer") ?? "0";
    const offset = args.integer("instance-offset", 0, 0, 2 ** 30);
    const { nc, run } = await connectNats(args, "publish");
    try {
      let source: Observable<StepTable>, total = 0;
      if (input === undefined) {
        const options = await generatorOptions(args, io.signal);
        total = options.steps ?? 20;
        source = liveMnistDiffusion(options);
      } else {
        source = fromAsync((stop) => readRecording(input === "-" ? io.stdin() : input, { signal: stop })).pipe(concatMap((t) => from(tablesPerStep(t))));
      }
      const bar = progressBar(`publishing to ${run}`, io, args);
      let steps = 0, rows = 0, bytes = 0;
      await lastValueFrom(
        source.pipe(
          map((table) => (offset === 0 ? table : shifted(table, offset))),
          publishSteps(nc, { run, producer, signal: io.signal }),
          tap((p) => {
            steps++, rows += p.rows, bytes += p.bytes;
            bar.update(steps, Math.max(total, steps));
          }),
        ),
        { defaultValue: undefined },
      );
      bar.finish();
      await io.stdout(`published ${steps} steps (${rows} rows, ${(bytes / 1e6).toFixed(1)} MB) to run ${run} as producer ${producer}\n`);
    } finally {
      await nc.drain().catch(() => nc.close());
    }
  },
};

/** The table with `offset` added to its instance ids. */
function shifted(table: StepTable, offset: number): StepTable {
  const cols = readStepTable(table);
  const top = cols.instance.reduce((m, id) => Math.max(m, id), 0);
  if (top + offset > 2 ** 31 - 1) throw new OutOfRangeError(`instance ${top} + --instance-offset ${offset} does not fit Int32`, { column: "instance" });
  return buildStepTable({ ...cols, instance: cols.instance.map((id) => id + offset) });
}
