// The live viewer's page: listens to the server's events (see src/viewer/viewer_session.ts
// and src/viewer/event_stream.ts: frames come whole, then as deltas) and draws the chosen
// view on a canvas. Plain browser JavaScript, no build step.
// A view is a layout's frames — any layout: the page draws each frame's x, y and
// guides as they come, knowing nothing of radial or rectilinear — or "tree".
// A frame view draws the lane guides, one track per instance through its points in
// step order, the points, and the guides' step labels on top. Its scale is kept from
// frame to frame (see `viewBox`): it grows, with room to spare, only when the lanes
// outgrow it, and ignores stray points.

const $ = (id) => document.getElementById(id);
const canvas = $("plot");
const ctx = canvas.getContext("2d");

const state = {
  /** The view shown (null until the server names its views), and the views offered. */
  view: null,
  views: [],
  prompts: [],
  palette: [],
  hidden: new Set(),
  steps: [],
  /** The latest frame of each layout's view, by view name. */
  frames: Object.create(null),
  tree: null,
  /** The step shown; null follows the latest. */
  step: null,
  /** What is drawn, in canvas CSS pixels, for hovering: { x, y, r, instance, step, label }. */
  targets: [],
  hovered: null,
  /** The hovered instance (its track and points are highlighted at every step), or null. */
  hoverInstance: null,
  /** The data box drawn, by view: kept across frames (see viewBox); `fits` counts its changes. */
  boxes: Object.create(null),
  fits: Object.create(null),
  /** What the last draw drew, for scripts and tests. */
  drawn: { tracks: 0, labels: [], highlighted: 0 },
};

const colorOf = (k) => state.palette.length ? state.palette[k % state.palette.length] : "#888";
const SHARED = "#b8b8b8"; // the noise every prompt shares (the tree's root)
const shownStep = () => state.step ?? (state.steps.length ? state.steps[state.steps.length - 1] : 0);

// ---- events from the server ---------------------------------------------------

const source = new EventSource("/events");
const on = (name, handle) => source.addEventListener(name, (e) => handle(JSON.parse(e.data)));
on("views", (d) => {
  state.views = d.views;
  if (!state.views.includes(state.view)) state.view = state.views[0] ?? null;
  renderViews();
  draw();
});on("prompts", (d) => {
  state.prompts = d.prompts;
  // One colour per prompt, fixed by its label (older servers send a palette to index).
  state.palette = d.colors ?? d.palette;
  renderLegend();
  draw();
});
on("steps", (d) => {
  state.steps = d.steps;
  $("steps").dataset.steps = String(d.steps.length);
  $("steps").textContent = `${d.steps.length} step${d.steps.length === 1 ? "" : "s"} received`;
  const slider = $("step");
  slider.min = String(d.steps[0] ?? 0);
  slider.max = String(d.steps[d.steps.length - 1] ?? 0);
  slider.disabled = d.steps.length < 2;
  if (state.step === null) slider.value = slider.max;
  draw();
});
on("frame", (d) => {
  state.frames[d.view] = d;
  draw();
});
// The points of a new step and the points that moved, against the frame this page holds.
on("frame-delta", (d) => {
  const frame = state.frames[d.view];
  if (!frame || frame.version !== d.base) {
    // Out of step (should not happen on one connection): start afresh, the server sends everything.
    reconnect();
    return;
  }
  const { rows } = frame;
  d.moved.index.forEach((i, k) => {
    rows.x[i] = d.moved.x[k];
    rows.y[i] = d.moved.y[k];
  });
  for (const key of ["instance", "prompt", "step", "x", "y"]) rows[key].push(...d.added[key]);
  frame.version = d.version;
  frame.update = d.update;
  frame.layout = d.layout;
  if (d.guides) frame.guides = d.guides;
  draw();
});
on("tree", (d) => {
  state.tree = d;
  renderBranches();
  draw();
});
on("status", (d) => {
  const el = $("status");
  el.dataset.state = d.state;
  el.textContent = d.state === "failed" ? `failed: ${d.message}` : d.state;
  // Nothing grows any more: one last fit, snug, kept from now on.
  if (d.state === "done") {
    for (const view of Object.keys(state.boxes)) delete state.boxes[view];
    draw();
  }
});
// EventSource reconnects by itself (a slow page is disconnected by the server); say so while it does.
source.onerror = () => {
  $("status").textContent = "reconnecting…";
};
function reconnect() {
  source.close();
  location.reload();
}

