/* mlplab playground: the page. Plain JS modules, no build step, no external resources.
 *
 * Talks to the JSON API of mlplab.web.server (token in the X-Mlplab-Token header, read
 * from this page's own URL ?token=...), receives frames over the session's WebSocket while
 * training runs and draws them on <canvas>/<svg>. See docs/playground.md for the contract.
 *
 * This module wires the page: the language, the training controls, clicks on the plot and on
 * the diagram's weights, the WebSocket, and the start. The other modules: api.js (HTTP and
 * WebSocket client), form.js (the configuration editor), render.js (frames -> heatmap.js,
 * network.js, charts.js, doctor.js), exports.js, i18n.js, state.js, status.js, colors.js, util.js.
 */
import { apiJSON, openSocket, params, releaseSession, sessionPath, TOKEN } from "./api.js";
import { copyShareLink, download, showSnippet } from "./exports.js";
import { bindForm, populateSelects, putConfig, readHash, renderConfig, renderSpeed, setConfig } from "./form.js";
import { t } from "./i18n.js";
import { closeEditor } from "./network.js";
import { onFrame, scheduleRender, setRunning } from "./render.js";
import { state } from "./state.js";
import { clearSticky, showError, showStatus } from "./status.js";
import { $, clamp, fmtSeconds } from "./util.js";

// ------------------------------------------------------------------ language
function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.querySelectorAll("[data-i18n-title]").forEach((el) => {
    el.title = t(el.dataset.i18nTitle);
    el.setAttribute("aria-label", t(el.dataset.i18nTitle));
  });
  $("#lang-toggle").textContent = state.lang === "pt" ? "EN" : "PT";
  $("#lang-toggle").setAttribute("aria-label", state.lang === "pt" ? "English" : "Português");
  document.title = state.lang === "pt" ? "mlplab: laboratório" : "mlplab playground";
  if (state.meta) populateSelects();
  if (state.config) renderConfig(state.config);
  else renderSpeed();
  state.netKey = null; // relabel the diagram
  if (state.frame) scheduleRender();
}
function setLang(lang) {
  state.lang = lang === "pt" ? "pt" : "en";
  const url = new URL(window.location.href);
  url.searchParams.set("lang", state.lang);
  window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  applyLang();
  // the doctor's findings follow the page's language (a config key applied on the fly)
  if (state.config && "lang" in state.config && state.config.lang !== state.lang) putConfig({ lang: state.lang });
}

// ------------------------------------------------------------------ controls
function bindControls() {
  bindForm();
  $("#play").addEventListener("click", () => control(state.running ? "pause" : "play"));
  $("#step").addEventListener("click", () => {
    const n = clamp(Math.round(Number($("#steps-per-click").value) || 1), 1, 1000);
    control("step", n);
  });
  $("#reset").addEventListener("click", () => control("reset"));
  $("#lang-toggle").addEventListener("click", () => setLang(state.lang === "pt" ? "en" : "pt"));

  $("#heatmap").addEventListener("click", onPlotClick);

  $("#share").addEventListener("click", () => copyShareLink(false));
  $("#share-others").addEventListener("click", () => copyShareLink(true));
  $("#open-form").addEventListener("submit", onOpenElsewhere);
  $("#export-model").addEventListener("click", () => download(sessionPath("/export/model"), "mlplab-playground.mlplab"));
  $("#export-history-csv").addEventListener("click", () =>
    download(sessionPath("/export/history?format=csv"), "mlplab-history.csv")
  );
  $("#export-history-json").addEventListener("click", () =>
    download(sessionPath("/export/history?format=json"), "mlplab-history.json")
  );
  $("#export-snippet").addEventListener("click", showSnippet);

  $("#weight-editor").addEventListener("submit", onWeightSubmit);
  $("#weight-cancel").addEventListener("click", closeEditor);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeEditor();
  });
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      state.netKey = null; // re-layout the diagram to the new width
      if (state.frame) scheduleRender();
    }, 150);
  });
}

async function control(action, steps) {
  if (!state.id) return;
  const body = { action };
  if (steps !== undefined) body.steps = steps;
  try {
    const res = await apiJSON("POST", sessionPath("/control"), body);
    clearSticky();
    if (res && "running" in res) setRunning(res.running);
    if (res && res.frame) onFrame(res.frame);
  } catch (err) {
    showError(err);
    if (err.status === 404) recoverSession();
  }
}

async function onPlotClick(e) {
  if (!state.plot || !state.id) return;
  const canvas = e.currentTarget;
  const rect = canvas.getBoundingClientRect();
  const px = ((e.clientX - rect.left) / rect.width) * canvas.width;
  const py = ((e.clientY - rect.top) / rect.height) * canvas.height;
  const [x, y] = state.plot.toData(px, py);
  let label;
  if (state.plot.task === "regression") label = y;
  else label = e.shiftKey ? 0 : 1;
  try {
    const res = await apiJSON("POST", sessionPath("/points"), { x, y, label });
    if (res && res.frame) onFrame(res.frame);
  } catch (err) {
    showError(err);
  }
}

async function onWeightSubmit(e) {
  e.preventDefault();
  const target = state.editTarget;
  const value = Number($("#weight-input").value);
  closeEditor();
  if (!target || !Number.isFinite(value)) return;
  const body =
    target.kind === "weight"
      ? { layer: target.l, i: target.i, j: target.j, value }
      : { layer: target.l, i: -1, j: target.j, value };
  try {
    const res = await apiJSON("POST", sessionPath("/weights"), body);
    if (res && res.frame) onFrame(res.frame);
  } catch (err) {
    showError(err);
  }
}

