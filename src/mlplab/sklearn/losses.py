"""scikit-learn's MLP losses, computed as scikit-learn computes them, operation for operation.

Why not :mod:`mlplab.losses`: the estimators promise scikit-learn's results to
the bit, and scikit-learn computes its losses its own way (probabilities clipped
to [eps, 1 - eps], half squared error averaged per output) and descends the *raw*
output delta: ``value_and_gradient`` returns the output activation minus y (times
the sample weight), not dL/d(out); the estimator then adds alpha W and divides
every gradient by the sample count, in scikit-learn's order. mlplab's own losses
(numerically stable on logits, gradients with their 1/N) are for ``Sequential.fit``.

The member axis: ``out``/``z`` and ``y`` are (n, k) for one network or (M, n, k)
for a stack; the value is then one per member, (M,).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from mlplab.losses import Loss

__all__ = [
    "BinaryLogLoss",
    "LogLoss",
    "PoissonLoss",
    "SquaredError",
    "raw_delta",
    "sklearn_l2",
]


def raw_delta(pred: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None) -> np.ndarray:
    """The output delta scikit-learn backpropagates: pred - y (times the sample weight)."""
    delta = pred - y
    if sample_weight is not None:
        delta *= sample_weight.reshape(-1, 1)
    return delta


def _reduce(per: np.ndarray, sample_weight: np.ndarray | None, outputs: str) -> Any:
    """Average over samples (axis -2), then the mean or the sum over outputs: a float
    for one network, an (M,) array for a stack."""
    if sample_weight is None:
        avg = per.mean(axis=-2)  # what np.average does without weights, minus its checks
    else:
        avg = np.average(per, weights=sample_weight, axis=-2)
    value = avg.mean(axis=-1) if outputs == "mean" else avg.sum(axis=-1)
    return float(value) if per.ndim == 2 else value


class _SklearnLoss(Loss):
    """scikit-learn's losses compute value and delta together; ``value`` alone (the
    end-of-fit check's loss, through ``Sequential.loss_unchecked``) takes the first."""

    def value(self, out, y, sample_weight=None):
        return self.value_and_gradient(out, y, sample_weight)[0]

    def delta(self, out, y, sample_weight=None):
        """The output delta alone (``value_and_gradient``'s second; a stack's exact=False
        kernel takes it chunk by chunk and the value once for the whole stack)."""
        return self.value_and_gradient(out, y, sample_weight)[1]


def _clipped(prob: np.ndarray) -> np.ndarray:
    eps = np.finfo(prob.dtype).eps
    return np.clip(prob, eps, 1 - eps)


class SquaredError(_SklearnLoss):
    """Half the mean squared error; delta = y_hat - y (identity output)."""

    name = "squared_error"

    def value_and_gradient(self, out, y, sample_weight=None):
        value = 0.5 * _reduce((y - out) ** 2, sample_weight, "mean")
        return value, raw_delta(out, y, sample_weight)

    def delta(self, out, y, sample_weight=None):
        return raw_delta(out, y, sample_weight)


class BinaryLogLoss(_SklearnLoss):
    """Binary cross-entropy of logistic outputs (clipped to [eps, 1 - eps]);
    delta = sigma(z) - y."""

    name = "binary_log_loss"
    link = "logistic"

    def value_and_gradient(self, z, y, sample_weight=None):
        prob = special.expit(z)
        p = _clipped(prob)
        # y is exactly 0 or 1 here, so xlogy(y, p) + xlogy(1 - y, 1 - p) is
        # log(p) or log(1 - p) bit for bit: one logarithm per element, not two.
        per = np.log(np.where(y != 0, p, 1 - p))
        return -_reduce(per, sample_weight, "sum"), raw_delta(prob, y, sample_weight)

    def delta(self, z, y, sample_weight=None):
        return raw_delta(special.expit(z), y, sample_weight)


class LogLoss(_SklearnLoss):
    """Categorical cross-entropy of softmax outputs; delta = softmax(z) - y."""

    name = "log_loss"
    link = "softmax"

    def value_and_gradient(self, z, y, sample_weight=None):
        prob = z - z.max(axis=-1)[..., np.newaxis]
        np.exp(prob, out=prob)
        prob /= prob.sum(axis=-1)[..., np.newaxis]
        per = special.xlogy(y, _clipped(prob))
        return -_reduce(per, sample_weight, "sum"), raw_delta(prob, y, sample_weight)


class PoissonLoss(_SklearnLoss):
    """Half Poisson deviance with the exp output; delta = e^z - y."""

    name = "poisson"
    link = "exp"

    def value_and_gradient(self, z, y, sample_weight=None):
        mu = np.exp(z)
        per = special.xlogy(y, y / mu) - y + mu
        return _reduce(per, sample_weight, "sum"), raw_delta(mu, y, sample_weight)


def sklearn_l2(
    value: Any,
    weights: list[np.ndarray],
    weight_grads: Any,
    grad: np.ndarray | None,
    alpha: Any,
    n: Any,
) -> Any:
    """scikit-learn's L2 penalty and scaling, in its order: return
    value + (alpha / 2) sum ||W||^2 / n, and (if ``grad`` is given) add alpha W to
    each weight gradient, then divide the whole gradient by n.

    One network: ``alpha`` a float, ``weights`` the (n_in, n_out) matrices,
    ``weight_grads`` flat views of their gradients, ``n`` the sample count (or weight sum).
    A stack: ``alpha`` (M,), ``weights`` (M, n_in, n_out) views, ``grad`` (M, P).
    """
    if np.ndim(alpha) == 0:
        squares: Any = 0
        for w in weights:
            w = w.ravel()
            squares += np.dot(w, w)
        value += (0.5 * alpha) * squares / n
        if grad is not None:
            for g, w in zip(weight_grads, weights, strict=True):
                g += alpha * w.ravel()  # g: the flat view of w's gradient
            grad /= n
        return float(value)
    M = weights[0].shape[0]
    dt = weights[0].dtype  # the scalars meet arrays of this dtype (NEP 50)
    squares = np.zeros(M, dtype=dt)
    for w in weights:
        wf = w.reshape(M, -1)
        squares += np.matmul(wf[:, None, :], wf[:, :, None])[:, 0, 0]  # = np.dot(w, w)
    value = value + (0.5 * alpha).astype(dt) * squares / dt.type(n)
    if grad is not None:
        for g, w in zip(weight_grads, weights, strict=True):
            g += alpha.astype(dt)[:, None, None] * w
        grad /= n
    return value
