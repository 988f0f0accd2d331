/**
 * The `diffusion-life` command line: dispatches to a command, prints help,
 * and turns errors into one line on stderr and an exit code — 0 done,
 * 1 the work failed (a bad file, a typed error), 2 the command line is wrong,
 * 130 interrupted. Set DIFFUSION_LIFE_DEBUG=1 for the stack trace.
 */
import { CancelledError } from "../errors.ts";
import { VERSION } from "../version.ts";
import { type CliIO, type Command, help, parse, UsageError } from "./args.ts";
import { embed } from "./embed.ts";
import { generate } from "./generate.ts";
import { watch } from "./watch.ts";

const COMMANDS: readonly Command[] = [generate, embed, watch];

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
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const command = COMMANDS.find((c) => c.name === rest[0]);
    await io.stdout(command ? help(command) : USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    await io.stdout(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr(`diffusion-life: unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")}; see --help)\n`);
    return 2;
  }
  try {
    const args = parse(command, [...rest]);
    if (args.flag("help")) {
      await io.stdout(help(command));
      return 0;
    }
    await command.run(args, io);
    return 0;
  } catch (error) {
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
