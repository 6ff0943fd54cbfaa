/* mlplab playground: the status line (errors and short notices). */
import { state } from "./state.js";
import { $ } from "./util.js";

// A notice fades after a few seconds, unless `sticky`: then it stays until the next one (or
// clearSticky(), on the next successful control) -- used for why training stopped.
export function showStatus(msg, info, sticky) {
  const el = $("#status");
  el.textContent = msg || "";
  el.classList.toggle("info", !!info);
  el.dataset.sticky = sticky && msg ? "true" : "false";
  if (state.statusTimer) clearTimeout(state.statusTimer);
  state.statusTimer = null;
  if (msg && !sticky) state.statusTimer = setTimeout(() => (el.textContent = ""), info ? 3000 : 8000);
}
export function clearSticky() {
  if ($("#status").dataset.sticky === "true") showStatus("");
}
export function showError(err) {
  const detail = err && err.detail !== undefined ? err.detail : err && err.message ? err.message : String(err);
  showStatus(typeof detail === "string" ? detail : JSON.stringify(detail));
}
