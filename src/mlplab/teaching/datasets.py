"""The lecture's toy problems, seeded and reproducible.

Classification (noisy inputs): AND and XOR of two binary inputs, concentric
circles. Regression: x^2 on [-1, 1], 1/x on [1, 100], sin x on [0, 2 pi],
log10 x and exp(-x) on [1, 10].
"""

from __future__ import annotations

import numpy as np

from mlplab._checks import check_choice, check_float, check_int

__all__ = ["logic_gate", "circles", "function", "FUNCTIONS"]


def logic_gate(
    gate: str = "xor", n_samples: int = 1000, noise: float = 0.1, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Noisy AND/OR/XOR: corners of the unit square plus Gaussian noise (std ``noise``).

    Returns X (n, 2) and y (n,) in {0, 1}, the gate of the noise-free corner.
    """
    check_choice("gate", gate, ("and", "or", "xor"))
    n = check_int("n_samples", n_samples, minimum=1)
    noise = check_float("noise", noise, minimum=0.0)
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, 2))
    a, b = bits[:, 0], bits[:, 1]
    y = {"and": a & b, "or": a | b, "xor": a ^ b}[gate]
    X = bits + noise * rng.standard_normal((n, 2))
    return X, y.astype(np.int64)


def circles(
    n_samples: int = 1000, noise: float = 0.1, factor: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (radius 1: class 0, radius ``factor``: class 1) plus noise."""
    n = check_int("n_samples", n_samples, minimum=2)
    noise = check_float("noise", noise, minimum=0.0)
    factor = check_float(
        "factor", factor, minimum=0.0, maximum=1.0, strict_min=True, strict_max=True
    )
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = rng.uniform(0, 2 * np.pi, n_out)
    t_in = rng.uniform(0, 2 * np.pi, n_in)
    X = np.concatenate(
        [np.c_[np.cos(t_out), np.sin(t_out)], factor * np.c_[np.cos(t_in), np.sin(t_in)]]
    )
    X += noise * rng.standard_normal(X.shape)
    y = np.r_[np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)]
    perm = rng.permutation(n)
    return X[perm], y[perm]


#: name -> (function, interval) of the lecture's regression examples.
FUNCTIONS = {
    "x2": (np.square, (-1.0, 1.0)),
    "inv": (np.reciprocal, (1.0, 100.0)),
    "sin": (np.sin, (0.0, 2 * np.pi)),
    "log10": (np.log10, (1.0, 10.0)),
    "exp": (lambda x: np.exp(-x), (1.0, 10.0)),
}


def function(name: str, n_samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` linspace points of a lecture function: X (n, 1), y (n,)."""
    check_choice("function", name, FUNCTIONS)
    n = check_int("n_samples", n_samples, minimum=2)
    f, (lo, hi) = FUNCTIONS[name]
    x = np.linspace(lo, hi, n)
    return x.reshape(-1, 1), f(x)
