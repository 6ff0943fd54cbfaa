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

from typing import Any

import numpy as np

from ._checks import check_int
from .activations import Activation, get_activation
from .initializers import Initializer, Zeros, get_initializer
from .layers import LAYERS, Layer

__all__ = ["GRU", "LSTM", "GRUCell", "LSTMCell", "Recurrent", "SimpleRNN", "SimpleRNNCell"]


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
    """

    n_gates = 1

    def __init__(self, units: int, activation: Activation) -> None:
        self.units, self.activation = units, activation

    def bind(self, params: dict[str, np.ndarray]) -> None:
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]

    def step(self, x_t: np.ndarray, h: np.ndarray) -> np.ndarray:
        """One time step, no caching: h_t from x_t (n, n_in) and h_{t-1} (n, units)."""
        return self.activation.forward(x_t @ self.W + h @ self.W_h + self.b)

    # the unroll's per-step kernels (caches live in the layer's buffers)
    def alloc(self, T: int, n: int, dtype: np.dtype) -> None:
        self.H = np.empty((T + 1, n, self.units), dtype)  # H[t] = h_{t-1}; H[0] the initial state

    def forward_step(self, t: int, Z: np.ndarray, state: tuple) -> tuple:
        z = Z[t]  # holds x_t W + b; completed in place to the full weighted sum
        z += np.dot(state[0], self.W_h)
        h = self.H[t + 1]
        h[...] = self.activation.forward(z)
        return (h,)

    def backward_step(self, t: int, Z, dstate, DZx, DZh) -> np.ndarray:
        """Fill dJ/dz_t into DZx[t]; return what W_h^T multiplies (dJ/dz_t)."""
        dz = self.activation.backward(Z[t], self.H[t + 1], dstate[0])
        DZx[t] = dz
        return dz

    def prev_state_grad(self, t, dzh, dstate, W_h):
        return (np.dot(dzh, W_h.T),)


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
    """

    n_gates = 4

    def __init__(self, units: int, activation: Activation, recurrent_activation: Activation):
        self.units, self.activation, self.gate = units, activation, recurrent_activation

    def bind(self, params):
        self.W, self.W_h, self.b = params["W"], params["W_h"], params["b"]

    def _gates(self, z):
        U = self.units
        a = np.empty_like(z)
        a[:, : 2 * U] = self.gate.forward(z[:, : 2 * U])  # i, f
        a[:, 2 * U : 3 * U] = self.activation.forward(z[:, 2 * U : 3 * U])  # g
        a[:, 3 * U :] = self.gate.forward(z[:, 3 * U :])  # o
        return a

    def step(self, x_t, state):
        """One time step, no caching: (h_t, c_t) from x_t and (h_{t-1}, c_{t-1})."""
        h, c = state
        U = self.units
        a = self._gates(x_t @ self.W + h @ self.W_h + self.b)
        c = a[:, U : 2 * U] * c + a[:, :U] * a[:, 2 * U : 3 * U]
        return a[:, 3 * U :] * self.activation.forward(c), c

    def alloc(self, T, n, dtype):
        U = self.units
        self.H = np.empty((T + 1, n, U), dtype)
        self.C = np.empty((T + 1, n, U), dtype)  # C[t] = c_{t-1}
        self.A = np.empty((T, n, 4 * U), dtype)  # gate outputs i, f, g, o
        self.TC = np.empty((T, n, U), dtype)  # tanh(c_t)

    def forward_step(self, t, Z, state):
        U = self.units
        z = Z[t]
        z += np.dot(state[0], self.W_h)
        a = self.A[t]
        a[...] = self._gates(z)
        c = self.C[t + 1]
        np.multiply(a[:, U : 2 * U], state[1], out=c)  # f * c_{t-1}
        c += a[:, :U] * a[:, 2 * U : 3 * U]  # + i * g
        tc = self.TC[t]
        tc[...] = self.activation.forward(c)
        h = self.H[t + 1]
        np.multiply(a[:, 3 * U :], tc, out=h)  # h = o * tanh(c)
        return (h, c)

    def backward_step(self, t, Z, dstate, DZx, DZh):
        U = self.units
        dh, dc = dstate
        a, z, tc = self.A[t], Z[t], self.TC[t]
        i, f, g, o = a[:, :U], a[:, U : 2 * U], a[:, 2 * U : 3 * U], a[:, 3 * U :]
        dz = DZx[t]
        dc = dc + self.activation.backward(self.C[t + 1], tc, dh * o)
        act, gate = self.activation, self.gate
        dz[:, :U] = gate.backward(z[:, :U], i, dc * g)  # input gate
        dz[:, U : 2 * U] = gate.backward(z[:, U : 2 * U], f, dc * self.C[t])  # forget gate
        dz[:, 2 * U : 3 * U] = act.backward(z[:, 2 * U : 3 * U], g, dc * i)  # candidate
        dz[:, 3 * U :] = gate.backward(z[:, 3 * U :], o, dh * tc)  # output gate
        self._dc_prev = dc * f
        return dz

    def prev_state_grad(self, t, dzh, dstate, W_h):
        return (np.dot(dzh, W_h.T), self._dc_prev)


