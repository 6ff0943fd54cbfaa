"""Recurrent layers (lecture §6): networks with memory, trained by backpropagation through time.

A recurrent layer has a cycle: its hidden state h_t depends on the input x_t
*and* on its own previous state h_{t-1}. Unrolled over T steps it is a deep
feed-forward network whose layers share one set of weights, so its gradient is
the chain rule applied backwards through time (BPTT):

    dJ/dh_{t-1} = dJ/dz_t * dz_t/dh_{t-1} = (dJ/dh_t * f'(z_t)) W_h^T   (+ the loss at t-1)

A product of T such factors shrinks (vanishing gradient through time) or grows
(exploding) geometrically; LSTM and GRU gates add a path whose factor is the
forget/update gate, close to 1 when the network chooses to remember.

Each layer type is a one-step *cell* (``cell.step(x_t, state) -> state``, the
equations of one time step and their derivatives) and the layer is the unroll:
the input projection x_t W + b of every step in one matrix product, then the
loop over time, then the weight gradients of every step in one matrix product.
Internally the arrays are time-major and unit-major, (T, units, n): each step reads
contiguous blocks; the layer's inputs and outputs are batch-first (n, T, ...).

See docs/recurrent.md for the API, parameter layout and PyTorch correspondence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg.blas import get_blas_funcs

from mlplab._checks import check_int
from mlplab.activations import Activation, Logistic, Tanh, get_activation
from mlplab.initializers import Initializer, Zeros, get_initializer
from mlplab.layers import LAYERS, Layer

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "Recurrent", "SimpleRNN", "SimpleRNNCell"]


def _buffer(owner: Any, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A work array kept between calls (same shape: reused, so no fresh pages per step)."""
    ws = owner.__dict__.setdefault("_ws", {})
    arr = ws.get(name)
    if arr is None or arr.shape != shape or arr.dtype != dtype:
        arr = ws[name] = np.empty(shape, dtype)
    return arr


def _check_cell_activation(name: str, spec: Any) -> Activation:
    act = get_activation(spec)
    if act.learnable or act.name in ("step", "softmax"):
        raise ValueError(
            f"`{name}`={act.name!r} cannot be used in a recurrent cell "
            "(step has no useful derivative, softmax mixes the units, prelu needs its own "
            "parameter). Use e.g. 'tanh', 'logistic', 'relu' or 'identity'."
        )
    return act


# ----------------------------------------------------------------------- cells
# The unroll keeps every per-step array time-major and unit-major, (T, units, n): h_t is
# a contiguous (units, n) block and each gate a contiguous block of rows of the step's
# (gates * units, n) pre-activations, so elementwise passes read whole blocks (row slices
# of an (n, 4 units) array cost numpy several times as much), and W_h^T h_{t-1} is one
# BLAS call adding into the step's pre-activations in place.
_GEMM: dict[str, Any] = {}


