"""What the deep-network experiments of lecture sections 2 and 5 (``mitigations``,
``dying-relu``, ``failure-lab``) share: two interleaved spirals, the deep network, training
with its expected warnings recorded, the gradient doctor in both languages, and the
accuracy and loss of a logit-output network.

Twins. All the networks of one comparison are built with the same ``seed`` and
normal initialisers (``normal``, ``glorot_normal``, ``he_normal``), so they
consume the same standard-normal draws: the weights of two configurations with
the same initialiser are identical, and with different initialisers they are the
same draw rescaled per layer. Training uses the same ``seed`` too, so every
configuration sees the same mini-batches in the same order. The experiments
check this on the built networks and report it (``twins``).
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, NamedTuple

import numpy as np

from mlplab._checks import check_int
from mlplab.diagnostics import Diagnosis, GradientWarning, diagnose
from mlplab.experiments._common import dense_layers
from mlplab.layers import ActivationLayer, BatchNorm, Dense
from mlplab.network import Sequential

_DIVERGED = re.compile(r"Training diverged")
_GW_KIND = re.compile(r": (\w+) gradient flow")


def spirals(n: int, seed: int, noise: float = 0.1, turns: float = 1.25):
    """Two interleaved spirals (``turns`` turns each) plus Gaussian noise, standardised.

    A non-linear boundary that a deep net must bend several times.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    cls = np.r_[np.zeros(half, dtype=np.int64), np.ones(n - half, dtype=np.int64)]
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * turns * 2 * np.pi  # uniform density in the plane
    angle = t + np.pi * cls
    r = t / (turns * np.pi)
    X = np.c_[r * np.cos(angle), r * np.sin(angle)] + noise * rng.standard_normal((n, 2))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    perm = rng.permutation(n)
    return X[perm], cls[perm]


def deep(
    activation: str,
    init: Any,
    *,
    depth: int,
    width: int,
    seed: int,
    n_inputs: int = 2,
    batch_norm: bool = False,
    bias_init: Any = "zeros",
) -> Sequential:
    """``depth`` hidden layers of ``width`` nodes and one identity output (logit)."""
    layers: list[Any] = []
    for _ in range(depth):
        if batch_norm:  # z = xW + b -> standardise, shift and scale -> f
            layers += [Dense(width, init=init), BatchNorm(), ActivationLayer(activation)]
        else:
            layers.append(Dense(width, activation, init=init, bias_init=bias_init))
    layers.append(Dense(1))
    return Sequential(layers, n_inputs=n_inputs, init=init, seed=seed)


def fit_recorded(net: Sequential, X, y, **kwargs) -> tuple[Any, dict[str, Any]]:
    """``net.fit`` with the expected warnings caught and recorded (not shown).

    GradientWarning (the doctor during training) and RuntimeWarning "Training
    diverged" are the results some runs exist to show; any other warning is left
    to the caller's filters.
    """
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=GradientWarning)
        warnings.filterwarnings("always", message="Training diverged", category=RuntimeWarning)
        with threadpool_limits(limits=1):  # small matrices: one BLAS thread is fastest
            hist = net.fit(X, y, **kwargs)
    kinds: list[str] = []
    diverged = ""
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, GradientWarning):
            m = _GW_KIND.search(text)
            kind = m.group(1) if m else "other"
            if kind not in kinds:
                kinds.append(kind)
        elif _DIVERGED.search(text):
            diverged = text
        else:  # not ours: back to the caller's filters
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return hist, {"gradient_warnings": kinds, "diverged": bool(diverged), "diverged_msg": diverged}


class Doc(NamedTuple):
    """The doctor's diagnosis (findings in English) and its report in both languages."""

    diagnosis: Diagnosis
    texts: dict[str, str]


def diagnose_both(model: Any, X, y, loss: Any = None) -> Doc:
    """The doctor, with numpy's overflow warnings off (a diverged net overflows on purpose)."""
    with np.errstate(all="ignore"):
        en = diagnose(model, X, y, loss=loss, lang="en")
        pt = diagnose(model, X, y, loss=loss, lang="pt")
    return Doc(en, {"en": str(en), "pt": str(pt)})


def accuracy(net: Sequential, X, y) -> float:
    """Training accuracy of a logit-output net; a non-finite output counts as wrong."""
    with np.errstate(all="ignore"):
        z = net.forward(X)[:, 0]
    ok = np.isfinite(z) & ((z > 0) == (y == 1))
    return float(np.mean(ok))


def bce(net: Sequential, X, y) -> float | None:
    """Binary cross-entropy on (X, y) in inference mode; None if not finite."""
    with np.errstate(all="ignore"):
        v = float(net.loss(X, y, "bce"))
    return v if math.isfinite(v) else None


def finite(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def twin(net: Sequential, ref: Sequential) -> str:
    """Compare the weights of two networks of the same architecture: "identical"
    (same W and b), "rescaled" (every W is ``ref``'s times a per-layer constant: the
    same draw, another initialiser's scale) or "different"."""
    pairs = list(zip(dense_layers(net), dense_layers(ref), strict=True))
    if all(np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b) for a, b in pairs):
        return "identical"
    for a, b in pairs:
        if a.W.shape != b.W.shape or not np.all(b.W):
            return "different"
        r = a.W / b.W
        if not np.allclose(r, r.flat[0], rtol=1e-9, atol=0.0):
            return "different"
    return "rescaled"


def count_option(
    name: str, value: int | None, minimum: int, default: tuple[int, int], quick: bool
) -> int:
    """The option ``value`` checked (at least ``minimum``), or if it is None its default
    ``(quick run's, full run's)``."""
    if value is not None:
        return check_int(name, value, minimum=minimum)
    return default[0] if quick else default[1]
