/** The shape of a benchmark case and small timing and memory helpers. */
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

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
