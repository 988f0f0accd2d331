/**
 * The runtime adapter for data files (recordings, image folders): node:fs,
 * which Node, Deno and Bun all provide, imported only when a file is asked
 * for, so a browser that passes bytes or streams never loads it. Failures
 * become OptionErrors naming the path.
 */
import { OptionError } from "../errors.ts";

export type FilePath = string | URL;

const fs = () => import("node:fs/promises");

function unreadable(path: FilePath, error: unknown): OptionError {
  return new OptionError("path", `cannot read ${String(path)}: ${(error as Error).message}`);
}

export async function readFileBytes(path: FilePath): Promise<Uint8Array> {
  try {
    return new Uint8Array(await (await fs()).readFile(path));
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** The file's bytes in chunks as they are read, so a large file is never held whole. */
export async function* readFileChunks(path: FilePath, chunkBytes = 1 << 20): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await (await fs()).open(path, "r");
  } catch (error) {
    throw unreadable(path, error);
  }
  try {
    while (true) {
      const buffer = new Uint8Array(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

export interface DirectoryEntry {
  name: string;
  directory: boolean;
}

export async function listDirectory(path: FilePath): Promise<DirectoryEntry[]> {
  try {
    const entries = await (await fs()).readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, directory: e.isDirectory() }));
  } catch (error) {
    throw unreadable(path, error);
  }
}

/** `parent/name` for a path given as a string or a file: URL. */
export function joinPath(parent: FilePath, name: string): FilePath {
  if (parent instanceof URL) return new URL(encodeURIComponent(name), parent.href.endsWith("/") ? parent : `${parent.href}/`);
  return parent.endsWith("/") ? parent + name : `${parent}/${name}`;
}
