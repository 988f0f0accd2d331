/**
 * The declarative spec of an embedding (ParaDime's idea: a method is its
 * relations, losses and training phases, written down as data). One JSON
 * object names the affinity and its parameters, the kernel, the losses with
 * their weights, the optimiser, the layout and the *phases* of the
 * optimisation: each phase runs a number of iterations and may exaggerate
 * the attraction or set a loss's parameters (a weight, the displacement σ)
 * for its duration. The iterations of a run are the phases' sum.
 *
 * ```json
 * { "version": 1,
 *   "affinity": { "type": "perplexity", "perplexity": 30, "metric": "cosine" },
 *   "losses": [{ "type": "semantic" }, { "type": "displacement", "weight": 16, "sigma": 20 }, { "type": "alignment" }],
 *   "phases": [{ "name": "early exaggeration", "iterations": 100, "exaggeration": 4 },
 *              { "iterations": 400 },
 *              { "iterations": 500, "losses": { "displacement": { "sigma": 8 } } }] }
 * ```
 *
 * Plugins are named by `type`: the built-in ones, or a user's registered in
 * a `PluginRegistry` (plugin_registry.ts). A field left out takes its
 * default; the *complete* spec (every default filled in) is what frames and
 * checkpoints record, under `diffusion-life.spec`. The JSON Schema of the
 * format is `embedding_spec.schema.json` beside this file (written from the
 * registry's option tables by `specJsonSchema`). Every malformed field is a
 * SpecError naming its path (`losses[1].weight`).
 */
import { SpecError } from "../../errors.ts";

/** Schema metadata key of frame tables and checkpoints that holds the spec they were made with (JSON). */
export const SPEC_KEY = "diffusion-life.spec";

/** The version of the spec format this library reads and writes. */
export const SPEC_VERSION = 1;

/** A plugin by name (`type`), with its options beside it. */
export interface PluginSpec {
  type: string;
  [option: string]: unknown;
}

/** A loss: its plugin and options, and the name phases call it by (default: its type). */
export interface LossSpec extends PluginSpec {
  name?: string;
}

/**
 * A training phase: `iterations` of the run, with the attraction multiplied
 * by `exaggeration` (default 1; only the leading phases may exaggerate, all
 * by one factor: the early exaggeration) and, under `losses`, parameters of
 * losses (by the loss's name) that hold for this phase only.
 */
export interface PhaseSpec {
  name?: string;
  iterations: number;
  exaggeration?: number;
  losses?: Record<string, Record<string, number>>;
}

/** How the incremental embedder (`partialFit`, streams) runs this embedding. */
export interface IncrementalSpec {
  /** Iterations for each new step (default 20); the phases' schedule runs over each step's iterations. */
  iterationsPerStep?: number;
  /** Recent steps optimised along with each new one (default 0). */
  window?: number;
  /** Iterations of the final pass over all steps (default 200). */
  polish?: number;
  /** Early exaggeration of each new step: its factor (default 4) … */
  exaggeration?: number;
  /** … and iterations (default half of `iterationsPerStep`). */
  exaggerationIterations?: number;
}

/**
 * How `transform` places new instances into a fitted tree (as openTSNE's
 * transform does: each new point against the fixed fitted points of its
 * step only).
 */
export interface TransformSpec {
  /** Iterations (default 250). */
  iterations?: number;
  /** Perplexity of a new point's affinities to the fitted points (default 5, as openTSNE's). */
  perplexity?: number;
  /** Attraction factor through all iterations (default 1.5, as openTSNE's: it holds new points closer to their neighbours). */
  exaggeration?: number;
  /** Fitted neighbours whose median free coordinate a new instance starts from (default 25). */
  neighbors?: number;
}