def _gemm_add(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``c += a @ b`` in place, one BLAS gemm with beta = 1 (2-D C-contiguous arrays):
    row-major c += a b is column-major c^T += b^T a^T, so nothing is copied."""
    gemm = _GEMM.get(c.dtype.char) or _GEMM.setdefault(
        c.dtype.char, get_blas_funcs("gemm", dtype=c.dtype)
    )
    gemm(1.0, b.T, a.T, 1.0, c.T, overwrite_c=1)
    return c


def _logistic_from_half_tanh_(t: np.ndarray) -> None:  # tanh(z/2) -> sigma(z) = (1 + t) / 2
    t *= 0.5
    t += 0.5


class SimpleRNNCell:
    """Elman cell: z_t = x_t W + h_{t-1} W_h + b,  h_t = f(z_t).

    Backward through one step, given dJ/dh_t (from the loss at t and from step t+1):
        dJ/dz_t     = dJ/dh_t * f'(z_t)
        dJ/dh_{t-1} = dJ/dz_t W_h^T          (the factor that vanishes or explodes)
        dJ/dW_h    += h_{t-1}^T dJ/dz_t,  dJ/dW += x_t^T dJ/dz_t,  dJ/db += sum_n dJ/dz_t

    f'(z_t) does not depend on the recursion, so ``prepare_backward`` computes it
    for every step at once; the loop through time only multiplies.
    """

    n_gates = 1
    state_size = 1
    z = dz = scale = dz_scale = None  # the unroll's own buffers, z unscaled (LSTM: its own)

    def __init__(self, units: int, activation: Activation) -> None:
        self.units, self.activation = units, activation

    def bind(self, params: dict[str, np.ndarray]) -> None:
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]

    def step(self, x_t: np.ndarray, h: np.ndarray) -> np.ndarray:
        """One time step, no caching: h_t from x_t (n, n_in) and h_{t-1} (n, units)."""
        return self.activation.forward(x_t @ self.W + h @ self.W_h + self.b)

    # --- the unroll's kernels; caches live in arrays over all steps, (T, units, n)
    def alloc(self, T: int, n: int, dtype: np.dtype) -> None:
        self.H = _buffer(self, "H", (T + 1, self.units, n), dtype)  # H[t] = h_{t-1}; H[0] = h0

    def forward_step(self, t: int, Z: np.ndarray, W_hT: np.ndarray) -> None:
        z = _gemm_add(W_hT, self.H[t], Z[t])  # Z[t] held x_t W + b: now the whole z_t
        h = self.H[t + 1]
        np.copyto(h, z)
        self.activation.forward_(h)  # h_t = f(z_t)

    def prepare_backward(self, Z: np.ndarray) -> None:
        self.D = self.activation.derivative(Z, self.H[1:])  # f'(z_t) for every t

    def start_backward(self, DZ: np.ndarray) -> None:
        pass

    def backward_step(self, t, dh, DZx, DZh) -> np.ndarray:
        """Fill dJ/dz_t into DZx[t]; return the rows that W_h^T sends to h_{t-1}."""
        return np.multiply(dh, self.D[t], out=DZx[t])  # dJ/dz_t = dJ/dh_t * f'(z_t)

    def carry_back(self, t, dh, dh_prev) -> None:
        """Add the paths to h_{t-1} that bypass W_h (none for Elman)."""

    def cut(self) -> None:
        """Truncation: nothing but dJ/dh crosses a step."""

    def state_grad(self, dh_prev) -> tuple:
        return (dh_prev,)


class LSTMCell:
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997), gates [i, f, g, o].

        [z_i, z_f, z_g, z_o] = x_t W + h_{t-1} W_h + b
        i = sigma(z_i) input gate, f = sigma(z_f) forget gate, o = sigma(z_o) output gate,
        g = tanh(z_g) candidate;   c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

    Backward, given dJ/dh_t and dJ/dc_t (from step t+1):
        dJ/do = dJ/dh_t * tanh(c_t)
        dJ/dc_t += dJ/dh_t * o * tanh'(c_t)
        dJ/di = dJ/dc_t * g,  dJ/dg = dJ/dc_t * i,  dJ/df = dJ/dc_t * c_{t-1}
        dJ/dc_{t-1} = dJ/dc_t * f       <- the memory path: its factor is the forget gate,
                                           close to 1 when the cell keeps its memory
        dJ/dz_gate = dJ/dgate * gate'(z_gate)   (sigma' = a (1 - a), tanh' = 1 - a^2)
        dJ/dh_{t-1} = dJ/dz W_h^T

    Everything that does not depend on the recursion (each gate's derivative times
    the factor it multiplies: g sigma'(z_i), c_{t-1} sigma'(z_f), i tanh'(z_g),
    tanh(c_t) sigma'(z_o), and o tanh'(c_t)) is computed by the training forward
    pass while each step is in cache; the loop back through time is then three
    products and the recurrent matrix product.

    With logistic gates and a tanh candidate (the default), all four gates are one
    tanh pass: sigma(z) = (1 + tanh(z / 2)) / 2, and the halving is folded into the
    unroll's copy of the weights (``scale``; exact, a power of two).
    """

    n_gates = 4
    state_size = 2

    def __init__(self, units: int, activation: Activation, recurrent_activation: Activation):
        self.units, self.activation, self.gate = units, activation, recurrent_activation
        self._fast = isinstance(recurrent_activation, Logistic) and isinstance(activation, Tanh)
        self.scale: np.ndarray | None = None
        self.dz_scale: np.ndarray | None = None
        if self._fast:  # the unroll's pre-activations: z / 2 for i, f, o and z for g
            self.scale = np.full(4 * units, 0.5)
            self.scale[2 * units : 3 * units] = 1.0
            # sigma'(z) = (1 - tanh(z/2)^2) / 4: the factors leave out the 1/4, the
            # unroll's W_h, W and weight gradients take it back (exact, a power of two)
            self.dz_scale = self.scale**2

    def bind(self, params):
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]

    def step(self, x_t, state):
        """One time step, no caching: (h_t, c_t) from x_t and (h_{t-1}, c_{t-1})."""
        h, c = state
        U, gate = self.units, self.gate.forward
        z = x_t @ self.W + h @ self.W_h + self.b
        i, f, o = gate(z[:, :U]), gate(z[:, U : 2 * U]), gate(z[:, 3 * U :])
        c = f * c + i * self.activation.forward(z[:, 2 * U : 3 * U])
        return o * self.activation.forward(c), c

    def alloc(self, T, n, dtype):
        U = self.units
        self.H = _buffer(self, "H", (T + 1, U, n), dtype)
        self.C = _buffer(self, "C", (T + 1, U, n), dtype)  # C[t] = c_{t-1}
        self.A = _buffer(self, "A", (T, 4 * U, n), dtype)  # gate outputs i, f, g, o
        self.z = self.A if self._fast else None  # the unroll's z, the gates over it in place
        self.TC = _buffer(self, "TC", (U, n), dtype)  # tanh(c_t), used within the step
        # P_t: dz_t = P_t * [dc, dc, dc, dh], then o tanh'(c_t) (dh_t -> dc_t) in its 5th block
        self.P = self.dz = _buffer(self, "P", (T, 5 * U, n), dtype)  # backward: dz over P
        self._tmp = _buffer(self, "tmp", (U, n), dtype)
        if self._views[0] is not self.P:  # new work arrays: slice them once, not every step
            self._views = (self.P, [self._step_views(t) for t in range(T)], None)

    _views: tuple = (None, None, None)  # (P, per-step forward views, backward views)
    training = False  # set by the unroll: keep the backward factors P

    def _step_views(self, t):
        U, a, p = self.units, self.A[t], self.P[t]
        gates = tuple(a[k * U : (k + 1) * U] for k in range(4))
        factors = tuple(p[k * U : (k + 1) * U] for k in range(5))
        C, H = self.C, self.H
        fwd = (a, a[: 2 * U], *gates, C[t], C[t + 1], self.TC, H[t], H[t + 1])
        return fwd, (p[: 4 * U], *factors)

    def forward_step(self, t, Z, W_hT):
        """Step t; in training also its backward factors that do not depend on the
        recursion, while the step's arrays are in cache: each gate's derivative times
        the factor it multiplies (P[t]) and o tanh'(c_t) (P[t]'s 5th block)."""
        (a, a_if, i, f, g, o, c_prev, c, tc, h_prev, h), P = self._views[1][t]
        d4, pi, pf, pg, po, odt = P
        z = _gemm_add(W_hT, h_prev, Z[t])  # z += W_h^T h_{t-1}
        if self._fast:
            np.tanh(z, out=a)  # tanh(z/2) for i, f, o; tanh(z) = g
            if self.training:  # 1 - tanh^2: g's derivative, 4 sigma' for i, f, o (dz_scale)
                np.multiply(a, a, out=d4)
                np.subtract(1.0, d4, out=d4)
            _logistic_from_half_tanh_(a_if)
            _logistic_from_half_tanh_(o)
        else:
            np.copyto(a, z)
            for x, fn in ((a_if, self.gate), (g, self.activation), (o, self.gate)):
                fn.forward_(x)
        np.multiply(f, c_prev, out=c)  # f * c_{t-1}
        c += np.multiply(i, g, out=self._tmp)  # + i * g
        if self._fast:
            np.tanh(c, out=tc)
        else:
            np.copyto(tc, c)
            self.activation.forward_(tc)
        np.multiply(o, tc, out=h)  # h_t = o * tanh(c_t)
        if not self.training:
            return
        if self._fast:
            np.multiply(tc, tc, out=odt)
            np.subtract(1.0, odt, out=odt)
        else:  # Z holds the pre-activations themselves (scale is None)
            d4[...] = self.gate.derivative(z, a)  # then g's own
            pg[...] = self.activation.derivative(z[2 * self.units : 3 * self.units], g)
            odt[...] = self.activation.derivative(c, tc)
        pi *= g
        pf *= c_prev
        pg *= i
        po *= tc
        odt *= o

    def prepare_backward(self, Z):
        """Nothing left: the training forward pass computed every factor."""

    def start_backward(self, DZ):
        self.dc = np.zeros((self.units, DZ.shape[2]), self.A.dtype)  # dJ/dc_t from step t+1
        P, fw, bw = self._views
        if bw is None or bw[0] is not DZ:  # per-step views of P and of the layer's dz
            U, P5 = self.units, P.reshape(P.shape[0], 5, self.units, P.shape[2])
            D5 = DZ.reshape(P5.shape)
            steps = [
                (P5[t, :3], P5[t, 3:], D5[t, :3], D5[t, 3:], D5[t, 4], DZ[t, : 4 * U], v[0][3])
                for t, v in enumerate(fw)
            ]
            self._views = (P, fw, (DZ, steps))

    def backward_step(self, t, dh, DZx, DZh):
        p3, p2, d3, d2, d4, dz, _ = self._views[2][1][t]  # d.. are p.. (dz over P)
        np.multiply(p2, dh, out=d2)  # output gate, and the path dh_t -> dc_t (in d4)
        self.dc += d4  # dJ/dc_t = (from t+1) + dJ/dh_t o tanh'(c_t)
        np.multiply(p3, self.dc, out=d3)  # input, forget gates, candidate
        return dz

    def carry_back(self, t, dh, dh_prev):
        self.dc *= self._views[2][1][t][6]  # dJ/dc_{t-1} = dJ/dc_t * f_t: the memory path

    def cut(self):
        self.dc[...] = 0.0

    def state_grad(self, dh_prev):
        return (dh_prev, self.dc.copy())  # carry_back(0) made it dJ/dc_0


