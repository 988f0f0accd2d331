/**
 * The runtime adapter for writing results (tables, pictures, reports):
 * node:fs, which Node, Deno and Bun all provide. Reading goes through
 * src/sources/files.ts. Failures become OptionErrors naming the path.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { type Table, tableToIPC } from "apache-arrow";
import { OptionError } from "../errors.ts";

/** Writes bytes or text, creating the folders on the way. */
export async function writeOutput(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, data);
  } catch (error) {
    throw new OptionError("path", `cannot write ${path}: ${(error as Error).message}`);
  }
}

/** Writes a table as an Arrow IPC file. */
export function writeTable(path: string, table: Table): Promise<void> {
  return writeOutput(path, tableToIPC(table, "file"));
}
