/* mlplab playground: the page. Plain JS, no build step, no external resources.
 *
 * Talks to the JSON API of mlplab.playground.server (token in the X-Mlplab-Token header, read
 * from this page's own URL ?token=...), receives frames over the session's WebSocket while
 * training runs and draws them on <canvas>/<svg>. See docs/playground.md for the contract.
 */
"use strict";

(function () {
  // ------------------------------------------------------------------ small helpers
  const $ = (sel) => document.querySelector(sel);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const params = new URLSearchParams(window.location.search);
  const TOKEN = params.get("token") || "";

  const COLORS = {
    pos: [33, 102, 172], // class 1 / positive weight
    neg: [224, 130, 20], // class 0 / negative weight
    white: [247, 247, 247],
    classes: [
      [224, 130, 20],
      [33, 102, 172],
      [27, 158, 119],
      [117, 112, 179],
      [231, 41, 138],
      [102, 166, 30],
      [166, 118, 29],
      [227, 26, 28],
      [31, 120, 180],
      [102, 102, 102],
    ],
  };
  const rgb = (c, a) => (a === undefined ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${a})`);
  const mix = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const isNum = (v) => typeof v === "number" && Number.isFinite(v);

  function fmt(v, digits) {
    if (!isNum(v)) return "–";
    const d = digits === undefined ? 4 : digits;
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
    return v.toFixed(d);
  }
  const fmtExp = (v) => (isNum(v) ? v.toExponential(2) : "–");
  const names = (list) => (list || []).map((x) => (typeof x === "string" ? x : x && x.name)).filter(Boolean);

  function layerColor(idx, n) {
    const t = n <= 1 ? 0 : idx / (n - 1);
    return `hsl(${Math.round(265 - 235 * t)}, 65%, ${Math.round(38 + 10 * t)}%)`;
  }

  // ------------------------------------------------------------------ UI text
  const I18N = {
    en: {
      title: "playground",
      reset: "reset the weights",
      play: "train / pause",
      step: "train a few steps",
      steps_per_click: "steps per click",
      epoch: "epoch",
      step_label: "step",
      train_loss: "train loss",
      test_loss: "test loss",
      train_acc: "train accuracy",
      test_acc: "test accuracy",
      train_r2: "train R²",
      test_r2: "test R²",
      data: "Data",
      dataset: "dataset",
      noise: "noise",
      n_samples: "samples",
      test_fraction: "test fraction",
      seed: "seed",
      csv_upload: "upload CSV",
      csv_hint: "CSV: x1[,x2],label (or target) — a header line is allowed.",
      click_hint: "Click the plot to add a point (shift-click: the other class).",
      network: "Network",
      add_layer: "+ layer",
      remove_layer: "− layer",
      hidden_layers: "hidden layers",
      layer: "layer",
      units: "units",
      batch_norm: "BN",
      batch_norm_title: "batch normalisation",
      output_activation: "output activation",
      init: "initialiser",
      optimizer: "optimizer",
      learning_rate: "learning rate",
      batch_size: "batch size",
      l2: "L2",
      clip_norm: "clip norm",
      clip_value: "clip value",
      loss: "loss",
      auto: "auto",
      decision_region: "Decision region",
      fitted_curve: "Fitted curve",
      train: "train",
      test: "test",
      diagram: "Network diagram",
      diagram_hint:
        "Colour = sign (blue +, orange −), width = |w|. Hover a weight for its value and gradient; click it (or a node, for its bias) to edit.",
      cancel: "cancel",
      loss_curves: "Loss",
      log_scale: "(log scale)",
      grad_norms: "Gradient norm per layer (log scale)",
      layer_health: "Dead and saturated units",
      dead: "dead",
      saturated: "saturated",
      doctor: "Gradient doctor",
      no_findings: "No findings.",
      share_export: "Share and export",
      copy_link: "copy link",
      copied: "link copied",
      export_model: "model (.mlplab)",
      export_history_csv: "history (CSV)",
      export_history_json: "history (JSON)",
      export_snippet: "Python snippet",
      download: "download",
      input: "input",
      output: "output",
      weight: "weight",
      bias: "bias",
      gradient: "gradient",
      edit_weight: "edit",
      steps: "steps",
      no_token: "No token in the URL: open the address printed by `mlplab serve` (…/?token=…).",
      bad_hash: "The configuration in the link was rejected: ",
      csv_hash: "The link used an uploaded CSV; upload it again.",
      csv_too_big: "The CSV file is too big (limit: 512 KiB).",
      connection_lost: "Connection lost, reconnecting…",
      error: "error",
      kind_vanishing: "vanishing gradient",
      kind_exploding: "exploding gradient",
      kind_dead: "dead units",
      kind_saturated: "saturated units",
      kind_saturation: "saturated units",
      kind_healthy: "healthy",
      kind_nonfinite: "diverged (NaN/inf)",
      remedy: "remedy",
      ds_and: "AND",
      ds_xor: "XOR",
      ds_circles: "circles",
      ds_spiral: "spiral",
      ds_moons: "moons",
      ds_blobs: "blobs",
      ds_multiblobs: "3 blobs (softmax)",
      ds_square: "x² on [−1, 1]",
      ds_inverse: "1/x on [1, 100]",
      ds_sin: "sin x on [0, 2π]",
      ds_log10: "log₁₀ x on [1, 10]",
      ds_expneg: "exp(−x) on [1, 10]",
      ds_csv: "CSV (uploaded)",
      classification: "classification",
      regression: "regression",
    },
    pt: {
      title: "laboratório",
      reset: "reiniciar os pesos",
      play: "treinar / pausar",
      step: "treinar alguns passos",
      steps_per_click: "passos por clique",
      epoch: "época",
      step_label: "passo",
      train_loss: "perda de treino",
      test_loss: "perda de teste",
      train_acc: "acurácia de treino",
      test_acc: "acurácia de teste",
      train_r2: "R² de treino",
      test_r2: "R² de teste",
      data: "Dados",
      dataset: "conjunto de dados",
      noise: "ruído",
      n_samples: "amostras",
      test_fraction: "fração de teste",
      seed: "semente",
      csv_upload: "enviar CSV",
      csv_hint: "CSV: x1[,x2],rótulo (ou alvo) — pode ter uma linha de cabeçalho.",
      click_hint: "Clique no gráfico para acrescentar um ponto (shift-clique: a outra classe).",
      network: "Rede",
      add_layer: "+ camada",
      remove_layer: "− camada",
      hidden_layers: "camadas ocultas",
      layer: "camada",
      units: "unidades",
      batch_norm: "BN",
      batch_norm_title: "normalização em lote",
      output_activation: "ativação de saída",
      init: "inicializador",
      optimizer: "otimizador",
      learning_rate: "taxa de aprendizado",
      batch_size: "tamanho do lote",
      l2: "L2",
      clip_norm: "recorte da norma",
      clip_value: "recorte do valor",
      loss: "perda",
      auto: "automática",
      decision_region: "Região de decisão",
      fitted_curve: "Curva ajustada",
      train: "treino",
      test: "teste",
      diagram: "Diagrama da rede",
      diagram_hint:
        "Cor = sinal (azul +, laranja −), espessura = |w|. Passe o mouse sobre um peso para ver o valor e o gradiente; clique nele (ou num neurônio, para o viés) para editar.",
      cancel: "cancelar",
      loss_curves: "Perda",
      log_scale: "(escala logarítmica)",
      grad_norms: "Norma do gradiente por camada (escala log.)",
      layer_health: "Unidades mortas e saturadas",
      dead: "mortas",
      saturated: "saturadas",
      doctor: "Médico dos gradientes",
      no_findings: "Nenhum diagnóstico.",
      share_export: "Compartilhar e exportar",
      copy_link: "copiar link",
      copied: "link copiado",
      export_model: "modelo (.mlplab)",
      export_history_csv: "histórico (CSV)",
      export_history_json: "histórico (JSON)",
      export_snippet: "código Python",
      download: "baixar",
      input: "entrada",
      output: "saída",
      weight: "peso",
      bias: "viés",
      gradient: "gradiente",
      edit_weight: "editar",
      steps: "passos",
      no_token: "Falta o token no endereço: abra o endereço indicado por `mlplab serve` (…/?token=…).",
      bad_hash: "A configuração do link foi rejeitada: ",
      csv_hash: "O link usava um CSV enviado; envie-o de novo.",
      csv_too_big: "O arquivo CSV é grande demais (limite: 512 KiB).",
      connection_lost: "Conexão perdida, reconectando…",
      error: "erro",
      kind_vanishing: "gradiente desaparecendo",
      kind_exploding: "gradiente explodindo",
      kind_dead: "unidades mortas",
      kind_saturated: "unidades saturadas",
      kind_saturation: "unidades saturadas",
      kind_healthy: "saudável",
      kind_nonfinite: "divergiu (NaN/inf)",
      remedy: "remédio",
      ds_and: "E (AND)",
      ds_xor: "OU exclusivo (XOR)",
      ds_circles: "círculos",
      ds_spiral: "espiral",
      ds_moons: "luas",
      ds_blobs: "nuvens",
      ds_multiblobs: "3 nuvens (softmax)",
      ds_square: "x² em [−1, 1]",
      ds_inverse: "1/x em [1, 100]",
      ds_sin: "sen x em [0, 2π]",
      ds_log10: "log₁₀ x em [1, 10]",
      ds_expneg: "exp(−x) em [1, 10]",
      ds_csv: "CSV (enviado)",
      classification: "classificação",
      regression: "regressão",
    },
  };

  // ------------------------------------------------------------------ state
  const state = {
    meta: null,
    id: null,
    config: null,
    frame: null, // the latest frame
    points: null, // the latest {train, test}, kept across frames without points
    running: false,
    lang: "en",
    ws: null,
    wsRetry: 0,
    queue: Promise.resolve(), // serialises config changes
    renderPending: false,
    netKey: null,
    net: null, // the diagram's elements, see buildNetwork
    plot: null, // mapping canvas pixels -> data units of the output plot
    seenFindings: new Set(),
    tipTarget: null,
    editTarget: null,
    lastMaps: 0,
  };
  window.mlplabPlayground = state; // handy from the console (and the tests)

  function t(key) {
    const table = I18N[state.lang] || I18N.en;
    return key in table ? table[key] : key in I18N.en ? I18N.en[key] : key;
  }

  // ------------------------------------------------------------------ status line
  function showStatus(msg, info) {
    const el = $("#status");
    el.textContent = msg || "";
    el.classList.toggle("info", !!info);
    if (state.statusTimer) clearTimeout(state.statusTimer);
    if (msg) state.statusTimer = setTimeout(() => (el.textContent = ""), info ? 3000 : 8000);
  }
  function showError(err) {
    const detail = err && err.detail !== undefined ? err.detail : err && err.message ? err.message : String(err);
    showStatus(typeof detail === "string" ? detail : JSON.stringify(detail));
  }

  // ------------------------------------------------------------------ the API
  class ApiError extends Error {
    constructor(status, detail) {
      super(typeof detail === "string" ? detail : JSON.stringify(detail));
      this.status = status;
      this.detail = detail;
    }
  }

  async function api(method, path, body) {
    const opts = { method, headers: { "X-Mlplab-Token": TOKEN } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    if (!res.ok) {
      let detail = res.statusText || String(res.status);
      try {
        const j = await res.json();
        if (j && j.detail !== undefined) detail = j.detail;
      } catch (e) {
        /* not JSON */
      }
      if (Array.isArray(detail)) detail = detail.map((d) => (d && d.msg) || JSON.stringify(d)).join("; ");
      throw new ApiError(res.status, detail);
    }
    return res;
  }
  async function apiJSON(method, path, body) {
    const res = await api(method, path, body);
    if (res.status === 204) return null;
    return res.json();
  }
  const sessionPath = (suffix) => `/api/sessions/${encodeURIComponent(state.id)}${suffix || ""}`;

  // ------------------------------------------------------------------ the URL hash
  function readHash() {
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
  function writeHash() {
    if (!state.config) return;
    const hash = "#config=" + encodeURIComponent(JSON.stringify(state.config));
    const url = window.location.pathname + window.location.search + hash;
    window.history.replaceState(null, "", url);
    // The shareable link carries the configuration, not this launch's token.
    const share = new URL(window.location.href);
    share.searchParams.delete("token");
    $("#share-url").value = share.toString();
  }

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

  // ------------------------------------------------------------------ controls <-> config
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

  function populateSelects() {
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

  function renderConfig(cfg) {
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

  function setConfig(cfg) {
    state.config = cfg;
    renderConfig(cfg);
    writeHash();
  }

  // Queue a partial config change (PUT), one at a time, in order.
  function putConfig(partial) {
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

  function bindControls() {
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

    $("#play").addEventListener("click", () => control(state.running ? "pause" : "play"));
    $("#step").addEventListener("click", () => {
      const n = clamp(Math.round(Number($("#steps-per-click").value) || 1), 1, 1000);
      control("step", n);
    });
    $("#reset").addEventListener("click", () => control("reset"));
    $("#lang-toggle").addEventListener("click", () => setLang(state.lang === "pt" ? "en" : "pt"));

    $("#csv-file").addEventListener("change", onCsvFile);
    $("#heatmap").addEventListener("click", onPlotClick);

    $("#share").addEventListener("click", copyShareLink);
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
    window.addEventListener("hashchange", onHashChange);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        state.netKey = null; // re-layout the diagram to the new width
        if (state.frame) scheduleRender();
      }, 150);
    });
  }

  async function onHashChange() {
    const cfg = readHash();
    if (!cfg || !state.config) return;
    if (JSON.stringify(cfg) === JSON.stringify(state.config)) return;
    putConfig(cfg);
  }

  // ------------------------------------------------------------------ training controls
  function setRunning(running) {
    state.running = !!running;
    const btn = $("#play");
    btn.classList.toggle("running", state.running);
    btn.dataset.running = String(state.running);
  }

  async function control(action, steps) {
    if (!state.id) return;
    const body = { action };
    if (steps !== undefined) body.steps = steps;
    try {
      const res = await apiJSON("POST", sessionPath("/control"), body);
      if (res && "running" in res) setRunning(res.running);
      if (res && res.frame) onFrame(res.frame);
    } catch (err) {
      showError(err);
      if (err.status === 404) recoverSession();
    }
  }

  // ------------------------------------------------------------------ data: CSV and clicks
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

  // ------------------------------------------------------------------ share and export
  async function copyShareLink() {
    writeHash();
    const input = $("#share-url");
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (e) {
      input.select();
      try {
        document.execCommand("copy");
      } catch (e2) {
        /* leave it selected */
      }
    }
    showStatus(t("copied"), true);
  }

  function saveBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function download(path, filename) {
    if (!state.id) return;
    try {
      const res = await api("GET", path);
      saveBlob(await res.blob(), filename);
    } catch (err) {
      showError(err);
    }
  }

  async function showSnippet() {
    if (!state.id) return;
    try {
      const res = await api("GET", sessionPath("/export/snippet"));
      const text = await res.text();
      const pre = $("#snippet");
      pre.textContent = text;
      pre.hidden = false;
      let link = $("#snippet-download");
      if (!link) {
        link = document.createElement("button");
        link.type = "button";
        link.id = "snippet-download";
        link.addEventListener("click", () =>
          saveBlob(new Blob([$("#snippet").textContent], { type: "text/x-python" }), "mlplab_playground.py")
        );
        pre.parentNode.insertBefore(link, pre);
      }
      link.textContent = `${t("download")} .py`;
    } catch (err) {
      showError(err);
    }
  }

  // ------------------------------------------------------------------ frames
  function onFrame(frame) {
    if (!frame || typeof frame !== "object") return;
    if (frame.points) state.points = frame.points;
    state.frame = frame;
    if ("running" in frame && typeof frame.running === "boolean") setRunning(frame.running);
    scheduleRender();
  }

  function scheduleRender() {
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

  // ------------------------------------------------------------------ output plot
  function probColor(p) {
    // P(class 1): orange (0) -> white (0.5) -> blue (1)
    const v = clamp(isNum(p) ? p : 0.5, 0, 1);
    return v < 0.5 ? mix(COLORS.neg, COLORS.white, v * 2) : mix(COLORS.white, COLORS.pos, (v - 0.5) * 2);
  }
  function classColor(k) {
    return COLORS.classes[Math.abs(Math.round(k)) % COLORS.classes.length];
  }

  const scratch = new Map(); // offscreen canvases by size, reused

  // Paint a {nx, ny, values} grid (row 0 = lowest y) into a canvas, y pointing up.
  function paintGrid(canvas, grid, colorOf, alpha) {
    const nx = grid.nx;
    const ny = grid.ny;
    const values = grid.values || [];
    const key = nx + "x" + ny;
    let src = scratch.get(key);
    if (!src) {
      src = document.createElement("canvas");
      src.width = nx;
      src.height = ny;
      scratch.set(key, src);
    }
    const sctx = src.getContext("2d");
    const img = sctx.createImageData(nx, ny);
    for (let r = 0; r < ny; r++) {
      const row = ny - 1 - r;
      for (let c = 0; c < nx; c++) {
        const col = colorOf(values[r * nx + c]);
        const o = (row * nx + c) * 4;
        img.data[o] = col[0];
        img.data[o + 1] = col[1];
        img.data[o + 2] = col[2];
        img.data[o + 3] = alpha === undefined ? 255 : alpha;
      }
    }
    sctx.putImageData(img, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = true;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
  }

  function pointXY(p, regression) {
    if (regression) return [p[0], p[p.length - 1]];
    return [p[0], p[1], p[2]];
  }

  function drawHeatmap(f) {
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

  function fmtTick(v) {
    if (!isNum(v)) return "";
    const a = Math.abs(v);
    if (a !== 0 && (a < 0.01 || a >= 1e4)) return v.toExponential(0);
    return String(Number(v.toPrecision(3)));
  }

  function niceTicks(lo, hi, n) {
    const span = hi - lo;
    if (!(span > 0)) return [lo];
    const step0 = span / (n || 5);
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const norm = step0 / mag;
    const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }

  function drawCurve(f) {
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

  // ------------------------------------------------------------------ network diagram
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

  function divergingColor(scale) {
    const s = scale > 0 ? scale : 1;
    return (v) => {
      const x = clamp((isNum(v) ? v : 0) / s, -1, 1);
      return x < 0 ? mix(COLORS.white, COLORS.neg, -x) : mix(COLORS.white, COLORS.pos, x);
    };
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

  function updateNetwork(f) {
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
  function closeEditor() {
    state.editTarget = null;
    $("#weight-editor").hidden = true;
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

  // ------------------------------------------------------------------ charts
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
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const v of niceTicks(xr[0], xr[1], 4)) {
      ctx.fillText(String(v), X(v), top + h + 3);
    }
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

  function drawLossChart(f) {
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

  function drawGradChart(f) {
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

  function renderHealth(f) {
    const tbody = $("#layer-health tbody");
    const dead = f.dead || [];
    const sat = f.saturated || [];
    const n = Math.max(dead.length, sat.length);
    if (tbody.children.length !== n) {
      tbody.textContent = "";
      for (let k = 0; k < n; k++) {
        const tr = document.createElement("tr");
        tr.append(document.createElement("td"), document.createElement("td"), document.createElement("td"));
        tbody.appendChild(tr);
      }
    }
    for (let k = 0; k < n; k++) {
      const tr = tbody.children[k];
      tr.dataset.layer = String(k);
      tr.children[0].textContent = (f.layer_names && f.layer_names[k]) || `${t("layer")} ${k + 1}`;
      for (const [cell, v] of [
        [tr.children[1], dead[k]],
        [tr.children[2], sat[k]],
      ]) {
        cell.textContent = "";
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = (isNum(v) ? Math.round(v * 40) : 0) + "px";
        cell.append(bar, isNum(v) ? `${Math.round(v * 100)}%` : "–");
        cell.classList.toggle("bad", isNum(v) && v >= 0.5);
      }
    }
  }

  function renderFindings(f) {
    const ul = $("#findings");
    const findings = f.findings || [];
    const key = JSON.stringify(findings) + state.lang;
    if (key === ul.dataset.key) return;
    ul.dataset.key = key;
    ul.textContent = "";
    if (!findings.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = t("no_findings");
      ul.appendChild(li);
      return;
    }
    const seen = new Set();
    for (const fd of findings) {
      const id = `${fd.kind}:${fd.layer}`;
      seen.add(id);
      const li = document.createElement("li");
      li.dataset.kind = String(fd.kind);
      if (fd.layer !== undefined && fd.layer !== null) li.dataset.layer = String(fd.layer);
      if (fd.kind === "healthy") li.classList.add("healthy");
      else if (!state.seenFindings.has(id)) li.classList.add("new");
      const kind = document.createElement("span");
      kind.className = "kind";
      const kindKey = "kind_" + fd.kind;
      const kindText = t(kindKey) === kindKey ? String(fd.kind) : t(kindKey);
      const where = fd.name ? fd.name : isNum(fd.layer) ? `${t("layer")} ${fd.layer + 1}` : "";
      kind.textContent = where ? `${kindText} (${where})` : kindText;
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = fd.detail ? ": " + fd.detail : "";
      li.append(kind, detail);
      if (fd.remedy) {
        const rem = document.createElement("span");
        rem.className = "remedy";
        rem.textContent = `${t("remedy")}: ${fd.remedy}`;
        li.appendChild(rem);
      }
      ul.appendChild(li);
    }
    state.seenFindings = seen;
  }

  // ------------------------------------------------------------------ the WebSocket
  function openSocket() {
    if (!state.id) return;
    const proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${proto}//${window.location.host}${sessionPath("/ws")}?token=${encodeURIComponent(TOKEN)}`;
    const ws = new WebSocket(url);
    state.ws = ws;
    ws.addEventListener("open", () => {
      state.wsRetry = 0;
    });
    ws.addEventListener("message", (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "frame") onFrame(msg);
      else if (msg.type === "error") {
        showError(msg);
        setRunning(false);
      } else if ("running" in msg) setRunning(msg.running);
      if (msg.type !== "frame" && msg.frame) onFrame(msg.frame);
    });
    ws.addEventListener("close", () => {
      if (state.ws !== ws) return;
      state.ws = null;
      if (state.leaving) return;
      state.wsRetry += 1;
      if (state.wsRetry > 1) showStatus(t("connection_lost"), true);
      setTimeout(recoverSession, Math.min(5000, 300 * state.wsRetry));
    });
  }

  async function recoverSession() {
    if (state.leaving || state.recovering) return;
    state.recovering = true;
    try {
      try {
        const res = await apiJSON("GET", sessionPath(""));
        if ("running" in res) setRunning(res.running);
        if (res.frame) onFrame(res.frame);
      } catch (err) {
        if (err.status !== 404) throw err;
        const cfg = Object.assign({}, state.config || {});
        if (cfg.dataset === "csv") delete cfg.dataset;
        const res = await apiJSON("POST", "/api/sessions", { config: cfg });
        state.id = res.id;
        setConfig(res.config);
        setRunning(false);
        onFrame(res.frame);
      }
      if (!state.ws) openSocket();
    } catch (err) {
      showError(err);
      if (!state.ws) setTimeout(recoverSession, 3000);
    } finally {
      state.recovering = false;
    }
  }

  // ------------------------------------------------------------------ start
  async function start() {
    state.lang = params.get("lang") === "pt" ? "pt" : params.get("lang") === "en" ? "en" : "en";
    bindControls();
    applyLang();
    if (!TOKEN) {
      showStatus(t("no_token"));
      return;
    }
    try {
      state.meta = await apiJSON("GET", "/api/meta");
    } catch (err) {
      showError(err);
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
    openSocket();
    window.addEventListener("pagehide", () => {
      // free the server-side session (sessions are capped); keepalive outlives the page
      state.leaving = true;
      if (state.ws) state.ws.close();
      if (state.id) {
        fetch(sessionPath(""), { method: "DELETE", headers: { "X-Mlplab-Token": TOKEN }, keepalive: true }).catch(
          () => {}
        );
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
