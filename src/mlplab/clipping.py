"""Gradient clipping on the flat gradient vector (the lecture's cure for exploding gradients).

Both functions work in place on ``grad`` (e.g. ``net.grad``) and return the
global L2 norm measured *before* clipping, which diagnostics record.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["clip_grad_norm_", "clip_grad_value_", "global_norm"]


def global_norm(grad: np.ndarray) -> float:
    """Return ||grad||_2 over every parameter (inf/nan if any entry is)."""
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is handled below
        sq = float(np.dot(grad, grad))
    if math.isfinite(sq) or grad.size == 0:
        return math.sqrt(sq)
    # The sum of squares overflowed (or an entry is inf/nan): rescale by the largest entry.
    m = float(np.max(np.abs(grad)))
    if not math.isfinite(m) or m == 0:
        return m
    g = grad / m
    return m * math.sqrt(float(np.dot(g, g)))


def clip_grad_norm_(grad: np.ndarray, max_norm: float | None) -> float:
    """Rescale ``grad`` in place so that ||grad|| <= max_norm; return the pre-clip norm.

    g <- g * max_norm / ||g||  when ||g|| > max_norm (the direction is kept).
    """
    norm = global_norm(grad)
    if max_norm is not None and norm > max_norm and math.isfinite(norm):
        grad *= max_norm / norm
    return norm


def clip_grad_value_(grad: np.ndarray, clip_value: float | None) -> float:
    """Cap each entry of ``grad`` to [-clip_value, clip_value] in place; return the pre-clip norm.

    Unlike norm clipping, this can change the gradient's direction.
    """
    norm = global_norm(grad)
    if clip_value is not None:
        np.clip(grad, -clip_value, clip_value, out=grad)
    return norm