// ---- controls -----------------------------------------------------------------

/** One button per view, the shown one pressed. */
function renderViews() {
  $("views").replaceChildren(...state.views.map((name) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.view = name;
    button.textContent = name;
    button.setAttribute("aria-pressed", String(name === state.view));
    button.addEventListener("click", () => {
      state.view = name;
      for (const b of $("views").querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
      $("branches").hidden = state.view !== "tree" || !state.tree;
      draw();
    });
    return button;
  }));
  $("branches").hidden = state.view !== "tree" || !state.tree;
}

$("step").addEventListener("input", (e) => {
  const value = Number(e.target.value);
  state.step = value >= Number(e.target.max) ? null : value;
  draw();
});

function renderLegend() {
  const list = $("legend");
  list.replaceChildren(...state.prompts.map((label, k) => {
    const item = document.createElement("li");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !state.hidden.has(k);
    box.dataset.prompt = String(k);
    box.addEventListener("change", () => {
      if (box.checked) state.hidden.delete(k);
      else state.hidden.add(k);
      draw();
    });
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colorOf(k);
    const text = document.createElement("span");
    text.textContent = label;
    const wrap = document.createElement("label");
    wrap.append(box, swatch, text);
    item.append(wrap);
    return item;
  }));
}

function renderBranches() {
  const tree = state.tree;
  $("branches").hidden = state.view !== "tree" || !tree;
  $("branch-list").replaceChildren(...tree.branchPoints.map((b) => {
    const item = document.createElement("li");
    item.textContent = `step ${b.step}: ${b.prompts.join(", ")} → ${b.branches.map((x) => x.size).join(" | ")}`;
    return item;
  }));
}

// ---- drawing --------------------------------------------------------------------

const PAD = 28; // room around the plot: step labels above the top lane, the largest points
const LABEL_FONT = "11px Helvetica, Arial, sans-serif";

/** The box around the guides and the bulk of the points (1st–99th percentile: stray points do not count). */
function wantedBox(xs, ys, guides) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const add = (x, y) => {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  };
  for (const g of guides) {
    if (g.shape === "circle") { add(g.cx - g.r, g.cy - g.r); add(g.cx + g.r, g.cy + g.r); }
    else { add(g.x1, g.y1); add(g.x2, g.y2); }
  }
  const n = xs.length;
  if (n > 0) {
    const q = (values, p) => {
      const sorted = Float64Array.from(values).sort();
      return sorted[Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))))];
    };
    const lo = n >= 50 ? 0.01 : 0, hi = n >= 50 ? 0.99 : 1;
    add(q(xs, lo), q(ys, lo));
    add(q(xs, hi), q(ys, hi));
  }
  if (!(x1 >= x0)) return { x0: -1, x1: 1, y0: -1, y1: 1 };
  return { x0, x1, y0, y1 };
}

/**
 * The box a view is drawn in: the one drawn before while the data still fit
 * in it and fill at least a third of it; when the lanes outgrow it, the
 * wanted box with half its size to spare on the sides that grew (so the box
 * doubles, and n steps refit it about log₂ n times, not once a frame);
 * otherwise (the first frame, or data that shrank) the wanted box and a tenth.
 */
