"""Training callbacks that watch the gradient: GradientFlow records, GradientWarnings warns."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from mlplab.diagnostics.doctor import KIND_PT, find_problems
from mlplab.diagnostics.statistics import (
    RECORDED,
    THRESHOLDS,
    GradientWarning,
    layer_stats,
    weight_units,
)
from mlplab.display import plot_gradient_flow
from mlplab.i18n import get_language
from mlplab.layers import Dense
from mlplab.training.callbacks import Callback


class GradientFlow(Callback):
    """Record, per weight layer and epoch, what the gradient does.

    Every step (cheap: one pass over the flat gradient): the norms of dL/dW and
    dL/db of each layer and the pre-clip global norm; the epoch's value is their
    mean over its batches. Once per epoch, from the epoch's last batch: the
    activations' mean and standard deviation, mean |f'(z)|, saturation and dead
    units (``layer_stats``), and the update ratio ||W_end - W_start|| / ||W_start||
    over the epoch. ``every_step=True`` also keeps the full ``layer_stats`` of every
    step in ``flow.steps`` (costly: for looking closely, not for long runs).

    After training: ``flow.history["grad_norm_W"]`` is an array (epochs, layers);
    ``flow.global_norm`` (epochs,); ``flow.layer_names``; ``flow.to_dict()`` gives
    plain lists (JSON, the playground's stream). Recording off costs nothing:
    without the callback nothing runs.
    """

    def __init__(self, every_step: bool = False) -> None:
        self.every_step = bool(every_step)

    def on_train_begin(self, state, net):
        self._units = weight_units(net)
        self.layer_names = [s["name"] for s in layer_stats(net)]
        offsets, start = {}, 0
        for name, view in net.named_parameters():
            offsets[name] = (start, start + view.size)
            start += view.size
        bounds = []
        for i, _, _ in self._units:
            bounds += [offsets[f"{i}.W"], offsets[f"{i}.b"]]
        self._theta_slices = [(offsets[f"{i}.W"]) for i, _, _ in self._units]
        self._grad_blocks = [net.grad[lo:hi] for lo, hi in bounds]  # W0, b0, W1, b1, ...
        self._sum = np.zeros(len(bounds) + len(self._units))
        self._norm_sum = 0.0
        self._n = 0
        self._last_stats: list[dict[str, Any]] | None = None
        self._start_W = [net.theta[lo:hi].copy() for lo, hi in self._theta_slices]
        self.history = {k: np.zeros((0, len(self._units))) for k in RECORDED}
        self.global_norm = np.zeros(0)
        self.steps: list[dict[str, Any]] = []
        self.epochs = 0

    def _block_norms(self, grad: np.ndarray) -> np.ndarray:
        """[||dW0||, ||db0||, ..., RMS(dW0), RMS(dW1), ...] of the current gradient.

        sqrt(dot(g, g)) per block: the same formula (and bits) as layer_stats and as
        np.linalg.norm of the net.named_gradients() views."""
        sq = [float(np.dot(g, g)) for g in self._grad_blocks]
        norms = [math.sqrt(v) for v in sq]
        w_blocks = self._grad_blocks[0::2]
        rms = [math.sqrt(v / g.size) for v, g in zip(sq[0::2], w_blocks, strict=True)]
        return np.array(norms + rms)

    def on_gradients(self, state, net):
        norms = self._block_norms(net.grad)
        self._sum += norms
        self._norm_sum += state.grad_norm
        self._n += 1
        last = state.batch == state.n_batches - 1
        if self.every_step or last:
            stats = layer_stats(net)  # before the update, like the gradient it describes
            self._last_stats = stats
        if self.every_step:
            self.steps.append(
                {
                    "epoch": state.epoch,
                    "batch": state.batch,
                    "global_norm": state.grad_norm,
                    **{k: [s[k] for s in stats] for k in RECORDED if k != "update_ratio"},
                }
            )

    def on_epoch_end(self, state, net):
        n = max(self._n, 1)
        norms = self._sum / n
        stats = self._last_stats or layer_stats(net)  # the epoch's last batch
        self._last_stats = None
        row = {k: [s[k] for s in stats] for k in RECORDED if k != "update_ratio"}
        n_blocks = 2 * len(self._units)
        row["grad_norm_W"] = list(norms[0:n_blocks:2])
        row["grad_norm_b"] = list(norms[1:n_blocks:2])
        row["grad_rms_W"] = list(norms[n_blocks:])
        ratios = []
        for k, (lo, hi) in enumerate(self._theta_slices):
            before, now = self._start_W[k], net.theta[lo:hi]
            d = now - before
            denom = math.sqrt(float(np.dot(before, before)))
            ratios.append(math.sqrt(float(np.dot(d, d))) / denom if denom else math.inf)
            self._start_W[k] = now.copy()
        row["update_ratio"] = ratios
        for k in RECORDED:
            self.history[k] = np.vstack([self.history[k], np.asarray(row[k], float)[None, :]])
        self.global_norm = np.append(self.global_norm, self._norm_sum / n if self._n else np.nan)
        self._sum[:] = 0.0
        self._norm_sum, self._n = 0.0, 0
        self.epochs += 1

    def plot(self, ax: Any = None, *, lang: str | None = None) -> Any:
        """Each weight layer's gradient norm ||dL/dW|| per epoch (the mean over the epoch's
        steps), one line per layer on a log scale, the legend outside the axes (right); a
        new figure when ``ax`` is None. Returns the matplotlib Axes."""
        history = getattr(self, "history", None)
        norms = None if history is None else history["grad_norm_W"]
        return plot_gradient_flow(getattr(self, "layer_names", []), norms, ax, lang=lang)

    def to_dict(self) -> dict[str, Any]:
        """Plain lists: {"layers": [...], "global_norm": [...], metric: [[per layer] per epoch]}."""
        return {
            "layers": list(self.layer_names),
            "global_norm": self.global_norm.tolist(),
            **{k: v.tolist() for k, v in self.history.items()},
        }


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside mlplab (net.fit or mlplab.fit alike)."""
    import os
    import sys

    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # mlplab/
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg):
        frame, level = frame.f_back, level + 1
    return level


