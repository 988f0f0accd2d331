/**
 * The runtime adapter for writing results (tables, pictures, reports):
 * node:fs, which Node, Deno and Bun all provide. Reading goes through
 * src/sources/files.ts. Failures become OptionErrors naming the path.
 *
 * Every write is atomic: the bytes go to a temporary file in the target's
 * folder (`.<name>.<random>.tmp`), flushed, then renamed over the target, so
 * no reader ever sees half a file and a failed write (a full disk) leaves the
 * previous file as it was. `OutputFiles` stages several files and renames
 * them all only at the end (`commit`), so a run that fails part-way leaves
 * every previous output as it was, not a mix of old and new.
 *
 * Folders are made one level at a time: mkdir's recursive mode never returns
 * in Node 20 for a path it cannot create under /proc (it spins), where this
 * fails at once.
 */
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { type Table, tableToIPC } from "apache-arrow";
import { OptionError } from "../errors.ts";

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Temporary files not yet renamed or removed: a process that must end at once removes them (`removeTemporaryFiles`). */
const temporary = new Set<string>();

/** Creates a folder and the folders above it that are missing, one level at a time. */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EEXIST") {
      if ((await stat(path)).isDirectory()) return;
      throw new Error(`${path} exists and is not a folder`);
    }
    const parent = dirname(path);
    if (code !== "ENOENT" || parent === path) throw error;
    await makeFolder(parent);
    await mkdir(path).catch((again) => {
      if ((again as { code?: string }).code !== "EEXIST") throw again;
    });
  }
}

/** Writes `data` to a new temporary file beside `path` and returns its name; nothing is left behind on failure. */
async function writeTemporary(path: string, data: Uint8Array | string): Promise<string> {
  const temp = join(dirname(path), `.${basename(path)}.${Math.random().toString(36).slice(2, 10)}.tmp`);
  temporary.add(temp);
  try {
    const handle = await open(temp, "wx");
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return temp;
  } catch (error) {
    await discard(temp);
    throw error;
  }
}

async function discard(temp: string): Promise<void> {
  temporary.delete(temp);
  await unlink(temp).catch(() => {});
}

/**
 * Makes sure `folder` exists (creating it) and that files can be created in
 * it, before any long work: an OptionError naming the folder otherwise.
 */
export async function prepareFolder(folder: string, option = "path"): Promise<void> {
  try {
    await makeFolder(folder);
    await discard(await writeTemporary(join(folder, "probe"), ""));
  } catch (error) {
    throw new OptionError(option, `cannot write to the folder ${folder}: ${reason(error)}`);
  }
}

/** Writes bytes or text atomically, creating the folders on the way. */
export async function writeOutput(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await makeFolder(dirname(path));
    const temp = await writeTemporary(path, data);
    await rename(temp, path).finally(() => discard(temp));
  } catch (error) {
    throw new OptionError("path", `cannot write ${path}: ${reason(error)}`);
  }
}

/** Writes a table as an Arrow IPC file, atomically. */
export function writeTable(path: string, table: Table): Promise<void> {
  return writeOutput(path, tableToIPC(table, "file"));
}

/**
 * The outputs of one run, all in one folder: each is written to a temporary
 * file as it is made, and all are renamed into place by `commit` (or removed
 * by `discard`), so the folder holds either every previous output or every
 * new one. `open` checks that the folder can be written before the run.
 */
export class OutputFiles {
  private readonly staged = new Map<string, string>();

  private constructor(readonly folder: string) {}

  /** The folder, created and checked (see prepareFolder). */
  static async open(folder: string, option = "out"): Promise<OutputFiles> {
    await prepareFolder(folder, option);
    return new OutputFiles(folder);
  }

  /** Stages `name` (a file name in the folder); a name staged again replaces the earlier bytes. */
  async write(name: string, data: Uint8Array | string): Promise<void> {
    const path = join(this.folder, name);
    let temp: string;
    try {
      temp = await writeTemporary(path, data);
    } catch (error) {
      throw new OptionError("path", `cannot write ${path}: ${reason(error)}`);
    }
    const earlier = this.staged.get(name);
    if (earlier) await discard(earlier);
    this.staged.set(name, temp);
  }

  /** Stages a table as an Arrow IPC file. */
  table(name: string, table: Table): Promise<void> {
    return this.write(name, tableToIPC(table, "file"));
  }

  /** Renames every staged file into place, in the order staged; returns their paths. */
  async commit(): Promise<string[]> {
    const done: string[] = [];
    for (const [name, temp] of this.staged) {
      const path = join(this.folder, name);
      try {
        await rename(temp, path);
      } catch (error) {
        throw new OptionError("path", `cannot write ${path}: ${reason(error)}`);
      } finally {
        this.staged.delete(name);
        await discard(temp);
      }
      done.push(path);
    }
    return done;
  }

  /** Removes every staged file; the folder keeps what it had. */
  async discard(): Promise<void> {
    for (const temp of this.staged.values()) await discard(temp);
    this.staged.clear();
  }
}

/** Removes, synchronously, every temporary file still open (for a process that exits at once). */
export function removeTemporaryFiles(): void {
  for (const temp of temporary) {
    try {
      unlinkSync(temp);
    } catch {
      // gone already
    }
  }
  temporary.clear();
}