function viewBox(view, wanted) {
  const box = state.boxes[view];
  const w = (b) => b.x1 - b.x0, h = (b) => b.y1 - b.y0;
  const inside = box && wanted.x0 >= box.x0 && wanted.x1 <= box.x1 && wanted.y0 >= box.y0 && wanted.y1 <= box.y1;
  if (inside && (w(wanted) >= w(box) / 3 || h(wanted) >= h(box) / 3)) return box;
  // The lanes grow away from where they started: room only on the sides that grew.
  const grow = box && !inside;
  const share = grow ? 0.5 : 0.1;
  const sx = share * Math.max(w(wanted), 1e-9), sy = share * Math.max(h(wanted), 1e-9);
  const next = {
    x0: wanted.x0 - (grow && wanted.x0 >= box.x0 ? 0 : sx),
    x1: wanted.x1 + (grow && wanted.x1 <= box.x1 ? 0 : sx),
    y0: wanted.y0 - (grow && wanted.y0 >= box.y0 ? 0 : sy),
    y1: wanted.y1 + (grow && wanted.y1 <= box.y1 ? 0 : sy),
  };
  if (grow) Object.assign(next, { x0: Math.min(next.x0, box.x0), x1: Math.max(next.x1, box.x1), y0: Math.min(next.y0, box.y0), y1: Math.max(next.y1, box.y1) });
  state.boxes[view] = next;
  state.fits[view] = (state.fits[view] ?? 0) + 1;
  return next;
}

/** Equal-aspect map of a box into the canvas, y up. */
function fitter(box, width, height, pad) {
  const scale = Math.min((width - 2 * pad) / Math.max(box.x1 - box.x0, 1e-9), (height - 2 * pad) / Math.max(box.y1 - box.y0, 1e-9));
  const mx = (box.x0 + box.x1) / 2, my = (box.y0 + box.y1) / 2;
  return { scale, X: (x) => width / 2 + (x - mx) * scale, Y: (y) => height / 2 - (y - my) * scale };
}

function drawGuides(guides, t, upTo) {
  ctx.lineWidth = 1;
  for (const g of guides) {
    ctx.strokeStyle = g.step === upTo ? "#9a9a9a" : "#e0e0e0";
    ctx.beginPath();
    if (g.shape === "circle") ctx.arc(t.X(g.cx), t.Y(g.cy), g.r * t.scale, 0, 2 * Math.PI);
    else { ctx.moveTo(t.X(g.x1), t.Y(g.y1)); ctx.lineTo(t.X(g.x2), t.Y(g.y2)); }
    ctx.stroke();
  }
}

/**
 * Step labels ("t=3"): above each ring's top, above each column's upper end,
 * left of each row's left end; every few when they would collide; drawn last,
 * with a white halo, so no point hides them.
 */
function drawStepLabels(guides, t, upTo, lift) {
  const sorted = [...guides].sort((a, b) => a.step - b.step);
  const at = sorted.map((g) => {
    if (g.shape === "circle") return { x: t.X(g.cx), y: t.Y(g.cy + g.r) - lift, align: "center" };
    const row = Math.abs(g.x2 - g.x1) > Math.abs(g.y2 - g.y1);
    if (row) {
      const [x, y] = g.x1 <= g.x2 ? [g.x1, g.y1] : [g.x2, g.y2];
      return { x: t.X(x) - lift, y: t.Y(y) + 4, align: "right" };
    }
    const [x, y] = g.y1 >= g.y2 ? [g.x1, g.y1] : [g.x2, g.y2];
    return { x: t.X(x), y: t.Y(y) - lift, align: "center" };
  });
  ctx.font = LABEL_FONT;
  const needW = Math.max(0, ...sorted.map((g) => ctx.measureText(`t=${g.step}`).width)) + 6, needH = 13;
  let stride = 1;
  for (let k = 1; k < at.length; k++) {
    const crowding = Math.min(needW / Math.abs(at[k].x - at[k - 1].x), needH / Math.abs(at[k].y - at[k - 1].y));
    stride = Number.isFinite(crowding) ? Math.max(stride, Math.ceil(crowding)) : at.length;
  }
  const labels = [];
  ctx.lineJoin = "round";
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#fff";
  sorted.forEach((g, k) => {
    // Every stride-th label, and always the shown step's.
    if (k % stride !== 0 && g.step !== upTo) return;
    const text = `t=${g.step}`;
    ctx.textAlign = at[k].align;
    ctx.fillStyle = g.step === upTo ? "#333" : "#888";
    ctx.strokeText(text, at[k].x, at[k].y);
    ctx.fillText(text, at[k].x, at[k].y);
    labels.push(text);
  });
  return labels;
}

