"""The layer protocol: build, parameters seated on views of theta, forward, backward.

Protocol (see docs/design.md): ``build(n_in, dtype) -> n_out``;
``param_specs()`` lists ``(name, shape, initializer)``; ``bind(values, grads)``
seats the parameters on views of the network's flat ``theta``/``grad``
(never rebind them: write in place); ``forward(x, training)`` caches what
``backward(da, need_dx)`` needs; backward *overwrites* the gradient views.

Notation: x (n, n_in) is the layer input, z = x W + b the weighted sums
(the lecture's g), a = f(z) the outputs; da, dz, dx are dL/da, dL/dz, dL/dx.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.activations import (
    Activation,
)
from mlplab.initializers import Initializer


def sum_rows(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out = a.sum(axis=0), bit for bit as numpy's reduction.

    numpy adds the rows of a C-ordered (n, k) array one after the other; for
    k = 2 or 3 that costs ~10 ns per row. Accumulating each column alone gives
    the same sums in the same order (so the same bits), several times faster.
    """
    n, k = a.shape
    if 2 <= k <= 3 and n >= 256:
        for j in range(k):
            out[j] = np.add.accumulate(a[:, j])[-1]
        return out
    return np.add.reduce(a, axis=0, out=out)


class Layer:
    """Base class for layers. Subclasses override what they need."""

    #: The activation fused into this layer, if any (read by the loss fusion).
    activation: Activation | None = None

    def __init__(self) -> None:
        self.n_in: int | None = None
        self.n_out: int | None = None
        self.dtype: np.dtype | None = None
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def build(self, n_in: int, dtype: np.dtype) -> int:
        self.n_in, self.dtype = n_in, dtype
        self.n_out = n_in
        return self.n_out

    def param_specs(self) -> list[tuple[str, tuple[int, ...], Initializer | None]]:
        """(name, shape, initializer) per parameter; initializer None = the network default."""
        return []

    def bind(self, values: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.params, self.grads = values, grads

    def buffers(self) -> dict[str, np.ndarray]:
        """Non-trained state saved with the model (batch-norm running statistics)."""
        return {}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, da: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        raise NotImplementedError

    def forward_logits(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Forward up to the weighted sum z, skipping the activation (the output
        layer when the loss fuses with it). Layers without an activation: forward."""
        return self.forward(x, training)

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "class")
        return f"{type(self).__name__}({args})"
