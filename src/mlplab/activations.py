"""Activation functions, each with its derivative right beside it.

A node computes the weighted sum ``z = w^T x`` (the lecture writes ``g``) and
outputs ``a = f(z)``. Backpropagation needs ``f'(z)``: ``derivative(z, a)``
receives both ``z`` and ``a = f(z)`` so that each function can use the cheaper
form (logistic: ``a (1 - a)``; tanh: ``1 - a**2``; GELU, SiLU, softplus and ELU
need ``z``).

Kinks. ReLU, leaky ReLU, PReLU and ELU are not differentiable at ``z = 0``
(the lecture calls ReLU's derivative there undefined). mlplab uses the
*left* derivative at 0: ReLU ``f'(0) = 0``, leaky ReLU/PReLU ``f'(0) = slope``,
ELU ``f'(0) = alpha``. These are the values PyTorch and scikit-learn use, so
gradients agree with both. The step function has ``f'(z) = 0`` for every
``z != 0`` (undefined at 0): nothing can be learned through it, so training
through a step activation raises an error that says why.

Every function is numerically stable for any finite input: no overflow,
no ``inf - inf``, no ``0 * inf`` (underflow to 0 is allowed and harmless).

``ACTIVATIONS`` is the single table of names; the CLI, the estimators and the
tests read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import special

from mlplab._checks import build_from_spec, check_float, resolve_spec

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ELU",
    "GELU",
    "Identity",
    "LeakyReLU",
    "Logistic",
    "PReLU",
    "ReLU",
    "SiLU",
    "Softmax",
    "Softplus",
    "Step",
    "Tanh",
    "get_activation",
    "NotDifferentiableError",
]


class NotDifferentiableError(ValueError):
    """Raised when training would need the derivative of the step function."""


@dataclass(frozen=True)
class Activation:
    """Elementwise ``a = f(z)`` with ``f'(z)`` beside it. Subclasses set ``name``."""

    name: ClassVar[str] = ""
    #: False for softmax, whose Jacobian is not diagonal.
    elementwise: ClassVar[bool] = True
    #: True for PReLU, whose slope is a trained parameter of the layer using it.
    learnable: ClassVar[bool] = False
    #: (L, c): |f(z)| <= L |z| + c, and f(z) finite, for every finite z; None: unknown.
    GROWTH: ClassVar[tuple[float, float] | None] = None

    def growth(self) -> tuple[float, float] | None:
        """(L, c) with |f(z)| <= L |z| + c for every finite z (None: unknown): bounds a
        network's outputs from its weights alone (``Sequential.loss_surely_finite``)."""
        return self.GROWTH

    def forward(self, z: np.ndarray) -> np.ndarray:
        """Return ``a = f(z)``."""
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return ``f'(z)``; ``a = f(z)`` is given too, for the cheap forms."""
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
        """Chain rule through the activation: ``dL/dz = dL/da * f'(z)``."""
        return da * self.derivative(z, a)

    # In-place forms for a stack of networks (mlplab.sklearn.batched), whose work arrays
    # are reused: the same arithmetic as forward/backward, bit for bit. ``z`` may be the
    # array being overwritten, so the derivative forms read ``a`` where they can.
    def forward_(self, z: np.ndarray) -> np.ndarray:
        """``z <- f(z)`` in place; return z."""
        np.copyto(z, self.forward(z))
        return z

    def backward_(self, a: np.ndarray, da: np.ndarray, tmp: np.ndarray | None = None) -> None:
        """``da <- da * f'(z)`` in place, from the output ``a`` only (``tmp``: a work
        array shaped as ``a``). Only for the activations whose f' is a function of a."""
        raise NotImplementedError(f"{self.name!r} needs z for its derivative")

    def config(self) -> dict[str, Any]:
        """Return the JSON-able spec that ``get_activation`` turns back into this object."""
        params = {k: v for k, v in self.__dict__.items()}
        return {"name": self.name, **params}

    def __str__(self) -> str:
        cfg = self.config()
        params = ", ".join(f"{k}={v!r}" for k, v in cfg.items() if k != "name")
        return f"{self.name}({params})" if params else self.name


@dataclass(frozen=True)
class Identity(Activation):
    """f(z) = z;  f'(z) = 1. The usual output of a regression network."""

    name: ClassVar[str] = "identity"
    GROWTH: ClassVar[tuple[float, float] | None] = (1.0, 0.0)

    def forward(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)

    def backward(self, z, a, da):
        return da  # f'(z) = 1: the gradient passes through unchanged

    def forward_(self, z):
        return z

    def backward_(self, a, da, tmp=None):
        pass


