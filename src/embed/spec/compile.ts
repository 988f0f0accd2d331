/**
 * From a spec to a run: `checkSpec` validates a spec (SpecError naming the
 * path of the first bad field) and fills in every default; `specOptions`
 * makes the embedding's options from it, fresh plugins each call, with the
 * phases compiled into the engine's schedules: the leading exaggerated
 * phases become the early exaggeration, and a loss parameter that phases
 * change becomes a piecewise-constant function of progress that steps at
 * each phase's start (so the default spec's σ is, value for value, the
 * displacement loss's default schedule).
 */
import { tableFromIPC } from "apache-arrow";
import { OptionError, SpecError } from "../../errors.ts";
import type { EmbeddingOptions } from "../embedding.ts";
import { stepSchedule } from "../losses/loss.ts";
import type { Loss } from "../losses/loss.ts";
import { type PluginKind, type PluginKinds, PluginRegistry, plugins } from "./plugin_registry.ts";
import {
  checkFields,
  checkNumber,
  checkOption,
  type CompleteSpec,
  DEFAULT_SPEC,
  describe,
  type EmbeddingSpec,
  expectKeys,
  expectObject,
  fieldPath,
  INCREMENTAL_FIELDS,
  isObject,
  type LossSpec,
  type OptionTable,
  type OptionType,
  PHASE_FIELDS,
  type PhaseSpec,
  type PluginSpec,
  SPEC_KEY,
  SPEC_VERSION,
  TOP_LEVEL,
  TRANSFORM_FIELDS,
} from "./spec.ts";

const SECTIONS = ["$schema", "description", ...Object.keys(TOP_LEVEL), "affinity", "kernel", "losses", "optimizer", "layout", "phases", "incremental", "transform"];

/**
 * Validates a spec (an object, or its JSON text) and returns it complete:
 * every default filled in, plugin options included (for plugins whose
 * option table is known). Throws SpecError naming the first bad field.
 */
export function checkSpec(input: unknown, registry: PluginRegistry = plugins): CompleteSpec {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new SpecError("", `not JSON: ${(e as Error).message}`);
    }
  }
  const spec = expectObject(value, "");
  expectKeys(spec, SECTIONS, "");
  if (spec.version === undefined) throw new SpecError("version", `is required (${SPEC_VERSION})`);
  const top = checkFields(Object.fromEntries(Object.keys(TOP_LEVEL).map((k) => [k, spec[k]])), TOP_LEVEL, "");
  if (spec.description !== undefined && typeof spec.description !== "string") throw new SpecError("description", `must be a string, not ${describe(spec.description)}`);
  const defaults = DEFAULT_SPEC;
  const plugin = (kind: Exclude<PluginKind, "loss">, field: "affinity" | "kernel" | "optimizer" | "layout") =>
    checkPlugin(registry, kind, spec[field] ?? defaults[field], field, ["type"]);
  const affinity = plugin("affinity", "affinity");
  const kernel = plugin("kernel", "kernel");
  const optimizer = plugin("optimizer", "optimizer");
  const layout = plugin("layout", "layout");

  const rawLosses = spec.losses ?? defaults.losses;
  if (!Array.isArray(rawLosses) || rawLosses.length === 0) throw new SpecError("losses", `must be a non-empty array, not ${describe(rawLosses)}`);
  const losses = rawLosses.map((l, i) => checkPlugin(registry, "loss", l, fieldPath("losses", i), ["type", "name"]) as LossSpec);
  const names = new Map<string, number>();
  losses.forEach((l, i) => {
    const path = fieldPath("losses", i);
    if (l.name !== undefined && (typeof l.name !== "string" || l.name === "")) throw new SpecError(fieldPath(path, "name"), `must be a non-empty string, not ${describe(l.name)}`);
    const name = lossName(l);
    if (names.has(name)) {
      throw new SpecError(l.name !== undefined ? fieldPath(path, "name") : fieldPath(path, "type"), `a second loss called "${name}" (losses[${names.get(name)}] is one): give one a "name"`);
    }
    names.set(name, i);
  });

  // The default phases set the default losses' σ; with losses of one's own they keep only their iterations and exaggeration.
  const rawPhases = spec.phases ?? (spec.losses === undefined ? defaults.phases : defaults.phases!.map(({ losses: _, ...p }) => p));
  if (!Array.isArray(rawPhases) || rawPhases.length === 0) throw new SpecError("phases", `must be a non-empty array, not ${describe(rawPhases)}`);
  const phases = rawPhases.map((p, i) => checkPhase(registry, p, fieldPath("phases", i), losses, names));
  checkExaggeration(phases);

  const incrementalIn = expectObject(spec.incremental ?? {}, "incremental");
  const incremental = checkFields(incrementalIn, INCREMENTAL_FIELDS, "incremental") as CompleteSpec["incremental"];
  incremental.exaggerationIterations ??= Math.round(0.5 * incremental.iterationsPerStep);
  const transform = checkFields(expectObject(spec.transform ?? {}, "transform"), TRANSFORM_FIELDS, "transform") as CompleteSpec["transform"];

  return {
    version: SPEC_VERSION,
    ...(spec.description !== undefined ? { description: spec.description as string } : {}),
    seed: top.seed as number,
    init: top.init as CompleteSpec["init"],
    pcaComponents: top.pcaComponents as number,
    k: top.k as number,
    affinity,
    kernel,
    losses,
    optimizer,
    layout,
    phases,
    incremental,
    transform,
  };
}

