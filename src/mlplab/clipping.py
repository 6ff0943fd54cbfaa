"""Gradient clipping on the flat gradient vector (the lecture's cure for exploding gradients).

Both functions work in place on ``grad`` (e.g. ``net.grad``) and return the
global L2 norm measured *before* clipping, which diagnostics record.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["clip_", "clip_grad_norm_", "clip_grad_value_", "global_norm", "norm_of"]


def norm_of(grad: np.ndarray) -> float:
    """||grad||_2; the caller silences numpy's overflow warnings (np.errstate)."""
    sq = float(np.dot(grad, grad))
    if math.isfinite(sq) or grad.size == 0:
        return math.sqrt(sq)
    # The sum of squares overflowed (or an entry is inf/nan): rescale by the largest entry.
    m = float(np.max(np.abs(grad)))
    if not math.isfinite(m) or m == 0:
        return m
    g = grad / m
    return m * math.sqrt(float(np.dot(g, g)))


def clip_(
    grad: np.ndarray, max_norm: float | None, clip_value: float | None, norm: float | None = None
) -> float:
    """Clip in place by value and/or norm; return the pre-clip norm (no errstate: fast path).

    ``norm``: the gradient's norm if the caller has it already."""
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
