// Started by scale.test.ts in a child process: thread pools that are up but
// idle, and never disposed, must let the process end.
import { AffinityPool } from "../src/embed/affinity/affinity_pool.ts";

const pools = [new AffinityPool(2), new AffinityPool(2)];
const started = Date.now();
while (!pools.every((p) => p.ready) && Date.now() - started < 20_000) await new Promise((resolve) => setTimeout(resolve, 50));
console.log(pools.every((p) => p.ready) ? "up" : "not up");
