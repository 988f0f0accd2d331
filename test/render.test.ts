import { test } from "uvu";
import * as assert from "uvu/assert";
import { frameTable, type FrameTable } from "../src/data/frame_table.ts";
import { DiffusionLifeError } from "../src/errors.ts";
import { GUIDES_KEY, readGuides, setGuides, type Guide } from "../src/data/guides.ts";
import { promptColors } from "../src/render/palette.ts";
import { escapeXml, renderSvg } from "../src/render/svg.ts";
import { random } from "../src/util/random.ts";

// ---- a tiny, strict XML parser: well-formedness plus a tree to query ---------

interface El {
  name: string;
  attrs: Record<string, string>;
  children: El[];
  text: string; // decoded text directly inside this element
}

function decode(raw: string, where: string): string {
  if (raw.includes("<")) throw new Error(`raw "<" in ${where}`);
  return raw.replace(/&([^;]*);?/g, (m, body: string) => {
    if (!m.endsWith(";")) throw new Error(`unterminated entity in ${where}: ${m}`);
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (body in named) return named[body];
    const hex = /^#x([0-9a-fA-F]+)$/.exec(body), dec = /^#([0-9]+)$/.exec(body);
    if (hex) return String.fromCodePoint(parseInt(hex[1], 16));
    if (dec) return String.fromCodePoint(parseInt(dec[1], 10));
    throw new Error(`unknown entity &${body}; in ${where}`);
  });
}

