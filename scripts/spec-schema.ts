/**
 * Writes the JSON Schema of embedding specs (src/embed/spec/embedding_spec.schema.json)
 * from the built-in plugins' option tables, and specs/default.json from
 * DEFAULT_SPEC: `node --import tsx scripts/spec-schema.ts`. A test checks
 * that both files are what this writes.
 */
import { writeFile } from "node:fs/promises";
import process from "node:process";
import { DEFAULT_SPEC, specJsonSchema } from "../mod.ts";

export const SCHEMA_PATH = "src/embed/spec/embedding_spec.schema.json";
export const DEFAULT_SPEC_PATH = "specs/default.json";

export const schemaText = (): string => JSON.stringify(specJsonSchema(), null, 2) + "\n";
export const defaultSpecText = (): string => compact({ $schema: "../" + SCHEMA_PATH, ...DEFAULT_SPEC }) + "\n";

/** JSON indented by two, with an object or array that fits on one line (100 characters) kept on one. */
function compact(value: unknown, indent = "", prefix = 0): string {
  const flat = JSON.stringify(value, null, 1).replace(/\n\s*/g, " ").replace(/\[ /g, "[").replace(/ \]/g, "]");
  if (typeof value !== "object" || value === null || indent.length + prefix + flat.length <= 100) return flat;
  const inner = indent + "  ";
  const items = Array.isArray(value)
    ? value.map((v) => inner + compact(v, inner))
    : Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compact(v, inner, k.length + 4)}`);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  return `${open}\n${items.join(",\n")}\n${indent}${close}`;
}

if ((import.meta as { main?: boolean }).main ?? import.meta.url === `file://${process.argv[1]}`) {
  await writeFile(SCHEMA_PATH, schemaText());
  await writeFile(DEFAULT_SPEC_PATH, defaultSpecText());
  console.log(`wrote ${SCHEMA_PATH} and ${DEFAULT_SPEC_PATH}`);
}
