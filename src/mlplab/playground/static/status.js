/* mlplab playground: the status line (errors and short notices). */
import { state } from "./state.js";
import { $ } from "./util.js";

export function showStatus(msg, info) {
  const el = $("#status");
  el.textContent = msg || "";
  el.classList.toggle("info", !!info);
  if (state.statusTimer) clearTimeout(state.statusTimer);
  if (msg) state.statusTimer = setTimeout(() => (el.textContent = ""), info ? 3000 : 8000);
}
export function showError(err) {
  const detail = err && err.detail !== undefined ? err.detail : err && err.message ? err.message : String(err);
  showStatus(typeof detail === "string" ? detail : JSON.stringify(detail));
}