/** An embedding as data: what a spec file holds. Fields left out take their defaults. */
export interface EmbeddingSpec {
  /** A JSON Schema reference for editors; ignored. */
  $schema?: string;
  /** The format version: 1. */
  version: number;
  description?: string;
  /** Seed of the initialisation and the PCA (default 0). */
  seed?: number;
  /** Initial free coordinates: "pca" (default) or "random". */
  init?: "pca" | "random";
  /** PCA components a step's features are reduced to before its affinities (default 50; 0: never). */
  pcaComponents?: number;
  /** k of the neighbourhood quality figures (default 10). */
  k?: number;
  /** The high-dimensional relation (default `{ "type": "perplexity" }`). */
  affinity?: PluginSpec;
  /** The low-dimensional relation of the losses that compare P with Q (default `{ "type": "student-t" }`). */
  kernel?: PluginSpec;
  /** The objective (default semantic, displacement, alignment). */
  losses?: LossSpec[];
  /** Default `{ "type": "gradient-descent" }`. */
  optimizer?: PluginSpec;
  /** Default `{ "type": "radial" }`. */
  layout?: PluginSpec;
  /**
   * The run, phase by phase (default: the five phases of specs/default.json,
   * 1000 iterations; with `losses` of one's own, their iterations and early
   * exaggeration only, which leaves the displacement loss its own σ schedule).
   */
  phases?: PhaseSpec[];
  incremental?: IncrementalSpec;
  transform?: TransformSpec;
}

/** A spec with every default filled in: what `checkSpec` returns and frames record. */
export interface CompleteSpec {
  version: number;
  description?: string;
  seed: number;
  init: "pca" | "random";
  pcaComponents: number;
  k: number;
  affinity: PluginSpec;
  kernel: PluginSpec;
  losses: LossSpec[];
  optimizer: PluginSpec;
  layout: PluginSpec;
  phases: PhaseSpec[];
  incremental: Required<IncrementalSpec>;
  transform: Required<TransformSpec>;
}

/**
 * The default embedding as a spec: what `embedSteps` does with no options
 * (specs/default.json holds the same, and a test runs both to the same
 * bits). Early exaggeration ×4 for the first 100 of 1000 iterations; the
 * displacement well narrows σ 20 → 15 → 10 → 8 at 50 %, 62.5 % and 75 %.
 */
export const DEFAULT_SPEC: EmbeddingSpec = {
  version: 1,
  description: "The default evolutionary embedding: per-step t-SNE, a lane per step, aligned tracks.",
  seed: 0,
  init: "pca",
  pcaComponents: 50,
  affinity: { type: "perplexity", perplexity: 30, metric: "euclidean" },
  kernel: { type: "student-t" },
  losses: [
    { type: "semantic", weight: 1 },
    { type: "displacement", weight: 16, sigma: 20 },
    { type: "alignment", weight: 1 },
  ],
  optimizer: { type: "gradient-descent", learningRate: "auto", momentum: 0.5, finalMomentum: 0.8, momentumSwitch: 20, minGain: 0.01 },
  layout: { type: "radial" },
  phases: [
    { name: "early exaggeration", iterations: 100, exaggeration: 4 },
    { name: "semantic", iterations: 400 },
    { name: "narrowing (σ 15)", iterations: 125, losses: { displacement: { sigma: 15 } } },
    { name: "narrowing (σ 10)", iterations: 125, losses: { displacement: { sigma: 10 } } },
    { name: "narrowest (σ 8)", iterations: 250, losses: { displacement: { sigma: 8 } } },
  ],
};

// ---- Options of plugins, and the checks every field goes through ----

/** One option of a plugin, as the spec checks it and the JSON Schema describes it. */
export type OptionType =
  | {
    type: "number";
    integer?: boolean;
    minimum?: number;
    exclusiveMinimum?: number;
    maximum?: number;
    exclusiveMaximum?: number;
    /** "auto" is allowed too. */
    auto?: boolean;
    /** A phase may set it (it then reaches the plugin as a function of progress). */
    schedulable?: boolean;
    default?: number | "auto";
    description?: string;
  }
  | { type: "enum"; values: readonly string[]; default?: string; description?: string }
  | { type: "boolean"; default?: boolean; description?: string };

/** A plugin's options by name. */
export type OptionTable = Readonly<Record<string, OptionType>>;

/** `a.b`, `a[2]`, or `a["odd key"]`. */
export function fieldPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  const plain = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return plain === key ? (base ? `${base}.${key}` : key) : `${base}[${plain}]`;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Throws a SpecError at `path` unless `value` is an object; returns it. */
export function expectObject(value: unknown, path: string): Record<string, unknown> {
  if (!isObject(value)) throw new SpecError(path, `must be an object, not ${describe(value)}`);
  return value;
}

/** Throws a SpecError for the first key of `value` not in `known`. */
export function expectKeys(value: Record<string, unknown>, known: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new SpecError(fieldPath(path, key), `unknown field (known: ${known.join(", ")})`);
  }
}

