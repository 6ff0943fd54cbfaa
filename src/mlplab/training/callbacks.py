"""Training callbacks: hooks into the training loop.

Every hook takes ``(state, net)`` and does nothing in the base class; any hook
may set ``state.stop = True`` to end training after the current epoch (or,
from ``on_batch_end``/``on_gradients``, after the current batch).
``on_gradients`` runs after backpropagation, before clipping and the
optimizer's update: ``net.grad`` holds the raw gradient dL/dtheta and
``state.grad_norm`` its global norm (clipping, if any, comes next).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mlplab._checks import check_float, check_int

if TYPE_CHECKING:  # pragma: no cover
    from mlplab.network import Sequential
    from mlplab.training import TrainState

__all__ = ["Callback", "EarlyStopping"]


class Callback:
    """No-op base class: override the hooks you need."""

    def on_train_begin(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_epoch_begin(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_batch_begin(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_gradients(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_batch_end(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_epoch_end(self, state: TrainState, net: Sequential) -> None:
        pass

    def on_train_end(self, state: TrainState, net: Sequential) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best=True`` the weights of the best epoch are put back when
    training ends, whether it stopped early or ran out of epochs.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best: bool = True,
    ) -> None:
        self.monitor = monitor
        self.patience = check_int("patience", patience, minimum=1)
        self.min_delta = check_float("min_delta", min_delta, minimum=0.0)
        self.restore_best = bool(restore_best)

    def on_train_begin(self, state, net):
        self.best = np.inf
        self.best_epoch = -1
        self.wait = 0
        self.best_theta = net.theta.copy()
        self.best_buffers = net.state_dict() if self.restore_best else None

    def on_epoch_end(self, state, net):
        if self.monitor not in state.history:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r}, which training does not record; "
                f"recorded: {sorted(state.history)}. Pass validation data or monitor='loss'."
            )
        current = state.history[self.monitor][-1]
        if current < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = current, state.epoch, 0
            if self.restore_best:
                self.best_buffers = net.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                state.stop = True
                state.stop_reason = (
                    f"early stopping: {self.monitor} did not improve by more than "
                    f"{self.min_delta:g} for {self.patience} epochs (best {self.best:.6g} "
                    f"at epoch {self.best_epoch + 1})"
                )

    def on_train_end(self, state, net):
        if self.restore_best and self.best_epoch >= 0 and self.best_buffers is not None:
            net.load_state_dict(self.best_buffers)
            state.best_epoch = self.best_epoch
