/**
 * Layouts by name: the built-in ones (`radial`, `rectilinear`) and any a
 * user registers. What takes a layout by name — the CLI's `--layout` — looks
 * it up in `layouts`; everything else takes a Layout by value.
 *
 * ```ts
 * import { layouts } from "diffusion-life";
 * layouts.register("rows", () => horizontalLanes()); // now `--layout rows` too, in this process
 * ```
 *
 * The name "tree" is the lineage tree's in the CLI and the live viewer.
 */
import { OptionError } from "../errors.ts";
import { closest } from "../util/closest.ts";
import type { Layout } from "./layout.ts";
import { radial } from "./radial.ts";
import { rectilinear } from "./rectilinear.ts";

/** Makes a fresh layout (layouts are values, but a factory lets each use start from the defaults). */
export type LayoutFactory = () => Layout;

/** A layout name that is not registered: says which are, and the closest one. */
export class UnknownLayoutError extends OptionError {
  /** The name asked for. */
  readonly layout: string;
  /** The names known, in registration order. */
  readonly known: readonly string[];
  /** The known name closest to the one asked for, when one is close. */
  readonly suggestion?: string;

  constructor(layout: string, known: readonly string[]) {
    const suggestion = closest(layout, known);
    super(
      "layout",
      `unknown layout "${layout}" (known: ${known.join(", ")}${suggestion ? `; did you mean "${suggestion}"?` : ""})`,
    );
    this.layout = layout;
    this.known = known;
    this.suggestion = suggestion;
  }
}

const NAME = /^[A-Za-z0-9_-]+$/;

/** A set of named layouts. */
export class LayoutRegistry {
  private readonly factories = new Map<string, LayoutFactory>();

  constructor(entries: Record<string, LayoutFactory | Layout> = {}) {
    for (const [name, make] of Object.entries(entries)) this.register(name, make);
  }

  /**
   * Registers a layout under `name` (letters, digits, "-" and "_"), replacing
   * any of that name: a factory, or a Layout used as it is. Returns the
   * registry.
   */
  register(name: string, layout: LayoutFactory | Layout): this {
    if (!NAME.test(name)) throw new OptionError("name", `a layout name is letters, digits, "-" and "_", not ${JSON.stringify(name)}`);
    if (typeof layout !== "function" && !isLayout(layout)) throw new OptionError("layout", `"${name}" is not a Layout nor a function that makes one`);
    this.factories.set(name, typeof layout === "function" ? layout : () => layout);
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  /** The registered names, in registration order. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  /** The layout of that name; UnknownLayoutError (listing the known names) when there is none. */
  get(name: string): Layout {
    const make = this.factories.get(name);
    if (!make) throw new UnknownLayoutError(name, this.names());
    const layout = make();
    if (!isLayout(layout)) throw new OptionError("layout", `the factory registered as "${name}" did not return a Layout`);
    return layout;
  }
}

/** The layouts the library knows by name: radial and rectilinear, and whatever a user adds. */
export const layouts: LayoutRegistry = new LayoutRegistry({ radial: () => radial(), rectilinear: () => rectilinear() });

const METHODS = ["fit", "arrange", "laneCenter", "lane", "free", "place", "display", "guides"] as const;

/** Whether a value has the shape of a Layout (its members' types; not what they compute). */
export function isLayout(value: unknown): value is Layout {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === "string" && v.name !== "" && typeof v.circular === "boolean" && typeof v.scale === "number" &&
    Array.isArray(v.native) && v.native.length === 2 && v.native.every((n) => typeof n === "string") &&
    METHODS.every((m) => typeof v[m] === "function");
}
