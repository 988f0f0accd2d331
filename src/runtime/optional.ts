/**
 * Optional packages: the heavy ones (onnxruntime-web, onnx-proto, mnist,
 * @resvg/resvg-wasm, dejavu-fonts-ttf) are optional peer dependencies, loaded
 * only by the parts that need them. `importOptional` runs the dynamic import
 * (kept literal at the call site, so bundlers and JSR see it) and turns "not
 * installed" into a MissingDependencyError that names the package.
 */
import { MissingDependencyError } from "../errors.ts";

/** Loads an optional package; throws MissingDependencyError when it is not installed. */
export async function importOptional<T>(packageName: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw missing(error, packageName, feature) ?? error;
  }
}

/** The MissingDependencyError for `error` when it says `packageName` cannot be found (Node, Deno, Bun), else undefined. */
export function missing(error: unknown, packageName: string, feature: string): MissingDependencyError | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = String(message ?? error);
  const notFound = code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" ||
    /cannot find|could not find|not found|unable to (?:load|resolve)|failed to resolve|not a dependency/i.test(text);
  return notFound && text.includes(packageName) ? new MissingDependencyError(packageName, feature, error) : undefined;
}
