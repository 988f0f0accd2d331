/** Every benchmark case, in the order `npm run bench` runs them. */
import type { BenchCase } from "./bench.ts";
import { embeddingCase } from "./embedding.ts";
import { encodersCase } from "./encoders.ts";
import { explainCase } from "./explain.ts";
import { geometryCase } from "./geometry.ts";
import { jetstreamCase } from "./jetstream.ts";
import { liveCase, viewerCase } from "./live.ts";
import { millionCase } from "./million.ts";
import { referenceCase } from "./reference.ts";
import { neighborsCase, peersCase, repulsionCase, scaleCase } from "./scale.ts";
import { sklearnCase } from "./sklearn.ts";
import { arrowIngestCase, onnxDenoiserCase } from "./sources.ts";
import { streamingCase } from "./streaming.ts";
import { transformCase } from "./transform.ts";
import { unetCase } from "./unet.ts";
import { webgpuCase } from "./webgpu.ts";

export const cases: BenchCase[] = [embeddingCase, referenceCase, encodersCase, repulsionCase, neighborsCase, peersCase, sklearnCase, scaleCase, millionCase, streamingCase, liveCase, viewerCase, transformCase, webgpuCase, onnxDenoiserCase, arrowIngestCase, jetstreamCase, geometryCase, unetCase, explainCase];
