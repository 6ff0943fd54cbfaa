"""Backpropagation by hand: one sample, every number of the chain rule shown.

:func:`backprop_by_hand` redoes, with plain Python arithmetic, what
``Sequential.loss_and_grad`` does for one sample, and lists every quantity as
the lecture writes it, with the numbers plugged in:

* forward pass, per layer l and node j: zⱼ = Σᵢ wᵢⱼ xᵢ + bⱼ (the lecture's g)
  and aⱼ = f(zⱼ) (the inputs of layer l > 1 are the outputs a of layer l - 1);
* the cost J and, for "mse", ∂J/∂ŷₖ;
* every δⱼ = ∂J/∂zⱼ: at the output δₖ = ∂J/∂ŷₖ · f'(zₖ) (the fused
  cross-entropy outputs: δₖ = ŷₖ - yₖ, divided by K for "bce" over K outputs),
  in a hidden layer δⱼ = f'(zⱼ) · Σₖ wⱼₖ δₖ (δₖ of the layer above), with the
  factor f'(zⱼ) on its own row;
* every ∂J/∂wᵢⱼ = δⱼ · xᵢ and ∂J/∂bⱼ = δⱼ (and ∂J/∂αⱼ for PReLU slopes).

The activations' values f(z) and derivatives f'(z) are those of
:mod:`mlplab.activations` (one implementation of each activation); the table
writes them with their textbook formulas, and checks every f'(z) against a
central finite difference of f.

Each value sits next to the engine's own number (the layer caches after a
forward pass, ``loss_and_grad``'s gradient; for δⱼ the engine's ∂J/∂bⱼ, which
equals δⱼ for one sample) and a central finite difference of J with h = 1e-6
(for f'(z): of f). ``max_error`` is the largest deviation from either.

Layers: ``Dense`` with any elementwise activation (a softmax only as the output
of the "cce" loss). BatchNorm, standalone activation and PReLU layers are not
shown (a ValueError says so); float64 networks only (float32 rounding would
swamp the finite differences).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from mlplab.activations import Activation, Identity, Step, get_activation
from mlplab.layers import Dense
from mlplab.losses import BCE, CCE, MSE
from mlplab.network import Sequential
from mlplab.teaching.backprop_table import BackpropTable, H
from mlplab.teaching.backprop_table import factor as _p
from mlplab.teaching.backprop_table import number as _n

__all__ = ["H", "BackpropTable", "backprop_by_hand"]


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻")
_KINKED = ("relu", "leaky_relu", "prelu", "elu")


# ----------------------------------------------------------------- notation
def _idx(*ks: int) -> str:
    parts = [str(k) for k in ks]
    sep = "," if any(len(p) > 1 for p in parts) else ""
    return sep.join(parts).translate(_SUB)


def _sym(name: str, layer: int, *ks: int) -> str:
    """E.g. _sym("w", 2, 1, 3) = 'w₁₃⁽²⁾' (layer as a superscript, indices as subscripts)."""
    return f"{name}{_idx(*ks)}{_sup(layer)}"


def _sup(layer: int) -> str:
    return f"({layer})".translate(_SUP)


# ---------------------------------------------------- activations, written out
_LOGISTIC = get_activation("logistic")
_SOFTMAX = get_activation("softmax")


def _value(act: Activation, z: float) -> float:
    """f(z) of one number, by mlplab.activations."""
    return float(act.forward(np.array([z]))[0])


def _formulas(
    act: Activation, z: float, a: float, alpha: float | None
) -> tuple[str, str, str, str]:
    """(f symbolic, f with the numbers, f' symbolic, f' with the numbers) of ``act`` at z,
    a = f(z), from the textbook formulas; for an activation without one here, its name."""
    name = act.name
    Z, A = "{z}", "{a}"  # placeholders of the symbols z and a, filled in by the caller
    if name == "identity":
        return Z, _n(z), "1", "1"
    if name == "logistic":
        return f"σ({Z})", f"1/(1 + exp({_n(-z)}))", f"{A}(1 - {A})", f"{_p(a)}·(1 - {_p(a)})"
    if name == "tanh":
        return f"tanh({Z})", f"tanh({_n(z)})", f"1 - {A}²", f"1 - {_p(a)}²"
    pos = z > 0
    if name in ("relu", "leaky_relu", "prelu"):
        slope = 0.0 if name == "relu" else (act.slope if name == "leaky_relu" else alpha)
        s = "0" if name == "relu" else ("s" if name == "leaky_relu" else "α")
        if name == "relu":
            f_sym, f_num = f"max(0, {Z})", f"max(0, {_n(z)})"
        else:
            f_sym = f"{Z} if {Z} > 0, else {s}·{Z}"
            f_num = _n(z) if pos else f"{_p(slope)}·{_p(z)}"
        d_num = f"{'1' if pos else _n(slope)} ({_n(z)} {'>' if pos else '≤'} 0)"
        return f_sym, f_num, f"1 if {Z} > 0, else {s}", d_num
    if name == "elu":
        al = act.alpha
        return (
            f"{Z} if {Z} > 0, else α(exp({Z}) - 1)",
            _n(z) if pos else f"{_p(al)}·(exp({_n(z)}) - 1)",
            f"1 if {Z} > 0, else α·exp({Z})",
            f"1 ({_n(z)} > 0)" if pos else f"{_p(al)}·exp({_n(z)})",
        )
    if name == "softplus":
        return f"log(1 + exp({Z}))", f"log(1 + exp({_n(z)}))", f"σ({Z})", f"1/(1 + exp({_n(-z)}))"
    if name == "silu":
        s = _value(_LOGISTIC, z)  # σ(z), written in the formula
        return (
            f"{Z}·σ({Z})",
            f"{_p(z)}·σ({_n(z)})",
            f"σ({Z})(1 + {Z}(1 - σ({Z})))",
            f"{_p(s)}·(1 + {_p(z)}·(1 - {_p(s)}))",
        )
    if name == "gelu" and not act.approximate:
        # the normal CDF Φ(z) and density φ(z), written in the formula (f and f' themselves
        # come from mlplab.activations)
        cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return (
            f"{Z}·Φ({Z})",
            f"{_p(z)}·Φ({_n(z)})",
            f"Φ({Z}) + {Z}·φ({Z})",
            f"{_p(cdf)} + {_p(z)}·{_p(pdf)}",
        )
    return f"{name}({Z})", f"{name}({_n(z)})", f"{name}'({Z})", f"{name}'({_n(z)})"


class _Node:
    """One layer's activation, node by node: its values from mlplab.activations (PReLU:
    each node's own trained slope) and its formulas."""

    def __init__(self, layer: Dense) -> None:
        self.act = layer.activation
        self.alpha = None
        if self.act.learnable:  # PReLU: one activation per node, with its slope α_j
            self.alpha = [float(v) for v in layer.params["alpha"]]
            self.per_node = [replace(self.act, alpha=v) for v in self.alpha]

    def _act(self, j: int) -> Activation:
        return self.act if self.alpha is None else self.per_node[j]

    def f(self, z: float, j: int) -> float:
        return _value(self._act(j), z)

    def df(self, z: float, a: float, j: int) -> float:
        return float(self._act(j).derivative(np.array([z]), np.array([a]))[0])

    def hand(self, z: float, j: int, zs: str, as_: str) -> tuple[str, str, float, str, str, float]:
        """(f symbolic, f numbers, f(z), f' symbolic, f' numbers, f'(z)), the symbols z
        and a written as ``zs`` and ``as_``."""
        a = self.f(z, j)
        alpha = None if self.alpha is None else self.alpha[j]
        f_sym, f_num, d_sym, d_num = _formulas(self.act, z, a, alpha)
        return (
            f_sym.replace("{z}", zs),
            f_num,
            a,
            d_sym.replace("{z}", zs).replace("{a}", as_),
            d_num,
            self.df(z, a, j),
        )

    def fd_df(self, z: float, j: int) -> float | None:
        if self.act.name in _KINKED and abs(z) <= 2 * H:
            return None  # the difference would straddle the kink
        return (self.f(z + H, j) - self.f(z - H, j)) / (2 * H)


