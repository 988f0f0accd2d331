#!/usr/bin/env node
// The package's command in Node. Installed from npm it runs the compiled
// JavaScript (dist/cli.js); in a checkout of the repository, where cli.ts is,
// it runs the TypeScript sources through tsx (a devDependency), so it never
// runs a stale build. Deno and Bun run the sources directly: `deno run -A
// cli.ts …`, `bun cli.ts …`.
import { existsSync } from "node:fs";

const source = new URL("../cli.ts", import.meta.url);
if (existsSync(source)) {
  (await import("tsx/esm/api")).register();
  await import(source.href);
} else {
  await import("../dist/cli.js");
}
