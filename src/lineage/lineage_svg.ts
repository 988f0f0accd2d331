/**
 * SVG rendering of a lineage tree (src/layouts/lineage.ts) on the same page
 * as the frames: title, lane guides, legend, equal-aspect fit with y up.
 *
 * Back to front: guides, links (`<g class="links">`, one `<path
 * data-source data-target>` per link: a radial or horizontal Bézier like
 * d3-shape's linkRadial / linkHorizontal, coloured by the child's most
 * frequent prompt, width by the instances it carries), nodes (`<g
 * class="nodes">`, one `<circle data-node data-step data-size>` per node, area
 * by size, with a `<title>` giving its prompt mix; branch points get
 * `class="branch"` and a dark outline; the root — the noise all prompts
 * share — is grey, not any prompt's colour), step labels, legend (the
 * prompts, then keys: node area by instances, a branch point, the noise),
 * title. Prompt colours are fixed by label, as in renderSvg.
 *
 * With `commitment` (and the tree's `members`), each node at a classified
 * step is drawn as a ring in its colour, filled from the centre by the share
 * of its instances that have committed at that step (`committedShares`): a
 * full disc when all have, a bare ring when none has; the circle carries
 * `data-committed` (the share, 0–1).
 */
import type { Table } from "apache-arrow";
import { readDictionary, readFloat32, readInt32, readVectors } from "../data/columns.ts";
import { readGuides } from "../data/guides.ts";
import {
  checkPageOptions,
  checkPositive,
  closeSvg,
  dataBox,
  escapeXml,
  guideLabelsSvg,
  guidesSvg,
  layoutPage,
  type LegendKey,
  num,
  openSvg,
  type PageOptions,
  promptsInDictionaryOrder,
} from "../render/page.ts";
import { colorOf, promptColors, SHARED_COLOR } from "../render/palette.ts";
import type { Commitment } from "../explain/commitment.ts";
import { OptionError } from "../errors.ts";
import { committedShares } from "./lineage.ts";

export interface LineageSvgOptions extends PageOptions {
  /** Radius of the largest node (the root) in px; by default from the plot width (4–12). */
  nodeRadius?: number;
  /** Mark each node by the share of its instances committed at its step (needs the tree's `members`, as `lineageTree` gives them). */
  commitment?: Commitment;
}

