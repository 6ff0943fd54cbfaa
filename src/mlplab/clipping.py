"""Gradient clipping on the flat gradient vector (the lecture's cure for exploding gradients).

Both functions work in place on ``grad`` (e.g. ``net.grad``) and return the
global L2 norm measured *before* clipping, which diagnostics record. A stack's
(M, P) gradient (the member axis) is clipped member by member.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["clip_", "clip_grad_norm_", "clip_grad_value_", "global_norm", "norm_of"]


def norm_of(grad: np.ndarray) -> Any:
    """||grad||_2 (a float), or one norm per member (an (M,) array) of a stack's (M, P)
    gradient; the caller silences numpy's overflow warnings (np.errstate)."""
    if grad.ndim == 2:
        return _row_norms(grad)
    sq = float(grad.dot(grad))  # (ndarray.dot: np.dot without its dispatch overhead)
    if math.isfinite(sq) or grad.size == 0:
        return math.sqrt(sq)
    # The sum of squares overflowed (or an entry is inf/nan): rescale by the largest entry.
    m = float(np.max(np.abs(grad)))
    if not math.isfinite(m) or m == 0:
        return m
    g = grad / m
    return m * math.sqrt(float(np.dot(g, g)))


def _row_norms(grad: np.ndarray) -> np.ndarray:
    """Per-member norms of an (M, P) gradient, each computed as ``norm_of`` of its row."""
    sq = np.matmul(grad[:, None, :], grad[:, :, None])[:, 0, 0].astype(np.float64)
    out = np.sqrt(sq)
    for m in np.flatnonzero(~np.isfinite(sq)):
        out[m] = norm_of(grad[m])  # overflowed or non-finite: the rescaled form
    return out


def clip_(
    grad: np.ndarray, max_norm: float | None, clip_value: float | None, norm: Any = None
) -> Any:
    """Clip in place by value and/or norm; return the pre-clip norm (no errstate: fast path).

    ``norm``: the gradient's norm if the caller has it already. A stack's (M, P)
    gradient is clipped member by member (its norms are an (M,) array)."""
    if grad.ndim == 2:
        if norm is None:
            norm = _row_norms(grad)
        for m in range(grad.shape[0]):
            clip_(grad[m], max_norm, clip_value, float(norm[m]))
        return norm
    if norm is None:
        norm = norm_of(grad)
    current = norm
    if clip_value is not None:
        np.clip(grad, -clip_value, clip_value, out=grad)
        if max_norm is not None and norm > max_norm:
            current = norm_of(grad)  # value clipping may already have shrunk it
    if max_norm is not None and current > max_norm and math.isfinite(current):
        grad *= max_norm / current  # current > max_norm > 0: never a division by zero
    return norm


def global_norm(grad: np.ndarray) -> float:
    """Return ||grad||_2 over every parameter (inf/nan if any entry is), without overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        return norm_of(grad)


def clip_grad_norm_(grad: np.ndarray, max_norm: float | None) -> float:
    """Rescale ``grad`` in place so that ||grad|| <= max_norm; return the pre-clip norm.

    g <- g * max_norm / ||g||  when ||g|| > max_norm (the direction is kept).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return clip_(grad, max_norm, None)


def clip_grad_value_(grad: np.ndarray, clip_value: float | None) -> float:
    """Cap each entry of ``grad`` to [-clip_value, clip_value] in place; return the pre-clip norm.

    Unlike norm clipping, this can change the gradient's direction.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return clip_(grad, None, clip_value)