function drawFrame(view, frame, width, height, upTo) {
  const { rows } = frame;
  const n = rows.x.length;
  const t = fitter(viewBox(view, wantedBox(rows.x, rows.y, frame.guides)), width, height, PAD);
  drawGuides(frame.guides, t, upTo);
  const r = Math.max(1.5, Math.min(4.5, (0.15 * Math.min(width, height)) / Math.sqrt(Math.max(n, 1))));
  const order = [...rows.x.keys()].filter((i) => rows.step[i] <= upTo && !state.hidden.has(rows.prompt[i]))
    .sort((a, b) => rows.step[a] - rows.step[b]);

  // Tracks: each instance's points in step order, faint, in its prompt's colour.
  const tracks = new Map();
  for (const i of order) {
    const list = tracks.get(rows.instance[i]);
    if (list) list.push(i);
    else tracks.set(rows.instance[i], [i]);
  }
  const line = (list) => {
    ctx.beginPath();
    list.forEach((i, k) => (k === 0 ? ctx.moveTo(t.X(rows.x[i]), t.Y(rows.y[i])) : ctx.lineTo(t.X(rows.x[i]), t.Y(rows.y[i]))));
    ctx.stroke();
  };
  ctx.lineWidth = 1;
  ctx.lineJoin = "round";
  ctx.globalAlpha = 0.22;
  let drawnTracks = 0;
  for (const list of tracks.values()) {
    if (list.length < 2) continue;
    ctx.strokeStyle = colorOf(rows.prompt[list[0]]);
    line(list);
    drawnTracks++;
  }
  ctx.globalAlpha = 1;

  for (const i of order) {
    const x = t.X(rows.x[i]), y = t.Y(rows.y[i]);
    ctx.globalAlpha = rows.step[i] === upTo ? 1 : 0.55;
    ctx.fillStyle = colorOf(rows.prompt[i]);
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    state.targets.push({ x, y, r, instance: rows.instance[i], step: rows.step[i], prompt: rows.prompt[i] });
  }
  ctx.globalAlpha = 1;

  // The hovered instance at every step: its track bold, its points ringed.
  const hovered = state.hoverInstance === null ? undefined : tracks.get(state.hoverInstance);
  if (hovered) {
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2.5;
    if (hovered.length > 1) line(hovered);
    ctx.lineWidth = 1.5;
    for (const i of hovered) {
      ctx.fillStyle = colorOf(rows.prompt[i]);
      ctx.beginPath();
      ctx.arc(t.X(rows.x[i]), t.Y(rows.y[i]), r + 1.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
  }
  const labels = drawStepLabels(frame.guides, t, upTo, r + 3);
  state.drawn = { tracks: drawnTracks, labels, highlighted: hovered ? hovered.length : 0, scale: t.scale };
}

function drawTree(tree, width, height, upTo) {
  const { nodes, links } = tree;
  const t = fitter(viewBox("tree", wantedBox(nodes.x, nodes.y, tree.guides)), width, height, PAD);
  drawGuides(tree.guides, t, upTo);
  const maxSize = Math.max(1, ...nodes.size);
  const rMax = Math.min(12, Math.max(4, 0.015 * width));
  const radius = (s) => Math.max(1.5, rMax * Math.sqrt(s / maxSize));
  const visible = (i) => nodes.step[i] <= upTo && !state.hidden.has(nodes.prompt[i]);
  const radial = tree.guides.length > 0 && tree.guides[0].shape === "circle";
  ctx.globalAlpha = 0.55;
  links.source.forEach((s, l) => {
    const d = links.target[l];
    if (!visible(d)) return;
    const [ax, ay, bx, by] = [nodes.x[s], nodes.y[s], nodes.x[d], nodes.y[d]];
    let c1, c2;
    if (radial) {
      const mid = (Math.hypot(ax, ay) + Math.hypot(bx, by)) / 2, a0 = Math.atan2(ay, ax), a1 = Math.atan2(by, bx);
      c1 = [mid * Math.cos(a0), mid * Math.sin(a0)];
      c2 = [mid * Math.cos(a1), mid * Math.sin(a1)];
    } else {
      c1 = [(ax + bx) / 2, ay];
      c2 = [(ax + bx) / 2, by];
    }
    ctx.strokeStyle = colorOf(links.prompt[l]);
    ctx.lineWidth = Math.max(0.75, 0.8 * rMax * Math.sqrt(links.size[l] / maxSize));
    ctx.beginPath();
    ctx.moveTo(t.X(ax), t.Y(ay));
    ctx.bezierCurveTo(t.X(c1[0]), t.Y(c1[1]), t.X(c2[0]), t.Y(c2[1]), t.X(bx), t.Y(by));
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
  const order = [...nodes.x.keys()].filter(visible).sort((a, b) => nodes.size[b] - nodes.size[a]);
  let highlighted = 0, committed = 0;
  for (const i of order) {
    const x = t.X(nodes.x[i]), y = t.Y(nodes.y[i]), r = radius(nodes.size[i]);
    const root = nodes.parent[i] < 0;
    const hover = state.hovered === `${nodes.representative[i]}/${nodes.step[i]}`;
    // With a commitment: a ring in the prompt's colour, filled from the centre by the share of its instances committed.
    const share = nodes.committed?.[i] ?? null;
    const marked = share !== null;
    ctx.fillStyle = root ? SHARED : marked ? "#fff" : colorOf(nodes.prompt[i]);
    ctx.strokeStyle = hover ? "#111" : root ? "#666" : marked ? colorOf(nodes.prompt[i]) : "#fff";
    ctx.lineWidth = hover || marked ? 2 : 0.8;
    highlighted += hover ? 1 : 0;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    if (marked && share > 0) {
      ctx.fillStyle = colorOf(nodes.prompt[i]);
      ctx.beginPath();
      ctx.arc(x, y, r * Math.sqrt(share), 0, 2 * Math.PI);
      ctx.fill();
      committed += share === 1 ? 1 : 0;
    }
    if (nodes.representative[i] >= 0) {
      state.targets.push({ x, y, r, instance: nodes.representative[i], step: nodes.step[i], prompt: nodes.prompt[i], size: nodes.size[i], committed: share });
    }
  }
  const labels = drawStepLabels(tree.guides, t, upTo, rMax + 3);
  state.drawn = { tracks: links.source.length, labels, highlighted, scale: t.scale, committed, marked: order.filter((i) => (nodes.committed?.[i] ?? null) !== null).length };
}

function draw() {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  state.targets = [];
  state.drawn = { tracks: 0, labels: [], highlighted: 0 };
  const upTo = shownStep();
  $("step-label").textContent = state.steps.length ? String(upTo) : "–";
  if (state.view === "tree") {
    if (state.tree) drawTree(state.tree, width, height, upTo);
  } else if (state.frames[state.view]) {
    drawFrame(state.view, state.frames[state.view], width, height, upTo);
  }
  const count = $("count");
  count.dataset.points = String(state.targets.length);
  count.textContent = `${state.targets.length} ${state.view === "tree" ? "nodes" : "points"}`;
  if (!state.targets.length) {
    ctx.fillStyle = "#999";
    ctx.font = "14px Helvetica, Arial, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(state.steps.length ? "embedding the first steps…" : "waiting for steps…", width / 2, height / 2);
  }
}

// ---- hovering ---------------------------------------------------------------------

/** Nothing under the pointer: the panel empties and the highlight goes. */
function clearHover() {
  if (state.hovered === null) return;
  state.hovered = null;
  state.hoverInstance = null;
  $("hover").hidden = true;
  $("hover-caption").textContent = "";
  $("explain").hidden = true;
  $("basis").hidden = true;
  draw();
}

/** The explanation panel of the hovered point: what /explain says (commitment, class scores, concepts, level, AUCs) and its saliency map. */
async function showExplanation(instance, step) {
  const key = `${instance}/${step}`;
  const response = await fetch(`/explain?instance=${instance}&step=${step}`).catch(() => null);
  if (state.hovered !== key) return; // the pointer moved on
  if (!response || !response.ok) return void ($("explain").hidden = true);
  const facts = await response.json();
  const rows = [];
  const fixed = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(2) : "–");
  if (facts.commitmentStep !== undefined) {
    rows.push(["class now", facts.classAtStep], ["final class", facts.finalClass], ["commits at", `step ${facts.commitmentStep}${step >= facts.commitmentStep ? " ✓" : ""}`], ["p(final)", fixed(facts.confidence)]);
  }
  if (facts.classScores) rows.push(["classes", facts.classScores.map((c) => `${c.class} ${fixed(c.probability)}`).join(" · ")]);
  for (const [name, v] of Object.entries(facts.concepts ?? {})) rows.push([name, fixed(v)]);
  if (facts.level) rows.push([`level (to t=${facts.level.against})`, `SSIM ${fixed(facts.level.ssim)} · distance ${fixed(facts.level.relative)}`]);
  if (facts.insertionAuc !== undefined) rows.push(["insertion AUC", fixed(facts.insertionAuc)], ["deletion AUC", fixed(facts.deletionAuc)]);
  const list = $("explain-facts");
  list.replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v;
    return [dt, dd];
  }));
  const img = $("explain-saliency");
  img.hidden = !facts.saliency;
  if (facts.saliency) img.src = `/saliency?instance=${instance}&step=${step}`;
  $("explain").hidden = false;
}

