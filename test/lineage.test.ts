import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode } from "fast-png";
import type { Table } from "apache-arrow";
import { readVectors } from "../src/data/columns.ts";
import { stepTable } from "../src/data/step_table.ts";
import { splitSteps } from "../src/data/per_step.ts";
import { DiffusionLifeError } from "../src/errors.ts";
import { pngAssets } from "../src/runtime/png_assets.ts";
import { committedShares, Lineage, LINEAGE_KEY, lineageTree } from "../src/lineage/lineage.ts";
import { commitment } from "../src/explain/commitment.ts";
import { readGuides } from "../src/data/guides.ts";
import { renderLineageSvg } from "../src/lineage/lineage_svg.ts";
import { svgToPng } from "../src/render/png.ts";
import { random } from "../src/util/random.ts";

/**
 * Three prompts × 6 instances × 6 steps whose features branch on purpose:
 * one cloud at steps 0–1, {A, B} | C from step 2, A | B | C from step 4.
 */
function branching(seed = 1) {
  const rng = random(seed);
  const n = 18, steps = 6, dim = 8;
  const instance: number[] = [], prompt: number[] = [], step: number[] = [];
  const features: number[] = [];
  for (let s = 0; s < steps; s++) {
    const a = s >= 2 ? 5 : 0, b = s >= 4 ? 5 : 0;
    for (let i = 0; i < n; i++) {
      const p = Math.floor(i / 6);
      const centre = p === 0 ? [a, b] : p === 1 ? [a, -b] : [-a, 0];
      instance.push(i);
      prompt.push(p);
      step.push(s);
      for (let d = 0; d < dim; d++) features.push((centre[d] ?? 0) + 0.1 * rng.normal());
    }
  }
  return stepTable({
    instance: Int32Array.from(instance),
    prompt: Int32Array.from(prompt),
    prompts: ["A", "B", "C"],
    step: Int32Array.from(step),
    features: Float32Array.from(features),
    featureDim: dim,
  });
}

const ints = (t: Table, name: string) => Array.from(t.getChild(name)!.toArray() as Int32Array);
const floats = (t: Table, name: string) => Array.from(t.getChild(name)!.toArray() as Float32Array);
const labels = (t: Table, name: string) => Array.from(t.getChild(name)!, String);

test("lineage: one cloud, then the branches the features make, then one leaf per instance", () => {
  const tree = lineageTree(branching());
  const step = ints(tree.nodes, "step"), size = ints(tree.nodes, "size"), parent = ints(tree.nodes, "parent");
  const perStep = (s: number) => step.filter((v) => v === s).length;
  assert.equal([-1, 0, 1, 2, 3, 4, 5].map(perStep), [1, 1, 1, 2, 2, 3, 18]);
  assert.equal(ints(tree.nodes, "node"), step.map((_, i) => i));
  assert.is(parent[0], -1);
  assert.is(size[0], 18);
  for (let i = 1; i < step.length; i++) {
    assert.is(step[parent[i]], step[i] === 0 ? -1 : step[i] - 1, `node ${i} hangs from the step before`);
  }
  // Leaves: every instance once, under the step-4 cluster of its own prompt.
  const leaves = step.flatMap((s, i) => (s === 5 ? [i] : []));
  assert.equal(leaves.map((i) => ints(tree.nodes, "representative")[i]).sort((a, b) => a - b), Array.from({ length: 18 }, (_, i) => i));
  const prompt = labels(tree.nodes, "prompt");
  for (const leaf of leaves) assert.is(prompt[parent[leaf]], prompt[leaf]);
  // The {A, B} cluster of steps 2–3 is half A, half B.
  const { values: mix, dim } = readVectors(tree.nodes, "mix");
  assert.is(dim, 3);
  const ab = step.findIndex((s, i) => s === 2 && size[i] === 12);
  assert.equal(Array.from(mix.subarray(ab * 3, ab * 3 + 3)), [0.5, 0.5, 0]);
  assert.ok(tree.height > 0);
});

test("lineage: branch points say where and between which prompts generations diverge", () => {
  const { branchPoints, nodes } = lineageTree(branching());
  assert.equal(branchPoints.map((b) => b.step), [2, 4]);
  assert.equal(branchPoints[0].prompts, ["A", "B", "C"]);
  assert.equal(branchPoints[0].branches.map((b) => [b.size, b.prompts]), [[12, ["A", "B"]], [6, ["C"]]]);
  assert.equal(branchPoints[1].prompts, ["A", "B"]);
  assert.equal(branchPoints[1].branches.map((b) => b.prompts), [["A"], ["B"]]);
  assert.equal(JSON.parse(nodes.schema.metadata.get(LINEAGE_KEY)!).branchPoints, branchPoints);
});

