/**
 * Gathers the step tables a source yields (a sampler's steps, a recording's
 * record batches, an image folder's steps) into one step table, rows in the
 * order they arrived. Prompts are matched by label, so sources whose tables
 * each carry their own prompt dictionary concatenate correctly.
 */
import { DimensionError, SchemaError } from "../errors.ts";
import { buildStepTable, checkUniqueRows, readStepTable, type StepColumns, type StepTable } from "../data/step_table.ts";
import type { StepSource } from "./source.ts";

type VectorKey = "timestep" | "image" | "noisy" | "features";
const OPTIONAL: readonly VectorKey[] = ["timestep", "image", "noisy", "features"];

export async function collectSteps(source: StepSource | Iterable<StepTable>): Promise<StepTable> {
  const parts: StepColumns[] = [];
  for await (const table of source) parts.push(readStepTable(table));
  if (parts.length === 0) throw new SchemaError("missing-column", "the source yielded no step tables", { column: "step" });
  const first = parts[0];
  for (const [i, part] of parts.entries()) {
    for (const key of OPTIONAL) {
      if (!part[key] !== !first[key]) {
        throw new SchemaError("missing-column", `step table ${i} ${part[key] ? "has" : "lacks"} column "${key}", unlike the first`, { column: key });
      }
    }
    if (String(part.imageShape) !== String(first.imageShape) || part.featureDim !== first.featureDim) {
      throw new DimensionError(`step table ${i} has image shape [${part.imageShape}] and ${part.featureDim} features, the first [${first.imageShape}] and ${first.featureDim}`);
    }
  }

  const prompts: string[] = [];
  const code = new Map<string, number>();
  const prompt = new Int32Array(parts.reduce((s, p) => s + p.prompt.length, 0));
  let row = 0;
  for (const part of parts) {
    const local = part.prompts.map((label) => {
      if (!code.has(label)) code.set(label, prompts.push(label) - 1);
      return code.get(label)!;
    });
    for (const c of part.prompt) prompt[row++] = local[c];
  }

  const cat = <A extends Int32Array | Float32Array>(pick: (c: StepColumns) => A | undefined): A | undefined => {
    if (!pick(first)) return undefined;
    const out = new (pick(first)!.constructor as new (n: number) => A)(parts.reduce((s, c) => s + pick(c)!.length, 0));
    let offset = 0;
    for (const c of parts) {
      out.set(pick(c)!, offset);
      offset += pick(c)!.length;
    }
    return out;
  };
  // Each part is validated; what is left to check is a row repeated across parts.
  const instance = cat((c) => c.instance)!, step = cat((c) => c.step)!;
  checkUniqueRows(instance, step);
  return buildStepTable({
    instance,
    prompt,
    prompts,
    step,
    timestep: cat((c) => c.timestep),
    image: cat((c) => c.image),
    imageShape: first.imageShape,
    noisy: cat((c) => c.noisy),
    features: cat((c) => c.features),
    featureDim: first.featureDim,
  });
}
