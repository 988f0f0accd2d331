/**
 * The flags of the commands that work through NATS JetStream (publish,
 * embed-run, watch --nats), and the connection they open: Node's transport
 * (which Deno and Bun run too), an optional package, reconnecting for as
 * long as the command runs, so a broker restart is ridden out.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { checkToken } from "../jetstream/run_subjects.ts";
import { importOptional } from "../runtime/optional.ts";
import { type Flags, type ParsedArgs, UsageError } from "./args.ts";

export const NATS_FLAGS: Flags = {
  nats: { type: "string", value: "<url>", help: "the NATS server, e.g. nats://127.0.0.1:4222 (JetStream enabled)" },
  run: { type: "string", value: "<name>", help: "the run: one name for its producers, its embedder and its watchers (letters, digits, - and _)" },
};

export async function connectNats(args: ParsedArgs, command: string): Promise<{ nc: NatsConnection; run: string }> {
  const url = args.string("nats");
  const run = args.string("run");
  if (!url) throw new UsageError(`${command} needs --nats <url>`);
  if (!run) throw new UsageError(`${command} needs --run <name>`);
  checkToken("run", run);
  const { connect } = await importOptional("@nats-io/transport-node", "NATS JetStream", () => import("@nats-io/transport-node"));
  try {
    return { nc: await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 250, name: `diffusion-life ${command}` }), run };
  } catch (error) {
    throw new UsageError(`cannot reach the NATS server at ${url}: ${(error as Error).message}`);
  }
}
