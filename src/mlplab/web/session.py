"""One playground session: data, network, training steps, frames and exports (no web code).

Notes for the authors of server.py and the page (the contract is docs/playground.md):

* Errors. Every bad input raises :class:`ConfigError` (a ``ValueError``) whose message
  names the field and the value received -> HTTP 422 / WebSocket ``{"type": "error"}``.
  ``err.field`` holds the field name. :class:`TooLargeError` (a ConfigError) is raised
  only by ``load_csv`` when the text exceeds ``LIMITS["csv_bytes"]`` -> HTTP 413.
  A failed ``apply``/``load_csv``/``add_point`` leaves the session unchanged.
* ``LIMITS`` keys: ``hidden_layers`` 8, ``units`` 32, ``parameters`` 1e6, ``n_samples``
  5000 (CSV rows and clicked points too), ``csv_bytes`` 512 KiB, ``steps_per_request``
  1000, ``epochs`` 100 000; ``Session(..., limits={...})`` overrides any of them. The
  server's own limits (sessions, sessions training at once, time) are in
  :mod:`mlplab.web.routes`.
  ``meta()`` returns the choices and limits for ``GET /api/meta`` (add lang, version).
* Threads. Every public method takes the session's own lock, so a training chunk running
  in a worker thread and a config change arriving on the event loop never interleave.
  ``step(n)`` for a 2-8-8-1 net on 500 points takes well under a millisecond per step;
  ``frame()`` about a millisecond (see benchmarks/bench_playground.py).
* Config. ``default_config()`` has every key of the contract, among them ``"lang"``
  ("en"/"pt", the language of the doctor's findings) and ``"steps_per_second"`` (the pace
  of play, below). Unknown keys are rejected. Layers: at most 8
  dicts ``{"units", "activation", "batch_norm"}`` (missing keys: 4, "tanh", false).
  Changing data keys (dataset, noise, n_samples, test_fraction, seed) or network keys
  (layers, output_activation, init, loss, seed) rebuilds and re-initialises the network
  and clears the history; optimizer, learning_rate, batch_size, l2, clip_norm,
  clip_value, lang and steps_per_second apply on the fly (a new optimizer starts with a
  fresh state). ``steps_per_second`` (null: full speed) is the pace of the server's play
  loop (:mod:`mlplab.web.hub`); ``step(n)`` itself never waits.
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
* Frames: see :mod:`mlplab.web.frame`; CSV uploads: :mod:`mlplab.web.data`.
* ``weights[l][i][j]``: Dense layer l (0 = first hidden, last = output), from input i
  (node i of the layer before) to node j; ``biases[l][j]``. ``set_weight(l, i, j, v)``
  uses the same indices (i = -1: bias), |v| <= 1000.
* ``add_point(x, y, label)``: classification: a point (x, y) of class ``label``
  (0..k-1); regression: input x, target y (``label`` ignored). Points are in the plot's
  original units and join the training set; the network is kept.
* ``export_model()`` folds the input standardisation into the first Dense layer: the
  loaded network takes inputs in the plot's original units.
* ``export_snippet(epochs=None)`` runs on its own with mlplab, numpy (and scikit-learn
  for "moons"); with unedited weights it reproduces the session's training steps
  exactly (same data, split, init, mini-batch order, number of optimizer steps: a run
  stopped mid-epoch trains its whole epochs, then stops the next after its remaining
  mini-batches); ``epochs`` (whole epochs) defaults to the session's steps so far.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
import threading
from contextlib import nullcontext
from typing import Any

import numpy as np

import mlplab
from mlplab._blas import one_blas_thread
from mlplab.layers import BatchNorm, Dense
from mlplab.optimizers import get_optimizer
from mlplab.web.config import (
    CURVE,
    DATASETS,
    HEATMAP,
    LIMITS,
    MAX_COORD,
    MAX_WEIGHT,
    NODE_MAP,
    ConfigError,
    DivergedError,
    TooLargeError,
    as_integer,
    as_number,
    default_config,
    invalid,
    meta,
    validate,
)
from mlplab.web.data import Data, domain, make_data, parse_csv
from mlplab.web.frame import Frames
from mlplab.web.model import build_network
from mlplab.web.snippet import write_snippet
from mlplab.web.train import Training

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

BLAS_ONE_THREAD_WORK = 2_000_000  # parameters x rows evaluated per frame

_DATA_KEYS = ("dataset", "noise", "n_samples", "test_fraction", "seed")
_NET_KEYS = ("layers", "output_activation", "init", "loss", "seed")


# --------------------------------------------------------------------------------- session
class Session(Training, Frames):
    """One playground run: data, an mlplab network, its training steps, frames, exports.

    ``Session(config=None, seed=0)``: ``config`` overrides ``default_config()`` (``seed``
    is the default of its "seed" key). Raises ConfigError on a bad config.

    The training steps are in :mod:`mlplab.web.train` (:class:`Training`); the
    evaluation, the doctor's reading, the history and the frames in
    :mod:`mlplab.web.frame` (:class:`Frames`).
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
            raise invalid("config", "an object", config)
        cfg = validate(self._merge(base, config or {}), self.limits)
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
                raise invalid("config", "an object", config)
            new = validate(self._merge(self._config, config), self.limits)
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
    def _make_data(self, cfg: dict[str, Any]) -> Data:
        return make_data(cfg, self._csv)

    def _commit_data(self, data: Data) -> None:
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
    def _make_net(self, cfg: dict[str, Any], data: Data) -> dict[str, Any]:
        return build_network(cfg, data, self.limits["parameters"])

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
            n_steps = as_integer("steps", n_steps, 0, self.limits["steps_per_request"])
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

    @property
    def steps_per_second(self) -> float | None:
        """The pace of play (optimizer steps per second), None for full speed.

        Read without the lock (``apply`` replaces the config dict whole), so the play loop on
        the event loop never waits for a training chunk or a rebuild in a worker thread."""
        return self._config["steps_per_second"]

    @property
    def epoch(self) -> float:
        if self._order_state is None:
            return float(self._epochs_done)
        return self._epochs_done + self._batch / self._order_state[2]

    # ---------------------------------------------------------------- editing
    def set_weight(self, layer: int, i: int, j: int, value: float) -> None:
        """Set weight w_ij of Dense layer ``layer`` (i = -1: the bias of node j)."""
        with self._lock:
            n_layers = len(self._dense)
            layer = as_integer("layer", layer, 0, n_layers - 1)
            dense = self._dense[layer]
            i = as_integer("i", i, -1, dense.n_in - 1)
            j = as_integer("j", j, 0, dense.n_out - 1)
            value = as_number("value", value, -MAX_WEIGHT, MAX_WEIGHT)
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
            x = as_number("x", x, -MAX_COORD, MAX_COORD)
            y = as_number("y", y, -MAX_COORD, MAX_COORD)
            total = d.X_train.shape[0] + d.X_test.shape[0]
            if total + 1 > self.limits["n_samples"]:
                raise ConfigError(
                    f"n_samples: the data already hold {total} points, the limit "
                    f"({self.limits['n_samples']}); received one more.",
                    "n_samples",
                )
            if d.task == "classification":
                lab = as_integer("label", label, 0, d.classes - 1)
                row, target = np.array([[x, y]]), np.array([lab], dtype=d.y_train.dtype)
            else:
                row, target = np.array([[x]]), np.array([y])
            d.X_train = np.concatenate([d.X_train, row])
            d.y_train = np.concatenate([d.y_train, target])
            d.pristine = False
            xlo, xhi, ylo, yhi = d.domain
            outside = not xlo <= x <= xhi or (ylo is not None and not ylo <= y <= yhi)
            if outside:  # widen the plot to show the new point
                d.domain = domain(np.concatenate([d.X_train, d.X_test]))
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

    def export_snippet(self, epochs: int | None = None) -> str:
        """Python code that rebuilds the data and the network with mlplab's API and trains it."""
        with self._lock:
            steps = None
            if epochs is None:
                epochs = max(1, math.ceil(self.epoch)) if self._step else 100
                if self._order_state is not None and self._batch:  # stopped mid-epoch
                    steps = self._epochs_done * self._order_state[2] + self._batch
            epochs = as_integer("epochs", epochs, 1, self.limits["epochs"])
            return write_snippet(
                self._config,
                self._data,
                epochs,
                steps=steps,
                loss=self._loss.name,
                n_out=self._n_out,
                out_act=self._out_act,
                edited=self._edited,
            )
