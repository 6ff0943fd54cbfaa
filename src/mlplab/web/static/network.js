/* mlplab playground: the network diagram (SVG edges coloured by sign, width by |w|; a small map
 * of each node's output), its tooltips and the weight editor.
 */
import { COLORS, classColor, divergingColor, mix, paintGrid, probColor, rgb } from "./colors.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { $, SVG_NS, clamp, fmt, fmtExp, isNum } from "./util.js";

const NODE = 30; // node size (px)
const GAP = 10; // vertical gap between nodes
const COL = 130; // column distance (at most; narrower to fit the panel)
const TOP = 34; // room for the column titles

function svgEl(name, attrs, parent) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (parent) parent.appendChild(el);
  return el;
}

// weights[l] is (fan_in x fan_out); tolerate the transpose.
function weightAt(arr, l, i, j, units) {
  const m = arr && arr[l];
  if (!m) return null;
  if (m.length === units[l] && Array.isArray(m[0]) && m[0].length === units[l + 1]) return m[i][j];
  if (m.length === units[l + 1] && Array.isArray(m[0]) && m[0].length === units[l]) return m[j][i];
  return m[i] ? m[i][j] : null;
}

function buildNetwork(f) {
  const svg = $("#network");
  const maps = $("#node-maps");
  svg.textContent = "";
  maps.textContent = "";
  const units = f.units || [];
  const L = units.length;
  const maxU = Math.max(1, ...units);
  const avail = Math.max(360, ($("#network-wrap").clientWidth || 800) - 4);
  const col = L > 1 ? clamp(Math.floor((avail - 150) / (L - 1)), 62, COL) : COL;
  const W = Math.max(360, 50 + (L - 1) * col + 100);
  const H = TOP + maxU * (NODE + GAP) + 34;
  svg.setAttribute("width", String(W));
  svg.setAttribute("height", String(H));
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  maps.style.width = W + "px";
  maps.style.height = H + "px";
  const pos = units.map((n, c) => {
    const x = 40 + c * col;
    const y0 = TOP + ((maxU - n) * (NODE + GAP)) / 2 + NODE / 2;
    return Array.from({ length: n }, (_, k) => [x, y0 + k * (NODE + GAP)]);
  });
  const gEdges = svgEl("g", { class: "edges" }, svg);
  const gHits = svgEl("g", { class: "hits" }, svg);
  const gNodes = svgEl("g", { class: "nodes" }, svg);
  const edges = [];
  for (let l = 0; l < L - 1; l++) {
    for (let i = 0; i < units[l]; i++) {
      for (let j = 0; j < units[l + 1]; j++) {
        const [xa, ya] = pos[l][i];
        const [xb, yb] = pos[l + 1][j];
        const a = { x1: xa + NODE / 2, y1: ya, x2: xb - NODE / 2, y2: yb };
        const line = svgEl("line", Object.assign({ class: "w", "stroke-linecap": "round", "stroke-opacity": 0.75 }, a), gEdges);
        // the hover/click target: a thin transparent band around the line (a band, not a
        // stroked line, so even a horizontal weight has an area)
        const len = Math.hypot(a.x2 - a.x1, a.y2 - a.y1) || 1;
        const nx = (-(a.y2 - a.y1) / len) * 3.5;
        const ny = ((a.x2 - a.x1) / len) * 3.5;
        const band = [
          [a.x1 + nx, a.y1 + ny],
          [a.x2 + nx, a.y2 + ny],
          [a.x2 - nx, a.y2 - ny],
          [a.x1 - nx, a.y1 - ny],
        ];
        const hit = svgEl(
          "polygon",
          { class: "hit", fill: "transparent", points: band.map((q) => q.map((v) => v.toFixed(1)).join(",")).join(" ") },
          gHits
        );
        hit.dataset.layer = String(l);
        hit.dataset.i = String(i);
        hit.dataset.j = String(j);
        edges.push({ l, i, j, line, hit });
      }
    }
  }
  const titles = [];
  const nodes = []; // [{l (dense layer producing it, or -1 for inputs), j, canvas|null}]
  const biasTexts = [];
  const markers = [];
  const regression = f.task === "regression";
  const twoD = units[0] === 2;
  for (let c = 0; c < L; c++) {
    const title = c === 0 ? t("input") : c === L - 1 ? t("output") : (f.layer_names && f.layer_names[c - 1]) || `${t("layer")} ${c}`;
    const tx = svgEl("text", { x: 40 + c * col, y: 14, "text-anchor": "middle" }, gNodes);
    tx.textContent = title;
    if (col < 100 && c > 0 && c < L - 1) {
      // narrow columns: the short name, the full one on hover
      tx.textContent = String(c);
      const full = svgEl("title", {}, tx);
      full.textContent = title;
    }
    titles.push(tx);
    for (let k = 0; k < units[c]; k++) {
      const [x, y] = pos[c][k];
      const box = svgEl(
        "rect",
        { class: "node-box" + (c === L - 1 ? " output" : ""), x: x - NODE / 2, y: y - NODE / 2, width: NODE, height: NODE, rx: 3 },
        gNodes
      );
      let canvas = null;
      if (c > 0 || twoD || units[0] === 1) {
        canvas = document.createElement("canvas");
        const oneD = units[0] === 1;
        canvas.width = oneD ? 48 : 16;
        canvas.height = oneD ? 48 : 16;
        canvas.style.left = x - NODE / 2 + 1 + "px";
        canvas.style.top = y - NODE / 2 + 1 + "px";
        canvas.style.width = NODE - 2 + "px";
        canvas.style.height = NODE - 2 + "px";
        canvas.dataset.layer = String(c - 1);
        canvas.dataset.node = String(k);
        canvas.className = c === 0 ? "input-map" : c === L - 1 ? "output-map" : "node-map";
        maps.appendChild(canvas);
        if (c === 0) paintInputMap(canvas, k, oneD);
      } else {
        const lab = svgEl("text", { x, y: y + 4, "text-anchor": "middle" }, gNodes);
        lab.textContent = `x${k + 1}`;
      }
      if (c > 0) {
        const target = canvas || box;
        target.dataset.layer = String(c - 1);
        target.dataset.node = String(k);
        target.addEventListener("mouseenter", (e) => showTip(e, { kind: "bias", l: c - 1, j: k }));
        target.addEventListener("mousemove", moveTip);
        target.addEventListener("mouseleave", hideTip);
        target.addEventListener("click", (e) => openEditor(e, { kind: "bias", l: c - 1, j: k }));
      }
      if (c === L - 1) {
        const bt = svgEl("text", { class: "bias", id: `output-bias-${k}`, x: x + NODE / 2 + 6, y: y + 4 }, gNodes);
        biasTexts.push(bt);
      }
      nodes.push({ c, k, canvas });
    }
    if (c > 0 && c < L - 1) {
      const yb = TOP + maxU * (NODE + GAP) + 2;
      const m1 = svgEl("text", { class: "marker", x: pos[c][0][0], y: yb, "text-anchor": "middle" }, gNodes);
      const m2 = svgEl("text", { class: "marker", x: pos[c][0][0], y: yb + 13, "text-anchor": "middle" }, gNodes);
      m1.id = `dead-marker-${c - 1}`;
      m2.id = `sat-marker-${c - 1}`;
      markers.push([m1, m2]);
    }
  }
  for (const e of edges) {
    e.hit.addEventListener("mouseenter", (ev) => showTip(ev, { kind: "weight", l: e.l, i: e.i, j: e.j }));
    e.hit.addEventListener("mousemove", moveTip);
    e.hit.addEventListener("mouseleave", hideTip);
    e.hit.addEventListener("click", (ev) => openEditor(ev, { kind: "weight", l: e.l, i: e.i, j: e.j }));
  }
  state.net = { units, edges, nodes, biasTexts, markers, regression };
}