class GRUCell:
    """Gated recurrent unit (Cho et al. 2014), gates [r, z, n] as in PyTorch.

        r = sigma(x W_r + b_r + h W_hr + b_hr)            reset gate
        u = sigma(x W_z + b_z + h W_hz + b_hz)            update gate (PyTorch's z)
        n = tanh(x W_n + b_n + r * (h W_hn + b_hn))       candidate
        h_t = (1 - u) * n + u * h_{t-1}

    Backward, given dJ/dh_t:
        dJ/dz_n = dJ/dh_t (1 - u) tanh'(.),   dJ/dz_r = dJ/dz_n (h W_hn + b_hn) sigma'(.),
        dJ/dz_u = dJ/dh_t (h_{t-1} - n) sigma'(.)
        dJ/dh_{t-1} = dJ/dh_t * u   (the memory path: factor u, close to 1 when remembering)
                      + [dJ/dz_r, dJ/dz_u, dJ/dz_n * r] W_h^T
    The factors that do not depend on the recursion are computed for all steps at once.
    """

    n_gates = 3
    state_size = 1
    z = dz = scale = dz_scale = None

    def __init__(self, units, activation, recurrent_activation):
        self.units, self.activation, self.gate = units, activation, recurrent_activation
        self._fast = isinstance(recurrent_activation, Logistic)

    def bind(self, params):
        self.W, self.W_h, self.b, self.b_h = params["W"], params["W_h"], params["b"], params["b_h"]

    def step(self, x_t, h):
        U = self.units
        zx = x_t @ self.W + self.b
        hh = h @ self.W_h + self.b_h
        ru = self.gate.forward(zx[:, : 2 * U] + hh[:, : 2 * U])
        n = self.activation.forward(zx[:, 2 * U :] + ru[:, :U] * hh[:, 2 * U :])
        u = ru[:, U:]
        return n + u * (h - n)

    def alloc(self, T, n, dtype):
        U = self.units
        self.H = _buffer(self, "H", (T + 1, U, n), dtype)
        self.A = _buffer(self, "A", (T, 3 * U, n), dtype)  # r, u, n
        self.HH = _buffer(self, "HH", (T, 3 * U, n), dtype)  # W_h^T h_{t-1} + b_h
        self._bh = _buffer(self, "bh", (3 * U, n), dtype)  # b_h in every column
        np.copyto(self._bh, self.b_h[:, None])
        self._tmp = _buffer(self, "tmp", (U, n), dtype)

    def forward_step(self, t, Z, W_hT):
        U = self.units
        h_prev = self.H[t]
        z, hh, a = Z[t], self.HH[t], self.A[t]
        np.copyto(hh, self._bh)
        _gemm_add(W_hT, h_prev, hh)
        z[: 2 * U] += hh[: 2 * U]  # Z now holds the pre-activations of r, u, n
        ru = a[: 2 * U]
        if self._fast:  # sigma(z) = (1 + tanh(z / 2)) / 2
            np.multiply(z[: 2 * U], 0.5, out=ru)
            np.tanh(ru, out=ru)
            _logistic_from_half_tanh_(ru)
        else:
            np.copyto(ru, z[: 2 * U])
            self.gate.forward_(ru)
        z[2 * U :] += np.multiply(a[:U], hh[2 * U :], out=self._tmp)
        n = a[2 * U :]
        np.copyto(n, z[2 * U :])
        self.activation.forward_(n)
        h = self.H[t + 1]
        np.subtract(h_prev, n, out=h)
        h *= a[U : 2 * U]
        h += n  # h = n + u (h_{t-1} - n)

    def prepare_backward(self, Z):
        U, A, act, gate = self.units, self.A, self.activation, self.gate
        r, u, n = A[:, :U], A[:, U : 2 * U], A[:, 2 * U :]
        zr, zu, zn = Z[:, :U], Z[:, U : 2 * U], Z[:, 2 * U :]
        self.Qn = act.derivative(zn, n) * (1 - u)  # dh -> dz_n
        self.Qr = gate.derivative(zr, r) * self.HH[:, 2 * U :]  # dz_n -> dz_r
        self.Qu = gate.derivative(zu, u) * (self.H[:-1] - n)  # dh -> dz_u
        self.R, self.Ug = r, u

    def start_backward(self, DZ):
        pass

    def backward_step(self, t, dh, DZx, DZh):
        U = self.units
        dx, dhh = DZx[t], DZh[t]
        dzn = np.multiply(dh, self.Qn[t], out=dx[2 * U :])
        np.multiply(dzn, self.Qr[t], out=dx[:U])
        np.multiply(dh, self.Qu[t], out=dx[U : 2 * U])
        dhh[: 2 * U] = dx[: 2 * U]
        np.multiply(dzn, self.R[t], out=dhh[2 * U :])  # the candidate sees h W_hn via r
        return dhh

    def carry_back(self, t, dh, dh_prev):
        dh_prev += np.multiply(dh, self.Ug[t], out=self._tmp)  # the path h_{t-1} -> h_t, u

    def cut(self):
        pass

    def state_grad(self, dh_prev):
        return (dh_prev,)


