/**
 * The opt-in extension that lets the semantic loss share a kernel's work
 * over worker threads: each worker rebuilds the same kernel from a recipe
 * (a module's named factory and JSON options), then claims whole steps, or,
 * for a single step with `split`, chunks of its rows. A user kernel takes
 * it by giving a recipe that points at its own module.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";
import type { Kernel } from "./kernel.ts";

/** How a worker thread makes the same kernel: `(await import(module))[factory](options)`. */
export interface KernelRecipe {
  /** The module's URL (its `import.meta.url`). */
  readonly module: string;
  /** The name of the exported factory. */
  readonly factory: string;
  /** Its argument; must survive structured cloning. */
  readonly options?: unknown;
}

export interface ThreadedKernel extends Kernel {
  readonly recipe: KernelRecipe;
  /** One step split over threads by rows, where the kernel can do it. */
  readonly split?: SplitKernel;
}

export interface SplitKernel {
  /**
   * The recipe every thread builds its kernel from for this step's split
   * (so that all agree, e.g. on the repulsion method), or undefined when
   * these points cannot be split.
   */
  recipe(y: Float64Array, n: number): KernelRecipe | undefined;
  /**
   * Shared memory for the split of these points (optional; it must survive
   * structured cloning), made once by the calling thread of a run and handed
   * to every thread's `prepareChunks`, e.g. for work done once an iteration
   * that the chunks share.
   */
  workspace?(y: Float64Array, n: number): unknown;
  /** Readies a split step for this iteration (on every thread); returns its number of chunks. */
  prepareChunks(y: Float64Array, n: number, workspace?: unknown): number;
  /**
   * For the rows of chunk c: their repulsion sums, part of Z and attraction
   * into out (n×5 per row: repulsion x, y, Z part, attraction x, y).
   */
  gradientChunk(y: Float64Array, P: SparseMatrix, c: number, out: Float64Array): void;
  /** Adds the gradient once every chunk is in out; the same as klGradient gives. */
  finishChunks(n: number, out: Float64Array, exaggeration: number, weight: number, grad: Float64Array): void;
}

/** Whether worker threads can rebuild this kernel. */
export function isThreaded(kernel: Kernel): kernel is ThreadedKernel {
  return (kernel as Partial<ThreadedKernel>).recipe !== undefined;
}

const built = new Map<string, Promise<ThreadedKernel>>();

/**
 * The kernel a recipe makes, one per recipe for the life of the thread: a
 * fresh one would start its hot loops cold (V8 keeps type feedback per
 * closure), which costs a short run much of its speed.
 */
export function kernelFromRecipe(recipe: KernelRecipe): Promise<ThreadedKernel> {
  const key = JSON.stringify(recipe);
  let kernel = built.get(key);
  if (!kernel) {
    kernel = import(recipe.module).then((m) => {
      const factory = m[recipe.factory];
      if (typeof factory !== "function") throw new TypeError(`${recipe.module} exports no kernel factory named "${recipe.factory}"`);
      return factory(recipe.options) as ThreadedKernel;
    });
    built.set(key, kernel);
  }
  return kernel;
}