test("lineage: radial and rectilinear coordinates, links and guides", () => {
  for (const shape of ["radial", "rectilinear"] as const) {
    const { nodes, links } = lineageTree(branching(), { shape });
    const step = ints(nodes, "step"), x = floats(nodes, "x"), y = floats(nodes, "y");
    const level = step.map((s) => s + 1); // the root at 0, step s at s + 1
    assert.is(nodes.schema.metadata.get("diffusion-life.layout"), "tree");
    if (shape === "radial") {
      const radius = floats(nodes, "radius"), angle = floats(nodes, "angle");
      step.forEach((_, i) => {
        assert.ok(Math.abs(Math.hypot(x[i], y[i]) - level[i]) < 1e-4, `node ${i} on its ring`);
        assert.ok(Math.abs(radius[i] - level[i]) < 1e-4);
        assert.ok(angle[i] >= 0 && angle[i] <= 2 * Math.PI);
      });
    } else {
      const lane = floats(nodes, "lane");
      step.forEach((_, i) => assert.is(x[i], level[i]));
      assert.equal(lane, x);
      assert.ok(Math.max(...y.map(Math.abs)) <= 3 + 1e-6, "within the columns' half-height");
    }
    const guides = readGuides(nodes)!;
    assert.equal(guides.map((g) => g.step), [0, 1, 2, 3, 4, 5]);
    assert.ok(guides.every((g) => g.shape === (shape === "radial" ? "circle" : "line")));
    // One link per node but the root, from its parent's coordinates to its own.
    const source = ints(links, "source"), target = ints(links, "target");
    assert.is(links.numRows, nodes.numRows - 1);
    assert.equal(target, Array.from({ length: nodes.numRows - 1 }, (_, i) => i + 1));
    source.forEach((s, l) => {
      assert.is(s, ints(nodes, "parent")[target[l]]);
      assert.is(floats(links, "x1")[l], x[s]);
      assert.is(floats(links, "y2")[l], y[target[l]]);
    });
  }
});

test("lineage: step by step gives the batch result, and is reproducible", () => {
  const table = branching(3);
  const batch = lineageTree(table);
  const lineage = new Lineage();
  lineage.prompts.push("A", "B", "C");
  for (const s of splitSteps(table)) lineage.addStep(s);
  assert.is(lineage.size, 6);
  const live = lineage.tree();
  for (const name of ["node", "parent", "step", "size", "representative"]) assert.equal(ints(live.nodes, name), ints(batch.nodes, name));
  assert.equal(floats(live.nodes, "x"), floats(batch.nodes, "x"));
  assert.equal(floats(lineageTree(table).nodes, "y"), floats(batch.nodes, "y"));
  // A stricter cut splits more.
  assert.ok(lineageTree(table, { threshold: 0.05 }).nodes.numRows > batch.nodes.numRows);
});

test("lineage: bad options and out-of-order steps are typed errors", () => {
  for (const options of [{ threshold: -1 }, { threshold: NaN }, { shape: "round" as never }, { pcaComponents: 0 }]) {
    try {
      new Lineage(options);
      assert.unreachable(JSON.stringify(options));
    } catch (e) {
      assert.instance(e, DiffusionLifeError);
      assert.is((e as DiffusionLifeError).code, "invalid-option");
    }
  }
  const [s0, s1] = splitSteps(branching());
  const lineage = new Lineage();
  lineage.addStep(s1);
  try {
    lineage.addStep(s0);
    assert.unreachable();
  } catch (e) {
    assert.is((e as DiffusionLifeError).code, "out-of-order");
  }
  try {
    lineage.addStep({ ...s1, step: 9, features: s1.features.subarray(1) });
    assert.unreachable();
  } catch (e) {
    assert.is((e as DiffusionLifeError).code, "dimension-mismatch");
  }
});

test("lineage: SVG with one circle per node, one path per link, branch points marked", () => {
  const tree = lineageTree(branching());
  const svg = renderLineageSvg(tree, { width: 600 });
  assert.match(svg, /^<svg [^>]*data-layout="tree"/);
  assert.is((svg.match(/<circle /g) ?? []).length, tree.nodes.numRows);
  assert.is((svg.match(/<path data-source/g) ?? []).length, tree.links.numRows);
  assert.is((svg.match(/class="branch"/g) ?? []).length, 2);
  assert.is((svg.match(/class="legend-entry"/g) ?? []).length, 3);
  assert.is((svg.match(/<ellipse /g) ?? []).length, 6);
  assert.match(svg, /Lineage tree — 3 prompts, 18 instances, 6 steps, 2 branch points/);
  assert.match(svg, /<title>step 2 · 12 instances: A 6, B 6<\/title>/);
  assert.is(renderLineageSvg(tree, { width: 600 }), svg, "deterministic");
});

