/**
 * The house rules, checked on the import graph of src/: rooms (folders, and
 * embed's sub-folders) stand on floors; a file imports only from its own
 * room or from a lower floor, so nothing imports upward and no two rooms
 * import each other; within a room, files import no circle; no file imports
 * a public entry; no two files share a name.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";

/** Floors, lowest first; rooms on one floor do not import each other. */
const FLOORS: string[][] = [
  [".", "util"],
  ["linalg"],
  ["data", "quality", "runtime"],
  ["onnx"],
  ["sources"],
  ["encoders", "layouts"],
  ["geometry"],
  ["explain"],
  ["embed/wasm"],
  ["embed/state"],
  ["embed/affinity"],
  ["embed/kernel"],
  ["embed/optimizer", "embed/losses"],
  ["embed"],
  ["embed/spec"],
  ["embed/run"],
  ["stream", "render"],
  ["lineage"],
  ["jetstream"],
  ["viewer"],
  ["cli"],
];
const floorOf = new Map(FLOORS.flatMap((rooms, floor) => rooms.map((room) => [room, floor] as const)));

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
const files = walk("src").filter((f) => !f.endsWith("viewer.js")); // the page's script runs in the browser, apart
const IMPORT = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']|new URL\(\s*["'](\.{1,2}\/[^"']+\.(?:ts|mjs))["']/g;
const imports = new Map(files.map((f) => [f, [...readFileSync(f, "utf8").matchAll(IMPORT)].map((m) => relative(".", resolve(dirname(f), m[1] ?? m[2])))]));

function room(file: string): string {
  const parts = relative("src", file).split("/");
  if (parts.length === 1) return ".";
  return parts[0] === "embed" && parts.length > 2 ? `embed/${parts[1]}` : parts[0];
}

test("every room stands on a floor", () => {
  const unplaced = [...new Set(files.map(room))].filter((r) => !floorOf.has(r));
  assert.equal(unplaced, [], `rooms without a floor: ${unplaced.join(", ")}`);
});

test("nothing imports upward or sideways", () => {
  const bad: string[] = [];
  for (const [file, targets] of imports) {
    for (const target of targets) {
      const a = room(file), b = room(target);
      if (!target.startsWith("src/")) bad.push(`${file} imports ${target}, outside src/`);
      else if (a !== b && !(floorOf.get(b)! < floorOf.get(a)!)) bad.push(`${file} (${a}) imports ${target} (${b})`);
    }
  }
  assert.equal(bad, []);
});

test("no import circles", () => {
  const state = new Map<string, "open" | "done">(), circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") return void circles.push([...path.slice(path.indexOf(file)), file].join(" → "));
    state.set(file, "open");
    for (const t of imports.get(file) ?? []) visit(t, [...path, file]);
    state.set(file, "done");
  };
  for (const f of files) visit(f, []);
  assert.equal(circles, []);
});

test("each file name occurs once", () => {
  const seen = new Map<string, string>(), twice: string[] = [];
  for (const f of files) {
    const name = basename(f);
    if (seen.has(name)) twice.push(`${seen.get(name)} and ${f}`);
    seen.set(name, f);
  }
  assert.equal(twice, []);
});

test.run();
