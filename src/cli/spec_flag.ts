/**
 * `embed --spec FILE`: the embedding a spec declares (src/embed/spec),
 * from a JSON file or from a frame table or checkpoint that recorded one
 * (`diffusion-life.spec`), so a picture is made again from its own file:
 *
 *     diffusion-life embed steps.arrow --spec specs/default.json
 *     diffusion-life embed steps.arrow --spec out/radial.arrow -o again
 *
 * The spec's layout is drawn unless `--layout` names others (each then
 * replaces it, and the recorded spec says so); `--seed` replaces the spec's
 * seed; the iterations are the spec's phases', so `--iterations` is refused.
 */
import type { Layout } from "../layouts/layout.ts";
import { readFileBytes } from "../runtime/read_files.ts";
import type { BatchOptions } from "../embed/run/batch.ts";
import { loadSpec, specOptions } from "../embed/spec/compile.ts";
import { plugins } from "../embed/spec/plugin_registry.ts";
import type { CompleteSpec } from "../embed/spec/spec.ts";
import { type Flags, type ParsedArgs, UsageError } from "./args.ts";

export const SPEC_FLAGS: Flags = {
  spec: { type: "string", value: "<file>", help: "an embedding spec (JSON), or a frame or checkpoint (.arrow) that recorded one; its layout unless --layout" },
};

/** The spec of `--spec`, checked (with `--seed` applied), or undefined without the flag. */
export async function specFlag(args: ParsedArgs): Promise<CompleteSpec | undefined> {
  const path = args.string("spec");
  if (path === undefined) return undefined;
  if (args.string("iterations") !== undefined) throw new UsageError("--iterations: with --spec, the iterations are the spec's phases");
  const spec = loadSpec(await readFileBytes(path));
  return args.string("seed") === undefined ? spec : { ...spec, seed: args.integer("seed", 0) };
}

/** The batch options of the spec, drawn in `layout` (its own when the names agree). */
export function specRunOptions(spec: CompleteSpec, layout: Layout): BatchOptions {
  if (layout.name === spec.layout.type) return specOptions(spec).options;
  const named = { ...spec, layout: { type: layout.name } };
  // A layout the registry knows by name is recorded by name; one from a module is recorded by its name too.
  const { options } = specOptions(plugins.entry("layout", layout.name) ? named : spec);
  return { ...options, layout, spec: named };
}
