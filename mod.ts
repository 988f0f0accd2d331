/**
 * diffusion-life: the evolutionary embedding of diffusion trajectories.
 * This file is the public API; everything else is internal.
 */
export * from "./src/errors.ts";
export { random, type Random } from "./src/util/random.ts";
export * from "./src/data/step_table.ts";
export * from "./src/data/frame_table.ts";
