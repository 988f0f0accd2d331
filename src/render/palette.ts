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

/** The unconditional prompt's colour ("any digit", "unconditional", ""): charcoal, apart from the palette. */
export const UNCONDITIONAL_COLOR = "#4d4d4d";

/** What is shared by all prompts — the noise at the root of a lineage tree: a light neutral grey. */
export const SHARED_COLOR = "#b8b8b8";

const UNCONDITIONAL = /^(any\b.*|unconditional|uncond|none|)$/i;

/** FNV-1a of a string's UTF-16 code units: a stable slot for a label. */
function hash(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The colour of each prompt, fixed by its label, not by its position in a
 * run's list, so "digit 7" has one colour in every picture and view:
 * - a label ending in a number k ("digit 7", "class 12") takes Tableau10's
 *   colour k mod 10;
 * - the unconditional prompt ("any digit", "unconditional", "") is
 *   charcoal (UNCONDITIONAL_COLOR);
 * - any other label takes the Tableau10 colour its hash picks.
 * Two labels that want one colour are settled in a fixed order (numbered
 * labels by number, then the others by label): the later takes the next
 * free Tableau10 colour, then one of Tableau20's lighter shades (beyond
 * twenty labels colours repeat), so a label's colour changes only when it
 * shares its slot with another label.
 */
export function promptColors(labels: readonly string[]): string[] {
  const extra = TABLEAU20.filter((c) => !TABLEAU10.includes(c));
  const ring = [...TABLEAU10, ...extra];
  const wanted = labels.map((label, i) => {
    const number = /(\d+)\s*$/.exec(label);
    const value = number ? Number(number[1].slice(-6)) : 0;
    return { i, label, numbered: number !== null, value, slot: number ? value % 10 : hash(label) % 10 };
  });
  const order = wanted.filter((w) => !UNCONDITIONAL.test(w.label.trim())).sort((a, b) =>
    Number(b.numbered) - Number(a.numbered) || a.value - b.value || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)
  );
  const colors = labels.map(() => UNCONDITIONAL_COLOR);
  const taken = new Map<string, number>();
  const byLabel = new Map<string, number>();
  for (const w of order) {
    // The same label twice (a repeated dictionary entry) keeps one colour.
    const same = byLabel.get(w.label);
    if (same !== undefined) {
      colors[w.i] = ring[same];
      continue;
    }
    let slot = w.slot;
    for (let k = 0; k < ring.length && taken.has(ring[slot]); k++) slot = (slot + 1) % ring.length;
    taken.set(ring[slot], w.i);
    byLabel.set(w.label, slot);
    colors[w.i] = ring[slot];
  }
  return colors;
}
