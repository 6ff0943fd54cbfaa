/* mlplab playground: colours, and painting a value grid into a canvas. */
import { clamp, isNum } from "./util.js";

export const COLORS = {
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
export const rgb = (c, a) => (a === undefined ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${a})`);
export const mix = (a, b, t) => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

export function layerColor(idx, n) {
  const t = n <= 1 ? 0 : idx / (n - 1);
  return `hsl(${Math.round(265 - 235 * t)}, 65%, ${Math.round(38 + 10 * t)}%)`;
}

export function probColor(p) {
  // P(class 1): orange (0) -> white (0.5) -> blue (1)
  const v = clamp(isNum(p) ? p : 0.5, 0, 1);
  return v < 0.5 ? mix(COLORS.neg, COLORS.white, v * 2) : mix(COLORS.white, COLORS.pos, (v - 0.5) * 2);
}
export function classColor(k) {
  return COLORS.classes[Math.abs(Math.round(k)) % COLORS.classes.length];
}

const scratch = new Map(); // offscreen canvases by size, reused

// Paint a {nx, ny, values} grid (row 0 = lowest y) into a canvas, y pointing up.
export function paintGrid(canvas, grid, colorOf, alpha) {
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

export function divergingColor(scale) {
  const s = scale > 0 ? scale : 1;
  return (v) => {
    const x = clamp((isNum(v) ? v : 0) / s, -1, 1);
    return x < 0 ? mix(COLORS.white, COLORS.neg, -x) : mix(COLORS.white, COLORS.pos, x);
  };
}
