/* mlplab playground: frames in, the page redrawn (at most once per animation frame). */
import { drawGradChart, drawLossChart } from "./charts.js";
import { renderFindings, renderHealth } from "./doctor.js";
import { drawCurve, drawHeatmap } from "./heatmap.js";
import { t } from "./i18n.js";
import { updateNetwork } from "./network.js";
import { state } from "./state.js";
import { showStatus } from "./status.js";
import { $, fmt, isNum } from "./util.js";

export function setRunning(running) {
  state.running = !!running;
  const btn = $("#play");
  btn.classList.toggle("running", state.running);
  btn.dataset.running = String(state.running);
}

export function onFrame(frame) {
  if (!frame || typeof frame !== "object") return;
  if (frame.points) state.points = frame.points;
  state.frame = frame;
  if ("running" in frame && typeof frame.running === "boolean") setRunning(frame.running);
  scheduleRender();
}

export function scheduleRender() {
  if (state.renderPending) return;
  state.renderPending = true;
  let done = false;
  const run = () => {
    if (done) return;
    done = true;
    state.renderPending = false;
    try {
      render();
    } catch (err) {
      console.error(err); // eslint-disable-line no-console
    }
  };
  window.requestAnimationFrame(run);
  setTimeout(run, 200); // rAF does not fire in hidden tabs
}

function render() {
  const f = state.frame;
  if (!f) return;
  const regression = f.task === "regression" || f.metric === "r2";
  if (f.error && f.error !== state.lastError) showStatus(String(f.error));
  state.lastError = f.error || null;
  $("#epoch").textContent = isNum(f.epoch) ? f.epoch.toFixed(2) : "–";
  $("#step-count").textContent = isNum(f.step) ? String(f.step) : "–";
  $("#train-loss").textContent = fmt(f.loss);
  $("#test-loss").textContent = fmt(f.test_loss);
  $("#metric-name-train").textContent = t(regression ? "train_r2" : "train_acc");
  $("#metric-name-test").textContent = t(regression ? "test_r2" : "test_acc");
  $("#metric-name-train").dataset.i18n = regression ? "train_r2" : "train_acc";
  $("#metric-name-test").dataset.i18n = regression ? "test_r2" : "test_acc";
  $("#train-metric").textContent = fmt(f.train_metric);
  $("#test-metric").textContent = fmt(f.test_metric);
  $("#test-metric").dataset.value = isNum(f.test_metric) ? String(f.test_metric) : "";
  $("#output-title").textContent = t(regression ? "fitted_curve" : "decision_region");
  $("#output-title").dataset.i18n = regression ? "fitted_curve" : "decision_region";

  if (regression || !f.heatmap) drawCurve(f);
  else drawHeatmap(f);
  updateNetwork(f);
  drawLossChart(f);
  drawGradChart(f);
  renderHealth(f);
  renderFindings(f);
}