function parseXml(src: string): El {
  let i = 0;
  const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
  const WS = /\s*/y;
  const skipWs = () => {
    WS.lastIndex = i;
    WS.exec(src);
    i = WS.lastIndex;
  };
  const name = () => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) throw new Error(`expected a name at ${i}: ${src.slice(i, i + 20)}`);
    i = NAME.lastIndex;
    return m[0];
  };
  const element = (): El => {
    if (src[i] !== "<") throw new Error(`expected "<" at ${i}`);
    i++;
    const el: El = { name: name(), attrs: {}, children: [], text: "" };
    for (;;) {
      const before = i;
      skipWs();
      if (src.startsWith("/>", i)) {
        i += 2;
        return el;
      }
      if (src[i] === ">") {
        i++;
        break;
      }
      if (i === before) throw new Error(`expected whitespace before an attribute at ${i}`);
      const key = name();
      if (key in el.attrs) throw new Error(`duplicate attribute ${key} on <${el.name}>`);
      if (src[i] !== "=") throw new Error(`expected "=" after ${key} at ${i}`);
      const q = src[i + 1];
      if (q !== '"' && q !== "'") throw new Error(`unquoted attribute ${key} at ${i}`);
      const end = src.indexOf(q, i + 2);
      if (end < 0) throw new Error(`unterminated attribute ${key}`);
      el.attrs[key] = decode(src.slice(i + 2, end), `attribute ${key}`);
      i = end + 1;
    }
    for (;;) {
      const lt = src.indexOf("<", i);
      if (lt < 0) throw new Error(`<${el.name}> is never closed`);
      el.text += decode(src.slice(i, lt), `text of <${el.name}>`);
      i = lt;
      if (src.startsWith("</", i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) throw new Error(`</${closing}> closes <${el.name}>`);
        skipWs();
        if (src[i] !== ">") throw new Error(`expected ">" at ${i}`);
        i++;
        return el;
      }
      if (src.startsWith("<!--", i)) {
        const end = src.indexOf("-->", i);
        if (end < 0) throw new Error("unterminated comment");
        i = end + 3;
        continue;
      }
      el.children.push(element());
    }
  };
  skipWs();
  const root = element();
  skipWs();
  if (i !== src.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

const all = (el: El, pred: (e: El) => boolean, out: El[] = []): El[] => {
  for (const c of el.children) {
    if (pred(c)) out.push(c);
    all(c, pred, out);
  }
  return out;
};
const byName = (el: El, name: string) => all(el, (e) => e.name === name);
const byClass = (el: El, cls: string) => all(el, (e) => (e.attrs.class ?? "").split(" ").includes(cls));
const one = (el: El, cls: string) => {
  const found = byClass(el, cls);
  assert.is(found.length, 1, `one .${cls}`);
  return found[0];
};
const n = (e: El, key: string) => {
  const v = Number(e.attrs[key]);
  assert.ok(Number.isFinite(v), `<${e.name}> ${key}="${e.attrs[key]}" is a number`);
  return v;
};
/** The vertices of a path made of M/L commands. */
const vertices = (d: string): [number, number][] => {
  assert.match(d, /^(?:[ML]-?[\d.]+,-?[\d.]+)+$/);
  return [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
};

// ---- synthetic frames -------------------------------------------------------

interface Synthetic {
  table: FrameTable;
  rows: number;
  prompts: string[];
  instances: number;
  steps: number;
}

/**
 * `prompts.length` prompts × `perPrompt` instances × `steps` steps, radial:
 * lane t on the ring of radius 20 + 35·t; each instance starts at a random
 * angle and drifts towards its prompt's direction. Rows are shuffled.
 */
function radialFrame(prompts: string[], perPrompt: number, steps: number, { guides = true, seed = 1 } = {}): Synthetic {
  const rnd = random(seed);
  const rows = prompts.length * perPrompt * steps;
  const instance = new Int32Array(rows), prompt = new Int32Array(rows), step = new Int32Array(rows);
  const x = new Float32Array(rows), y = new Float32Array(rows), radius = new Float32Array(rows), angle = new Float32Array(rows);
  const order = Array.from({ length: rows }, (_, k) => k);
  for (let k = rows - 1; k > 0; k--) {
    const j = rnd.int(k + 1);
    [order[k], order[j]] = [order[j], order[k]];
  }
  let k = 0;
  for (let p = 0; p < prompts.length; p++) {
    const home = (2 * Math.PI * p) / prompts.length;
    for (let i = 0; i < perPrompt; i++) {
      const id = p * perPrompt + i;
      const start = rnd.next() * 2 * Math.PI - Math.PI;
      const end = home + 0.25 * rnd.normal();
      for (let t = 0; t < steps; t++) {
        const row = order[k++];
        const f = steps > 1 ? t / (steps - 1) : 1;
        const a = start + (end - start) * Math.sqrt(f) + 0.05 * rnd.normal();
        const r = 20 + 35 * t + 3 * rnd.normal();
        instance[row] = id;
        prompt[row] = p;
        step[row] = t;
        x[row] = r * Math.cos(a);
        y[row] = r * Math.sin(a);
        radius[row] = r;
        angle[row] = a;
      }
    }
  }
  const table = frameTable({ instance, prompt, prompts, step, x, y, native: { radius, angle }, layout: "radial" });
  if (guides) {
    setGuides(table, Array.from({ length: steps }, (_, t): Guide => ({ step: t, shape: "circle", cx: 0, cy: 0, r: 20 + 35 * t })));
  }
  return { table, rows, prompts, instances: prompts.length * perPrompt, steps };
}

/** Rectilinear: lane t is the column x = 35·t, the free coordinate is y. */
function rectilinearFrame(perPrompt: number, steps: number): Synthetic {
  const rnd = random(5);
  const prompts = ["cat", "dog"];
  const rows = prompts.length * perPrompt * steps;
  const instance = new Int32Array(rows), prompt = new Int32Array(rows), step = new Int32Array(rows);
  const x = new Float32Array(rows), y = new Float32Array(rows), lane = new Float32Array(rows), offset = new Float32Array(rows);
  let row = 0;
  for (let p = 0; p < 2; p++) {
    for (let i = 0; i < perPrompt; i++) {
      const end = (p ? 20 : -20) + 5 * rnd.normal();
      for (let t = 0; t < steps; t++, row++) {
        instance[row] = p * perPrompt + i;
        prompt[row] = p;
        step[row] = t;
        x[row] = lane[row] = 35 * t;
        y[row] = offset[row] = (end * t) / (steps - 1) + rnd.normal();
      }
    }
  }
  const table = frameTable({ instance, prompt, prompts, step, x, y, native: { lane, offset }, layout: "rectilinear" });
  setGuides(table, Array.from({ length: steps }, (_, t): Guide => ({ step: t, shape: "line", x1: 35 * t, y1: -30, x2: 35 * t, y2: 30 })));
  return { table, rows, prompts, instances: 2 * perPrompt, steps };
}

const PROMPTS = ["a cat", "a dog", "a tree"];

// ---- tests -------------------------------------------------------------------

test("render: valid XML with a viewBox and the requested size", () => {
  const s = radialFrame(PROMPTS, 10, 8);
  const svg = renderSvg(s.table, { width: 640 });
  const root = parseXml(svg);
  assert.is(root.name, "svg");
  assert.is(root.attrs.xmlns, "http://www.w3.org/2000/svg");
  assert.is(root.attrs.width, "640");
  assert.is(root.attrs.viewBox, `0 0 640 ${root.attrs.height}`);
  assert.is(byClass(root, "title").length, 1);
  const title = byClass(root, "title")[0];
  assert.match(title.text + title.children.map((line) => line.text).join(" "), /radial/, "the title, or its lines when wrapped");
});

test("render: one circle per row, coloured by prompt, grouped by step in step order", () => {
  const s = radialFrame(PROMPTS, 10, 8);
  const svg = renderSvg(s.table);
  assert.is(svg.match(/<circle\b/g)!.length, s.rows); // every circle is a data point
  const root = parseXml(svg);
  const points = one(root, "points");
  const circles = byName(points, "circle");
  assert.is(circles.length, s.rows);
  assert.equal(points.children.map((g) => Number(g.attrs["data-step"])), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const g of points.children) assert.is(g.children.length, 30);
  // Colour follows the prompt's label: instance id = prompt·10 + i in the synthetic frame.
  const colors = promptColors(PROMPTS);
  for (const c of circles) assert.is(c.attrs.fill, colors[Math.floor(Number(c.attrs["data-instance"]) / 10)]);
});

test("render: one track per instance, its vertices the instance's points in step order", () => {
  const s = radialFrame(PROMPTS, 10, 8); // rows are shuffled in the table
  const root = parseXml(renderSvg(s.table));
  const tracks = byName(one(root, "tracks"), "path");
  assert.is(tracks.length, s.instances);
  const pointAt = new Map<string, [number, number]>();
  for (const g of one(root, "points").children) {
    for (const c of g.children) pointAt.set(`${c.attrs["data-instance"]}/${g.attrs["data-step"]}`, [n(c, "cx"), n(c, "cy")]);
  }
  for (const path of tracks) {
    const v = vertices(path.attrs.d);
    assert.is(v.length, s.steps);
    v.forEach((xy, t) => assert.equal(xy, pointAt.get(`${path.attrs["data-instance"]}/${t}`)));
    assert.is(path.attrs.stroke, promptColors(PROMPTS)[Math.floor(Number(path.attrs["data-instance"]) / 10)]);
  }
  const off = parseXml(renderSvg(s.table, { showTracks: false }));
  assert.is(byClass(off, "tracks").length, 0);
  assert.is(byName(off, "path").length, 0);
});

test("render: the legend has one entry per prompt with its colour and label", () => {
  const s = radialFrame(PROMPTS, 4, 3);
  const root = parseXml(renderSvg(s.table));
  const entries = byClass(one(root, "legend"), "legend-entry");
  assert.equal(entries.map((e) => byName(e, "text")[0].text), PROMPTS);
  assert.equal(entries.map((e) => byName(e, "rect")[0].attrs.fill), promptColors(PROMPTS));
  assert.is(byClass(parseXml(renderSvg(s.table, { showLegend: false })), "legend").length, 0);
  // A custom palette is used, cycling when it is short.
  const custom = parseXml(renderSvg(s.table, { palette: ["red", "blue"] }));
  assert.equal(byClass(custom, "legend-entry").map((e) => byName(e, "rect")[0].attrs.fill), ["red", "blue", "red"]);
});

test("render: colours follow the prompt dictionary, not the row order; unused labels stay out of the legend", () => {
  // Rows list "b" first, but the dictionary says a, b, c; "c" never occurs.
  const table = frameTable({
    instance: Int32Array.from([1, 1, 0, 0]),
    prompt: Int32Array.from([1, 1, 0, 0]),
    prompts: ["a", "b", "c"],
    step: Int32Array.from([0, 1, 0, 1]),
    x: Float32Array.from([1, 2, -1, -2]),
    y: Float32Array.from([0, 1, 0, -1]),
    native: {},
    layout: "radial",
  });
  const root = parseXml(renderSvg(table, { palette: ["red", "green", "blue"] }));
  const entries = byClass(root, "legend-entry");
  assert.equal(entries.map((e) => byName(e, "text")[0].text), ["a", "b"]);
  assert.equal(entries.map((e) => byName(e, "rect")[0].attrs.fill), ["red", "green"]);
  const fills = byName(root, "circle").map((c) => `${c.attrs["data-instance"]}:${c.attrs.fill}`);
  assert.equal(fills, ["0:red", "1:green", "0:red", "1:green"]);
  assert.match(one(root, "title").text, /2 prompts, 2 instances, 2 steps/);
});

test("render: many prompts get a longer palette and a legend in columns", () => {
  const labels = Array.from({ length: 60 }, (_, i) => `prompt number ${i}`);
  const s = radialFrame(labels, 1, 2);
  const svg = renderSvg(s.table, { height: 400 });
  const root = parseXml(svg);
  const rects = byClass(root, "legend-entry").map((e) => byName(e, "rect")[0]);
  assert.is(rects.length, 60);
  assert.ok(new Set(rects.slice(0, 20).map((r) => r.attrs.fill)).size === 20);
  assert.ok(new Set(rects.map((r) => r.attrs.x)).size > 1, "several columns");
  for (const r of rects) assert.ok(n(r, "y") + n(r, "height") <= 400);
});

test("render: a legend too long for the picture ends with a count of the rest", () => {
  const labels = Array.from({ length: 400 }, (_, i) => `class ${i}`);
  const root = parseXml(renderSvg(radialFrame(labels, 1, 2).table, { width: 600, height: 300 }));
  const entries = byClass(root, "legend-entry");
  const more = one(root, "legend-more");
  assert.ok(entries.length > 10 && entries.length < 400);
  assert.is(more.text, `… ${400 - entries.length} more`);
  for (const e of entries) assert.ok(n(byName(e, "rect")[0], "y") + 10 <= 300);
  assert.ok(n(more, "y") <= 300);
});

test("render: radial guides drawn from the metadata, with step labels; none without it", () => {
  const s = radialFrame(PROMPTS, 5, 8);
  assert.is(readGuides(s.table)!.length, 8);
  const root = parseXml(renderSvg(s.table));
  const rings = byName(one(root, "guides"), "ellipse");
  assert.is(rings.length, 8);
  assert.equal(rings.map((e) => Number(e.attrs["data-step"])), [0, 1, 2, 3, 4, 5, 6, 7]);
  const labels = byName(one(root, "guide-labels"), "text").map((t) => t.text);
  assert.is(labels[0], "t=0");
  assert.ok(labels.length >= 2);
  // Rings are concentric and grow with the step.
  for (let t = 1; t < 8; t++) {
    assert.is(rings[t].attrs.cx, rings[0].attrs.cx);
    assert.ok(n(rings[t], "rx") > n(rings[t - 1], "rx"));
  }

  const bare = radialFrame(PROMPTS, 5, 8, { guides: false });
  assert.is(bare.table.schema.metadata.get(GUIDES_KEY), undefined);
  const noGuides = parseXml(renderSvg(bare.table));
  assert.is(byClass(noGuides, "guides").length, 0);
  assert.is(byClass(noGuides, "guide-labels").length, 0);
  assert.is(byName(noGuides, "ellipse").length, 0);
  assert.is(byClass(parseXml(renderSvg(s.table, { showGuides: false })), "guides").length, 0);
});

test("render: equal aspect, y up: points sit on their rings in pixels too", () => {
  const s = radialFrame(["p"], 6, 4);
  const root = parseXml(renderSvg(s.table, { width: 500, height: 300, showLegend: false, title: "" }));
  const rings = byName(one(root, "guides"), "ellipse");
  const cx = n(rings[0], "cx"), cy = n(rings[0], "cy");
  const unit = (n(rings[3], "rx") - n(rings[0], "rx")) / (35 * 3); // px per data unit
  for (const ring of rings) assert.is(ring.attrs.rx, ring.attrs.ry);
  const data = new Map<string, [number, number]>();
  const x = s.table.getChild("x")!, y = s.table.getChild("y")!, inst = s.table.getChild("instance")!, step = s.table.getChild("step")!;
  for (let r = 0; r < s.rows; r++) data.set(`${inst.get(r)}/${step.get(r)}`, [x.get(r), y.get(r)]);
  for (const g of one(root, "points").children) {
    for (const c of g.children) {
      const [dx, dy] = data.get(`${c.attrs["data-instance"]}/${g.attrs["data-step"]}`)!;
      assert.ok(Math.abs(n(c, "cx") - (cx + dx * unit)) < 0.02, "x maps linearly");
      assert.ok(Math.abs(n(c, "cy") - (cy - dy * unit)) < 0.02, "y maps with the same scale, upwards");
    }
  }
});

test("render: rectilinear guides are columns; height follows the data's aspect", () => {
  const s = rectilinearFrame(6, 10);
  const root = parseXml(renderSvg(s.table));
  const lines = byName(one(root, "guides"), "line");
  assert.is(lines.length, 10);
  for (const l of lines) assert.is(l.attrs.x1, l.attrs.x2);
  const xs = lines.map((l) => n(l, "x1"));
  for (let t = 1; t < xs.length; t++) assert.ok(xs[t] > xs[t - 1], "columns left to right by step");
  assert.ok(n(root, "height") < n(root, "width"), "wide data gives a wide picture");
  assert.is(byName(one(root, "tracks"), "path").length, s.instances);
  for (const p of byName(one(root, "tracks"), "path")) assert.is(vertices(p.attrs.d).length, 10);
});

test("render: step labels thin out when lanes are dense", () => {
  const s = radialFrame(["p"], 3, 60);
  const root = parseXml(renderSvg(s.table, { width: 400 }));
  assert.is(byName(one(root, "guides"), "ellipse").length, 60);
  const labels = byName(one(root, "guide-labels"), "text");
  assert.is(labels[0].text, "t=0");
  assert.ok(labels.length > 3 && labels.length < 60, `${labels.length} labels`);
  const ys = labels.map((t) => n(t, "y"));
  for (let k = 1; k < ys.length; k++) assert.ok(Math.abs(ys[k] - ys[k - 1]) >= 10, "labels do not overlap");
});

test("render: labels and title are escaped", () => {
  const nasty = [`<b>bold</b> & "quoted" 'single'`, "a]]>b", "ctrl\u0001char", "ü → 日本"];
  const s = radialFrame(nasty, 2, 2);
  const title = `x < y & "z"`;
  const svg = renderSvg(s.table, { title });
  assert.not.ok(svg.includes("<b>"));
  assert.not.ok(svg.includes("\u0001"));
  const root = parseXml(svg);
  const labels = byClass(root, "legend-entry").map((e) => byName(e, "text")[0].text);
  assert.equal(labels, [nasty[0], nasty[1], "ctrl\uFFFDchar", nasty[3]]);
  assert.is(one(root, "title").text, title);
  assert.is(byName(root, "title")[0].text, title);
  assert.is(escapeXml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
});

test("render: long labels are shortened in the legend, full text in a tooltip", () => {
  const long = "a photograph of ".repeat(10) + "a cat";
  const s = radialFrame([long, "short"], 2, 2);
  const root = parseXml(renderSvg(s.table));
  const [first, second] = byClass(root, "legend-entry");
  assert.ok(byName(first, "text")[0].text.endsWith("…"));
  assert.is(byName(first, "title")[0].text, long);
  assert.is(byName(second, "title").length, 0);
});

test("render: everything lies inside the viewBox", () => {
  for (const [s, opts] of [
    [radialFrame(PROMPTS, 10, 8), {}],
    [radialFrame(PROMPTS, 10, 8), { width: 300, height: 700, pointRadius: 6 }],
    [rectilinearFrame(8, 12), { margin: 0 }],
    [radialFrame(["x"], 1, 1), {}],
  ] as const) {
    const root = parseXml(renderSvg(s.table, opts));
    const [vx, vy, vw, vh] = root.attrs.viewBox.split(" ").map(Number);
    assert.equal([vx, vy], [0, 0]);
    const inside = (x: number, y: number, what: string) =>
      assert.ok(x >= 0 && x <= vw && y >= 0 && y <= vh, `${what} at (${x}, ${y}) outside 0 0 ${vw} ${vh}`);
    for (const c of byName(root, "circle")) {
      const r = n(c, "r");
      inside(n(c, "cx") - r, n(c, "cy") - r, "circle");
      inside(n(c, "cx") + r, n(c, "cy") + r, "circle");
    }
    for (const e of byName(root, "ellipse")) {
      inside(n(e, "cx") - n(e, "rx"), n(e, "cy") - n(e, "ry"), "ring");
      inside(n(e, "cx") + n(e, "rx"), n(e, "cy") + n(e, "ry"), "ring");
    }
    for (const l of byName(root, "line")) {
      inside(n(l, "x1"), n(l, "y1"), "line");
      inside(n(l, "x2"), n(l, "y2"), "line");
    }
    for (const p of byName(root, "path")) for (const [x, y] of vertices(p.attrs.d)) inside(x, y, "track");
    for (const t of byName(root, "text")) inside(n(t, "x"), n(t, "y") - 10, "text");
    for (const r of byName(root, "rect").filter((r) => r.attrs.class !== "background")) {
      inside(n(r, "x") + n(r, "width"), n(r, "y") + n(r, "height"), "swatch");
    }
  }
});

test("render: deterministic, and small for 2000 points", () => {
  const a = radialFrame(["0", "1", "2", "3", "4"], 50, 8, { seed: 3 });
  const b = radialFrame(["0", "1", "2", "3", "4"], 50, 8, { seed: 3 });
  assert.is(a.rows, 2000);
  const svg = renderSvg(a.table);
  assert.is(renderSvg(a.table), svg);
  assert.is(renderSvg(b.table), svg);
  assert.is.not(renderSvg(a.table, { pointRadius: 2 }), svg);
  assert.ok(svg.length < 400_000, `${svg.length} bytes`);
  assert.not.match(svg, /\d\.\d{3,}/); // coordinates rounded to two decimals
});

test("render: an empty frame gives a valid picture without points", () => {
  const e = new Int32Array(0), f = new Float32Array(0);
  const table = frameTable({ instance: e, prompt: e, prompts: [], step: e, x: f, y: f, native: {}, layout: "radial" });
  const root = parseXml(renderSvg(table));
  assert.is(byName(root, "circle").length, 0);
  assert.is(byClass(root, "empty").length, 1);
});

test("render: bad options and bad guides metadata are typed errors", () => {
  const s = radialFrame(["p"], 2, 2);
  for (const opts of [{ width: 0 }, { height: -1 }, { pointRadius: NaN }, { margin: -2 }, { palette: [] }]) {
    try {
      renderSvg(s.table, opts);
      assert.unreachable(`accepted ${JSON.stringify(opts)}`);
    } catch (e) {
      assert.instance(e, DiffusionLifeError);
      assert.is((e as DiffusionLifeError).code, "invalid-option");
    }
  }
  for (const json of ["not json", "{}", `[{"step":0,"shape":"square"}]`, `[{"step":0,"shape":"circle","cx":0,"cy":0}]`]) {
    s.table.schema.metadata.set(GUIDES_KEY, json);
    try {
      renderSvg(s.table);
      assert.unreachable(`accepted ${json}`);
    } catch (e) {
      assert.instance(e, DiffusionLifeError);
      assert.is((e as DiffusionLifeError).code, "wrong-type");
    }
  }
});

test.run();
