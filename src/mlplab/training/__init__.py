"""The training engine: one step (``step``), the L-BFGS driver (``lbfgs``), callbacks,
checkpoints, and the state of a run. ``Sequential.fit`` (:mod:`mlplab.network.fit`), the
estimators, the batched stacks and the playground all train through it."""

from mlplab.training.callbacks import Callback, EarlyStopping
from mlplab.training.checkpoint import ModelCheckpoint
from mlplab.training.state import History, TrainingDivergedError, TrainState

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "TrainState",
    "TrainingDivergedError",
]
