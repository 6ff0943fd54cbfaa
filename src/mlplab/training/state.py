"""What a training run knows as it goes (TrainState), what it returns (History), how it fails."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlplab.display import plot_history

__all__ = ["History", "TrainState", "TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError):
    """Training produced a non-finite loss or gradient (``on_nan="raise"``)."""


@dataclass
class TrainState:
    """What the training loop knows; callbacks read it and may set ``stop``."""

    epoch: int = 0
    batch: int = 0
    step: int = 0
    epochs: int = 0
    n_batches: int = 0
    loss: float = math.nan  # the current batch's loss (the epoch mean in on_epoch_end)
    grad_norm: float = math.nan  # global gradient norm before clipping
    learning_rate: float = math.nan
    stop: bool = False
    stop_reason: str = ""
    best_epoch: int | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    # what a checkpoint (mlplab.ModelCheckpoint) of this run saves beside the network:
    rng: Any = None  # the run's numpy Generator (shuffling)
    run: dict[str, Any] | None = None  # what must match to resume (set when checkpointing)
    callbacks: list[Any] = field(default_factory=list)  # the run's callbacks, in order
    trainer: Any = None  # the run's Trainer: the weights before its last update (on_nan's undo)


class History:
    """Loss and metrics per epoch: ``hist["loss"]``, ``hist["val_loss"]``, ``hist.history``."""

    def __init__(self, state: TrainState) -> None:
        self.history = state.history
        self.epochs = len(state.history.get("loss", []))
        self.stop_reason = state.stop_reason
        self.best_epoch = state.best_epoch

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={self.epochs}, last={last})"

    def plot(
        self,
        ax: Any = None,
        *,
        metrics: Any = None,
        log: bool | None = None,
        lang: str | None = None,
    ) -> Any:
        """The training (and validation) loss per epoch, the metrics on a second y axis
        (``ax.right_ax``); a new figure when ``ax`` is None. ``metrics``: the entries to
        draw (default: every recorded metric, e.g. "accuracy", "val_accuracy"); ``log``:
        a log scale for the loss (default: when it spans more than 1.5 decades);
        ``lang``: "en" or "pt" labels. Returns the matplotlib Axes."""
        return plot_history(self.history, ax, metrics=metrics, log=log, lang=lang)