class GRUCell:
    """Gated recurrent unit (Cho et al. 2014), gates [r, z, n] as in PyTorch.

        r = sigma(x W_r + b_r + h W_hr + b_hr)            reset gate
        u = sigma(x W_z + b_z + h W_hz + b_hz)            update gate (PyTorch's z)
        n = tanh(x W_n + b_n + r * (h W_hn + b_hn))       candidate
        h_t = (1 - u) * n + u * h_{t-1}

    Backward, given dJ/dh_t:
        dJ/dn = dJ/dh_t (1 - u),  dJ/du = dJ/dh_t (h_{t-1} - n),
        dJ/dh_{t-1} = dJ/dh_t * u  (the memory path: factor u, close to 1 when remembering)
                      + [dJ/dz_r, dJ/dz_u, dJ/dz_n * r] W_h^T
        dJ/dz_n = dJ/dn tanh'(.),  dJ/dr = dJ/dz_n * (h W_hn + b_hn)
    """

    n_gates = 3

    def __init__(self, units, activation, recurrent_activation):
        self.units, self.activation, self.gate = units, activation, recurrent_activation

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
        self.H = np.empty((T + 1, n, U), dtype)
        self.A = np.empty((T, n, 3 * U), dtype)  # r, u, n
        self.HH = np.empty((T, n, 3 * U), dtype)  # h_{t-1} W_h + b_h

    def forward_step(self, t, Z, state):
        U = self.units
        h_prev = state[0]
        z, hh, a = Z[t], self.HH[t], self.A[t]
        np.dot(h_prev, self.W_h, out=hh)
        hh += self.b_h
        z[:, : 2 * U] += hh[:, : 2 * U]  # Z now holds the pre-activations of r, u, n
        a[:, : 2 * U] = self.gate.forward(z[:, : 2 * U])
        z[:, 2 * U :] += a[:, :U] * hh[:, 2 * U :]
        n = a[:, 2 * U :]
        n[...] = self.activation.forward(z[:, 2 * U :])
        h = self.H[t + 1]
        np.subtract(h_prev, n, out=h)
        h *= a[:, U : 2 * U]
        h += n  # h = n + u (h_{t-1} - n)
        return (h,)

    def backward_step(self, t, Z, dstate, DZx, DZh):
        U = self.units
        dh = dstate[0]
        a, z, hh = self.A[t], Z[t], self.HH[t]
        r, u, n = a[:, :U], a[:, U : 2 * U], a[:, 2 * U :]
        dx, dhh = DZx[t], DZh[t]
        dzn = self.activation.backward(z[:, 2 * U :], n, dh * (1 - u))
        dx[:, 2 * U :] = dzn
        dx[:, :U] = self.gate.backward(z[:, :U], r, dzn * hh[:, 2 * U :])
        dx[:, U : 2 * U] = self.gate.backward(z[:, U : 2 * U], u, dh * (self.H[t] - n))
        dhh[:, : 2 * U] = dx[:, : 2 * U]
        np.multiply(dzn, r, out=dhh[:, 2 * U :])
        self._dh_direct = dh * u
        return dhh

    def prev_state_grad(self, t, dzh, dstate, W_h):
        d = np.dot(dzh, W_h.T)
        d += self._dh_direct
        return (d,)


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
        xt = np.ascontiguousarray(x.transpose(1, 0, 2))
        self.x_tm = xt
        # every step's input projection x_t W + b in one product: (T n, F) @ (F, G)
        Z = np.dot(xt.reshape(T * n, F), cell.W).reshape(T, n, -1)
        Z += cell.b
        self.Z = Z
        cell.alloc(T, n, self.dtype)
        state = self._initial(n)
        self.state0 = state
        cell.H[0] = state[0]
        if self._state_size > 1:
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
        return None if H is None else H[1:].transpose(1, 0, 2)

    # ------------------------------------------------------------- backward
    def backward(self, da, need_dx=True):
        """Backpropagation through time: the chain rule from step T back to step 1."""
        cell, T, n, U = self.cell, self.T, self.n, self.units
        Z = self.Z
        G = Z.shape[2]
        DZx = np.empty_like(Z)  # dJ/d(x_t W + b) per step
        two = isinstance(cell, GRUCell)
        DZh = np.empty_like(Z) if two else DZx  # dJ/d(h_{t-1} W_h (+ b_h)) per step
        DH = np.empty((T, n, U), self.dtype)  # dJ/dh_t, for hidden_grad_norms
        W_h = cell.W_h
        k = self.truncate
        seq = self.return_sequences
        dstate = tuple(np.zeros((n, U), self.dtype) for _ in range(self._state_size))
        for t in range(T - 1, -1, -1):
            dh = dstate[0]
            if seq:
                dh = dh + da[:, t]  # the loss at step t adds to what comes from t+1
            elif t == T - 1:
                dh = dh + da
            DH[t] = dh
            dstate = (dh, *dstate[1:])
            dzh = cell.backward_step(t, Z, dstate, DZx, DZh)
            if t == 0:
                self._dstate0 = cell.prev_state_grad(t, dzh, dstate, W_h)
            elif k is not None and (T - t) % k == 0:
                # truncated BPTT: h_{t-1} enters this block as a constant
                dstate = tuple(np.zeros((n, U), self.dtype) for _ in range(self._state_size))
            else:
                dstate = cell.prev_state_grad(t, dzh, dstate, W_h)
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
