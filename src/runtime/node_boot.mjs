// Node worker bootstrap: register tsx when the worker entry is TypeScript,
// then load it (node:worker_threads does not inherit the parent's loader).
import { workerData } from "node:worker_threads";

if (workerData.entry.endsWith(".ts")) (await import("tsx/esm/api")).register();
await import(workerData.entry);
