// The embedder process of the JetStream tests and bench: embedRun on a run,
// printing one JSON line per durable update.
// Arguments: url run producers(comma-separated) checkpoint out [ackWaitMs] [tree: "tree" | "no-tree"]
import { connect } from "@nats-io/transport-node";
import { embedRun } from "../nats.ts";

const [url, run, producers, checkpoint, out, ackWait = "5000", tree = "no-tree"] = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? process.argv.slice(2);
const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
const started = performance.now();
await new Promise<void>((resolve, reject) => {
  embedRun(nc, {
    run,
    producers: producers.split(","),
    checkpoint,
    out,
    ackWaitMs: Number(ackWait),
    seed: 3,
    iterationsPerStep: 20,
    polish: 100,
    quality: false,
    tree: tree === "tree",
  }).subscribe({
    next: ({ frame, consumer }) => {
      const update = JSON.parse(frame.schema.metadata.get("diffusion-life.update")!);
      console.log(JSON.stringify({ update: update.update, steps: update.steps, final: update.final, rows: frame.numRows, ms: Math.round(performance.now() - started), consumer }));
    },
    error: reject,
    complete: resolve,
  });
});
await nc.close();
