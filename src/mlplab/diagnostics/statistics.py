"""Per-layer statistics of one forward/backward pass: gradient norms, activations, f'(z).

The lecture's argument made measurable: the gradient reaching layer l is a
product of the activation derivatives f'(z) (and weights) of every layer above
it. ``layer_stats(net)`` reads every layer's gradient, activations and
derivatives after a backward pass. Thresholds (``THRESHOLDS``) are the doctor's
heuristics, documented in :mod:`mlplab.diagnostics`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlplab.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    Logistic,
    PReLU,
    ReLU,
    SiLU,
    Softplus,
    Tanh,
)
from mlplab.layers import ActivationLayer, Dense

#: Heuristic thresholds of the doctor (see the module docstring).
THRESHOLDS = {
    "vanishing_ratio": 1e-3,
    "exploding_ratio": 1e3,
    "exploding_norm": 1e3,
    "saturated_fraction": 0.5,
    "dead_fraction": 0.5,
    # converged (doctor.converged): the loss below 1 % of the loss at chance, or every
    # training sample classified right with ||grad|| below 1e-3 x the loss at chance
    "converged_loss_fraction": 1e-2,
    "converged_grad_fraction": 1e-3,
}

_SATURATING = (Logistic, Tanh)
_RELU_LIKE = (ReLU,)  # units that can die: exactly 0 output and 0 derivative for z < 0
_ALIVE = (LeakyReLU, PReLU, ELU, GELU, SiLU, Softplus)


class GradientWarning(UserWarning):
    """A training-time finding of the gradient doctor."""


def sqnorm(a: np.ndarray) -> float:
    a = a.reshape(-1)
    return float(np.dot(a, a))


def weight_units(net: Any) -> list[tuple[int, Any, Any]]:
    """(index, layer with weights, layer whose output is the activation) per weight layer."""
    out = []
    layers = net.layers
    for i, layer in enumerate(layers):
        if not isinstance(layer, Dense):
            continue
        act_layer = layer
        # Dense(identity) -> [BatchNorm] -> ActivationLayer(f): the activation is further on
        j = i + 1
        if isinstance(layer.activation, Identity):
            while j < len(layers) and not isinstance(layers[j], Dense):
                if isinstance(layers[j], ActivationLayer):
                    act_layer = layers[j]
                    break
                j += 1
        out.append((i, layer, act_layer))
    return out


def layer_stats(net: Any) -> list[dict[str, Any]]:
    """Statistics of every weight layer from the last forward/backward pass.

    Per layer: ``grad_norm_W``, ``grad_norm_b`` (L2 norms of dL/dW and dL/db,
    as in ``net.named_gradients()``), ``grad_rms_W``, ``weight_norm``,
    ``act_mean``, ``act_std`` (of the layer's activation output), ``mean_abs_fprime``
    (mean |f'(z)|: the factor this layer contributes to the chain rule),
    ``saturation`` (logistic/tanh: fraction of outputs within 1 % of an
    asymptote), ``dead_fraction`` (ReLU: fraction of units that output 0 for
    every sample of the batch), ``nonfinite`` (any NaN/inf in outputs or gradients).
    """
    with np.errstate(all="ignore"):  # a diverged network must not warn: its stats say so
        return [_one_layer(i, dense, act_layer) for i, dense, act_layer in weight_units(net)]


def _fprime(f: Any, z: np.ndarray, a: np.ndarray, layer: Any) -> np.ndarray:
    """f'(z), with a PReLU's trained slopes (not the activation's initial alpha)."""
    if f.learnable and "alpha" in getattr(layer, "params", {}):
        return f.derivative_with(z, layer.params["alpha"])
    return f.derivative(z, a)


def _one_layer(i: int, dense: Dense, act_layer: Any) -> dict[str, Any]:
    gW, gb = dense.dW, dense.db
    sqW, sqb = sqnorm(gW), sqnorm(gb)
    rec: dict[str, Any] = {
        "layer": i,
        "name": f"{i}:{type(dense).__name__}({act_layer.activation.name})",
        "activation": act_layer.activation.name,
        "units": dense.units,
        "grad_norm_W": math.sqrt(sqW),
        "grad_norm_b": math.sqrt(sqb),
        "grad_rms_W": math.sqrt(sqW / gW.size),
        "weight_norm": math.sqrt(sqnorm(dense.W)),
    }
    # a sum of squares is finite iff every entry is (barring overflow past 1e154,
    # which the exact check below then settles)
    grad_bad = not (math.isfinite(sqW) and math.isfinite(sqb)) and not (
        np.isfinite(gW).all() and np.isfinite(gb).all()
    )
    a, z = act_layer.a, act_layer.z
    f = act_layer.activation
    if a is z and not isinstance(f, Identity) and isinstance(z, np.ndarray):
        a = f.forward(z)  # a fused output layer keeps only z during training
    if not (isinstance(a, np.ndarray) and isinstance(z, np.ndarray) and a.shape == z.shape):
        rec.update(
            act_mean=math.nan,
            act_std=math.nan,
            mean_abs_fprime=math.nan,
            saturation=0.0,
            dead_fraction=0.0,
            nonfinite_act=False,
            nonfinite=grad_bad,
        )
        return rec
    n = a.size
    flat = a.reshape(-1)
    s1, s2 = float(flat.sum()), float(np.dot(flat, flat))  # mean and variance from two sums
    act_bad = not math.isfinite(s1 + s2) and not np.isfinite(a).all()
    mean = s1 / n
    rec["act_mean"] = mean
    rec["act_std"] = math.sqrt(max(s2 / n - mean * mean, 0.0))
    # mean |f'(z)|: free from the sums for tanh (1 - a^2) and logistic (a - a^2)
    if isinstance(f, Identity):
        rec["mean_abs_fprime"] = 1.0
    elif isinstance(f, Tanh):
        rec["mean_abs_fprime"] = 1.0 - s2 / n
    elif isinstance(f, Logistic):
        rec["mean_abs_fprime"] = (s1 - s2) / n
    elif isinstance(f, ReLU):
        rec["mean_abs_fprime"] = np.count_nonzero(z > 0) / n
    elif f.elementwise:
        rec["mean_abs_fprime"] = float(np.abs(_fprime(f, z, a, act_layer)).mean())
    else:
        rec["mean_abs_fprime"] = math.nan  # softmax: not elementwise
    if isinstance(f, Logistic):
        rec["saturation"] = float(np.count_nonzero((a < 0.01) | (a > 0.99))) / n
    elif isinstance(f, Tanh):
        rec["saturation"] = float(np.count_nonzero(np.abs(a) > 0.99)) / n
    else:
        rec["saturation"] = 0.0
    if isinstance(f, _RELU_LIKE):
        rec["dead_fraction"] = float(np.mean(~(a > 0).any(axis=0)))
    else:
        rec["dead_fraction"] = 0.0
    rec["nonfinite_act"] = bool(act_bad)
    rec["nonfinite"] = bool(act_bad or grad_bad)
    return rec


#: The per-layer quantities GradientFlow records (each an (epochs, layers) array).
RECORDED = (
    "grad_norm_W",
    "grad_norm_b",
    "grad_rms_W",
    "weight_norm",
    "update_ratio",
    "act_mean",
    "act_std",
    "mean_abs_fprime",
    "saturation",
    "dead_fraction",
)
