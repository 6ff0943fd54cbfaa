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
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.activations import Activation, Identity, Step
from mlplab.layers import Dense
from mlplab.losses import BCE, CCE, MSE
from mlplab.network import Sequential

__all__ = ["BackpropTable", "backprop_by_hand"]

#: Step of the central finite differences.
H = 1e-6

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUP = str.maketrans("0123456789()+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁺⁻")
_KINKED = ("relu", "leaky_relu", "prelu", "elu")

_KIND_TITLES = {
    "forward": ("Forward pass", "Propagação direta"),
    "cost": ("Cost", "Custo"),
    "backward": ("Backward pass: δ = ∂J/∂z", "Retropropagação: δ = ∂J/∂z"),
    "gradient": ("Gradients", "Gradientes"),
}


# ----------------------------------------------------------------- notation
def _idx(*ks: int) -> str:
    parts = [str(k) for k in ks]
    sep = "," if any(len(p) > 1 for p in parts) else ""
    return sep.join(parts).translate(_SUB)


def _sym(name: str, layer: int, *ks: int) -> str:
    """E.g. _sym("w", 2, 1, 3) = 'w₁₃⁽²⁾' (layer as a superscript, indices as subscripts)."""
    return f"{name}{_idx(*ks)}{f'({layer})'.translate(_SUP)}"


def _n(v: float) -> str:
    """A number in a formula (6 significant digits)."""
    text = f"{v:.6g}"
    return "0" if text == "-0" else text


def _p(v: float) -> str:
    """A number as a factor: negatives in parentheses."""
    text = _n(v)
    return f"({text})" if text.startswith("-") else text


_DECIMAL = re.compile(r"(?<=[0-9])\.(?=[0-9])")


def _localise(text: str, lang: str) -> str:
    """Portuguese writes a decimal comma."""
    return _DECIMAL.sub(",", text) if lang == "pt" else text


def _fmt(v: float | None, lang: str = "en") -> str:
    if v is None:
        return "—"
    return _localise(f"{v + 0.0:.10g}", lang)  # + 0.0: no "-0"


