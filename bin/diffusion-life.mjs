#!/usr/bin/env node
// The package's command in Node: runs the TypeScript entry through tsx's loader.
// Deno and Bun run it directly: `deno run -A cli.ts …`, `bun cli.ts …`.
import { register } from "tsx/esm/api";

register();
await import("../cli.ts");
