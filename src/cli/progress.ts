/**
 * Progress bars on standard error: one line redrawn in place, at most ten
 * times a second, finished with a newline. Drawn only when stderr is a
 * terminal or --progress asks for them, so pipes and logs stay clean.
 */
import type { CliIO, ParsedArgs } from "./args.ts";

export interface Progress {
  update(done: number, total: number): void;
  /** Draws the final state and ends the line. */
  finish(): void;
}

const WIDTH = 24;
const NONE: Progress = { update() {}, finish() {} };

export function progressBar(label: string, io: CliIO, args: ParsedArgs): Progress {
  if (!io.stderrIsTTY && !args.flag("progress")) return NONE;
  let last = -Infinity, line = "", state = { done: 0, total: 0 }, drawn = false;
  const draw = () => {
    const { done, total } = state;
    const share = total > 0 ? Math.min(1, done / total) : 0;
    const full = Math.round(share * WIDTH);
    const next = `${label} [${"#".repeat(full)}${"-".repeat(WIDTH - full)}] ${String(Math.floor(share * 100)).padStart(3)}% ${done}/${total}`;
    io.stderr(`\r${next}${" ".repeat(Math.max(0, line.length - next.length))}`);
    line = next;
    drawn = true;
    last = performance.now();
  };
  return {
    update(done, total) {
      state = { done, total };
      if (performance.now() - last >= 100 || done >= total) draw();
    },
    finish() {
      if (!drawn && state.total === 0) return;
      draw();
      io.stderr("\n");
    },
  };
}
