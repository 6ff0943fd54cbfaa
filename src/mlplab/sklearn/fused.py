"""``exact=False``: a stack's loss and gradient in few passes over its hidden activations.

A stack of tiny networks (Lab 7: 100 members of 1-20-1 on 630 points) spends its time in
elementwise passes over the M x n x h hidden activations, not in arithmetic. This kernel
makes as few passes as numpy allows, each over arrays that stay in the core's L2 cache:

* members in chunks of a few (``CHUNK_BYTES`` of work arrays per chunk), so that every
  pass reads what the previous one left in cache rather than main memory;
* units x samples per member (samples the long inner axis), each layer's input with a
  row of ones appended, so that z = W^T a + b is one matrix product (bias included) and
  dW, db one more;
* the logistic as 0.5 + 0.5 tanh(z / 2) with its scales folded into the small weight
  matrices (the 1/2 into this layer's W and b, the 0.5 + 0.5 u into the next layer's):
  one ``tanh`` per element and no other pass, where 1 / (1 + e^-z) takes three;
* the derivatives from the activations in place (tanh and logistic: 1 - u^2, ReLU:
  sign(u)), and for one hidden layer with one output the hidden layer's gradient
  without forming dL/dz at all: sum_i f'(z_ji) w_j delta_i x_i = w_j (sum_i v_i -
  sum_i u_ji^2 v_i) with v = delta x, two matrix products.

For one hidden layer and one output that is 6 passes (the product, tanh, three reading
products and one square) where the layer-by-layer path makes ~13. Results equal the exact
path's to float tolerance (sums in another order; the logistic within a few ulps in
absolute terms), not to the bit. scikit-learn's losses, L2 and 1/n are applied as the
exact path applies them (:mod:`mlplab.sklearn.losses`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.sklearn.losses import sklearn_l2

__all__ = ["CHUNK_BYTES", "FusedStack", "HIDDEN"]

#: work arrays per chunk of members: well inside a core's L2 (2 MiB here; measured: 1 MiB
#: 3-15 % faster than 2 MiB, the whole stack at once 1.6-1.8x slower), so that the
#: passes over one chunk's activations do not go to main memory
CHUNK_BYTES = 1 << 20

#: the hidden activations this kernel computes, as (s, c, beta): u = g(s z) with g tanh
#: (logistic, tanh), max(0, .) (relu) or the identity, and a = c + beta u
HIDDEN = {
    "logistic": (0.5, 0.5, 0.5),
    "tanh": (1.0, 0.0, 1.0),
    "relu": (1.0, 0.0, 1.0),
    "identity": (1.0, 0.0, 1.0),
}


class FusedStack:
    """The loss and gradient of a stack of one layer structure, chunked and fused.

    ``units`` (inputs, hidden..., outputs), ``activation`` (a key of ``HIDDEN``), ``loss``
    one of :mod:`mlplab.sklearn.losses` (its ``value_and_gradient`` on the (M, n, k)
    outputs), ``offsets`` the stack's parameter layout (``mlplab.sklearn.stack.layout``:
    every W, then every b).
    """

    def __init__(self, units, activation: str, loss: Any, offsets) -> None:
        if activation not in HIDDEN:
            raise ValueError(f"activation must be one of {sorted(HIDDEN)}; received {activation!r}")
        self.units, self.activation, self.loss = tuple(units), activation, loss
        self.wsl, self.bsl = offsets[0], offsets[1]
        self._buffers: dict[Any, list[np.ndarray]] = {}

    # ------------------------------------------------------------ weights, folded
    def _folded(self, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per layer: the forward matrix (M, fo, fi + 1) = s [beta_prev W^T | b + c_prev
        colsum W] (the input's a = c + beta u folded in, this layer's pre-scale s), and the
        backward matrix (M, fi, fo) = beta_prev s_prev W (dL/du_prev = that times dL/dz)."""
        s, c, beta = HIDDEN[self.activation]
        M, L = theta.shape[0], len(self.units) - 1
        fwd, bwd = [], []
        for i in range(L):
            fi, fo = self.units[i], self.units[i + 1]
            W = theta[:, self.wsl[i][0] : self.wsl[i][1]].reshape(M, fi, fo)
            b = theta[:, self.bsl[i][0] : self.bsl[i][1]]
            first, last = i == 0, i == L - 1
            scale_in, shift_in = (1.0, 0.0) if first else (beta, c)
            scale = 1.0 if last else s
            A = np.empty((M, fo, fi + 1), theta.dtype)
            np.multiply(W.transpose(0, 2, 1), scale * scale_in, out=A[:, :, :fi])
            bias = b + shift_in * W.sum(axis=1) if shift_in else b
            np.multiply(bias, scale, out=A[:, :, fi])
            fwd.append(A)
            bwd.append(None if first else W * (scale_in * s))
        return fwd, bwd

    # ------------------------------------------------------------ work arrays
    def _one_hidden_one_output(self) -> bool:
        return len(self.units) == 3 and self.units[-1] == 1

    def _chunk(self, M: int, n: int, dtype: Any) -> int:
        """Members per chunk: as many as keep the chunk's work arrays within CHUNK_BYTES."""
        rows = sum(self.units[:-1]) + len(self.units) - 1 + self.units[-1]  # U, and z
        if not self._one_hidden_one_output():
            rows += sum(self.units[1:-1])  # D
        return int(max(1, min(M, CHUNK_BYTES // (np.dtype(dtype).itemsize * n * rows))))

    def _work(self, c: int, n: int, dtype: Any) -> list[np.ndarray]:
        """U_0 ... U_{L-1}: each layer's input, units x samples plus a row of ones; then
        D_1 ... D_{L-1}: dL/dz of each hidden layer; for c members (views of arrays kept
        for the largest chunk seen: the running members of an L-BFGS stack change)."""
        key = (n, np.dtype(dtype))
        bufs = self._buffers.get(key)
        if bufs is None or len(bufs[0]) < c:
            if len(self._buffers) > 8:
                self._buffers.clear()
            bufs = []
            for units in self.units[:-1]:
                U = np.empty((c, units + 1, n), dtype)
                U[:, units] = 1.0
                bufs.append(U)
            if not self._one_hidden_one_output():
                bufs += [np.empty((c, units, n), dtype) for units in self.units[1:-1]]
            self._buffers[key] = bufs
        return bufs if len(bufs[0]) == c else [b[:c] for b in bufs]

    # ------------------------------------------------------------ forward
    def _forward_chunk(self, fwd, X, rows, U, out) -> None:
        """The output z (c, k, n) of the chunk ``rows`` of members, whose inputs are X
        (c, n, d), into ``out``; U holds every layer's input afterwards."""
        d = self.units[0]
        np.copyto(U[0][:, :d], X.transpose(0, 2, 1))
        for i in range(1, len(self.units) - 1):
            u = U[i][:, : self.units[i]]
            np.matmul(fwd[i - 1][rows], U[i - 1], out=u)
            _apply(self.activation, u)
        np.matmul(fwd[-1][rows], U[len(self.units) - 2], out=out)

    def forward(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The output layer's z (M, n, k), before the output link."""
        M, n = X.shape[0], X.shape[1]
        fwd, _ = self._folded(theta)
        Z = np.empty((M, self.units[-1], n), theta.dtype)
        c = self._chunk(M, n, theta.dtype)
        for c0 in range(0, M, c):
            rows = slice(c0, min(M, c0 + c))
            U = self._work(rows.stop - c0, n, theta.dtype)
            self._forward_chunk(fwd, X[rows], rows, U, Z[rows])
        return Z.transpose(0, 2, 1)

    # ------------------------------------------------------------ loss and gradient
    def loss_and_grad(self, theta, X, Y, alpha, need_grad=True, members=None):
        """Per-member loss (M,) and gradient (M, P), scikit-learn's (its loss, L2, 1/n);
        ``members`` (M,): the rows of X and Y that theta's rows are (default: all)."""
        M, n = theta.shape[0], X.shape[1]
        units, L = self.units, len(self.units) - 1
        fwd, bwd = self._folded(theta)
        Z = np.empty((M, units[-1], n), theta.dtype)  # the outputs, units x samples
        # every layer's [dW^T | db] (M, fo, fi + 1), for inputs a = c + beta u
        pairs = list(zip(units[:-1], units[1:], strict=True))  # (fi, fo) per layer
        R = [np.empty((M, fo, fi + 1), theta.dtype) for fi, fo in pairs]
        c = self._chunk(M, n, theta.dtype)
        for c0 in range(0, M, c):
            rows = slice(c0, min(M, c0 + c))
            U = self._work(rows.stop - c0, n, theta.dtype)
            data = rows if members is None else members[rows]  # a few members' rows
            self._forward_chunk(fwd, X[data], rows, U, Z[rows])
            if need_grad:
                delta = self.loss.delta(Z[rows].transpose(0, 2, 1), Y[data])
                self._backward_chunk(bwd, delta, rows, U, R)
        # the loss once for the whole stack (per chunk, its overhead cost ~10 % here)
        Yv = Y if members is None else Y[members]
        value = self.loss.value_and_gradient(Z.transpose(0, 2, 1), Yv)[0]
        weights = [theta[:, a:b].reshape(M, *p) for (a, b), p in zip(self.wsl, pairs, strict=True)]
        if not need_grad:
            return sklearn_l2(value, weights, (), None, alpha, n), None
        grad = np.empty(theta.shape, theta.dtype)
        s, c_, beta = HIDDEN[self.activation]
        w_grads = []
        for i in range(L):  # dW = beta R[..., :fi]^T + c R[..., fi], db = R[..., fi]
            fi, fo = units[i], units[i + 1]
            gW = grad[:, self.wsl[i][0] : self.wsl[i][1]].reshape(M, fi, fo)
            scale, shift = (1.0, 0.0) if i == 0 else (beta, c_)
            np.multiply(R[i][:, :, :fi].transpose(0, 2, 1), scale, out=gW)
            if shift:
                gW += shift * R[i][:, None, :, fi]
            grad[:, self.bsl[i][0] : self.bsl[i][1]] = R[i][:, :, fi]
            w_grads.append(gW)
        return sklearn_l2(value, weights, w_grads, grad, alpha, n), grad

    def _backward_chunk(self, bwd, delta, rows, U, R) -> None:
        """Every layer's [dW^T | db] for the chunk's members, into ``R[i][rows]``;
        ``delta`` (c, n, k) is dL/dz of the outputs."""
        units, L = self.units, len(self.units) - 1
        if self._one_hidden_one_output():  # dL/dz never formed
            self._one_hidden(bwd[1][rows], delta, U, R[0][rows], R[1][rows])
            return
        e = delta.transpose(0, 2, 1)  # dL/dz, units x samples
        for i in range(L - 1, -1, -1):
            np.matmul(e, U[i].transpose(0, 2, 1), out=R[i][rows])
            if i == 0:
                break
            D = U[L + i - 1]
            np.matmul(bwd[i][rows], e, out=D)  # dL/du of the layer below, s folded in
            u = U[i][:, : units[i]]
            if self.activation in ("logistic", "tanh"):  # f'/s = 1 - u^2
                np.multiply(u, u, out=u)
                np.subtract(1.0, u, out=u)
                D *= u
            elif self.activation == "relu":  # u >= 0: sign(u) is 1 exactly where z > 0
                D *= np.sign(u, out=u)
            e = D

    def _one_hidden(self, w2, delta, U, R1, R2) -> None:
        """One hidden layer, one output: with v = delta [x, 1] (c, n, d + 1),
        dL/d[W1 | b1]_j = w2_j s sum_i f'(z_ji)/s v_i, f'/s = 1 - u^2 (tanh, logistic),
        sign(u) (relu) or 1: products with u and u^2, no (c, h, n) dL/dz."""
        d, h = self.units[0], self.units[1]
        v = delta * U[0].transpose(0, 2, 1)  # (c, n, d + 1); its last column is delta
        S = v.sum(axis=1)  # (c, d + 1)
        u = U[1][:, :h]
        G = np.matmul(u, v)  # (c, h, d + 1); G[..., d] = sum_i u_ji delta_i
        R2[:, 0, :h] = G[:, :, d]  # the output layer: [sum_i u_ji delta_i | sum_i delta_i]
        R2[:, 0, h] = S[:, d]
        if self.activation in ("logistic", "tanh"):
            np.multiply(u, u, out=u)
            np.subtract(S[:, None, :], np.matmul(u, v), out=R1)
        elif self.activation == "relu":
            np.matmul(np.sign(u, out=u), v, out=R1)
        else:
            R1[...] = S[:, None, :]
        R1 *= w2  # w2 (c, h, 1): beta s w2 folded in


def _apply(activation: str, u: np.ndarray) -> None:
    """g in place: tanh (tanh, and the logistic's 0.5 + 0.5 tanh(z / 2) with its scales
    folded into the weights), max(0, .), or nothing."""
    if activation in ("logistic", "tanh"):
        np.tanh(u, out=u)
    elif activation == "relu":
        np.maximum(u, 0.0, out=u)
