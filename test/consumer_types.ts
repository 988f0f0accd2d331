/**
 * The consumer test's type check (see test/consumer.mjs): a user's strict
 * `tsc` over every entry of the installed package, with none of this
 * package's devDependencies. In the repository, tsconfig.json's `paths` point
 * "diffusion-life" at the sources, so `npm run check` covers it too.
 */
import {
  DiffusionLifeError,
  embedSteps,
  type EmbeddingResult,
  type FrameTable,
  type Gpu,
  MissingDependencyError,
  radial,
  readFrameTable,
  requestGpu,
  type StepTable,
} from "diffusion-life";
import { loadMnist, type MnistDigits, mnistTrajectories } from "diffusion-life/mnist";
import { createSession, digitEncoder, type ModelInfo, OnnxGraph, type OnnxSession, readModelInfo } from "diffusion-life/onnx";
import { type PngAssets, pngAssets, svgToPng } from "diffusion-life/png";
import { type RunningServer, startViewer, ViewerSession } from "diffusion-life/viewer";

export async function embed(steps: StepTable): Promise<FrameTable> {
  const result: EmbeddingResult = await embedSteps(steps, { layout: radial(), iterations: 10 });
  readFrameTable(result.frame);
  return result.frame;
}

export async function everything(): Promise<number> {
  const digits: MnistDigits = await loadMnist();
  const steps: StepTable = await mnistTrajectories({ prompts: [3], instancesPerPrompt: 2, steps: 2 });
  const info: ModelInfo = readModelInfo(new OnnxGraph("g").toBytes());
  const session: OnnxSession = await createSession(new OnnxGraph("g").toBytes(), { backend: "wasm" });
  const assets: PngAssets = await pngAssets();
  const png: Uint8Array = await svgToPng("<svg/>", assets);
  const gpu: Gpu | undefined = await requestGpu().catch(() => undefined);
  const server: RunningServer | undefined = undefined;
  const error: DiffusionLifeError = new MissingDependencyError("mnist", "The MNIST digits");
  void [digitEncoder, startViewer, ViewerSession, steps, session, gpu, server];
  return digits.count + info.inputs.length + png.length + error.message.length;
}
