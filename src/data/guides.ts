/**
 * Lane guides: the rings (radial layout), columns (rectilinear layout) or
 * any other circles and lines a frame's steps live on, carried by a frame
 * table as JSON in its schema metadata under `diffusion-life.guides`.
 * Layouts write them (`Layout.guides`); renderers draw them. They are
 * optional: a frame without them is drawn without guides.
 *
 * ```json
 * [{ "step": 0, "shape": "circle", "cx": 0, "cy": 0, "r": 20 },
 *  { "step": 1, "shape": "line", "x1": 35, "y1": -50, "x2": 35, "y2": 50 }]
 * ```
 *
 * Coordinates are in the frame's `x`, `y` space (the display frame, y up).
 * Renderers label each guide with its step: above the top of a circle,
 * above the upper end of a line closer to vertical (a column), left of the
 * left end of a line closer to horizontal (a row).
 */
import type { Table } from "apache-arrow";
import { SchemaError } from "../errors.ts";

export const GUIDES_KEY = "diffusion-life.guides";

/** A ring of one step lane (radial layout). */
export interface CircleGuide {
  step: number;
  shape: "circle";
  cx: number;
  cy: number;
  r: number;
}

/** A straight lane of one step: a column (rectilinear layout), a row, or any segment. */
export interface LineGuide {
  step: number;
  shape: "line";
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type Guide = CircleGuide | LineGuide;

const NUMBERS: Record<Guide["shape"], readonly string[]> = {
  circle: ["step", "cx", "cy", "r"],
  line: ["step", "x1", "y1", "x2", "y2"],
};

function invalid(message: string): never {
  throw new SchemaError("wrong-type", `metadata "${GUIDES_KEY}": ${message}`);
}

/** Checks one guide, returning a clean copy (unknown fields dropped). */
function checkGuide(value: unknown, i: number): Guide {
  if (typeof value !== "object" || value === null) invalid(`entry ${i} is not an object`);
  const g = value as Record<string, unknown>;
  const shape = g.shape;
  if (shape !== "circle" && shape !== "line") invalid(`entry ${i} has shape ${JSON.stringify(shape)}, not "circle" or "line"`);
  const out: Record<string, unknown> = { shape };
  for (const key of NUMBERS[shape]) {
    const v = g[key];
    if (typeof v !== "number" || !Number.isFinite(v)) invalid(`entry ${i} needs a finite number "${key}"`);
    out[key] = v;
  }
  if (shape === "circle" && (out.r as number) < 0) invalid(`entry ${i} has a negative radius`);
  return out as unknown as Guide;
}

/** Parses and validates a guides JSON string. */
export function parseGuides(json: string): Guide[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    invalid("not valid JSON");
  }
  if (!Array.isArray(value)) invalid("not a JSON array");
  return value.map(checkGuide);
}

/** The guides stored in a table's metadata, or undefined when it has none. */
export function readGuides(table: Table): Guide[] | undefined {
  const json = table.schema.metadata.get(GUIDES_KEY);
  return json === undefined ? undefined : parseGuides(json);
}

/** Stores guides in a table's metadata (validated); returns the same table. */
export function setGuides<T extends Table>(table: T, guides: readonly Guide[]): T {
  const clean = guides.map(checkGuide);
  table.schema.metadata.set(GUIDES_KEY, JSON.stringify(clean));
  return table;
}
