/**
 * diffusion-life/mnist: the embedded default data — the 10,000 MNIST digits
 * of the optional `mnist` package — and the exact (closed-form) diffusion
 * over them, as a source, as whole trajectories and as a live Observable.
 *
 * @module
 */
export { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistDigits, mnistSubset } from "./src/sources/mnist.ts";
export {
  DEFAULT_MNIST_PROMPTS,
  mnistDiffusion,
  type MnistDiffusionOptions,
  type MnistPrompt,
  mnistPromptLabel,
  mnistTrajectories,
} from "./src/sources/mnist_diffusion.ts";
export { liveMnistDiffusion } from "./src/stream/live_mnist.ts";
