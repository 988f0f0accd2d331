import { encode, evolve, pcaEncoder, pixels, readFrameTable } from "diffusion-life";
import { liveMnistDiffusion } from "diffusion-life/mnist";

liveMnistDiffusion({ steps: 25 })
  .pipe(encode(pixels()), encode(pcaEncoder({ components: 50 })), evolve({ instances: 100, iterationsPerStep: 50, polish: 200 }))
  .subscribe((frame) => console.log(readFrameTable(frame).update)); // { steps, coalesced, latencyMs, … }
