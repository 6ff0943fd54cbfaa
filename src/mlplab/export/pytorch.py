"""mlplab <-> PyTorch: ``to_torch`` (a model as a ``torch.nn.Module``) and ``from_torch``.

The mapping, step by step (:mod:`mlplab.export.plan`):

=====================  ==========================================================
mlplab                 PyTorch
=====================  ==========================================================
Dense(k, f)            ``nn.Linear`` (weight = W^T, bias = b), then f's module
identity, logistic,    ``nn.Identity``, ``nn.Sigmoid``, ``nn.Tanh``, ``nn.ReLU``,
tanh, relu,            ``nn.LeakyReLU(slope)``, ``nn.ELU(alpha)``,
leaky_relu, elu,       ``nn.GELU("none" | "tanh")``, ``nn.SiLU``,
gelu, silu, softplus,  ``nn.Softplus(threshold=40)``, ``nn.Softmax(dim=-1)``
softmax
BatchNorm              ``nn.BatchNorm1d`` (eps, momentum, running statistics)
PReLU (and "prelu")    ``nn.PReLU(k)`` (one slope per node)
SimpleRNN / LSTM / GRU ``RecurrentLayer(nn.RNN / nn.LSTM / nn.GRU, batch_first=True)``
=====================  ==========================================================

Recurrent weights: weight_ih = W^T, weight_hh = W_h^T (the gate orders are PyTorch's);
mlplab's one bias b goes to bias_ih and bias_hh is 0, except GRU's b_h (bias_hh), which
sits inside the reset gate. ``RecurrentLayer`` returns the output sequence, or its last
step (``return_sequences=False``). The layers after a recurrent layer that returns
sequences act on every time step: ``PerStep`` applies them to (n T, k) as mlplab does.

``nn.Softplus``'s ``threshold`` (above it PyTorch returns x, not log(1 + e^x)) is set to
40, where the two differ by less than e^-40; ``from_torch`` accepts any threshold (at the
default 20 the outputs above it differ by less than e^-20 = 2e-9).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.export import require
from mlplab.export.plan import Act, Linear, Norm, Plan, Rnn, Slope, plan
from mlplab.layers import ActivationLayer, BatchNorm, Dense, PReLU
from mlplab.network import Sequential
from mlplab.recurrent import GRU, LSTM, SimpleRNN

torch = require("torch", "torch", "mlplab.to_torch / mlplab.from_torch")
nn = torch.nn

__all__ = ["BinaryProba", "Exp", "PerStep", "RecurrentLayer", "from_torch", "to_torch"]

_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
SOFTPLUS_THRESHOLD = 40.0


class RecurrentLayer(nn.Module):
    """An ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (batch_first) as a layer of ``nn.Sequential``:
    x (n, T, F) -> its outputs (n, T, U), or only the last step's (n, U)."""

    def __init__(self, rnn: Any, return_sequences: bool = True) -> None:
        super().__init__()
        self.rnn = rnn
        self.return_sequences = bool(return_sequences)

    def forward(self, x):
        out, _ = self.rnn(x)
        return out if self.return_sequences else out[:, -1]

    def extra_repr(self) -> str:
        return f"return_sequences={self.return_sequences}"


class PerStep(nn.Module):
    """Apply ``module`` at every time step: (n, T, k) -> (n T, k) -> module -> (n, T, k')."""

    def __init__(self, module: Any) -> None:
        super().__init__()
        self.module = module

    def forward(self, x):
        n, T = x.shape[0], x.shape[1]
        y = self.module(x.reshape(n * T, x.shape[2]))
        return y.reshape(n, T, y.shape[-1])


class BinaryProba(nn.Module):
    """A binary classifier's ``predict_proba``: one probability p -> [1 - p, p]."""

    def forward(self, p):
        return torch.cat([1 - p, p], dim=-1)


class Exp(nn.Module):
    """A Poisson regressor's ``predict``: exp of the network's output."""

    def forward(self, x):
        return torch.exp(x)


