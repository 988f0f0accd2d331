/**
 * The `diffusion-life` command: `node --import tsx cli.ts …` (or the
 * package's bin), `deno run -A cli.ts …`, `bun cli.ts …`.
 */
import process from "node:process";
import { BrokenPipeError } from "./src/cli/args.ts";
import { main } from "./src/cli/main.ts";
import { cancelOnSignals } from "./src/cli/signals.ts";
import { removeTemporaryFiles } from "./src/runtime/write_files.ts";

const controller = new AbortController();
// The first Ctrl-C (or SIGTERM) cancels, the second ends the process at once.
cancelOnSignals(controller, process, (code) => process.exit(code));
process.on("exit", removeTemporaryFiles);

// A reader that goes away (`| head`) is not an error to print: stdout's writes reject with BrokenPipeError.
let stdoutGone = false;
const isBrokenPipe = (error: unknown) => (error as { code?: string } | null)?.code === "EPIPE";
process.stdout.on("error", (error) => void (isBrokenPipe(error) && (stdoutGone = true)));
process.stderr.on("error", () => {});
const stdout = (data: string | Uint8Array) =>
  new Promise<void>((resolve, reject) => {
    const done = (error?: unknown) => {
      if (!error) resolve();
      else if (isBrokenPipe(error) || stdoutGone) reject((stdoutGone = true, new BrokenPipeError()));
      else reject(error);
    };
    if (stdoutGone) return done(new BrokenPipeError());
    try {
      process.stdout.write(data, (error) => done(error ?? undefined));
    } catch (error) {
      done(error);
    }
  });

const code = await main(process.argv.slice(2), {
  stdout,
  stderr: (text) => {
    try {
      process.stderr.write(text);
    } catch {
      // stderr gone too: nothing to tell
    }
  },
  stdin: () => process.stdin,
  stderrIsTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
}, Boolean(process.env.DIFFUSION_LIFE_DEBUG));
// Exit now: a finished command leaves nothing worth waiting for (an idle stdin, a closed server's sockets).
process.exit(code);