/** The name phases call a loss by. */
export const lossName = (l: LossSpec): string => l.name ?? l.type;

function checkPlugin(registry: PluginRegistry, kind: PluginKind, value: unknown, path: string, reserved: readonly string[]): PluginSpec {
  const spec = expectObject(value, path);
  if (typeof spec.type !== "string" || spec.type === "") throw new SpecError(fieldPath(path, "type"), `must name a ${kind} (known: ${registry.types(kind).join(", ")}), not ${describe(spec.type)}`);
  const entry = registry.entry(kind, spec.type);
  if (!entry) throw new SpecError(fieldPath(path, "type"), `unknown ${kind} "${spec.type}" (known: ${registry.types(kind).join(", ")}; register others in a PluginRegistry)`);
  const out: PluginSpec = { type: spec.type };
  for (const key of reserved) if (key !== "type" && spec[key] !== undefined) out[key] = spec[key];
  const options = Object.fromEntries(Object.entries(spec).filter(([k]) => !reserved.includes(k)));
  if (!entry.options) return { ...out, ...options };
  expectKeys(options, [...reserved, ...Object.keys(entry.options)], path);
  for (const [name, type] of Object.entries(entry.options)) {
    const v = checkOption(options[name], type, fieldPath(path, name));
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function checkPhase(registry: PluginRegistry, value: unknown, path: string, losses: LossSpec[], names: Map<string, number>): PhaseSpec {
  const phase = expectObject(value, path);
  expectKeys(phase, ["name", ...Object.keys(PHASE_FIELDS), "losses"], path);
  if (phase.name !== undefined && typeof phase.name !== "string") throw new SpecError(fieldPath(path, "name"), `must be a string, not ${describe(phase.name)}`);
  const fields = checkFields({ iterations: phase.iterations, exaggeration: phase.exaggeration }, PHASE_FIELDS, path, ["iterations"]) as { iterations: number; exaggeration: number };
  const out: PhaseSpec = { ...(phase.name !== undefined ? { name: phase.name as string } : {}), iterations: fields.iterations };
  if (phase.exaggeration !== undefined) out.exaggeration = fields.exaggeration;
  if (phase.losses === undefined) return out;
  const set = expectObject(phase.losses, fieldPath(path, "losses"));
  out.losses = {};
  for (const [name, params] of Object.entries(set)) {
    const at = fieldPath(fieldPath(path, "losses"), name);
    const index = names.get(name);
    if (index === undefined) throw new SpecError(at, `no loss is called "${name}" (losses: ${[...names.keys()].join(", ")})`);
    const loss = losses[index];
    const table = registry.entry("loss", loss.type)!.options;
    out.losses[name] = {};
    for (const [param, v] of Object.entries(expectObject(params, at))) {
      const p = fieldPath(at, param);
      const type = table?.[param];
      if (table && (type === undefined || type.type !== "number" || !type.schedulable)) {
        const can = Object.entries(table).filter(([, t]) => t.type === "number" && t.schedulable).map(([k]) => k);
        throw new SpecError(p, `a phase cannot set it: the ${loss.type} loss's phase parameters are ${can.join(", ") || "none"}`);
      }
      checkNumber(v, type?.type === "number" ? { ...type, auto: false } : { type: "number" }, p);
      if (loss[param] === undefined) throw new SpecError(p, `give the loss its value outside the phases too (${fieldPath(fieldPath("losses", index), param)})`);
      out.losses[name][param] = v as number;
    }
  }
  return out;
}

/** Only the leading phases may exaggerate, all by one factor (the engine's early exaggeration). */
function checkExaggeration(phases: PhaseSpec[]): void {
  const factor = phases[0].exaggeration ?? 1;
  let leading = true;
  phases.forEach((p, i) => {
    const f = p.exaggeration ?? 1;
    if (leading && f === factor && factor !== 1) return;
    leading = false;
    if (f !== 1) {
      throw new SpecError(fieldPath(fieldPath("phases", i), "exaggeration"), `only the first phases may exaggerate, all by one factor (${factor}): early exaggeration`);
    }
  });
}

/** The run a spec describes: options for the embedding, and the figures around it. */
export interface SpecRun {
  spec: CompleteSpec;
  /** The embedding's options, fresh plugins; `spec` is the complete spec. */
  options: EmbeddingOptions & { iterations: number; k: number };
}

/**
 * The embedding's options from a spec (checked first): plugins made fresh
 * through the registry, the phases compiled to the early exaggeration and
 * to schedules over progress, the total iterations.
 */
export function specOptions(input: unknown, registry: PluginRegistry = plugins): SpecRun {
  const spec = checkSpec(input, registry);
  const { phases } = spec;
  const iterations = phases.reduce((sum, p) => sum + p.iterations, 0);
  let exaggerated = 0;
  for (const p of phases) {
    if ((p.exaggeration ?? 1) === 1) break;
    exaggerated += p.iterations;
  }
  return {
    spec,
    options: {
      layout: make(registry, "layout", spec.layout, "layout"),
      affinity: make(registry, "affinity", spec.affinity, "affinity"),
      losses: spec.losses.map((_, i) => makeLoss(registry, spec, i)),
      optimizer: make(registry, "optimizer", spec.optimizer, "optimizer"),
      exaggeration: { factor: exaggerated > 0 ? phases[0].exaggeration! : 1, iterations: exaggerated },
      pcaComponents: spec.pcaComponents,
      init: spec.init,
      seed: spec.seed,
      spec,
      iterations,
      k: spec.k,
    },
  };
}

/**
 * A loss's parameter through the phases: its value in each phase (the
 * phase's, else the loss's own); a number when it never changes, else the
 * step function of progress that changes at each phase's start.
 */
export function scheduleOf(spec: CompleteSpec, index: number, param: string): unknown {
  const loss = spec.losses[index], name = lossName(loss);
  const values = spec.phases.map((p) => p.losses?.[name]?.[param] ?? loss[param]);
  if (values.every((v) => v === values[0])) return loss[param];
  const total = spec.phases.reduce((sum, p) => sum + p.iterations, 0);
  let start = 0;
  const points = spec.phases.map((p, k): [number, number] => {
    const point: [number, number] = [start / total, values[k] as number];
    start += p.iterations;
    return point;
  });
  return stepSchedule(points);
}

/** The value a loss's parameter has in the last phase: where `transform` runs. */
export function finalValue(spec: CompleteSpec, index: number, param: string): unknown {
  const loss = spec.losses[index];
  return spec.phases[spec.phases.length - 1].losses?.[lossName(loss)]?.[param] ?? loss[param];
}

/** Loss `index` of the spec, made with its phase schedules (or, with `final`, its last phase's values). */
export function makeLoss(registry: PluginRegistry, spec: CompleteSpec, index: number, final = false): Loss {
  const loss = spec.losses[index];
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(loss)) {
    if (k === "type" || k === "name") continue;
    options[k] = typeof v === "number" ? (final ? finalValue(spec, index, k) : scheduleOf(spec, index, k)) : v;
  }
  // The kernel is made only for a loss that asks for it.
  let kernel: PluginKinds["kernel"] | undefined;
  const context = { get kernel() { return (kernel ??= make(registry, "kernel", spec.kernel, "kernel")); } };
  return make(registry, "loss", { type: loss.type, ...options }, fieldPath("losses", index), context);
}

/** A plugin from its spec through the registry; an OptionError of the factory becomes a SpecError at its path. */
export function make<K extends PluginKind>(registry: PluginRegistry, kind: K, spec: PluginSpec, path: string, context = {}): PluginKinds[K] {
  const entry = registry.entry(kind, spec.type);
  if (!entry) throw new SpecError(fieldPath(path, "type"), `unknown ${kind} "${spec.type}"`);
  const { type: _type, ...options } = spec;
  try {
    return entry.create(options, context);
  } catch (e) {
    if (e instanceof OptionError) throw new SpecError(path, e.message);
    throw e;
  }
}

/**
 * The spec a frame table or checkpoint was made with (its `diffusion-life.spec`
 * metadata), checked; undefined when it has none. Takes the table or its
 * Arrow IPC bytes.
 */
export function readSpec(table: { schema: { metadata: Map<string, string> } } | Uint8Array, registry: PluginRegistry = plugins): CompleteSpec | undefined {
  const t = table instanceof Uint8Array ? tableFromIPC(table) : table;
  const raw = t.schema.metadata.get(SPEC_KEY) ?? specOfCheckpoint(t.schema.metadata);
  return raw === undefined ? undefined : checkSpec(raw, registry);
}

/** A checkpoint keeps the spec among its saved options. */
function specOfCheckpoint(metadata: Map<string, string>): string | undefined {
  const raw = metadata.get("diffusion-life.checkpoint");
  if (!raw) return undefined;
  const spec = (JSON.parse(raw) as { options?: { spec?: unknown } }).options?.spec;
  return spec === undefined ? undefined : JSON.stringify(spec);
}

/**
 * A spec from a file's contents: JSON text (or its bytes), or the Arrow IPC
 * bytes of a frame table or checkpoint that recorded one (so a picture is
 * made again from its own file). SpecError when there is none.
 */
export function loadSpec(contents: string | Uint8Array, registry: PluginRegistry = plugins): CompleteSpec {
  if (typeof contents !== "string" && isArrow(contents)) {
    const spec = readSpec(contents, registry);
    if (!spec) throw new SpecError("", `this Arrow file records no spec ("${SPEC_KEY}" metadata)`);
    return spec;
  }
  return checkSpec(typeof contents === "string" ? contents : new TextDecoder().decode(contents), registry);
}

/** Arrow IPC: a file starts with "ARROW1"; a stream with a continuation marker (0xFFFFFFFF). */
function isArrow(bytes: Uint8Array): boolean {
  const magic = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];
  return magic.every((b, i) => bytes[i] === b) || (bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff);
}