// ------------------------------------------------------------------ the WebSocket
// Why the server stopped training ({"type": "stopped"}): a notice that stays until the next
// control. "expired": the session is gone (its socket closes next); recoverSession says so again.
function onStopped(msg) {
  setRunning(false);
  const time = fmtSeconds(msg.seconds);
  if (msg.reason === "expired") {
    state.expired = t("session_expired").replace("{time}", time);
    showStatus(state.expired, true, true);
  } else if (msg.reason === "time_limit") {
    showStatus(t("stopped_time_limit").replace("{time}", time), true, true);
  } else showStatus(msg.detail, true, true);
}

function onSocketMessage(msg) {
  if (msg.type === "frame") onFrame(msg);
  else if (msg.type === "stopped") onStopped(msg);
  else if (msg.type === "error") {
    showError(msg);
    setRunning(false);
  } else if ("running" in msg) setRunning(msg.running);
  if (msg.type !== "frame" && msg.frame) onFrame(msg.frame);
}

function onSocketLost() {
  state.wsRetry += 1;
  if (state.wsRetry > 1) showStatus(t("connection_lost"), true);
  setTimeout(recoverSession, Math.min(5000, 300 * state.wsRetry));
}

const connect = () => openSocket(onSocketMessage, onSocketLost);

async function recoverSession() {
  if (state.leaving || state.recovering) return;
  state.recovering = true;
  try {
    let gone = !!state.expired; // the server said so: no need to ask
    if (!gone) {
      try {
        const res = await apiJSON("GET", sessionPath(""));
        if ("running" in res) setRunning(res.running);
        if (res.frame) onFrame(res.frame);
      } catch (err) {
        if (err.status !== 404) throw err;
        gone = true;
      }
    }
    if (gone) {
      const cfg = Object.assign({}, state.config || {});
      if (cfg.dataset === "csv") delete cfg.dataset;
      const res = await apiJSON("POST", "/api/sessions", { config: cfg });
      state.id = res.id;
      setConfig(res.config);
      setRunning(false);
      onFrame(res.frame);
      showStatus(`${state.expired || t("session_gone")} ${t("new_session")}`, true, true);
      state.expired = null;
    }
    if (!state.ws) connect();
  } catch (err) {
    showError(err);
    if (!state.ws) setTimeout(recoverSession, 3000);
  } finally {
    state.recovering = false;
  }
}

// ------------------------------------------------------------------ a link without a valid token
// A link for others (no token) or from another launch of `mlplab serve` (a token this server
// refuses): say why it cannot open here and how to open it, keeping its configuration: paste
// the address your own `mlplab serve` printed, and the page goes there with this #config=.
function showOpenHelp(why) {
  const withConfig = !!readHash();
  $("#open-help-why").dataset.i18n = why === "no_token" && withConfig ? "no_token_config" : why;
  $("#open-help-how").dataset.i18n = withConfig ? "open_steps" : "open_steps_plain";
  $("#open-help").hidden = false;
  applyLang();
}
function onOpenElsewhere(e) {
  e.preventDefault();
  let target = null;
  try {
    target = new URL($("#open-url").value.trim());
  } catch (err) {
    target = null;
  }
  if (!target || !/^https?:$/.test(target.protocol) || !target.searchParams.get("token")) {
    showStatus(t("open_bad_url"), false, true);
    return;
  }
  if (!target.searchParams.get("lang")) target.searchParams.set("lang", state.lang);
  target.hash = window.location.hash;
  window.location.assign(target.toString());
}

// ------------------------------------------------------------------ start
async function start() {
  state.lang = params.get("lang") === "pt" ? "pt" : params.get("lang") === "en" ? "en" : "en";
  bindControls();
  applyLang();
  if (!TOKEN) {
    showOpenHelp("no_token");
    return;
  }
  try {
    state.meta = await apiJSON("GET", "/api/meta");
  } catch (err) {
    if (err.status === 401) showOpenHelp("bad_token");
    else showError(err);
    return;
  }
  if (!params.get("lang") && state.meta.lang) state.lang = state.meta.lang === "pt" ? "pt" : "en";
  $("#version").textContent = state.meta.version ? `mlplab ${state.meta.version}` : "";
  populateSelects();
  applyLang();
  let cfg = readHash();
  if (cfg && cfg.dataset === "csv") {
    delete cfg.dataset;
    showStatus(t("csv_hash"), true);
  }
  const withLang = (c) => {
    const out = Object.assign({}, c || {});
    if (state.meta.defaults && "lang" in state.meta.defaults) out.lang = state.lang;
    return out;
  };
  let res;
  try {
    res = await apiJSON("POST", "/api/sessions", { config: withLang(cfg) });
  } catch (err) {
    if (!cfg || err.status !== 422) {
      showError(err);
      return;
    }
    showStatus(t("bad_hash") + err.message);
    cfg = null;
    try {
      res = await apiJSON("POST", "/api/sessions", { config: withLang(null) });
    } catch (err2) {
      showError(err2);
      return;
    }
  }
  state.id = res.id;
  setConfig(res.config);
  setRunning(!!res.running);
  onFrame(res.frame);
  connect();
  window.addEventListener("pagehide", () => {
    // free the server-side session (sessions are capped); keepalive outlives the page
    state.leaving = true;
    if (state.ws) state.ws.close();
    if (state.id) releaseSession();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
