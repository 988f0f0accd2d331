/**
 * The `diffusion-life` command line: dispatches to a command, prints help,
 * and turns errors into one line on stderr and an exit code — 0 done,
 * 1 the work failed (a bad file, a typed error), 2 the command line is wrong,
 * 130 interrupted, 141 standard output closed by its reader (quietly, as
 * Unix tools end on SIGPIPE). Set DIFFUSION_LIFE_DEBUG=1 for the stack trace.
 */
import { CancelledError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { closest } from "../util/closest.ts";
import { BrokenPipeError, type CliIO, type Command, help, parse, UsageError } from "./args.ts";
import { embed } from "./embed.ts";
import { generate } from "./generate.ts";
import { watch } from "./watch.ts";
import { explain } from "./explain.ts";
import { geometry } from "./geometry.ts";
import { publish } from "./publish.ts";
import { runEmbedder } from "./run_embedder.ts";

const COMMANDS: readonly Command[] = [generate, embed, watch, explain, geometry, publish, runEmbedder];

const USAGE = [
  "Usage: diffusion-life <command> [options]",
  "",
  "See how a diffusion model generates: the evolutionary embedding of its denoising steps.",
  "",
  "Commands:",
  ...COMMANDS.map((c) => `  ${c.name.padEnd(9)} ${c.summary}`),
  "",
  "Run diffusion-life <command> --help for its options (--version prints the version). Example:",
  "  diffusion-life generate -o steps.arrow && diffusion-life embed steps.arrow --layout radial,tree --png",
  "",
].join("\n");

export async function main(argv: readonly string[], io: CliIO, debug = false): Promise<number> {
  const [name, ...rest] = argv;
  // Help and the version to a reader that has gone (`| head -1`): nothing more to say.
  const say = (text: string) => io.stdout(text).catch((error) => {
    if (!(error instanceof BrokenPipeError)) throw error;
  });
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const command = COMMANDS.find((c) => c.name === rest[0]);
    await say(command ? help(command) : USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    await say(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const names = COMMANDS.map((c) => c.name);
    const guess = closest(name.replace(/^-+/, ""), names);
    io.stderr(`diffusion-life: unknown command "${name}"${guess ? ` (did you mean "${guess}"?)` : ""} (commands: ${names.join(", ")}; see --help)\n`);
    return 2;
  }
  try {
    const args = parse(command, [...rest]);
    if (args.flag("help")) {
      await say(help(command));
      return 0;
    }
    await command.run(args, io);
    return 0;
  } catch (error) {
    // The reader of our output went away (`| head`): stop quietly, as Unix tools do (128 + SIGPIPE).
    if (error instanceof BrokenPipeError) return 141;
    if (error instanceof CancelledError || io.signal.aborted) {
      io.stderr(`\ndiffusion-life ${name}: interrupted\n`);
      return 130;
    }
    const message = error instanceof Error ? error.message : String(error);
    // One line: a shell user wants the problem, not the library's insides.
    io.stderr(`diffusion-life ${name}: ${message.split("\n")[0]}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(error.stack + "\n");
    return error instanceof UsageError ? 2 : 1;
  }
}
