"""What a session shows: its loss and metric, the doctor's reading, its history, and the frame.

:class:`Frames` is a part of :class:`mlplab.web.session.Session` kept in its own file:
Session inherits its methods, which read the session's data, network and history. The frame's
contract is docs/playground.md; beyond it:

* ``frame(points=None)``: ``points`` is included when the data changed since the last
  frame that carried it (auto), always with ``points=True`` (use it for the first frame
  of a client and for GET /api/sessions/{id}), never with ``points=False``.
  ``frame()["data_version"]`` increments whenever the data change.
* Layout: ``heatmap.values`` and node maps are row-major with
  row 0 at y = lo (the bottom: flip for a top-down canvas), x = lo first in a row.
  ``heatmap.values`` is P(class 1) in [0, 1] for two classes (also with two softmax
  outputs, loss "cce"), the predicted class index 0..k-1 for k > 2 (``heatmap.classes``
  = k). Node maps are raw node outputs (tanh in [-1, 1], relu unbounded: scale per map).
  For 1-input (regression) data, ``heatmap`` is null and each node map is
  ``{"nx": 16, "ny": 1, ...}`` over ``domain["x"]``; points are ``[x, target]``
  pairs, classification points ``[x1, x2, label]`` (labels 0..k-1). Extra keys:
  ``metric`` ("accuracy" or "r2"), ``classes``, ``domain`` ({"x": [lo, hi], "y": [lo,
  hi] | null}), ``resolved`` ({"loss", "output_activation"} after "auto"), ``error``,
  ``data_version``, ``n_params``, ``lang``, ``history.epoch``/``train_metric``/
  ``test_metric``. The frame's history is thinned to at most 200 points (the full one
  is in ``export_history``). Non-finite numbers are ``null``; ``test_loss`` and
  ``test_metric`` are null when ``test_fraction`` is 0. Losses exclude the L2 penalty.
* Size: a 2-8-8-1 frame is ~57 KiB of JSON (heatmap 2304 values, history 200 points);
  the largest network the limits allow (8 x 32 units) ~570 KiB (weights, gradients and
  256 node maps). ``frame()`` keeps points out unless the data changed.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
from scipy import special

from mlplab.clipping import norm_of
from mlplab.diagnostics import THRESHOLDS, find_problems, layer_stats
from mlplab.web.config import HEATMAP, NODE_MAP, as_choice

__all__ = ["Frames"]

HISTORY_IN_FRAME = 200
HISTORY_CAP = 5000


def _floats(a: Any, decimals: int | None = None) -> Any:
    """A (nested) list of floats for JSON; NaN/inf become None."""
    a = np.asarray(a, dtype=np.float64)
    if decimals is not None:
        a = np.round(a, decimals)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    obj = a.astype(object)
    obj[~finite] = None
    return obj.tolist()


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _thin_history(h: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The history thinned to at most ``HISTORY_IN_FRAME`` evenly spaced records."""
    m = len(h["step"])
    keep = (
        range(m)
        if m <= HISTORY_IN_FRAME
        else sorted(set(np.linspace(0, m - 1, HISTORY_IN_FRAME).round().astype(int).tolist()))
    )
    return {key: [values[i] for i in keep] for key, values in h.items()}


