"""The fully connected layer: z = x W + b, a = f(z), forward and its exact backward."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from mlplab._checks import check_int
from mlplab.activations import (
    Activation,
    Identity,
    get_activation,
)
from mlplab.initializers import Constant, Initializer, get_initializer
from mlplab.layers.base import Layer, sum_rows


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
        self._works: dict[str, np.ndarray] = {}  # a stack's reused work arrays

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
            self._f = lambda z: act.apply(z, alpha)
            self._df = lambda z, a, da: act.backward_with(z, alpha, da, dalpha)
        else:
            self._f, self._df = act.forward, act.backward

    def forward(self, x, training=False):
        self.x = x
        if x.ndim == 3:
            return self._forward_members(x, logits=False)
        # z_j = sum_i x_i w_ij ...  (ndarray.dot: np.dot's product without its dispatch,
        # the least call overhead; @ for scipy.sparse input)
        z = x.dot(self.W) if type(x) is np.ndarray else np.asarray(x @ self.W)
        z += self.b  # ... + w_0j * x0, with x0 = 1
        self.z = z
        f = self._f
        a = self.a = z if f is None else f(z)  # a = f(z)
        return a

    def output_bound(self, m: float, logits: bool = False) -> float:
        """An upper bound of |a| (of |z| with ``logits``) over every input with |x| <= m,
        from the weights alone: |z_j| <= m n_in max|w| + max|b|, then the activation's
        growth (inf when it is unknown, or when the bound overflows). Loose, but
        O(P) with no temporary array; NaN weights give NaN, i.e. no bound."""
        W, b = self.W, self.b
        z = m * W.shape[0] * max(float(W.max()), -float(W.min()))
        z += max(float(b.max()), -float(b.min()))
        growth = (1.0, 0.0) if logits else self.activation.growth()
        if growth is None or not z < float(np.finfo(self.W.dtype).max) / 4:
            return math.inf  # (z itself must not overflow, even before a bounded f)
        return growth[0] * z + growth[1]

    def forward_logits(self, x, training=False):
        self.x = x
        if x.ndim == 3:
            return self._forward_members(x, logits=True)
        z = x.dot(self.W) if type(x) is np.ndarray else np.asarray(x @ self.W)
        z += self.b
        self.z = self.a = z  # the loss applies the output activation itself
        return z

    def backward(self, da, need_dx=True, from_z=False):
        """dL/d(output) -> the parameter gradients, and dL/dx if ``need_dx``; ``from_z``:
        ``da`` is dL/dz already (the fused output-layer gradient)."""
        if da.ndim == 3:  # a stack: dL/dz = dL/da * f'(z) in place, from a
            if not from_z:
                self.activation.backward_(self.a, da, self._work("tmp", da.shape, da.dtype))
            return self._backward_members(da, need_dx)
        df = self._df
        # dL/dz = dL/da * f'(z)  (identity: f'(z) = 1, dz = da)
        dz = da if from_z or df is None else df(self.z, self.a, da)
        x = self.x
        if type(x) is np.ndarray:
            x.T.dot(dz, self.dW)  # dL/dw_ij = sum_n x_i dz_j  (dL/dW = x^T dz)
        else:  # scipy.sparse input (first layer only)
            self.dW[...] = x.T @ dz
        # dL/db_j = sum_n dz_j * x0, with x0 = 1 (sum_rows: the same bits, faster for k = 2, 3)
        if dz.shape[0] >= 256 and 2 <= dz.shape[1] <= 3:
            sum_rows(dz, self.db)
        else:
            np.add.reduce(dz, axis=0, out=self.db)
        if need_dx:
            return dz.dot(self.W.T)  # dL/dx_i = sum_j dz_j w_ij  (dL/dx = dz W^T)
        return None

    def backward_from_z(self, dz: np.ndarray, need_dx: bool = True) -> np.ndarray | None:
        """Backward given dL/dz directly (used by the fused output-layer gradient)."""
        return self.backward(dz, need_dx, True)

    # ------------------------------------------------------------ the member axis
    # A stack of M networks (mlplab.sklearn.batched): x (M, n, n_in), W (M, n_in, units),
    # b (M, units); the same formulas per member, one numpy call for all of them. The
    # activation works in place on work arrays the layer reuses from call to call (so
    # z is not kept: a = f(z) overwrites it, and f' is read from a).
    def _work(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A work array of ``shape``, kept for the largest member count seen."""
        # one array per (name, shape past the member axis): an epoch's last, smaller batch
        # and the full batches each keep theirs (fresh pages cost more than the arithmetic)
        key = (name, shape[1:], dtype)
        arr = self._works.get(key)
        if arr is None or len(arr) < shape[0]:
            if len(self._works) > 32:
                self._works.clear()
            arr = self._works[key] = np.empty(shape, dtype)
        return arr if len(arr) == shape[0] else arr[: shape[0]]

    def _forward_members(self, x: np.ndarray, logits: bool) -> np.ndarray:
        z = self._work("z", (x.shape[0], x.shape[1], self.units), self.W.dtype)
        if x.shape[2] == 1:
            np.multiply(x, self.W, out=z)  # (M, n, 1) * (M, 1, units): a K=1 product, exactly
        else:
            np.matmul(x, self.W, out=z)  # z = x W per member
        z += self.b[:, None, :]  # + b
        return self._activate_members(z, logits)

    def _activate_members(self, z: np.ndarray, logits: bool) -> np.ndarray:
        if not logits:
            self.activation.forward_(z)  # a = f(z), in place
        self.z = None
        self.a = z
        return z

    def forward_members_with_ones(
        self, x: np.ndarray, x1: np.ndarray, logits: bool = False
    ) -> np.ndarray:
        """A stack's forward for a one-input layer, given also x1 = [x, 1] (M, n, 2):
        z = x1 [W; b], one product instead of a broadcast product and a broadcast sum.

        The same bits as x W + b when the product rounds x w before adding 1 b (exact),
        as a BLAS that starts each sum from the first term does; one that fused x w with
        b in a single rounding would differ, so this is checked once for this BLAS
        (:func:`ones_product_exact`), else the two-step form runs.
        """
        if not ones_product_exact(x1.dtype):
            return self._forward_members(x, logits)
        self.x = x
        M, units = x.shape[0], self.units
        wb = self._work("wb", (M, 2, units), self.W.dtype)
        wb[:, 0, :] = self.W[:, 0, :]
        wb[:, 1, :] = self.b
        z = self._work("z", (M, x.shape[1], units), self.W.dtype)
        np.matmul(x1, wb, out=z)
        return self._activate_members(z, logits)

    def _backward_members(self, dz: np.ndarray, need_dx: bool) -> np.ndarray | None:
        np.matmul(self.x.transpose(0, 2, 1), dz, out=self.dW)  # dL/dW = x^T dz per member
        if dz.shape[2] >= 2 and dz.flags.c_contiguous:
            # dL/db = sum over samples of dz, the samples added one after the other as
            # numpy's reduction over the rows of one (n, units) array adds them (einsum
            # does so in long loops; add.reduce pays per row of `units` values)
            np.einsum("mij->mj", dz, out=self.db)
        else:
            np.add.reduce(dz, axis=1, out=self.db)  # dL/db = sum over samples of dz
        if not need_dx:
            return None
        wt = self.W.transpose(0, 2, 1)
        dx = self._work("dx", (dz.shape[0], dz.shape[1], wt.shape[2]), dz.dtype)
        if dz.shape[2] == 1 and dx.flags.c_contiguous:
            # K=1: each dx one product dz w, as np.dot rounds it (+0 for a -0 product too);
            # einsum makes the outer product in long loops, a broadcast multiply per row
            np.einsum("mi,mj->mij", dz[:, :, 0], wt[:, 0, :], out=dx)
        elif dz.shape[2] == 1:
            np.multiply(dz, wt, out=dx)  # K=1: a broadcast product, exactly
        else:
            np.matmul(dz, wt, out=dx)  # dL/dx = dz W^T per member
        return dx

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


@functools.cache
def ones_product_exact(dtype: np.dtype) -> bool:
    """Whether this BLAS computes the stacked product [x 1] [w; b] as x w + b to the bit,
    for ``dtype`` (checked once, on values spread over 20 decades; a product that fused
    x w with b in one rounding would differ on most of them)."""
    rng = np.random.default_rng(0)
    M, n, units = 3, 257, 7
    x = rng.standard_normal((M, n, 1)) * 10.0 ** rng.uniform(-10, 10, (M, n, 1))
    w = rng.standard_normal((M, 1, units)) * 10.0 ** rng.uniform(-10, 10, (M, 1, units))
    b = rng.standard_normal((M, 1, units)) * 10.0 ** rng.uniform(-10, 10, (M, 1, units))
    x, w, b = (v.astype(dtype) for v in (x, w, b))
    x1 = np.concatenate([x, np.ones_like(x)], axis=2)
    two_step = np.multiply(x, w)
    two_step += b
    with np.errstate(all="ignore"):
        return bool(np.array_equal(np.matmul(x1, np.concatenate([w, b], axis=1)), two_step))
