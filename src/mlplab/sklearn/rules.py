"""scikit-learn's training rules, as policies of the one training loop.

Each works on one fit (floats) or on a stack's members (arrays, one entry per
member) with the same arithmetic, so the estimators and the batched stacks
share them:

* the stopping rule: an epoch "does not improve" when its loss is above
  ``best - tol``; training stops after more than ``n_iter_no_change`` such epochs;
* ``learning_rate="invscaling"`` (sgd): lr = lr0 / (t + 1) ** power_t, with t the
  number of samples seen, set after every epoch;
* ``learning_rate="adaptive"`` (sgd): when the stopping rule fires, divide the
  rate by 5 instead of stopping, until it falls to 1e-6;
* a fit that ends non-finite (its weights, or the loss on the training data at
  them: what its predictions would be) raises scikit-learn's ValueError, whose
  first sentences are scikit-learn's verbatim (its test-suite matches them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "ADAPTIVE_FLOOR",
    "NON_FINITE_WEIGHTS",
    "adaptive_rate",
    "batch_size_of",
    "count_no_improvement",
    "invscaling_rate",
    "non_finite_weights",
]

#: ``learning_rate="adaptive"`` stops once the rate is at or below this.
ADAPTIVE_FLOOR = 1e-6

#: scikit-learn's message for a fit that ended with non-finite weights, verbatim.
NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large "
    "values and need to be preprocessed."
)


def non_finite_weights(detail: str) -> ValueError:
    """scikit-learn's ValueError for a non-finite fit: its sentence first, then what
    mlplab found (``detail``) and the remedies."""
    return ValueError(
        f"{NON_FINITE_WEIGHTS} Here: {detail}. Scale X (and y) to unit size, lower "
        "learning_rate_init, or set clip_norm."
    )


def count_no_improvement(count: Any, best: Any, current: Any, tol: float) -> tuple[Any, Any]:
    """(count, best) after an epoch scoring ``current`` (lower is better).

    count + 1 if current > best - tol, else 0; best = min(best, current).
    """
    worse = current > best - tol
    if np.ndim(worse) == 0:
        return (count + 1 if worse else 0), min(best, current)
    return np.where(worse, count + 1, 0), np.minimum(best, current)


def invscaling_rate(lr0: Any, t: Any, power_t: float) -> Any:
    """lr0 / (t + 1) ** power_t in Python's float arithmetic (numpy's power differs
    from it by an ulp at times), per member for arrays."""
    if np.ndim(lr0) == 0:
        return lr0 / (t + 1) ** power_t
    return np.array([float(r) / (int(s) + 1) ** power_t for r, s in zip(lr0, t, strict=True)])


def adaptive_rate(lr: float) -> float | None:
    """The rate after a stall under ``learning_rate="adaptive"``; None: stop instead."""
    if lr <= ADAPTIVE_FLOOR:
        return None
    return lr / 5.0


def batch_size_of(batch_size: Any, n_samples: int) -> int:
    """scikit-learn's batch size: "auto" = min(200, n), else clipped to [1, n]."""
    if isinstance(batch_size, str) and batch_size == "auto":
        return min(200, n_samples)
    return int(np.clip(batch_size, 1, n_samples))