class Frames:
    """Evaluation, doctor's reading, history and frames of a Session (a mixin: only Session
    uses it)."""

    def _outputs(self, X: np.ndarray) -> np.ndarray:
        """Network outputs in inference mode, the output activation applied."""
        return self._net.forward_unchecked(X, False)

    def _proba(self, out: np.ndarray) -> np.ndarray:
        """(n, 1) P(class 1) or (n, k) class scores, from the activated outputs."""
        if self._n_out == 1:
            if self._out_act == "identity" and self._loss.name == "bce":
                return special.expit(out)
            return out
        if self._out_act == "identity" and self._loss.name == "cce":
            return special.softmax(out, axis=1)
        return out

    def _scores(self, X: np.ndarray, Y: np.ndarray, y: np.ndarray) -> tuple[float, float | None]:
        """(loss, metric) on a data set: accuracy or R²."""
        with np.errstate(all="ignore"):
            out = self._outputs(X)
            scores = self._net.layers[-1].z if self._fused else out
            value = self._loss.value(scores, Y)
            if self._data.task == "classification":
                p = self._proba(out)
                pred = (p[:, 0] > 0.5) if self._n_out == 1 else p.argmax(axis=1)
                metric = float(np.mean(pred == y))
            else:
                r = out[:, 0] - y
                ss = float(np.sum((y - y.mean()) ** 2))
                metric = 1.0 - float(np.dot(r, r)) / ss if ss > 0 else None
        return value, metric

    def _evaluate(self) -> dict[str, Any]:
        if self._eval_cache is not None and self._eval_cache[0] == self._version:
            return self._eval_cache[1]
        d = self._data
        loss, metric = self._scores(self._Xs_train, self._Y_train, d.y_train)
        if self._Y_test is not None:
            test_loss, test_metric = self._scores(self._Xs_test, self._Y_test, d.y_test)
        else:
            test_loss = test_metric = None
        res = {
            "loss": _num(loss),
            "test_loss": _num(test_loss),
            "train_metric": _num(metric),
            "test_metric": _num(test_metric),
        }
        self._eval_cache = (self._version, res)
        return res

    def _record(self) -> None:
        h = self._history
        ev = self._evaluate()
        h["step"].append(self._step)
        h["epoch"].append(round(self.epoch, 6))
        for key in ("loss", "test_loss", "train_metric", "test_metric"):
            h[key].append(ev[key])
        h["grad_norms"].append([_num(s["grad_norm_W"]) for s in self._stats])
        if len(h["step"]) > HISTORY_CAP:  # keep every other record (and the last)
            for key, values in h.items():
                h[key] = values[:-1:2] + values[-1:]

    # ------------------------------------------------------------------- frame
    def frame(self, points: bool | None = None) -> dict[str, Any]:
        """The JSON-able state for the page (see docs/playground.md)."""
        with self._lock:
            with self._threads():
                return self._frame(points)

    def _frame(self, points: bool | None) -> dict[str, Any]:
        d, net = self._data, self._net
        ev = self._evaluate()
        stats = self._stats
        findings = self._frame_findings()
        heatmap, curve, node_maps = self._frame_grid()
        pts = self._frame_points(points)
        history = _thin_history(self._history)
        xlo, xhi, ylo, yhi = d.domain
        units = [d.n_inputs, *(s["units"] for s in self._config["layers"]), self._n_out]
        return {
            "type": "frame",
            "step": self._step,
            "epoch": round(self.epoch, 6),
            "task": d.task,
            "metric": "accuracy" if d.task == "classification" else "r2",
            "classes": d.classes,
            **ev,
            "history": history,
            "grad_norms": [_num(s["grad_norm_W"]) for s in stats],
            "layer_names": list(self._names),
            "dead": [_num(s["dead_fraction"]) for s in stats[:-1]],
            "saturated": [_num(s["saturation"]) for s in stats[:-1]],
            "findings": findings,
            "weights": [_floats(layer.W) for layer in self._dense],
            "biases": [_floats(layer.b) for layer in self._dense],
            "weight_grads": [_floats(layer.dW) for layer in self._dense],
            "bias_grads": [_floats(layer.db) for layer in self._dense],
            "units": units,
            "n_params": net.n_params,
            "heatmap": heatmap,
            "node_maps": node_maps,
            "curve": curve,
            "points": pts,
            "domain": {"x": [xlo, xhi], "y": None if ylo is None else [ylo, yhi]},
            "resolved": {"loss": self._loss.name, "output_activation": self._out_act},
            "error": self._error,
            "data_version": self._data_version,
            "lang": self._config["lang"],
        }

    def _frame_findings(self) -> list[dict[str, Any]]:
        """The doctor's findings, each layer as its Dense index and name."""
        dense_of = self._dense_index
        return [
            {
                "kind": f.kind,
                "layer": None if f.layer is None else dense_of.get(f.layer),
                "name": (
                    self._names[dense_of[f.layer]]
                    if f.layer is not None and f.layer in dense_of
                    else ""
                ),
                "value": _num(f.value),
                "detail": f.detail,
                "remedy": f.remedy,
            }
            for f in self._findings
        ]

    def _frame_grid(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None, list[Any]]:
        """(heatmap, curve, node maps): one forward pass over the heatmap/curve grid and the
        node-map grid; heatmap None for 1 input, curve None for 2."""
        d = self._data
        with np.errstate(all="ignore"):
            out = self._outputs(self._grid)
            node_out = [layer.a[self._n_big :] for layer in self._hidden_out]
        nb = self._n_big
        heatmap = curve = None
        if d.n_inputs == 2:
            heatmap = self._heatmap(out[:nb])
            nx, ny = NODE_MAP, NODE_MAP
        else:
            curve = {"x": _floats(self._grid_x), "y": _floats(out[:nb, 0], 6)}
            nx, ny = NODE_MAP, 1
        node_maps = [
            [{"nx": nx, "ny": ny, "values": _floats(a[:, j], 3)} for j in range(a.shape[1])]
            for a in node_out
        ]
        return heatmap, curve, node_maps

    def _heatmap(self, out: np.ndarray) -> dict[str, Any]:
        """The heatmap of the outputs ``out`` on the heatmap grid (2 inputs)."""
        d = self._data
        xlo, xhi, ylo, yhi = d.domain
        p = self._proba(out)
        if self._n_out == 1:
            values = np.clip(p[:, 0], 0.0, 1.0)  # P(class 1)
        elif d.classes == 2:  # two softmax outputs: P(class 1) as well
            values = np.clip(p[:, 1], 0.0, 1.0)
        else:  # multiclass: the predicted class
            values = p.argmax(axis=1).astype(np.float64)
        return {
            "nx": HEATMAP,
            "ny": HEATMAP,
            "x": [xlo, xhi],
            "y": [ylo, yhi],
            "values": _floats(values, 4),
            "classes": d.classes,
        }

    def _frame_points(self, points: bool | None) -> dict[str, Any] | None:
        """The data points, when ``points`` says so (None: when the data changed since the
        last frame that carried them)."""
        d = self._data
        send_points = points if points is not None else self._points_sent != self._data_version
        pts = None
        if send_points:
            pts = {
                "train": _floats(np.c_[d.X_train, d.y_train], 6),
                "test": _floats(np.c_[d.X_test, d.y_test], 6) if d.y_test.size else [],
            }
            self._points_sent = self._data_version
        return pts

    # ---------------------------------------------------------- the doctor's reading
    def _probe(self) -> None:
        """Gradient and statistics on the whole training set, without a step."""
        net = self._net
        buffers = {k: v for k, v in net.state_dict().items() if "running" in k}
        with np.errstate(all="ignore"):
            net.loss_and_grad_unchecked(
                self._Xs_train, self._Y_train, self._loss, None, self._config["l2"], self._fused
            )
        if buffers:  # a probe must not move the batch-norm running statistics
            full = net.state_dict()
            full.update(buffers)
            net.load_state_dict(full)
        self._snapshot(self._Xs_train.shape[0])

    def _snapshot(self, rows: int) -> None:
        """The doctor's reading of the last backward pass (before any other forward)."""
        net = self._net
        stats = layer_stats(net)
        with np.errstate(all="ignore"):
            gnorm = norm_of(net.grad)
        th = THRESHOLDS
        if rows < 16:  # "dead for every sample" means little on a handful of rows
            th = {**THRESHOLDS, "dead_fraction": math.inf}
        found = find_problems(stats, gnorm, self._config["lang"], th)
        self._stats = stats
        self._findings = found
        self._grad_norm = gnorm

    # ----------------------------------------------------------------- history
    def export_history(self, fmt: str = "csv") -> str:
        """The training history as CSV or JSON text."""
        with self._lock:
            fmt = as_choice("format", fmt, ("csv", "json"))
            h = copy.deepcopy(self._history)
            names = list(self._names)
        if fmt == "json":
            return json.dumps({**h, "layer_names": names}, allow_nan=False)
        cols = ["step", "epoch", "loss", "test_loss", "train_metric", "test_metric"]
        header = cols + [f"grad_norm_{k + 1}" for k in range(len(names))]
        lines = [",".join(header)]
        for r in range(len(h["step"])):
            cells = [h[c][r] for c in cols] + list(h["grad_norms"][r])
            lines.append(",".join("" if v is None else repr(v) for v in cells))
        return "\n".join(lines) + "\n"
