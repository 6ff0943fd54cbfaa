"""One playground session: data, network, training steps, frames and exports (no web code).

Notes for the authors of server.py and the page (the contract is docs/playground.md):

* Errors. Every bad input raises :class:`ConfigError` (a ``ValueError``) whose message
  names the field and the value received -> HTTP 422 / WebSocket ``{"type": "error"}``.
  ``err.field`` holds the field name. :class:`TooLargeError` (a ConfigError) is raised
  only by ``load_csv`` when the text exceeds ``LIMITS["csv_bytes"]`` -> HTTP 413.
  A failed ``apply``/``load_csv``/``add_point`` leaves the session unchanged.
* ``LIMITS`` keys: ``hidden_layers`` 8, ``units`` 32, ``parameters`` 1e6, ``n_samples``
  5000 (CSV rows and clicked points too), ``csv_bytes`` 512 KiB, ``steps_per_request``
  1000, ``epochs`` 100 000, ``running_sessions`` 32, ``sessions`` 64. The last two are
  the server's to enforce; ``Session(..., limits={...})`` overrides any of the others.
  ``meta()`` returns the choices and limits for ``GET /api/meta`` (add lang, version).
* Threads. Every public method takes the session's own lock, so a training chunk running
  in a worker thread and a config change arriving on the event loop never interleave.
  ``step(n)`` for a 2-8-8-1 net on 500 points takes well under a millisecond per step;
  ``frame()`` about a millisecond (see benchmarks/bench_playground.py).
* Config. ``default_config()`` has every key of the contract plus ``"lang"`` ("en"/"pt",
  the language of the doctor's findings). Unknown keys are rejected. Layers: at most 8
  dicts ``{"units", "activation", "batch_norm"}`` (missing keys: 4, "tanh", false).
  Changing data keys (dataset, noise, n_samples, test_fraction, seed) or network keys
  (layers, output_activation, init, loss, seed) rebuilds and re-initialises the network
  and clears the history; optimizer, learning_rate, batch_size, l2, clip_norm,
  clip_value and lang apply on the fly (a new optimizer starts with a fresh state).
  ``apply({"dataset": "csv"})`` works only after a ``load_csv``. When a new dataset (or
  CSV) is of the other task and the explicit loss/output_activation do not fit it, both
  fall back to "auto" (read them back from ``config``/``frame()["resolved"]``).
* Limits while training: ``step(n)`` with n > 1000 raises ConfigError (field "steps");
  training stops at ``LIMITS["epochs"]`` full epochs and the next ``step()`` raises
  ConfigError (field "epochs") until ``reset()``.
* Divergence. When a mini-batch gives a non-finite loss or gradient, the weights of the
  last finite step are restored, training stops there and ``frame()["error"]`` holds
  the message (plus a finding of kind "nonfinite"). That ``step()`` call returns normally
  (send its frame: it shows the error); the *next* ``step()`` raises
  :class:`DivergedError` (a ConfigError, field "training") until ``reset()``,
  ``apply(...)`` or ``set_weight(...)``, so a play loop that pauses on exceptions stops
  there by itself (or pause as soon as ``frame()["error"]`` is not null).
* ``frame(points=None)``: ``points`` is included when the data changed since the last
  frame that carried it (auto), always with ``points=True`` (use it for the first frame
  of a client and for GET /api/sessions/{id}), never with ``points=False``.
  ``frame()["data_version"]`` increments whenever the data change.
* Frame layout beyond the contract: ``heatmap.values`` and node maps are row-major with
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
* ``weights[l][i][j]``: Dense layer l (0 = first hidden, last = output), from input i
  (node i of the layer before) to node j; ``biases[l][j]``. ``set_weight(l, i, j, v)``
  uses the same indices (i = -1: bias), |v| <= 1000.
* ``add_point(x, y, label)``: classification: a point (x, y) of class ``label``
  (0..k-1); regression: input x, target y (``label`` ignored). Points are in the plot's
  original units and join the training set; the network is kept.
* CSV: 3 columns (x1, x2, integer class label; labels are mapped to 0..k-1 in sorted
  order, 2 to 10 classes) or 2 columns (x, numeric target: regression). A header line
  is optional; delimiter comma, semicolon, tab or spaces; '#' lines are skipped.
* Size: a 2-8-8-1 frame is ~57 KiB of JSON (heatmap 2304 values, history 200 points);
  the largest network the limits allow (8 x 32 units) ~570 KiB (weights, gradients and
  256 node maps). ``frame()`` keeps points out unless the data changed.
* ``export_model()`` folds the input standardisation into the first Dense layer: the
  loaded network takes inputs in the plot's original units.
* ``export_snippet(epochs=None)`` runs on its own with mlplab, numpy (and scikit-learn
  for "moons"); with unedited weights it reproduces the session's training steps
  exactly (same data, split, init, mini-batch order), ``epochs`` defaults to the
  session's epochs so far.
"""

from __future__ import annotations

import copy
import inspect
import json
import math
import numbers
import os
import tempfile
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

import mlplab
from mlplab._blas import one_blas_thread
from mlplab.activations import ACTIVATIONS
from mlplab.clipping import clip_, norm_of
from mlplab.diagnostics import REMEDIES, THRESHOLDS, Finding, find_problems, layer_stats
from mlplab.initializers import INITIALIZERS
from mlplab.layers import ActivationLayer, BatchNorm, Dense, PReLU
from mlplab.losses import get_loss
from mlplab.network import first_nonfinite
from mlplab.optimizers import SOLVER_NAMES, get_optimizer

__all__ = [
    "ConfigError",
    "DATASETS",
    "DivergedError",
    "LIMITS",
    "Session",
    "TooLargeError",
    "default_config",
    "meta",
]


