/**
 * Ctrl-C, `kill` and `timeout`: the first SIGINT or SIGTERM cancels the
 * work through the controller (every long phase checks it between batches,
 * and the command ends with exit code 130); a second one ends the process at
 * once, whatever it is doing (130 after SIGINT, 143 after SIGTERM).
 */

export type StopSignal = "SIGINT" | "SIGTERM";

/** What of `process` this needs (injected, so tests send signals of their own). */
export interface SignalTarget {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

const EXIT_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Installs the listeners; returns their removal. `exit` ends the process (process.exit). */
export function cancelOnSignals(controller: AbortController, target: SignalTarget, exit: (code: number) => void): () => void {
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => {
    const listener = () => {
      if (controller.signal.aborted) exit(EXIT_CODE[signal]);
      else controller.abort();
    };
    target.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => listeners.forEach(([signal, listener]) => target.off(signal, listener));
}
