/* mlplab playground: the output plot, the decision region of a classifier (a heatmap of P(class 1)
 * or of the predicted class, with the points) or the fitted curve of a regression.
 * state.plot maps the canvas' pixels back to data units (for clicks that add points).
 */
import { COLORS, classColor, mix, paintGrid, probColor, rgb } from "./colors.js";
import { state } from "./state.js";
import { $, fmtTick, isNum, niceTicks } from "./util.js";

function pointXY(p, regression) {
  if (regression) return [p[0], p[p.length - 1]];
  return [p[0], p[1], p[2]];
}

export function drawHeatmap(f) {
  const canvas = $("#heatmap");
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const hm = f.heatmap;
  const k = isNum(hm.classes) ? hm.classes : f.units ? f.units[f.units.length - 1] : 1;
  const multi = k > 2 || (f.units && f.units[f.units.length - 1] > 1);
  const colorOf = multi ? (v) => mix(classColor(v), COLORS.white, 0.55) : (v) => mix(probColor(v), COLORS.white, 0.25);
  paintGrid(canvas, hm, colorOf);
  const [x0, x1] = hm.x;
  const [y0, y1] = hm.y;
  const toPx = (x, y) => [((x - x0) / (x1 - x0)) * W, H - ((y - y0) / (y1 - y0)) * H];
  state.plot = {
    task: "classification",
    toData: (px, py) => [x0 + (px / W) * (x1 - x0), y0 + ((H - py) / H) * (y1 - y0)],
  };
  // decision boundary hint: the 0.5 contour is visible through the colour; draw the points
  const pts = state.points || { train: [], test: [] };
  const drawSet = (set, isTest) => {
    for (const p of set || []) {
      const [x, y, lab] = pointXY(p, false);
      const [px, py] = toPx(x, y);
      const col = multi ? classColor(lab) : lab >= 0.5 ? COLORS.pos : COLORS.neg;
      ctx.beginPath();
      ctx.arc(px, py, isTest ? 3.6 : 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = rgb(col);
      ctx.fill();
      ctx.lineWidth = isTest ? 1.6 : 0.8;
      ctx.strokeStyle = isTest ? "#111" : "#fff";
      ctx.stroke();
    }
  };
  drawSet(pts.train, false);
  drawSet(pts.test, true);
  // axis extents
  ctx.fillStyle = "rgba(0,0,0,0.55)";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left";
  ctx.fillText(fmtTick(x0), 3, H - 2);
  ctx.textAlign = "right";
  ctx.fillText(fmtTick(x1), W - 3, H - 2);
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(fmtTick(y1), 3, 2);
}

export function drawCurve(f) {
  const canvas = $("#heatmap");
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const curve = f.curve || { x: [], y: [] };
  const pts = state.points || { train: [], test: [] };
  const xs = [...(curve.x || [])];
  const ys = [...(curve.y || []).filter(isNum)];
  for (const set of [pts.train || [], pts.test || []]) {
    for (const p of set) {
      const [x, y] = pointXY(p, true);
      xs.push(x);
      ys.push(y);
    }
  }
  if (!xs.length) {
    state.plot = null;
    return;
  }
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const py_ = (y1 - y0) * 0.08;
  y0 -= py_;
  y1 += py_;
  const m = { l: 40, r: 10, t: 10, b: 26 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const toPx = (x, y) => [m.l + ((x - x0) / (x1 - x0)) * pw, m.t + ph - ((y - y0) / (y1 - y0)) * ph];
  state.plot = {
    task: "regression",
    toData: (px, py) => [x0 + ((px - m.l) / pw) * (x1 - x0), y0 + ((m.t + ph - py) / ph) * (y1 - y0)],
  };
  // grid and ticks
  ctx.strokeStyle = "#e6e6e6";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#666";
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const v of niceTicks(x0, x1, 6)) {
    const [px] = toPx(v, y0);
    ctx.beginPath();
    ctx.moveTo(px, m.t);
    ctx.lineTo(px, m.t + ph);
    ctx.stroke();
    ctx.fillText(fmtTick(v), px, m.t + ph + 4);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of niceTicks(y0, y1, 6)) {
    const [, py] = toPx(x0, v);
    ctx.beginPath();
    ctx.moveTo(m.l, py);
    ctx.lineTo(m.l + pw, py);
    ctx.stroke();
    ctx.fillText(fmtTick(v), m.l - 4, py);
  }
  ctx.strokeStyle = "#999";
  ctx.strokeRect(m.l, m.t, pw, ph);
  // points
  const drawSet = (set, isTest) => {
    for (const p of set || []) {
      const [x, y] = pointXY(p, true);
      const [px, py] = toPx(x, y);
      ctx.beginPath();
      ctx.arc(px, py, 2.8, 0, 2 * Math.PI);
      if (isTest) {
        ctx.strokeStyle = "#c0392b";
        ctx.lineWidth = 1.3;
        ctx.stroke();
      } else {
        ctx.fillStyle = "rgba(33,102,172,0.55)";
        ctx.fill();
      }
    }
  };
  drawSet(pts.train, false);
  drawSet(pts.test, true);
  // fitted curve
  if (curve.x && curve.x.length) {
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < curve.x.length; i++) {
      if (!isNum(curve.y[i])) continue;
      const [px, py] = toPx(curve.x[i], curve.y[i]);
      if (!started) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
      started = true;
    }
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2.2;
    ctx.stroke();
  }
}