# ------------------------------------------------------------------- checks
_LAYER_HINTS = {
    "BatchNorm": "its output mixes every sample of the batch, so one sample's chain rule "
    "does not describe it (net.loss_and_grad() computes its gradient)",
    "ActivationLayer": "put the activation in the Dense layer instead "
    "(Dense(units, activation=...))",
    "PReLU": "use Dense(units, activation='prelu') instead (the table then shows ∂J/∂α)",
}


def _check_network(net: Sequential, loss_obj: Any) -> None:
    if net.dtype != np.float64:
        raise ValueError(
            "backprop_by_hand() needs a float64 network (float32 rounding would swamp the "
            "finite differences); build it with dtype='float64'."
        )
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        if type(layer) is not Dense:
            name = type(layer).__name__
            hint = _LAYER_HINTS.get(name, "net.loss_and_grad() computes its gradient")
            raise ValueError(
                f"backprop_by_hand() shows Dense layers only; layer {i} is {name}: {hint}."
            )
        act = layer.activation
        if isinstance(act, Step):
            raise ValueError(
                f"layer {i} uses the step activation: its derivative is 0 everywhere except at 0, "
                "where it is undefined, so there is nothing to backpropagate."
            )
        if not act.elementwise and not (i == last and isinstance(loss_obj, CCE)):
            raise ValueError(
                f"layer {i} uses the {act.name!r} activation, which is not elementwise: "
                "backprop_by_hand() shows it only as the output of the 'cce' loss."
            )
    if not isinstance(loss_obj, MSE | BCE | CCE):
        raise ValueError(f"backprop_by_hand() knows the losses mse, bce and cce; got {loss_obj}.")


