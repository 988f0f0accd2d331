/**
 * The explanations as Arrow tables, one row per (instance, step) or per
 * (prompt, step), with the column types of the rest of the library
 * (data/columns.ts) and what a reader needs in the schema metadata
 * `diffusion-life.explain` (JSON: class names, concept names, the image
 * shape of a saliency map, bias tests). Prompt "" in a per-step table means
 * all prompts together.
 *
 *   commitmentTable   instance, prompt, step, class, confidence (of the final
 *                     class), final_class, commitment_step, committed (0/1)
 *   commitmentStepTable  prompt, step, instances, accuracy, committed, confidence
 *   levelTable        instance, prompt, step, ssim, rmse, relative, confidence
 *   saliencyTable     instance, prompt, step, timestep, saliency (H·W), and with
 *                     curves insertion, deletion, random_insertion, random_deletion
 *                     (stages + 1 each) and their *_auc
 *   conceptTable      instance, prompt, step, projection (one per concept)
 *   probeTable        step, accuracy, chance, instances (one per vector kind: `source`)
 */
import { Table } from "apache-arrow";
import { dictionaryColumn, float32Column, int32Column, vectorColumn } from "../data/columns.ts";
import type { ImageShape } from "../data/step_table.ts";
import type { ClassBias } from "./bias.ts";
import type { Commitment } from "./commitment.ts";
import type { Concepts } from "./concepts.ts";
import type { DenoisingLevel } from "./level.ts";
import type { StepProbe } from "./probe.ts";
import type { Saliencies } from "./saliency.ts";

export const EXPLAIN_KEY = "diffusion-life.explain";

const labels = (values: readonly string[]) => {
  const unique = [...new Set(values)];
  return dictionaryColumn(Int32Array.from(values, (v) => unique.indexOf(v)), unique);
};

function withMeta(table: Table, meta: Record<string, unknown>): Table {
  table.schema.metadata.set(EXPLAIN_KEY, JSON.stringify(meta));
  return table;
}

/** The metadata an explanation table carries (or undefined). */
export function readExplainMeta(table: Table): Record<string, unknown> | undefined {
  const raw = table.schema.metadata.get(EXPLAIN_KEY);
  return raw ? JSON.parse(raw) : undefined;
}

export function commitmentTable(c: Commitment): Table {
  const T = c.steps.length, n = c.instances.length;
  const at = (f: (i: number, s: number) => number) => Int32Array.from({ length: n * T }, (_, q) => f(Math.floor(q / T), q % T));
  return withMeta(new Table({
    instance: int32Column(at((i) => c.instances[i].instance)),
    prompt: labels(Array.from({ length: n * T }, (_, q) => c.instances[Math.floor(q / T)].prompt)),
    step: int32Column(at((_, s) => c.steps[s])),
    class: int32Column(at((i, s) => c.instances[i].classes[s])),
    confidence: float32Column(Float32Array.from({ length: n * T }, (_, q) => c.instances[Math.floor(q / T)].confidence[q % T])),
    final_class: int32Column(at((i) => c.instances[i].finalClass)),
    commitment_step: int32Column(at((i) => c.instances[i].commitmentStep)),
    committed: int32Column(at((i, s) => (c.steps[s] >= c.instances[i].commitmentStep ? 1 : 0))),
  } as never), { kind: "commitment", classes: c.classNames });
}

export function commitmentStepTable(c: Commitment, bias: readonly ClassBias[] = []): Table {
  const rows = c.perStep;
  return withMeta(new Table({
    prompt: labels(rows.map((r) => r.prompt)),
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    instances: int32Column(Int32Array.from(rows, (r) => r.instances)),
    accuracy: float32Column(Float32Array.from(rows, (r) => r.accuracy)),
    committed: float32Column(Float32Array.from(rows, (r) => r.committed)),
    confidence: float32Column(Float32Array.from(rows, (r) => r.confidence)),
  } as never), {
    kind: "commitment-steps", classes: c.classNames,
    distributions: c.distributions.map((d) => ({ prompt: d.prompt, counts: Array.from(d.counts), mean: d.mean, median: d.median })),
    bias: bias.map((b) => ({ prompt: b.prompt, instances: b.instances, counts: Array.from(b.counts), dataFrequencies: Array.from(b.dataFrequencies), chiSquare: b.chiSquare, df: b.df, p: b.p, sparse: b.sparse })),
  });
}