# ----------------------------------------------------------------------- layers
class Recurrent(Layer):
    """The unroll shared by SimpleRNN, LSTM and GRU (BPTT, truncation, state)."""

    recurrent = True  # read by Sequential: inputs are sequences (n, T, features)
    _cell_cls: Any = None
    _state_size = 1  # LSTM: 2 (h, c)

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        stateful: bool = False,
        truncate: int | None = None,
        init: str | dict[str, Any] | Initializer | None = None,
        recurrent_init: str | dict[str, Any] | Initializer = "orthogonal",
        bias_init: str | dict[str, Any] | Initializer = "zeros",
    ) -> None:
        super().__init__()
        self.units = check_int("units", units, minimum=1)
        for name, flag in (("return_sequences", return_sequences), ("stateful", stateful)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"`{name}` must be True or False. Received: {name}={flag!r}.")
        self.return_sequences, self.stateful = bool(return_sequences), bool(stateful)
        self.truncate = None if truncate is None else check_int("truncate", truncate, minimum=1)
        self.init = None if init is None else get_initializer(init)
        self.recurrent_init = get_initializer(recurrent_init)
        self.bias_init = get_initializer(bias_init)
        self.initial_state: Any = None
        self._carry: tuple | None = None  # the stateful layer's last state
        self.hidden_grad_norms: np.ndarray | None = None
        self.a = None

    # ---------------------------------------------------------------- build
    def _make_cell(self):
        raise NotImplementedError

    def build(self, n_in, dtype):
        self.n_in, self.n_out, self.dtype = n_in, self.units, dtype
        self.cell = self._make_cell()
        return self.units

    def param_specs(self):
        G = self.cell.n_gates * self.units
        return [
            ("W", (self.n_in, G), self.init),
            ("W_h", (self.units, G), self.recurrent_init),
            ("b", (G,), self.bias_init),
        ]

    def bind(self, values, grads):
        super().bind(values, grads)
        self.cell.bind(values)

    # ---------------------------------------------------------------- state
    def reset_states(self) -> None:
        """Forget the carried state (stateful layers): the next call starts from initial_state."""
        self._carry = None

    def _initial(self, n: int) -> tuple:
        if self.stateful and self._carry is not None:
            carried = self._carry[0].shape[0]
            if carried != n:
                raise ValueError(
                    f"This stateful {type(self).__name__} carries the state of {carried} "
                    f"sequences but received a batch of {n}. Feed batches of the same size "
                    "(sample i continues sample i) or call reset_states() first."
                )
            return self._carry
        spec = self.initial_state
        if spec is None:
            return tuple(np.zeros((n, self.units), self.dtype) for _ in range(self._state_size))
        parts = spec if self._state_size > 1 else (spec,)
        if self._state_size > 1 and (not isinstance(spec, (tuple, list)) or len(spec) != 2):
            raise ValueError(
                "`initial_state` of an LSTM must be a pair (h0, c0). "
                f"Received: {type(spec).__name__}."
            )
        out = []
        for p in parts:
            arr = np.asarray(p, dtype=self.dtype)
            if arr.shape not in ((self.units,), (n, self.units)) or not np.isfinite(arr).all():
                raise ValueError(
                    f"`initial_state` must be finite with shape ({self.units},) or "
                    f"({n}, {self.units}). Received shape {arr.shape}."
                )
            out.append(np.broadcast_to(arr, (n, self.units)))
        return tuple(out)

    def output_bound(self, m: float, logits: bool = False) -> float:
        """An upper bound of |h| over every input with |x| <= m (see Dense.output_bound):
        with a bounded activation (|f| <= c) and logistic gates, every h_t is at most
        max(c, |h_0|) (an LSTM's o f(c_t); a GRU's convex mix of f(.) and h_{t-1}), provided
        the pre-activations stay finite. inf for an unbounded activation (relu) or gates."""
        growth = self.activation_fn.growth()
        gate = getattr(self, "gate_fn", None)
        if growth is None or growth[0] != 0 or (gate is not None and gate.name != "logistic"):
            return math.inf
        h = growth[1]
        for state in (self.initial_state, self._carry):
            if state is not None:
                parts = state if isinstance(state, (tuple, list)) else (state,)
                h = max([h] + [float(np.max(np.abs(np.asarray(p, dtype=float)))) for p in parts])
        p = self.params
        z = m * self.n_in * float(np.max(np.abs(p["W"])))
        z += self.units * h * float(np.max(np.abs(p["W_h"])))
        z += sum(float(np.max(np.abs(v))) for k, v in p.items() if k.startswith("b"))
        return h if z < float(np.finfo(self.dtype).max) / 4 else math.inf

    # -------------------------------------------------------------- forward
    def forward(self, x, training=False):
        if x.ndim != 3 or x.shape[2] != self.n_in:
            raise ValueError(
                f"{type(self).__name__} expects sequences shaped (n_samples, T, {self.n_in}). "
                f"Received shape {x.shape}."
            )
        n, T, F = x.shape
        cell, dt = self.cell, self.dtype
        X1 = self.X1 = _buffer(self, "X1", (T, F + 1, n), dt)  # [x_t; 1]^T per step
        np.copyto(X1[:, :F], x.transpose(1, 2, 0))
        X1[:, F] = 1.0
        cell.alloc(T, n, dt)
        state = self._initial(n)
        cell.H[0] = state[0].T
        if cell.state_size > 1:
            cell.C[0] = state[1].T
        self._unroll(training)
        H = cell.H
        if self.stateful:
            last = (H[T], cell.C[T]) if cell.state_size > 1 else (H[T],)
            self._carry = tuple(s.T.copy() for s in last)
        self.T, self.n = T, n
        if self.return_sequences:
            out = np.ascontiguousarray(H[1:].transpose(2, 0, 1))  # (n, T, U)
        else:
            out = H[T].T.copy()  # (n, U): the last state, for a many-to-one output
        self.a = out
        return out

    def _unroll(self, training):
        """The loop through time from the state in H[0] (C[0]); training: the cells also
        keep what their backward pass needs (backward reruns it after a plain forward)."""
        Z, W_hT = self._project()
        self.cell.training = self._trained = training
        step = self.cell.forward_step
        for t in range(Z.shape[0]):  # h_t needs h_{t-1}
            step(t, Z, W_hT)

    def _project(self):
        """Every step's input projection x_t W + b at once, (T, G, n), and W_h^T, both
        times the cell's per-gate ``scale`` (LSTM: 1/2 for the logistic gates) through the
        weights' copies; the bias rides on the row of ones appended to each x_t^T."""
        cell, dt, X1 = self.cell, self.dtype, self.X1
        (T, F1, n), G = X1.shape, cell.W.shape[1]
        F = F1 - 1
        Wb = _buffer(self, "WbT", (G, F1), dt)  # [W; b]^T
        np.copyto(Wb[:, :F], cell.W.T)
        Wb[:, F] = cell.b
        W_hT = _buffer(self, "W_hT", (G, self.units), dt)
        np.copyto(W_hT, cell.W_h.T)
        if cell.scale is not None:
            Wb *= cell.scale[:, None]
            W_hT *= cell.scale[:, None]
        Z = cell.z if cell.z is not None else _buffer(self, "Z", (T, G, n), dt)
        self.Z = np.matmul(Wb, X1, out=Z)  # one BLAS product per step, no Python loop
        return Z, W_hT

    @property
    def hidden_states(self) -> np.ndarray | None:
        """(n, T, units): h_1 .. h_T of the last forward pass."""
        H = getattr(self.cell, "H", None) if hasattr(self, "cell") else None
        return None if H is None else H[1:].transpose(2, 0, 1).copy()

    # ------------------------------------------------------------- backward
    def backward(self, da, need_dx=True):
        """Backpropagation through time: the chain rule from step T back to step 1."""
        cell, T, n, U = self.cell, self.T, self.n, self.units
        Z, G = self.Z, self.Z.shape[1]
        # dJ/d(x_t W + b) per step (its first G rows; an LSTM writes it over its factors)
        DZx = cell.dz if cell.dz is not None else _buffer(self, "DZx", Z.shape, Z.dtype)
        two = isinstance(cell, GRUCell)
        # dJ/d(W_h^T h_{t-1} (+ b_h)) per step
        DZh = _buffer(self, "DZh", Z.shape, Z.dtype) if two else DZx
        # DH[t] = dJ/dh_t: starts as the loss's own term at each step; step t+1 adds
        # its share before step t reads it (so it ends as the total derivative)
        DH = _buffer(self, "DH", (T, U, n), self.dtype)
        if self.return_sequences:
            np.copyto(DH, da.transpose(1, 2, 0))
        else:
            DH[: T - 1] = 0.0
            DH[T - 1] = da.T
        if not self._trained:  # no backward factors since the last forward pass
            self._unroll(True)
        self._trained = False  # the cell's backward may use them up
        cell.prepare_backward(Z)  # every factor that does not depend on the recursion
        cell.start_backward(DZx)
        W_h, scale = cell.W_h, cell.dz_scale
        if scale is not None:  # the cell's dz rows come divided by scale: W_h diag(scale)
            W_h = np.multiply(W_h, scale, out=_buffer(self, "W_hk", W_h.shape, W_h.dtype))
        k, dhs = self.truncate, list(DH)
        for t in range(T - 1, 0, -1):
            dh = dhs[t]
            dzh = cell.backward_step(t, dh, DZx, DZh)
            if k is not None and (T - t) % k == 0:
                cell.cut()  # truncated BPTT: the state entering this block is a constant
                continue
            prev = _gemm_add(W_h, dzh, dhs[t - 1])  # dJ/dh_{t-1} += W_h dJ/dz_t
            cell.carry_back(t, dh, prev)  # + the gated memory paths (LSTM c, GRU u)
        dzh = cell.backward_step(0, DH[0], DZx, DZh)
        d0 = np.dot(W_h, dzh)
        cell.carry_back(0, DH[0], d0)
        self._dstate0 = tuple(s.T.copy() for s in cell.state_grad(d0))
        self.hidden_grad_norms = np.sqrt(np.einsum("tun,tun->t", DH, DH))
        DZx = DZx[:, :G]
        self._weight_grads(DZx, DZh, two)
        if not need_dx:
            return None
        W = cell.W if scale is None else cell.W * scale.astype(cell.W.dtype)
        return np.matmul(W, DZx).transpose(2, 0, 1)  # W dz_t per step, (n, T, n_in)

    def _weight_grads(self, DZx, DZh, two):
        """Every step's weight gradients at once, one product over all T n columns:
        sum_t dz_t [h_{t-1}; x_t; 1]^T is dJ/d[W_h; W; b]^T (GRU: dz of the h part apart).
        The per-step blocks are first laid side by side, (rows, T, n)."""
        cell, g, T, n, U, F = self.cell, self.grads, self.T, self.n, self.units, self.n_in
        S = _buffer(self, "S", (U + F + 1, T, n), self.dtype)  # [h_{t-1}; x_t; 1] per step
        np.copyto(S[:U], cell.H[:T].transpose(1, 0, 2))
        np.copyto(S[U:], self.X1.transpose(1, 0, 2))

        def side_by_side(name, A):
            out = _buffer(self, name, (A.shape[1], T, n), A.dtype)
            np.copyto(out, A.transpose(1, 0, 2))
            return out.reshape(A.shape[1], T * n)

        dzx, S = side_by_side("DZx_c", DZx), S.reshape(U + F + 1, T * n)
        if two:
            dzh = side_by_side("DZh_c", DZh)
            g["W_h"][...] = np.dot(dzh, S[:U].T).T
            np.add.reduce(dzh, axis=1, out=g["b_h"])
            Gx = np.dot(dzx, S[U:].T)  # (G, F + 1)
        else:
            Gx = np.dot(dzx, S.T)  # (G, U + F + 1)
            if cell.dz_scale is not None:
                Gx *= cell.dz_scale[:, None]
            g["W_h"][...] = Gx[:, :U].T
            Gx = Gx[:, U:]
        g["W"][...] = Gx[:, :F].T
        g["b"][...] = Gx[:, F]

    @property
    def grad_initial_state(self):
        """dJ/d(initial state) of the last backward pass (h0, or (h0, c0) for LSTM)."""
        d = getattr(self, "_dstate0", None)
        return None if d is None else (d[0] if self._state_size == 1 else d)

    # ---------------------------------------------------------------- config
    def _base_config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "class": type(self).__name__,
            "units": self.units,
            "return_sequences": self.return_sequences,
            "stateful": self.stateful,
            "truncate": self.truncate,
            "recurrent_init": self.recurrent_init.config(),
            "bias_init": self.bias_init.config(),
        }
        if self.init is not None:
            cfg["init"] = self.init.config()
        return cfg


