"""The parametric ReLU layer: a slope per node, learned."""

from __future__ import annotations

from mlplab._checks import check_float
from mlplab.activations import (
    PReLU as PReLUActivation,
)
from mlplab.initializers import Constant
from mlplab.layers.base import Layer


class PReLU(Layer):
    """Parametric ReLU layer: a = x for x > 0, alpha * x otherwise, alpha learned per node.

    dL/dalpha_j = sum_n dL/da_j * min(x_j, 0);  dL/dx = dL/da * (1 if x > 0 else alpha).
    """

    def __init__(self, alpha_init: float = 0.25) -> None:
        super().__init__()
        self.alpha_init = check_float("alpha_init", alpha_init)
        self.x = self.a = None

    def param_specs(self):
        return [("alpha", (self.n_in,), Constant(self.alpha_init))]

    def forward(self, x, training=False):
        self.x = x
        self.a = PReLUActivation.apply(x, self.params["alpha"])
        return self.a

    def backward(self, da, need_dx=True):
        return PReLUActivation.backward_with(self.x, self.params["alpha"], da, self.grads["alpha"])

    def config(self):
        return {"class": "PReLU", "alpha_init": self.alpha_init}
