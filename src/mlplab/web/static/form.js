/* mlplab playground: the configuration editor (data and network panels), the CSV upload, and the
 * configuration in the URL hash (#config=..., the shareable link).
 *
 * Every change is a partial config PUT, queued so that they reach the server one at a time, in
 * order (state.queue); the answer's config is shown again (so a refused change reverts).
 */
import { apiJSON, sessionPath } from "./api.js";
import { t } from "./i18n.js";
import { onFrame } from "./render.js";
import { state } from "./state.js";
import { showError, showStatus } from "./status.js";
import { $, fmt, isNum, names } from "./util.js";

export function readHash() {
  const h = window.location.hash.replace(/^#/, "");
  if (!h) return null;
  const raw = h.startsWith("config=") ? h.slice(7) : h;
  try {
    const cfg = JSON.parse(decodeURIComponent(raw));
    return cfg && typeof cfg === "object" && !Array.isArray(cfg) ? cfg : null;
  } catch (e) {
    return null;
  }
}
export function writeHash() {
  if (!state.config) return;
  const hash = "#config=" + encodeURIComponent(JSON.stringify(state.config));
  const url = window.location.pathname + window.location.search + hash;
  window.history.replaceState(null, "", url);
  $("#share-url").value = shareLink(state.shareForOthers);
}
// The link to this configuration: for the same user, this page's own address (the launch's
// ?token= as `mlplab serve` printed it, the language, #config=...): it reopens the
// configuration while this server runs. For others, the same without the token: the page
// opened without a (valid) token tells them to open it in their own `mlplab serve`.
export function shareLink(forOthers) {
  const link = new URL(window.location.href);
  if (forOthers) link.searchParams.delete("token");
  return link.toString();
}

// The speed of play: optimizer steps per second (config "steps_per_second"), null = full speed.
export const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, null];
function speedIndex(v) {
  if (v === null || v === undefined) return SPEEDS.length - 1;
  let best = 0;
  SPEEDS.forEach((s, i) => {
    if (s !== null && Math.abs(Math.log(s / v)) < Math.abs(Math.log(SPEEDS[best] / v))) best = i;
  });
  return best;
}
// The slider at the level nearest to `v` and its label (the exact value); without `v`, the
// label of the slider's level (before any session, e.g. a link without a token).
export function renderSpeed(v) {
  if (v === undefined) v = SPEEDS[Number($("#speed").value)];
  else $("#speed").value = String(speedIndex(v));
  $("#speed-value").textContent = speedLabel(v);
}
const speedLabel = (v) => (v === null || v === undefined ? t("full_speed") : `${fmtSpeed(v)} ${t("steps_per_s")}`);
const fmtSpeed = (v) => String(Number(v.toPrecision(3)));

function fillSelect(sel, values, labelOf) {
  const keep = sel.value;
  sel.textContent = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = labelOf ? labelOf(v) : v;
    sel.appendChild(o);
  }
  if (keep && values.includes(keep)) sel.value = keep;
}

function datasetEntries() {
  const ds = (state.meta && state.meta.datasets) || {};
  if (Array.isArray(ds)) return ds.map((d) => (typeof d === "string" ? [d, {}] : [d.name, d]));
  return Object.entries(ds);
}
function datasetTask(name) {
  for (const [n, info] of datasetEntries()) {
    if (n === name) {
      if (typeof info === "string") return info;
      if (info && info.task) return info.task;
    }
  }
  return null;
}
function datasetLabel(name) {
  const key = "ds_" + name;
  const label = t(key);
  if (label !== key) return label;
  for (const [n, info] of datasetEntries()) if (n === name && info && info.title) return String(info.title);
  return name;
}

export function populateSelects() {
  const meta = state.meta;
  const dsSel = $("#dataset");
  const keep = dsSel.value;
  dsSel.textContent = "";
  const groups = {};
  const current = state.config && state.config.dataset;
  for (const [name] of datasetEntries()) {
    if (name === "csv" && current !== "csv") continue;
    const task = datasetTask(name) || (name === "csv" ? "csv" : "other");
    if (!groups[task]) {
      const g = document.createElement("optgroup");
      g.label = t(task) === task && task === "other" ? "" : t(task);
      groups[task] = g;
      dsSel.appendChild(g);
    }
    const o = document.createElement("option");
    o.value = name;
    o.textContent = datasetLabel(name);
    groups[task].appendChild(o);
  }
  if (keep) dsSel.value = keep;
  const acts = names(meta.activations);
  const outActs = meta.output_activations ? names(meta.output_activations) : ["auto", ...acts];
  fillSelect($("#output-activation"), ["auto", ...outActs.filter((a) => a !== "auto")], (v) =>
    v === "auto" ? t("auto") : v
  );
  fillSelect($("#init"), names(meta.initializers));
  fillSelect($("#optimizer"), names(meta.optimizers));
  fillSelect($("#loss"), ["auto", ...names(meta.losses).filter((a) => a !== "auto")], (v) =>
    v === "auto" ? t("auto") : v
  );
  const lim = meta.limits || {};
  const maxN = lim.n_samples || lim.max_samples || 5000;
  $("#n-samples").max = String(maxN);
}

