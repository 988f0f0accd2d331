/**
 * `--layout` of the CLI: comma-separated layouts, each a name registered in
 * `layouts` (src/layouts/registry.ts: radial, rectilinear and whatever a
 * program registers), "tree" for the lineage tree, or the path of a module
 * whose default export (or named export `layout`) is a Layout, or a
 * function of no arguments that returns one:
 *
 *     diffusion-life embed steps.arrow --layout radial,tree,./my_layout.ts
 *
 * A path is anything with a "/" or "\" in it or ending in .ts, .mts, .js or
 * .mjs; it is resolved from the working directory and imported (Deno and
 * Bun import TypeScript; the Node entry runs through tsx, which does too).
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { OptionError } from "../errors.ts";
import type { Layout } from "../layouts/layout.ts";
import { isLayout, layouts as registry, LayoutRegistry, UnknownLayoutError } from "../layouts/registry.ts";
import { UsageError } from "./args.ts";

/** A chosen view: a layout, or the lineage tree. */
export type LayoutChoice = Layout | "tree";

const isPath = (spec: string) => /[\\/]/.test(spec) || /\.(m?ts|m?js)$/.test(spec);

/** "a, b or c" */
const either = (names: readonly string[]) => names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;

/** The names `--layout` knows, for the help: the registered layouts and "tree". */
export function knownLayoutNames(from: LayoutRegistry = registry): string {
  return either([...from.names(), "tree"]);
}

/**
 * The layouts `spec` names, in order, without repeats. An unknown name is a
 * UsageError (exit code 2) that lists the known ones and the closest; a
 * module that cannot be loaded or exports no Layout is an OptionError.
 */
export async function chooseLayouts(spec: string, from: LayoutRegistry = registry): Promise<LayoutChoice[]> {
  const specs = [...new Set(spec.split(",").map((s) => s.trim()))];
  const chosen: LayoutChoice[] = [];
  for (const item of specs) {
    if (item === "tree") chosen.push("tree");
    else if (isPath(item)) chosen.push(await layoutModule(item));
    else if (from.has(item)) chosen.push(from.get(item));
    else {
      const e = new UnknownLayoutError(item, [...from.names(), "tree"]);
      throw new UsageError(`--layout: unknown layout "${item}"; known: ${e.known.join(", ")}, or a module path${e.suggestion ? ` (did you mean "${e.suggestion}"?)` : ""}`);
    }
  }
  const names = chosen.map((c) => (c === "tree" ? "tree" : c.name));
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`--layout: two layouts are named "${twice}"`);
  for (const name of names) {
    // The name becomes file names (<name>.arrow, <name>.svg) and a view.
    if (!/^[\w.-]+$/.test(name)) throw new OptionError("layout", `the layout name ${JSON.stringify(name)} cannot be a file name`);
  }
  return chosen;
}

/** The Layout a module exports (default, or `layout`), or makes. */
async function layoutModule(path: string): Promise<Layout> {
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(isAbsolute(path) ? path : resolve(path)).href);
  } catch (error) {
    throw new OptionError("layout", `cannot load the module "${path}": ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
  }
  for (const key of ["default", "layout"]) {
    let value = module[key];
    if (typeof value === "function") value = (value as () => unknown)();
    if (isLayout(value)) return value;
  }
  throw new OptionError("layout", `the module "${path}" exports no Layout (as its default export or as "layout")`);
}
