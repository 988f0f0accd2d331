/**
 * The bytes PNG export needs (src/render/png.ts), read from the packages
 * that bring them: resvg's wasm module and the DejaVu Sans fonts. node:fs
 * and node:module's require.resolve work in Node, Deno and Bun alike; they
 * are imported only when asked for, so a browser can load the library.
 */
import { missing } from "./optional.ts";

export interface PngAssets {
  /** resvg's `index_bg.wasm`. */
  wasm: BufferSource;
  /** TrueType/OpenType fonts; the first one's family stands in for every generic family. */
  fonts: Uint8Array[];
  /** Family name of the first font (default "DejaVu Sans"). */
  family?: string;
}


let assets: Promise<PngAssets> | undefined;

/**
 * resvg's wasm and the DejaVu fonts, read from the optional packages
 * `@resvg/resvg-wasm` and `dejavu-fonts-ttf` (a MissingDependencyError names
 * the one that is not installed). They are resolved from this module, or,
 * when it is not a file (a JSR import), from the project's node_modules.
 */
export function pngAssets(): Promise<PngAssets> {
  assets ??= (async () => {
    const { readFile } = await import("node:fs/promises");
    const from = import.meta.url.startsWith("file:") ? import.meta.url : `${(await import("node:process")).cwd()}/`;
    const require = (await import("node:module")).createRequire(from);
    const read = async (pkg: string, file: string) => {
      let path: string;
      try {
        path = require.resolve(`${pkg}/${file}`);
      } catch (error) {
        throw missing(error, pkg, "PNG export") ?? error;
      }
      return new Uint8Array(await readFile(path));
    };
    return {
      wasm: await read("@resvg/resvg-wasm", "index_bg.wasm"),
      fonts: await Promise.all(["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => read("dejavu-fonts-ttf", `ttf/${f}`))),
      family: "DejaVu Sans",
    };
  })().catch((error) => {
    assets = undefined; // let a later call try again
    throw error;
  });
  return assets;
}
