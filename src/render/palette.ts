/**
 * Categorical palettes for prompts. `TABLEAU10` is d3's schemeTableau10;
 * `TABLEAU20` (Tableau's 20-colour set) is used by default when a frame has
 * more than ten prompts.
 */

export const TABLEAU10: readonly string[] = [
  "#4e79a7", "#f28e2c", "#e15759", "#76b7b2", "#59a14f",
  "#edc949", "#af7aa1", "#ff9da7", "#9c755f", "#bab0ab",
];

export const TABLEAU20: readonly string[] = [
  "#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f",
  "#8cd17d", "#b6992d", "#f1ce63", "#499894", "#86bcb6",
  "#e15759", "#ff9d9a", "#79706e", "#bab0ac", "#d37295",
  "#fabfd2", "#b07aa1", "#d4a6c8", "#9d7660", "#d7b5a6",
];

/** The default palette for `count` categories. */
export function defaultPalette(count: number): readonly string[] {
  return count <= TABLEAU10.length ? TABLEAU10 : TABLEAU20;
}

/** The colour of category `index`, cycling through the palette. */
export function colorOf(palette: readonly string[], index: number): string {
  return palette[((index % palette.length) + palette.length) % palette.length];
}
