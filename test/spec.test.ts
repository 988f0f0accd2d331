/**
 * Specs (issue 18): the default spec reproduces the default embedding bit for
 * bit; every malformed field is a SpecError naming its path (and the JSON
 * Schema rejects it too, where a schema can say it); phases compile to the
 * engine's schedules; user plugins by name; frames record their spec; the
 * cosine metric.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { tableFromIPC, tableToIPC } from "apache-arrow";
import {
  alignment,
  checkSpec,
  DEFAULT_SPEC,
  defaultSigma,
  embedSteps,
  type EmbeddingSpec,
  IncrementalEmbedder,
  loadSpec,
  type Loss,
  perplexityAffinity,
  PluginRegistry,
  random,
  readFrameTable,
  readSpec,
  SPEC_KEY,
  SpecError,
  specJsonSchema,
  specOptions,
  type StepTable,
  stepTable,
  tablesPerStep,
  weightAt,
} from "../mod.ts";
import { DEFAULT_SPEC_PATH, defaultSpecText, SCHEMA_PATH, schemaText } from "../scripts/spec-schema.ts";

/** T steps of n instances in 3 clusters (the prompt) that separate as the steps go on. */
function steps(T: number, n: number, dim: number, seed: number, scale?: (i: number) => number): StepTable {
  const rng = random(seed);
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: dim }, () => 5 * rng.normal()));
  const base = Float32Array.from({ length: n * dim }, () => rng.normal());
  const features = new Float32Array(T * n * dim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < dim; d++) {
        features[(t * n + i) * dim + d] = (centres[i % 3][d] * (t + 1) / T + base[i * dim + d] + 0.3 * rng.normal()) * (scale?.(i) ?? 1);
      }
    }
  }
  return stepTable({
    instance: Int32Array.from({ length: T * n }, (_, r) => r % n),
    prompt: Int32Array.from({ length: T * n }, (_, r) => (r % n) % 3),
    prompts: ["a", "b", "c"],
    step: Int32Array.from({ length: T * n }, (_, r) => Math.floor(r / n)),
    features,
    featureDim: dim,
  });
}

const columns = (frame: Parameters<typeof readFrameTable>[0]) => {
  const f = readFrameTable(frame);
  return { x: Array.from(f.x), y: Array.from(f.y), native: Object.values(f.native).map((v) => Array.from(v)), quality: f.quality };
};

test("the default spec (specs/default.json) reproduces the default embedSteps embedding bit for bit, and the frame records it", async () => {
  const table = steps(4, 45, 12, 1);
  const today = await embedSteps(table);
  const file = JSON.parse(readFileSync(DEFAULT_SPEC_PATH, "utf8"));
  const { options, spec } = specOptions(file);
  const fromSpec = await embedSteps(table, options);
  assert.equal(columns(fromSpec.frame), columns(today.frame));
  assert.is(today.frame.schema.metadata.get(SPEC_KEY), undefined);
  assert.equal(readSpec(fromSpec.frame), spec);
  // A picture is made again from its own file.
  const again = await embedSteps(table, specOptions(loadSpec(tableToIPC(fromSpec.frame, "file"))).options);
  assert.equal(columns(again.frame), columns(today.frame));
});

test("specs/default.json and the JSON Schema are what scripts/spec-schema.ts writes (run it after changing an option table)", () => {
  assert.is(readFileSync(DEFAULT_SPEC_PATH, "utf8"), defaultSpecText());
  assert.is(readFileSync(SCHEMA_PATH, "utf8"), schemaText());
  assert.equal(checkSpec(JSON.parse(readFileSync(DEFAULT_SPEC_PATH, "utf8"))), checkSpec(DEFAULT_SPEC));
});

test("the README shows specs/default.json as it is", () => {
  assert.ok(readFileSync("README.md", "utf8").includes("```json\n" + readFileSync(DEFAULT_SPEC_PATH, "utf8") + "```"));
});

