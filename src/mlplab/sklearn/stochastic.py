"""The estimators' ``sgd``/``adam`` fit: scikit-learn's epochs around the one training step.

scikit-learn's order of things, epoch by epoch: shuffle the current sample order
with the estimator's RandomState, train on consecutive batches of it (the step
is :class:`mlplab.training.step.Trainer`'s: loss and gradient, guard, clip,
update), record the epoch's mean loss, then its policies (:mod:`.rules`): the
stopping count (or, with early stopping, the validation score and the best
weights), the invscaling rate, the adaptive rate.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.model_selection import train_test_split

from mlplab.optimizers import SGD, Adam
from mlplab.sklearn.rules import batch_size_of, invscaling_rate, non_finite_weights
from mlplab.training.step import Trainer, run_epoch, sklearn_batches, sklearn_shuffle

__all__ = ["fit_stochastic", "make_optimizer"]


def make_optimizer(est: Any) -> SGD | Adam:
    """The estimator's optimizer, fresh: SGD (momentum, Nesterov) or Adam."""
    if est.solver == "sgd":
        nesterov = bool(est.nesterovs_momentum) and est.momentum > 0
        return SGD(est.learning_rate_init, momentum=est.momentum, nesterov=nesterov)
    return Adam(est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon)


def _validation_split(est: Any, X, Y, sw) -> tuple[Any, Any, Any, tuple[Any, Any, Any]]:
    """scikit-learn's early-stopping split (stratified for single-output classifiers:
    on the binarized labels as booleans, as scikit-learn, so that its error names the
    same classes; mlplab adds the user's labels)."""
    stratify = Y.astype(bool) if (is_classifier(est) and est.n_outputs_ == 1) else None
    try:
        split = train_test_split(
            X,
            Y,
            *(() if sw is None else (sw,)),
            random_state=est._random_state,
            test_size=est.validation_fraction,
            stratify=stratify,
        )
    except ValueError as exc:
        if stratify is None or "least populated class" not in str(exc):
            raise
        counts = [int((~stratify).sum()), int(stratify.sum())]  # classes_[0], classes_[1]
        few = ", ".join(
            f"{label!r} ({n} member{'s' * (n != 1)})"
            for label, n in zip(est.classes_.tolist(), counts, strict=True)
            if n < 2
        )
        raise ValueError(
            f"{exc} In the labels of y: {few}. early_stopping=True holds out a stratified "
            "validation set, so every class needs at least 2 samples: add samples of "
            "that class, or set early_stopping=False."
        ) from None
    if sw is None:
        X_train, X_val, Y_train, Y_val = split
        sw_train = sw_val = None
    else:
        X_train, X_val, Y_train, Y_val, sw_train, sw_val = split
    if X_val.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the "
            "size of your dataset."
        )
    return X_train, Y_train, sw_train, (X_val, est._decode(Y_val), sw_val)


class _EpochStats:
    """The step hook: per-layer gradient norms and the training score, over an epoch."""

    def __init__(self, est: Any) -> None:
        self.est = est
        self.reset()

    def reset(self) -> None:
        self.layer_norms = np.zeros(len(self.est._weight_grads))
        self.stats: Any = 0.0

    def __call__(self, value: float, norm: float, batch: tuple[Any, ...]) -> None:
        est = self.est
        _, Yb, swb = batch
        self.layer_norms += est._layer_grad_norms()
        # the training score as the epoch goes (Keras' convention)
        self.stats = self.stats + est._score_stats(est.net_.layers[-1].a, Yb, swb)


