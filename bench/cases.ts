/** Every benchmark case, in the order `npm run bench` runs them. */
import type { BenchCase } from "./bench.ts";
import { embeddingCase } from "./embedding.ts";

export const cases: BenchCase[] = [embeddingCase];
