/** Every benchmark case, in the order `npm run bench` runs them. */
import type { BenchCase } from "./bench.ts";
import { embeddingCase } from "./embedding.ts";
import { encodersCase } from "./encoders.ts";
import { millionCase } from "./million.ts";
import { neighborsCase, peersCase, repulsionCase, scaleCase } from "./scale.ts";
import { arrowIngestCase, onnxDenoiserCase } from "./sources.ts";
import { streamingCase } from "./streaming.ts";
import { webgpuCase } from "./webgpu.ts";

export const cases: BenchCase[] = [embeddingCase, encodersCase, repulsionCase, neighborsCase, peersCase, scaleCase, millionCase, streamingCase, webgpuCase, onnxDenoiserCase, arrowIngestCase];
