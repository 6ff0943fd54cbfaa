"""The training of a session: mini-batch optimizer steps, and what happens when they diverge.

:class:`Training` is a part of :class:`mlplab.web.session.Session` kept in its own file:
Session inherits its two methods, which read and write the session's state (the network,
optimizer, mini-batch order, step counters, backup weights). ``Session.step`` takes the lock,
checks the limits and calls ``_train``.
"""

from __future__ import annotations

import math

import numpy as np

from mlplab.diagnostics import REMEDIES, Finding
from mlplab.network import first_nonfinite
from mlplab.training.step import Trainer

__all__ = ["Training"]


class Training:
    """The training steps of a Session (a mixin: Session is the only class that uses it)."""

    def _train(self, n_steps: int) -> None:
        """``n_steps`` steps of mlplab's one training step, resumable mid-epoch (the
        mini-batch order is drawn as ``fit`` draws it, one epoch at a time)."""
        net, loss, fused = self._net, self._loss, self._fused
        cfg = self._config
        l2 = cfg["l2"]
        step = Trainer(
            net.theta,
            lambda theta, Xb, Yb: (
                net.loss_and_grad_unchecked(Xb, Yb, loss, None, l2, fused),
                net.grad,
            ),
            self._opt,
            clip_norm=cfg["clip_norm"],
            clip_value=cfg["clip_value"],
            backup=self._backup,  # the session's: a divergence in a later request restores it
        )
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
                rows = Xb.shape[0]
                value, _, ok = step.step(Xb, Yb)
                if not ok:
                    self._diverged(value)
                    return
                self._backup_valid = True
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
        self._findings = [
            Finding("nonfinite", None, "", math.nan, msg, REMEDIES["nonfinite"][1 if pt else 0]),
            *(f for f in self._findings if f.kind not in ("healthy", "nonfinite")),
        ]
