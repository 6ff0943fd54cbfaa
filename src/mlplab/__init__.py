"""mlplab: the multilayer perceptron from first principles.

    import mlplab
    net = mlplab.Sequential([mlplab.Dense(2, activation="logistic"),
                             mlplab.Dense(1, activation="logistic")], n_inputs=2, seed=0)
    hist = net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.05, epochs=500)
    loss, grad = net.loss_and_grad(X, y, loss="bce")   # grad aligned with net.theta
    mlplab.save(net, "xor.mlplab"); net2 = mlplab.load("xor.mlplab")

Notation (code <-> lecture): z = x W + b is the lecture's weighted sum g(x) = w^T x
(b is the weight of the bias input x0 = 1); a = f(z) a node's output; L the loss
(the lecture's J_e). See docs/notation.md.
"""

from mlplab import activations, diagnostics, display, initializers, losses, optimizers, recurrent
from mlplab._version import __version__ as __version__
from mlplab.activations import ACTIVATIONS, get_activation
from mlplab.clipping import clip_grad_norm_, clip_grad_value_
from mlplab.diagnostics import GradientFlow, diagnose
from mlplab.i18n import get_language, set_language
from mlplab.initializers import INITIALIZERS, get_initializer
from mlplab.io import IntegrityError, ModelFormatError, load, register_saveable, save
from mlplab.layers import ActivationLayer, BatchNorm, Dense, PReLU
from mlplab.losses import LOSSES, get_loss
from mlplab.network import Sequential, fit
from mlplab.optimizers import OPTIMIZERS, get_optimizer
from mlplab.recurrent import GRU, LSTM, SimpleRNN
from mlplab.sklearn import batched
from mlplab.sklearn.batched import Ensemble, fit_many
from mlplab.sklearn.estimators import MLPClassifier, MLPRegressor
from mlplab.sklearn.patch import (
    patch_sklearn,
    patched_sklearn,
    sklearn_is_patched,
    unpatch_sklearn,
)
from mlplab.sklearn.search import GridSearchCV, RandomizedSearchCV
from mlplab.sklearn.sequence import RNNClassifier, RNNRegressor, make_windows
from mlplab.teaching import datasets
from mlplab.teaching.backprop import backprop_by_hand
from mlplab.training import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    TrainingDivergedError,
    TrainState,
)

register_saveable(Sequential)

#: Top-level names imported on first use, so ``import mlplab`` stays light: mlplab.export
#: and mlplab.web sit above the modules that ``import mlplab`` (the estimators, the
#: experiments); torch / onnx are imported when an export is called, FastAPI / uvicorn when
#: the notebook's playground is.
_LAZY = {
    "from_torch": "mlplab.export",
    "to_onnx": "mlplab.export",
    "to_torch": "mlplab.export",
    "playground": "mlplab.web.notebook",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlplab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ACTIVATIONS",
    "ActivationLayer",
    "BatchNorm",
    "Callback",
    "Dense",
    "EarlyStopping",
    "Ensemble",
    "GRU",
    "GridSearchCV",
    "GradientFlow",
    "History",
    "INITIALIZERS",
    "IntegrityError",
    "LOSSES",
    "LSTM",
    "MLPClassifier",
    "MLPRegressor",
    "ModelCheckpoint",
    "ModelFormatError",
    "OPTIMIZERS",
    "PReLU",
    "RNNClassifier",
    "RNNRegressor",
    "RandomizedSearchCV",
    "Sequential",
    "SimpleRNN",
    "TrainState",
    "TrainingDivergedError",
    "activations",
    "backprop_by_hand",
    "batched",
    "clip_grad_norm_",
    "clip_grad_value_",
    "datasets",
    "diagnose",
    "diagnostics",
    "display",
    "fit",
    "fit_many",
    "from_torch",
    "get_activation",
    "get_initializer",
    "get_language",
    "get_loss",
    "get_optimizer",
    "initializers",
    "load",
    "make_windows",
    "losses",
    "optimizers",
    "patch_sklearn",
    "patched_sklearn",
    "playground",
    "recurrent",
    "register_saveable",
    "save",
    "set_language",
    "sklearn_is_patched",
    "to_onnx",
    "to_torch",
    "unpatch_sklearn",
]
