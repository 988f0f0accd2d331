// A producer process of the JetStream tests and bench: synthetic trajectories
// (three prompts; each instance drifts from noise to its prompt's centre plus
// a style of its own, seeded by its id, so the rows do not depend on which
// process makes them), published step by step to a run.
// Arguments: url run producer firstInstance instances steps [intervalMs] [dim]
import { connect } from "@nats-io/transport-node";
import { concatMap, from, lastValueFrom, timer } from "rxjs";
import { random, stepTable } from "../mod.ts";
import { publishSteps } from "../nats.ts";

const [url, run, producer, first, count, stepCount, interval = "0", dimText = "16"] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const firstInstance = Number(first), instances = Number(count), steps = Number(stepCount), dim = Number(dimText);
const prompts = ["cat", "dog", "fox"];

function syntheticStep(step: number): ReturnType<typeof stepTable> {
  const instance = Int32Array.from({ length: instances }, (_, i) => firstInstance + i);
  const features = new Float32Array(instances * dim);
  const a = steps > 1 ? step / (steps - 1) : 1;
  instance.forEach((id, i) => {
    const style = random(1000 + id), noise = random(100000 * (step + 1) + id), centre = random(7 + (id % 3));
    for (let d = 0; d < dim; d++) features[i * dim + d] = (1 - a) * noise.normal() + a * (4 * centre.normal() + 0.8 * style.normal());
  });
  return stepTable({ instance, prompt: Int32Array.from(instance, (id) => id % 3), prompts, step: Int32Array.from(instance, () => step), features, featureDim: dim });
}

const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
await lastValueFrom(
  from(Array.from({ length: steps }, (_, s) => s)).pipe(
    concatMap((s) => timer(s === 0 ? 0 : Number(interval)).pipe(concatMap(() => [syntheticStep(s)]))),
    publishSteps(nc, { run, producer }),
  ),
  { defaultValue: undefined },
);
await nc.drain();
console.log(JSON.stringify({ producer, published: steps }));
