import { readFile } from "node:fs/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random } from "../mod.ts";
import { distanceKernel, scalarDistances } from "../src/embed/wasm/distances.ts";
import { wasm } from "../src/embed/wasm/distances_wasm.ts";
import { compile, generatedPath, kernels, moduleSource } from "../scripts/build-wasm.ts";

test("the shipped WebAssembly is the compiled source", async () => {
  for (const path of kernels) {
    const shipped = await readFile(generatedPath(path), "utf8");
    assert.equal(shipped, moduleSource(path, await compile(path)), `${path}: run npm run build-wasm`);
  }
});

test("the distance kernels (SIMD here, and the JavaScript fallback) measure squared distances for any dimension", () => {
  assert.ok(WebAssembly.validate(Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0))), "WebAssembly SIMD is available");
  const rng = random(3);
  for (const dim of [1, 3, 4, 7, 8, 50]) {
    const n = 40, points = Float32Array.from({ length: n * dim }, () => rng.normal());
    // The SIMD kernel and the JavaScript fallback give the same distances.
    for (const kernel of [distanceKernel(points, n, dim, n), scalarDistances(points, dim, n)]) {
      const candidates = [5, 0, 39, 17, 5];
      kernel.candidates.set(candidates);
      kernel.measure(11, candidates.length);
      candidates.forEach((j, c) => {
        let d = 0;
        for (let t = 0; t < dim; t++) d += (points[11 * dim + t] - points[j * dim + t]) ** 2;
        assert.ok(Math.abs(kernel.distances[c] - d) <= 1e-5 * (1 + d), `dim ${dim}: ${kernel.distances[c]} vs ${d}`);
        assert.equal(kernel.bits[c], new Uint32Array(Float32Array.of(kernel.distances[c]).buffer)[0]);
      });
    }
  }
});

test.run();
