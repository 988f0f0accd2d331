import pl from "nodejs-polars";
import { loadRecording } from "./src/sources/recording.ts";
import { readStepTable } from "./src/data/step_table.ts";
const df = pl.DataFrame([pl.Series("instance", [0, 1, 2], pl.Int32), pl.Series("prompt", ["a", "b", "a"], pl.Utf8), pl.Series("step", [0, 0, 0], pl.Int32), pl.Series("features", [[1, 2], [3, 4], [5, 6]], pl.List(pl.Float32))]);
const comp = process.argv[2] as "lz4" | "zstd";
const good = new Uint8Array(df.writeIPCStream(null, { compression: comp }));
const from = Number(process.argv[3] ?? 0);
for (let at = from; at < good.length; at += 3) { console.error("at", at);
  const bad = good.slice(); bad[at] ^= 0x5a;
  const t0 = performance.now();
  let r = "ok";
  try { readStepTable(await loadRecording(bad)); } catch (e) { r = (e as Error).name + ": " + (e as Error).message.slice(0, 100); }
  const ms = performance.now() - t0;
  if (ms > 200 || !/Error/.test(r) && r !== "ok" || !r.startsWith("ok") && !/(Format|Truncated|Schema|Limit|NonFinite|Dimension|OutOfRange|DuplicateRow)Error/.test(r)) console.log(at, ms.toFixed(0), r);
}
console.log("done", good.length);
