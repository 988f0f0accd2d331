/**
 * The bytes PNG export needs (src/render/png.ts), read from the packages
 * that bring them: resvg's wasm module and the DejaVu Sans fonts. node:fs
 * and node:module's require.resolve work in Node, Deno and Bun alike; they
 * are imported only when asked for, so a browser can load the library.
 */
export interface PngAssets {
  /** resvg's `index_bg.wasm`. */
  wasm: BufferSource;
  /** TrueType/OpenType fonts; the first one's family stands in for every generic family. */
  fonts: Uint8Array[];
  /** Family name of the first font (default "DejaVu Sans"). */
  family?: string;
}


let assets: Promise<PngAssets> | undefined;

export function pngAssets(): Promise<PngAssets> {
  assets ??= (async () => {
    const { readFile } = await import("node:fs/promises");
    const require = (await import("node:module")).createRequire(import.meta.url);
    const read = async (name: string) => new Uint8Array(await readFile(require.resolve(name)));
    return {
      wasm: await read("@resvg/resvg-wasm/index_bg.wasm"),
      fonts: await Promise.all(["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) => read(`dejavu-fonts-ttf/ttf/${f}`))),
      family: "DejaVu Sans",
    };
  })();
  return assets;
}
