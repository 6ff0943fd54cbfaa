/* mlplab playground: the loss chart and the gradient-norm chart (log scale), with the list of
 * the current gradient norms per layer.
 */
import { layerColor } from "./colors.js";
import { t } from "./i18n.js";
import { $, clamp, fmtExp, isNum, niceTicks } from "./util.js";

function logRange(values) {
  const pos = values.filter((v) => isNum(v) && v > 0);
  if (!pos.length) return null;
  let lo = Math.log10(Math.min(...pos));
  let hi = Math.log10(Math.max(...pos));
  lo = Math.floor(lo * 2) / 2;
  hi = Math.ceil(hi * 2) / 2;
  if (hi - lo < 1) {
    hi = Math.ceil(hi);
    lo = hi - 1;
  }
  return [lo, hi];
}

// Axes of a log-scale chart; returns the coordinate mappers.
function logAxes(ctx, box, xr, yr) {
  const { l, t: top, w, h } = box;
  const X = (x) => l + ((x - xr[0]) / (xr[1] - xr[0] || 1)) * w;
  const Y = (lv) => top + h - ((lv - yr[0]) / (yr[1] - yr[0] || 1)) * h;
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#666";
  ctx.strokeStyle = "#e6e6e6";
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  const span = yr[1] - yr[0];
  const every = span > 12 ? 3 : span > 6 ? 2 : 1;
  for (let e = Math.ceil(yr[0]); e <= Math.floor(yr[1]); e++) {
    if (e % every) continue;
    const y = Y(e);
    ctx.beginPath();
    ctx.moveTo(l, y);
    ctx.lineTo(l + w, y);
    ctx.stroke();
    ctx.fillText(`1e${e}`, l - 3, y);
  }
  // x tick labels: centred on their tick, but kept inside the canvas (the last tick sits at
  // the plot's right edge, 10 px from the canvas's); where each was drawn goes in data-xticks
  ctx.textAlign = "left";
  ctx.textBaseline = "top";
  const drawn = [];
  for (const v of niceTicks(xr[0], xr[1], 4)) {
    const text = String(v);
    const width = ctx.measureText(text).width;
    const left = clamp(X(v) - width / 2, 0, ctx.canvas.width - width);
    ctx.fillText(text, left, top + h + 3);
    drawn.push({ text, left, right: left + width });
  }
  ctx.canvas.dataset.xticks = JSON.stringify(drawn);
  ctx.strokeStyle = "#aaa";
  ctx.strokeRect(l, top, w, h);
  return { X, Y };
}

function polyline(ctx, xs, ys, X, Y, color, width) {
  ctx.beginPath();
  let started = false;
  for (let i = 0; i < xs.length; i++) {
    const v = ys[i];
    if (!isNum(v) || v <= 0 || !isNum(xs[i])) {
      started = false;
      continue;
    }
    const px = X(xs[i]);
    const py = Y(Math.log10(v));
    if (!started) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
    started = true;
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = width || 1.5;
  ctx.stroke();
}

function historyOf(f) {
  const h = f.history || {};
  return {
    step: h.step || [],
    loss: h.loss || [],
    test_loss: h.test_loss || [],
    grad_norms: h.grad_norms || [],
  };
}

export function drawLossChart(f) {
  const canvas = $("#loss-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const h = historyOf(f);
  const yr = logRange([...h.loss, ...h.test_loss]);
  if (!h.step.length || !yr) return;
  const xr = [Math.min(...h.step), Math.max(h.step[h.step.length - 1], Math.min(...h.step) + 1)];
  const box = { l: 42, t: 8, w: canvas.width - 52, h: canvas.height - 28 };
  const { X, Y } = logAxes(ctx, box, xr, yr);
  polyline(ctx, h.step, h.loss, X, Y, "#333", 1.6);
  polyline(ctx, h.step, h.test_loss, X, Y, "#d6604d", 1.6);
  canvas.dataset.populated = "true";
}

export function drawGradChart(f) {
  const canvas = $("#grad-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const h = historyOf(f);
  const current = f.grad_norms || [];
  const nLayers = Math.max(current.length, h.grad_norms.length ? h.grad_norms[h.grad_norms.length - 1].length : 0);
  const all = [...current];
  for (const row of h.grad_norms) for (const v of row || []) all.push(v);
  const yr = logRange(all);
  renderGradValues(f, nLayers);
  if (!yr || !nLayers) {
    canvas.dataset.populated = "false";
    return;
  }
  const barsW = Math.min(110, 14 * nLayers + 20);
  const box = { l: 42, t: 8, w: canvas.width - 52 - barsW, h: canvas.height - 28 };
  const steps = h.step.length === h.grad_norms.length ? h.step : h.grad_norms.map((_, i) => i);
  const xr = steps.length ? [Math.min(...steps), Math.max(steps[steps.length - 1], Math.min(...steps) + 1)] : [0, 1];
  const { Y, X } = logAxes(ctx, box, xr, yr);
  for (let k = 0; k < nLayers; k++) {
    const ys = h.grad_norms.map((row) => (row ? row[k] : null));
    polyline(ctx, steps, ys, X, Y, layerColor(k, nLayers), 1.5);
  }
  // current bars, same log axis
  const bx0 = box.l + box.w + 10;
  const bw = Math.max(4, (barsW - 14) / nLayers - 2);
  const base = box.t + box.h;
  for (let k = 0; k < nLayers; k++) {
    const v = current[k];
    if (!isNum(v) || v <= 0) continue;
    const y = clamp(Y(Math.log10(v)), box.t, base);
    ctx.fillStyle = layerColor(k, nLayers);
    ctx.fillRect(bx0 + k * (bw + 2), y, bw, base - y);
  }
  ctx.strokeStyle = "#aaa";
  ctx.beginPath();
  ctx.moveTo(bx0 - 2, base);
  ctx.lineTo(bx0 + nLayers * (bw + 2), base);
  ctx.stroke();
  canvas.dataset.populated = "true";
}

function renderGradValues(f, nLayers) {
  const ul = $("#grad-values");
  const norms = f.grad_norms || [];
  ul.dataset.norms = JSON.stringify(norms.map((v) => (isNum(v) ? v : null)));
  const names_ = f.layer_names || [];
  if (ul.children.length !== norms.length) {
    ul.textContent = "";
    for (let k = 0; k < norms.length; k++) {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      const name = document.createElement("span");
      name.className = "name";
      const v = document.createElement("span");
      v.className = "v";
      li.append(sw, name, v);
      ul.appendChild(li);
    }
  }
  norms.forEach((v, k) => {
    const li = ul.children[k];
    li.dataset.layer = String(k);
    li.dataset.value = String(v);
    li.children[0].style.background = layerColor(k, Math.max(nLayers, norms.length));
    li.children[1].textContent = names_[k] || (k === norms.length - 1 ? t("output") : `${t("layer")} ${k + 1}`);
    li.children[2].textContent = fmtExp(v);
  });
}
