/**
 * The runtime adapter for model files: bytes from a path or a URL. Files are
 * read with node:fs, which Node, Deno and Bun all provide (imported only
 * when a file is asked for, so browsers never load it); http(s) URLs are
 * fetched.
 */
import { ModelError } from "../errors.ts";

/** A string is a file path; a URL may be file:, http: or https:. */
export async function readModelBytes(source: string | URL): Promise<Uint8Array> {
  const url = typeof source === "string" ? (await import("node:url")).pathToFileURL(source) : source;
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    try {
      return new Uint8Array(await readFile(url));
    } catch (error) {
      throw new ModelError(`cannot read the model file ${decodeURIComponent(url.pathname)}: ${(error as Error).message}`);
    }
  }
  const response = await fetch(url);
  if (!response.ok) throw new ModelError(`cannot fetch the model ${url.href}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}
