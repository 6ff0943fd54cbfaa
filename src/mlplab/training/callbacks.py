"""Training callbacks: hooks into the training loop.

Every hook takes ``(state, net)`` and does nothing in the base class; any hook
may set ``state.stop = True`` to end training after the current epoch (or,
from ``on_batch_end``/``on_gradients``, after the current batch).
``on_gradients`` runs after backpropagation, before clipping and the
optimizer's update: ``net.grad`` holds the raw gradient dL/dtheta and
``state.grad_norm`` its global norm (clipping, if any, comes next).

A callback whose decisions depend on what it saw in earlier epochs (early
stopping's best value and patience count) returns that state from
``checkpoint_state`` and takes it back in ``restore_checkpoint_state``, so that
``fit(..., resume_from=)`` continues it exactly (:mod:`mlplab.training.checkpoint`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab._checks import check_float, check_int

if TYPE_CHECKING:  # pragma: no cover
    from mlplab.network import Sequential
    from mlplab.training import TrainState

__all__ = ["Callback", "EarlyStopping"]


class Callback:
    """No-op base class: override the hooks you need.

    ``fit`` calls only the hooks a callback overrides. ``gradient_epochs``: when set,
    ``on_gradients`` is called in the epochs (0-based) below it only, so that a callback
    that looks at the first epochs costs nothing per step afterwards (None: every epoch).
    """

    gradient_epochs: int | None = None

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

    def checkpoint_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """``(config, arrays)`` a resumed run needs from this callback (numbers in the
        config, arrays by name), or None (the default: nothing to keep)."""
        return None

    def restore_checkpoint_state(
        self, config: dict[str, Any], arrays: dict[str, np.ndarray]
    ) -> None:
        """Take back what ``checkpoint_state`` returned (after ``on_train_begin``)."""


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

    def checkpoint_state(self):
        config = {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}
        return config, dict(self.best_buffers or {})

    def restore_checkpoint_state(self, config, arrays):
        self.best, self.best_epoch = config["best"], int(config["best_epoch"])
        self.wait = int(config["wait"])
        if self.restore_best:
            if set(arrays) != set(self.best_buffers or {}):
                raise ValueError(
                    f"the best weights hold {sorted(arrays)}; the network has "
                    f"{sorted(self.best_buffers or {})}"
                )
            self.best_buffers = {k: np.array(v) for k, v in arrays.items()}

    def on_train_end(self, state, net):
        if self.restore_best and self.best_epoch >= 0 and self.best_buffers is not None:
            net.load_state_dict(self.best_buffers)
            state.best_epoch = self.best_epoch