class GradientWarnings(Callback):
    """Warn (GradientWarning) when the doctor would flag the training, once per
    finding and layer: vanishing, exploding and dead units (saturation is normal in
    a converged logistic net, so only the doctor's report shows it). Checked on the
    last batch of epochs 1, 2, 4 and 8, when these problems show, so the cost does
    not grow with the epochs. The message is in ``mlplab.set_language``'s language when
    training begins."""

    gradient_epochs = 8  # epochs 1, 2, 4 and 8 (1-based): on_gradients is not needed after

    def __init__(self, thresholds: dict[str, float] | None = None) -> None:
        self.thresholds = {**THRESHOLDS, **(thresholds or {})}

    def on_train_begin(self, state, net):
        self._seen: set[tuple[str, int | None]] = set()
        self._lang = get_language()
        self._next = 1
        self._net = net

    def on_gradients(self, state, net):
        # the epoch's first batch: full-sized (the last one may be a small remainder)
        if state.epoch + 1 == self._next and state.batch == 0:
            self._next *= 2
            if self._next <= 16:
                self._check(state, net)

    def _check(self, state, net):
        stats = layer_stats(net)
        first = next((layer for layer in net.layers if isinstance(layer, Dense)), None)
        n_rows = first.x.shape[0] if first is not None and first.x is not None else 0
        kinds = ("vanishing", "exploding", "dead") if n_rows >= 16 else ("vanishing", "exploding")
        for f in find_problems(stats, state.grad_norm, self._lang, self.thresholds):
            key = (f.kind, f.layer)
            if f.kind not in kinds or key in self._seen:
                continue
            self._seen.add(key)
            if self._lang == "pt":
                message = (
                    f"época {state.epoch + 1}: {f.name or 'rede'}: {KIND_PT[f.kind]} — "
                    f"{f.detail}. Remédio: {f.remedy}. (Desligar: fit(..., diagnostics=False).)"
                )
            else:
                message = (
                    f"epoch {state.epoch + 1}: {f.name or 'network'}: {f.kind} gradient flow — "
                    f"{f.detail}. Remedy: {f.remedy}. (Off: fit(..., diagnostics=False).)"
                )
            warnings.warn(
                message,
                GradientWarning,
                stacklevel=_user_stacklevel(),
            )