/** The basis panel of the hovered point (watch --basis; a server without it answers 404 and the panel stays hidden). */
function showBasis(instance, step) {
  const img = $("basis-image"), key = `${instance}/${step}`;
  img.onload = () => void ($("basis").hidden = state.hovered !== key);
  img.onerror = () => void ($("basis").hidden = true);
  img.src = `/basis?instance=${instance}&step=${step}`; // a new src cancels the last one's request
}

canvas.addEventListener("mousemove", (e) => {
  const rect = canvas.getBoundingClientRect();
  const mx = e.clientX - rect.left, my = e.clientY - rect.top;
  let best = null, bestD = Infinity;
  for (const target of state.targets) {
    const d = Math.hypot(target.x - mx, target.y - my);
    if (d <= Math.max(6, target.r + 3) && d < bestD) [best, bestD] = [target, d];
  }
  if (!best) return clearHover();
  const key = `${best.instance}/${best.step}`;
  if (key === state.hovered) return;
  state.hovered = key;
  state.hoverInstance = best.instance;
  const img = $("hover-image");
  img.src = `/image?instance=${best.instance}&step=${best.step}`;
  img.dataset.instance = String(best.instance);
  img.dataset.step = String(best.step);
  const what = best.size ? `${best.size} instance${best.size === 1 ? "" : "s"}, shown: instance ${best.instance}` : `instance ${best.instance}`;
  const committed = typeof best.committed === "number" ? ` · ${Math.round(best.committed * best.size)} of ${best.size} committed` : "";
  $("hover-caption").textContent = `${what} · ${state.prompts[best.prompt] ?? ""} · step ${best.step}${committed}`;
  $("hover").hidden = false;
  showExplanation(best.instance, best.step);
  showBasis(best.instance, best.step);
  draw();
});
canvas.addEventListener("mouseleave", clearHover);

new ResizeObserver(() => draw()).observe(canvas);

// For scripts and tests: what is drawn where.
window.diffusionLife = {
  state,
  targets: () => state.targets.map((t) => ({ ...t })),
  /** What the last draw drew: tracks, step labels, highlighted points, pixels per data unit; on the tree, nodes marked by commitment and those fully committed. */
  drawn: () => ({ ...state.drawn, labels: [...state.drawn.labels] }),
  /** The data box of a view and how many times it was (re)fitted. */
  box: (view) => ({ ...state.boxes[view], fits: state.fits[view] ?? 0 }),
};
