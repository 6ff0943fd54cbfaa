"""The one walk over a model's layers that every exporter reads.

``plan(model)`` turns an mlplab ``Sequential`` or a fitted estimator into a flat list of
steps in a neutral form (``Linear``, ``Act``, ``Norm``, ``Slope``, ``Rnn``) plus the
estimator's head, with copies of the arrays: the PyTorch and ONNX writers map each step
to their own operations, so the layer mapping (and every "unsupported" error) is written
here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.activations import Activation
from mlplab.layers import ActivationLayer, BatchNorm, Dense, PReLU
from mlplab.network import Sequential
from mlplab.recurrent import GRU, LSTM, SimpleRNN
from mlplab.sklearn.estimators import MLPClassifier, MLPRegressor
from mlplab.sklearn.sequence import RNNClassifier, RNNRegressor

__all__ = ["SUPPORTED", "Act", "Linear", "Norm", "Plan", "Rnn", "Slope", "plan"]

#: mlplab's activations that PyTorch and ONNX have, with the parameters that travel.
SUPPORTED: dict[str, tuple[str, ...]] = {
    "identity": (),
    "logistic": (),
    "tanh": (),
    "relu": (),
    "leaky_relu": ("slope",),
    "elu": ("alpha",),
    "gelu": ("approximate",),
    "silu": (),
    "softplus": (),
    "softmax": (),
}


@dataclass(frozen=True)
class Linear:
    """z = x W + b; W (n_in, units)."""

    layer: int
    W: np.ndarray
    b: np.ndarray


@dataclass(frozen=True)
class Act:
    """An elementwise activation (softmax: over the last axis), by mlplab's name."""

    layer: int
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Norm:
    """Batch normalisation: gamma, beta, running statistics, eps and momentum."""

    layer: int
    gamma: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float
    momentum: float


@dataclass(frozen=True)
class Slope:
    """PReLU: x for x > 0, alpha x otherwise, alpha (k,) per node."""

    layer: int
    alpha: np.ndarray


@dataclass(frozen=True)
class Rnn:
    """A recurrent layer in mlplab's layout (see docs/recurrent.md): ``cell`` is
    "rnn", "lstm" or "gru"; W (n_in, G U), W_h (U, G U), b (G U,), b_h (GRU's, else None);
    ``nonlinearity`` the SimpleRNN's activation ("tanh" or "relu")."""

    layer: int
    cell: str
    units: int
    W: np.ndarray
    W_h: np.ndarray
    b: np.ndarray
    b_h: np.ndarray | None
    return_sequences: bool
    nonlinearity: str = "tanh"


@dataclass
class Plan:
    """What an exporter builds: steps in order, the inputs, and the estimator's head.

    ``per_step``: the index of the first step that acts on every time step of a sequence
    (after the last recurrent layer that returns sequences), else None. ``head``: None,
    "binary_proba" (one logistic output p -> [1 - p, p], ``predict_proba``) or "exp"
    (a Poisson regressor's ``predict``).
    """

    n_inputs: int
    dtype: np.dtype
    sequence_input: bool
    steps: list
    per_step: int | None = None
    head: str | None = None
    source: str = "Sequential"
    n_outputs: int = 0  # of the module or graph, the head's included
    sequence_output: bool = False


def _describe(layer: Any) -> str:
    return repr(layer) if hasattr(layer, "config") else type(layer).__name__


def activation_step(i: int, act: Activation, where: str) -> Act:
    """The step of an activation, or a ValueError naming the layer and the activation."""
    if act.name not in SUPPORTED:
        raise ValueError(
            f"{where} uses the {act.name!r} activation, which PyTorch and ONNX do not have "
            f"(exportable: {', '.join(SUPPORTED)})."
        )
    return Act(i, act.name, {k: getattr(act, k) for k in SUPPORTED[act.name]})


