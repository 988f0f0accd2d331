/**
 * Plugins by name, for specs: a spec names each affinity, kernel, loss,
 * optimiser and layout by its `type`, and a registry makes it from the
 * options written beside the type. The built-ins are registered in
 * `plugins`; a user registers their own the same way (the layouts that
 * `layouts` knows are found too, without options):
 *
 * ```ts
 * import { plugins } from "diffusion-life";
 * plugins.register("loss", "smoothness", (options) => smoothness(options), {
 *   options: { weight: { type: "number", minimum: 0, schedulable: true, default: 1 } },
 * });
 * // now { "type": "smoothness", "weight": 4 } in a spec's losses
 * ```
 *
 * A plugin's option table (optional for a user's) lets the spec check its
 * options field by field (SpecError naming the path) and fill in defaults;
 * without one, any options go to the factory, and an OptionError it throws
 * becomes a SpecError at the plugin's path. An option a phase sets reaches
 * the factory as a function of progress (a `Weight`: read it with
 * `weightAt`).
 */
import { OptionError } from "../../errors.ts";
import type { Affinity } from "../affinity/affinity.ts";
import { perplexityAffinity, type PerplexityOptions } from "../affinity/perplexity.ts";
import type { Kernel } from "../kernel/kernel.ts";
import { studentT, type StudentTOptions } from "../kernel/student_t.ts";
import { webgpuKernel } from "../kernel/webgpu/webgpu_kernel.ts";
import { alignment, type AlignmentOptions } from "../losses/alignment.ts";
import { displacement, type DisplacementOptions } from "../losses/displacement.ts";
import type { Loss } from "../losses/loss.ts";
import { semantic, type SemanticOptions } from "../losses/semantic.ts";
import { gradientDescent, type GradientDescentOptions } from "../optimizer/gradient_descent.ts";
import type { Optimizer } from "../optimizer/optimizer.ts";
import type { Layout } from "../../layouts/layout.ts";
import { radial, type RadialOptions } from "../../layouts/radial.ts";
import { rectilinear, type RectilinearOptions } from "../../layouts/rectilinear.ts";
import { layouts } from "../../layouts/registry.ts";
import type { OptionTable } from "./spec.ts";

/** What each kind of plugin is. */
export interface PluginKinds {
  affinity: Affinity;
  kernel: Kernel;
  loss: Loss;
  optimizer: Optimizer;
  layout: Layout;
}

export type PluginKind = keyof PluginKinds;

/** What a factory gets besides its options: for a loss, the spec's kernel, made for it. */
export interface PluginContext {
  kernel?: Kernel;
}

export type PluginFactory<K extends PluginKind> = (options: Record<string, unknown>, context: PluginContext) => PluginKinds[K];

export interface PluginEntry<K extends PluginKind> {
  create: PluginFactory<K>;
  /** The options it takes, checked and defaulted by the spec; absent: any. */
  options?: OptionTable;
}

const NAME = /^[A-Za-z0-9_-]+$/;
const KINDS: readonly PluginKind[] = ["affinity", "kernel", "loss", "optimizer", "layout"];

/** Named plugins of every kind a spec names. */
export class PluginRegistry {
  private readonly entries = new Map<PluginKind, Map<string, PluginEntry<PluginKind>>>(KINDS.map((k) => [k, new Map()]));

  /** A registry of the built-in plugins (none with `empty`), to which a user adds. */
  constructor(options: { empty?: boolean } = {}) {
    if (options.empty) return;
    for (const kind of KINDS) {
      for (const [type, e] of Object.entries(BUILT_IN[kind])) this.register(kind, type, e.create as PluginFactory<typeof kind>, { options: e.options });
    }
  }

  /**
   * Registers a plugin of `kind` under `type` (letters, digits, "-" and
   * "_"), replacing any of that name; `options` is its option table.
   * Returns the registry.
   */
  register<K extends PluginKind>(kind: K, type: string, create: PluginFactory<K>, options: { options?: OptionTable } = {}): this {
    if (!KINDS.includes(kind)) throw new OptionError("kind", `must be one of ${KINDS.join(", ")}, not ${JSON.stringify(kind)}`);
    if (!NAME.test(type)) throw new OptionError("type", `a plugin type is letters, digits, "-" and "_", not ${JSON.stringify(type)}`);
    if (typeof create !== "function") throw new OptionError("create", `the ${kind} "${type}" needs a factory function`);
    this.entries.get(kind)!.set(type, { create, options: options.options } as PluginEntry<PluginKind>);
    return this;
  }

