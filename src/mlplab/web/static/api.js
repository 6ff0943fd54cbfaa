/* mlplab playground: the client of the JSON API and of the session's WebSocket.
 *
 * The launch token comes from this page's own URL (?token=...) and goes in the X-Mlplab-Token
 * header (the WebSocket: ?token=, browsers cannot set its headers). docs/playground.md has the
 * routes and messages.
 */
import { state } from "./state.js";

export const params = new URLSearchParams(window.location.search);
export const TOKEN = params.get("token") || "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

export async function api(method, path, body) {
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
export async function apiJSON(method, path, body) {
  const res = await api(method, path, body);
  if (res.status === 204) return null;
  return res.json();
}
export const sessionPath = (suffix) => `/api/sessions/${encodeURIComponent(state.id)}${suffix || ""}`;

// The session's WebSocket: every JSON object it sends goes to onMessage(msg); onLost() is called
// when it closes (unless the page is leaving or a newer socket replaced it).
export function openSocket(onMessage, onLost) {
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
    onMessage(msg);
  });
  ws.addEventListener("close", () => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.leaving) return;
    onLost();
  });
}

// Free the server-side session (sessions are capped) as the page goes away: keepalive outlives
// the page.
export function releaseSession() {
  fetch(sessionPath(""), { method: "DELETE", headers: { "X-Mlplab-Token": TOKEN }, keepalive: true }).catch(
    () => {}
  );
}
