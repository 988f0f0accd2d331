// The live viewer's page: listens to the server's events (see src/viewer/viewer_session.ts)
// and draws the chosen view on a canvas. Plain browser JavaScript, no build step.
// A view is a layout's frames — any layout: the page draws each frame's x, y and
// guides as they come, knowing nothing of radial or rectilinear — or "tree".

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
};

const colorOf = (k) => state.palette.length ? state.palette[k % state.palette.length] : "#888";
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
  state.palette = d.palette;
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
on("tree", (d) => {
  state.tree = d;
  renderBranches();
  draw();
});
on("status", (d) => {
  const el = $("status");
  el.dataset.state = d.state;
  el.textContent = d.state === "failed" ? `failed: ${d.message}` : d.state;
});
// EventSource reconnects by itself; say so while it does.
source.onerror = () => {
  $("status").textContent = "reconnecting…";
};

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

/** Equal-aspect fit of the data box into the canvas, y up. */
function fitter(xs, ys, guides, width, height, pad) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const add = (x, y) => {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  };
  xs.forEach((x, i) => add(x, ys[i]));
  for (const g of guides) {
    if (g.shape === "circle") { add(g.cx - g.r, g.cy - g.r); add(g.cx + g.r, g.cy + g.r); }
    else { add(g.x1, g.y1); add(g.x2, g.y2); }
  }
  if (!(x1 >= x0)) { x0 = y0 = -1; x1 = y1 = 1; }
  const scale = Math.min((width - 2 * pad) / Math.max(x1 - x0, 1e-9), (height - 2 * pad) / Math.max(y1 - y0, 1e-9));
  const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
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

function drawFrame(frame, width, height, upTo) {
  const { rows } = frame;
  const n = rows.x.length;
  const t = fitter(rows.x, rows.y, frame.guides, width, height, 16);
  drawGuides(frame.guides, t, upTo);
  const r = Math.max(1.5, Math.min(4.5, (0.15 * Math.min(width, height)) / Math.sqrt(Math.max(n, 1))));
  const order = [...rows.x.keys()].filter((i) => rows.step[i] <= upTo && !state.hidden.has(rows.prompt[i]))
    .sort((a, b) => rows.step[a] - rows.step[b]);
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
}

function drawTree(tree, width, height, upTo) {
  const { nodes, links } = tree;
  const t = fitter(nodes.x, nodes.y, tree.guides, width, height, 16);
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
  for (const i of order) {
    const x = t.X(nodes.x[i]), y = t.Y(nodes.y[i]), r = radius(nodes.size[i]);
    ctx.fillStyle = colorOf(nodes.prompt[i]);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 0.8;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    if (nodes.representative[i] >= 0) {
      state.targets.push({ x, y, r, instance: nodes.representative[i], step: nodes.step[i], prompt: nodes.prompt[i], size: nodes.size[i] });
    }
  }
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
  const upTo = shownStep();
  $("step-label").textContent = state.steps.length ? String(upTo) : "–";
  if (state.view === "tree") {
    if (state.tree) drawTree(state.tree, width, height, upTo);
  } else if (state.frames[state.view]) {
    drawFrame(state.frames[state.view], width, height, upTo);
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

canvas.addEventListener("mousemove", (e) => {
  const rect = canvas.getBoundingClientRect();
  const mx = e.clientX - rect.left, my = e.clientY - rect.top;
  let best = null, bestD = Infinity;
  for (const target of state.targets) {
    const d = Math.hypot(target.x - mx, target.y - my);
    if (d <= Math.max(6, target.r + 3) && d < bestD) [best, bestD] = [target, d];
  }
  if (!best) return;
  const key = `${best.instance}/${best.step}`;
  if (key === state.hovered) return;
  state.hovered = key;
  const img = $("hover-image");
  img.src = `/image?instance=${best.instance}&step=${best.step}`;
  img.dataset.instance = String(best.instance);
  img.dataset.step = String(best.step);
  const what = best.size ? `${best.size} instance${best.size === 1 ? "" : "s"}, shown: instance ${best.instance}` : `instance ${best.instance}`;
  $("hover-caption").textContent = `${what} · ${state.prompts[best.prompt] ?? ""} · step ${best.step}`;
  $("hover").hidden = false;
});

new ResizeObserver(() => draw()).observe(canvas);

// For scripts and tests: what is drawn where.
window.diffusionLife = { state, targets: () => state.targets.map((t) => ({ ...t })) };