/**
 * Two classes over branching(): A holds class 0 from step 0, B turns from 1 to
 * 0 at step 3, C's first three hold 1 from step 0 and its last three turn
 * from 0 to 1 at step 5: commitment steps 0 (A), 3 (B), 0 and 5 (C).
 */
async function branchingCommitment() {
  const table = branching();
  const instance = ints(table, "instance"), step = ints(table, "step");
  const classOf = (i: number, s: number) => (i < 6 ? 0 : i < 12 ? (s >= 3 ? 0 : 1) : i < 15 ? 1 : s >= 5 ? 1 : 0);
  const values = new Float32Array(instance.length * 2);
  instance.forEach((i, r) => (values[r * 2 + classOf(i, step[r])] = 5));
  return commitment(table, { scores: { values, dim: 2 } });
}

test("lineage: nodes marked by the share of their instances committed at their step", async () => {
  const tree = lineageTree(branching());
  const c = await branchingCommitment();
  assert.equal(c.instances.map((i) => i.commitmentStep), [0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 0, 0, 0, 5, 5, 5]);
  const shares = committedShares(tree, c);
  const step = ints(tree.nodes, "step");
  const at = (s: number) => [...step.keys()].filter((i) => step[i] === s).map((i) => [tree.members[i].length, shares[i]]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  assert.ok(Number.isNaN(shares[0]), "the root (noise) is not marked");
  assert.equal(at(1), [[18, 0.5]], "A and C's first three of 18");
  assert.equal(at(2), [[12, 0.5], [6, 0.5]], "{A, B}: A; C: its first three");
  assert.equal(at(3), [[12, 1], [6, 0.5]], "B has committed at step 3");
  assert.equal(at(4), [[6, 0.5], [6, 1], [6, 1]]);
  assert.ok(at(5).every(([, v]) => v === 1), "everything has committed at the last step");

  const svg = renderLineageSvg(tree, { width: 600, commitment: c });
  const marks = [...svg.matchAll(/<circle data-node="(\d+)" data-step="(-?\d+)" data-size="\d+"(?: data-committed="([\d.]+)")?/g)];
  assert.is(marks.length, tree.nodes.numRows, "still one circle per node");
  for (const [, node, , share] of marks) {
    const expected = shares[Number(node)];
    if (Number.isNaN(expected)) assert.is(share, undefined, `node ${node} unmarked`);
    else assert.is(Number(share), expected, `node ${node} marked ${expected}`);
  }
  // A disc per node with some committed share; none for the root or the bare rings.
  assert.is((svg.match(/<path class="committed"/g) ?? []).length, [...shares].filter((v) => v > 0).length);
  assert.match(svg, /<title>step 2 · 12 instances: A 6, B 6 · 6 of 12 committed<\/title>/);
  assert.match(svg, /committed \(share filled\)/);
  assert.not.match(renderLineageSvg(tree, { width: 600 }), /data-committed|class="committed"/, "no marks without a commitment");
  try {
    renderLineageSvg({ nodes: tree.nodes, links: tree.links }, { commitment: c });
    assert.unreachable();
  } catch (e) {
    assert.is((e as DiffusionLifeError).code, "invalid-option");
  }
});

test("png: resvg renders the pictures, text included, at the asked scale", async () => {
  const svg = renderLineageSvg(lineageTree(branching()), { width: 400 });
  const height = Number(/height="([\d.]+)"/.exec(svg)![1]);
  const png = await svgToPng(svg, await pngAssets(), { scale: 1.5 });
  assert.equal(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const image = decode(png);
  assert.is(image.width, 600);
  assert.is(image.height, Math.round(height * 1.5));
  // The title is dark text on white: its band must hold dark pixels.
  const channels = image.channels;
  let dark = 0;
  for (let y = 0; y < 40; y++) {
    for (let x = 0; x < image.width; x++) if (image.data[(y * image.width + x) * channels] < 100) dark++;
  }
  assert.ok(dark > 100, `${dark} dark pixels in the title band`);
  try {
    await svgToPng(svg, await pngAssets(), { scale: 0 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as DiffusionLifeError).code, "invalid-option");
  }
});

test.run();