export function levelTable(level: DenoisingLevel): Table {
  const rows = level.rows;
  return withMeta(new Table({
    instance: int32Column(Int32Array.from(rows, (r) => r.instance)),
    prompt: labels(rows.map((r) => r.prompt)),
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    ssim: float32Column(Float32Array.from(rows, (r) => r.ssim)),
    rmse: float32Column(Float32Array.from(rows, (r) => r.rmse)),
    relative: float32Column(Float32Array.from(rows, (r) => r.relative)),
    confidence: float32Column(Float32Array.from(rows, (r) => r.confidence)),
  } as never), { kind: "level" });
}

export function saliencyTable(s: Saliencies): Table {
  const { rows, shape } = s;
  const plane = shape[1] * shape[2];
  const saliency = new Float32Array(rows.length * plane);
  rows.forEach((r, i) => saliency.set(r.saliency, i * plane));
  const columns: Record<string, unknown> = {
    instance: int32Column(Int32Array.from(rows, (r) => r.instance)),
    prompt: labels(rows.map((r) => r.prompt)),
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    timestep: float32Column(Float32Array.from(rows, (r) => r.timestep)),
    saliency: vectorColumn(saliency, plane),
  };
  const stages = rows[0]?.curves?.stages;
  if (stages !== undefined && rows.every((r) => r.curves?.stages === stages)) {
    const curve = (get: (r: (typeof rows)[number]) => Float64Array | undefined) => {
      const out = new Float32Array(rows.length * (stages + 1)).fill(NaN);
      rows.forEach((r, i) => {
        const v = get(r);
        if (v) out.set(v, i * (stages + 1));
      });
      return vectorColumn(out, stages + 1);
    };
    columns.insertion = curve((r) => r.curves!.insertion.scores);
    columns.deletion = curve((r) => r.curves!.deletion.scores);
    columns.random_insertion = curve((r) => r.curves!.randomInsertion?.scores);
    columns.random_deletion = curve((r) => r.curves!.randomDeletion?.scores);
    columns.insertion_auc = float32Column(Float32Array.from(rows, (r) => r.curves!.insertion.auc));
    columns.deletion_auc = float32Column(Float32Array.from(rows, (r) => r.curves!.deletion.auc));
    columns.random_insertion_auc = float32Column(Float32Array.from(rows, (r) => r.curves!.randomInsertion?.auc ?? NaN));
    columns.random_deletion_auc = float32Column(Float32Array.from(rows, (r) => r.curves!.randomDeletion?.auc ?? NaN));
  }
  return withMeta(new Table(columns as never), { kind: "saliency", shape: [1, shape[1], shape[2]] as ImageShape, masksPerSecond: s.masksPerSecond });
}

export function conceptTable(c: Concepts): Table {
  const { trajectories: traj, names } = c;
  const T = traj.steps.length, n = traj.instances.length, K = names.length;
  const at = (f: (i: number, s: number) => number) => Int32Array.from({ length: n * T }, (_, q) => f(Math.floor(q / T), q % T));
  const columns: Record<string, unknown> = {
    instance: int32Column(at((i) => traj.instances[i])),
    prompt: labels(Array.from({ length: n * T }, (_, q) => traj.prompt[Math.floor(q / T)])),
    step: int32Column(at((_, s) => traj.steps[s])),
  };
  if (K > 0) columns.projection = vectorColumn(c.projections, K);
  return withMeta(new Table(columns as never), { kind: "concepts", concepts: names });
}

export function probeTable(probes: Record<string, readonly StepProbe[]>): Table {
  const rows = Object.entries(probes).flatMap(([source, list]) => list.map((p) => ({ source, ...p })));
  return withMeta(new Table({
    source: labels(rows.map((r) => r.source)),
    step: int32Column(Int32Array.from(rows, (r) => r.step)),
    accuracy: float32Column(Float32Array.from(rows, (r) => r.accuracy)),
    chance: float32Column(Float32Array.from(rows, (r) => r.chance)),
    instances: int32Column(Int32Array.from(rows, (r) => r.instances)),
  } as never), { kind: "probe" });
}
