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
Internally the arrays are time-major (T, n, ...) so each step reads contiguous
memory; the layer's inputs and outputs are batch-first (n, T, ...).

See docs/recurrent.md for the API, parameter layout and PyTorch correspondence.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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

    def __init__(self, units: int, activation: Activation) -> None:
        self.units, self.activation = units, activation

    def bind(self, params: dict[str, np.ndarray]) -> None:
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]

    def step(self, x_t: np.ndarray, h: np.ndarray) -> np.ndarray:
        """One time step, no caching: h_t from x_t (n, n_in) and h_{t-1} (n, units)."""
        return self.activation.forward(x_t @ self.W + h @ self.W_h + self.b)

    # --- the unroll's kernels; caches live in arrays over all steps (time-major)
    def alloc(self, T: int, n: int, dtype: np.dtype) -> None:
        self.H = _buffer(self, "H", (T + 1, n, self.units), dtype)  # H[t] = h_{t-1}; H[0] = h0

    def forward_step(self, t: int, Z: np.ndarray, state: tuple) -> tuple:
        z = Z[t]  # holds x_t W + b; completed in place to the full weighted sum
        z += np.dot(state[0], self.W_h)
        h = self.H[t + 1]
        h[...] = self.activation.forward(z)  # h_t = f(z_t)
        return (h,)

    def prepare_backward(self, Z: np.ndarray) -> None:
        self.D = self.activation.derivative(Z, self.H[1:])  # f'(z_t) for every t

    def start_backward(self, n: int) -> None:
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
    tanh(c_t) sigma'(z_o), and o tanh'(c_t)) is computed for all steps at once
    in ``prepare_backward``; the loop through time is then five products.
    """

    n_gates = 4
    state_size = 2

    def __init__(self, units: int, activation: Activation, recurrent_activation: Activation):
        self.units, self.activation, self.gate = units, activation, recurrent_activation
        # sigma(z) = (1 + tanh(z / 2)) / 2: with tanh candidates, all four gates in 4 passes
        self._fast = isinstance(recurrent_activation, Logistic) and isinstance(activation, Tanh)
        U = units
        s = np.full(4 * U, 0.5)
        s[2 * U : 3 * U] = 1.0
        self._scale, self._shift = s, np.where(s == 0.5, 0.5, 0.0)

    def bind(self, params):
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]
        dt = self.W.dtype
        self._scale, self._shift = self._scale.astype(dt), self._shift.astype(dt)

    def _gates(self, z, out):
        U = self.units
        if self._fast:
            np.multiply(z, self._scale, out=out)
            np.tanh(out, out=out)
            out *= self._scale
            out += self._shift
            return out
        out[:, : 2 * U] = self.gate.forward(z[:, : 2 * U])  # i, f
        out[:, 2 * U : 3 * U] = self.activation.forward(z[:, 2 * U : 3 * U])  # g
        out[:, 3 * U :] = self.gate.forward(z[:, 3 * U :])  # o
        return out

    def step(self, x_t, state):
        """One time step, no caching: (h_t, c_t) from x_t and (h_{t-1}, c_{t-1})."""
        h, c = state
        U = self.units
        z = x_t @ self.W + h @ self.W_h + self.b
        a = self._gates(z, np.empty_like(z))
        c = a[:, U : 2 * U] * c + a[:, :U] * a[:, 2 * U : 3 * U]
        return a[:, 3 * U :] * self.activation.forward(c), c

    def alloc(self, T, n, dtype):
        U = self.units
        self.H = _buffer(self, "H", (T + 1, n, U), dtype)
        self.C = _buffer(self, "C", (T + 1, n, U), dtype)  # C[t] = c_{t-1}
        self.A = _buffer(self, "A", (T, n, 4 * U), dtype)  # gate outputs i, f, g, o
        self.TC = _buffer(self, "TC", (T, n, U), dtype)  # tanh(c_t)

    def forward_step(self, t, Z, state):
        U = self.units
        z = Z[t]
        z += np.dot(state[0], self.W_h)
        a = self._gates(z, self.A[t])
        c = self.C[t + 1]
        np.multiply(a[:, U : 2 * U], state[1], out=c)  # f * c_{t-1}
        c += a[:, :U] * a[:, 2 * U : 3 * U]  # + i * g
        tc = self.TC[t]
        if self._fast:
            np.tanh(c, out=tc)
        else:
            tc[...] = self.activation.forward(c)
        np.multiply(a[:, 3 * U :], tc, out=self.H[t + 1])  # h_t = o * tanh(c_t)
        return (self.H[t + 1], c)

    def prepare_backward(self, Z):
        U, A, act, gate = self.units, self.A, self.activation, self.gate
        i, f, g, o = (A[..., k * U : (k + 1) * U] for k in range(4))
        P = _buffer(self, "P", A.shape, A.dtype)  # dz_t = P_t * [dc, dc, dc, dh]
        P[..., :U] = gate.derivative(Z[..., :U], i) * g
        P[..., U : 2 * U] = gate.derivative(Z[..., U : 2 * U], f) * self.C[:-1]
        P[..., 2 * U : 3 * U] = act.derivative(Z[..., 2 * U : 3 * U], g) * i
        P[..., 3 * U :] = gate.derivative(Z[..., 3 * U :], o) * self.TC
        self.P = P.reshape(*P.shape[:2], 4, U)
        self.ODT = o * act.derivative(self.C[1:], self.TC)  # dh_t -> dc_t: o tanh'(c_t)
        self.F = f

    def start_backward(self, n):
        self.dc = np.zeros((n, self.units), self.A.dtype)  # dJ/dc_t from step t+1

    def backward_step(self, t, dh, DZx, DZh):
        dc = self.dc
        dc += dh * self.ODT[t]  # dJ/dc_t = (from t+1) + dJ/dh_t o tanh'(c_t)
        P = self.P[t]
        dz = DZx[t].reshape(dh.shape[0], 4, self.units)
        np.multiply(P[:, :3], dc[:, None, :], out=dz[:, :3])  # input, forget gates, candidate
        np.multiply(P[:, 3], dh, out=dz[:, 3])  # output gate
        self._t = t
        return DZx[t]

    def carry_back(self, t, dh, dh_prev):
        self.dc *= self.F[t]  # dJ/dc_{t-1} = dJ/dc_t * f_t: the memory path

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
        self.H = _buffer(self, "H", (T + 1, n, U), dtype)
        self.A = _buffer(self, "A", (T, n, 3 * U), dtype)  # r, u, n
        self.HH = _buffer(self, "HH", (T, n, 3 * U), dtype)  # h_{t-1} W_h + b_h

    def forward_step(self, t, Z, state):
        U = self.units
        h_prev = state[0]
        z, hh, a = Z[t], self.HH[t], self.A[t]
        np.dot(h_prev, self.W_h, out=hh)
        hh += self.b_h
        z[:, : 2 * U] += hh[:, : 2 * U]  # Z now holds the pre-activations of r, u, n
        ru = a[:, : 2 * U]
        if self._fast:  # sigma(z) = (1 + tanh(z / 2)) / 2
            np.multiply(z[:, : 2 * U], 0.5, out=ru)
            np.tanh(ru, out=ru)
            ru *= 0.5
            ru += 0.5
        else:
            ru[...] = self.gate.forward(z[:, : 2 * U])
        z[:, 2 * U :] += a[:, :U] * hh[:, 2 * U :]
        n = a[:, 2 * U :]
        n[...] = self.activation.forward(z[:, 2 * U :])
        h = self.H[t + 1]
        np.subtract(h_prev, n, out=h)
        h *= a[:, U : 2 * U]
        h += n  # h = n + u (h_{t-1} - n)
        return (h,)

    def prepare_backward(self, Z):
        U, A, act, gate = self.units, self.A, self.activation, self.gate
        r, u, n = A[..., :U], A[..., U : 2 * U], A[..., 2 * U :]
        zr, zu, zn = Z[..., :U], Z[..., U : 2 * U], Z[..., 2 * U :]
        self.Qn = act.derivative(zn, n) * (1 - u)  # dh -> dz_n
        self.Qr = gate.derivative(zr, r) * self.HH[..., 2 * U :]  # dz_n -> dz_r
        self.Qu = gate.derivative(zu, u) * (self.H[:-1] - n)  # dh -> dz_u
        self.R, self.Ug = r, u

    def start_backward(self, n):
        pass

    def backward_step(self, t, dh, DZx, DZh):
        U = self.units
        dx, dhh = DZx[t], DZh[t]
        dzn = np.multiply(dh, self.Qn[t], out=dx[:, 2 * U :])
        np.multiply(dzn, self.Qr[t], out=dx[:, :U])
        np.multiply(dh, self.Qu[t], out=dx[:, U : 2 * U])
        dhh[:, : 2 * U] = dx[:, : 2 * U]
        np.multiply(dzn, self.R[t], out=dhh[:, 2 * U :])  # the candidate sees h W_hn via r
        return dhh

    def carry_back(self, t, dh, dh_prev):
        dh_prev += dh * self.Ug[t]  # the direct path h_{t-1} -> h_t, factor u

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
        cell = self.cell
        # time-major copy: each step reads a contiguous (n, F) block
        xt = _buffer(self, "x_tm", (T, n, F), self.dtype)
        np.copyto(xt, x.transpose(1, 0, 2))
        self.x_tm = xt
        # every step's input projection x_t W + b in one product: (T n, F) @ (F, G)
        G = cell.W.shape[1]
        Z = _buffer(self, "Z", (T, n, G), self.dtype)
        np.dot(xt.reshape(T * n, F), cell.W, out=Z.reshape(T * n, G))
        Z += cell.b
        self.Z = Z
        cell.alloc(T, n, self.dtype)
        state = self._initial(n)
        self.state0 = state
        cell.H[0] = state[0]
        if cell.state_size > 1:
            cell.C[0] = state[1]
        for t in range(T):  # the loop through time: h_t needs h_{t-1}
            state = cell.forward_step(t, Z, state)
        if self.stateful:
            self._carry = tuple(s.copy() for s in state)
        self.T, self.n = T, n
        if self.return_sequences:
            out = np.ascontiguousarray(cell.H[1:].transpose(1, 0, 2))  # (n, T, U)
        else:
            out = cell.H[T].copy()  # (n, U): the last state, for a many-to-one output
        self.a = out
        return out

    @property
    def hidden_states(self) -> np.ndarray | None:
        """(n, T, units): h_1 .. h_T of the last forward pass."""
        H = getattr(self.cell, "H", None) if hasattr(self, "cell") else None
        return None if H is None else H[1:].transpose(1, 0, 2).copy()

    # ------------------------------------------------------------- backward
    def backward(self, da, need_dx=True):
        """Backpropagation through time: the chain rule from step T back to step 1."""
        cell, T, n, U = self.cell, self.T, self.n, self.units
        Z = self.Z
        G = Z.shape[2]
        DZx = _buffer(self, "DZx", Z.shape, Z.dtype)  # dJ/d(x_t W + b) per step
        two = isinstance(cell, GRUCell)
        # dJ/d(h_{t-1} W_h (+ b_h)) per step
        DZh = _buffer(self, "DZh", Z.shape, Z.dtype) if two else DZx
        # DH[t] = dJ/dh_t: starts as the loss's own term at each step; step t+1 adds
        # its share before step t reads it (so it ends as the total derivative)
        if self.return_sequences:
            DH = _buffer(self, "DH", (T, n, U), self.dtype)
            np.copyto(DH, da.transpose(1, 0, 2))
        else:
            DH = _buffer(self, "DH", (T, n, U), self.dtype)
            DH[: T - 1] = 0.0
            DH[T - 1] = da
        cell.prepare_backward(Z)  # every factor that does not depend on the recursion
        cell.start_backward(n)
        W_hT = cell.W_h.T
        k = self.truncate
        for t in range(T - 1, 0, -1):
            dh = DH[t]
            dzh = cell.backward_step(t, dh, DZx, DZh)
            if k is not None and (T - t) % k == 0:
                cell.cut()  # truncated BPTT: the state entering this block is a constant
                continue
            prev = DH[t - 1]
            prev += np.dot(dzh, W_hT)  # dJ/dh_{t-1} += dJ/dz_t W_h^T
            cell.carry_back(t, dh, prev)  # + the gated memory paths (LSTM c, GRU u)
        dzh = cell.backward_step(0, DH[0], DZx, DZh)
        d0 = np.dot(dzh, W_hT)
        cell.carry_back(0, DH[0], d0)
        self._dstate0 = cell.state_grad(d0)
        self.hidden_grad_norms = np.sqrt(np.einsum("tnu,tnu->t", DH, DH))
        # weight gradients of every step at once: sum_t h_{t-1}^T dz_t, sum_t x_t^T dz_t
        g = self.grads
        np.dot(cell.H[:T].reshape(T * n, U).T, DZh.reshape(T * n, G), out=g["W_h"])
        np.dot(self.x_tm.reshape(T * n, -1).T, DZx.reshape(T * n, G), out=g["W"])
        np.add.reduce(DZx.reshape(T * n, G), axis=0, out=g["b"])
        if two:
            np.add.reduce(DZh.reshape(T * n, G), axis=0, out=g["b_h"])
        if not need_dx:
            return None
        dx = np.dot(DZx.reshape(T * n, G), cell.W.T).reshape(T, n, -1)
        return dx.transpose(1, 0, 2)  # back to batch-first (n, T, n_in)

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
