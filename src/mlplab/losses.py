"""Loss functions: ``value(out, y)`` and ``gradient(out, y)`` side by side.

``gradient`` returns dL/d(out) and carries the 1/N of the mean, so layers never
divide by the batch size.

Cross-entropy losses take **logits** (pre-activation outputs) and use the
fused, numerically stable forms:

* ``bce``: L = softplus(z) - y z = -[y log sigma(z) + (1 - y) log(1 - sigma(z))],
  dL/dz = sigma(z) - y.
* ``cce``: L = logsumexp(z) - sum_k y_k z_k = -sum_k y_k log softmax(z)_k,
  dL/dz = softmax(z) - y.

How they pair with the last layer: end the network with
``Dense(k, activation="identity")`` (outputs are logits), or with
``activation="logistic"`` for ``bce`` / ``"softmax"`` for ``cce`` (outputs are
probabilities). In the second case ``Sequential`` hands the layer's
pre-activation ``z`` to the loss and starts backpropagation from
dL/dz = sigma(z) - y (or softmax(z) - y): the output activation's derivative
is never multiplied in, so nothing saturates or underflows
(the "canonical link", as in scikit-learn's MLP). Any other last activation
with a cross-entropy loss is rejected.

``reduction``: ``"mean"`` averages over every element (N samples x K outputs,
as PyTorch and Keras do); ``"sample"`` sums over the outputs and averages over
samples (scikit-learn's convention for multi-output losses). ``cce`` always
sums over classes. ``MSE(half=True)`` is scikit-learn's squared loss, with the
factor 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import special

from mlplab._checks import as_float_array, build_from_spec, check_choice, resolve_spec

__all__ = ["BCE", "CCE", "LOSSES", "Loss", "MSE", "get_loss"]


def _weights(sw: np.ndarray | None, n: int, k: int, reduction: str) -> tuple[Any, float]:
    """Return (row weights or 1, denominator) for a weighted mean."""
    per_row = 1 if reduction == "sample" else k
    if sw is None:
        return 1.0, float(n * per_row)
    return sw[:, None], float(sw.sum() * per_row)


@dataclass(frozen=True)
class Loss:
    """Base class. ``link`` names the output activation the loss fuses with."""

    name: ClassVar[str] = ""
    link: ClassVar[str | None] = None
    reduction: str = "mean"

    def __post_init__(self):
        check_choice("reduction", self.reduction, ("mean", "sample"))

    def value(
        self, out: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> float:
        raise NotImplementedError

    def gradient(
        self, out: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> np.ndarray:
        raise NotImplementedError

    def value_and_gradient(
        self, out: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """Both at once (subclasses share the work between them)."""
        return self.value(out, y, sample_weight), self.gradient(out, y, sample_weight)

    def prepare_targets(self, y: Any, n_outputs: int, dtype: np.dtype) -> np.ndarray:
        """Return y as a 2-D (n, n_outputs) array of ``dtype``, or raise a clear error."""
        arr = as_float_array("y", y, dtype)
        if arr.ndim == 1 and n_outputs == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2 or arr.shape[1] != n_outputs:
            raise ValueError(
                f"`y` must have shape (n_samples, {n_outputs}) to match the network's "
                f"{n_outputs} output(s)"
                + (" (or (n_samples,))" if n_outputs == 1 else "")
                + f". Received shape {arr.shape}."
            )
        return np.ascontiguousarray(arr)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.__dict__}


@dataclass(frozen=True)
class MSE(Loss):
    """Mean squared error, the lecture's J_e = (1/N) sum (y_hat - y)^2.

    dJ/dy_hat = 2 (y_hat - y) / N.  ``half=True``: J = (1/2N) sum (y_hat - y)^2,
    dJ/dy_hat = (y_hat - y) / N (scikit-learn's squared loss).
    """

    name: ClassVar[str] = "mse"
    half: bool = False

    def value(self, out, y, sample_weight=None):
        w, denom = _weights(sample_weight, out.shape[0], out.shape[1], self.reduction)
        r = out - y
        c = 0.5 if self.half else 1.0
        return float(c * np.sum(w * r * r) / denom)

    def gradient(self, out, y, sample_weight=None):
        return self.value_and_gradient(out, y, sample_weight)[1]

    def value_and_gradient(self, out, y, sample_weight=None):
        r = out - y
        if sample_weight is None:
            n, k = out.shape
            denom = float(n * k if self.reduction == "mean" else n)
            rr = r.ravel()
            value = float(rr.dot(rr)) / denom  # sum of squares, one BLAS call
        else:
            w, denom = _weights(sample_weight, out.shape[0], out.shape[1], self.reduction)
            value = float(np.sum(w * r * r)) / denom
            r *= w
        if self.half:
            value *= 0.5
        r *= (1.0 if self.half else 2.0) / denom  # dJ/dy_hat, in place on our temporary
        return value, r


@dataclass(frozen=True)
class BCE(Loss):
    """Binary cross-entropy on logits z, one independent 0/1 target per output.

    L = softplus(z) - y z = (1 - y) max(z, 0) + y max(-z, 0) + log(1 + e^-|z|), the last
    form computed: every term >= 0, so nothing cancels and L keeps full relative precision
    for any finite z (logit 1e4 on the wrong class gives 1e4, not inf; on the right class
    log1p(e^-30) = 9.4e-14, not the rounding error of 30 - 30);  dL/dz = sigma(z) - y.
    """

    name: ClassVar[str] = "bce"
    link: ClassVar[str | None] = "logistic"

    def value(self, out, y, sample_weight=None):
        w, denom = _weights(sample_weight, out.shape[0], out.shape[1], self.reduction)
        per = np.logaddexp(0.0, -np.abs(out))  # log(1 + e^-|z|)
        per += out * ((out >= 0) - y)  # (1 - y) max(z, 0) + y max(-z, 0): one product
        return float(np.sum(w * per) / denom)

    def gradient(self, out, y, sample_weight=None):
        w, denom = _weights(sample_weight, out.shape[0], out.shape[1], self.reduction)
        g = special.expit(out) - y
        g *= 1.0 / denom
        if sample_weight is not None:
            g *= w
        return g.astype(out.dtype, copy=False)

    def prepare_targets(self, y, n_outputs, dtype):
        arr = super().prepare_targets(y, n_outputs, dtype)
        if ((arr < 0) | (arr > 1)).any():
            raise ValueError(
                "`y` for the 'bce' loss must hold probabilities in [0, 1] (usually 0/1 labels). "
                f"Received values in [{arr.min():g}, {arr.max():g}]."
            )
        return arr


@dataclass(frozen=True)
class CCE(Loss):
    """Categorical cross-entropy on logits z (one row of K class scores per sample).

    L = logsumexp(z) - sum_k y_k z_k, averaged over samples;
    dL/dz = softmax(z) - y. Targets: one-hot/probability rows, or integer labels 0..K-1.
    Both come from one exponential pass over z - max(z) (no overflow for any finite z).
    L is computed as (max(z) - sum_k y_k z_k) + log1p(sum of e^(z_j - max) over the other
    classes): a confidently right row keeps its tiny loss instead of rounding it to 0.
    """

    name: ClassVar[str] = "cce"
    link: ClassVar[str | None] = "softmax"
    reduction: str = "sample"

    @staticmethod
    def _exp_shifted(out):
        """(max, e = exp(z - max), sum of e without the max's own 1, that 1 added back)."""
        m = out.max(axis=1, keepdims=True)  # subtract the row max: exp never overflows
        e = np.exp(out - m)
        top = (np.arange(out.shape[0]), out.argmax(axis=1))
        e[top] = 0.0  # exp(0) = 1 at the max: summed apart, so log1p keeps the rest exact
        rest = e.sum(axis=1, keepdims=True)
        e[top] = 1.0
        return m, e, rest

    def value(self, out, y, sample_weight=None):
        return self.value_and_gradient(out, y, sample_weight, need_grad=False)[0]

    def gradient(self, out, y, sample_weight=None):
        return self.value_and_gradient(out, y, sample_weight)[1]

    def value_and_gradient(self, out, y, sample_weight=None, need_grad=True):
        w, denom = _weights(sample_weight, out.shape[0], 1, "sample")
        m, e, rest = self._exp_shifted(out)
        # logsumexp(z) - y.z, the exact-zero part (max - y.z) first, then log(sum e)
        per = (m - np.sum(y * out, axis=1, keepdims=True)) + np.log1p(rest)
        value = float(np.sum(w * per) / denom)
        if not need_grad:
            return value, None
        e /= rest + 1.0  # softmax(z)
        e -= y
        e *= 1.0 / denom
        if sample_weight is not None:
            e *= w
        return value, e.astype(out.dtype, copy=False)

    def prepare_targets(self, y, n_outputs, dtype):
        arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
        if arr.ndim == 1 and arr.dtype.kind in "iub":
            if arr.size == 0:
                raise ValueError("`y` is empty (shape (0,)); at least one sample is needed.")
            if arr.min() < 0 or arr.max() >= n_outputs:
                raise ValueError(
                    f"`y` integer class labels must lie in 0..{n_outputs - 1} for a network "
                    f"with {n_outputs} outputs. Received labels in [{arr.min()}, {arr.max()}]."
                )
            arr = arr.astype(np.int64)  # bool labels are 0/1 labels, not a mask
            onehot = np.zeros((arr.shape[0], n_outputs), dtype=dtype)
            onehot[np.arange(arr.shape[0]), arr] = 1
            return onehot
        out = super().prepare_targets(y, n_outputs, dtype)
        if ((out < 0) | (out > 1)).any():
            raise ValueError(
                "`y` for the 'cce' loss must be one-hot rows (or class probabilities) or "
                f"integer labels. Received values in [{out.min():g}, {out.max():g}]."
            )
        return out


LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in (MSE, BCE, CCE)}

_DEFAULTS: dict[str, Loss] = {name: cls() for name, cls in LOSSES.items()}

ALIASES = {
    "squared_error": "mse",
    "binary_crossentropy": "bce",
    "log_loss": "bce",
    "categorical_crossentropy": "cce",
    "cross_entropy": "cce",
}


def get_loss(spec: str | dict[str, Any] | Loss) -> Loss:
    """Return a Loss from a name (``"mse"``, ``"bce"``, ``"cce"``), a config dict or an instance."""
    if isinstance(spec, Loss):
        return spec
    if isinstance(spec, str) and spec in _DEFAULTS:
        return _DEFAULTS[spec]  # losses are immutable: share the default instances
    name, params = resolve_spec("loss", spec, LOSSES, ALIASES)
    return build_from_spec("loss", name, LOSSES[name], params)
