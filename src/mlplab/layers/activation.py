"""A standalone activation layer (e.g. after BatchNorm)."""

from __future__ import annotations

import math
from typing import Any

from mlplab.activations import (
    Activation,
    get_activation,
)
from mlplab.layers.base import Layer


class ActivationLayer(Layer):
    """A standalone activation, a = f(x), e.g. after ``BatchNorm``."""

    def __init__(self, activation: str | dict[str, Any] | Activation) -> None:
        super().__init__()
        self.activation = get_activation(activation)
        if self.activation.learnable:
            raise ValueError(
                "A standalone 'prelu' needs a learned slope: use the PReLU layer "
                "(or Dense(..., activation='prelu'))."
            )
        self.x = self.a = None

    @property
    def z(self):  # the activation's input, named as in Dense for the loss fusion
        return self.x

    def forward(self, x, training=False):
        self.x = x
        self.a = self.activation.forward(x)
        return self.a

    def backward(self, da, need_dx=True):
        return self.activation.backward(self.x, self.a, da)  # dL/dx = dL/da * f'(x)

    def forward_logits(self, x, training=False):
        self.x = self.a = x
        return x

    def output_bound(self, m: float, logits: bool = False) -> float:
        """An upper bound of |a| over every input with |x| <= m (see Dense.output_bound)."""
        growth = (1.0, 0.0) if logits else self.activation.growth()
        return math.inf if growth is None else growth[0] * m + growth[1]

    def backward_from_z(self, dz, need_dx=True):
        return dz

    def config(self):
        return {"class": "ActivationLayer", "activation": self.activation.config()}
