"""The compiled comparison for bench_search's ``eval`` case (issue 15): one loss-and-gradient
evaluation of M stacked 1-h-1 logistic regressors (scikit-learn's squared error, L2 and 1/n,
the parameter layout of ``mlplab.sklearn.stack``: W1, W2, b1, b2), written as one fused loop
per member and compiled with numba (``prange`` over the members, ``fastmath``).

Imported only when numba is installed; it is a benchmark, not part of mlplab (mlplab adds a
compiled dependency only if it beats the best numpy layout by >= 2x: benchmarks/README.md).
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np


@numba.njit(parallel=True, fastmath=True, cache=False)
def _loss_and_grad(theta, X, Y, alpha, value, grad):  # pragma: no cover - compiled
    M, n = X.shape[0], X.shape[1]
    h = (theta.shape[1] - 1) // 3
    for m in numba.prange(M):
        w1 = theta[m, 0:h]
        w2 = theta[m, h : 2 * h]
        b1 = theta[m, 2 * h : 3 * h]
        b2 = theta[m, 3 * h]
        g = grad[m]
        for k in range(3 * h + 1):
            g[k] = 0.0
        a = np.empty(h)
        loss = 0.0
        for i in range(n):
            x = X[m, i, 0]
            out = b2
            for j in range(h):
                aj = 1.0 / (1.0 + math.exp(-(w1[j] * x + b1[j])))
                a[j] = aj
                out += w2[j] * aj
            d = out - Y[m, i, 0]
            loss += d * d
            g[3 * h] += d
            for j in range(h):
                aj = a[j]
                g[h + j] += d * aj
                dz = d * w2[j] * aj * (1.0 - aj)
                g[j] += dz * x
                g[2 * h + j] += dz
        sq = 0.0
        for k in range(2 * h):
            sq += theta[m, k] * theta[m, k]
            g[k] += alpha[m] * theta[m, k]
        value[m] = 0.5 * loss / n + 0.5 * alpha[m] * sq / n
        for k in range(3 * h + 1):
            g[k] /= n


def make(theta, X, Y, alpha):
    """(the evaluation as a no-argument callable, its first-call compile time in s)."""
    value = np.empty(theta.shape[0])
    grad = np.empty_like(theta)
    t0 = time.perf_counter()
    _loss_and_grad(theta, X, Y, alpha, value, grad)
    compile_s = time.perf_counter() - t0

    def run():
        _loss_and_grad(theta, X, Y, alpha, value, grad)
        return value, grad

    return run, compile_s


def set_threads(k: int) -> None:
    numba.set_num_threads(min(k, numba.config.NUMBA_NUM_THREADS))


VERSION = numba.__version__