def _recurrent_step(i: int, layer: Any, where: str) -> Rnn:
    if layer.stateful or layer.initial_state is not None:
        raise ValueError(
            f"{where} is stateful or has an initial_state: an exported module starts every "
            "sequence from zeros. Export a copy built with stateful=False and no initial_state."
        )
    act = layer.activation_fn.name
    gate = getattr(layer, "gate_fn", None)
    if isinstance(layer, SimpleRNN):
        cell, ok = "rnn", act in ("tanh", "relu")
        need = "activation 'tanh' or 'relu' (PyTorch's nonlinearity)"
    else:
        cell = "lstm" if isinstance(layer, LSTM) else "gru"
        ok = act == "tanh" and gate is not None and gate.name == "logistic"
        need = "activation 'tanh' and recurrent_activation 'logistic'"
    if not ok:
        raise ValueError(f"{where} cannot be exported: it needs {need}.")
    p = layer.params
    b_h = p["b_h"].copy() if isinstance(layer, GRU) else None
    return Rnn(
        i, cell, layer.units, p["W"].copy(), p["W_h"].copy(), p["b"].copy(), b_h,
        layer.return_sequences, act,
    )  # fmt: skip


def layer_steps(i: int, layer: Any) -> list:
    """The steps of ``layers[i]`` (a TypeError/ValueError names what cannot be exported)."""
    where = f"layers[{i}] ({_describe(layer)})"
    if isinstance(layer, Dense):
        steps: list = [Linear(i, layer.W.copy(), layer.b.copy())]
        if layer.activation.learnable:
            return [*steps, Slope(i, layer.params["alpha"].copy())]
        if layer.activation.name != "identity":
            steps.append(activation_step(i, layer.activation, where))
        return steps
    if isinstance(layer, ActivationLayer):
        return [activation_step(i, layer.activation, where)]
    if isinstance(layer, PReLU):
        return [Slope(i, layer.params["alpha"].copy())]
    if isinstance(layer, BatchNorm):
        p = layer.params
        return [
            Norm(
                i,
                p["gamma"].copy(),
                p["beta"].copy(),
                layer.running_mean.copy(),
                layer.running_var.copy(),
                layer.eps,
                layer.momentum,
            )  # fmt: skip
        ]
    if isinstance(layer, (SimpleRNN, LSTM, GRU)):
        return [_recurrent_step(i, layer, where)]
    raise TypeError(
        f"{where} cannot be exported: only Dense, ActivationLayer, BatchNorm, PReLU, "
        "SimpleRNN, LSTM and GRU layers map to PyTorch and ONNX."
    )


def _network_of(model: Any) -> tuple[Sequential, str | None, str]:
    """(network, head, source name) of a Sequential or a fitted estimator."""
    if isinstance(model, Sequential):
        return model, None, "Sequential"
    kinds = (MLPClassifier, MLPRegressor, RNNClassifier, RNNRegressor)
    if not isinstance(model, kinds):
        raise TypeError(
            "`model` must be an mlplab Sequential or a fitted MLPClassifier, MLPRegressor, "
            f"RNNClassifier or RNNRegressor. Received: {type(model).__name__}."
        )
    name = type(model).__name__
    net = getattr(model, "net_", None)
    if net is None:
        raise ValueError(f"This {name} is not fitted yet: call fit before exporting it.")
    head = None
    if isinstance(model, (MLPClassifier, RNNClassifier)) and net.n_outputs == 1:
        head = "binary_proba"
    elif isinstance(model, MLPRegressor) and model.loss == "poisson":
        head = "exp"
    return net, head, name


def plan(model: Any) -> Plan:
    """The export plan of ``model`` (a Sequential or a fitted estimator).

    An estimator's plan ends with its head: a classifier's outputs are ``predict_proba``'s
    probabilities (its network's logistic or softmax output; one logistic output p becomes
    the two columns [1 - p, p]), a regressor's are ``predict``'s values, (n, n_outputs).
    """
    net, head, source = _network_of(model)
    steps: list = []
    per_step = None
    for i, layer in enumerate(net.layers):
        steps += layer_steps(i, layer)
        if isinstance(layer, (SimpleRNN, LSTM, GRU)):
            per_step = len(steps) if layer.return_sequences else None
    if per_step is not None and per_step == len(steps):
        per_step = None  # nothing after the sequence
    n_out = 2 if head == "binary_proba" else net.n_outputs
    return Plan(
        net.n_inputs, net.dtype, net.sequence_input, steps, per_step, head, source, n_out,
        net.sequence_output,
    )  # fmt: skip
