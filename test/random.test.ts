import { test } from "uvu";
import * as assert from "uvu/assert";
import { random } from "../src/util/random.ts";

test("random: the same seed gives the same sequence", () => {
  const a = random(42), b = random(42), c = random(43);
  const sa = Array.from({ length: 5 }, () => a.next());
  assert.equal(sa, Array.from({ length: 5 }, () => b.next()));
  assert.not.equal(sa, Array.from({ length: 5 }, () => c.next()));
});

test("random: normal() has mean 0 and variance 1", () => {
  const r = random(7);
  let s = 0, s2 = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const v = r.normal();
    s += v;
    s2 += v * v;
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(s2 / n - 1) < 0.05);
});

test.run();
