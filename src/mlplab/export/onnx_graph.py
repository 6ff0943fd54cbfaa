"""mlplab -> ONNX: ``to_onnx(model, path)`` writes a graph built with ``onnx.helper``.

One input ``X`` ((batch, n_inputs), or (batch, steps, n_inputs) with recurrent layers;
batch and steps are dynamic) and one output ``Y``. Each step of the plan
(:mod:`mlplab.export.plan`) becomes a few standard operators (opset 17), written so that
onnxruntime runs them in float32 and in float64 alike:

* Dense: ``MatMul`` then ``Add`` (mlplab's x W + b, in that order); the activation after.
* logistic, tanh, relu, softmax: ``Sigmoid``, ``Tanh``, ``Relu``, ``Softmax(axis=-1)``.
* leaky_relu, PReLU: ``Where(x > 0, x, slope x)``; elu: ``Where(x > 0, x, alpha (e^min(x,0)
  - 1))``; softplus: ``relu(x) + log(1 + e^-|x|)``; silu: ``x / (1 + e^-x)``; gelu with
  ``approximate=True``: its tanh formula; exact gelu: ``x (1 + erf(x / sqrt 2)) / 2``.
  (onnxruntime 1.32 has no double kernel for LeakyRelu, PRelu, Elu, Softplus or Erf:
  these formulas use operators it has in both precisions, except Erf.)
* BatchNorm (inference): ``(x - running_mean) * (1 / sqrt(running_var + eps)) * gamma +
  beta``, the factor computed here as mlplab computes it.
* SimpleRNN / LSTM / GRU in float32: ONNX's ``RNN`` / ``LSTM`` / ``GRU`` (time-major, the
  gates reordered to ONNX's [i, o, f, c] and [z, r, h], ``linear_before_reset=1`` for GRU).
  In float64, where onnxruntime has no kernel for those three: a ``Scan`` over the time
  axis whose body is the cell's equations (MatMul, Add, Split, Sigmoid, Tanh, Mul, Sub).
* A classifier's head: ``predict_proba`` (one logistic output p -> ``Concat(1 - p, p)``);
  a Poisson regressor's: ``Exp``.

Not exportable, with a ValueError naming the layer: exact GELU in float64, since
onnxruntime has no double ``Erf`` kernel (export the model in float32, or use ``gelu``
with ``approximate=True``).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from mlplab.export import require
from mlplab.export.plan import Act, Linear, Norm, Rnn, Slope, plan
from mlplab.io import atomic_write

onnx = require("onnx", "onnx", "mlplab.to_onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

__all__ = ["build_model", "to_onnx"]

_TYPES = {np.dtype(np.float64): TensorProto.DOUBLE, np.dtype(np.float32): TensorProto.FLOAT}
# mlplab's gate blocks in ONNX's order: LSTM [i, f, g, o] -> [i, o, f, c]; GRU [r, z, n] ->
# [z, r, h]
_GATES = {"rnn": [0], "lstm": [0, 3, 1, 2], "gru": [1, 0, 2]}


class _Graph:
    """Nodes and constants of one graph, every value named uniquely."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value: Any, hint: str = "c") -> str:
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            arr = arr.astype(self.dtype)
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(self, op_type: str, *inputs: str, n_out: int = 1, **attrs: Any) -> Any:
        outs = [self.name(op_type.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def where_positive(self, x: str, negative: str) -> str:
        """x where x > 0, else ``negative`` (mlplab's np.where(z > 0, z, ...))."""
        return self.op("Where", self.op("Greater", x, self.const(0.0)), x, negative)


def _activation(g: _Graph, x: str, step: Act, where: str) -> str:
    p, name = step.params, step.name
    if name == "identity":
        return x
    simple = {"logistic": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
    if name in simple:
        return g.op(simple[name], x)
    if name == "softmax":
        return g.op("Softmax", x, axis=-1)
    if name == "silu":  # z / (1 + e^-z): onnxruntime's float32 Sigmoid is ~1e-7 off in
        # its tails, which z = -12 multiplies beyond float32's tolerance (e^-z = inf: -0)
        return g.op("Div", x, g.op("Add", g.const(1.0), g.op("Exp", g.op("Neg", x))))
    if name == "leaky_relu":
        return g.where_positive(x, g.op("Mul", x, g.const(p["slope"])))
    if name == "elu":  # alpha (e^min(z, 0) - 1)
        e = g.op("Exp", g.op("Min", x, g.const(0.0)))
        return g.where_positive(x, g.op("Mul", g.const(p["alpha"]), g.op("Sub", e, g.const(1.0))))
    if name == "softplus":  # max(z, 0) + log(1 + e^-|z|): no overflow
        tail = g.op("Exp", g.op("Neg", g.op("Abs", x)))
        return g.op("Add", g.op("Relu", x), g.op("Log", g.op("Add", g.const(1.0), tail)))
    if name == "gelu" and p["approximate"]:  # z (1 + tanh(c (z + k z^3))) / 2
        cube = g.op("Mul", g.op("Mul", x, x), x)
        u = g.op("Add", x, g.op("Mul", g.const(0.044715), cube))
        t = g.op("Tanh", g.op("Mul", g.const(math.sqrt(2.0 / math.pi)), u))
        return g.op("Mul", g.op("Mul", g.const(0.5), x), g.op("Add", g.const(1.0), t))
    if g.dtype == np.float64:
        raise ValueError(
            f"{where}: exact GELU needs Erf, which onnxruntime does not run in float64. "
            "Export the model in float32, or use {'name': 'gelu', 'approximate': True}."
        )
    erf = g.op("Erf", g.op("Mul", x, g.const(1.0 / math.sqrt(2.0))))
    return g.op("Mul", g.op("Mul", g.const(0.5), x), g.op("Add", g.const(1.0), erf))


def _gates(a: np.ndarray, cell: str, units: int) -> np.ndarray:
    """Rows of a (G U, ...) array in ONNX's gate order."""
    return np.concatenate([a[k * units : (k + 1) * units] for k in _GATES[cell]])


def _recurrent(g: _Graph, x: str, step: Rnn) -> str:
    """ONNX's RNN / LSTM / GRU operator (float32; onnxruntime has no double kernel)."""
    U, cell = step.units, step.cell
    W = _gates(step.W.T, cell, U)[None]  # (1, G U, n_in)
    R = _gates(step.W_h.T, cell, U)[None]  # (1, G U, U)
    b_h = np.zeros_like(step.b) if step.b_h is None else step.b_h
    B = np.concatenate([_gates(step.b, cell, U), _gates(b_h, cell, U)])[None]
    attrs: dict[str, Any] = {"hidden_size": U}
    if cell == "gru":
        attrs["linear_before_reset"] = 1  # r * (h W_hn + b_hn), as mlplab and PyTorch
    if cell == "rnn":
        attrs["activations"] = ["Tanh" if step.nonlinearity == "tanh" else "Relu"]
    xt = g.op("Transpose", x, perm=[1, 0, 2])  # (T, n, F): onnxruntime's layout 0
    inputs = [xt, g.const(W, "W"), g.const(R, "R"), g.const(B, "B")]
    y, y_h = g.op(cell.upper(), *inputs, n_out=2, **attrs)
    if step.return_sequences:  # Y (T, 1, n, U) -> (n, T, U)
        return g.op("Transpose", g.op("Squeeze", y, g.const(np.array([1]))), perm=[1, 0, 2])
    return g.op("Squeeze", y_h, g.const(np.array([0])))  # Y_h (1, n, U) -> (n, U)


def _cell(g: _Graph, step: Rnn, x: str, h: str, c: str | None) -> tuple[str, str | None]:
    """One time step of mlplab's cell (recurrent.py's ``cell.step``) as graph nodes."""
    split = g.const(np.full(step.W.shape[1] // step.units, step.units, dtype=np.int64))
    xw = g.op("Add", g.op("MatMul", x, g.const(step.W, "W")), g.const(step.b, "b"))
    if step.cell == "gru":
        hh = g.op("Add", g.op("MatMul", h, g.const(step.W_h, "W_h")), g.const(step.b_h, "b_h"))
        x_r, x_u, x_n = g.op("Split", xw, split, axis=-1, n_out=3)
        h_r, h_u, h_n = g.op("Split", hh, split, axis=-1, n_out=3)
        r, u = g.op("Sigmoid", g.op("Add", x_r, h_r)), g.op("Sigmoid", g.op("Add", x_u, h_u))
        n = g.op("Tanh", g.op("Add", x_n, g.op("Mul", r, h_n)))
        return g.op("Add", n, g.op("Mul", u, g.op("Sub", h, n))), None  # n + u (h - n)
    z = g.op("Add", xw, g.op("MatMul", h, g.const(step.W_h, "W_h")))
    if step.cell == "rnn":
        return g.op("Tanh" if step.nonlinearity == "tanh" else "Relu", z), None
    i, f, cand, o = g.op("Split", z, split, axis=-1, n_out=4)
    sig = lambda v: g.op("Sigmoid", v)  # noqa: E731
    c_new = g.op("Add", g.op("Mul", sig(f), c), g.op("Mul", sig(i), g.op("Tanh", cand)))
    return g.op("Mul", sig(o), g.op("Tanh", c_new)), c_new  # h = o tanh(c)


def _recurrent_scan(g: _Graph, x: str, step: Rnn) -> str:
    """The unroll as ONNX ``Scan`` over axis 1 of x (n, T, F), the cell's equations in
    its body: standard operators that onnxruntime runs in float64 too."""
    elem = _TYPES[g.dtype]
    n = g.op("Slice", g.op("Shape", x), g.const(np.array([0])), g.const(np.array([1])))
    shape = g.op("Concat", n, g.const(np.array([step.units])), axis=0)
    zero = helper.make_tensor("zero", elem, [1], [0.0])
    states = [g.op("ConstantOfShape", shape, value=zero) for _ in range(1 + (step.cell == "lstm"))]
    outer, g.nodes = g.nodes, []  # the body's nodes (its constants stay outer initializers)
    names = [g.name(k) for k in ("h_prev", "c_prev")[: len(states)]] + [g.name("x_t")]
    h, c = _cell(g, step, names[-1], names[0], names[1] if len(states) > 1 else None)
    y = g.op("Identity", h)
    body_nodes, g.nodes = g.nodes, outer
    outs = [h, c] if c is not None else [h]
    body = helper.make_graph(
        body_nodes,
        g.name("cell"),
        [helper.make_tensor_value_info(v, elem, None) for v in names],
        [helper.make_tensor_value_info(v, elem, None) for v in [*outs, y]],
    )
    results = g.op(
        "Scan", *states, x, n_out=len(states) + 1, body=body, num_scan_inputs=1,
        scan_input_axes=[1], scan_output_axes=[1],
    )  # fmt: skip
    return results[-1] if step.return_sequences else results[0]  # (n, T, U) or h_T (n, U)


def _step(g: _Graph, x: str, step: Any) -> str:
    where = f"layers[{step.layer}]"
    if isinstance(step, Linear):
        return g.op("Add", g.op("MatMul", x, g.const(step.W, "W")), g.const(step.b, "b"))
    if isinstance(step, Act):
        return _activation(g, x, step, where)
    if isinstance(step, Slope):
        return g.where_positive(x, g.op("Mul", x, g.const(step.alpha, "alpha")))
    if isinstance(step, Norm):
        inv_std = 1.0 / np.sqrt(step.var + step.eps)  # BatchNorm.forward's arithmetic
        x_hat = g.op("Mul", g.op("Sub", x, g.const(step.mean, "mean")), g.const(inv_std))
        return g.op("Add", g.op("Mul", g.const(step.gamma, "gamma"), x_hat), g.const(step.beta))
    if g.dtype == np.float64:
        return _recurrent_scan(g, x, step)
    return _recurrent(g, x, step)


def build_model(model: Any, *, opset: int = 17) -> Any:
    """The ``onnx.ModelProto`` of ``model`` (checked by ``onnx.checker``); see ``to_onnx``."""
    p = plan(model)
    g = _Graph(p.dtype)
    elem = _TYPES[p.dtype]
    dims: list = ["batch", "steps", p.n_inputs] if p.sequence_input else ["batch", p.n_inputs]
    out_dims: list = ["batch", "steps"] if p.sequence_output else ["batch"]
    y = "X"
    for step in p.steps:
        y = _step(g, y, step)
    if p.head == "binary_proba":
        y = g.op("Concat", g.op("Sub", g.const(1.0), y), y, axis=-1)
    elif p.head == "exp":
        y = g.op("Exp", y)
    g.nodes.append(helper.make_node("Identity", [y], ["Y"]))
    graph = helper.make_graph(
        g.nodes,
        f"mlplab_{p.source}",
        [helper.make_tensor_value_info("X", elem, dims)],
        [helper.make_tensor_value_info("Y", elem, [*out_dims, p.n_outputs])],
        initializer=g.inits,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="mlplab"
    )
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime >= 1.10
    onnx.checker.check_model(proto, full_check=True)
    return proto


def to_onnx(model: Any, path: str | os.PathLike[str], *, opset: int = 17) -> None:
    """Write ``model`` to ``path`` as an ONNX file (atomically: a temporary file, then
    a rename).

    ``model``: an mlplab ``Sequential`` (BatchNorm in inference mode, as ``forward(X)``)
    or a fitted estimator: a classifier's output ``Y`` is ``predict_proba``'s (n, n_classes)
    probabilities (a multilabel one's: the logistic outputs), a regressor's is ``predict``'s
    values as (n, n_outputs). The graph's input ``X`` has a dynamic batch dimension (and
    time dimension for recurrent models); float32 models give float32 graphs, float64
    float64. A layer that cannot be exported is a ValueError/TypeError naming it.
    """
    proto = build_model(model, opset=opset)
    atomic_write(os.fspath(path), proto.SerializeToString())