  /** The entry of that kind and type; layouts fall back to the `layouts` registry (no options). */
  entry<K extends PluginKind>(kind: K, type: string): PluginEntry<K> | undefined {
    const own = this.entries.get(kind)!.get(type) as PluginEntry<K> | undefined;
    if (own || kind !== "layout" || !layouts.has(type)) return own;
    return { create: () => layouts.get(type) as PluginKinds[K], options: {} };
  }

  /** The types known for a kind, in registration order (for layouts, then those of `layouts`). */
  types(kind: PluginKind): string[] {
    const own = [...this.entries.get(kind)!.keys()];
    return kind === "layout" ? [...own, ...layouts.names().filter((n) => !own.includes(n))] : own;
  }

  /** A registry that knows what this one knows now; registering in it leaves this one alone. */
  copy(): PluginRegistry {
    const r = new PluginRegistry({ empty: true });
    for (const [kind, map] of this.entries) for (const [type, e] of map) r.entries.get(kind)!.set(type, e);
    return r;
  }
}

const weight = (d: number) => ({ type: "number", minimum: 0, schedulable: true, default: d, description: "Weight of the loss." }) as const;
const threads = { type: "number", integer: true, minimum: 1, auto: true, default: "auto" } as const;

/** The built-in plugins, by the names specs use. */
export const BUILT_IN: { [K in PluginKind]: Record<string, PluginEntry<K>> } = {
  affinity: {
    perplexity: {
      create: (o) => perplexityAffinity(o as PerplexityOptions),
      options: {
        perplexity: { type: "number", exclusiveMinimum: 1, default: 30, description: "t-SNE's perplexity, within each step." },
        metric: { type: "enum", values: ["euclidean", "cosine"], default: "euclidean", description: "Distance between feature vectors." },
        neighbors: { type: "enum", values: ["exact", "warm", "auto"], default: "auto" },
        warmFrom: { type: "number", integer: true, minimum: 1, default: 1000 },
        threads,
      },
    },
  },
  kernel: {
    "student-t": {
      create: (o) => studentT(o as StudentTOptions),
      options: {
        repulsion: { type: "enum", values: ["exact", "barnes-hut", "fft", "auto"], default: "auto" },
        theta: { type: "number", exclusiveMinimum: 0, default: 0.5, description: "Barnes-Hut opening angle." },
        exactBelow: { type: "number", integer: true, minimum: 0, default: 500 },
      },
    },
    webgpu: {
      create: (o) => webgpuKernel(o),
      options: {
        allowSoftware: { type: "boolean", default: false, description: "Accept a software adapter (llvmpipe) too." },
        tolerance: { type: "number", exclusiveMinimum: 0, default: 1e-4 },
      },
    },
  },
  loss: {
    semantic: {
      create: (o, c) => semantic({ ...(o as SemanticOptions), kernel: c.kernel }),
      options: { weight: weight(1), threads, parallelFrom: { type: "number", integer: true, minimum: 0, default: 500_000 } },
    },
    displacement: {
      create: (o) => displacement(o as DisplacementOptions),
      options: {
        weight: weight(16),
        sigma: { type: "number", exclusiveMinimum: 0, schedulable: true, description: "σ of the well (default: the 20 → 8 schedule)." },
      },
    },
    alignment: { create: (o) => alignment(o as AlignmentOptions), options: { weight: weight(1) } },
  },
  optimizer: {
    "gradient-descent": {
      create: (o) => gradientDescent(o as GradientDescentOptions),
      options: {
        learningRate: { type: "number", exclusiveMinimum: 0, auto: true, default: "auto", description: "\"auto\": max(n / 4, 50) per step." },
        momentum: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.5 },
        finalMomentum: { type: "number", minimum: 0, exclusiveMaximum: 1, default: 0.8 },
        momentumSwitch: { type: "number", integer: true, minimum: 0, default: 20 },
        minGain: { type: "number", minimum: 0, default: 0.01 },
      },
    },
  },
  layout: {
    radial: {
      create: (o) => radial(o as RadialOptions),
      options: {
        radius: { type: "number", exclusiveMinimum: 0, auto: true, default: "auto" },
        gap: { type: "number", exclusiveMinimum: 0, description: "Display distance between rings (default 1.75 × radius)." },
      },
    },
    rectilinear: {
      create: (o) => rectilinear(o as RectilinearOptions),
      options: {
        scale: { type: "number", exclusiveMinimum: 0, auto: true, default: "auto" },
        gap: { type: "number", exclusiveMinimum: 0, auto: true, default: "auto" },
      },
    },
  },
};

/** The plugins specs name by default: the built-ins, and whatever a user registers here. */
export const plugins: PluginRegistry = new PluginRegistry();
