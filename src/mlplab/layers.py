"""Layers: forward and its exact backward in one place.

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

from ._checks import check_float, check_int
from .activations import (
    Activation,
    Identity,
    get_activation,
    prelu_backward,
    prelu_forward,
)
from .initializers import Constant, Initializer, Ones, Zeros, get_initializer

__all__ = ["ActivationLayer", "BatchNorm", "Dense", "Layer", "PReLU"]


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


class Dense(Layer):
    """Fully connected layer: z = x W + b, a = f(z).

    W has shape (n_in, units): column j holds the weights w_ij of the links
    i -> j into node j (positive: excitatory, negative: inhibitory). b[j] is the
    weight w_0j of node j's bias input x0 = 1, linked to no other node.

    Parameters
    ----------
    units : int
        Number of nodes.
    activation : str, dict or Activation, default "identity"
        Any name in ``mlplab.activations.ACTIVATIONS`` ("prelu" adds a learned
        slope per node, parameter ``alpha``).
    init : str, dict or Initializer, optional
        Initialiser of W; default: the network's ``init``.
    bias_init : str, dict or Initializer, default "zeros"
        Initialiser of b.
    """

    def __init__(
        self,
        units: int,
        activation: str | dict[str, Any] | Activation = "identity",
        *,
        init: str | dict[str, Any] | Initializer | None = None,
        bias_init: str | dict[str, Any] | Initializer = "zeros",
    ) -> None:
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        self.activation = get_activation(activation)
        self.init = None if init is None else get_initializer(init)
        self.bias_init = get_initializer(bias_init)
        self._identity = isinstance(self.activation, Identity)
        self.x = self.z = self.a = None

    def build(self, n_in, dtype):
        self.n_in, self.n_out, self.dtype = n_in, self.units, dtype
        return self.units

    def param_specs(self):
        specs = [("W", (self.n_in, self.units), self.init), ("b", (self.units,), self.bias_init)]
        if self.activation.learnable:  # PReLU: one trained slope per node
            specs.append(("alpha", (self.units,), Constant(self.activation.alpha)))
        return specs

    def bind(self, values, grads):
        super().bind(values, grads)
        self.W, self.b = values["W"], values["b"]
        self.dW, self.db = grads["W"], grads["b"]
        # The activation's forward/backward, resolved once (tiny nets pay per attribute).
        act = self.activation
        if self._identity:
            self._f, self._df = None, None
        elif act.learnable:  # PReLU: the slope is this layer's parameter "alpha"
            alpha, dalpha = values["alpha"], grads["alpha"]
            self._f = lambda z: prelu_forward(z, alpha)
            self._df = lambda z, a, da: prelu_backward(z, alpha, da, dalpha)
        else:
            self._f, self._df = act.forward, act.backward

    def forward(self, x, training=False):
        self.x = x
        # z_j = sum_i x_i w_ij ...  (np.dot: least call overhead; @ for scipy.sparse input)
        z = np.dot(x, self.W) if type(x) is np.ndarray else np.asarray(x @ self.W)
        z += self.b  # ... + w_0j * x0, with x0 = 1
        self.z = z
        f = self._f
        a = self.a = z if f is None else f(z)  # a = f(z)
        return a

    def forward_logits(self, x, training=False):
        self.x = x
        z = np.dot(x, self.W) if type(x) is np.ndarray else np.asarray(x @ self.W)
        z += self.b
        self.z = self.a = z  # the loss applies the output activation itself
        return z

    def backward(self, da, need_dx=True):
        df = self._df
        # dL/dz = dL/da * f'(z)  (identity: f'(z) = 1, dz = da)
        dz = da if df is None else df(self.z, self.a, da)
        return self.backward_from_z(dz, need_dx)

    def backward_from_z(self, dz: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backward given dL/dz directly (used by the fused output-layer gradient)."""
        x = self.x
        if type(x) is np.ndarray:
            np.dot(x.T, dz, out=self.dW)  # dL/dw_ij = sum_n x_i dz_j  (dL/dW = x^T dz)
        else:  # scipy.sparse input (first layer only)
            self.dW[...] = x.T @ dz
        # dL/db_j = sum_n dz_j * x0, with x0 = 1 (sum_rows: the same bits, faster for k = 2, 3)
        if dz.shape[0] >= 256 and 2 <= dz.shape[1] <= 3:
            sum_rows(dz, self.db)
        else:
            np.add.reduce(dz, axis=0, out=self.db)
        if need_dx:
            return np.dot(dz, self.W.T)  # dL/dx_i = sum_j dz_j w_ij  (dL/dx = dz W^T)
        return None

    def config(self):
        cfg: dict[str, Any] = {
            "class": "Dense",
            "units": self.units,
            "activation": self.activation.config(),
            "bias_init": self.bias_init.config(),
        }
        if self.init is not None:
            cfg["init"] = self.init.config()
        return cfg


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

    def backward_from_z(self, dz, need_dx=True):
        return dz

    def config(self):
        return {"class": "ActivationLayer", "activation": self.activation.config()}


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
        self.a = prelu_forward(x, self.params["alpha"])
        return self.a

    def backward(self, da, need_dx=True):
        return prelu_backward(self.x, self.params["alpha"], da, self.grads["alpha"])

    def config(self):
        return {"class": "PReLU", "alpha_init": self.alpha_init}


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015) over the samples of a batch.

    Training: x_hat = (x - mean_batch) / sqrt(var_batch + eps), a = gamma x_hat + beta,
    and the running statistics move towards the batch's:
    running = (1 - momentum) running + momentum batch (the variance unbiased,
    n / (n - 1), as in PyTorch). Inference uses the running statistics.
    gamma and beta are trained; running_mean/running_var are buffers
    (saved, never touched by the optimizer).
    """

    def __init__(self, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        self.eps = check_float("eps", eps, minimum=0.0, strict_min=True)
        self.x_hat = self.inv_std = None
        self.training = False
        #: per-sample weights of the current training batch (set by Sequential)
        self.sample_weight: np.ndarray | None = None

    def build(self, n_in, dtype):
        super().build(n_in, dtype)
        self.running_mean = np.zeros(n_in, dtype=dtype)
        self.running_var = np.ones(n_in, dtype=dtype)
        return n_in

    def param_specs(self):
        return [("gamma", (self.n_in,), Ones()), ("beta", (self.n_in,), Zeros())]

    def buffers(self):
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, x, training=False):
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.training = training
        if training:
            p = self.sample_weight
            if p is None:
                n = x.shape[0]
                mean = x.mean(axis=0)
                xc = x - mean
                var = np.mean(xc * xc, axis=0)  # biased variance normalises the batch
            else:  # weighted statistics: weight k counts like k repeated rows
                n = float(p.sum())
                p = self._p = p / n
                mean = p @ x
                xc = x - mean
                var = p @ (xc * xc)
            self.inv_std = 1.0 / np.sqrt(var + self.eps)
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean
            self.running_var *= 1.0 - m
            self.running_var += m * var * (n / (n - 1) if n > 1 else 1.0)
            self.x_hat = xc * self.inv_std
        else:
            self.inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            self.x_hat = (x - self.running_mean) * self.inv_std
        return gamma * self.x_hat + beta  # shift and scale, both learned

    def backward(self, da, need_dx=True):
        gamma = self.params["gamma"]
        x_hat = self.x_hat
        np.sum(da * x_hat, axis=0, out=self.grads["gamma"])  # dL/dgamma = sum_n da x_hat
        np.sum(da, axis=0, out=self.grads["beta"])  # dL/dbeta = sum_n da
        if not need_dx:
            return None
        dx_hat = da * gamma
        if not self.training:  # running statistics are constants
            return dx_hat * self.inv_std
        # The batch mean and variance depend on every x_i of the batch:
        # dL/dx = inv_std / n * (n dx_hat - sum dx_hat - x_hat sum(dx_hat x_hat))
        if self.sample_weight is not None:
            # with weights p_i (sum 1): inv_std (dx_hat - p sum dx_hat - p x_hat sum(dx_hat x_hat))
            p = self._p[:, None]
            return self.inv_std * (
                dx_hat - p * dx_hat.sum(axis=0) - p * x_hat * np.sum(dx_hat * x_hat, axis=0)
            )
        n = da.shape[0]
        return (self.inv_std / n) * (
            n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)
        )

    def config(self):
        return {"class": "BatchNorm", "momentum": self.momentum, "eps": self.eps}


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, ActivationLayer, PReLU, BatchNorm)
}


def layer_from_config(cfg: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``layer.config()``."""
    cfg = dict(cfg)
    name = cfg.pop("class", None)
    if name not in LAYERS:
        raise ValueError(f"Unknown layer class {name!r}. Expected one of: {sorted(LAYERS)}.")
    return LAYERS[name](**cfg)