# ------------------------------------------------------------------ errors, limits, choices
class ConfigError(ValueError):
    """A bad config or input; the message names the field and the value received."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooLargeError(ConfigError):
    """The CSV text is over ``LIMITS["csv_bytes"]`` (the server answers 413)."""


class DivergedError(ConfigError):
    """``step()`` on a session whose training diverged (until apply/set_weight/reset)."""


LIMITS: dict[str, int] = {
    "hidden_layers": 8,
    "units": 32,
    "parameters": 1_000_000,
    "n_samples": 5000,
    "csv_bytes": 512 * 1024,
    "steps_per_request": 1000,
    "epochs": 100_000,
    "running_sessions": 32,
    "sessions": 64,
}

#: name -> what the page needs to know about a dataset
DATASETS: dict[str, dict[str, Any]] = {
    "and": {"task": "classification", "inputs": 2, "classes": 2, "title": "AND gate"},
    "xor": {"task": "classification", "inputs": 2, "classes": 2, "title": "XOR gate"},
    "circles": {"task": "classification", "inputs": 2, "classes": 2, "title": "circles"},
    "spiral": {"task": "classification", "inputs": 2, "classes": 2, "title": "two spirals"},
    "moons": {"task": "classification", "inputs": 2, "classes": 2, "title": "two moons"},
    "blobs": {"task": "classification", "inputs": 2, "classes": 2, "title": "two blobs"},
    "multiblobs": {"task": "classification", "inputs": 2, "classes": 3, "title": "three blobs"},
    "square": {"task": "regression", "inputs": 1, "classes": 0, "title": "x² on [-1, 1]"},
    "inverse": {"task": "regression", "inputs": 1, "classes": 0, "title": "1/x on [1, 100]"},
    "sin": {"task": "regression", "inputs": 1, "classes": 0, "title": "sin x on [0, 2π]"},
    "log10": {"task": "regression", "inputs": 1, "classes": 0, "title": "log10 x on [1, 10]"},
    "expneg": {"task": "regression", "inputs": 1, "classes": 0, "title": "exp(-x) on [1, 10]"},
    "csv": {"task": "from the file", "inputs": None, "classes": None, "title": "uploaded CSV"},
}

ACTIVATION_NAMES = tuple(name for name in ACTIVATIONS if name != "step")
INITIALIZER_NAMES = tuple(INITIALIZERS)
OPTIMIZER_NAMES = tuple(name for name in SOLVER_NAMES if name not in ("lbfgs", "gd"))
LOSS_NAMES = ("auto", "bce", "cce", "mse")
LANGS = ("en", "pt")

MAX_LEARNING_RATE = 1000.0
MAX_NOISE = 2.0
MAX_L2 = 100.0
MAX_WEIGHT = 1000.0
MAX_COORD = 1e9
MIN_SAMPLES = 10
MAX_CLASSES = 10
HEATMAP = 48
NODE_MAP = 16
CURVE = 200
HISTORY_IN_FRAME = 200
HISTORY_CAP = 5000
BLAS_ONE_THREAD_WORK = 2_000_000  # parameters x rows evaluated per frame

_DATA_KEYS = ("dataset", "noise", "n_samples", "test_fraction", "seed")
_NET_KEYS = ("layers", "output_activation", "init", "loss", "seed")


def default_config() -> dict[str, Any]:
    """Every config key with its default (a fresh copy)."""
    return {
        "dataset": "xor",
        "noise": 0.1,
        "n_samples": 500,
        "test_fraction": 0.3,
        "layers": [
            {"units": 4, "activation": "tanh", "batch_norm": False},
            {"units": 4, "activation": "tanh", "batch_norm": False},
        ],
        "output_activation": "auto",
        "init": "glorot_uniform",
        "optimizer": "adam",
        "learning_rate": 0.03,
        "batch_size": 32,
        "l2": 0.0,
        "clip_norm": None,
        "clip_value": None,
        "loss": "auto",
        "seed": 0,
        "lang": "en",
    }


def meta(limits: dict[str, int] | None = None) -> dict[str, Any]:
    """The choices and limits the page offers (``GET /api/meta`` adds lang and version)."""
    return {
        "activations": list(ACTIVATION_NAMES),
        "output_activations": ["auto", *ACTIVATION_NAMES],
        "initializers": list(INITIALIZER_NAMES),
        "optimizers": list(OPTIMIZER_NAMES),
        "losses": list(LOSS_NAMES),
        "datasets": copy.deepcopy(DATASETS),
        "limits": {**LIMITS, **(limits or {})},
        "defaults": default_config(),
    }


# ------------------------------------------------------------------------------- datasets
# The generators below are plain numpy functions: export_snippet copies their source into
# the snippet, so the snippet rebuilds exactly the same data.


def spiral(n_samples, noise, seed):
    """Two interleaved spirals of 1.5 turns (radius 0.05 to 1), Gaussian noise 0.2 * noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    r = rng.uniform(0.05, 1.0, n_samples)
    t = 3 * np.pi * r + np.pi * y  # the second arm is the first one turned by 180 degrees
    X = np.c_[r * np.cos(t), r * np.sin(t)]
    X += 0.2 * noise * rng.standard_normal(X.shape)
    return X, y