// ---- The JSON Schema, written from the same tables the checks use ----

/**
 * The JSON Schema (draft 2020-12) of the spec format with the plugins the
 * registry knows: each built-in's options exactly; any other type with any
 * options. `src/embed/spec/embedding_spec.schema.json` is this for the
 * built-ins (a test keeps it so).
 */
export function specJsonSchema(registry: PluginRegistry = plugins): Record<string, unknown> {
  const plugin = (kind: PluginKind, reserved: Record<string, unknown>) => {
    const known = registry.types(kind).map((type) => {
      const options = registry.entry(kind, type)!.options;
      return {
        type: "object",
        required: ["type"],
        properties: { type: { const: type }, ...reserved, ...(options ? optionsSchema(options) : {}) },
        ...(options ? { additionalProperties: false } : {}),
      };
    });
    const other = { type: "object", required: ["type"], properties: { type: { type: "string", pattern: "^[A-Za-z0-9_-]+$", not: { enum: registry.types(kind) } }, ...reserved } };
    return { anyOf: [...known, other] };
  };
  const section = (table: OptionTable, required: string[] = []) => ({
    type: "object",
    ...(required.length ? { required } : {}),
    properties: optionsSchema(table),
    additionalProperties: false,
  });
  const phase = section(PHASE_FIELDS, ["iterations"]);
  (phase.properties as Record<string, unknown>).name = { type: "string" };
  (phase.properties as Record<string, unknown>).losses = {
    type: "object",
    description: "Loss parameters for this phase only, by loss name.",
    additionalProperties: { type: "object", additionalProperties: { type: "number" } },
  };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "diffusion-life embedding spec",
    description: "An evolutionary embedding as data: affinity, kernel, losses, optimiser, layout and training phases.",
    type: "object",
    required: ["version"],
    additionalProperties: false,
    properties: {
      $schema: { type: "string" },
      description: { type: "string" },
      ...optionsSchema(TOP_LEVEL),
      affinity: plugin("affinity", {}),
      kernel: plugin("kernel", {}),
      losses: { type: "array", minItems: 1, items: plugin("loss", { name: { type: "string", minLength: 1 } }) },
      optimizer: plugin("optimizer", {}),
      layout: plugin("layout", {}),
      phases: { type: "array", minItems: 1, items: phase },
      incremental: section(INCREMENTAL_FIELDS),
      transform: section(TRANSFORM_FIELDS),
    },
  };
}

function optionsSchema(table: OptionTable): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).map(([name, t]) => [name, optionSchema(t)]));
}

function optionSchema(t: OptionType): Record<string, unknown> {
  const doc = { ...(t.description ? { description: t.description } : {}), ...(t.default !== undefined ? { default: t.default } : {}) };
  if (t.type === "boolean") return { type: "boolean", ...doc };
  if (t.type === "enum") return { enum: [...t.values], ...doc };
  const number: Record<string, unknown> = { type: t.integer ? "integer" : "number" };
  for (const key of ["minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"] as const) if (t[key] !== undefined) number[key] = t[key];
  return t.auto ? { anyOf: [number, { const: "auto" }], ...doc } : { ...number, ...doc };
}

/** Whether a value is a spec-shaped object (for functions that take a spec or options). */
export function looksLikeSpec(value: unknown): value is EmbeddingSpec {
  return isObject(value) && typeof value.version === "number";
}
