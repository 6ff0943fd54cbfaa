"""Weight initialisers, by name, seeded and reproducible.

An initialiser is called as ``init(shape, rng, dtype)`` and returns a new array;
``shape[0]`` is fan_in and ``shape[1]`` fan_out for a weight matrix
W of shape (n_in, n_out).

The scaled families keep the variance of activations (forward) and of
gradients (backward) roughly the same from layer to layer, which is the
lecture's mitigation of vanishing and exploding gradients by initialisation:

* Glorot/Xavier (Glorot & Bengio 2010): Var(w) = 2 / (fan_in + fan_out), for tanh/logistic.
* He/Kaiming (He et al. 2015): Var(w) = 2 / fan_in, for ReLU and its variants.
* LeCun (LeCun et al. 1998): Var(w) = 1 / fan_in, for SELU-like/linear units.

A uniform distribution on [-b, b] has variance b^2 / 3, so b = sqrt(3 Var).
``constant`` (every weight equal) shows the symmetry problem (every hidden node
learns the same thing) and, with a large value, exploding gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mlplab._checks import build_from_spec, check_choice, check_float, resolve_spec

__all__ = ["INITIALIZERS", "Initializer", "get_initializer", "VarianceScaling"]


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


@dataclass(frozen=True)
class Initializer:
    """Base class: ``init(shape, rng, dtype) -> array``."""

    name: ClassVar[str] = ""

    def __call__(self, shape: tuple[int, ...], rng: np.random.Generator, dtype: Any) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.__dict__}


@dataclass(frozen=True)
class Zeros(Initializer):
    """Every weight 0 (the default for biases)."""

    name: ClassVar[str] = "zeros"

    def __call__(self, shape, rng, dtype):
        return np.zeros(shape, dtype=dtype)


@dataclass(frozen=True)
class Ones(Initializer):
    """Every weight 1 (the default for batch-norm scales)."""

    name: ClassVar[str] = "ones"

    def __call__(self, shape, rng, dtype):
        return np.ones(shape, dtype=dtype)


@dataclass(frozen=True)
class Constant(Initializer):
    """Every weight equal to ``value``: demonstrates symmetry and exploding gradients."""

    name: ClassVar[str] = "constant"
    value: float = 0.0

    def __post_init__(self):
        check_float("value", self.value)

    def __call__(self, shape, rng, dtype):
        return np.full(shape, self.value, dtype=dtype)


@dataclass(frozen=True)
class Uniform(Initializer):
    """Uniform on [-scale, scale]."""

    name: ClassVar[str] = "uniform"
    scale: float = 0.05

    def __post_init__(self):
        check_float("scale", self.scale, minimum=0.0)

    def __call__(self, shape, rng, dtype):
        return rng.uniform(-self.scale, self.scale, size=shape).astype(dtype)


@dataclass(frozen=True)
class Normal(Initializer):
    """Normal with mean 0 and standard deviation ``scale``."""

    name: ClassVar[str] = "normal"
    scale: float = 0.05

    def __post_init__(self):
        check_float("scale", self.scale, minimum=0.0)

    def __call__(self, shape, rng, dtype):
        return (self.scale * rng.standard_normal(size=shape)).astype(dtype)


@dataclass(frozen=True)
class VarianceScaling(Initializer):
    """Var(w) = scale / n, n = fan_in, fan_out or their mean (``mode``).

    ``distribution`` is "uniform" (on [-b, b], b = sqrt(3 Var)) or "normal".
    Glorot, He and LeCun are presets of this one rule.
    """

    name: ClassVar[str] = "variance_scaling"
    scale: float = 1.0
    mode: str = "fan_avg"
    distribution: str = "uniform"

    def __post_init__(self):
        check_float("scale", self.scale, minimum=0.0, strict_min=True)
        check_choice("mode", self.mode, ("fan_in", "fan_out", "fan_avg"))
        check_choice("distribution", self.distribution, ("uniform", "normal"))

    def __call__(self, shape, rng, dtype):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(n, 1)
        if self.distribution == "uniform":
            b = math.sqrt(3.0 * var)
            return rng.uniform(-b, b, size=shape).astype(dtype)
        return (math.sqrt(var) * rng.standard_normal(size=shape)).astype(dtype)

    def config(self) -> dict[str, Any]:
        if self.name != "variance_scaling":  # a named preset: its name says it all
            return {"name": self.name}
        return super().config()


def _preset(name: str, mode: str, scale: float, distribution: str) -> type[VarianceScaling]:
    """Make a named VarianceScaling preset class (so the table can instantiate it)."""

    @dataclass(frozen=True)
    class Preset(VarianceScaling):
        pass

    Preset.name = name  # type: ignore[misc]
    Preset.__init__.__defaults__ = (scale, mode, distribution)  # type: ignore[misc]
    Preset.__name__ = Preset.__qualname__ = "".join(p.title() for p in name.split("_"))
    Preset.__doc__ = f"{name}: Var(w) = {scale:g} / {mode} ({distribution})."
    return Preset


@dataclass(frozen=True)
class Orthogonal(Initializer):
    """A random orthogonal matrix (times ``gain``): every singular value equals ``gain``.

    The default for recurrent weights W_h: repeated multiplication by an orthogonal
    matrix neither shrinks nor grows the state, so at initialisation the gradient
    through time neither vanishes nor explodes from the weights alone
    (Saxe et al. 2014). Non-square shapes get orthonormal rows or columns.
    """

    name: ClassVar[str] = "orthogonal"
    gain: float = 1.0

    def __post_init__(self):
        check_float("gain", self.gain, minimum=0.0)

    def __call__(self, shape, rng, dtype):
        rows = shape[0] if len(shape) > 1 else 1
        cols = int(np.prod(shape)) // rows
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))  # makes the distribution uniform (Haar)
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)


GlorotUniform = _preset("glorot_uniform", "fan_avg", 1.0, "uniform")  # Var = 2/(in+out)
GlorotNormal = _preset("glorot_normal", "fan_avg", 1.0, "normal")
HeUniform = _preset("he_uniform", "fan_in", 2.0, "uniform")  # Var = 2/in
HeNormal = _preset("he_normal", "fan_in", 2.0, "normal")
LecunUniform = _preset("lecun_uniform", "fan_in", 1.0, "uniform")  # Var = 1/in
LecunNormal = _preset("lecun_normal", "fan_in", 1.0, "normal")

INITIALIZERS: dict[str, type[Initializer]] = {
    cls.name: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        Uniform,
        Normal,
        VarianceScaling,
        Orthogonal,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
    )
}

ALIASES: dict[str, str] = {
    "xavier_uniform": "glorot_uniform",
    "xavier_normal": "glorot_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}


def get_initializer(spec: str | dict[str, Any] | Initializer) -> Initializer:
    """Return an initialiser from a name, a config dict (``{"name": "constant", "value": 2}``)
    or an instance."""
    if isinstance(spec, Initializer):
        return spec
    name, params = resolve_spec("initializer", spec, INITIALIZERS, ALIASES)
    cls = INITIALIZERS[name]
    if cls.name != "variance_scaling" and issubclass(cls, VarianceScaling) and params:
        raise ValueError(f"Initializer {name!r} takes no parameters; received {params}.")
    return build_from_spec("initializer", name, cls, params)