test("phases compile to the engine's schedules: early exaggeration, and σ as the displacement loss's default schedule", () => {
  const { options, spec } = specOptions(DEFAULT_SPEC);
  assert.equal(options.exaggeration, { factor: 4, iterations: 100 });
  assert.is(options.iterations, 1000);
  assert.is(spec.phases.length, 5);
  // The displacement loss with the compiled σ has the gradient of the default one at every iteration's progress.
  const compiled = options.losses![1], reference = specOptions({ version: 1, losses: [{ type: "displacement" }], phases: [{ iterations: 1000 }] }).options.losses![0];
  assert.is(compiled.name, "displacement");
  for (let it = 0; it <= 1000; it += 5) assert.is(sigmaOf(compiled, it / 1000), sigmaOf(reference, it / 1000), `σ at iteration ${it}`);
  assert.is(sigmaOf(reference, 0.5), defaultSigma(0.5));
  // No exaggerated phase: none at all.
  assert.equal(specOptions({ version: 1, phases: [{ iterations: 10 }] }).options.exaggeration, { factor: 1, iterations: 0 });
});

/** The σ a displacement loss uses at a progress, read from its gradient on one point placed 5 units out. */
function sigmaOf(loss: Loss, progress: number): number {
  const y = Float64Array.of(25, 0), grad = new Float64Array(2);
  const layout = { name: "x", circular: false, native: ["a", "b"], scale: 20, laneCenter: () => 20, lane: (x: number, _y: number, g: Float64Array) => ((g[0] = 1), (g[1] = 0), x) };
  const step = { step: 0, n: 1, y, grad };
  loss.gradient({ steps: [step], active: Uint8Array.of(1), layout, progress, exaggeration: 1 } as never);
  // Inside the well (u ≤ σ) the slope is 16 · u/σ² · N(u; σ): solve for σ among the schedule's values.
  return [20, 15, 10, 8].find((s) => Math.abs(16 * (5 / s ** 2) * Math.exp(-25 / (2 * s * s)) / (s * Math.sqrt(2 * Math.PI)) - grad[0]) < 1e-12) ?? NaN;
}

/** Cases: [path, a change to the default spec, whether a JSON Schema can say it]. */
const INVALID: [string, (s: Record<string, any>) => unknown, boolean][] = [
  ["", () => 42, true],
  ["version", (s) => (delete s.version, s), true],
  ["version", (s) => ((s.version = 2), s), true],
  ["colour", (s) => ((s.colour = "blue"), s), true],
  ["seed", (s) => ((s.seed = 1.5), s), true],
  ["init", (s) => ((s.init = "spiral"), s), true],
  ["pcaComponents", (s) => ((s.pcaComponents = -3), s), true],
  ["k", (s) => ((s.k = 0), s), true],
  ["affinity.type", (s) => ((s.affinity = { type: "umap" }), s), false],
  ["affinity.perplexity", (s) => ((s.affinity.perplexity = 0.5), s), true],
  ["affinity.metric", (s) => ((s.affinity.metric = "manhattan"), s), true],
  ["affinity.perplexty", (s) => ((s.affinity.perplexty = 30), s), true],
  ["kernel.repulsion", (s) => ((s.kernel.repulsion = "fast"), s), true],
  ["kernel.theta", (s) => ((s.kernel.theta = 0), s), true],
  ["losses", (s) => ((s.losses = []), s), true],
  ["losses[1]", (s) => ((s.losses[1] = "displacement"), s), true],
  ["losses[1].weight", (s) => ((s.losses[1].weight = -1), s), true],
  ["losses[0].weight", (s) => ((s.losses[0].weight = "heavy"), s), true],
  ["losses[2].type", (s) => ((s.losses[2] = { type: "smoothness" }), s), false],
  ["losses[2].type", (s) => ((s.losses[2] = { type: "semantic" }), s), false],
  ["losses[1].name", (s) => ((s.losses[1].name = ""), s), true],
  ["optimizer.learningRate", (s) => ((s.optimizer.learningRate = 0), s), true],
  ["optimizer.momentum", (s) => ((s.optimizer.momentum = 1), s), true],
  ["layout.type", (s) => ((s.layout = { type: "spiral" }), s), false],
  ["layout.radius", (s) => ((s.layout.radius = -5), s), true],
  ["phases", (s) => ((s.phases = "1000"), s), true],
  ["phases[0].iterations", (s) => ((s.phases[0].iterations = 0), s), true],
  ["phases[1].iterations", (s) => (delete s.phases[1].iterations, s), true],
  ["phases[1].speed", (s) => ((s.phases[1].speed = 2), s), true],
  ["phases[2].exaggeration", (s) => ((s.phases[2].exaggeration = 4), s), false],
  ["phases[1].exaggeration", (s) => ((s.phases[1].exaggeration = 12), s), false],
  ["phases[2].losses.displacment", (s) => ((s.phases[2].losses = { displacment: { sigma: 15 } }), s), false],
  ["phases[2].losses.displacement.sigma", (s) => ((s.phases[2].losses.displacement.sigma = -2), s), false],
  ["phases[2].losses.displacement.sigma", (s) => (delete s.losses[1].sigma, s), false],
  ["phases[1].losses.semantic.threads", (s) => ((s.phases[1].losses = { semantic: { threads: 2 } }), s), false],
  ["incremental.iterationsPerStep", (s) => ((s.incremental = { iterationsPerStep: 0 }), s), true],
  ["transform.perplexity", (s) => ((s.transform = { perplexity: 1 }), s), true],
  ["transform.neighbours", (s) => ((s.transform = { neighbours: 25 }), s), true],
];

