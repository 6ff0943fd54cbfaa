/* mlplab playground: small helpers (DOM lookup, numbers and their formatting). */

export const $ = (sel) => document.querySelector(sel);
export const SVG_NS = "http://www.w3.org/2000/svg";

export const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
export const isNum = (v) => typeof v === "number" && Number.isFinite(v);

export function fmt(v, digits) {
  if (!isNum(v)) return "–";
  const d = digits === undefined ? 4 : digits;
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(d);
}
// A duration in seconds as "45 s", "2 min" or "1.5 h".
export function fmtSeconds(s) {
  if (!isNum(s)) return "–";
  if (s >= 3600 && s % 360 === 0) return `${s / 3600} h`;
  if (s >= 60 && s % 6 === 0) return `${s / 60} min`;
  return `${Number(s.toPrecision(3))} s`;
}
export const fmtExp = (v) => (isNum(v) ? v.toExponential(2) : "–");
export const names = (list) => (list || []).map((x) => (typeof x === "string" ? x : x && x.name)).filter(Boolean);

export function fmtTick(v) {
  if (!isNum(v)) return "";
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e4)) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

export function niceTicks(lo, hi, n) {
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