# --------------------------------------------------------- activations by hand
def _sigma(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _hand_activation(
    act: Activation, z: float, alpha: float | None
) -> tuple[str, str, float, str, str, float] | None:
    """(f symbolic, f numbers, f(z), f' symbolic, f' numbers, f'(z)) from the textbook
    formulas, or None for an activation without one here (the library's own is used)."""
    name = act.name
    Z = "{z}"  # placeholder of the symbol z, filled in by the caller
    A = "{a}"
    if name == "identity":
        return Z, _n(z), z, "1", "1", 1.0
    if name == "logistic":
        a = _sigma(z)
        return (
            f"σ({Z})",
            f"1/(1 + exp({_n(-z)}))",
            a,
            f"{A}(1 - {A})",
            f"{_p(a)}·(1 - {_p(a)})",
            a * (1.0 - a),
        )
    if name == "tanh":
        a = math.tanh(z)
        return (
            f"tanh({Z})",
            f"tanh({_n(z)})",
            a,
            f"1 - {A}²",
            f"1 - {_p(a)}²",
            1.0 - a * a,
        )
    if name in ("relu", "leaky_relu", "prelu"):
        slope = 0.0 if name == "relu" else (act.slope if name == "leaky_relu" else alpha)
        s = "0" if name == "relu" else ("s" if name == "leaky_relu" else "α")
        pos = z > 0
        if name == "relu":
            f_sym, f_num = f"max(0, {Z})", f"max(0, {_n(z)})"
        else:
            f_sym = f"{Z} if {Z} > 0, else {s}·{Z}"
            f_num = _n(z) if pos else f"{_p(slope)}·{_p(z)}"
        return (
            f_sym,
            f_num,
            z if pos else slope * z,
            f"1 if {Z} > 0, else {s}",
            f"{'1' if pos else _n(slope)} ({_n(z)} {'>' if pos else '≤'} 0)",
            1.0 if pos else float(slope),
        )
    if name == "elu":
        al = act.alpha
        pos = z > 0
        return (
            f"{Z} if {Z} > 0, else α(exp({Z}) - 1)",
            _n(z) if pos else f"{_p(al)}·(exp({_n(z)}) - 1)",
            z if pos else al * math.expm1(z),
            f"1 if {Z} > 0, else α·exp({Z})",
            f"1 ({_n(z)} > 0)" if pos else f"{_p(al)}·exp({_n(z)})",
            1.0 if pos else al * math.exp(z),
        )
    if name == "softplus":
        return (
            f"log(1 + exp({Z}))",
            f"log(1 + exp({_n(z)}))",
            max(z, 0.0) + math.log1p(math.exp(-abs(z))),
            f"σ({Z})",
            f"1/(1 + exp({_n(-z)}))",
            _sigma(z),
        )
    if name == "silu":
        s = _sigma(z)
        return (
            f"{Z}·σ({Z})",
            f"{_p(z)}·σ({_n(z)})",
            z * s,
            f"σ({Z})(1 + {Z}(1 - σ({Z})))",
            f"{_p(s)}·(1 + {_p(z)}·(1 - {_p(s)}))",
            s * (1.0 + z * (1.0 - s)),
        )
    if name == "gelu" and not act.approximate:
        cdf = 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        return (
            f"{Z}·Φ({Z})",
            f"{_p(z)}·Φ({_n(z)})",
            z * cdf,
            f"Φ({Z}) + {Z}·φ({Z})",
            f"{_p(cdf)} + {_p(z)}·{_p(pdf)}",
            cdf + z * pdf,
        )
    return None


class _Node:
    """How one layer's activation is computed by hand, checked and written."""

    def __init__(self, layer: Dense) -> None:
        self.act = layer.activation
        self.alpha = layer.params["alpha"] if self.act.learnable else None

    def _alpha(self, j: int) -> float | None:
        return None if self.alpha is None else float(self.alpha[j])

    def library_f(self, z: float, j: int) -> float:
        arr = np.array([z])
        if self.alpha is not None:
            return float(np.where(arr > 0, arr, arr * self.alpha[j])[0])
        return float(self.act.forward(arr)[0])

    def library_df(self, z: float, a: float, j: int) -> float:
        if self.alpha is not None:
            return 1.0 if z > 0 else float(self.alpha[j])
        return float(self.act.derivative(np.array([z]), np.array([a]))[0])

    def hand(self, z: float, j: int, zs: str, as_: str) -> tuple[str, str, float, str, str, float]:
        got = _hand_activation(self.act, z, self._alpha(j))
        if got is None:  # no textbook formula here: the library's function, checked by FD
            name = self.act.name
            a = self.library_f(z, j)
            got = (
                f"{name}({{z}})",
                f"{name}({_n(z)})",
                a,
                f"{name}'({{z}})",
                f"{name}'({_n(z)})",
                self.library_df(z, a, j),
            )
        f_sym, f_num, a, d_sym, d_num, d = got
        return (
            f_sym.replace("{z}", zs),
            f_num,
            a,
            d_sym.replace("{z}", zs).replace("{a}", as_),
            d_num,
            d,
        )

    def fd_df(self, z: float, j: int) -> float | None:
        if self.act.name in _KINKED and abs(z) <= 2 * H:
            return None  # the difference would straddle the kink
        return (self.library_f(z + H, j) - self.library_f(z - H, j)) / (2 * H)


# -------------------------------------------------------------------- table
@dataclass
class BackpropTable:
    """Every number of one backward pass, by hand, beside the engine and finite differences.

    ``rows``: dicts with ``quantity`` (e.g. "δ₁⁽²⁾"), ``formula`` (the symbolic
    right-hand side, then the numbers plugged in), ``value`` (by hand),
    ``engine`` (mlplab's own number, or None), ``finite_difference`` (or None),
    ``error`` (the larger deviation of the two), ``kind`` ("forward", "cost",
    "backward", "gradient"), ``layer`` (1-based; 0 for the cost) and ``node``.
    ``layers``: per Dense layer the arrays x (its input), W, b, z, a, delta, dW, db
    (the network drawings read them). ``max_error`` = max of every row's error.
    """

    rows: list[dict[str, Any]]
    loss: str
    x: list[float]
    y: list[float]
    loss_value: float
    layers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def max_engine_error(self) -> float:
        return max(
            (abs(r["value"] - r["engine"]) for r in self.rows if r["engine"] is not None),
            default=0.0,
        )

    @property
    def max_fd_error(self) -> float:
        return max(
            (
                abs(r["value"] - r["finite_difference"])
                for r in self.rows
                if r["finite_difference"] is not None
            ),
            default=0.0,
        )

    @property
    def max_error(self) -> float:
        return max(self.max_engine_error, self.max_fd_error)

    def tolerance(self) -> float:
        """The smallest power of ten not below ``max_error`` ("matches to 1e-10")."""
        if self.max_error == 0:
            return 0.0
        return 10.0 ** math.ceil(math.log10(self.max_error))

    def row(self, quantity: str) -> dict[str, Any]:
        """The row of ``quantity`` (e.g. "∂J/∂w₁₁⁽¹⁾"); KeyError if there is none."""
        for r in self.rows:
            if r["quantity"] == quantity:
                return r
        raise KeyError(quantity)

    def _summary(self, lang: str) -> str:
        pt = lang == "pt"
        tol = self.tolerance()
        if tol == 0:
            agree = "confere exatamente" if pt else "matches exactly"
        else:
            agree = f"confere até {tol:.0e}" if pt else f"matches to {tol:.0e}"
        head = "desvio máximo" if pt else "max deviation"
        return (
            f"{head} {_fmt(self.max_error, lang)} ({agree}; "
            + ("motor" if pt else "engine")
            + f" {_fmt(self.max_engine_error, lang)}, "
            + ("diferenças finitas" if pt else "finite differences")
            + f" {_fmt(self.max_fd_error, lang)}, h = {_fmt(H, lang)})"
        )

    def _title(self, lang: str) -> str:
        pt = lang == "pt"
        xs = _localise(", ".join(_n(v) for v in self.x), lang)
        ys = _localise(", ".join(_n(v) for v in self.y), lang)
        sep = "; " if pt else ", "
        xs, ys = xs.replace(", ", sep), ys.replace(", ", sep)
        if pt:
            return f"Retropropagação à mão (custo {self.loss}, uma amostra x = ({xs}), y = ({ys}))"
        return f"Backpropagation by hand ({self.loss} loss, one sample x = ({xs}), y = ({ys}))"

    def to_markdown(self, lang: str = "en") -> str:
        """The table in Markdown, one section per kind of row, in English or Portuguese."""
        if lang not in ("en", "pt"):
            raise ValueError(f"Unknown lang {lang!r}. Expected one of: 'en', 'pt'.")
        pt = lang == "pt"
        head = (
            ("grandeza", "fórmula e números", "à mão", "mlplab", "diferença finita")
            if pt
            else ("quantity", "formula and numbers", "by hand", "mlplab", "finite difference")
        )
        lines = [f"# {self._title(lang)}", "", self._summary(lang), ""]
        for kind, titles in _KIND_TITLES.items():
            rows = [r for r in self.rows if r["kind"] == kind]
            if not rows:
                continue
            lines += [f"## {titles[1 if pt else 0]}", ""]
            lines.append("| " + " | ".join(head) + " |")
            lines.append("|" + "---|" * len(head))
            for r in rows:
                cells = (
                    r["quantity"],
                    _localise(r["formula"], lang)
                    .replace(" if ", " se ")
                    .replace(", else ", ", senão ")
                    if pt
                    else r["formula"],
                    _fmt(r["value"], lang),
                    _fmt(r["engine"], lang),
                    _fmt(r["finite_difference"], lang),
                )
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [self._title("en"), self._summary("en")]
        for kind, titles in _KIND_TITLES.items():
            rows = [r for r in self.rows if r["kind"] == kind]
            if rows:
                lines.append(titles[0])
            for r in rows:
                checks = []
                if r["engine"] is not None:
                    checks.append(f"engine {r['engine']:.10g}")
                if r["finite_difference"] is not None:
                    checks.append(f"finite difference {r['finite_difference']:.10g}")
                tail = f"   [{', '.join(checks)}]" if checks else ""
                lines.append(f"  {r['quantity']} = {r['formula']} = {r['value']:.10g}{tail}")
        return "\n".join(lines)


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
def _sup(layer: int) -> str:
    return f"({layer})".translate(_SUP)


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
    layers: list[Dense] = list(net.layers)  # type: ignore[arg-type]
    L, K = len(layers), net.n_outputs
    xent = isinstance(loss_obj, BCE | CCE)  # the loss reads logits: δ_out = ŷ - y
    last_act = layers[-1].activation
    logits_out = xent and isinstance(last_act, Identity)  # the net outputs z, ŷ = link(z)
    xs = [float(v) for v in X[0]]
    ys = [float(v) for v in Y[0]]

    # ---- the engine: caches of a forward pass, the loss and its gradient
    net.forward_unchecked(X, False)
    eng_z = [layer.z[0].copy() for layer in layers]
    eng_a = [layer.a[0].copy() for layer in layers]
    value, _ = net.loss_and_grad(X, Y, loss_obj)
    eng_grads = {name: g.copy() for name, g in net.named_gradients()}
    offsets: dict[str, int] = {}
    start = 0
    for name, view in net.named_parameters():
        offsets[name] = start
        start += view.size

    def J_at(k: int, step: float) -> float:
        keep = net.theta[k]
        net.theta[k] = keep + step
        try:
            return net.loss_unchecked(X, Y, loss_obj, None)
        finally:
            net.theta[k] = keep

    def fd_param(name: str, flat: int) -> float:
        k = offsets[name] + flat
        return (J_at(k, H) - J_at(k, -H)) / (2 * H)

    rows: list[dict[str, Any]] = []

    def add(kind, layer, node, quantity, formula, value, engine=None, fd=None):
        value = float(value)
        engine = None if engine is None else float(engine)
        fd = None if fd is None else float(fd)
        err = max(
            abs(value - engine) if engine is not None else 0.0,
            abs(value - fd) if fd is not None else 0.0,
        )
        rows.append(
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

    def input_symbol(l_no: int, i: str | int) -> str:
        return (
            f"x{_idx(i) if isinstance(i, int) else i}"
            if l_no == 1
            else (f"a{_idx(i) if isinstance(i, int) else i}{_sup(l_no - 1)}")
        )

    # ---- forward pass: z_j = Σ_i w_ij x_i + b_j, a_j = f(z_j)
    nodes = [_Node(layer) for layer in layers]
    inputs: list[list[float]] = []
    zs: list[list[float]] = []
    as_: list[list[float]] = []
    dfs: list[list[float]] = []
    df_text: list[list[tuple[str, str]]] = []
    inp = xs
    for li, layer in enumerate(layers):
        l_no, is_out = li + 1, li == L - 1
        W, b = layer.W, layer.b
        inputs.append(inp)
        z_l: list[float] = []
        for j in range(layer.units):
            j1 = j + 1
            terms = [float(W[i, j]) * inp[i] for i in range(len(inp))]
            z = sum(terms) + float(b[j])
            if len(inp) <= 6:
                num = " + ".join(f"{_p(float(W[i, j]))}·{_p(inp[i])}" for i in range(len(inp)))
            else:
                num = f"[{len(inp)} terms: {_n(sum(terms))}]"
            add(
                "forward",
                l_no,
                j1,
                _sym("z", l_no, j1),
                f"Σᵢ wᵢ{_idx(j1)}{_sup(l_no)}·{input_symbol(l_no, 'ᵢ')} + {_sym('b', l_no, j1)}"
                f" = {num} + {_p(float(b[j]))}",
                z,
                eng_z[li][j],
            )
            z_l.append(z)
        a_l: list[float] = []
        d_l: list[float] = []
        t_l: list[tuple[str, str]] = []
        if is_out and isinstance(loss_obj, CCE):  # ŷ_k = softmax(z)_k
            m = max(z_l)
            e = [math.exp(v - m) for v in z_l]
            S = sum(e)
            for k in range(K):
                k1 = k + 1
                add(
                    "forward",
                    l_no,
                    k1,
                    f"ŷ{_idx(k1)}" if logits_out else f"{_sym('a', l_no, k1)} = ŷ{_idx(k1)}",
                    f"exp({_sym('z', l_no, k1)}) / Σⱼ exp(zⱼ{_sup(l_no)}) = "
                    f"exp({_n(z_l[k])}) / [" + " + ".join(f"exp({_n(v)})" for v in z_l) + "]",
                    e[k] / S,
                    None if logits_out else eng_a[li][k],
                )
                a_l.append(e[k] / S)
                d_l.append(math.nan)
                t_l.append(("", ""))
        elif is_out and logits_out:  # bce on logits: ŷ_k = σ(z_k)
            for k in range(K):
                k1 = k + 1
                yh = _sigma(z_l[k])
                add(
                    "forward",
                    l_no,
                    k1,
                    f"ŷ{_idx(k1)}",
                    f"σ({_sym('z', l_no, k1)}) = 1/(1 + exp({_n(-z_l[k])}))",
                    yh,
                )
                a_l.append(yh)
                d_l.append(math.nan)
                t_l.append(("", ""))
        else:
            for j in range(layer.units):
                j1 = j + 1
                zsym, asym = _sym("z", l_no, j1), _sym("a", l_no, j1)
                f_sym, f_num, a, d_sym, d_num, d = nodes[li].hand(z_l[j], j, zsym, asym)
                quantity = f"{asym} = ŷ{_idx(j1)}" if is_out else asym
                add("forward", l_no, j1, quantity, f"{f_sym} = {f_num}", a, eng_a[li][j])
                a_l.append(a)
                d_l.append(d)
                t_l.append((d_sym, d_num))
        zs.append(z_l)
        as_.append(a_l)
        dfs.append(d_l)
        df_text.append(t_l)
        inp = a_l

    yhat = as_[-1]

    # ---- the cost J and (mse) dJ/dŷ
    d_yhat: list[float] = []
    if isinstance(loss_obj, MSE):
        denom = K if loss_obj.reduction == "mean" else 1
        c = (0.5 if loss_obj.half else 1.0) / denom
        J = c * sum((yhat[k] - ys[k]) ** 2 for k in range(K))
        pre = "" if c == 1 else f"(1/{_n(1 / c)})·"
        sym = pre + ("Σₖ (ŷₖ - yₖ)²" if K > 1 else "(ŷ₁ - y₁)²")
        num = pre + " + ".join(f"({_n(yhat[k])} - {_p(ys[k])})²" for k in range(K))
        add("cost", 0, None, "J", f"{sym} = {num}", J, value)
        g = 2.0 * c
        out_eng = eng_a[-1].reshape(1, -1)
        eng_dy = loss_obj.gradient(out_eng.copy(), Y)[0]
        for k in range(K):
            k1 = k + 1
            out = out_eng.copy()
            out[0, k] += H
            jp = loss_obj.value(out, Y)
            out[0, k] -= 2 * H
            jm = loss_obj.value(out, Y)
            d_yhat.append(g * (yhat[k] - ys[k]))
            add(
                "cost",
                0,
                k1,
                f"∂J/∂ŷ{_idx(k1)}",
                f"{_n(g)}·(ŷ{_idx(k1)} - y{_idx(k1)}) = {_n(g)}·({_n(yhat[k])} - {_p(ys[k])})",
                d_yhat[k],
                eng_dy[k],
                (jp - jm) / (2 * H),
            )
    elif isinstance(loss_obj, BCE):
        denom = K if loss_obj.reduction == "mean" else 1
        zL = zs[-1]
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
            num = f"-{pre}(" + " + ".join(f"[{t}]" for t in terms) + ")"
        else:
            sym, num = "-[y₁ log ŷ₁ + (1 - y₁) log(1 - ŷ₁)]", f"-[{terms[0]}]"
        add("cost", 0, None, "J", f"{sym} = {num}", J, value)
    else:  # CCE: J = logsumexp(z) - Σ y_k z_k = -Σ y_k log ŷ_k
        zL = zs[-1]
        m = max(zL)
        J = m + math.log(sum(math.exp(v - m) for v in zL)) - sum(ys[k] * zL[k] for k in range(K))
        num = "-[" + " + ".join(f"{_p(ys[k])}·log({_n(yhat[k])})" for k in range(K)) + "]"
        add("cost", 0, None, "J", f"-Σₖ yₖ log ŷₖ = {num}", J, value)

    # ---- backward pass: δ = ∂J/∂z, from the output layer down
    deltas: list[list[float]] = [[] for _ in range(L)]
    dJ_da: list[list[float]] = [[] for _ in range(L)]
    for li in range(L - 1, -1, -1):
        l_no = li + 1
        layer = layers[li]
        act = layer.activation
        for j in range(layer.units):
            j1 = j + 1
            zsym, dsym = _sym("z", l_no, j1), _sym("δ", l_no, j1)
            eng_d = eng_grads[f"{li}.b"][j]  # one sample: ∂J/∂b_j = δ_j
            fd_d = fd_param(f"{li}.b", j)
            if li == L - 1 and xent:
                denom = K if isinstance(loss_obj, BCE) and loss_obj.reduction == "mean" else 1
                d = (yhat[j] - ys[j]) / denom
                tail = "" if denom == 1 else f"/{denom}"
                add(
                    "backward",
                    l_no,
                    j1,
                    dsym,
                    f"∂J/∂{zsym} = (ŷ{_idx(j1)} - y{_idx(j1)}){tail} = "
                    f"({_n(yhat[j])} - {_p(ys[j])}){tail}",
                    d,
                    eng_d,
                    fd_d,
                )
                deltas[li].append(d)
                dJ_da[li].append(math.nan)
                continue
            if li == L - 1:  # dJ/da_j of the output is dJ/dŷ_j
                s = d_yhat[j]
                s_sym, s_num = f"∂J/∂ŷ{_idx(j1)}", _p(s)
            else:  # dJ/da_j = Σ_k w_jk δ_k over the nodes k of the layer above
                nxt, d_next = layers[li + 1], deltas[li + 1]
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
            fprime = dfs[li][j]
            if not isinstance(act, Identity):
                d_sym, d_num = df_text[li][j]
                add(
                    "backward",
                    l_no,
                    j1,
                    f"f'({zsym})",
                    f"{d_sym} = {d_num}",
                    fprime,
                    nodes[li].library_df(zs[li][j], as_[li][j], j),
                    nodes[li].fd_df(zs[li][j], j),
                )
            if li == L - 1:  # the lecture's δ_out = ∂J/∂ŷ · f'(z)
                formula = f"{s_sym} · f'({zsym}) = {s_num}·{_p(fprime)}"
            else:  # the lecture's δ_hidden = f'(z) · Σ_k w_jk δ_k
                formula = f"f'({zsym}) · {s_sym} = {_p(fprime)}·{s_num}"
            d = s * fprime
            add("backward", l_no, j1, dsym, formula, d, eng_d, fd_d)
            deltas[li].append(d)
            dJ_da[li].append(s)

    # ---- gradients: ∂J/∂w_ij = δ_j x_i, ∂J/∂b_j = δ_j (and PReLU slopes)
    for li, layer in enumerate(layers):
        l_no = li + 1
        inp = inputs[li]
        gW, gb = eng_grads[f"{li}.W"], eng_grads[f"{li}.b"]
        for j in range(layer.units):
            j1 = j + 1
            dsym = _sym("δ", l_no, j1)
            dj = deltas[li][j]
            for i in range(len(inp)):
                add(
                    "gradient",
                    l_no,
                    j1,
                    f"∂J/∂{_sym('w', l_no, i + 1, j1)}",
                    f"{dsym} · {input_symbol(l_no, i + 1)} = {_p(dj)}·{_p(inp[i])}",
                    dj * inp[i],
                    gW[i, j],
                    fd_param(f"{li}.W", i * layer.units + j),
                )
            add(
                "gradient",
                l_no,
                j1,
                f"∂J/∂{_sym('b', l_no, j1)}",
                f"{dsym} · 1 = {_p(dj)}·1",
                dj,
                gb[j],
                fd_param(f"{li}.b", j),
            )
            if layer.activation.learnable:  # PReLU: ∂J/∂α_j = ∂J/∂a_j · min(z_j, 0)
                zj, s = zs[li][j], dJ_da[li][j]
                add(
                    "gradient",
                    l_no,
                    j1,
                    f"∂J/∂{_sym('α', l_no, j1)}",
                    f"∂J/∂{_sym('a', l_no, j1)} · min({_sym('z', l_no, j1)}, 0) = "
                    f"{_p(s)}·{_p(min(zj, 0.0))}",
                    s * min(zj, 0.0),
                    eng_grads[f"{li}.alpha"][j],
                    fd_param(f"{li}.alpha", j),
                )

    per_layer = [
        {
            "activation": layer.activation.name,
            "x": list(inputs[li]),
            "W": layer.W.tolist(),
            "b": layer.b.tolist(),
            "z": list(zs[li]),
            "a": list(as_[li]),
            "delta": list(deltas[li]),
            "dW": eng_grads[f"{li}.W"].tolist(),
            "db": eng_grads[f"{li}.b"].tolist(),
        }
        for li, layer in enumerate(layers)
    ]
    return BackpropTable(rows, loss_obj.name, xs, ys, float(value), per_layer)