function limit(keys, fallback) {
  const lim = (state.meta && state.meta.limits) || {};
  for (const k of keys) if (isNum(lim[k])) return lim[k];
  return fallback;
}
const maxLayers = () => limit(["hidden_layers", "max_hidden_layers", "layers", "max_layers"], 8);
const maxUnits = () => limit(["units", "units_per_layer", "max_units", "max_units_per_layer"], 32);

function setValue(sel, v) {
  const el = $(sel);
  if (document.activeElement === el && el.tagName === "INPUT" && el.type === "number") return;
  el.value = v === null || v === undefined ? "" : String(v);
}
function ensureOption(sel, v) {
  const el = $(sel);
  if (v === null || v === undefined) return;
  if (!Array.from(el.options).some((o) => o.value === String(v))) {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = String(v);
    el.appendChild(o);
  }
  el.value = String(v);
}

export function renderConfig(cfg) {
  if (cfg.dataset === "csv" && !$("#dataset option[value=csv]")) populateSelects();
  if (cfg.dataset !== "csv" && $("#dataset option[value=csv]")) populateSelects();
  ensureOption("#dataset", cfg.dataset);
  setValue("#noise", cfg.noise);
  $("#noise-value").textContent = fmt(cfg.noise, 2);
  setValue("#n-samples", cfg.n_samples);
  $("#n-samples-value").textContent = String(cfg.n_samples);
  setValue("#test-fraction", cfg.test_fraction);
  $("#test-fraction-value").textContent = fmt(cfg.test_fraction, 2);
  setValue("#seed", cfg.seed);
  ensureOption("#output-activation", cfg.output_activation);
  ensureOption("#init", cfg.init);
  ensureOption("#optimizer", cfg.optimizer);
  setValue("#learning-rate", cfg.learning_rate);
  setValue("#batch-size", cfg.batch_size);
  setValue("#l2", cfg.l2);
  setValue("#clip-norm", cfg.clip_norm);
  setValue("#clip-value", cfg.clip_value);
  ensureOption("#loss", cfg.loss);
  if ("steps_per_second" in cfg) renderSpeed(cfg.steps_per_second);
  renderLayers(cfg.layers || []);
}

function renderLayers(layers) {
  const box = $("#layers");
  box.textContent = "";
  const acts = names(state.meta && state.meta.activations).filter((a) => a !== "auto" && a !== "softmax");
  layers.forEach((layer, idx) => {
    const div = document.createElement("div");
    div.className = "layer";
    div.dataset.index = String(idx);
    const title = document.createElement("span");
    title.className = "layer-title";
    title.textContent = `${t("layer")} ${idx + 1}`;
    const minus = document.createElement("button");
    minus.type = "button";
    minus.className = "units-minus";
    minus.textContent = "−";
    minus.title = "− " + t("units");
    minus.disabled = layer.units <= 1;
    const count = document.createElement("span");
    count.className = "units-count";
    count.textContent = String(layer.units);
    const plus = document.createElement("button");
    plus.type = "button";
    plus.className = "units-plus";
    plus.textContent = "+";
    plus.title = "+ " + t("units");
    plus.disabled = layer.units >= maxUnits();
    const bnLabel = document.createElement("label");
    bnLabel.className = "bn";
    bnLabel.title = t("batch_norm_title");
    const bn = document.createElement("input");
    bn.type = "checkbox";
    bn.className = "batch-norm";
    bn.checked = !!layer.batch_norm;
    bnLabel.append(bn, " " + t("batch_norm"));
    const sel = document.createElement("select");
    sel.className = "activation";
    const opts = acts.includes(layer.activation) ? acts : [...acts, layer.activation];
    for (const a of opts) {
      const o = document.createElement("option");
      o.value = a;
      o.textContent = a;
      sel.appendChild(o);
    }
    sel.value = layer.activation;
    div.append(title, minus, count, plus, bnLabel, sel);
    box.appendChild(div);
  });
  $("#add-layer").disabled = layers.length >= maxLayers();
  $("#remove-layer").disabled = layers.length === 0;
  $("#layer-count").textContent = `${layers.length} ${t("hidden_layers")}`;
}

export function setConfig(cfg) {
  state.config = cfg;
  renderConfig(cfg);
  writeHash();
}

// Queue a partial config change (PUT), one at a time, in order.
export function putConfig(partial) {
  state.queue = state.queue.then(async () => {
    if (!state.id) return;
    try {
      const res = await apiJSON("PUT", sessionPath("/config"), partial);
      setConfig(res.config);
      if (res.frame) onFrame(res.frame);
    } catch (err) {
      showError(err);
      if (state.config) renderConfig(state.config); // revert the controls
    }
  });
  return state.queue;
}

