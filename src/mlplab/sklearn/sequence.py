"""scikit-learn estimators for sequences: ``RNNRegressor`` and ``RNNClassifier``.

A recurrent layer (``mlplab.SimpleRNN``, ``LSTM`` or ``GRU``, returning its last
hidden state), optional Dense layers, and a Dense output layer, trained by
:func:`mlplab.training.fit`::

    from mlplab.sequence import RNNRegressor, make_windows
    X, y = make_windows(series, window=20)          # X (n, 20, 1), y (n,)
    reg = RNNRegressor(cell="lstm", units=32, random_state=0).fit(X, y)

X is 3-D ``(n_samples, n_steps, n_features)`` or 2-D ``(n_samples, n_steps)`` (a
univariate sequence per row, i.e. one feature per step: what scikit-learn's own
tools and estimator checks pass). As scikit-learn counts it, ``n_features_in_``
is ``X.shape[1]``, the number of time steps; ``input_shape_`` is ``(n_steps,
n_features)``. predict needs the same shape per sample as fit.

The regressor minimises the mean squared error ("mse"), the classifier the
cross-entropy ("bce" with one logistic output for two classes, "cce" with a
softmax output otherwise); ``loss_`` and ``loss_curve_`` are in these units.

Stopping (as scikit-learn's MLP): training ends after ``n_iter_no_change``
epochs in which the training loss (with ``early_stopping=True``: the loss on a
held-out ``validation_fraction`` of the data) did not improve by more than
``tol``; with early stopping the best validation weights are restored. A
``ConvergenceWarning`` says when ``max_iter`` epochs ran out first.
``warm_start=True`` continues from the fitted weights (fresh optimizer),
``partial_fit`` runs one epoch with the optimizer's state carried over.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from mlplab._checks import check_choice, check_dtype, check_float, check_int, check_sizes
from mlplab.io import from_json_tree, json_tree, jsonable, register_saveable
from mlplab.layers import Dense
from mlplab.network import Sequential, fit
from mlplab.optimizers import SOLVER_NAMES
from mlplab.recurrent import GRU, LSTM, SimpleRNN
from mlplab.sklearn.notebook import NetworkView
from mlplab.training import TrainingDivergedError
from mlplab.training.callbacks import EarlyStopping

__all__ = ["RNNClassifier", "RNNRegressor", "make_windows"]

CELLS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}


def make_windows(series: Any, window: int, horizon: int = 1, step: int = 1):
    """Cut a series into sliding windows and the value ``horizon`` steps after each.

    Parameters
    ----------
    series : array (T,) or (T, F)
        A univariate or multivariate series, oldest value first.
    window : int
        Length of each input window.
    horizon : int, default 1
        Which later value is the target: 1 = the value right after the window.
    step : int, default 1
        Distance between the starts of consecutive windows.

    Returns
    -------
    X : array (n, window, F)  (F = 1 for a 1-D series)
        ``X[i] = series[i*step : i*step + window]``.
    y : array (n,) for a 1-D series, (n, F) for a 2-D one
        ``y[i] = series[i*step + window + horizon - 1]``.
    """
    window = check_int("window", window, minimum=1)
    horizon = check_int("horizon", horizon, minimum=1)
    step = check_int("step", step, minimum=1)
    try:
        s = np.asarray(series)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"`series` could not be converted to a numeric array: {exc}") from None
    if s.dtype.kind not in "biuf":
        raise ValueError(f"`series` must be numeric; received an array of dtype {s.dtype}.")
    if s.ndim not in (1, 2):
        raise ValueError(
            f"`series` must be 1-D (T,) or 2-D (T, n_features). Received shape {s.shape}."
        )
    if s.dtype.kind != "f":
        s = s.astype(np.float64)
    n_steps = s.shape[0]
    if n_steps < window + horizon:
        raise ValueError(
            f"`series` has {n_steps} steps, too few for one window: window + horizon = "
            f"{window} + {horizon} = {window + horizon} are needed."
        )
    s2 = s.reshape(n_steps, -1)
    n = (n_steps - window - horizon) // step + 1
    starts = np.arange(n) * step
    X = s2[starts[:, None] + np.arange(window)]  # (n, window, F), a copy
    y = s[starts + window + horizon - 1].copy()
    return X, y


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}.")


class _BaseRNN(NetworkView, BaseEstimator):
    """Shared machinery of RNNRegressor and RNNClassifier."""

    def __init__(
        self,
        cell="lstm",
        units=32,
        *,
        activation="tanh",
        dense_layers=(),
        dense_activation="relu",
        optimizer="adam",
        learning_rate=0.01,
        max_iter=200,
        batch_size="auto",
        shuffle=True,
        l2=0.0,
        clip_norm=None,
        truncate=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        random_state=None,
        warm_start=False,
        verbose=False,
        convergence_warning=True,
        dtype=None,
    ):
        self.cell = cell
        self.units = units
        self.activation = activation
        self.dense_layers = dense_layers
        self.dense_activation = dense_activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.l2 = l2
        self.clip_norm = clip_norm
        self.truncate = truncate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.convergence_warning = convergence_warning
        self.dtype = dtype

    # ------------------------------------------------------------ validation
    def _dense_sizes(self) -> list[int]:
        return check_sizes("dense_layers", self.dense_layers)

    def _validate_params(self) -> None:
        check_choice("cell", self.cell, CELLS)
        check_int("units", self.units, minimum=1)
        self._dense_sizes()
        check_choice("optimizer", self.optimizer, SOLVER_NAMES)
        check_float("learning_rate", self.learning_rate, minimum=0.0, strict_min=True)
        check_int("max_iter", self.max_iter, minimum=1)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int("batch_size", self.batch_size, minimum=1)
        check_float("l2", self.l2, minimum=0.0)
        if self.clip_norm is not None:
            check_float("clip_norm", self.clip_norm, minimum=0.0, strict_min=True)
        if self.truncate is not None:
            check_int("truncate", self.truncate, minimum=1)
        check_float(
            "validation_fraction", self.validation_fraction, minimum=0.0, maximum=1.0,
            strict_min=True, strict_max=True,
        )  # fmt: skip
        check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        check_float("tol", self.tol, minimum=0.0)
        for name in ("shuffle", "early_stopping", "warm_start", "convergence_warning"):
            _check_bool(name, getattr(self, name))
        if self.dtype is not None:
            check_dtype(self.dtype)

    def _validate_X(self, X, y="no_validation", *, reset: bool, **y_checks):
        """validate_data (shape[1] counted as n_features_in_), then 2-D -> (n, T, 1)."""
        kw = dict(allow_nd=True, dtype=(np.float64, np.float32), reset=reset)
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, **kw)
        else:
            X, y = validate_data(self, X, y, **kw, **y_checks)
        if X.ndim == 2:
            X = X[:, :, np.newaxis]
        elif X.ndim != 3:
            raise ValueError(
                "`X` must be 2-D (n_samples, n_steps) or 3-D (n_samples, n_steps, n_features). "
                f"Received shape {X.shape}."
            )
        if X.shape[2] < 1:
            raise ValueError(f"`X` has 0 features per time step. Received shape {X.shape}.")
        if reset:
            self.input_shape_ = (int(X.shape[1]), int(X.shape[2]))
        elif X.shape[2] != self.input_shape_[1]:
            raise ValueError(
                f"X has {X.shape[2]} features per time step, but {type(self).__name__} is "
                f"expecting {self.input_shape_[1]} (fitted on samples of shape "
                f"{self.input_shape_}). Received shape {X.shape}."
            )
        return X, y

    # ------------------------------------------------------------------ fit
    def _build(self, n_in: int, n_out: int, out_activation: str, dtype, seed: int) -> Sequential:
        rnn = CELLS[self.cell](self.units, activation=self.activation, truncate=self.truncate)
        layers = [rnn] + [Dense(u, activation=self.dense_activation) for u in self._dense_sizes()]
        layers.append(Dense(n_out, activation=out_activation))
        return Sequential(layers, n_inputs=n_in, seed=seed, dtype=dtype)

    def _fit(self, X, y, sample_weight, incremental: bool):
        if not incremental:
            self.__dict__.pop("_partial_classes", None)  # of a failed first partial_fit
        self._validate_params()
        first = not hasattr(self, "net_") or not (self.warm_start or incremental)
        X, y = self._validate_X(X, y, reset=first, **self._y_checks)
        rs = check_random_state(self.random_state)
        if first:
            dtype = check_dtype(self.dtype) if self.dtype is not None else X.dtype
        else:
            dtype = self.net_.dtype
        Y, loss, n_out, out_act = self._targets(y, reset=first, dtype=dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        self._prepare_network(first, X.shape[2], n_out, out_act, dtype, rs)
        X = np.ascontiguousarray(X, dtype=dtype)
        callbacks, split = ([], 0.0) if incremental else self._stopping(X.shape[0])
        hist = self._train(X, Y, loss, sample_weight, callbacks, split, incremental, rs)
        self._record_history(hist, continued=incremental or not first)
        stopped = bool(callbacks) and callbacks[0].wait >= callbacks[0].patience
        if (
            self.n_iter_ >= self.max_iter
            and not (incremental or stopped)
            and self.convergence_warning
        ):
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _prepare_network(self, first: bool, n_in: int, n_out: int, out_act: str, dtype, rs):
        """A new network for a first fit (its seed drawn from ``rs``); else check that
        y has the outputs of the network being continued."""
        if first:
            seed = int(rs.randint(np.iinfo(np.int32).max))
            self.net_ = self._build(n_in, n_out, out_act, dtype, seed)
            self.loss_curve_, self.history_, self.n_iter_ = [], {}, 0
        elif self.net_.n_outputs != n_out:
            raise ValueError(
                f"warm_start/partial_fit needs y with the outputs of the first fit: the network "
                f"has {self.net_.n_outputs} output(s), y gives {n_out}."
            )

    def _stopping(self, n: int) -> tuple[list[EarlyStopping], float]:
        """fit's stopping rule (a callback) and the fraction of the n samples held out
        for validation (0.0 without early stopping)."""
        split = 0.0
        if self.early_stopping:
            n_val = int(round(self.validation_fraction * n))
            if n_val < 1 or n_val >= n:
                raise ValueError(
                    f"`validation_fraction`={self.validation_fraction} of {n} samples leaves "
                    f"{n_val} for validation and {n - n_val} for training; both need at "
                    "least one. Increase validation_fraction or the number of samples."
                )
            split = float(self.validation_fraction)
        monitor = "val_loss" if self.early_stopping else "loss"
        return [EarlyStopping(monitor, self.n_iter_no_change, self.tol, self.early_stopping)], split

    def _train(self, X, Y, loss, sample_weight, callbacks, split, incremental: bool, rs):
        """mlplab's training loop on the network: one epoch for partial_fit, else max_iter."""
        n = X.shape[0]
        batch = min(200, n) if self.batch_size == "auto" else min(self.batch_size, n)
        # partial_fit keeps the optimizer's state (Adam moments); fit/warm_start start afresh
        opt = self.net_.optimizer if incremental and self.net_.optimizer is not None else None
        try:
            return fit(
                self.net_,
                X,
                Y,
                loss=loss,
                optimizer=opt if opt is not None else self.optimizer,
                learning_rate=None if opt is not None else self.learning_rate,
                epochs=1 if incremental else self.max_iter,
                batch_size=batch,
                shuffle=self.shuffle,
                l2=self.l2,
                clip_norm=self.clip_norm,
                validation_split=split,
                sample_weight=sample_weight,
                callbacks=callbacks,
                on_nan="raise",
                diagnostics=False,
                seed=int(rs.randint(np.iinfo(np.int32).max)),
                verbose=int(self.verbose) if self.verbose in (0, 1, 2) else 1,
            )
        except TrainingDivergedError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None

    def _record_history(self, hist, *, continued: bool) -> None:
        """The fitted attributes from this call's history; a continued fit (warm start,
        partial_fit) extends ``loss_curve_``."""
        self.history_ = {k: [float(v) for v in vals] for k, vals in hist.history.items()}
        losses = self.history_["loss"]
        self.n_iter_ = len(losses)
        self.loss_ = float(losses[-1])
        self.loss_curve_ = self.loss_curve_ + losses if continued else losses

    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self)
        X, _ = self._validate_X(X, reset=False)
        return self.net_.forward_unchecked(np.ascontiguousarray(X, dtype=self.net_.dtype), False)

    def fit(self, X, y, sample_weight=None):
        """Train on X (n, T, F) or (n, T) and y; ``sample_weight`` (n,) optional."""
        return self._fit(X, y, sample_weight, incremental=False)

    # ---------------------------------------------------------- persistence
    _FITTED = ("n_iter_", "loss_", "loss_curve_", "history_", "n_features_in_", "n_outputs_")

    def __mlplab_state__(self):
        check_is_fitted(self)
        params = {}
        for k, v in self.get_params().items():
            if isinstance(v, tuple):
                v = list(v)
            elif k == "random_state" and not (v is None or isinstance(v, numbers.Integral)):
                v = None  # a RandomState object is not part of the saved model
            elif k == "dtype" and v is not None:
                v = check_dtype(v).name
            params[k] = jsonable(v)
        fitted = {k: getattr(self, k) for k in self._FITTED if hasattr(self, k)}
        fitted["input_shape_"] = list(self.input_shape_)
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(c) for c in self.feature_names_in_]
        net_config, arrays = self.net_.__mlplab_state__()
        arrays = {f"net.{k}": v for k, v in arrays.items()}
        config = {"params": params, "fitted": json_tree(fitted), "net": net_config}
        classes = getattr(self, "classes_", None)
        if classes is not None:
            if np.asarray(classes).dtype.kind in "iufb":
                arrays["classes_"] = np.asarray(classes)
            else:
                config["classes_"] = [str(c) for c in classes]
        return config, arrays

    @classmethod
    def __mlplab_restore__(cls, config, arrays):
        params = dict(config["params"])
        if isinstance(params.get("dense_layers"), list):
            params["dense_layers"] = tuple(params["dense_layers"])
        est = cls(**params)
        for k, v in from_json_tree(config["fitted"]).items():
            if k == "input_shape_":
                v = tuple(v)
            elif k == "feature_names_in_":
                v = np.asarray(v, dtype=object)
            setattr(est, k, v)
        est.net_ = Sequential.__mlplab_restore__(
            config["net"], {k[4:]: v for k, v in arrays.items() if k.startswith("net.")}
        )
        if "classes_" in arrays:
            est.classes_ = arrays["classes_"]
        elif "classes_" in config:
            est.classes_ = np.asarray(config["classes_"])
        return est

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