def fit_stochastic(est: Any, X, Y, sw, incremental: bool, val) -> Any:
    """Train ``est.net_`` with sgd/adam as scikit-learn's ``_fit_stochastic`` does; return
    what undoes the last update (None with early stopping: the best weights are restored)."""
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = make_optimizer(est)
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    if early_stopping:
        X_train, Y_train, sw_train, val = _validation_split(est, X, Y, sw)
    else:
        X_train, Y_train, sw_train = X, Y, sw
    n_samples = X_train.shape[0]
    if not isinstance(est.batch_size, str) and est.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            stacklevel=4,
        )
    batch_size = batch_size_of(est.batch_size, n_samples)
    net = est.net_
    sst = est._total_squares(Y_train, sw_train)
    epoch = _EpochStats(est)
    trainer = Trainer(
        net.theta,
        lambda theta, Xb, Yb, swb: (est._loss_grad(Xb, Yb, swb), net.grad),
        est._optimizer,
        clip_norm=est.clip_norm,
        clip_value=est.clip_value,
        hooks=[epoch],
    )
    sample_idx = np.arange(n_samples, dtype=int)

    def batches():
        for idx, count in sklearn_batches(sample_idx, batch_size, est.shuffle):
            swb = None if sw_train is None else sw_train[idx]
            yield count, (X_train[idx], Y_train[idx], swb)

    epoch_norms = []
    try:
        est.n_iter_ = 0
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(est.max_iter):
                if est.shuffle:
                    sample_idx = sklearn_shuffle(sample_idx, est._random_state)
                epoch.reset()
                result = run_epoch(trainer, batches())
                if result.diverged_at is not None:
                    trainer.undo()  # the weights of the last finite step
                    raise FloatingPointError(
                        f"non-finite loss or gradient at epoch {est.n_iter_ + 1}, "
                        f"batch {result.diverged_at + 1}"
                    )
                epoch_norms.append(epoch.layer_norms / max(result.n_batches, 1))
                if _end_epoch(est, result.total / n_samples, n_samples, epoch.stats, sst, val):
                    break
                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    est._warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                        "reached and the optimization hasn't converged yet."
                    )
    except KeyboardInterrupt:
        warnings.warn("Training interrupted by user.", stacklevel=4)
    except FloatingPointError as exc:
        _diverged(est, exc)
    finally:
        if epoch_norms:
            est.grad_norms_ = np.vstack([est.grad_norms_, np.array(epoch_norms)])
    if early_stopping:
        net.theta[...] = est._best_theta  # restore the best weights
        return None
    return trainer.undo


def _end_epoch(est: Any, loss: float, n_samples: int, stats: Any, sst: Any, val) -> bool:
    """Record the epoch and apply scikit-learn's policies; True: stop."""
    est.n_iter_ += 1
    est.loss_ = loss
    est.t_ += n_samples
    est.loss_curve_.append(est.loss_)
    est.history_["loss"].append(est.loss_)
    est.history_.setdefault("score", []).append(est._score_from(stats, sst))
    est._record_diagnostics()  # from the epoch's last batch
    if est.verbose:
        print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
    est._update_no_improvement_count(est.early_stopping, val)
    if est.learning_rate == "invscaling" and est.solver == "sgd":
        est._optimizer.learning_rate = invscaling_rate(est.learning_rate_init, est.t_, est.power_t)
    if est._no_improvement_count > est.n_iter_no_change:
        what = "Validation score" if est.early_stopping else "Training loss"
        msg = (
            f"{what} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
        if est._trigger_stopping(msg):
            return True
        est._no_improvement_count = 0
    return False


def _diverged(est: Any, exc: FloatingPointError) -> None:
    """Without early stopping: raise scikit-learn's error. With it, as scikit-learn: keep
    the best weights (restored by the caller) and warn."""
    if not est.early_stopping:
        raise non_finite_weights(f"{exc}; the weights of the last finite step were kept") from None
    est.validation_scores_.append(math.nan)
    est.history_.setdefault("val_score", []).append(math.nan)
    est.history_.setdefault("val_loss", []).append(math.nan)
    est._warn(
        f"Training diverged ({exc}); the weights of the best validation score were restored.",
        RuntimeWarning,
    )