for (const [path, change, schemaSays] of INVALID) {
  test(`an invalid spec is a SpecError naming its field: ${path || "(the spec)"}`, () => {
    const spec = change(structuredClone(DEFAULT_SPEC) as unknown as Record<string, unknown>);
    try {
      checkSpec(spec);
      assert.unreachable(`no error for ${path}`);
    } catch (e) {
      assert.instance(e, SpecError);
      assert.is((e as SpecError).path, path, (e as Error).message);
      assert.is((e as SpecError).code, "invalid-spec");
    }
    if (schemaSays) assert.ok(validate(specJsonSchema(), spec).length > 0, `the JSON Schema accepts the bad ${path}`);
  });
}

test("the JSON Schema accepts the default spec, a minimal one and one naming a user's plugin", () => {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
  for (const spec of [JSON.parse(readFileSync(DEFAULT_SPEC_PATH, "utf8")), { version: 1 }, { version: 1, losses: [{ type: "semantic" }, { type: "smoothness", weight: 4 }] }]) {
    assert.equal(validate(schema, spec), []);
  }
});

test("user plugins by name: a registered loss gets its options, a phase's parameter as a function of progress", async () => {
  const registry = new PluginRegistry();
  const seen: unknown[] = [];
  registry.register("loss", "smoothness", (options) => {
    seen.push(options.weight);
    return { ...alignment({ weight: options.weight as number }), name: "smoothness" };
  });
  const spec: EmbeddingSpec = {
    version: 1,
    losses: [{ type: "semantic" }, { type: "displacement" }, { type: "smoothness", weight: 2 }],
    phases: [{ iterations: 10 }, { iterations: 30, losses: { smoothness: { weight: 6 } } }],
  };
  assert.throws(() => checkSpec(spec), (e: unknown) => e instanceof SpecError && e.path === "losses[2].type" && /known: semantic, displacement, alignment/.test(e.message));
  const { options } = specOptions(spec, registry);
  const weight = seen[0] as (p: number) => number;
  assert.equal([weightAt(weight, 0), weightAt(weight, 0.24), weightAt(weight, 0.25), weightAt(weight, 1)], [2, 2, 6, 6]);
  assert.equal(options.losses!.map((l) => l.name), ["semantic", "displacement", "smoothness"]);
  const { frame } = await embedSteps(steps(2, 12, 4, 3), options);
  assert.is(readSpec(frame, registry)!.losses[2].type, "smoothness");
  // An OptionError of a factory names the plugin.
  registry.register("loss", "picky", () => perplexityAffinity({ perplexity: 0 }) as never);
  assert.throws(() => specOptions({ version: 1, losses: [{ type: "picky" }] }, registry), (e: unknown) => e instanceof SpecError && e.path === "losses[0]");
});

test("loadSpec: JSON text, its bytes, a frame file; an Arrow file without one is a SpecError", async () => {
  const text = readFileSync(DEFAULT_SPEC_PATH, "utf8");
  assert.equal(loadSpec(text), checkSpec(DEFAULT_SPEC));
  assert.equal(loadSpec(new TextEncoder().encode(text)), checkSpec(DEFAULT_SPEC));
  const plain = await embedSteps(steps(2, 12, 4, 3), { iterations: 10 });
  assert.throws(() => loadSpec(tableToIPC(plain.frame, "file")), (e: unknown) => e instanceof SpecError && /records no spec/.test((e as Error).message));
  assert.throws(() => loadSpec("{ version: 1 }"), (e: unknown) => e instanceof SpecError && /not JSON/.test((e as Error).message));
});