function layersCopy() {
  return (state.config.layers || []).map((l) => Object.assign({}, l));
}

function numberOrNull(el) {
  const raw = el.value.trim();
  if (raw === "") return null;
  const v = Number(raw);
  return Number.isFinite(v) ? v : null;
}

export function bindForm() {
  $("#dataset").addEventListener("change", (e) => putConfig({ dataset: e.target.value }));
  for (const [id, key, out, digits] of [
    ["#noise", "noise", "#noise-value", 2],
    ["#n-samples", "n_samples", "#n-samples-value", 0],
    ["#test-fraction", "test_fraction", "#test-fraction-value", 2],
  ]) {
    const el = $(id);
    el.addEventListener("input", () => {
      $(out).textContent = digits ? fmt(Number(el.value), digits) : el.value;
    });
    el.addEventListener("change", () => putConfig({ [key]: Number(el.value) }));
  }
  const speed = $("#speed");
  speed.max = String(SPEEDS.length - 1);
  speed.addEventListener("input", () => ($("#speed-value").textContent = speedLabel(SPEEDS[Number(speed.value)])));
  speed.addEventListener("change", () => putConfig({ steps_per_second: SPEEDS[Number(speed.value)] }));
  $("#seed").addEventListener("change", (e) => {
    const v = numberOrNull(e.target);
    if (v !== null) putConfig({ seed: Math.round(v) });
  });
  for (const [id, key] of [
    ["#output-activation", "output_activation"],
    ["#init", "init"],
    ["#optimizer", "optimizer"],
    ["#loss", "loss"],
  ]) {
    $(id).addEventListener("change", (e) => putConfig({ [key]: e.target.value }));
  }
  for (const [id, key, isInt, nullable] of [
    ["#learning-rate", "learning_rate", false, false],
    ["#batch-size", "batch_size", true, false],
    ["#l2", "l2", false, false],
    ["#clip-norm", "clip_norm", false, true],
    ["#clip-value", "clip_value", false, true],
  ]) {
    $(id).addEventListener("change", (e) => {
      let v = numberOrNull(e.target);
      if (v === null && !nullable) {
        renderConfig(state.config);
        return;
      }
      if (v !== null && isInt) v = Math.round(v);
      putConfig({ [key]: v });
    });
  }

  $("#add-layer").addEventListener("click", () => {
    const layers = layersCopy();
    if (layers.length >= maxLayers()) return;
    const last = layers[layers.length - 1];
    layers.push(last ? { units: last.units, activation: last.activation, batch_norm: !!last.batch_norm } : { units: 4, activation: "tanh", batch_norm: false });
    putConfig({ layers });
  });
  $("#remove-layer").addEventListener("click", () => {
    const layers = layersCopy();
    if (!layers.length) return;
    layers.pop();
    putConfig({ layers });
  });
  const layersBox = $("#layers");
  layersBox.addEventListener("click", (e) => {
    const btn = e.target.closest("button");
    if (!btn) return;
    const div = btn.closest(".layer");
    const idx = Number(div.dataset.index);
    const layers = layersCopy();
    if (btn.classList.contains("units-plus")) layers[idx].units = Math.min(maxUnits(), layers[idx].units + 1);
    else if (btn.classList.contains("units-minus")) layers[idx].units = Math.max(1, layers[idx].units - 1);
    else return;
    div.querySelector(".units-count").textContent = String(layers[idx].units);
    putConfig({ layers });
  });
  layersBox.addEventListener("change", (e) => {
    const div = e.target.closest(".layer");
    if (!div) return;
    const idx = Number(div.dataset.index);
    const layers = layersCopy();
    if (e.target.classList.contains("activation")) layers[idx].activation = e.target.value;
    else if (e.target.classList.contains("batch-norm")) layers[idx].batch_norm = e.target.checked;
    else return;
    putConfig({ layers });
  });

  $("#csv-file").addEventListener("change", onCsvFile);
  window.addEventListener("hashchange", onHashChange);
}

async function onHashChange() {
  const cfg = readHash();
  if (!cfg || !state.config) return;
  if (JSON.stringify(cfg) === JSON.stringify(state.config)) return;
  putConfig(cfg);
}

async function onCsvFile(e) {
  const file = e.target.files && e.target.files[0];
  if (!file) return;
  if (file.size > 512 * 1024) {
    showStatus(t("csv_too_big"));
    e.target.value = "";
    return;
  }
  const text = await file.text();
  e.target.value = "";
  state.queue = state.queue.then(async () => {
    try {
      const res = await apiJSON("POST", sessionPath("/csv"), { text });
      setConfig(res.config);
      if (res.frame) onFrame(res.frame);
    } catch (err) {
      showError(err);
    }
  });
}