# ------------------------------------------------------------------- to_torch
def _tensor(a: np.ndarray, dtype) -> Any:
    return torch.from_numpy(np.ascontiguousarray(a)).to(dtype)


def _act_module(step: Act) -> Any:
    p = step.params
    simple = {
        "identity": nn.Identity,
        "logistic": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "silu": nn.SiLU,
    }
    if step.name in simple:
        return simple[step.name]()
    if step.name == "leaky_relu":
        return nn.LeakyReLU(p["slope"])
    if step.name == "elu":
        return nn.ELU(p["alpha"])
    if step.name == "gelu":
        return nn.GELU(approximate="tanh" if p["approximate"] else "none")
    if step.name == "softplus":
        return nn.Softplus(beta=1.0, threshold=SOFTPLUS_THRESHOLD)
    return nn.Softmax(dim=-1)  # the plan admits nothing else


def _rnn_module(step: Rnn, dtype) -> Any:
    n_in = step.W.shape[0]
    kw = {"batch_first": True, "dtype": dtype}
    if step.cell == "rnn":
        rnn = nn.RNN(n_in, step.units, nonlinearity=step.nonlinearity, **kw)
    else:
        rnn = (nn.LSTM if step.cell == "lstm" else nn.GRU)(n_in, step.units, **kw)
    b_h = np.zeros_like(step.b) if step.b_h is None else step.b_h
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(_tensor(step.W.T, dtype))
        rnn.weight_hh_l0.copy_(_tensor(step.W_h.T, dtype))
        rnn.bias_ih_l0.copy_(_tensor(step.b, dtype))
        rnn.bias_hh_l0.copy_(_tensor(b_h, dtype))
    return RecurrentLayer(rnn, step.return_sequences)


def _module(step: Any, dtype) -> Any:
    if isinstance(step, Act):
        return _act_module(step)
    if isinstance(step, Rnn):
        return _rnn_module(step, dtype)
    if isinstance(step, Linear):
        m = nn.Linear(step.W.shape[0], step.W.shape[1], dtype=dtype)
        values = {"weight": step.W.T, "bias": step.b}
    elif isinstance(step, Slope):
        m = nn.PReLU(step.alpha.shape[0], dtype=dtype)
        values = {"weight": step.alpha}
    else:  # Norm
        assert isinstance(step, Norm)
        m = nn.BatchNorm1d(step.gamma.shape[0], eps=step.eps, momentum=step.momentum, dtype=dtype)
        values = {"weight": step.gamma, "bias": step.beta}
        values |= {"running_mean": step.mean, "running_var": step.var}
    with torch.no_grad():
        for name, value in values.items():
            getattr(m, name).copy_(_tensor(value, dtype))
    return m


def modules_of(p: Plan) -> list:
    """The modules of a plan, in order (the per-step tail in a ``PerStep``)."""
    dtype = _DTYPES[p.dtype]
    mods = [_module(step, dtype) for step in p.steps]
    if p.per_step is not None:
        mods = [*mods[: p.per_step], PerStep(nn.Sequential(*mods[p.per_step :]))]
    if p.head == "binary_proba":
        mods.append(BinaryProba())
    elif p.head == "exp":
        mods.append(Exp())
    return mods


def to_torch(model: Any) -> Any:
    """``model`` as a ``torch.nn.Sequential`` in eval mode, with copies of its weights.

    ``model``: an mlplab ``Sequential`` (inputs (n, n_inputs), or (n, T, n_inputs) with
    recurrent layers), or a fitted ``MLPClassifier``/``RNNClassifier`` (the module returns
    ``predict_proba``'s probabilities: the network's softmax outputs, or for one logistic
    output p the columns [1 - p, p]; a multilabel classifier's logistic outputs as they are)
    or ``MLPRegressor``/``RNNRegressor`` (``predict``'s values as (n, n_outputs); exp for
    the Poisson loss). An RNN estimator's module takes (n, T, n_features).

    Eval mode gives ``net.forward(X)``; ``.train()`` gives BatchNorm's batch statistics
    as ``net.forward(X, training=True)``, with the same running-average updates. Float64
    models give float64 modules, float32 float32. A layer PyTorch cannot hold (the step
    activation, a stateful recurrent layer, a layer class mlplab cannot map) is a
    ValueError/TypeError naming ``layers[i]``.
    """
    return nn.Sequential(*modules_of(plan(model))).eval()


