/**
 * The JetStream commands against a real nats-server: two `publish`
 * producers, one `embed-run` and one `watch --nats`, all in this process.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { readFileSync } from "node:fs";
import { NATS_SERVER, NatsServer } from "./nats_server.ts";
import { runCli as run } from "./cli_run.ts";


const SMALL = ["--prompts", "3,7", "--instances", "3", "--steps", "4", "--digits-per-class", "30"];

if (NATS_SERVER) {
  const dir = mkdtempSync(join(tmpdir(), "dl-cli-nats-"));
  let server: NatsServer;
  test.before(async () => void (server = await NatsServer.start()));
  test.after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("publish ×2, embed-run and watch --nats: the run's rows embedded once, the watcher sees the final frame", async () => {
    const nats = ["--nats", server.url, "--run", "digits"];
    const out = join(dir, "frames.arrow");
    const embedder = run(["embed-run", ...nats, "--producers", "gpu0,gpu1", "--checkpoint", join(dir, "ck.arrow"), "-o", out, "--encoder", "pca", "--components", "8", "--iterations", "20"]);
    const watcher = run(["watch", ...nats, "--port", "0", "--once"]);
    const producers = await Promise.all([
      run(["publish", ...nats, "--producer", "gpu0", ...SMALL, "--seed", "1"]),
      run(["publish", ...nats, "--producer", "gpu1", "--instance-offset", "100", ...SMALL, "--seed", "2"]),
    ]);
    for (const p of producers) {
      assert.is(p.code, 0, p.stderr);
      assert.match(p.stdout, /published 4 steps \(24 rows/);
    }
    const e = await embedder, w = await watcher;
    assert.is(e.code, 0, e.stderr);
    assert.match(e.stdout, /final frame, 48 rows; 0 delivered twice, 0 dead letters/);
    const frame = tableFromIPC(readFileSync(out));
    assert.is(frame.numRows, 48);
    assert.equal([...new Set(frame.getChild("instance")!.toArray() as Int32Array)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105]);
    assert.is(w.code, 0, w.stderr);
    assert.match(w.stdout, /done: \d+ frames/);
  });

  test("the commands name what is missing", async () => {
    const e = await run(["embed-run", "--nats", server.url, "--run", "x"]);
    assert.is(e.code, 2);
    assert.match(e.stderr, /--producers/);
    const p = await run(["publish", "--run", "x"]);
    assert.match(p.stderr, /needs --nats/);
    const bad = await run(["publish", "--nats", server.url, "--run", "a.b"]);
    assert.match(bad.stderr, /one NATS subject token/);
  });
}

test.run();