class SimpleRNN(Recurrent):
    """Elman recurrent layer: h_t = f(x_t W + h_{t-1} W_h + b), any mlplab activation.

    Parameters
    ----------
    units : int
        Size of the hidden state h.
    activation : str, default "tanh"
    return_sequences : bool, default False
        True: output h_1..h_T (n, T, units), and layers after it act at every
        step (many-to-many). False: only h_T (n, units) (many-to-one).
    stateful : bool
        Carry the last state of each call into the next (streaming).
    truncate : int, optional
        Truncated BPTT: the gradient flows back at most through blocks of
        ``truncate`` steps (counted back from the last step).
    init, recurrent_init, bias_init : initialisers of W, W_h, b
        (W: the network's default; W_h: orthogonal; b: zeros).
    """

    def __init__(self, units: int, activation: str | dict | Activation = "tanh", **kwargs):
        self.activation_fn = _check_cell_activation("activation", activation)
        super().__init__(units, **kwargs)

    def _make_cell(self):
        return SimpleRNNCell(self.units, self.activation_fn)

    def config(self):
        return {**self._base_config(), "activation": self.activation_fn.config()}


class LSTM(Recurrent):
    """Long short-term memory layer (gates [i, f, g, o], PyTorch's order).

    ``unit_forget_bias=True`` starts the forget-gate biases at 1 (remember by
    default, as Keras does). Other parameters as in :class:`SimpleRNN`, plus
    ``recurrent_activation`` (the gates', default "logistic").
    """

    _state_size = 2

    def __init__(
        self,
        units: int,
        *,
        activation: str | dict | Activation = "tanh",
        recurrent_activation: str | dict | Activation = "logistic",
        unit_forget_bias: bool = True,
        **kwargs,
    ):
        self.activation_fn = _check_cell_activation("activation", activation)
        self.gate_fn = _check_cell_activation("recurrent_activation", recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, **kwargs)

    def _make_cell(self):
        return LSTMCell(self.units, self.activation_fn, self.gate_fn)

    def param_specs(self):
        specs = super().param_specs()
        if self.unit_forget_bias:
            specs[2] = ("b", specs[2][1], _ForgetBias(self.units, self.bias_init))
        return specs

    def config(self):
        return {
            **self._base_config(),
            "activation": self.activation_fn.config(),
            "recurrent_activation": self.gate_fn.config(),
            "unit_forget_bias": self.unit_forget_bias,
        }


