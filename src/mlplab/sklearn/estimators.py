"""Drop-in scikit-learn estimators: ``MLPClassifier`` and ``MLPRegressor``.

Change one import (``from mlplab import MLPClassifier``) and scikit-learn code
runs on mlplab's engine: the same constructor parameters (names, meanings,
defaults), the same fitted attributes, the same results. With the same
``random_state`` the initial weights are scikit-learn's (its random draws,
in its order), and SGD/Adam follow scikit-learn's updates, schedules, shuffling,
early stopping and stopping rules step by step.

Extras scikit-learn lacks (keyword arguments after scikit-learn's):

* ``activation`` as a list, one per hidden layer, and every mlplab activation
  (``mlplab.ACTIVATIONS``: gelu, elu, silu, leaky_relu, prelu, ...);
* ``initializer`` (None: scikit-learn's scheme; else glorot_uniform, he_normal, ...);
* ``batch_norm`` (BatchNorm after each hidden layer's weighted sum);
* ``clip_norm`` / ``clip_value`` (gradient clipping);
* ``loss`` for the classifier ("log_loss" as scikit-learn, or "bce"/"cce" explicitly);
* ``early_stopping_monitor`` ("score" as scikit-learn, or "loss");
* ``convergence_warning=False`` silences ConvergenceWarning, also inside
  parallel grid searches (a parameter travels to the workers, a warnings
  filter does not);
* ``dtype`` (None: follow X, so float32 data trains in float32);
* ``exact`` (default True: results bit-identical to scikit-learn's).
  ``exact=False`` is a fast numerics mode: same algorithms and stopping rules as
  scikit-learn's; results equal to float tolerance, not to the bit (the logistic
  through numpy's vectorised ``exp``; stacks of networks -- grid searches,
  ``fit_many``, every lbfgs fit -- through the fused kernel of
  ``mlplab.sklearn.fused``; lbfgs through a vectorised L-BFGS of the same rules,
  see ``mlplab.training.lbfgs``). sgd/adam keep scikit-learn's epochs exactly: each
  fit's own RandomState draws a fresh permutation per epoch (scikit-learn's stream,
  also in a stack), the same batch sizes, the same stopping rules. It travels with the estimator
  (``get_params``, ``clone``, grid searches, ``fit_many``, ``mlplab.save``);
* ``fit(..., validation_data=(X_val, y_val))``;
* ``history_``: per epoch (L-BFGS: per iteration) "loss" and "score" (training
  accuracy or R²; for sgd/adam accumulated over the epoch's batches as they were
  trained, Keras' convention), and "val_loss"/"val_score" whenever validation
  data exists (early stopping, or ``fit(..., validation_data=...)``);
  ``grad_norms_`` (n_epochs, n_weight_layers): the norm of each layer's weight
  gradient, mean over the epoch's batches; ``net_`` (the underlying
  ``mlplab.Sequential``).

scikit-learn quirks matched on purpose (so results agree), and what mlplab offers:

* ``warm_start=True``: each ``fit`` runs up to ``max_iter`` *more* epochs with a
  fresh optimizer (Adam moments and learning-rate schedule restart), ``n_iter_``
  counts only that call's epochs while ``t_`` keeps accumulating. To continue
  with the optimizer's state, use ``partial_fit`` (one epoch per call).
* The output activation follows y's shape: 1-D y with two classes -> one
  logistic output; more classes -> softmax; a 2-D indicator y -> multilabel
  logistic outputs. ``loss="cce"`` forces a softmax output (also for two
  classes), ``loss="bce"`` independent logistic outputs.
* The early-stopping "validation score" is accuracy (classifier) or R²
  (regressor), and an improvement must exceed ``tol``.
  ``early_stopping_monitor="loss"`` monitors the validation loss instead.
* For multi-output regression the reported ``loss_`` averages over outputs
  but the gradient scikit-learn descends sums over them (a factor n_outputs);
  mlplab reproduces both, so the trajectories agree.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import (
    check_array,
    column_or_1d,
    validate_data,
)

from mlplab._checks import (
    check_choice,
)
from mlplab.io import register_saveable
from mlplab.sklearn.base import BaseMLP, as_dtype, stochastic_only
from mlplab.sklearn.losses import (
    BinaryLogLoss,
    LogLoss,
    PoissonLoss,
    SquaredError,
)

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's ``MLPClassifier``.

    Every parameter of scikit-learn's, with the same meaning and default, then
    mlplab's extras (see the module docstring): ``loss`` ("log_loss", "bce",
    "cce"), ``initializer``, ``batch_norm``, ``clip_norm``, ``clip_value``,
    ``early_stopping_monitor``, ``convergence_warning``, ``dtype``, ``exact``
    (``exact=False``: same algorithms and stopping rules as scikit-learn's; results
    equal to float tolerance, not to the bit).

    Examples
    --------
    >>> from mlplab import MLPClassifier
    >>> clf = MLPClassifier(hidden_layer_sizes=(2,), activation="logistic",
    ...                     solver="lbfgs", random_state=0)
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        loss="log_loss",
        initializer=None,
        batch_norm=False,
        clip_norm=None,
        clip_value=None,
        early_stopping_monitor="score",
        convergence_warning=True,
        dtype=None,
        record_diagnostics=False,
        exact=True,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            initializer=initializer,
            batch_norm=batch_norm,
            clip_norm=clip_norm,
            clip_value=clip_value,
            early_stopping_monitor=early_stopping_monitor,
            convergence_warning=convergence_warning,
            dtype=dtype,
            record_diagnostics=record_diagnostics,
            exact=exact,
        )

    _score_function = staticmethod(accuracy_score)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_choice("loss", self.loss, ("log_loss", "bce", "cce"))

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        return X, self._encode(y).astype(bool)

    def _targets(self, Y: np.ndarray, dtype) -> np.ndarray:
        Y = Y.astype(dtype)
        if self.loss == "cce" and Y.shape[1] == 1:  # softmax over both classes
            Y = np.hstack([1 - Y, Y])
        return Y

    def _encode(self, y) -> np.ndarray:
        """One-hot/indicator rows, as LabelBinarizer.transform (without its slow np.isin)."""
        lb = self._label_binarizer
        y = np.asarray(y)
        if lb.y_type_.startswith("multilabel") or y.ndim == 2:
            return lb.transform(y)
        classes = lb.classes_
        if len(classes) == 1:  # one class: LabelBinarizer gives a column of its neg_label
            return np.zeros((y.shape[0], 1), dtype=int)
        if len(classes) == 2:
            return (y == classes[1]).astype(int).reshape(-1, 1)
        return (y[:, None] == classes[None, :]).astype(int)

    def _decode(self, Y: np.ndarray):
        return self._from_output(Y)  # one-hot rows back to labels

    def _total_squares(self, Y, sw):
        return None  # accuracy needs no normaliser

    def _score_stats(self, scores, Y, sw) -> np.ndarray:
        """[weighted correct rows, total weight] from output logits or probabilities."""
        if self._loss.link is None or scores is None:
            return np.zeros(2)
        threshold = 0.0  # scores are logits: the output layer's z (fused loss)
        if Y.shape[1] > 1 and self.out_activation_ == "softmax":
            hit = scores.argmax(axis=1) == Y.argmax(axis=1)
        elif Y.shape[1] > 1 and self._label_binarizer.y_type_ == "multiclass":
            hit = scores.argmax(axis=1) == Y.argmax(axis=1)
        else:  # binary or multilabel (subset accuracy: every label right)
            hit = ((scores > threshold) == (Y > 0.5)).all(axis=1)
        if sw is None:
            return np.array([float(hit.sum()), float(hit.shape[0])])
        return np.array([float(sw[hit].sum()), float(sw.sum())])

    @staticmethod
    def _score_from(stats, sst) -> float:
        stats = np.asarray(stats, dtype=float)
        return float(stats[0] / stats[1]) if stats.shape and stats[1] > 0 else math.nan

    def _out_activation_and_loss(self):
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        if self.loss == "cce" or (self.loss == "log_loss" and multiclass):
            return "softmax", LogLoss()
        return "logistic", BinaryLogLoss()

    def _from_output(self, out: np.ndarray):
        """Class labels from output probabilities (as scikit-learn's ``_predict``)."""
        if out.shape[1] == 2 and self.loss == "cce" and len(self.classes_) == 2:
            out = out[:, 1:]
        if out.shape[1] == 1:
            out = out.ravel()
        return self._label_binarizer.inverse_transform(out)

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the model to X and y (class labels); see scikit-learn's MLPClassifier.fit.

        ``validation_data=(X_val, y_val)`` records the validation loss and accuracy
        per epoch in ``history_`` without changing the training.
        """
        self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)
        self._sync_optimizer()
        return self

    @stochastic_only
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y) with the current optimizer state (sgd and adam only).

        ``classes`` is required on the first call.
        """
        first = not hasattr(self, "classes_")
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self._label_binarizer = LabelBinarizer()
            # NaN/inf labels: scikit-learn's ValueError here, before type_of_target's cast
            # to int warns "invalid value encountered in cast"
            y_checked = check_array(y, ensure_2d=False, dtype=None, input_name="y")
            if type_of_target(y_checked).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"`classes={classes}` is not the same as on the last call to partial_fit, "
                f"was: {self.classes_}"
            )
        self._fit(X, y, sample_weight=sample_weight, incremental=True)
        self._sync_optimizer()
        return self

    def predict(self, X):
        """Predicted class labels."""
        return self._from_output(self._forward(X))

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        out = self._forward(X)
        if out.shape[1] == 1:
            p = out.ravel()
            return np.vstack([1 - p, p]).T
        return out

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def _extra_state(self, arrays):
        classes = np.asarray(self.classes_)
        lb = self._label_binarizer
        extra = {"label_type": lb.y_type_}
        if classes.dtype.kind in "iufb":
            arrays["classes_"] = classes
        else:
            extra["classes_"] = [str(c) for c in classes]
        return extra

    def _restore_extra(self, config, arrays):
        classes = arrays["classes_"] if "classes_" in arrays else np.asarray(config["classes_"])
        lb = LabelBinarizer()
        if config["label_type"].startswith("multilabel"):
            lb.fit(np.eye(len(classes), dtype=int))
        else:
            lb.fit(classes)
        self._label_binarizer = lb
        self.classes_ = lb.classes_
        self._loss = self._out_activation_and_loss()[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's ``MLPRegressor``.

    ``loss``: "squared_error" (half the mean squared error, as scikit-learn) or
    "poisson" (half Poisson deviance, exp output). Extras as MLPClassifier's.

    Examples
    --------
    >>> from mlplab import MLPRegressor
    >>> reg = MLPRegressor(hidden_layer_sizes=(20,), activation="logistic",
    ...                    solver="lbfgs", max_iter=5000, random_state=0)
    """

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        initializer=None,
        batch_norm=False,
        clip_norm=None,
        clip_value=None,
        early_stopping_monitor="score",
        convergence_warning=True,
        dtype=None,
        record_diagnostics=False,
        exact=True,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            initializer=initializer,
            batch_norm=batch_norm,
            clip_norm=clip_norm,
            clip_value=clip_value,
            early_stopping_monitor=early_stopping_monitor,
            convergence_warning=convergence_warning,
            dtype=dtype,
            record_diagnostics=record_diagnostics,
            exact=exact,
        )

    _score_function = staticmethod(r2_score)

    def _validate_params(self) -> None:
        super()._validate_params()
        check_choice("loss", self.loss, ("squared_error", "poisson"))

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (np.any(y < 0) or np.sum(y) <= 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for Poisson regression "
                "(or all are 0)."
            )
        return X, y

    def _targets(self, Y: np.ndarray, dtype) -> np.ndarray:
        return np.ascontiguousarray(as_dtype(np.asarray(Y), dtype, "y"))

    def _encode(self, y) -> np.ndarray:
        y = np.asarray(y)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _decode(self, Y: np.ndarray):
        return Y

    def _total_squares(self, Y, sw):
        """Per-output total sum of squares around the (weighted) mean: R²'s normaliser.
        It overflows for a y near the float range; then R² is nan and the training's
        own check raises the clear error (numpy's warning would only come first)."""
        with np.errstate(over="ignore", invalid="ignore"):
            mean = np.average(Y, weights=sw, axis=0)
            d = (Y - mean) ** 2
        return (d if sw is None else d * sw[:, None]).sum(axis=0)

    def _score_stats(self, scores, Y, sw) -> np.ndarray:
        """Per-output weighted sum of squared errors."""
        pred = np.exp(scores) if self.loss == "poisson" else scores
        d = (pred - Y) ** 2
        return (d if sw is None else d * sw[:, None]).sum(axis=0)

    @staticmethod
    def _score_from(sse, sst) -> float:
        sse = np.asarray(sse, dtype=float)
        if sse.shape == (1,):  # one output: the same arithmetic on floats (no errstate, where)
            s = float(sst[0])
            return 1.0 - float(sse[0]) / s if s > 0 else 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
        return float(np.mean(r2))  # uniform average over outputs, as r2_score

    def _out_activation_and_loss(self):
        if self.loss == "poisson":
            return "exp", PoissonLoss()
        return "identity", SquaredError()

    def _from_output(self, out: np.ndarray):
        if self.loss == "poisson":
            out = np.exp(out)
        return out.ravel() if out.shape[1] == 1 else out

    def _restore_extra(self, config, arrays):
        self._loss = self._out_activation_and_loss()[1]

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the model to X and y; see scikit-learn's MLPRegressor.fit.

        ``validation_data=(X_val, y_val)`` records the validation loss and R² per
        epoch in ``history_`` without changing the training.
        """
        self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)
        self._sync_optimizer()
        return self

    @stochastic_only
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) with the current optimizer state (sgd and adam only)."""
        self._fit(X, y, sample_weight=sample_weight, incremental=True)
        self._sync_optimizer()
        return self

    def predict(self, X):
        """Predicted values, (n_samples,) or (n_samples, n_outputs)."""
        return self._from_output(self._forward(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


register_saveable(MLPClassifier)
register_saveable(MLPRegressor)