def _one_sample(net: Sequential, x: Any, y: Any, loss: Any):
    X = np.asarray(x, dtype=float)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    if X.ndim != 2 or X.shape[0] != 1:
        raise ValueError(
            "backprop_by_hand() works on ONE sample: x must have shape (n_inputs,) or "
            f"(1, n_inputs). Received shape {np.shape(x)}."
        )
    from mlplab.losses import get_loss

    loss_obj = get_loss(loss)
    Y = np.asarray(y)
    if Y.ndim == 0:
        Y = Y.reshape(1)
    is_label = isinstance(loss_obj, CCE) and Y.dtype.kind in "iub" and Y.size == 1
    if is_label and net.n_outputs > 1:
        Y = Y.reshape(1)  # an integer class label
    elif Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if not (is_label and net.n_outputs > 1) and (Y.ndim != 2 or Y.shape[0] != 1):
        raise ValueError(
            "backprop_by_hand() works on ONE sample: y must be a scalar, a class label or a "
            f"row of {net.n_outputs} target(s). Received shape {np.shape(y)}."
        )
    return net.prepare(X, Y, loss_obj, None)[:3]


# ---------------------------------------------------------------- the pass
class _Pass:
    """One sample through a network by hand, row by row, each value beside the engine's
    number and a finite difference: :meth:`forward`, :meth:`cost`, :meth:`backward` and
    :meth:`gradients` append the rows in the lecture's order."""

    def __init__(self, net: Sequential, X: np.ndarray, Y: np.ndarray, loss_obj: Any) -> None:
        self.net, self.X, self.Y, self.loss_obj = net, X, Y, loss_obj
        self.layers: list[Dense] = list(net.layers)  # type: ignore[arg-type]
        self.L, self.K = len(self.layers), net.n_outputs
        self.xent = isinstance(loss_obj, BCE | CCE)  # the loss reads logits: δ_out = ŷ - y
        # the net outputs z, ŷ = link(z)
        self.logits_out = self.xent and isinstance(self.layers[-1].activation, Identity)
        self.xs = [float(v) for v in X[0]]
        self.ys = [float(v) for v in Y[0]]
        # the engine: caches of a forward pass, the loss and its gradient
        net.forward_unchecked(X, False)
        self.eng_z = [layer.z[0].copy() for layer in self.layers]
        self.eng_a = [layer.a[0].copy() for layer in self.layers]
        self.value, _ = net.loss_and_grad(X, Y, loss_obj)
        self.eng_grads = {name: g.copy() for name, g in net.named_gradients()}
        self.offsets: dict[str, int] = {}
        start = 0
        for name, view in net.named_parameters():
            self.offsets[name] = start
            start += view.size
        self.nodes = [_Node(layer) for layer in self.layers]
        self.rows: list[dict[str, Any]] = []
        self.inputs: list[list[float]] = []
        self.zs: list[list[float]] = []
        self.as_: list[list[float]] = []
        self.dfs: list[list[float]] = []
        self.df_text: list[list[tuple[str, str]]] = []
        self.d_yhat: list[float] = []
        self.deltas: list[list[float]] = [[] for _ in range(self.L)]
        self.dJ_da: list[list[float]] = [[] for _ in range(self.L)]

    # ---- finite differences and rows
    def _J_at(self, k: int, step: float) -> float:
        net = self.net
        keep = net.theta[k]
        net.theta[k] = keep + step
        try:
            return net.loss_unchecked(self.X, self.Y, self.loss_obj, None)
        finally:
            net.theta[k] = keep

    def fd_param(self, name: str, flat: int) -> float:
        k = self.offsets[name] + flat
        return (self._J_at(k, H) - self._J_at(k, -H)) / (2 * H)

    def add(self, kind, layer, node, quantity, formula, value, engine=None, fd=None) -> None:
        value = float(value)
        engine = None if engine is None else float(engine)
        fd = None if fd is None else float(fd)
        err = max(
            abs(value - engine) if engine is not None else 0.0,
            abs(value - fd) if fd is not None else 0.0,
        )
        self.rows.append(
            {
                "kind": kind,
                "layer": layer,
                "node": node,
                "quantity": quantity,
                "formula": formula,
                "value": value,
                "engine": engine,
                "finite_difference": fd,
                "error": err,
            }
        )

    @staticmethod
    def input_symbol(l_no: int, i: str | int) -> str:
        i_text = _idx(i) if isinstance(i, int) else i
        return f"x{i_text}" if l_no == 1 else f"a{i_text}{_sup(l_no - 1)}"

    # ---- forward pass: z_j = Σ_i w_ij x_i + b_j, a_j = f(z_j)
    def forward(self) -> None:
        inp = self.xs
        for li, layer in enumerate(self.layers):
            self.inputs.append(inp)
            z_l = self._weighted_sums(li, layer, inp)
            is_out = li == self.L - 1
            if is_out and (isinstance(self.loss_obj, CCE) or self.logits_out):
                a_l = self._link_outputs(li, z_l)
                d_l, t_l = [math.nan] * len(a_l), [("", "")] * len(a_l)
            else:
                a_l, d_l, t_l = self._activations(li, layer, z_l)
            self.zs.append(z_l)
            self.as_.append(a_l)
            self.dfs.append(d_l)
            self.df_text.append(t_l)
            inp = a_l

    def _weighted_sums(self, li: int, layer: Dense, inp: list[float]) -> list[float]:
        l_no = li + 1
        W, b = layer.W, layer.b
        z_l: list[float] = []
        for j in range(layer.units):
            j1 = j + 1
            terms = [float(W[i, j]) * inp[i] for i in range(len(inp))]
            z = sum(terms) + float(b[j])
            if len(inp) <= 6:
                num_ = " + ".join(f"{_p(float(W[i, j]))}·{_p(inp[i])}" for i in range(len(inp)))
            else:
                num_ = f"[{len(inp)} terms: {_n(sum(terms))}]"
            self.add(
                "forward",
                l_no,
                j1,
                _sym("z", l_no, j1),
                f"Σᵢ wᵢ{_idx(j1)}{_sup(l_no)}·{self.input_symbol(l_no, 'ᵢ')} + "
                f"{_sym('b', l_no, j1)} = {num_} + {_p(float(b[j]))}",
                z,
                self.eng_z[li][j],
            )
            z_l.append(z)
        return z_l

    def _link_outputs(self, li: int, z_l: list[float]) -> list[float]:
        """ŷ of the cross-entropy outputs: softmax(z) ("cce") or σ(z) ("bce" on logits)."""
        l_no = li + 1
        a_l: list[float] = []
        if isinstance(self.loss_obj, CCE):  # ŷ_k = softmax(z)_k
            yhat = _SOFTMAX.forward(np.array([z_l]))[0]
            for k in range(self.K):
                k1 = k + 1
                self.add(
                    "forward",
                    l_no,
                    k1,
                    f"ŷ{_idx(k1)}" if self.logits_out else f"{_sym('a', l_no, k1)} = ŷ{_idx(k1)}",
                    f"exp({_sym('z', l_no, k1)}) / Σⱼ exp(zⱼ{_sup(l_no)}) = "
                    f"exp({_n(z_l[k])}) / [" + " + ".join(f"exp({_n(v)})" for v in z_l) + "]",
                    yhat[k],
                    None if self.logits_out else self.eng_a[li][k],
                )
                a_l.append(float(yhat[k]))
            return a_l
        for k in range(self.K):  # bce on logits: ŷ_k = σ(z_k)
            k1 = k + 1
            yh = _value(_LOGISTIC, z_l[k])
            self.add(
                "forward",
                l_no,
                k1,
                f"ŷ{_idx(k1)}",
                f"σ({_sym('z', l_no, k1)}) = 1/(1 + exp({_n(-z_l[k])}))",
                yh,
            )
            a_l.append(yh)
        return a_l

    def _activations(self, li: int, layer: Dense, z_l: list[float]):
        l_no, is_out = li + 1, li == self.L - 1
        a_l: list[float] = []
        d_l: list[float] = []
        t_l: list[tuple[str, str]] = []
        for j in range(layer.units):
            j1 = j + 1
            zsym, asym = _sym("z", l_no, j1), _sym("a", l_no, j1)
            f_sym, f_num, a, d_sym, d_num, d = self.nodes[li].hand(z_l[j], j, zsym, asym)
            quantity = f"{asym} = ŷ{_idx(j1)}" if is_out else asym
            self.add("forward", l_no, j1, quantity, f"{f_sym} = {f_num}", a, self.eng_a[li][j])
            a_l.append(a)
            d_l.append(d)
            t_l.append((d_sym, d_num))
        return a_l, d_l, t_l

    # ---- the cost J and (mse) dJ/dŷ
    def cost(self) -> None:
        if isinstance(self.loss_obj, MSE):
            self._cost_mse()
        elif isinstance(self.loss_obj, BCE):
            self._cost_bce()
        else:
            self._cost_cce()

    def _cost_mse(self) -> None:
        loss_obj, K, ys, yhat = self.loss_obj, self.K, self.ys, self.as_[-1]
        denom = K if loss_obj.reduction == "mean" else 1
        c = (0.5 if loss_obj.half else 1.0) / denom
        J = c * sum((yhat[k] - ys[k]) ** 2 for k in range(K))
        pre = "" if c == 1 else f"(1/{_n(1 / c)})·"
        sym = pre + ("Σₖ (ŷₖ - yₖ)²" if K > 1 else "(ŷ₁ - y₁)²")
        num_ = pre + " + ".join(f"({_n(yhat[k])} - {_p(ys[k])})²" for k in range(K))
        self.add("cost", 0, None, "J", f"{sym} = {num_}", J, self.value)
        g = 2.0 * c
        out_eng = self.eng_a[-1].reshape(1, -1)
        eng_dy = loss_obj.gradient(out_eng.copy(), self.Y)[0]
        for k in range(K):
            k1 = k + 1
            out = out_eng.copy()
            out[0, k] += H
            jp = loss_obj.value(out, self.Y)
            out[0, k] -= 2 * H
            jm = loss_obj.value(out, self.Y)
            self.d_yhat.append(g * (yhat[k] - ys[k]))
            self.add(
                "cost",
                0,
                k1,
                f"∂J/∂ŷ{_idx(k1)}",
                f"{_n(g)}·(ŷ{_idx(k1)} - y{_idx(k1)}) = {_n(g)}·({_n(yhat[k])} - {_p(ys[k])})",
                self.d_yhat[k],
                eng_dy[k],
                (jp - jm) / (2 * H),
            )

    def _cost_bce(self) -> None:
        K, ys, yhat, zL = self.K, self.ys, self.as_[-1], self.zs[-1]
        denom = K if self.loss_obj.reduction == "mean" else 1
        # computed from z (softplus(z) - y z): the same number, without log(0) for ŷ ≈ 1
        J = (
            sum(
                max(zL[k], 0.0) + math.log1p(math.exp(-abs(zL[k]))) - ys[k] * zL[k]
                for k in range(K)
            )
            / denom
        )
        pre = "" if denom == 1 else f"(1/{denom})·"
        terms = [
            f"{_p(ys[k])}·log({_n(yhat[k])}) + (1 - {_p(ys[k])})·log(1 - {_n(yhat[k])})"
            for k in range(K)
        ]
        if K > 1:
            sym = f"-{pre}Σₖ [yₖ log ŷₖ + (1 - yₖ) log(1 - ŷₖ)]"
            num_ = f"-{pre}(" + " + ".join(f"[{t}]" for t in terms) + ")"
        else:
            sym, num_ = "-[y₁ log ŷ₁ + (1 - y₁) log(1 - ŷ₁)]", f"-[{terms[0]}]"
        self.add("cost", 0, None, "J", f"{sym} = {num_}", J, self.value)

    def _cost_cce(self) -> None:  # J = logsumexp(z) - Σ y_k z_k = -Σ y_k log ŷ_k
        K, ys, yhat, zL = self.K, self.ys, self.as_[-1], self.zs[-1]
        m = max(zL)
        J = m + math.log(sum(math.exp(v - m) for v in zL)) - sum(ys[k] * zL[k] for k in range(K))
        num_ = "-[" + " + ".join(f"{_p(ys[k])}·log({_n(yhat[k])})" for k in range(K)) + "]"
        self.add("cost", 0, None, "J", f"-Σₖ yₖ log ŷₖ = {num_}", J, self.value)

    # ---- backward pass: δ = ∂J/∂z, from the output layer down
    def backward(self) -> None:
        for li in range(self.L - 1, -1, -1):
            for j in range(self.layers[li].units):
                if li == self.L - 1 and self.xent:
                    self._delta_xent(li, j)
                else:
                    self._delta(li, j)

    def _delta_xent(self, li: int, j: int) -> None:
        """δ of a fused cross-entropy output: ŷ - y (divided by K for "bce" over K outputs)."""
        l_no, j1, yhat, ys = li + 1, j + 1, self.as_[-1], self.ys
        loss_obj = self.loss_obj
        denom = self.K if isinstance(loss_obj, BCE) and loss_obj.reduction == "mean" else 1
        d = (yhat[j] - ys[j]) / denom
        tail = "" if denom == 1 else f"/{denom}"
        self.add(
            "backward",
            l_no,
            j1,
            _sym("δ", l_no, j1),
            f"∂J/∂{_sym('z', l_no, j1)} = (ŷ{_idx(j1)} - y{_idx(j1)}){tail} = "
            f"({_n(yhat[j])} - {_p(ys[j])}){tail}",
            d,
            self.eng_grads[f"{li}.b"][j],  # one sample: ∂J/∂b_j = δ_j
            self.fd_param(f"{li}.b", j),
        )
        self.deltas[li].append(d)
        self.dJ_da[li].append(math.nan)

    def _delta(self, li: int, j: int) -> None:
        """δ = ∂J/∂a · f'(z), the factor f'(z) on its own row."""
        l_no, j1 = li + 1, j + 1
        zsym = _sym("z", l_no, j1)
        if li == self.L - 1:  # dJ/da_j of the output is dJ/dŷ_j
            s = self.d_yhat[j]
            s_sym, s_num = f"∂J/∂ŷ{_idx(j1)}", _p(s)
        else:  # dJ/da_j = Σ_k w_jk δ_k over the nodes k of the layer above
            nxt, d_next = self.layers[li + 1], self.deltas[li + 1]
            terms = [float(nxt.W[j, k]) * d_next[k] for k in range(nxt.units)]
            s = sum(terms)
            s_sym = f"Σₖ w{_idx(j1)}ₖ{_sup(l_no + 1)} δₖ{_sup(l_no + 1)}"
            if nxt.units <= 6:
                s_num = (
                    "("
                    + " + ".join(
                        f"{_p(float(nxt.W[j, k]))}·{_p(d_next[k])}" for k in range(nxt.units)
                    )
                    + ")"
                )
            else:
                s_num = f"[{nxt.units} terms: {_n(s)}]"
        fprime = self.dfs[li][j]
        if not isinstance(self.layers[li].activation, Identity):
            d_sym, d_num = self.df_text[li][j]
            z, a = self.zs[li][j], self.as_[li][j]
            node = self.nodes[li]
            self.add(
                "backward",
                l_no,
                j1,
                f"f'({zsym})",
                f"{d_sym} = {d_num}",
                fprime,
                node.df(z, a, j),
                node.fd_df(z, j),
            )
        if li == self.L - 1:  # the lecture's δ_out = ∂J/∂ŷ · f'(z)
            formula = f"{s_sym} · f'({zsym}) = {s_num}·{_p(fprime)}"
        else:  # the lecture's δ_hidden = f'(z) · Σ_k w_jk δ_k
            formula = f"f'({zsym}) · {s_sym} = {_p(fprime)}·{s_num}"
        d = s * fprime
        eng_d = self.eng_grads[f"{li}.b"][j]  # one sample: ∂J/∂b_j = δ_j
        self.add(
            "backward",
            l_no,
            j1,
            _sym("δ", l_no, j1),
            formula,
            d,
            eng_d,
            self.fd_param(f"{li}.b", j),
        )
        self.deltas[li].append(d)
        self.dJ_da[li].append(s)

    # ---- gradients: ∂J/∂w_ij = δ_j x_i, ∂J/∂b_j = δ_j (and PReLU slopes)
    def gradients(self) -> None:
        for li, layer in enumerate(self.layers):
            l_no = li + 1
            inp = self.inputs[li]
            gW, gb = self.eng_grads[f"{li}.W"], self.eng_grads[f"{li}.b"]
            for j in range(layer.units):
                j1 = j + 1
                dsym = _sym("δ", l_no, j1)
                dj = self.deltas[li][j]
                for i in range(len(inp)):
                    self.add(
                        "gradient",
                        l_no,
                        j1,
                        f"∂J/∂{_sym('w', l_no, i + 1, j1)}",
                        f"{dsym} · {self.input_symbol(l_no, i + 1)} = {_p(dj)}·{_p(inp[i])}",
                        dj * inp[i],
                        gW[i, j],
                        self.fd_param(f"{li}.W", i * layer.units + j),
                    )
                self.add(
                    "gradient",
                    l_no,
                    j1,
                    f"∂J/∂{_sym('b', l_no, j1)}",
                    f"{dsym} · 1 = {_p(dj)}·1",
                    dj,
                    gb[j],
                    self.fd_param(f"{li}.b", j),
                )
                if layer.activation.learnable:
                    self._slope_gradient(li, j)

    def _slope_gradient(self, li: int, j: int) -> None:
        """PReLU: ∂J/∂α_j = ∂J/∂a_j · min(z_j, 0)."""
        l_no, j1 = li + 1, j + 1
        zj, s = self.zs[li][j], self.dJ_da[li][j]
        self.add(
            "gradient",
            l_no,
            j1,
            f"∂J/∂{_sym('α', l_no, j1)}",
            f"∂J/∂{_sym('a', l_no, j1)} · min({_sym('z', l_no, j1)}, 0) = "
            f"{_p(s)}·{_p(min(zj, 0.0))}",
            s * min(zj, 0.0),
            self.eng_grads[f"{li}.alpha"][j],
            self.fd_param(f"{li}.alpha", j),
        )

    def table(self) -> BackpropTable:
        per_layer = [
            {
                "activation": layer.activation.name,
                "x": list(self.inputs[li]),
                "W": layer.W.tolist(),
                "b": layer.b.tolist(),
                "z": list(self.zs[li]),
                "a": list(self.as_[li]),
                "delta": list(self.deltas[li]),
                "dW": self.eng_grads[f"{li}.W"].tolist(),
                "db": self.eng_grads[f"{li}.b"].tolist(),
            }
            for li, layer in enumerate(self.layers)
        ]
        loss = self.loss_obj.name
        return BackpropTable(self.rows, loss, self.xs, self.ys, float(self.value), per_layer)