class GRU(Recurrent):
    """Gated recurrent unit layer (gates [r, z, n] and a recurrent bias b_h, as PyTorch's).

    Parameters as in :class:`SimpleRNN`, plus ``recurrent_activation``.
    """

    def __init__(
        self,
        units: int,
        *,
        activation: str | dict | Activation = "tanh",
        recurrent_activation: str | dict | Activation = "logistic",
        **kwargs,
    ):
        self.activation_fn = _check_cell_activation("activation", activation)
        self.gate_fn = _check_cell_activation("recurrent_activation", recurrent_activation)
        super().__init__(units, **kwargs)

    def _make_cell(self):
        return GRUCell(self.units, self.activation_fn, self.gate_fn)

    def param_specs(self):
        return [*super().param_specs(), ("b_h", (3 * self.units,), Zeros())]

    def config(self):
        return {
            **self._base_config(),
            "activation": self.activation_fn.config(),
            "recurrent_activation": self.gate_fn.config(),
        }


class _ForgetBias(Initializer):
    """The LSTM bias: ``base`` everywhere, plus 1 on the forget gate's block."""

    name = "lstm_forget_bias"

    def __init__(self, units: int, base: Initializer) -> None:
        self.units, self.base = units, base

    def __call__(self, shape, rng, dtype):
        b = self.base(shape, rng, dtype)
        b[self.units : 2 * self.units] += 1
        return b


class TimeFlatten(Layer):
    """Internal: (n, T, k) -> (n T, k) after the last recurrent layer that returns
    sequences, so that the layers after it act on every time step."""

    def forward(self, x, training=False):
        self.shape = x.shape
        return x.reshape(-1, x.shape[2])

    forward_logits = forward

    def backward(self, da, need_dx=True):
        return da.reshape(self.shape)

    def config(self):  # pragma: no cover - never part of a saved architecture
        return {"class": "TimeFlatten"}


LAYERS.update({cls.__name__: cls for cls in (SimpleRNN, LSTM, GRU)})