def moons(n_samples, noise, seed):
    """scikit-learn's two interleaving half circles, Gaussian noise of std ``noise``."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def blobs(n_samples, noise, seed, classes=2):
    """``classes`` Gaussian blobs (std 0.3 + noise) centred on a circle of radius 1.5."""
    rng = np.random.default_rng(seed)
    angles = np.pi / 4 + 2 * np.pi * np.arange(classes) / classes
    centres = 1.5 * np.c_[np.cos(angles), np.sin(angles)]
    y = np.arange(n_samples) % classes
    rng.shuffle(y)
    X = centres[y] + (0.3 + noise) * rng.standard_normal((n_samples, 2))
    return X, y


def function_data(name, n_samples, noise, seed):
    """A lecture function on its interval (linspace), targets + noise * std(y) * N(0, 1)."""
    X, y = mlplab.datasets.function(name, n_samples)
    if noise > 0:
        rng = np.random.default_rng(seed)
        y = y + noise * y.std() * rng.standard_normal(y.shape)
    return X, y


def split_data(X, y, test_fraction, seed):
    """A seeded random split: round(test_fraction * n) test samples, the rest for training."""
    n = X.shape[0]
    perm = np.random.default_rng([seed, 1]).permutation(n)
    n_test = min(int(round(test_fraction * n)), n - 1)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return X[train], y[train], X[test], y[test]


_FUNCTIONS = {"square": "x2", "inverse": "inv", "sin": "sin", "log10": "log10", "expneg": "exp"}


def _generate(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if name in ("and", "xor"):
        return mlplab.datasets.logic_gate(name, n_samples=n, noise=noise, seed=seed)
    if name == "circles":
        return mlplab.datasets.circles(n_samples=n, noise=noise, factor=0.5, seed=seed)
    if name == "spiral":
        return spiral(n, noise, seed)
    if name == "moons":
        return moons(n, noise, seed)
    if name in ("blobs", "multiblobs"):
        return blobs(n, noise, seed, classes=3 if name == "multiblobs" else 2)
    return function_data(_FUNCTIONS[name], n, noise, seed)


def _generate_source(cfg: dict[str, Any]) -> tuple[list[Any], str]:
    """(helper functions, the call) that rebuild ``_generate``'s X, y in the snippet."""
    name, n, noise = cfg["dataset"], cfg["n_samples"], cfg["noise"]
    if name in ("and", "xor"):
        call = f'mlplab.datasets.logic_gate("{name}", n_samples={n}, noise={noise!r}, seed=SEED)'
        return [], call
    if name == "circles":
        call = f"mlplab.datasets.circles(n_samples={n}, noise={noise!r}, factor=0.5, seed=SEED)"
        return [], call
    if name in ("spiral", "moons"):
        return [spiral if name == "spiral" else moons], f"{name}({n}, {noise!r}, SEED)"
    if name in ("blobs", "multiblobs"):
        k = 3 if name == "multiblobs" else 2
        return [blobs], f"blobs({n}, {noise!r}, SEED, classes={k})"
    return [function_data], f'function_data("{_FUNCTIONS[name]}", {n}, {noise!r}, SEED)'


# ------------------------------------------------------------------------------ validation
def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(field: str, what: str, value: Any) -> ConfigError:
    return ConfigError(f"{field} must be {what}; received {_show(value)}.", field)


