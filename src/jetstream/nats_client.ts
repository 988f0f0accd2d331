/**
 * The NATS client packages, loaded when a JetStream function first runs:
 * they are optional peers, so importing `diffusion-life/nats` without them
 * works, and using it says which package to install (MissingDependencyError).
 */
import { importOptional } from "../runtime/optional.ts";

type Jetstream = typeof import("@nats-io/jetstream");
type NatsCore = typeof import("@nats-io/nats-core");

export interface NatsClient {
  jetstream: Jetstream["jetstream"];
  AckPolicy: Jetstream["AckPolicy"];
  DeliverPolicy: Jetstream["DeliverPolicy"];
  headers: NatsCore["headers"];
  nanos: NatsCore["nanos"];
}

let loading: Promise<NatsClient> | undefined;

export function natsClient(): Promise<NatsClient> {
  return loading ??= (async () => {
    const core = await importOptional("@nats-io/nats-core", "NATS JetStream", () => import("@nats-io/nats-core"));
    const js = await importOptional("@nats-io/jetstream", "NATS JetStream", () => import("@nats-io/jetstream"));
    return { jetstream: js.jetstream, AckPolicy: js.AckPolicy, DeliverPolicy: js.DeliverPolicy, headers: core.headers, nanos: core.nanos };
  })();
}
