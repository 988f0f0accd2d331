// The Layout contract, the built-ins and a user's layout (examples/horizontal_lanes.ts), the layouts registry and renderers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  embedSteps,
  type FreeSpan,
  isLayout,
  type Layout,
  LayoutRegistry,
  layouts,
  lineageSvgRenderer,
  lineageTree,
  type LineGuide,
  OptionError,
  radial,
  readFrameTable,
  readGuides,
  rectilinear,
  renderLineageSvg,
  renderSvg,
  stepTable,
  svgRenderer,
  UnknownLayoutError,
} from "../mod.ts";
import { horizontalLanes } from "../examples/horizontal_lanes.ts";
import defaultLayout from "../examples/horizontal_lanes.ts";
import { clusteredSteps } from "./fixtures.ts";

const SPAN: FreeSpan = { min: -1.3, max: 0.9 };
const LAYOUTS: (() => Layout)[] = [() => radial(), () => rectilinear(), () => horizontalLanes()];

for (const make of LAYOUTS) {
  const fitted = make().fit(60);
  test(`layout contract (${fitted.name}): place inverts free and lane; gradients match finite differences`, () => {
    const g = new Float64Array(2), p = new Float64Array(2), h = 1e-6;
    for (const [t, f, d] of [[0, 0.3, 0.5], [3, -0.8, -1.2], [7, 1.1, 0]]) {
      fitted.place(t, f, d, p);
      assert.ok(Math.abs(fitted.free(p[0], p[1], g) - f) < 1e-9, "free of place is f");
      assert.ok(Math.abs(fitted.lane(p[0], p[1], g) - (fitted.laneCenter(t) + d)) < 1e-9, "lane of place is the lane centre + d");
      for (const coordinate of ["free", "lane"] as const) {
        fitted[coordinate](p[0], p[1], g);
        const at = (x: number, y: number) => fitted[coordinate](x, y, new Float64Array(2));
        assert.ok(Math.abs((at(p[0] + h, p[1]) - at(p[0] - h, p[1])) / (2 * h) - g[0]) < 1e-5, `${coordinate}: ∂/∂x`);
        assert.ok(Math.abs((at(p[0], p[1] + h) - at(p[0], p[1] - h)) / (2 * h) - g[1]) < 1e-5, `${coordinate}: ∂/∂y`);
      }
    }
  });

  test(`layout contract (${fitted.name}): arrange keeps the optimisation geometry; guides cover the span, one per step`, () => {
    const shown = fitted.arrange(8, SPAN);
    assert.is(shown.name, fitted.name);
    assert.is(shown.scale, fitted.scale);
    assert.equal(shown.native, fitted.native);
    const a = new Float64Array(2), b = new Float64Array(2);
    for (const t of [0, 5]) {
      assert.is(shown.laneCenter(t), fitted.laneCenter(t));
      fitted.place(t, 0.4, 0.2, a);
      shown.place(t, 0.4, 0.2, b);
      assert.equal([...a], [...b]);
    }
    const steps = [0, 1, 2, 3, 4, 5, 6, 7];
    const guides = shown.guides(steps, SPAN);
    assert.equal(guides.map((g) => g.step), steps);
    const out = new Float64Array(4), p = new Float64Array(2);
    for (const guide of guides) {
      // Every point of the lane between span.min and span.max (on its centre) lies on its guide.
      for (let k = 0; k <= 10; k++) {
        shown.place(guide.step, SPAN.min + ((SPAN.max - SPAN.min) * k) / 10, 0, p);
        shown.display(p[0], p[1], guide.step, out);
        if (guide.shape === "circle") {
          assert.ok(Math.abs(Math.hypot(out[0] - guide.cx, out[1] - guide.cy) - guide.r) < 1e-9, "on the ring");
        } else {
          const { x1, y1, x2, y2 } = guide, along = ((out[0] - x1) * (x2 - x1) + (out[1] - y1) * (y2 - y1)) / ((x2 - x1) ** 2 + (y2 - y1) ** 2);
          assert.ok(along > -1e-9 && along < 1 + 1e-9, "within the segment");
          assert.ok(Math.abs((out[0] - x1) * (y2 - y1) - (out[1] - y1) * (x2 - x1)) < 1e-6, "on the line");
        }
      }
    }
  });
}

test("radial display: rings never overlap, and every ring is drawn with the same shape", () => {
  const fitted = radial().fit(500), R = fitted.scale, p = new Float64Array(2), out = new Float64Array(4);
  const drawn = (shown: Layout, t: number, f: number, d: number) => {
    shown.place(t, f, d, p);
    shown.display(p[0], p[1], t, out);
    return [out[0], out[1]];
  };
  for (const lanes of [2, 10, 50]) {
    const shown = fitted.arrange(lanes, SPAN);
    for (let t = 0; t + 1 < lanes; t++) {
      const outer = Math.hypot(...drawn(shown, t, 0.2, 100 * R)), inner = Math.hypot(...drawn(shown, t + 1, 0.2, -R + 1e-9));
      assert.ok(outer < inner, `${lanes} lanes: ring ${t} reaches ${outer}, ring ${t + 1} starts at ${inner}`);
    }
  }
  // Across the lane against along it, at the lane centre: the same ratio on every ring.
  const shown = fitted.arrange(10, SPAN), h = 1e-4;
  const ratios = [0, 4, 9].map((t) => {
    const [x0, y0] = drawn(shown, t, 0.2, 0), [x1, y1] = drawn(shown, t, 0.2, h), [x2, y2] = drawn(shown, t, 0.2 + h / R, 0);
    return Math.hypot(x1 - x0, y1 - y0) / Math.hypot(x2 - x0, y2 - y0);
  });
  for (const r of ratios) assert.ok(Math.abs(r - ratios[0]) < 1e-6 && r > 0.4 && r <= 1, `ratios ${ratios}`);
});