@dataclass(frozen=True)
class Step(Activation):
    """f(z) = 1 if z >= 0 else 0 (Heaviside, with f(0) = 1).

    f'(z) = 0 for every z != 0 and is undefined at 0, so gradient descent gets
    no signal through it: it is for demonstration (the perceptron) only.
    ``derivative`` returns zeros (for plots); ``backward`` raises.
    """

    name: ClassVar[str] = "step"
    GROWTH: ClassVar[tuple[float, float] | None] = (0.0, 1.0)

    def forward(self, z):
        return (z >= 0).astype(z.dtype)

    def derivative(self, z, a):
        return np.zeros_like(z)

    def backward(self, z, a, da):
        raise NotDifferentiableError(
            "Cannot train through the 'step' activation: its derivative is 0 "
            "everywhere except at 0 (where it is undefined), so every gradient "
            "through it is 0 and gradient descent cannot learn. Use 'logistic' "
            "(its smooth version) or 'relu'."
        )


@dataclass(frozen=True)
class Logistic(Activation):
    """f(z) = 1 / (1 + e^-z);  f'(z) = f(z) (1 - f(z)) = a (1 - a), at most 0.25 (z = 0).

    Saturates: a -> 1 and f'(z) -> 0 as z -> inf (a -> 0 as z -> -inf).
    float64 uses ``scipy.special.expit`` (exact for any finite z); float32 uses
    the identity f(z) = 0.5 tanh(z / 2) + 0.5, several times faster and within
    float32 rounding.

    ``exact=False`` (the estimators' fast numerics, ``get_activation(.., exact=False)``):
    float64 computes 1 / (1 + e^-z) with numpy's vectorised ``exp`` (about 3x faster than
    ``expit``), -z clipped at 700 first so that ``exp`` never overflows (f(z) < 1e-304
    there: the clip changes no value by more than that); equal to ``expit`` within a few
    units in the last place, not to the bit.
    """

    name: ClassVar[str] = "logistic"
    GROWTH: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    exact: bool = True

    def forward(self, z):
        # (the float64 dtype is a singleton: one identity test spares the slower == test)
        if z.dtype is not _FLOAT64 and z.dtype == np.float32:
            return _half_tanh_(np.multiply(z, 0.5))
        if not self.exact:
            return _exp_logistic_(np.negative(z))
        return special.expit(z)

    def forward_(self, z):
        if z.dtype == np.float32:
            return _half_tanh_(np.multiply(z, 0.5, out=z))
        if not self.exact:
            return _exp_logistic_(np.negative(z, out=z))
        return special.expit(z, out=z)

    def config(self):
        return {"name": self.name} if self.exact else {"name": self.name, "exact": False}

    def derivative(self, z, a):
        return a * (1.0 - a)

    def backward(self, z, a, da):
        return da * a * (1.0 - a)  # dL/dz = dL/da * a (1 - a)

    def backward_(self, a, da, tmp=None):
        da *= a  # da * a * (1 - a), the same order of operations
        tmp = np.subtract(1.0, a, out=tmp)
        da *= tmp


_FLOAT64 = np.dtype(np.float64)


def _exp_logistic_(t: np.ndarray) -> np.ndarray:
    """In place on t = -z: the logistic as 1 / (1 + e^t), t clipped at 700 (no overflow)."""
    np.minimum(t, 700.0, out=t)
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def _half_tanh_(h: np.ndarray) -> np.ndarray:
    """In place on h = z / 2: the logistic as 0.5 tanh(z / 2) + 0.5 (float32's fast form)."""
    np.tanh(h, out=h)
    h *= 0.5
    h += 0.5
    return h


@dataclass(frozen=True)
class Tanh(Activation):
    """f(z) = tanh(z);  f'(z) = 1 - tanh(z)^2 = 1 - a^2, at most 1 (z = 0)."""

    name: ClassVar[str] = "tanh"
    GROWTH: ClassVar[tuple[float, float] | None] = (0.0, 1.0)

    def forward(self, z):
        return np.tanh(z)

    def forward_(self, z):
        return np.tanh(z, out=z)

    def derivative(self, z, a):
        return 1.0 - a * a

    def backward(self, z, a, da):
        return da * (1.0 - a * a)  # dL/dz = dL/da * (1 - a^2)

    def backward_(self, a, da, tmp=None):
        tmp = np.multiply(a, a, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        da *= tmp


@dataclass(frozen=True)
class ReLU(Activation):
    """f(z) = max(0, z);  f'(z) = 1 for z > 0, 0 for z <= 0 (f'(0) = 0 chosen)."""

    name: ClassVar[str] = "relu"
    GROWTH: ClassVar[tuple[float, float] | None] = (1.0, 0.0)

    def forward(self, z):
        return np.maximum(z, 0)

    def forward_(self, z):
        return np.maximum(z, 0, out=z)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, da):
        return da * (z > 0)  # dL/dz = dL/da where the unit is active, else 0

    def backward_(self, a, da, tmp=None):
        da *= a > 0  # a > 0 exactly where z > 0