/** Renders the node and link tables of a lineage tree to an SVG document string. */
export function renderLineageSvg(tree: { nodes: Table; links: Table; members?: readonly ArrayLike<number>[] }, options: LineageSvgOptions = {}): string {
  checkPageOptions(options);
  checkPositive("nodeRadius", options.nodeRadius);
  const { nodes, links } = tree;
  if (options.commitment && tree.members?.length !== nodes.numRows) {
    throw new OptionError("commitment", "marking commitment needs the tree's members (one list per node, as lineageTree gives them)");
  }
  const committed = options.commitment && committedShares({ nodes, members: tree.members! }, options.commitment);
  const x = readFloat32(nodes, "x"), y = readFloat32(nodes, "y");
  const step = readInt32(nodes, "step"), size = readInt32(nodes, "size"), parent = readInt32(nodes, "parent");
  const { values: mix, dim: promptCount } = readVectors(nodes, "mix");
  const read = readDictionary(nodes, "prompt");
  const { prompt, prompts } = promptsInDictionaryOrder(nodes, read.codes, read.labels);
  const radial = nodes.schema.fields.some((f) => f.name === "angle");
  const guides = (options.showGuides ?? true) ? (readGuides(nodes) ?? []).slice().sort((a, b) => a.step - b.step) : [];
  const { palette } = options;
  const colors = (palette ? prompts.map((_, i) => colorOf(palette, i)) : promptColors(prompts)).map(escapeXml);

  const n = x.length;
  const children = new Int32Array(n);
  for (const p of parent) if (p >= 0) children[p]++;
  const leafStep = step.reduce((a, b) => Math.max(a, b), -1);
  const isBranch = (i: number) => children[i] >= 2 && step[i] + 1 < leafStep;
  const maxSize = size.reduce((a, b) => Math.max(a, b), 1);
  // Prompts that occur: the mix is in dictionary order, which `prompts` starts with.
  const used = prompts.map((_, k) => k < promptCount && size.some((s, i) => s > 0 && mix[i * promptCount + k] > 0));
  const legendPrompts = prompts.flatMap((_, k) => (used[k] ? [k] : []));
  const instances = size[parent.indexOf(-1)] ?? 0;
  const title = options.title ??
    `Lineage tree — ${legendPrompts.length} prompt${legendPrompts.length === 1 ? "" : "s"}, ${instances} instances, ` +
      `${guides.length || new Set(step).size - 1} steps, ${Array.from({ length: n }, (_, i) => i).filter(isBranch).length} branch points`;

  // Keys to the marks: two node sizes (area by instances), a branch point, the noise.
  let radiusOf = (_: number) => 0;
  const some = niceCount(maxSize / 2);
  // Drawn as paths: every <circle> in the picture is a node.
  const dot = (r: () => number, fill: string, stroke = "#fff", width = 0.8) => (cx: number, cy: number) => {
    const radius = Math.min(8, r());
    return `<path d="M${num(cx - radius)},${num(cy)}a${num(radius)},${num(radius)} 0 1,0 ${num(2 * radius)},0a${num(radius)},${num(radius)} 0 1,0 ${num(-2 * radius)},0z" ` +
      `fill="${fill}" stroke="${stroke}" stroke-width="${width}"/>`;
  };
  const keys: LegendKey[] = [
    ...(some > 1 ? [{ label: `${some} instances (area)`, mark: dot(() => radiusOf(some), "#888") }] : []),
    { label: "1 instance", mark: dot(() => radiusOf(1), "#888") },
    { label: "branch point", mark: dot(() => 5, "#888", "#222", 1.5) },
    { label: "noise (all prompts)", mark: dot(() => 5, SHARED_COLOR, "#666", 1) },
    ...(committed
      ? [
        { label: "committed (share filled)", mark: (cx: number, cy: number) => dot(() => 5, "#fff", "#888", 1.5)(cx, cy) + dot(() => 5 * Math.SQRT1_2, "#888", "none", 0)(cx, cy) },
        { label: "not committed yet", mark: dot(() => 5, "#fff", "#888", 1.5) },
      ]
      : []),
  ];
  const showLegend = options.showLegend ?? true;
  const page = layoutPage({
    options,
    title,
    box: dataBox(x, y, guides),
    prompts,
    legendPrompts: showLegend ? legendPrompts : [],
    guides,
    markRadius: (plotW) => options.nodeRadius ?? Math.min(12, Math.max(4, 0.015 * plotW)),
    keys: showLegend && n > 0 ? keys : [],
  });
  const { X, Y, radius: rMax } = page;
  radiusOf = (s: number) => Math.max(1.5, rMax * Math.sqrt(s / maxSize));
  const out = openSvg(page, "tree");
  out.push(...guidesSvg(page, guides));

  // -- links, as Béziers whose control points sit halfway between the two levels.
  const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map((c) => readFloat32(links, c));
  const source = readInt32(links, "source"), target = readInt32(links, "target"), carried = readInt32(links, "size");
  const linkPrompt = readDictionary(links, "prompt");
  const linkColor = promptsInDictionaryOrder(links, linkPrompt.codes, linkPrompt.labels).prompt;
  out.push(`<g class="links" fill="none" stroke-opacity="0.55" stroke-linecap="round">`);
  for (let l = 0; l < source.length; l++) {
    let c1: [number, number], c2: [number, number];
    if (radial) {
      const r0 = Math.hypot(x1[l], y1[l]), r1 = Math.hypot(x2[l], y2[l]), mid = (r0 + r1) / 2;
      const a0 = Math.atan2(y1[l], x1[l]), a1 = Math.atan2(y2[l], x2[l]);
      c1 = [mid * Math.cos(a0), mid * Math.sin(a0)];
      c2 = [mid * Math.cos(a1), mid * Math.sin(a1)];
    } else {
      const mid = (x1[l] + x2[l]) / 2;
      c1 = [mid, y1[l]];
      c2 = [mid, y2[l]];
    }
    const d = `M${num(X(x1[l]))},${num(Y(y1[l]))}C${num(X(c1[0]))},${num(Y(c1[1]))} ${num(X(c2[0]))},${num(Y(c2[1]))} ` +
      `${num(X(x2[l]))},${num(Y(y2[l]))}`;
    const width = Math.max(0.75, 0.8 * rMax * Math.sqrt(carried[l] / maxSize));
    out.push(
      `<path data-source="${source[l]}" data-target="${target[l]}" stroke="${colors[linkColor[l]]}" stroke-width="${num(width)}" d="${d}"/>`,
    );
  }
  out.push(`</g>`);

  // -- nodes, larger first so small ones stay visible on top.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => size[b] - size[a] || a - b);
  out.push(`<g class="nodes" stroke="#fff" stroke-width="0.8">`);
  for (const i of order) {
    const shares = prompts
      .map((label, k) => [label, k < promptCount ? Math.round(mix[i * promptCount + k] * size[i]) : 0] as const)
      .filter(([, c]) => c > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([label, c]) => `${label} ${c}`)
      .join(", ");
    const label = `${step[i] < 0 ? "noise" : `step ${step[i]}`} · ${size[i]} instance${size[i] === 1 ? "" : "s"}: ${shares}`;
    // The root is the noise every prompt shares: grey, not the colour of whichever prompt has most instances.
    const root = parent[i] < 0;
    const share = committed ? committed[i] : NaN;
    const marked = Number.isFinite(share);
    const look = (root ? ` data-root="true"` : "") +
      (isBranch(i) ? ` class="branch" stroke="#222" stroke-width="1.5"` : root ? ` stroke="#666"` : marked ? ` stroke="${colors[prompt[i]]}" stroke-width="1.5"` : "");
    const cx = X(x[i]), cy = Y(y[i]), r = radiusOf(size[i]);
    const title = marked ? `${label} · ${Math.round(share * size[i])} of ${size[i]} committed` : label;
    out.push(
      `<circle data-node="${i}" data-step="${step[i]}" data-size="${size[i]}"${marked ? ` data-committed="${num(share)}"` : ""}${look} ` +
        `cx="${num(cx)}" cy="${num(cy)}" r="${num(r)}" fill="${root ? SHARED_COLOR : marked ? "#fff" : colors[prompt[i]]}"><title>${escapeXml(title)}</title></circle>`,
    );
    // The committed share as a disc of that share of the node's area (a path: every <circle> is a node).
    if (marked && share > 0) {
      const rc = r * Math.sqrt(share);
      out.push(`<path class="committed" d="M${num(cx - rc)},${num(cy)}a${num(rc)},${num(rc)} 0 1,0 ${num(2 * rc)},0a${num(rc)},${num(rc)} 0 1,0 ${num(-2 * rc)},0z" fill="${colors[prompt[i]]}" stroke="none"/>`);
    }
  }
  out.push(`</g>`);
  out.push(...guideLabelsSvg(page, guides));
  out.push(...closeSvg(page, colors));
  return out.join("\n") + "\n";
}

/** A round count near `v` (1, 2, 5, 10, 20, 25, 50, …), at least 1. */
function niceCount(v: number): number {
  if (!(v >= 1)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((f) => f * p).filter((c) => Number.isInteger(c) && c <= v).pop() ?? p;
}