def backprop_by_hand(net: Sequential, x: Any, y: Any, loss: Any = "mse") -> BackpropTable:
    """Backpropagate ONE sample (x, y) through ``net`` by hand and check every number.

    ``x``: shape (n_inputs,) or (1, n_inputs); ``y``: a scalar, a row of targets
    or (``cce``) a class label; ``loss``: "mse" (the lecture's J_e, no ½), "bce"
    or "cce", or a loss object. Returns a :class:`BackpropTable`; ``print`` it or
    write ``table.to_markdown("pt")``. The network's parameters are not changed
    (its gradient buffer ``net.grad`` and the layer caches are, as after
    ``net.loss_and_grad``).

    Examples
    --------
    >>> import mlplab
    >>> from mlplab.backprop import backprop_by_hand
    >>> net = mlplab.Sequential([mlplab.Dense(2, activation="logistic"),
    ...                          mlplab.Dense(1, activation="logistic")], n_inputs=2, seed=0)
    >>> table = backprop_by_hand(net, [1.0, 0.0], 1.0)
    >>> table.max_error < 1e-9
    True
    """
    if not isinstance(net, Sequential):
        raise TypeError(
            f"backprop_by_hand() takes an mlplab.Sequential. Received: {type(net).__name__}."
        )
    X, Y, loss_obj = _one_sample(net, x, y, loss)
    _check_network(net, loss_obj)
    p = _Pass(net, X, Y, loss_obj)
    p.forward()
    p.cost()
    p.backward()
    p.gradients()
    return p.table()
