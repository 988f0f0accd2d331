/**
 * The Python recipe's NATS mode (examples/python/nats_sink.py) against a real
 * nats-server: two Python producers publish steps in the recipe's schema,
 * and the library's consumer reads them back whole. The test makes its own
 * Python environment (nats-py and pyarrow, from the package index) once.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "@nats-io/transport-node";
import { lastValueFrom, toArray } from "rxjs";
import { readStepTable } from "../mod.ts";
import { StepConsumer } from "../nats.ts";
import { NATS_SERVER, NatsServer } from "./nats_server.ts";

const VENV = "node_modules/.cache/diffusion-life-python";
const PYTHON = join(VENV, "bin", "python");

function python(): string | undefined {
  if (!existsSync(PYTHON)) {
    spawnSync("python3", ["-m", "venv", VENV], { stdio: "inherit" });
    spawnSync(join(VENV, "bin", "pip"), ["install", "--quiet", "nats-py", "pyarrow"], { stdio: "inherit", timeout: 600_000 });
  }
  return spawnSync(PYTHON, ["-c", "import nats, pyarrow"]).status === 0 ? PYTHON : undefined;
}

if (NATS_SERVER) {
  test("two Python producers (the recipe's --nats mode): every step read back whole, the wide one from several messages", async () => {
    const py = python();
    assert.ok(py, "a Python environment with nats-py and pyarrow could not be made");
    const server = await NatsServer.start();
    const nc = await connect({ servers: server.url });
    try {
      for (const [producer, offset] of [["gpu0", "0"], ["gpu1", "1000"]]) {
        const r = spawnSync(py!, ["test/python_nats.script.py", server.url, "py", producer, offset], { encoding: "utf8", timeout: 120_000 });
        assert.is(r.status, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout), { producer, steps: [0, 1, 2] });
      }
      const consumer = await StepConsumer.open(nc, { run: "py", producers: ["gpu0", "gpu1"] });
      const steps = await lastValueFrom(consumer.steps().pipe(toArray()));
      assert.equal(steps.map((t) => t.numRows), [12, 12, 800]);
      const cols = readStepTable(steps[2], { image: true });
      assert.equal(cols.imageShape, [1, 64, 64]);
      assert.equal(cols.prompts.sort(), ["a cat", "a dog"]);
      // Rows in instance order; each image holds its instance and step.
      const at = cols.instance.indexOf(1003);
      assert.is(at, 403);
      assert.is(cols.image![at * 4096 + 100], 1003 * 1000 + 2);
      assert.ok(consumer.stats.messages > 2 * 3 + 2, `${consumer.stats.messages} messages: the wide step took several`);
      consumer.acknowledge(2);
      consumer.finish();
    } finally {
      await nc.close();
      await server.close();
    }
  });
}

test.run();
