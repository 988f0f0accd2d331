/**
 * diffusion-life/png: PNG export of the SVG pictures with resvg as
 * WebAssembly, with the DejaVu fonts. Needs the optional packages
 * `@resvg/resvg-wasm` and `dejavu-fonts-ttf`.
 *
 * @module
 */
export { type PngOptions, svgToPng } from "./src/render/png.ts";
export { type PngAssets, pngAssets } from "./src/runtime/png_assets.ts";