test("cosine metric: rows scaled by powers of two embed to the same bits; any positive scale to the same picture; euclidean differs", async () => {
  const scale = (i: number) => 2 ** ((i % 7) - 3);
  const plain = steps(3, 36, 10, 4), scaled = steps(3, 36, 10, 4, scale);
  const cosine = specOptions({ version: 1, affinity: { type: "perplexity", metric: "cosine" }, phases: [{ iterations: 300 }] }).options;
  const a = await embedSteps(plain, cosine), b = await embedSteps(scaled, specOptions(cosine.spec).options);
  assert.equal(columns(b.frame), columns(a.frame));
  const c = await embedSteps(steps(3, 36, 10, 4, (i) => 0.5 + (i % 5) * 0.37), specOptions(cosine.spec).options);
  assert.ok(Math.abs(c.quality.meanTrustworthiness - a.quality.meanTrustworthiness) < 0.01, `${c.quality.meanTrustworthiness} vs ${a.quality.meanTrustworthiness}`);
  const euclidean = await embedSteps(scaled, { iterations: 300 });
  assert.not.equal(columns(euclidean.frame).x, columns(a.frame).x);
  // The quality figures measure in the metric's space: scaled rows change nothing there.
  assert.equal(b.quality, a.quality);
});

test("cosine metric: a checkpoint records it (and the perplexity), and a restored embedder keeps using it", async () => {
  const table = steps(3, 30, 8, 5, (i) => 1 + (i % 4));
  const options = { affinity: perplexityAffinity({ metric: "cosine", perplexity: 8 }), iterationsPerStep: 10, polish: 0, seed: 2 };
  const reference = new IncrementalEmbedder(options);
  reference.push(table);
  await reference.finish();
  const first = new IncrementalEmbedder(options);
  const split = tablesPerStep(table);
  first.push(split[0]);
  await first.update();
  const bytes = await first.checkpoint();
  const meta = JSON.parse(tableFromIPC(bytes).schema.metadata.get("diffusion-life.checkpoint")!);
  assert.equal(meta.options.affinity, { metric: "cosine", perplexity: 8 });
  const restored = IncrementalEmbedder.restore(bytes);
  restored.push(split[1]);
  restored.push(split[2]);
  await restored.finish();
  for (let k = 0; k < 3; k++) assert.equal(Array.from(restored.embedding.steps[k].y), Array.from(reference.embedding.steps[k].y));
});

// ---- A small JSON Schema checker: the keywords specJsonSchema uses ----

type Schema = Record<string, any>;

function validate(schema: Schema, value: unknown, path = ""): string[] {
  const errors: string[] = [];
  const fail = (why: string) => errors.push(`${path || "(root)"}: ${why}`);
  if (schema.anyOf && !schema.anyOf.some((s: Schema) => validate(s, value, path).length === 0)) fail("matches none of anyOf");
  if (schema.not && validate(schema.not, value, path).length === 0) fail("matches not");
  if ("const" in schema && value !== schema.const) fail(`is not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.includes(value)) fail("is not in the enum");
  const type = schema.type;
  const is = (t: string) =>
    t === "object" ? typeof value === "object" && value !== null && !Array.isArray(value)
    : t === "array" ? Array.isArray(value)
    : t === "integer" ? Number.isInteger(value)
    : typeof value === t;
  if (type && !is(type)) return [...errors, `${path || "(root)"}: is not ${type}`];
  if (typeof value === "number") {
    if (schema.minimum !== undefined && !(value >= schema.minimum)) fail("below minimum");
    if (schema.maximum !== undefined && !(value <= schema.maximum)) fail("above maximum");
    if (schema.exclusiveMinimum !== undefined && !(value > schema.exclusiveMinimum)) fail("not above exclusiveMinimum");
    if (schema.exclusiveMaximum !== undefined && !(value < schema.exclusiveMaximum)) fail("not below exclusiveMaximum");
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) fail("too short");
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) fail("does not match the pattern");
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) fail("too few items");
    if (schema.items) value.forEach((v, i) => errors.push(...validate(schema.items, v, `${path}[${i}]`)));
  }
  if (type === "object" && typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in v)) fail(`lacks ${key}`);
    for (const [key, item] of Object.entries(v)) {
      const sub = schema.properties?.[key];
      if (sub) errors.push(...validate(sub, item, `${path}.${key}`));
      else if (schema.additionalProperties === false) fail(`has ${key}`);
      else if (typeof schema.additionalProperties === "object") errors.push(...validate(schema.additionalProperties, item, `${path}.${key}`));
    }
  }
  return errors;
}

test.run();
