"""Training: the loop over mini-batches, L-BFGS, callbacks."""

from mlplab.training.callbacks import Callback, EarlyStopping
from mlplab.training.loop import METRICS, History, TrainingDivergedError, TrainState, fit

__all__ = [
    "METRICS",
    "Callback",
    "EarlyStopping",
    "History",
    "TrainState",
    "TrainingDivergedError",
    "fit",
]
