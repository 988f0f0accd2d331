/** The shape of a benchmark case and small timing and memory helpers. */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";

export interface BenchCase {
  name: string;
  /** Yields one record per measurement; each becomes a JSON line. */
  run(): AsyncIterable<Record<string, unknown>>;
}

export async function timed<T>(f: () => T | Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await f();
  return [value, performance.now() - t];
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** The process's resident memory now, in MiB (all three runtimes report it through node:process). */
export const rssMiB = (): number => Math.round(process.memoryUsage().rss / 2 ** 20);

/**
 * A case's peak resident memory, in MiB. On Linux from VmHWM, reset at the
 * start (5 written to /proc/self/clear_refs) so that an earlier case's peak
 * does not count: it sees every thread's allocations, however briefly held,
 * which samples taken between iterations miss. Elsewhere the largest of the
 * samples taken by `sample()`.
 */
export function peakRss(): { sample(): void; read(): { peakMiB: number; from: "VmHWM" | "samples" } } {
  let sampled = rssMiB(), exact = true;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    exact = false;
  }
  return {
    sample: () => void (sampled = Math.max(sampled, rssMiB())),
    read() {
      const kB = exact ? /VmHWM:\s*(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] : undefined;
      return kB === undefined ? { peakMiB: sampled, from: "samples" } : { peakMiB: Math.round(Number(kB) / 1024), from: "VmHWM" };
    },
  };
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