test("a user's layout with horizontal lanes: embedSteps, then rows at y = −gap·t whose guides enclose the points", async () => {
  const steps = clusteredSteps(5, 24, 6, 2);
  const table = stepTable({
    instance: Int32Array.from(steps.flatMap((s) => [...s.instance])),
    prompt: Int32Array.from(steps.flatMap((s) => [...s.prompt])),
    prompts: ["a", "b", "c", "d"],
    step: Int32Array.from(steps.flatMap((s) => [...s.instance].map(() => s.step))),
    features: Float32Array.from(steps.flatMap((s) => [...s.features])),
    featureDim: 6,
  });
  const { frame, quality } = await embedSteps(table, { layout: horizontalLanes(), iterations: 150, seed: 1 });
  assert.ok(quality.meanTrustworthiness > 0.7, `trustworthiness ${quality.meanTrustworthiness}`);
  const f = readFrameTable(frame);
  assert.is(f.layout, "horizontal-lanes");
  assert.equal(Object.keys(f.native), ["row", "position"]);
  const guides = readGuides(frame)! as LineGuide[];
  assert.equal(guides.map((g) => g.step), [0, 1, 2, 3, 4]);
  const gap = -guides[1].y1;
  assert.ok(gap > 0);
  for (const g of guides) {
    assert.is(g.shape, "line");
    assert.is(g.y1, g.y2, "a row");
    assert.ok(Math.abs(g.y1 + gap * g.step) < 1e-9, "step t is the row y = −gap·t");
    const rows = [...f.step.keys()].filter((r) => f.step[r] === g.step);
    const xs = rows.map((r) => f.x[r]), ys = rows.map((r) => f.y[r]);
    const [left, right] = [Math.min(g.x1, g.x2), Math.max(g.x1, g.x2)];
    assert.ok(left <= Math.min(...xs) + 1e-3 && right >= Math.max(...xs) - 1e-3, `step ${g.step}: the guide encloses the points along x`);
    const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
    assert.ok(Math.abs(meanY - g.y1) < gap / 2, `step ${g.step}: its points sit on its row (${meanY} vs ${g.y1})`);
    for (const r of rows) assert.is(f.native.position[r], f.x[r]);
  }
  // The picture: rows drawn as horizontal lines, step labels left of them.
  const svg = renderSvg(frame, { width: 500 });
  const lines = [...svg.matchAll(/<line data-step="(\d+)" x1="([-\d.]+)" y1="([-\d.]+)" x2="([-\d.]+)" y2="([-\d.]+)"\/>/g)];
  assert.is(lines.length, 5);
  for (const [, , x1, y1, x2, y2] of lines) {
    assert.is(y1, y2, "horizontal in pixels too");
    assert.ok(Number(x2) - Number(x1) > 100, "wide");
  }
  const labels = [...svg.matchAll(/<text x="([-\d.]+)" y="([-\d.]+)" text-anchor="end">t=(\d+)<\/text>/g)];
  assert.ok(labels.length >= 3, `${labels.length} labels`);
  for (const [, x, y, step] of labels) {
    const line = lines.find((l) => l[1] === step)!;
    assert.ok(Number(x) < Math.min(Number(line[2]), Number(line[4])), "left of its row");
    assert.ok(Math.abs(Number(y) - Number(line[3])) < 10, "beside its row");
  }
  assert.is(svgRenderer.render(frame, { width: 500 }), svg, "svgRenderer is renderSvg");
  const tree = lineageTree(table);
  assert.is(lineageSvgRenderer.render(tree), renderLineageSvg(tree));
});

test("the layouts registry: built-ins by name, users' layouts added, unknown names a typed error that suggests", () => {
  assert.ok(layouts.names().includes("radial") && layouts.names().includes("rectilinear"));
  assert.is(layouts.get("radial").name, "radial");
  assert.is.not(layouts.get("rectilinear"), layouts.get("rectilinear"), "a fresh layout each time");
  const own = new LayoutRegistry({ radial: () => radial() }).register("rows", () => horizontalLanes()).register("fixed", defaultLayout);
  assert.equal(own.names(), ["radial", "rows", "fixed"]);
  assert.is(own.get("rows").name, "horizontal-lanes");
  assert.is(own.get("fixed"), defaultLayout);
  try {
    own.get("rwos");
    assert.unreachable();
  } catch (e) {
    assert.instance(e, UnknownLayoutError);
    assert.instance(e, OptionError);
    const u = e as UnknownLayoutError;
    assert.is(u.code, "invalid-option");
    assert.equal(u.known, ["radial", "rows", "fixed"]);
    assert.is(u.suggestion, "rows");
    assert.match(u.message, /unknown layout "rwos" \(known: radial, rows, fixed; did you mean "rows"\?\)/);
  }
  assert.is((() => { try { layouts.get("spiral"); } catch (e) { return (e as UnknownLayoutError).suggestion; } })(), undefined);
  assert.throws(() => own.register("a,b", () => radial()), (e: unknown) => e instanceof OptionError);
  assert.throws(() => own.register("x", { name: "x" } as never), (e: unknown) => e instanceof OptionError);
  assert.ok(isLayout(defaultLayout) && isLayout(radial()) && !isLayout({}) && !isLayout(null));
});

test.run();
