/* mlplab playground: the gradient doctor's findings and the dead/saturated units per layer. */
import { t } from "./i18n.js";
import { state } from "./state.js";
import { $, isNum } from "./util.js";

export function renderHealth(f) {
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

export function renderFindings(f) {
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