def _number(
    field: str,
    value: Any,
    lo: float,
    hi: float,
    *,
    lo_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    if value is None and allow_none:
        return None
    bracket = "(" if lo_open else "["
    what = f"a number in {bracket}{lo:g}, {hi:g}]" + (" or null" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(field, what, value)
    v = float(value)
    if not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo):
        raise _fail(field, what, value)
    return v


def _integer(field: str, value: Any, lo: int, hi: int) -> int:
    what = f"an integer in {lo}..{hi}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(field, what, value)
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        v = int(value)
    else:
        raise _fail(field, what, value)
    if not lo <= v <= hi:
        raise _fail(field, what, value)
    return v


def _choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise _fail(field, "one of " + ", ".join(repr(c) for c in choices), value)
    return value


def _validate(cfg: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
    """A complete, normalised copy of ``cfg`` (every key present), or ConfigError."""
    out: dict[str, Any] = {}
    out["dataset"] = _choice("dataset", cfg["dataset"], tuple(DATASETS))
    out["noise"] = _number("noise", cfg["noise"], 0.0, MAX_NOISE)
    out["n_samples"] = _integer("n_samples", cfg["n_samples"], MIN_SAMPLES, limits["n_samples"])
    out["test_fraction"] = _number("test_fraction", cfg["test_fraction"], 0.0, 0.9)
    layers = cfg["layers"]
    if not isinstance(layers, (list, tuple)):
        raise _fail("layers", "a list of hidden layers", layers)
    if len(layers) > limits["hidden_layers"]:
        raise ConfigError(
            f"layers: at most {limits['hidden_layers']} hidden layers; received {len(layers)}.",
            "layers",
        )
    norm_layers = []
    for k, spec in enumerate(layers):
        where = f"layers[{k}]"
        if not isinstance(spec, dict):
            raise _fail(where, "an object {units, activation, batch_norm}", spec)
        extra = sorted(set(spec) - {"units", "activation", "batch_norm"})
        if extra:
            raise ConfigError(
                f"{where}: unknown key {extra[0]!r} (expected units, activation, batch_norm).",
                where,
            )
        units = _integer(f"{where}.units", spec.get("units", 4), 1, limits["units"])
        act = _choice(f"{where}.activation", spec.get("activation", "tanh"), ACTIVATION_NAMES)
        bn = spec.get("batch_norm", False)
        if not isinstance(bn, bool):
            raise _fail(f"{where}.batch_norm", "true or false", bn)
        norm_layers.append({"units": units, "activation": act, "batch_norm": bn})
    out["layers"] = norm_layers
    out["output_activation"] = _choice(
        "output_activation", cfg["output_activation"], ("auto", *ACTIVATION_NAMES)
    )
    out["init"] = _choice("init", cfg["init"], INITIALIZER_NAMES)
    out["optimizer"] = _choice("optimizer", cfg["optimizer"], OPTIMIZER_NAMES)
    out["learning_rate"] = _number(
        "learning_rate", cfg["learning_rate"], 0.0, MAX_LEARNING_RATE, lo_open=True
    )
    out["batch_size"] = _integer("batch_size", cfg["batch_size"], 1, limits["n_samples"])
    out["l2"] = _number("l2", cfg["l2"], 0.0, MAX_L2)
    out["clip_norm"] = _number(
        "clip_norm", cfg["clip_norm"], 0.0, 1e6, lo_open=True, allow_none=True
    )
    out["clip_value"] = _number(
        "clip_value", cfg["clip_value"], 0.0, 1e6, lo_open=True, allow_none=True
    )
    out["loss"] = _choice("loss", cfg["loss"], LOSS_NAMES)
    out["seed"] = _integer("seed", cfg["seed"], 0, 2**32 - 1)
    out["lang"] = _choice("lang", cfg["lang"], LANGS)
    return out


# ----------------------------------------------------------------------------------- CSV
def parse_csv(
    text: Any, limits: dict[str, int] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Parse CSV text into (X, y, classes): classes 0 for 2 columns (regression), else k."""
    lim = {**LIMITS, **(limits or {})}
    if not isinstance(text, str):
        raise _fail("csv", "text", text)
    size = len(text.encode("utf-8"))
    if size > lim["csv_bytes"]:
        raise TooLargeError(
            f"csv: the text is {size} bytes; the limit is {lim['csv_bytes']} bytes "
            f"({lim['csv_bytes'] // 1024} KiB).",
            "csv",
        )
    lines = [
        (no, line.strip())
        for no, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise ConfigError("csv: no data rows (the text is empty).", "csv")
    first = lines[0][1]
    delim = next((d for d in (",", ";", "\t") if d in first), None)

    def cells(line: str) -> list[str]:
        return [c.strip() for c in (line.split(delim) if delim else line.split())]

    def numeric(cs: list[str]) -> bool:
        try:
            [float(c) for c in cs]
        except ValueError:
            return False
        return True

    if not numeric(cells(first)):
        lines = lines[1:]  # a header
        if not lines:
            raise ConfigError("csv: a header but no data rows.", "csv")
    if len(lines) > lim["n_samples"]:
        raise ConfigError(f"csv: {len(lines)} rows; the limit is {lim['n_samples']} rows.", "csv")
    rows = [cells(line) for _, line in lines]
    ncol = len(rows[0])
    if ncol not in (2, 3):
        raise ConfigError(
            f"csv: 2 columns (x, target) or 3 columns (x1, x2, label) expected; line "
            f"{lines[0][0]} has {ncol}: {_show(lines[0][1])}.",
            "csv",
        )
    for (no, line), cs in zip(lines, rows, strict=True):
        if len(cs) != ncol:
            raise ConfigError(
                f"csv: line {no} has {len(cs)} columns, expected {ncol}: {_show(line)}.", "csv"
            )
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError:
        data = None
    if data is None or not np.isfinite(data).all() or (np.abs(data) > MAX_COORD).any():
        for (no, _), cs in zip(lines, rows, strict=True):  # find the first bad cell
            for col, c in enumerate(cs, start=1):
                try:
                    v = float(c)
                except ValueError:
                    raise ConfigError(
                        f"csv: line {no}, column {col}: {_show(c)} is not a number.", "csv"
                    ) from None
                if not math.isfinite(v) or abs(v) > MAX_COORD:
                    raise ConfigError(
                        f"csv: line {no}, column {col}: {_show(c)} is not a finite number "
                        f"with |value| <= {MAX_COORD:g}.",
                        "csv",
                    )
    if data is None:  # numpy refused a spelling Python's float() accepts (e.g. "1_000")
        data = np.array([[float(c) for c in cs] for cs in rows], dtype=np.float64)
    if data.shape[0] < 4:
        raise ConfigError(f"csv: at least 4 data rows needed; received {data.shape[0]}.", "csv")
    X, t = data[:, :-1], data[:, -1]
    if ncol == 2:
        return np.ascontiguousarray(X), t.copy(), 0
    bad = np.flatnonzero(t != np.round(t))
    if bad.size:
        no = lines[int(bad[0])][0]
        raise ConfigError(
            f"csv: with 3 columns the last one holds class labels (integers); line {no} "
            f"has {t[bad[0]]:g}.",
            "csv",
        )
    values, labels = np.unique(t, return_inverse=True)
    if not 2 <= values.size <= MAX_CLASSES:
        raise ConfigError(
            f"csv: 2 to {MAX_CLASSES} classes expected in the label column; received "
            f"{values.size} ({_show([int(v) for v in values[:12]])}).",
            "csv",
        )
    return np.ascontiguousarray(X), labels.astype(np.int64), int(values.size)


# ------------------------------------------------------------------------- internal state
@dataclass
class _Data:
    task: str  # "classification" | "regression"
    classes: int  # 0 for regression
    X_train: np.ndarray  # original units
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    pristine: bool  # exactly what the generator (or the CSV + split) gives
    domain: tuple[float, float, float | None, float | None]

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]


def _domain(X: np.ndarray) -> tuple[float, float, float | None, float | None]:
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    if X.shape[1] == 1:
        return float(lo[0]), float(hi[0]), None, None
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


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


def _q(text: str) -> str:
    """A string literal for the snippet, in double quotes."""
    return json.dumps(text)


def _num(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# --------------------------------------------------------------------------------- session
class Session:
    """One playground run: data, an mlplab network, its training steps, frames, exports.

    ``Session(config=None, seed=0)``: ``config`` overrides ``default_config()`` (``seed``
    is the default of its "seed" key). Raises ConfigError on a bad config.
    """

    def __init__(
        self,
        config: dict[str, Any] | None = None,
        seed: int = 0,
        *,
        limits: dict[str, int] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.limits = {**LIMITS, **(limits or {})}
        self._csv: tuple[np.ndarray, np.ndarray, int] | None = None
        self._data_version = 0
        self._points_sent = -1
        self._edited = False
        base = default_config()
        base["seed"] = seed
        if config is not None and not isinstance(config, dict):
            raise _fail("config", "an object", config)
        cfg = _validate(self._merge(base, config or {}), self.limits)
        data = self._make_data(cfg)
        built = self._make_net(cfg, data)
        self._config = cfg
        self._commit_data(data)
        self._commit_net(built)

    # ------------------------------------------------------------------ config
    @property
    def config(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._config)

    @staticmethod
    def _merge(base: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(partial) - set(base))
        if unknown:
            raise ConfigError(
                f"unknown config key {unknown[0]!r}; expected one of "
                + ", ".join(sorted(base))
                + ".",
                unknown[0],
            )
        return {**base, **partial}

    def apply(self, config: dict[str, Any]) -> None:
        """Change some config keys; rebuild data and/or network as needed (atomic)."""
        with self._lock:
            if not isinstance(config, dict):
                raise _fail("config", "an object", config)
            new = _validate(self._merge(self._config, config), self.limits)
            changed = {k for k in new if new[k] != self._config[k]}
            data = None
            if changed & set(_DATA_KEYS):
                data = self._make_data(new)
            built = None
            if data is not None or changed & set(_NET_KEYS):
                try:
                    built = self._make_net(new, data or self._data)
                except ConfigError as exc:
                    # a new dataset of another task: let "auto" pick its loss and output
                    if not (
                        "dataset" in changed
                        and exc.field in ("loss", "output_activation")
                        and not {"loss", "output_activation"} & set(config)
                    ):
                        raise
                    new = {**new, "loss": "auto", "output_activation": "auto"}
                    built = self._make_net(new, data or self._data)
            # everything is valid: commit
            old = self._config
            self._config = new
            self._error = None
            if data is not None:
                self._commit_data(data)
            if built is not None:
                self._commit_net(built)
                return
            if new["optimizer"] != old["optimizer"]:
                self._opt = get_optimizer(new["optimizer"], new["learning_rate"])
            elif new["learning_rate"] != old["learning_rate"]:
                self._opt.learning_rate = self._opt.initial_learning_rate = new["learning_rate"]
            if new["batch_size"] != old["batch_size"]:
                self._order_state = None  # a new epoch with the new batch size
            if new["lang"] != old["lang"] or new["l2"] != old["l2"]:
                self._probe()

    # -------------------------------------------------------------------- data
    def _make_data(self, cfg: dict[str, Any]) -> _Data:
        name = cfg["dataset"]
        pristine = True
        if name == "csv":
            if self._csv is None:
                raise ConfigError(
                    "dataset: 'csv' needs an uploaded CSV first (load_csv); received 'csv'.",
                    "dataset",
                )
            X, y, classes = self._csv
        else:
            X, y = _generate(name, cfg["n_samples"], cfg["noise"], cfg["seed"])
            classes = DATASETS[name]["classes"]
        X = np.ascontiguousarray(X, dtype=np.float64)
        Xtr, ytr, Xte, yte = split_data(X, y, cfg["test_fraction"], cfg["seed"])
        mean = Xtr.mean(axis=0)
        std = Xtr.std(axis=0)
        std[std == 0] = 1.0
        return _Data(
            task="classification" if classes else "regression",
            classes=classes,
            X_train=Xtr,
            y_train=ytr,
            X_test=Xte,
            y_test=yte,
            mean=mean,
            std=std,
            pristine=pristine,
            domain=_domain(X),
        )

    def _commit_data(self, data: _Data) -> None:
        self._data = data
        self._data_version += 1
        self._make_grid()

    def _make_grid(self) -> None:
        d = self._data
        xlo, xhi, ylo, yhi = d.domain
        if d.n_inputs == 2:
            xs, ys = np.linspace(xlo, xhi, HEATMAP), np.linspace(ylo, yhi, HEATMAP)
            big = np.stack([a.ravel() for a in np.meshgrid(xs, ys)], axis=1)
            xs, ys = np.linspace(xlo, xhi, NODE_MAP), np.linspace(ylo, yhi, NODE_MAP)
            small = np.stack([a.ravel() for a in np.meshgrid(xs, ys)], axis=1)
        else:
            big = np.linspace(xlo, xhi, CURVE).reshape(-1, 1)
            small = np.linspace(xlo, xhi, NODE_MAP).reshape(-1, 1)
        self._grid_x = big[:, 0]
        self._n_big = big.shape[0]
        self._grid = self._scale(np.concatenate([big, small]))

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((X - self._data.mean) / self._data.std)

    # ----------------------------------------------------------------- network
    def _make_net(self, cfg: dict[str, Any], data: _Data) -> dict[str, Any]:
        task, k = data.task, data.classes
        loss = cfg["loss"]
        out_act = cfg["output_activation"]
        if task == "regression":
            if loss not in ("auto", "mse"):
                raise ConfigError(
                    f"loss: {loss!r} is for classification; this dataset is a regression "
                    "(use 'mse' or 'auto').",
                    "loss",
                )
            loss = "mse"
            n_out = 1
            out_act = "identity" if out_act == "auto" else out_act
        else:
            if loss == "auto":
                loss = "cce" if k > 2 or out_act == "softmax" else "bce"
            if loss == "bce" and k > 2:
                raise ConfigError(
                    f"loss: 'bce' is for 2 classes; the data have {k} (use 'cce' or 'auto').",
                    "loss",
                )
            n_out = k if (loss == "cce" or (loss == "mse" and k > 2)) else 1
            if out_act == "auto":
                out_act = "softmax" if n_out > 1 else "logistic"
        if out_act == "softmax" and n_out == 1:
            raise ConfigError(
                "output_activation: 'softmax' needs one output per class; with a single "
                "output (this loss) use 'logistic' or 'identity'.",
                "output_activation",
            )
        n_params, n_in = 0, data.n_inputs  # counted before any allocation
        for units in [*(spec["units"] for spec in cfg["layers"]), n_out]:
            n_params += (n_in + 1) * units + 2 * units  # W, b (+ BN or PReLU parameters)
            n_in = units
        if n_params > self.limits["parameters"]:
            raise ConfigError(
                f"layers: the network has about {n_params} parameters; the limit is "
                f"{self.limits['parameters']}.",
                "layers",
            )
        layers: list[Any] = []
        for spec in cfg["layers"]:
            units, act = spec["units"], spec["activation"]
            if spec["batch_norm"]:
                layers += [Dense(units, activation="identity"), BatchNorm()]
                layers.append(PReLU() if act == "prelu" else ActivationLayer(act))
            else:
                layers.append(Dense(units, activation=act))
        layers.append(Dense(n_out, activation=out_act))
        net = mlplab.Sequential(layers, n_inputs=data.n_inputs, init=cfg["init"], seed=cfg["seed"])
        loss_obj = get_loss(loss)
        try:
            fused = net.output_fusion(loss_obj)
        except ValueError as exc:
            raise ConfigError(
                f"output_activation: {out_act!r} does not fit the loss {loss!r}: {exc}",
                "output_activation",
            ) from None
        return {"net": net, "loss": loss_obj, "fused": fused, "n_out": n_out, "out_act": out_act}

    def _commit_net(self, built: dict[str, Any]) -> None:
        self._net = built["net"]
        self._loss = built["loss"]
        self._fused = built["fused"]
        self._n_out = built["n_out"]
        self._out_act = built["out_act"]
        net = self._net
        self._dense = [layer for layer in net.layers if isinstance(layer, Dense)]
        self._dense_index = {
            i: k
            for k, i in enumerate(i for i, la in enumerate(net.layers) if isinstance(la, Dense))
        }
        # the layer whose output `a` is each hidden layer's output (after BN + activation)
        self._hidden_out = []
        for i, layer in enumerate(net.layers[:-1]):
            nxt = net.layers[i + 1]
            if isinstance(nxt, Dense) and not isinstance(layer, BatchNorm):
                self._hidden_out.append(layer)
        self._names = []
        for k, spec in enumerate(self._config["layers"]):
            bn = " + BN" if spec["batch_norm"] else ""
            self._names.append(f"{k + 1}: {spec['activation']}{bn} ({spec['units']})")
        self._names.append(
            f"{len(self._config['layers']) + 1}: {self._out_act} ({self._n_out}, output)"
        )
        self._prepare_targets()
        self._start_training()

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if self._data.task == "classification" and self._loss.name == "mse" and self._n_out > 1:
            return np.eye(self._n_out)[y]
        return self._loss.prepare_targets(y, self._n_out, np.dtype(np.float64))

    def _prepare_targets(self) -> None:
        d = self._data
        self._Xs_train = self._scale(d.X_train)
        self._Y_train = self._targets(d.y_train)
        self._Xs_test = self._scale(d.X_test)
        self._Y_test = self._targets(d.y_test) if d.y_test.size else None

    def _start_training(self) -> None:
        """Fresh optimizer, step counters, mini-batch order and history."""
        cfg = self._config
        self._opt = get_optimizer(cfg["optimizer"], cfg["learning_rate"])
        self._rng = np.random.default_rng(cfg["seed"])  # the mini-batch order, as in fit
        self._order_state: tuple[np.ndarray | None, int, int] | None = None
        self._batch = 0
        self._epochs_done = 0
        self._step = 0
        self._backup = np.empty_like(self._net.theta)
        self._backup_valid = False
        self._error: str | None = None
        self._history: dict[str, list[Any]] = {
            k: []
            for k in (
                "step",
                "epoch",
                "loss",
                "test_loss",
                "train_metric",
                "test_metric",
                "grad_norms",
            )
        }
        self._edited = False
        self._version = 0
        self._eval_cache: tuple[int, dict[str, Any]] | None = None
        self._probe()
        self._record()

    def reset(self) -> None:
        """Re-initialise the weights (same config, so the same initial weights)."""
        with self._lock:
            self._commit_net(self._make_net(self._config, self._data))

    # ------------------------------------------------------------------ train
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
        self.find_problems = found
        self._grad_norm = gnorm

    def _threads(self):
        """One BLAS thread for big work: threads do not speed up these small products and
        a busy machine makes them much slower (measured: 3x for 8 x 32 units on 5000
        points); switching costs ~0.5 ms, so small networks keep the default."""
        rows = self._Xs_train.shape[0] + self._Xs_test.shape[0] + self._grid.shape[0]
        if self._net.n_params * rows >= BLAS_ONE_THREAD_WORK:
            return one_blas_thread()
        return nullcontext()

    def step(self, n_steps: int) -> None:
        """Run ``n_steps`` optimizer steps, one mini-batch each."""
        with self._lock:
            n_steps = _integer("steps", n_steps, 0, self.limits["steps_per_request"])
            if self._error is not None:
                raise DivergedError(
                    f"training: stopped at step {self._step} because it diverged; change the "
                    "config (e.g. a lower learning_rate), edit a weight or reset to train again.",
                    "training",
                )
            if n_steps == 0:
                return
            if self._epochs_done >= self.limits["epochs"]:
                raise ConfigError(
                    f"epochs: this session has trained {self._epochs_done} epochs, the limit "
                    f"({self.limits['epochs']}); reset to train again.",
                    "epochs",
                )
            with self._threads():
                self._train(n_steps)
            self._record()

    def _train(self, n_steps: int) -> None:
        net, opt, loss, fused = self._net, self._opt, self._loss, self._fused
        cfg = self._config
        l2, clip_norm, clip_value = cfg["l2"], cfg["clip_norm"], cfg["clip_value"]
        clipping = clip_norm is not None or clip_value is not None
        theta, grad, backup = net.theta, net.grad, self._backup
        X, Y = self._Xs_train, self._Y_train
        n = X.shape[0]
        rows = n
        done = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            while done < n_steps:
                if self._order_state is None:  # a new epoch, shuffled as mlplab.fit does
                    if self._epochs_done >= self.limits["epochs"]:
                        break
                    bs = min(cfg["batch_size"], n)
                    n_batches = -(-n // bs)
                    order = self._rng.permutation(n) if n_batches > 1 else None
                    self._order_state = (order, bs, n_batches)
                    self._batch = 0
                order, bs, n_batches = self._order_state
                if order is None:
                    Xb, Yb = X, Y
                else:
                    idx = order[self._batch * bs : (self._batch + 1) * bs]
                    Xb, Yb = X[idx], Y[idx]
                value = net.loss_and_grad_unchecked(Xb, Yb, loss, None, l2, fused)
                gnorm = norm_of(grad)
                rows = Xb.shape[0]
                if not (math.isfinite(value) and math.isfinite(gnorm)):
                    self._diverged(value)
                    return
                if clipping:
                    clip_(grad, clip_norm, clip_value, gnorm)
                np.copyto(backup, theta)
                self._backup_valid = True
                opt.step(theta, grad)
                self._step += 1
                self._version += 1
                done += 1
                self._batch += 1
                if self._batch >= n_batches:
                    self._epochs_done += 1
                    self._order_state = None
        self._snapshot(rows)

    def _diverged(self, value: float) -> None:
        net = self._net
        where = first_nonfinite(net)
        pt = self._config["lang"] == "pt"
        what = (
            ("perda" if pt else "loss")
            if not math.isfinite(value)
            else ("gradiente" if pt else "gradient")
        )
        if pt:
            msg = (
                f"O treino divergiu no passo {self._step + 1}: {what} não finito (primeiro não "
                f"finito: {where}). Os pesos do último passo finito foram mantidos. Reduza a "
                "taxa de aprendizado, limite o gradiente (clip_norm) ou troque a inicialização."
            )
        else:
            msg = (
                f"Training diverged at step {self._step + 1}: non-finite {what} (first "
                f"non-finite: {where}). The weights of the last finite step were kept. Try a "
                "lower learning_rate, clip_norm or another initialisation."
            )
        if self._backup_valid:
            net.theta[...] = self._backup  # back to the last weights with a finite loss
        if not np.isfinite(net.theta).all():  # cannot happen after a finite step; be safe
            net.theta[~np.isfinite(net.theta)] = 0.0
        self._version += 1
        self._order_state = None
        self._probe()
        self._error = msg
        self.find_problems = [
            Finding("nonfinite", None, "", math.nan, msg, REMEDIES["nonfinite"][1 if pt else 0]),
            *(f for f in self.find_problems if f.kind not in ("healthy", "nonfinite")),
        ]

    # -------------------------------------------------------------- evaluation
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

    @property
    def epoch(self) -> float:
        if self._order_state is None:
            return float(self._epochs_done)
        return self._epochs_done + self._batch / self._order_state[2]

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
        dense_of = self._dense_index
        findings = [
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
            for f in self.find_problems
        ]
        # one forward pass over the heatmap/curve grid and the node-map grid
        with np.errstate(all="ignore"):
            out = self._outputs(self._grid)
            node_out = [layer.a[self._n_big :] for layer in self._hidden_out]
        nb = self._n_big
        xlo, xhi, ylo, yhi = d.domain
        heatmap = curve = None
        if d.n_inputs == 2:
            p = self._proba(out[:nb])
            if self._n_out == 1:
                values = np.clip(p[:, 0], 0.0, 1.0)  # P(class 1)
            elif d.classes == 2:  # two softmax outputs: P(class 1) as well
                values = np.clip(p[:, 1], 0.0, 1.0)
            else:  # multiclass: the predicted class
                values = p.argmax(axis=1).astype(np.float64)
            heatmap = {
                "nx": HEATMAP,
                "ny": HEATMAP,
                "x": [xlo, xhi],
                "y": [ylo, yhi],
                "values": _floats(values, 4),
                "classes": d.classes,
            }
            nx, ny = NODE_MAP, NODE_MAP
        else:
            curve = {"x": _floats(self._grid_x), "y": _floats(out[:nb, 0], 6)}
            nx, ny = NODE_MAP, 1
        node_maps = [
            [{"nx": nx, "ny": ny, "values": _floats(a[:, j], 3)} for j in range(a.shape[1])]
            for a in node_out
        ]
        send_points = points if points is not None else self._points_sent != self._data_version
        pts = None
        if send_points:
            pts = {
                "train": _floats(np.c_[d.X_train, d.y_train], 6),
                "test": _floats(np.c_[d.X_test, d.y_test], 6) if d.y_test.size else [],
            }
            self._points_sent = self._data_version
        h = self._history
        m = len(h["step"])
        keep = (
            range(m)
            if m <= HISTORY_IN_FRAME
            else sorted(set(np.linspace(0, m - 1, HISTORY_IN_FRAME).round().astype(int).tolist()))
        )
        history = {key: [values[i] for i in keep] for key, values in h.items()}
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

    # ---------------------------------------------------------------- editing
    def set_weight(self, layer: int, i: int, j: int, value: float) -> None:
        """Set weight w_ij of Dense layer ``layer`` (i = -1: the bias of node j)."""
        with self._lock:
            n_layers = len(self._dense)
            layer = _integer("layer", layer, 0, n_layers - 1)
            dense = self._dense[layer]
            i = _integer("i", i, -1, dense.n_in - 1)
            j = _integer("j", j, 0, dense.n_out - 1)
            value = _number("value", value, -MAX_WEIGHT, MAX_WEIGHT)
            if i == -1:
                dense.b[j] = value
            else:
                dense.W[i, j] = value
            self._edited = True
            self._backup_valid = False
            self._error = None
            self._version += 1
            self._probe()

    def add_point(self, x: float, y: float, label: float) -> None:
        """Add a clicked point to the training set (regression: input x, target y)."""
        with self._lock:
            d = self._data
            x = _number("x", x, -MAX_COORD, MAX_COORD)
            y = _number("y", y, -MAX_COORD, MAX_COORD)
            total = d.X_train.shape[0] + d.X_test.shape[0]
            if total + 1 > self.limits["n_samples"]:
                raise ConfigError(
                    f"n_samples: the data already hold {total} points, the limit "
                    f"({self.limits['n_samples']}); received one more.",
                    "n_samples",
                )
            if d.task == "classification":
                lab = _integer("label", label, 0, d.classes - 1)
                row, target = np.array([[x, y]]), np.array([lab], dtype=d.y_train.dtype)
            else:
                row, target = np.array([[x]]), np.array([y])
            d.X_train = np.concatenate([d.X_train, row])
            d.y_train = np.concatenate([d.y_train, target])
            d.pristine = False
            xlo, xhi, ylo, yhi = d.domain
            outside = not xlo <= x <= xhi or (ylo is not None and not ylo <= y <= yhi)
            if outside:  # widen the plot to show the new point
                d.domain = _domain(np.concatenate([d.X_train, d.X_test]))
                self._make_grid()
            self._data_version += 1
            self._prepare_targets()
            self._version += 1

    def load_csv(self, text: str) -> None:
        """Use uploaded CSV data (dataset "csv"); rebuilds the network."""
        with self._lock:
            parsed = parse_csv(text, self.limits)
            old = self._csv
            self._csv = parsed
            try:
                new = {**self._config, "dataset": "csv"}
                data = self._make_data(new)
                try:
                    built = self._make_net(new, data)
                except ConfigError as exc:
                    if exc.field not in ("loss", "output_activation"):
                        raise
                    # data of another task: let "auto" pick its loss and output
                    new = {**new, "loss": "auto", "output_activation": "auto"}
                    built = self._make_net(new, data)
            except ConfigError:
                self._csv = old
                raise
            self._config = new
            self._commit_data(data)
            self._commit_net(built)

    # ----------------------------------------------------------------- exports
    def _export_net(self) -> mlplab.Sequential:
        """A copy of the network taking inputs in original units (standardisation folded)."""
        net = self._net
        twin = mlplab.Sequential.from_config(net.get_config())
        twin.load_state_dict(net.state_dict())
        first = next(layer for layer in twin.layers if isinstance(layer, Dense))
        mean, std = self._data.mean, self._data.std
        W = first.W / std[:, None]  # z = ((x - mean) / std) W + b = x W' + b'
        first.b[...] = first.b - mean @ W
        first.W[...] = W
        return twin

    def export_model(self) -> bytes:
        """The network in mlplab.save format (inputs in original units)."""
        with self._lock:
            twin = self._export_net()
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "playground.mlplab")
            mlplab.save(twin, path)
            with open(path, "rb") as fh:
                return fh.read()

    def predict(self, X: Any) -> np.ndarray:
        """The network's (activated) outputs for inputs in original units."""
        with self._lock:
            X = np.asarray(X, dtype=np.float64).reshape(-1, self._data.n_inputs)
            return self._outputs(self._scale(X)).copy()

    def export_history(self, fmt: str = "csv") -> str:
        """The training history as CSV or JSON text."""
        with self._lock:
            fmt = _choice("format", fmt, ("csv", "json"))
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

    def export_snippet(self, epochs: int | None = None) -> str:
        """Python code that rebuilds the data and the network with mlplab's API and trains it."""
        with self._lock:
            return self._snippet(epochs)

    def _snippet(self, epochs: int | None) -> str:
        cfg, d = self._config, self._data
        if epochs is None:
            epochs = max(1, math.ceil(self.epoch)) if self._step else 100
        epochs = _integer("epochs", epochs, 1, self.limits["epochs"])
        lines = [
            f'"""mlplab playground run: {cfg["dataset"]}, reproduced with mlplab\'s API.',
            "",
            "Same data, split, standardisation, network, initialisation and mini-batch order",
            "as the playground (its weights are the same after the same number of epochs).",
            '"""',
            "",
            "import numpy as np",
            "",
            "import mlplab",
            "",
            f"EPOCHS = {epochs}",
            f"SEED = {cfg['seed']}",
            "",
        ]
        if d.pristine and cfg["dataset"] != "csv":
            helpers, call = _generate_source(cfg)
            for fn in [*helpers, split_data]:
                lines += ["", "", inspect.getsource(fn).rstrip("\n")]
            lines += [
                "",
                "",
                "# ---- data (original units)",
                f"X, y = {call}",
                f"X_train, y_train, X_test, y_test = split_data(X, y, {cfg['test_fraction']!r}, "
                "SEED)",
                "mean, std = X_train.mean(axis=0), X_train.std(axis=0)",
                "std[std == 0] = 1.0",
            ]
        else:
            why = "uploaded CSV" if cfg["dataset"] == "csv" else "with the points added by hand"
            ydt = "np.int64" if d.task == "classification" else "np.float64"
            lines += [
                "",
                f"# ---- data: the playground's ({why}), as it was split",
                f"X_train = np.array({d.X_train.tolist()!r}).reshape(-1, {d.n_inputs})",
                f"y_train = np.array({d.y_train.tolist()!r}, dtype={ydt})",
                f"X_test = np.array({d.X_test.tolist()!r}).reshape(-1, {d.n_inputs})",
                f"y_test = np.array({d.y_test.tolist()!r}, dtype={ydt})",
                f"mean = np.array({d.mean.tolist()!r})",
                f"std = np.array({d.std.tolist()!r})",
            ]
        lines += [
            "# inputs standardised with the training set's mean and std",
            "Xs_train, Xs_test = (X_train - mean) / std, (X_test - mean) / std",
        ]
        if d.task == "classification" and self._loss.name == "mse" and self._n_out > 1:
            lines.append(
                f"t_train, t_test = np.eye({self._n_out})[y_train], np.eye({self._n_out})[y_test]"
                "  # one-hot targets"
            )
        else:
            lines.append("t_train, t_test = y_train, y_test")
        lines += ["", "# ---- network", "net = mlplab.Sequential(", "    ["]
        for spec in cfg["layers"]:
            units, act = spec["units"], spec["activation"]
            if spec["batch_norm"]:
                last = "mlplab.PReLU()" if act == "prelu" else f"mlplab.ActivationLayer({_q(act)})"
                lines += [
                    f'        mlplab.Dense({units}, activation="identity"),',
                    "        mlplab.BatchNorm(),",
                    f"        {last},",
                ]
            else:
                lines.append(f"        mlplab.Dense({units}, activation={_q(act)}),")
        lines += [
            f"        mlplab.Dense({self._n_out}, activation={_q(self._out_act)}),",
            "    ],",
            f"    n_inputs={d.n_inputs},",
            f"    init={_q(cfg['init'])},",
            "    seed=SEED,",
            ")",
            "",
            "# ---- training (one optimizer step per mini-batch, as in the playground)",
            "hist = net.fit(",
            "    Xs_train,",
            "    t_train,",
            f"    loss={_q(self._loss.name)},",
            f"    optimizer={_q(cfg['optimizer'])},",
            f"    learning_rate={cfg['learning_rate']!r},",
            "    epochs=EPOCHS,",
            f"    batch_size={cfg['batch_size']},",
            f"    l2={cfg['l2']!r},",
            f"    clip_norm={cfg['clip_norm']!r},",
            f"    clip_value={cfg['clip_value']!r},",
        ]
        if d.y_test.size:
            lines.append("    validation_data=(Xs_test, t_test),")
        if d.task == "classification":
            lines.append('    metrics=["accuracy"],')
        lines += ["    seed=SEED,", ")", ""]
        if self._edited:
            lines.insert(4, "Weights edited by hand in the playground are not reproduced.")
        lines.append("print(f\"epochs: {hist.epochs}, training loss: {hist['loss'][-1]:.4g}\")")
        if d.task == "classification" and d.y_test.size:
            lines.append("print(f\"test accuracy: {hist['val_accuracy'][-1]:.3f}\")")
        elif d.y_test.size:
            lines += [
                "pred = net.predict(Xs_test)[:, 0]",
                "r2 = 1 - np.sum((pred - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)",
                'print(f"test R²: {r2:.4f}")',
            ]
        return "\n".join(lines) + "\n"