/** Checks one option value against its type; returns it (the default when absent). */
export function checkOption(value: unknown, type: OptionType, path: string): unknown {
  if (value === undefined) return type.default;
  if (type.type === "boolean") {
    if (typeof value !== "boolean") throw new SpecError(path, `must be true or false, not ${describe(value)}`);
    return value;
  }
  if (type.type === "enum") {
    if (typeof value !== "string" || !type.values.includes(value)) {
      throw new SpecError(path, `must be one of ${type.values.map((v) => JSON.stringify(v)).join(", ")}, not ${describe(value)}`);
    }
    return value;
  }
  if (type.auto && value === "auto") return value;
  checkNumber(value, type, path);
  return value;
}

/** Throws a SpecError unless `value` is a finite number within the type's bounds. */
export function checkNumber(value: unknown, type: Extract<OptionType, { type: "number" }>, path: string): number {
  const what = `${type.integer ? "an integer" : "a number"}${boundsText(type)}${type.auto ? ` or "auto"` : ""}`;
  const ok = typeof value === "number" && Number.isFinite(value) && (!type.integer || Number.isInteger(value)) &&
    (type.minimum === undefined || value >= type.minimum) && (type.exclusiveMinimum === undefined || value > type.exclusiveMinimum) &&
    (type.maximum === undefined || value <= type.maximum) && (type.exclusiveMaximum === undefined || value < type.exclusiveMaximum);
  if (!ok) throw new SpecError(path, `must be ${what}, not ${describe(value)}`);
  return value as number;
}

function boundsText(t: Extract<OptionType, { type: "number" }>): string {
  const parts = [
    t.minimum !== undefined ? `≥ ${t.minimum}` : "",
    t.exclusiveMinimum !== undefined ? `> ${t.exclusiveMinimum}` : "",
    t.maximum !== undefined ? `≤ ${t.maximum}` : "",
    t.exclusiveMaximum !== undefined ? `< ${t.exclusiveMaximum}` : "",
  ].filter(Boolean);
  return parts.length ? ` ${parts.join(" and ")}` : "";
}

export function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** The top-level fields and their types (the plugin fields and sections are checked apart). */
export const TOP_LEVEL: OptionTable = {
  version: { type: "number", integer: true, minimum: SPEC_VERSION, maximum: SPEC_VERSION, description: "The format version." },
  seed: { type: "number", integer: true, minimum: 0, default: 0, description: "Seed of the initialisation and the PCA." },
  init: { type: "enum", values: ["pca", "random"], default: "pca", description: "Initial free coordinates." },
  pcaComponents: { type: "number", integer: true, minimum: 0, default: 50, description: "PCA components before the affinities (0: never)." },
  k: { type: "number", integer: true, minimum: 1, default: 10, description: "k of the neighbourhood quality figures." },
};

export const PHASE_FIELDS: OptionTable = {
  iterations: { type: "number", integer: true, minimum: 1, description: "Iterations of this phase." },
  exaggeration: { type: "number", exclusiveMinimum: 0, default: 1, description: "Attraction factor (only leading phases, one factor)." },
};

export const INCREMENTAL_FIELDS: OptionTable = {
  iterationsPerStep: { type: "number", integer: true, minimum: 1, default: 20 },
  window: { type: "number", integer: true, minimum: 0, default: 0 },
  polish: { type: "number", integer: true, minimum: 0, default: 200 },
  exaggeration: { type: "number", exclusiveMinimum: 0, default: 4 },
  exaggerationIterations: { type: "number", integer: true, minimum: 0 },
};

export const TRANSFORM_FIELDS: OptionTable = {
  iterations: { type: "number", integer: true, minimum: 1, default: 250 },
  perplexity: { type: "number", exclusiveMinimum: 1, default: 5 },
  exaggeration: { type: "number", exclusiveMinimum: 0, default: 1.5 },
  neighbors: { type: "number", integer: true, minimum: 1, default: 25 },
};

/** Checks a section's fields against a table; returns them with defaults filled in. */
export function checkFields(value: Record<string, unknown>, table: OptionTable, path: string, required: readonly string[] = []): Record<string, unknown> {
  expectKeys(value, Object.keys(table), path);
  const out: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(table)) {
    if (required.includes(name) && value[name] === undefined) throw new SpecError(fieldPath(path, name), "is required");
    const v = checkOption(value[name], type, fieldPath(path, name));
    if (v !== undefined) out[name] = v;
  }
  return out;
}