# ----------------------------------------------------------------- from_torch
def _act_spec(m: Any, where: str) -> Any:
    """mlplab's activation spec for an activation module, None if ``m`` is not one."""
    simple = {
        nn.Identity: "identity",
        nn.Sigmoid: "logistic",
        nn.Tanh: "tanh",
        nn.ReLU: "relu",
        nn.SiLU: "silu",
    }
    if type(m) in simple:
        return simple[type(m)]
    if isinstance(m, nn.LeakyReLU):
        return {"name": "leaky_relu", "slope": float(m.negative_slope)}
    if isinstance(m, nn.ELU):
        return {"name": "elu", "alpha": float(m.alpha)}
    if isinstance(m, nn.GELU):
        return {"name": "gelu", "approximate": m.approximate == "tanh"}
    if isinstance(m, nn.Softplus):
        if m.beta != 1:
            raise ValueError(f"{where}: mlplab's softplus has beta = 1; received beta={m.beta}.")
        return "softplus"
    if isinstance(m, nn.Softmax):
        return "softmax"
    return None


def _array(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


class _Builder:
    """Walks a module's children, collecting mlplab layers and the weights to copy."""

    def __init__(self, n_inputs: int | None) -> None:
        self.layers: list = []
        self.setters: list = []  # (layer, function(layer)) once the network is built
        self.width = n_inputs  # the current number of features (None: not known yet)
        self.sequence = False  # the current output is a sequence (n, T, k)
        self.per_step = False  # inside a PerStep: (n T, k)
        self.feedforward = False  # a feed-forward layer was added
        self.n_inputs = n_inputs
        self.dtypes: set = set()

    def features(self, n: int, where: str) -> None:
        if self.width is None:
            self.width = self.n_inputs = n
        elif n != self.width:
            raise ValueError(f"{where} takes {n} features, but receives {self.width}.")

    def add(self, layer: Any, setter: Any = None) -> None:
        self.layers.append(layer)
        self.feedforward |= not getattr(layer, "recurrent", False)
        if setter is not None:
            self.setters.append((layer, setter))

    def params(self, m: Any) -> None:
        self.dtypes |= {p.dtype for p in m.parameters()}

    # --- recurrent modules
    def recurrent(self, rnn: Any, where: str, return_sequences: bool) -> None:
        kind = type(rnn).__name__
        if self.feedforward or (self.layers and not self.sequence):
            raise ValueError(
                f"{where} ({kind}) follows a feed-forward module or a recurrent one that "
                "returns only its last step: mlplab's recurrent layers come first, each "
                "returning its sequence to the next."
            )
        problems = [
            "bidirectional=True" if rnn.bidirectional else "",
            "batch_first=False (mlplab's sequences are (n, T, features))"
            if not rnn.batch_first
            else "",
            f"proj_size={rnn.proj_size}" if getattr(rnn, "proj_size", 0) else "",
            f"dropout={rnn.dropout} between stacked layers" if rnn.dropout else "",
        ]
        problems = [p for p in problems if p]
        if problems:
            raise ValueError(f"{where} ({kind}) has {', '.join(problems)}: mlplab cannot map it.")
        self.params(rnn)
        self.features(rnn.input_size, f"{where} ({kind})")
        for k in range(rnn.num_layers):
            last = k == rnn.num_layers - 1
            self._rnn_layer(rnn, k, return_sequences or not last)
        self.width, self.sequence = rnn.hidden_size, return_sequences

    def _rnn_layer(self, rnn: Any, k: int, return_sequences: bool) -> None:
        U = rnn.hidden_size
        if isinstance(rnn, nn.LSTM):
            layer = LSTM(U, return_sequences=return_sequences)
        elif isinstance(rnn, nn.GRU):
            layer = GRU(U, return_sequences=return_sequences)
        else:
            act = "tanh" if rnn.nonlinearity == "tanh" else "relu"
            layer = SimpleRNN(U, activation=act, return_sequences=return_sequences)

        def set_weights(layer: Any) -> None:
            p = layer.params
            p["W"][...] = _array(getattr(rnn, f"weight_ih_l{k}")).T
            p["W_h"][...] = _array(getattr(rnn, f"weight_hh_l{k}")).T
            if not rnn.bias:
                p["b"][...] = 0.0
                if "b_h" in p:
                    p["b_h"][...] = 0.0
                return
            b_ih = _array(getattr(rnn, f"bias_ih_l{k}"))
            b_hh = _array(getattr(rnn, f"bias_hh_l{k}"))
            if "b_h" in p:  # GRU: b_hn sits inside the reset gate
                p["b"][...], p["b_h"][...] = b_ih, b_hh
            else:
                p["b"][...] = b_ih + b_hh

        self.add(layer, set_weights)

    # --- feed-forward modules
    def linear(self, m: Any, act: Any, where: str) -> None:
        self.params(m)
        self.features(m.in_features, where)

        def set_weights(layer: Any) -> None:
            layer.W[...] = _array(m.weight).T
            layer.b[...] = 0.0 if m.bias is None else _array(m.bias)

        self.add(Dense(m.out_features, activation=act or "identity"), set_weights)
        self.width = m.out_features

    def per_node(self, where: str, kind: str) -> None:
        if self.sequence and not self.per_step:
            raise ValueError(
                f"{where} ({kind}) receives a sequence (n, T, k), where PyTorch reads dim 1 "
                "as the features: wrap the modules after the recurrent layer in "
                "mlplab.export.pytorch.PerStep."
            )

    def batchnorm(self, m: Any, where: str) -> None:
        self.per_node(where, "BatchNorm1d")
        if not m.track_running_stats or m.momentum is None:
            raise ValueError(
                f"{where} (BatchNorm1d) has track_running_stats=False or momentum=None: "
                "mlplab's BatchNorm keeps exponential running statistics."
            )
        self.params(m)
        self.features(m.num_features, where)

        def set_weights(layer: Any) -> None:
            p = layer.params
            p["gamma"][...] = _array(m.weight) if m.affine else 1.0
            p["beta"][...] = _array(m.bias) if m.affine else 0.0
            layer.running_mean[...] = _array(m.running_mean)
            layer.running_var[...] = _array(m.running_var)

        self.add(BatchNorm(momentum=m.momentum, eps=m.eps), set_weights)

    def prelu(self, m: Any, where: str) -> None:
        self.per_node(where, "PReLU")
        self.params(m)
        if m.num_parameters > 1:
            self.features(m.num_parameters, where)
        if self.width is None:
            raise ValueError(f"{where} (PReLU): pass n_inputs=, the number of its features.")

        def set_weights(layer: Any) -> None:
            layer.params["alpha"][...] = _array(m.weight)

        self.add(PReLU(), set_weights)

    def walk(self, children: list, prefix: str) -> None:
        i = 0
        while i < len(children):
            name, m = children[i]
            where = f"{prefix}[{name}]"
            i += 1
            if isinstance(m, nn.Linear):
                act = None
                if i < len(children):  # an activation after it: one Dense
                    f_name, follower = children[i]
                    act = _act_spec(follower, f"{prefix}[{f_name}]")
                if act is not None and self._softmax_ok(follower, f"{prefix}[{f_name}]"):
                    i += 1
                self.linear(m, act, where)
            elif isinstance(m, RecurrentLayer):
                self.recurrent(m.rnn, where + ".rnn", m.return_sequences)
            elif isinstance(m, PerStep):
                self.per_step_module(m, where)
            elif isinstance(m, nn.Sequential):
                self.walk(list(m.named_children()), where)
            elif isinstance(m, nn.BatchNorm1d):
                self.batchnorm(m, where)
            elif isinstance(m, nn.PReLU):
                self.prelu(m, where)
            elif (spec := _act_spec(m, where)) is not None:
                self._softmax_ok(m, where)
                self.add(ActivationLayer(spec))
            else:
                raise TypeError(_unsupported(m, where))

    def per_step_module(self, m: Any, where: str) -> None:
        if not self.sequence or self.per_step:
            raise ValueError(f"{where} (PerStep) does not follow a recurrent sequence output.")
        self.per_step = True
        self.walk(list(m.module.named_children()) or [("module", m.module)], where + ".module")
        self.per_step = False

    def _softmax_ok(self, m: Any, where: str) -> bool:
        if isinstance(m, nn.Softmax):
            last = 2 if self.sequence and not self.per_step else 1
            if m.dim not in (-1, last):
                raise ValueError(
                    f"{where} (Softmax) has dim={m.dim}: mlplab's softmax is over the "
                    f"features, dim=-1 (or {last})."
                )
        return True


def _unsupported(m: Any, where: str) -> str:
    kind = type(m).__name__
    if isinstance(m, nn.RNNBase):
        return (
            f"{where} ({kind}) inside nn.Sequential returns a tuple: wrap it as "
            "mlplab.export.pytorch.RecurrentLayer(rnn, return_sequences=...)."
        )
    return (
        f"{where} ({kind}) has no mlplab layer. from_torch maps nn.Linear, nn.BatchNorm1d, "
        "nn.PReLU, nn.Identity, nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, "
        "nn.SiLU, nn.Softplus, nn.Softmax and nn.RNN / nn.LSTM / nn.GRU (batch_first, "
        "one direction)."
    )


def from_torch(module: Any, *, n_inputs: int | None = None) -> Sequential:
    """An mlplab ``Sequential`` equal to ``module`` (copies of its weights and statistics).

    ``module``: an ``nn.Sequential`` of the modules ``to_torch`` writes (nested
    ``nn.Sequential``s are read in order; ``nn.Linear`` followed by an activation becomes
    one ``Dense``), or one ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (``batch_first=True``, one
    direction, no projection; stacked layers become stacked mlplab layers): the network
    then equals the module's output sequence, its first return value. The module's dtype
    (float64 or float32) is the network's. ``n_inputs``: only when the first module does
    not say its number of features (an activation). Anything else is a TypeError or
    ValueError naming the module's position, ``module[i]``, and its class.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"`module` must be a torch.nn.Module. Received: {type(module).__name__}.")
    b = _Builder(n_inputs)
    if isinstance(module, nn.RNNBase):
        b.recurrent(module, "module", True)
    elif isinstance(module, nn.Sequential):
        b.walk(list(module.named_children()), "module")
    elif isinstance(module, RecurrentLayer):
        b.walk([("0", module)], "module")
    else:
        raise TypeError(
            "`module` must be an nn.Sequential or an nn.RNN / nn.LSTM / nn.GRU. "
            f"Received: {type(module).__name__}."
        )
    if not b.layers:
        raise ValueError("`module` holds no layer to map.")
    dtypes = b.dtypes or {torch.float64}
    if len(dtypes) != 1 or next(iter(dtypes)) not in (torch.float64, torch.float32):
        raise ValueError(
            f"`module`'s parameters must all be float64 or all float32. Received: {dtypes}."
        )
    if b.n_inputs is None:
        raise ValueError(
            "`module` does not say its number of input features (it has no Linear, "
            "BatchNorm1d or recurrent module, nor a PReLU with one slope per feature): "
            "pass n_inputs=."
        )
    dtype = "float64" if next(iter(dtypes)) == torch.float64 else "float32"
    net = Sequential(b.layers, n_inputs=b.n_inputs, seed=0, dtype=dtype)
    for layer, setter in b.setters:
        setter(layer)
    return net