@dataclass(frozen=True)
class LeakyReLU(Activation):
    """f(z) = z for z > 0, slope * z otherwise;  f'(z) = 1 or slope (f'(0) = slope)."""

    name: ClassVar[str] = "leaky_relu"
    slope: float = 0.01

    def __post_init__(self):
        check_float("slope", self.slope)

    def growth(self):
        return (max(1.0, abs(self.slope)), 0.0)

    def forward(self, z):
        return np.where(z > 0, z, z * self.slope)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def backward(self, z, a, da):
        return np.where(z > 0, da, da * self.slope)


@dataclass(frozen=True)
class PReLU(Activation):
    """Parametric ReLU: f(z) = z for z > 0, alpha * z otherwise, alpha learned per node.

    As a plain function it uses the fixed ``alpha`` given here (its initial
    value, 0.25 as in He et al. 2015). Inside ``Dense(..., activation="prelu")``
    or the ``PReLU`` layer, alpha is a trained parameter (one per node), passed to
    ``apply`` / ``backward_with``: dL/dalpha = sum over samples of dL/da * min(z, 0).
    f'(0) = alpha.
    """

    name: ClassVar[str] = "prelu"
    learnable: ClassVar[bool] = True
    alpha: float = 0.25

    def __post_init__(self):
        check_float("alpha", self.alpha)

    @staticmethod
    def apply(z: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
        """a = z for z > 0, alpha * z otherwise (alpha broadcast per node)."""
        return np.where(z > 0, z, z * alpha)

    @staticmethod
    def backward_with(
        z: np.ndarray, alpha: np.ndarray | float, da: np.ndarray, dalpha: np.ndarray | None = None
    ) -> np.ndarray:
        """Return dL/dz; with ``dalpha``, also write dL/dalpha = sum_n dL/da * min(z, 0)."""
        if dalpha is not None:
            np.sum(da * np.minimum(z, 0), axis=0, out=dalpha)  # da/dalpha = z where z <= 0
        return np.where(z > 0, da, da * alpha)  # da/dz = 1 or alpha

    @staticmethod
    def derivative_with(z: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
        """f'(z) = 1 for z > 0, alpha otherwise (alpha broadcast per node)."""
        return np.where(z > 0, 1.0, alpha)

    def forward(self, z):
        return self.apply(z, self.alpha)

    def derivative(self, z, a):
        return self.derivative_with(z, self.alpha).astype(z.dtype)

    def backward(self, z, a, da):
        return self.backward_with(z, self.alpha, da)


@dataclass(frozen=True)
class GELU(Activation):
    """Gaussian error linear unit (Hendrycks & Gimpel 2016).

    Exact: f(z) = z Phi(z), Phi the standard normal CDF;
    f'(z) = Phi(z) + z phi(z), phi the standard normal density.
    ``approximate=True`` uses 0.5 z (1 + tanh(u)), u = sqrt(2/pi) (z + 0.044715 z^3),
    with f'(z) = 0.5 (1 + tanh(u)) + 0.5 z (1 - tanh(u)^2) du/dz.
    """

    name: ClassVar[str] = "gelu"
    GROWTH: ClassVar[tuple[float, float] | None] = (1.0, 0.0)
    approximate: bool = False

    _C: ClassVar[float] = math.sqrt(2.0 / math.pi)
    _K: ClassVar[float] = 0.044715

    def _tanh_u(self, z):
        # tanh(u) is +-1 to machine precision beyond |z| = 10; clipping keeps
        # z^3 from overflowing for huge |z| without changing the result.
        zc = np.clip(z, -10.0, 10.0)
        return zc, np.tanh(self._C * (zc + self._K * zc**3))

    def forward(self, z):
        if self.approximate:
            _, t = self._tanh_u(z)
            return 0.5 * z * (1.0 + t)
        return z * special.ndtr(z)

    def derivative(self, z, a):
        if self.approximate:
            zc, t = self._tanh_u(z)
            du = self._C * (1.0 + 3.0 * self._K * zc * zc)
            return 0.5 * (1.0 + t) + 0.5 * zc * (1.0 - t * t) * du
        # phi(z) = exp(-z^2/2)/sqrt(2 pi); z*phi(z) underflows to 0 for large |z|.
        zc = np.clip(z, -40.0, 40.0)  # phi(40) = 0 in float64; avoids z*z overflow
        pdf = np.exp(-0.5 * zc * zc) / math.sqrt(2.0 * math.pi)
        return special.ndtr(z) + zc * pdf


@dataclass(frozen=True)
class SiLU(Activation):
    """Sigmoid linear unit (swish): f(z) = z sigma(z);
    f'(z) = sigma(z) (1 + z (1 - sigma(z)))."""

    name: ClassVar[str] = "silu"
    GROWTH: ClassVar[tuple[float, float] | None] = (1.0, 0.0)

    def forward(self, z):
        return z * special.expit(z)

    def derivative(self, z, a):
        s = special.expit(z)
        return s * (1.0 + z * (1.0 - s))


@dataclass(frozen=True)
class Softplus(Activation):
    """f(z) = log(1 + e^z) (a smooth ReLU);  f'(z) = sigma(z), the logistic function."""

    name: ClassVar[str] = "softplus"
    GROWTH: ClassVar[tuple[float, float] | None] = (1.0, 0.7)

    def forward(self, z):
        return np.logaddexp(0.0, z).astype(z.dtype, copy=False)  # no overflow for large z

    def derivative(self, z, a):
        return special.expit(z)


@dataclass(frozen=True)
class ELU(Activation):
    """f(z) = z for z > 0, alpha (e^z - 1) otherwise;
    f'(z) = 1 for z > 0, alpha e^z (= a + alpha) otherwise (f'(0) = alpha)."""

    name: ClassVar[str] = "elu"
    alpha: float = 1.0

    def __post_init__(self):
        check_float("alpha", self.alpha)

    def growth(self):
        return (1.0, abs(self.alpha))

    def forward(self, z):
        # expm1 on min(z, 0): no overflow for large positive z, exact near 0.
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def derivative(self, z, a):
        # alpha e^z directly (a + alpha would cancel catastrophically for z << 0)
        return np.where(z > 0, 1.0, self.alpha * np.exp(np.minimum(z, 0))).astype(z.dtype)


@dataclass(frozen=True)
class Softmax(Activation):
    """Row-wise softmax for class probabilities: a_k = e^{z_k} / sum_j e^{z_j}.

    Not elementwise: da_k/dz_j = a_k (delta_kj - a_j), so
    dL/dz = a * (dL/da - sum_k dL/da_k a_k). ``derivative`` returns the
    Jacobian's diagonal a (1 - a) (for plots). As the last layer with the
    ``cce`` loss, the fused gradient softmax(z) - y is used instead.
    """

    name: ClassVar[str] = "softmax"
    GROWTH: ClassVar[tuple[float, float] | None] = (0.0, 1.0)
    elementwise: ClassVar[bool] = False

    def forward(self, z):
        return special.softmax(z, axis=-1)  # subtracts the row max: no overflow

    def derivative(self, z, a):
        return a * (1.0 - a)

    def backward(self, z, a, da):
        return a * (da - np.sum(da * a, axis=-1, keepdims=True))


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls
    for cls in (
        Identity,
        Step,
        Logistic,
        Tanh,
        ReLU,
        LeakyReLU,
        PReLU,
        GELU,
        SiLU,
        Softplus,
        ELU,
        Softmax,
    )
}

#: Other spellings users bring from scikit-learn, Keras and PyTorch.
ALIASES: dict[str, str] = {
    "linear": "identity",
    "sigmoid": "logistic",
    "swish": "silu",
    "heaviside": "step",
}


def get_activation(spec: str | dict[str, Any] | Activation, *, exact: bool = True) -> Activation:
    """Return an Activation from a name (``"gelu"``), a config dict or an instance.

    Examples: ``get_activation("leaky_relu")``,
    ``get_activation({"name": "elu", "alpha": 0.5})``.
    ``exact=False`` gives the fast form of an activation that has one (the logistic's
    ``exact=False``: equal to float tolerance, not to the bit); the others are unchanged.
    """
    if isinstance(spec, Activation):
        act = spec
    else:
        name, params = resolve_spec("activation", spec, ACTIVATIONS, ALIASES)
        act = build_from_spec("activation", name, ACTIVATIONS[name], params)
    if not exact and isinstance(act, Logistic) and act.exact:
        return Logistic(exact=False)
    return act
