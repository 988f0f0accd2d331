// The npm build: tsc (tsconfig.build.json) compiles the entries to ESM
// JavaScript plus .d.ts in dist/, with the same layout as the sources; then the
// files tsc does not emit are copied beside them: the viewer's page, the Node
// worker bootstrap, plain-JavaScript modules with their .d.ts, and the ONNX
// models (dist/models/, where dist/src/encoders/digit.js looks for them).
// Run by `npm run build` and by `prepare` (npm ci, npm pack, git installs).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const run = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (run.status !== 0) process.exit(run.status ?? 1);

const copy = (from, to) => (mkdirSync(dirname(to), { recursive: true }), copyFileSync(from, to));
// Everything under src/ that is neither TypeScript tsc compiled nor a .wat source (compiled into *_wasm.ts).
const assets = (dir) =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return assets(path);
    const compiled = e.name.endsWith(".ts") && !e.name.endsWith(".d.ts");
    return compiled || e.name.endsWith(".wat") ? [] : [path];
  });
let copied = 0;
for (const file of assets("src")) copy(join(root, file), join(dist, file)), copied++;
for (const file of readdirSync(join(root, "models")).filter((f) => f.endsWith(".onnx"))) {
  copy(join(root, "models", file), join(dist, "models", file)), copied++;
}
// Declarations: tsc keeps the sources' relative ".ts" specifiers there; they name the .js files, as in
// the JavaScript. The public types name WebGPU's globals (GPUDevice, …), which the build takes from
// @webgpu/types (tsconfig types); the declarations that use them say so, for consumers' type checkers
// (@webgpu/types is a dependency; Deno has these types built in and reads the sources).
for (const file of compiledFiles(dist, ".d.ts")) {
  let text = readFileSync(file, "utf8").replace(/((?:from|import\()\s*")(\.\.?\/[^"]+)\.ts"/g, '$1$2.js"');
  if (/\bGPU[A-Z]?\w*\b/.test(text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""))) {
    text = `/// <reference types="@webgpu/types" />\n${text}`;
  }
  writeFileSync(file, text);
}

// Worker entries are reached only through siblingModule("./name", import.meta.url): each must be compiled too
// (listed in tsconfig.build.json's files).
for (const file of compiledFiles(dist, ".js")) {
  for (const [, name] of readFileSync(file, "utf8").matchAll(/siblingModule\("(\.\/[\w.-]+)"/g)) {
    if (!existsSync(join(dirname(file), `${name}.js`))) throw new Error(`${file} starts the worker ${name}.js, which tsc did not emit: add its .ts to tsconfig.build.json`);
  }
}
console.log(`dist/: compiled by tsc, ${copied} files copied`);

function compiledFiles(dir, extension) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? compiledFiles(join(dir, e.name), extension) : e.name.endsWith(extension) ? [join(dir, e.name)] : []
  );
}