class RNNRegressor(RegressorMixin, _BaseRNN):
    """Recurrent network regressor: sequence (n_steps, n_features) -> value(s).

    Parameters
    ----------
    cell : "rnn", "lstm" or "gru", default "lstm"
        The recurrent layer: ``mlplab.SimpleRNN`` (Elman), ``LSTM`` or ``GRU``.
    units : int, default 32
        Size of its hidden state.
    activation : str, default "tanh"
        The cell's activation (SimpleRNN: f in h_t = f(z_t); LSTM/GRU: the candidate's).
    dense_layers : tuple of int, default ()
        Sizes of Dense layers between the recurrent layer and the output layer.
    dense_activation : str, default "relu"
        Their activation.
    optimizer : str, default "adam"
        Any mlplab optimizer name ("sgd", "momentum", "rmsprop", "adam", "lbfgs", ...).
    learning_rate : float, default 0.01
    max_iter : int, default 200
        Maximum number of epochs (L-BFGS: iterations).
    batch_size : int or "auto", default "auto"
        "auto" = min(200, n_samples), as scikit-learn's MLP.
    shuffle : bool, default True
    l2 : float, default 0.0
        L2 penalty (l2/2) ||W||^2 on the weight matrices.
    clip_norm : float, optional
        Clip the gradient to this global norm before every update (exploding gradients).
    truncate : int, optional
        Truncated BPTT: the gradient flows back at most this many steps.
    early_stopping, validation_fraction, n_iter_no_change, tol :
        Stopping, see the module docstring.
    random_state : int, RandomState or None
        Seeds the initial weights, the shuffling and the validation split.
    warm_start : bool, default False
    verbose : bool or int, default False
        True (1): a progress bar (a widget in Jupyter, text on a terminal; one line per
        epoch on stderr when it is neither); 2: one line per epoch on stderr.
    convergence_warning : bool, default True
        False silences the ConvergenceWarning (also inside parallel grid searches).
    dtype : "float32", "float64" or None
        None: follow X (float32 data trains in float32).

    Attributes
    ----------
    net_ : mlplab.Sequential
    n_features_in_ : int  (X.shape[1], the number of time steps)
    input_shape_ : (n_steps, n_features)
    n_outputs_ : int
    loss_, loss_curve_, n_iter_ : last epoch's loss, every epoch's (across warm-start and
        partial_fit calls), epochs of the last call.
    history_ : dict, the last call's per-epoch record ("loss", "grad_norm", "val_loss").
    """

    _y_checks = {"multi_output": True, "y_numeric": True}

    def _targets(self, y, reset, dtype):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        n_out = 1 if y.ndim == 1 else y.shape[1]
        if reset:
            self.n_outputs_ = n_out
        return np.asarray(y, dtype=dtype), "mse", n_out, "identity"

    def predict(self, X):
        """Predicted values: (n_samples,), or (n_samples, n_outputs) for a 2-D y."""
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing the optimizer's state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class RNNClassifier(ClassifierMixin, _BaseRNN):
    """Recurrent network classifier: sequence (n_steps, n_features) -> class label.

    Parameters as ``RNNRegressor``. Two classes: one logistic output and the
    "bce" loss; more: a softmax output and "cce". ``classes_`` holds the labels
    (sorted, as ``LabelEncoder``).
    """

    _y_checks = {}

    def _targets(self, y, reset, dtype):
        check_classification_targets(y)
        if reset:
            classes = self.__dict__.pop("_partial_classes", None)
            classes = np.unique(y) if classes is None else classes
            if len(classes) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in y; "
                    f"y has 1 class ({classes[0]!r})."
                )
            self.classes_ = classes
            self.n_outputs_ = 1
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"`y` has labels not seen in the first fit: {unknown.tolist()}; "
                f"classes_ is {self.classes_.tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return codes.astype(dtype), "bce", 1, "logistic"
        return codes, "cce", len(self.classes_), "softmax"

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``."""
        out = self._forward(X)
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted class labels."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), continuing the optimizer's state.

        ``classes`` (every label) is required on the first call.
        """
        if not hasattr(self, "net_"):
            if classes is None:
                raise ValueError("`classes` must be passed on the first call to partial_fit.")
            self._partial_classes = np.unique(classes)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes`={list(classes)} differs from classes_={self.classes_.tolist()} "
                "of the first call to partial_fit."
            )
        return self._fit(X, y, sample_weight, incremental=True)


register_saveable(RNNRegressor)
register_saveable(RNNClassifier)
