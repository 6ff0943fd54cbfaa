"""What the depth experiments (``vanishing-gradient``, ``exploding-gradient``) share:
the deep ReLU/logistic network, a recorder of the per-step loss and per-layer weight
change, and training that records the divergence and gradient-doctor warnings."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mlplab.diagnostics import GradientWarning
from mlplab.experiments._common import dense_layers
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.training.callbacks import Callback


def mlp(n_inputs: int, width: int, depth: int, activation: str, init: Any, seed: int) -> Sequential:
    """``depth`` hidden Dense layers of ``width`` units and one linear output unit."""
    layers = [Dense(width, activation=activation) for _ in range(depth)] + [Dense(1)]
    return Sequential(layers, n_inputs=n_inputs, init=init, seed=seed)


class Recorder(Callback):
    """Per-step batch loss and, per epoch, each layer's ||W(t) - W(0)|| / ||W(0)||."""

    def on_train_begin(self, state, net):
        self.w0 = [d.W.copy() for d in dense_layers(net)]
        self.step_loss: list[float] = []
        self.relative_change: list[list[float]] = []

    def on_gradients(self, state, net):
        self.step_loss.append(float(state.loss))

    def on_epoch_end(self, state, net):
        self.relative_change.append(
            [
                float(np.linalg.norm(d.W - w0) / np.linalg.norm(w0))
                for d, w0 in zip(dense_layers(net), self.w0, strict=True)
            ]
        )


def fit_recording(net: Sequential, X, y, **kwargs) -> tuple[Any, list[warnings.WarningMessage]]:
    """``net.fit`` catching its RuntimeWarning (divergence) and GradientWarnings, which
    the experiment records; any other warning is passed on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = net.fit(X, y, **kwargs)
    kept = []
    for w in caught:
        ours = issubclass(w.category, GradientWarning) or (
            issubclass(w.category, RuntimeWarning)
            and str(w.message).startswith("Training diverged")
        )
        if ours:
            kept.append(w)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return hist, kept


def doctor_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    """The gradient doctor's warnings, shortened to "epoch e: layer: kind"."""
    out = []
    for w in caught:
        if issubclass(w.category, GradientWarning):
            out.append(str(w.message).split(" gradient flow")[0])
    return out