function paintInputMap(canvas, k, oneD) {
  const ctx = canvas.getContext("2d");
  if (oneD) {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#555";
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(4, canvas.height - 4);
    ctx.lineTo(canvas.width - 4, 4);
    ctx.stroke();
    return;
  }
  const n = 16;
  const values = [];
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) values.push(((k === 0 ? c : r) / (n - 1)) * 2 - 1);
  paintGrid(canvas, { nx: n, ny: n, values }, divergingColor(1));
}

function paintNodeMap(canvas, grid) {
  if (!grid || !grid.values || !grid.values.length) return;
  const vals = grid.values.filter(isNum);
  if (!vals.length) return;
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  const oneD = grid.ny === 1 || grid.ny === undefined || grid.values.length === grid.nx;
  if (oneD) {
    const ctx = canvas.getContext("2d");
    const W = canvas.width;
    const H = canvas.height;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    const span = hi - lo || 1;
    ctx.strokeStyle = "#2166ac";
    ctx.lineWidth = 3;
    ctx.beginPath();
    grid.values.forEach((v, i) => {
      const x = 3 + (i / Math.max(1, grid.values.length - 1)) * (W - 6);
      const y = H - 3 - ((v - lo) / span) * (H - 6);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    return;
  }
  const colorOf = lo >= 0 ? (v) => mix(COLORS.white, COLORS.pos, clamp((v - 0) / (hi || 1), 0, 1)) : divergingColor(Math.max(Math.abs(lo), Math.abs(hi)));
  paintGrid(canvas, grid, colorOf);
}

export function updateNetwork(f) {
  const units = f.units || [];
  const key = JSON.stringify(units) + f.task + state.lang + JSON.stringify(f.layer_names || []);
  if (key !== state.netKey || !state.net) {
    buildNetwork(f);
    state.netKey = key;
    state.lastMaps = 0;
  }
  const net = state.net;
  let wmax = 0;
  for (const e of net.edges) {
    const w = weightAt(f.weights, e.l, e.i, e.j, units);
    if (isNum(w)) wmax = Math.max(wmax, Math.abs(w));
  }
  const scale = Math.max(1, wmax);
  for (const e of net.edges) {
    const w = weightAt(f.weights, e.l, e.i, e.j, units);
    const v = isNum(w) ? w : 0;
    e.line.setAttribute("stroke", v >= 0 ? rgb(COLORS.pos) : rgb(COLORS.neg));
    e.line.setAttribute("stroke-width", (0.4 + (6 * Math.abs(v)) / scale).toFixed(2));
    e.hit.dataset.w = String(v);
  }
  const L = units.length;
  const outBiases = (f.biases && f.biases[L - 2]) || [];
  net.biasTexts.forEach((bt, j) => {
    bt.textContent = `b = ${fmt(outBiases[j], 3)}`;
    bt.dataset.value = String(outBiases[j]);
  });
  net.markers.forEach(([m1, m2], l) => {
    const dead = f.dead ? f.dead[l] : null;
    const sat = f.saturated ? f.saturated[l] : null;
    m1.textContent = `${t("dead")} ${isNum(dead) ? Math.round(dead * 100) : "–"}%`;
    m2.textContent = `${t("saturated")} ${isNum(sat) ? Math.round(sat * 100) : "–"}%`;
    m1.classList.toggle("bad", isNum(dead) && dead >= 0.5);
    m2.classList.toggle("bad", isNum(sat) && sat >= 0.5);
  });
  // node heatmaps: at most ~8 times per second (they cost more than the lines)
  const now = performance.now();
  if (now - state.lastMaps > 120 || !state.running) {
    state.lastMaps = now;
    for (const n of net.nodes) {
      if (!n.canvas || n.c === 0) continue;
      if (n.c === L - 1) {
        paintOutputMap(n.canvas, f, n.k);
      } else {
        const layerMaps = f.node_maps && f.node_maps[n.c - 1];
        paintNodeMap(n.canvas, layerMaps && layerMaps[n.k]);
      }
    }
  }
  if (state.tipTarget) refreshTip();
}

function paintOutputMap(canvas, f, k) {
  if (f.task === "regression") {
    if (f.curve && f.curve.y) paintNodeMap(canvas, { nx: f.curve.y.length, ny: 1, values: f.curve.y });
    return;
  }
  if (!f.heatmap) return;
  const nOut = f.units[f.units.length - 1];
  if (nOut > 1) {
    // multiclass: where this class wins
    paintGrid(canvas, f.heatmap, (v) => (Math.round(v) === k ? classColor(k) : COLORS.white));
  } else {
    paintGrid(canvas, f.heatmap, probColor);
  }
}

// ------------------------------------------------------------------ tooltips and the weight editor
function describe(target) {
  const f = state.frame;
  if (!f) return "";
  const units = f.units || [];
  if (target.kind === "weight") {
    const w = weightAt(f.weights, target.l, target.i, target.j, units);
    const g = weightAt(f.weight_grads, target.l, target.i, target.j, units);
    return `${t("weight")} ${t("layer")} ${target.l + 1}: ${target.i + 1} → ${target.j + 1}\nw = ${fmt(w)}\n∂L/∂w = ${fmtExp(g)}`;
  }
  const b = f.biases && f.biases[target.l] ? f.biases[target.l][target.j] : null;
  const g = f.bias_grads && f.bias_grads[target.l] ? f.bias_grads[target.l][target.j] : null;
  return `${t("bias")} ${t("layer")} ${target.l + 1}, #${target.j + 1}\nb = ${fmt(b)}\n∂L/∂b = ${fmtExp(g)}`;
}
function showTip(e, target) {
  state.tipTarget = target;
  const tip = $("#weight-tip");
  tip.textContent = describe(target);
  tip.hidden = false;
  moveTip(e);
}
function moveTip(e) {
  const tip = $("#weight-tip");
  tip.style.left = e.clientX + 14 + "px";
  tip.style.top = e.clientY + 12 + "px";
}
function refreshTip() {
  if (state.tipTarget) $("#weight-tip").textContent = describe(state.tipTarget);
}
function hideTip() {
  state.tipTarget = null;
  $("#weight-tip").hidden = true;
}

function openEditor(e, target) {
  const f = state.frame;
  if (!f) return;
  hideTip();
  state.editTarget = target;
  const ed = $("#weight-editor");
  const units = f.units || [];
  let value;
  if (target.kind === "weight") {
    value = weightAt(f.weights, target.l, target.i, target.j, units);
    $("#weight-editor-label").textContent = `w ${target.l + 1}: ${target.i + 1}→${target.j + 1}`;
  } else {
    value = f.biases && f.biases[target.l] ? f.biases[target.l][target.j] : 0;
    $("#weight-editor-label").textContent = `b ${target.l + 1}: #${target.j + 1}`;
  }
  const input = $("#weight-input");
  input.value = isNum(value) ? String(Number(value.toPrecision(6))) : "0";
  ed.hidden = false;
  const x = clamp(e.clientX + 8, 4, window.innerWidth - 260);
  const y = clamp(e.clientY + 8, 4, window.innerHeight - 50);
  ed.style.left = x + "px";
  ed.style.top = y + "px";
  input.focus();
  input.select();
}
export function closeEditor() {
  state.editTarget = null;
  $("#weight-editor").hidden = true;
}
