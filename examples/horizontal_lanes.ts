/**
 * A layout of one's own: horizontal lanes. Step t is the row at y = −gap·t
 * (the noise on top, the final images at the bottom) and the free
 * coordinate — where t-SNE places a point, what keeps an instance's track
 * aligned — runs along x. Written against the public API only: everything a
 * Layout must do is in its interface (src/layouts/layout.ts).
 *
 * Run it to embed the default data in it and draw the picture
 * (out/horizontal-lanes.svg and .png):
 *
 *   node --import tsx examples/horizontal_lanes.ts    deno run -A examples/horizontal_lanes.ts    bun examples/horizontal_lanes.ts
 *
 * or give it to the command line, which takes its default export:
 *
 *   node bin/diffusion-life.mjs embed steps.arrow --layout radial,./examples/horizontal_lanes.ts
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { autoScale, embedSteps, encodeTable, type FreeSpan, type Guide, type Layout, pcaEncoder, pixels, renderSvg } from "../mod.ts";
import { mnistTrajectories } from "../mnist.ts";
import { pngAssets, svgToPng } from "../png.ts";

export interface HorizontalLanesOptions {
  /** Lane length scale: x is measured in units of it for the alignment loss; "auto" (default) fits it to the number of points. */
  scale?: number | "auto";
  /** Distance between consecutive rows, or "auto" (default): the picture about twice as tall as the points are wide. */
  gap?: number | "auto";
}

export function horizontalLanes(options: HorizontalLanesOptions = {}): Layout {
  const scale = options.scale ?? "auto";
  const S = scale === "auto" ? 20 : scale;
  const gap = typeof options.gap === "number" ? options.gap : 1.75 * S;
  const layout: Layout = {
    name: "horizontal-lanes",
    circular: false,
    native: ["row", "position"],
    scale: S,
    // Optimisation frame: every lane is the line y = 0, the free coordinate is x / S.
    fit: (n) => (scale === "auto" ? horizontalLanes({ ...options, scale: autoScale(n) }) : layout),
    arrange(lanes: number, span: FreeSpan): Layout {
      if (typeof options.gap === "number") return layout;
      // The points reach from span.min · S to span.max · S along x: make the rows span twice that in y.
      return horizontalLanes({ ...options, scale: S, gap: Math.max((2 * (span.max - span.min) * S) / Math.max(lanes - 1, 1), 1) });
    },
    laneCenter: () => 0,
    lane(_x, y, g) {
      g[0] = 0;
      g[1] = 1;
      return y;
    },
    free(x, _y, g) {
      g[0] = 1 / S;
      g[1] = 0;
      return x / S;
    },
    place(_t, f, d, out) {
      out[0] = f * S;
      out[1] = d;
    },
    // Display frame: lane t moves down to y = −gap · t; x stays where t-SNE put it.
    display(x, y, t, out) {
      out[0] = x;
      out[1] = y - gap * t;
      out[2] = out[1];
      out[3] = x;
    },
    // One row per step, from the leftmost to the rightmost point: the guides enclose the points along x.
    guides: (steps, span) =>
      steps.map((t): Guide => ({ step: t, shape: "line", x1: span.min * S, y1: -gap * t, x2: span.max * S, y2: -gap * t })),
  };
  return layout;
}

/** What `--layout ./examples/horizontal_lanes.ts` takes: the layout with its defaults. */
const defaultLayout: Layout = horizontalLanes();
export default defaultLayout;

/** The default data (5 prompts × 20 instances × 20 steps), embedded in horizontal lanes and drawn. */
async function main(): Promise<void> {
  const generated = await mnistTrajectories({ instancesPerPrompt: 20, steps: 20, seed: 0 });
  const steps = await encodeTable(await encodeTable(generated, pixels()), pcaEncoder({ components: 50 }));
  const { frame, quality } = await embedSteps(steps, { layout: horizontalLanes(), iterations: 1000, seed: 0 });
  console.log(`horizontal lanes: trustworthiness ${quality.meanTrustworthiness.toFixed(3)}, alignment ratio ${quality.alignmentRatio.toFixed(3)}`);
  const svg = renderSvg(frame, { width: 500 });
  await mkdir("out", { recursive: true });
  await writeFile("out/horizontal-lanes.svg", svg);
  await writeFile("out/horizontal-lanes.png", await svgToPng(svg, await pngAssets(), { scale: 1 }));
  console.log("wrote out/horizontal-lanes.svg, out/horizontal-lanes.png");
}

// Run as a script (not when imported, e.g. by the command line's --layout).
const isMain = (import.meta as ImportMeta & { main?: boolean }).main ?? import.meta.url === pathToFileURL(process.argv[1] ?? "").href;
if (isMain) await main();
