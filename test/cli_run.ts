/** Runs a command of the CLI in this process, its output captured as text. */
import type { CliIO } from "../src/cli/args.ts";
import { main } from "../src/cli/main.ts";

export async function runCli(argv: string[], signal = new AbortController().signal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "", stderr = "";
  const io: CliIO = {
    stdout: async (data) => void (stdout += typeof data === "string" ? data : new TextDecoder().decode(data)),
    stderr: (text) => void (stderr += text),
    stdin: async function* () {},
    stderrIsTTY: false,
    signal,
  };
  return { code: await main(argv, io), stdout, stderr };
}
