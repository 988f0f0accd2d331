/**
 * The `diffusion-life` command: `node --import tsx cli.ts …` (or the
 * package's bin), `deno run -A cli.ts …`, `bun cli.ts …`.
 */
import process from "node:process";
import { main } from "./src/cli/main.ts";

const controller = new AbortController();
process.once("SIGINT", () => controller.abort());
process.once("SIGTERM", () => controller.abort());

const code = await main(process.argv.slice(2), {
  stdout: (data) => new Promise<void>((resolve, reject) => process.stdout.write(data, (error) => (error ? reject(error) : resolve()))),
  stderr: (text) => void process.stderr.write(text),
  stdin: () => process.stdin,
  stderrIsTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
}, Boolean(process.env.DIFFUSION_LIFE_DEBUG));
// Exit now: a finished command leaves nothing worth waiting for (an idle stdin, a closed server's sockets).
process.exit(code);
