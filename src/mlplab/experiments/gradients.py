"""The chain rule and the gradient's health (lecture sections 3, 4 and 5).

* ``chain-rule``: the lecture's two worked examples, factor by factor. (a) Two
  logistic neurons in series, g1 = x·w1, z1 = f(g1), g2 = z1·w2, ŷ = f(g2),
  J_e = (1/N) Σ (ŷ - y)² (mlplab's "mse", no ½): every factor of
  ∂J_e/∂w2 = ∂J_e/∂ŷ · ∂ŷ/∂g2 · ∂g2/∂w2 and of
  ∂J_e/∂w1 = ∂J_e/∂ŷ · ∂ŷ/∂g2 · ∂g2/∂z1 · ∂z1/∂g1 · ∂g1/∂w1 is checked against
  its own central finite difference, and the products against the engine's
  gradient and a finite difference of J_e. (b) Three nodes h, g, f in series
  with weights w, 1, 1 and x = 1: dŷ/dw = f'·1·g'·1·h'·x for logistic, tanh
  and ReLU, and the product against the depth of such a chain.
* ``backprop-by-hand``: :func:`mlplab.backprop.backprop_by_hand` on a 2-2-1
  logistic network (XOR's sample x = (1, 0), y = 1; weights and biases from the
  seed), written to ``table.md`` and drawn on the network.
* ``doctor``: :func:`mlplab.diagnose` on four networks as initialised: a deep
  logistic net with small weights (vanishing), a ReLU net with every weight 1.5
  (exploding), a ReLU net whose large negative biases silence every unit
  (dead) and a ReLU net with He initialisation (healthy).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.activations import get_activation
from mlplab.diagnostics import diagnose
from mlplab.experiments._registry import T, register, save_figure
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.teaching.backprop import H, backprop_by_hand

THREE_NODE_ACTIVATIONS = ("logistic", "tanh", "relu")
_ACT_COLORS = {"logistic": "tab:blue", "tanh": "tab:orange", "relu": "tab:green"}


def _num(x: float, t: T, fmt: str = ".3g") -> str:
    """A number as the language writes it (Portuguese: decimal comma)."""
    text = format(x, fmt)
    return t(text, text.replace(".", ","))


def _act_name(name: str, t: T) -> str:
    return t(name, {"logistic": "logística", "tanh": "tanh", "relu": "ReLU"}.get(name, name))


def _f(name: str, g: float) -> float:
    return float(get_activation(name).forward(np.array([g]))[0])


def _df(name: str, g: float) -> float:
    act = get_activation(name)
    z = np.array([g])
    return float(act.derivative(z, act.forward(z))[0])


def _fd(func, v: float) -> float:
    return (func(v + H) - func(v - H)) / (2 * H)


def _chain_net(act: str, weights: list[float]) -> Sequential:
    """One node per layer, weights as given, zero biases."""
    net = Sequential([Dense(1, activation=act) for _ in weights], n_inputs=1)
    for layer, w in zip(net.layers, weights, strict=True):
        layer.W[...] = w
        layer.b[...] = 0.0
    return net


# ------------------------------------------------------------ chain-rule: (a)
def _two_neurons(x: float, y: float, w1: float, w2: float) -> dict[str, Any]:
    """The lecture's first worked example, factor by factor, N = 1 sample."""
    g1 = x * w1
    z1 = _f("logistic", g1)
    g2 = z1 * w2
    yhat = _f("logistic", g2)
    J = (yhat - y) ** 2

    def cost(u: float) -> float:
        return (u - y) ** 2

    factors = {
        "dJ/dyhat": 2.0 * (yhat - y),  # J = (ŷ - y)²
        "dyhat/dg2": yhat * (1.0 - yhat),  # f'(g) = f(g)(1 - f(g))
        "dg2/dw2": z1,
        "dg2/dz1": w2,
        "dz1/dg1": z1 * (1.0 - z1),
        "dg1/dw1": x,
    }
    fd = {
        "dJ/dyhat": _fd(cost, yhat),
        "dyhat/dg2": _fd(lambda g: _f("logistic", g), g2),
        "dg2/dw2": _fd(lambda w: z1 * w, w2),
        "dg2/dz1": _fd(lambda z: z * w2, z1),
        "dz1/dg1": _fd(lambda g: _f("logistic", g), g1),
        "dg1/dw1": _fd(lambda w: x * w, w1),
    }
    chain_w2 = factors["dJ/dyhat"] * factors["dyhat/dg2"] * factors["dg2/dw2"]
    chain_w1 = (
        factors["dJ/dyhat"]
        * factors["dyhat/dg2"]
        * factors["dg2/dz1"]
        * factors["dz1/dg1"]
        * factors["dg1/dw1"]
    )
    net = _chain_net("logistic", [w1, w2])  # theta = (w1, b1, w2, b2)
    X, Y = np.array([[x]]), np.array([[y]])
    value, grad = net.loss_and_grad(X, Y, "mse")
    engine = {"dJ/dw1": float(grad[0]), "dJ/dw2": float(grad[2])}

    def J_of(k: int, v: float) -> float:
        keep = net.theta[k]
        net.theta[k] = v
        try:
            return net.loss(X, Y, "mse")
        finally:
            net.theta[k] = keep

    fd_J = {
        "dJ/dw1": _fd(lambda v: J_of(0, v), w1),
        "dJ/dw2": _fd(lambda v: J_of(2, v), w2),
    }
    gradients = {
        "dJ/dw2": {
            "chain": chain_w2,
            "engine": engine["dJ/dw2"],
            "finite_difference": fd_J["dJ/dw2"],
        },
        "dJ/dw1": {
            "chain": chain_w1,
            "engine": engine["dJ/dw1"],
            "finite_difference": fd_J["dJ/dw1"],
        },
    }
    return {
        "inputs": {"x": x, "y": y, "w1": w1, "w2": w2, "N": 1},
        "forward": {"g1": g1, "z1": z1, "g2": g2, "y_hat": yhat, "J": J, "J_engine": value},
        "factors": factors,
        "factors_fd": fd,
        "factor_errors": {k: abs(factors[k] - fd[k]) for k in factors},
        "gradients": gradients,
        "ratio_dJdw1_to_dJdw2": chain_w1 / chain_w2 if chain_w2 else math.nan,
    }


# ------------------------------------------------------------ chain-rule: (b)
def _three_nodes(act: str, w: float, x: float = 1.0) -> dict[str, Any]:
    """ŷ = f(1·g(1·h(w·x))), all three nodes with activation ``act``."""
    g_h = w * x
    a_h = _f(act, g_h)
    g_g = 1.0 * a_h
    a_g = _f(act, g_g)
    g_f = 1.0 * a_g
    yhat = _f(act, g_f)
    factors = {"h'(g_h)": _df(act, g_h), "g'(g_g)": _df(act, g_g), "f'(g_f)": _df(act, g_f)}
    kink = act == "relu"
    fd = {}
    for key, g in (("h'(g_h)", g_h), ("g'(g_g)", g_g), ("f'(g_f)", g_f)):
        fd[key] = None if kink and abs(g) <= 2 * H else _fd(lambda v: _f(act, v), g)
    product = factors["f'(g_f)"] * 1.0 * factors["g'(g_g)"] * 1.0 * factors["h'(g_h)"] * x
    net = _chain_net(act, [w, 1.0, 1.0])
    X = np.array([[x]])
    net.forward(X)
    net.backward(np.ones((1, 1)))  # dŷ/dŷ = 1: the gradient of ŷ itself
    engine = float(net.grad[0])

    def out(v: float) -> float:
        keep = net.theta[0]
        net.theta[0] = v
        try:
            return float(net.forward(X)[0, 0])
        finally:
            net.theta[0] = keep

    return {
        "forward": {"g_h": g_h, "g_g": g_g, "g_f": g_f, "y_hat": yhat},
        "factors": factors,
        "factors_fd": fd,
        "factor_errors": {k: abs(factors[k] - fd[k]) for k in factors if fd[k] is not None},
        "dyhat_dw": {"chain": product, "engine": engine, "finite_difference": _fd(out, w)},
    }


def _product_vs_depth(act: str, w: float, depths: list[int], x: float = 1.0) -> list[float]:
    """dŷ/dw of a chain of M nodes (weights w, 1, ..., 1), by the chain rule, per depth M."""
    out = []
    for M in depths:
        g, prod = w * x, x
        for _ in range(M):
            prod *= _df(act, g)
            g = _f(act, g)  # the next node's weighted sum: 1 · this node's output
        out.append(prod)
    return out


def _plot_chain_rule(a: dict, b: dict, depth: dict, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 5), gridspec_kw={"width_ratios": [1.1, 1, 1]})
    # (a) the factors of both gradients
    ax = axes[0]
    names = ["dJ/dyhat", "dyhat/dg2", "dg2/dw2", "dg2/dz1", "dz1/dg1", "dg1/dw1"]
    labels = [
        r"$\partial J/\partial\hat y$",
        r"$\partial\hat y/\partial g_2$",
        r"$\partial g_2/\partial w_2$",
        r"$\partial g_2/\partial z_1$",
        r"$\partial z_1/\partial g_1$",
        r"$\partial g_1/\partial w_1$",
    ]
    vals = [a["factors"][k] for k in names]
    in_w2 = {"dJ/dyhat", "dyhat/dg2", "dg2/dw2"}
    in_w1 = {"dJ/dyhat", "dyhat/dg2", "dg2/dz1", "dz1/dg1", "dg1/dw1"}
    colors = [
        "tab:purple" if k in in_w2 and k in in_w1 else ("tab:red" if k in in_w2 else "tab:blue")
        for k in names
    ]
    ax.barh(range(len(names)), vals, color=colors)
    ax.set_yticks(range(len(names)), labels)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.6)
    for i, v in enumerate(vals):
        ax.text(v, i, " " + _num(v, t, ".4g") + " ", va="center", ha="left" if v >= 0 else "right")
    lo, hi = min(vals + [0.0]), max(vals + [0.0])
    ax.set_xlim(lo - 0.35 * (hi - lo), hi + 0.35 * (hi - lo))
    gw2, gw1 = a["gradients"]["dJ/dw2"]["chain"], a["gradients"]["dJ/dw1"]["chain"]
    ax.set_title(
        t(
            "(a) two logistic neurons: the chain factors\n"
            f"∂J/∂w2 = purple × red = {gw2:.4g}\n∂J/∂w1 = purple × blue = {gw1:.4g}",
            "(a) dois neurônios logísticos: os fatores da cadeia\n"
            f"∂J/∂w2 = roxos × vermelho = {_num(gw2, t, '.4g')}\n"
            f"∂J/∂w1 = roxos × azuis = {_num(gw1, t, '.4g')}",
        ),
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)
    # (b) the three derivative factors per activation
    ax = axes[1]
    keys = ["h'(g_h)", "g'(g_g)", "f'(g_f)"]
    width = 0.25
    for i, act in enumerate(THREE_NODE_ACTIVATIONS):
        vals = [b[act]["factors"][k] for k in keys]
        xs = np.arange(len(keys)) + (i - 1) * width
        ax.bar(xs, vals, width, color=_ACT_COLORS[act], label=_act_name(act, t))
        prod = b[act]["dyhat_dw"]["chain"]
        ax.text(
            len(keys) - 0.45,
            0.92 - 0.08 * i,
            t("product", "produto") + f" = {_num(prod, t, '.3g')}",
            color=_ACT_COLORS[act],
            transform=ax.get_xaxis_transform(),
            ha="right",
        )
    ax.axhline(
        0.25,
        color="tab:blue",
        ls="--",
        lw=1,
        label=t("logistic: f' ≤ 0.25", "logística: f' ≤ 0,25"),
    )
    ax.set_xticks(range(len(keys)), ["h'", "g'", "f'"])
    ax.set_ylim(0, 1.45)
    ax.set_ylabel(t("derivative factor", "fator (derivada)"))
    ax.set_title(
        t(
            "(b) three nodes h, g, f, weights w, 1, 1, x = 1:\ndŷ/dw = f' · 1 · g' · 1 · h' · x",
            "(b) três nós h, g, f, pesos w, 1, 1, x = 1:\ndŷ/dw = f' · 1 · g' · 1 · h' · x",
        ),
        fontsize=10,
    )
    ax.legend(loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    # (c) the product against the depth
    ax = axes[2]
    M = depth["depth"]
    for act in THREE_NODE_ACTIVATIONS:
        ax.semilogy(M, np.abs(depth[act]), "o-", color=_ACT_COLORS[act], label=_act_name(act, t))
    ax.semilogy(
        M, depth["logistic_bound"], "--", color="0.4", label=t("0.25^M bound", "limite 0,25^M")
    )
    ax.set_xlabel(t("number of layers M", "número de camadas M"))
    ax.set_ylabel(t("|dŷ/dw| (log scale)", "|dŷ/dw| (escala log)"))
    ax.set_title(
        t(
            "(c) the gradient reaching the first weight\nshrinks exponentially with logistic units",
            "(c) o gradiente que chega ao primeiro peso\nencolhe exponencialmente com unidades "
            "logísticas",
        ),
        fontsize=10,
    )
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    fig.suptitle(t("The chain rule, factor by factor", "A regra da cadeia, fator a fator"))
    fig.subplots_adjust(wspace=0.35, top=0.82)
    save_figure(fig, path)


@register(
    "chain-rule",
    section="3",
    order=1,
    title={
        "en": "The chain rule, factor by factor: why the gradient vanishes with logistic units",
        "pt": "A regra da cadeia, fator a fator: por que o gradiente desaparece com unidades "
        "logísticas",
    },
    claim={
        "en": "The gradient of a weight is a product of chain-rule factors, one activation "
        "derivative per node between the weight and the output. In the lecture's two worked "
        "examples every factor computed by hand equals its own finite difference (to 1e-8) and "
        "the product equals mlplab's gradient. A logistic derivative is at most 0.25, so the "
        "product shrinks exponentially with the number of layers; ReLU's is 1 for g > 0.",
        "pt": "O gradiente de um peso é um produto de fatores da regra da cadeia, uma derivada "
        "de ativação por nó entre o peso e a saída. Nos dois exemplos resolvidos da aula, cada "
        "fator calculado à mão é igual à sua própria diferença finita (até 1e-8) e o produto é "
        "igual ao gradiente do mlplab. A derivada da logística vale no máximo 0,25, então o "
        "produto encolhe exponencialmente com o número de camadas; a da ReLU vale 1 para g > 0.",
    },
)
def chain_rule(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    x: float = 1.0,
    y: float = 0.0,
    w1: float = 0.5,
    w2: float = -0.3,
    w: float = 0.5,
    max_depth: int = 10,
) -> dict[str, Any]:
    """The lecture's worked examples (a) and (b), every factor checked.

    Deterministic: ``seed`` and ``quick`` change nothing. Metrics: ``factors``
    (example (a): dJ/dyhat, dyhat/dg2, dg2/dw2, dg2/dz1, dz1/dg1, dg1/dw1),
    ``factors_fd``, ``forward``, ``gradients`` ({"dJ/dw2", "dJ/dw1"}: chain,
    engine, finite_difference), ``three_nodes`` (per activation: the factors
    h', g', f', their finite differences and dŷ/dw by chain, engine and finite
    difference), ``product_vs_depth`` (dŷ/dw for M = 1..max_depth nodes, per
    activation, and the logistic bound 0.25^M), ``max_factor_error`` (every
    factor against its finite difference) and ``max_gradient_error`` (every
    product against the engine and a finite difference of J or ŷ).
    """
    t = T(lang)
    if int(max_depth) < 1:
        raise ValueError(f"max_depth must be at least 1. Received {max_depth!r}.")
    a = _two_neurons(float(x), float(y), float(w1), float(w2))
    b = {act: _three_nodes(act, float(w)) for act in THREE_NODE_ACTIVATIONS}
    depths = list(range(1, int(max_depth) + 1))
    depth: dict[str, Any] = {"depth": depths}
    for act in THREE_NODE_ACTIVATIONS:
        depth[act] = _product_vs_depth(act, float(w), depths)
    depth["logistic_bound"] = [0.25**M for M in depths]
    factor_errors = list(a["factor_errors"].values())
    for act in THREE_NODE_ACTIVATIONS:
        factor_errors += list(b[act]["factor_errors"].values())
    grad_errors = []
    for rec in [*a["gradients"].values(), *(b[act]["dyhat_dw"] for act in b)]:
        grad_errors += [
            abs(rec["chain"] - rec["engine"]),
            abs(rec["chain"] - rec["finite_difference"]),
        ]
    _plot_chain_rule(a, b, depth, t, out_dir / "chain_rule.png")
    return {
        "inputs": a["inputs"],
        "forward": a["forward"],
        "factors": a["factors"],
        "factors_fd": a["factors_fd"],
        "gradients": a["gradients"],
        "ratio_dJdw1_to_dJdw2": a["ratio_dJdw1_to_dJdw2"],
        "three_nodes": {"w": float(w), "x": 1.0, **b},
        "product_vs_depth": depth,
        "max_factor_error": max(factor_errors),
        "max_gradient_error": max(grad_errors),
    }


# ------------------------------------------------------------ backprop-by-hand
def _xor_net(seed: int) -> Sequential:
    """2-2-1, logistic everywhere; weights (Glorot) and biases (uniform ±0.5) from the seed."""
    bias = {"name": "uniform", "scale": 0.5}
    return Sequential(
        [
            Dense(2, activation="logistic", bias_init=bias),
            Dense(1, activation="logistic", bias_init=bias),
        ],
        n_inputs=2,
        seed=seed,
    )


def _draw_network(table, t: T, path: Path) -> None:
    """Nodes with z, a, δ; edges with w and ∂J/∂w; biases beside their nodes."""
    import matplotlib.pyplot as plt

    layers = table.layers
    sizes = [len(layers[0]["x"])] + [len(layer["z"]) for layer in layers]
    gap_x, gap_y = 5.0, 2.4
    pos = [[(c * gap_x, ((n - 1) / 2 - j) * gap_y) for j in range(n)] for c, n in enumerate(sizes)]
    fig, ax = plt.subplots(figsize=(3.6 * len(sizes) + 1, 2.3 * max(sizes) + 2.2))
    r = 0.42
    fwd, bwd = "tab:blue", "tab:red"
    for li, layer in enumerate(layers):
        W, dW = np.asarray(layer["W"]), np.asarray(layer["dW"])
        for i, (x0, y0) in enumerate(pos[li]):
            for j, (x1, y1) in enumerate(pos[li + 1]):
                ax.plot([x0 + r, x1 - r], [y0, y1], color="0.55", lw=1, zorder=1)
                if len(pos[li + 1]) == 1:
                    frac = 0.5
                else:  # edges into a layer of several nodes cross: labels apart
                    frac = 0.6 if abs(y1 - y0) < 1e-9 else 0.22
                px, py = x0 + frac * (x1 - x0), y0 + frac * (y1 - y0)
                wsym = f"$w^{{({li + 1})}}_{{{i + 1}{j + 1}}}$"
                # the weight above the edge (forward), its gradient below it (backward)
                for dy, text, color, va in (
                    (0.12, f"{wsym} = {_num(W[i, j], t, '.4g')}", fwd, "bottom"),
                    (-0.12, f"∂J/∂{wsym} = {_num(dW[i, j], t, '.4g')}", bwd, "top"),
                ):
                    ax.text(
                        px,
                        py + dy,
                        text,
                        color=color,
                        ha="center",
                        va=va,
                        fontsize=8,
                        bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.85},
                        zorder=3,
                    )
    # nodes
    for c, column in enumerate(pos):
        for j, (x0, y0) in enumerate(column):
            is_out = c == len(pos) - 1
            face = "#dbe9f6" if c == 0 else ("#fde2c8" if is_out else "#e3f1dc")
            ax.add_patch(plt.Circle((x0, y0), r, fc=face, ec="k", zorder=2))
            if c == 0:
                ax.text(x0, y0, f"$x_{j + 1}$", ha="center", va="center", fontsize=11, zorder=3)
                ax.text(
                    x0 - r - 0.1,
                    y0,
                    _num(table.x[j], t, ".4g"),
                    ha="right",
                    va="center",
                    color=fwd,
                    fontsize=10,
                )
                continue
            layer = layers[c - 1]
            label = r"$\hat y$" if is_out else f"$h_{j + 1}$"
            ax.text(x0, y0, label, ha="center", va="center", fontsize=11, zorder=3)
            above = y0 >= 0
            text_fwd = (
                f"b = {_num(layer['b'][j], t, '.4g')}\n"
                f"z = {_num(layer['z'][j], t, '.4g')}\n"
                f"a = f(z) = {_num(layer['a'][j], t, '.4g')}"
            )
            text_bwd = (
                f"δ = ∂J/∂z = {_num(layer['delta'][j], t, '.4g')}\n"
                f"∂J/∂b = δ = {_num(layer['db'][j], t, '.4g')}"
            )
            off = r + 0.08
            if above:
                ax.text(
                    x0, y0 + off + 0.62, text_fwd, ha="center", va="bottom", color=fwd, fontsize=8
                )
                ax.text(x0, y0 + off, text_bwd, ha="center", va="bottom", color=bwd, fontsize=8)
            else:
                ax.text(x0, y0 - off, text_fwd, ha="center", va="top", color=fwd, fontsize=8)
                ax.text(x0, y0 - off - 0.9, text_bwd, ha="center", va="top", color=bwd, fontsize=8)
    xo, yo = pos[-1][0]
    ax.text(
        xo + r + 0.25,
        yo,
        f"y = {_num(table.y[0], t, '.4g')}\nJ = {_num(table.loss_value, t, '.4g')}",
        ha="left",
        va="center",
        fontsize=10,
    )
    ax.set_aspect("equal")
    ax.axis("off")
    ys = [p[1] for column in pos for p in column]
    ax.set_xlim(-1.4, (len(sizes) - 1) * gap_x + 2.2)
    ax.set_ylim(min(ys) - 2.4, max(ys) + 2.4)
    ax.set_title(
        t(
            "Backpropagation by hand: forward values (blue), δ and ∂J/∂w (red)\n"
            f"every number matches mlplab and finite differences "
            f"(max deviation {table.max_error:.1e})",
            "Retropropagação à mão: valores da propagação direta (azul), δ e ∂J/∂w "
            "(vermelho)\ncada número confere com o mlplab e com diferenças finitas "
            f"(desvio máximo {_num(table.max_error, t, '.1e')})",
        ),
        fontsize=10,
    )
    save_figure(fig, path)


@register(
    "backprop-by-hand",
    section="3",
    order=2,
    title={
        "en": "Backpropagation by hand on a 2-2-1 logistic network",
        "pt": "Retropropagação à mão numa rede logística 2-2-1",
    },
    claim={
        "en": "For one sample, every forward value z = Σ w x + b and a = f(z), every "
        "δ = ∂J/∂z (δ_out = ∂J/∂ŷ · f'(z), δ_hidden = f'(z) · Σ_k w_jk δ_k) and every "
        "∂J/∂w_ij = δ_j · x_i computed by hand equals mlplab's backward pass and a central "
        "finite difference to 1e-9.",
        "pt": "Para uma amostra, cada valor da propagação direta z = Σ w x + b e a = f(z), cada "
        "δ = ∂J/∂z (δ_saída = ∂J/∂ŷ · f'(z), δ_oculta = f'(z) · Σ_k w_jk δ_k) e cada "
        "∂J/∂w_ij = δ_j · x_i calculado à mão é igual ao da retropropagação do mlplab e a uma "
        "diferença finita central, até 1e-9.",
    },
)
def backprop_by_hand_experiment(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    x1: float = 1.0,
    x2: float = 0.0,
    target: float = 1.0,
) -> dict[str, Any]:
    """One sample of XOR through a 2-2-1 logistic network, by hand (``quick`` changes nothing).

    Writes ``table.md`` (the full table in ``lang``) and ``backprop_network.png``.
    Metrics: ``max_error`` (largest deviation of a hand value from the engine or a
    finite difference), ``max_engine_error``, ``max_fd_error``, ``rows`` (number
    of rows), ``rows_by_kind``, ``loss`` (J), ``forward`` ({quantity: value}),
    ``deltas`` ({"δ…": value}), ``gradients`` ({"∂J/∂…": value}), ``weights``
    (per layer W and b) and ``sample``.
    """
    net = _xor_net(int(seed))
    table = backprop_by_hand(net, [float(x1), float(x2)], float(target), "mse")
    (out_dir / "table.md").write_text(table.to_markdown(lang) + "\n", encoding="utf-8")
    _draw_network(table, T(lang), out_dir / "backprop_network.png")
    kinds: dict[str, int] = {}
    for r in table.rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    return {
        "sample": {"x": table.x, "y": table.y},
        "loss": table.loss_value,
        "max_error": table.max_error,
        "max_engine_error": table.max_engine_error,
        "max_fd_error": table.max_fd_error,
        "rows": len(table.rows),
        "rows_by_kind": kinds,
        "forward": {r["quantity"]: r["value"] for r in table.rows if r["kind"] == "forward"},
        "deltas": {
            r["quantity"]: r["value"]
            for r in table.rows
            if r["kind"] == "backward" and r["quantity"].startswith("δ")
        },
        "gradients": {r["quantity"]: r["value"] for r in table.rows if r["kind"] == "gradient"},
        "weights": [{"W": layer["W"], "b": layer["b"]} for layer in table.layers],
    }


# -------------------------------------------------------------------- doctor
#: The four patients: (key, expected finding, description en, description pt).
DOCTOR_CASES = (
    (
        "logistic-small-init",
        "vanishing",
        "10 layers, 9 hidden logistic layers of 16 nodes, weights N(0, 0.1²)",
        "10 camadas, 9 camadas ocultas logísticas de 16 nós, pesos N(0; 0,1²)",
    ),
    (
        "relu-constant-1.5",
        "exploding",
        "ReLU, 5 hidden layers of 8 nodes, every weight 1.5",
        "ReLU, 5 camadas ocultas de 8 nós, todos os pesos iguais a 1,5",
    ),
    (
        "relu-bias-minus-10",
        "dead",
        "ReLU, 4 hidden layers of 16 nodes, He weights, every bias -10",
        "ReLU, 4 camadas ocultas de 16 nós, pesos de He, todos os vieses -10",
    ),
    (
        "relu-he",
        "healthy",
        "ReLU, 4 hidden layers of 16 nodes, He initialisation, zero biases",
        "ReLU, 4 camadas ocultas de 16 nós, inicialização de He, vieses nulos",
    ),
)


def _doctor_net(key: str, n_inputs: int, seed: int) -> Sequential:
    if key == "logistic-small-init":
        layers = [Dense(16, activation="logistic") for _ in range(9)] + [Dense(1)]
        return Sequential(layers, n_inputs, init={"name": "normal", "scale": 0.1}, seed=seed)
    if key == "relu-constant-1.5":
        layers = [Dense(8, activation="relu") for _ in range(5)] + [Dense(1)]
        return Sequential(layers, n_inputs, init={"name": "constant", "value": 1.5}, seed=seed)
    if key == "relu-bias-minus-10":
        bias = {"name": "constant", "value": -10.0}
        layers = [Dense(16, activation="relu", bias_init=bias) for _ in range(4)] + [Dense(1)]
        return Sequential(layers, n_inputs, init="he_normal", seed=seed)
    layers = [Dense(16, activation="relu") for _ in range(4)] + [Dense(1)]
    return Sequential(layers, n_inputs, init="he_normal", seed=seed)


def _plot_doctor(results: dict[str, Any], t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), sharey=True)
    kind_text = {
        "vanishing": t("vanishing", "desaparecendo"),
        "exploding": t("exploding", "explodindo"),
        "dead": t("dead units", "unidades mortas"),
        "healthy": t("healthy", "saudável"),
        "saturated": t("saturated", "saturada"),
        "nonfinite": "NaN/inf",
    }
    every = np.concatenate([np.asarray(r["grad_norm_W"], dtype=float) for r in results.values()])
    positive = every[(every > 0) & np.isfinite(every)]
    lo = 10.0 ** (math.floor(math.log10(positive.min())) - 1) if positive.size else 1e-3
    hi = 10.0 ** (math.ceil(math.log10(positive.max())) + 1) if positive.size else 1e3
    for ax, (key, _, desc_en, desc_pt) in zip(axes.ravel(), DOCTOR_CASES, strict=True):
        res = results[key]
        norms = np.asarray(res["grad_norm_W"], dtype=float)
        flagged = set(res["flagged_layers"])
        colors = ["tab:red" if i in flagged else "tab:blue" for i in range(len(norms))]
        xs = np.arange(1, len(norms) + 1)
        ax.bar(xs, np.where(norms > 0, norms, np.nan), color=colors, bottom=lo)
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.axhspan(0.1, 10, color="tab:green", alpha=0.08, lw=0)
        for xi, n, c in zip(xs, norms, colors, strict=True):
            if n == 0:
                ax.text(xi, lo * 3, "0", ha="center", va="bottom", fontsize=12, color=c)
        ax.set_xticks(xs)
        ax.set_xlim(0.4, len(norms) + 0.6)
        ax.set_xlabel(
            t(
                "layer (1 = first hidden, last = output)",
                "camada (1 = primeira oculta, última = saída)",
            )
        )
        ax.set_ylabel(t("‖∂J/∂W‖ (log scale)", "‖∂J/∂W‖ (escala log)"))
        found = ", ".join(kind_text.get(k, k) for k in res["findings"])
        ax.set_title(
            f"{t(desc_en, desc_pt)}\n" + t("diagnosis: ", "diagnóstico: ") + found,
            fontsize=9.5,
        )
        ax.grid(axis="y", alpha=0.3, which="both")
    fig.suptitle(
        t(
            "The gradient doctor: gradient norm per layer, as initialised "
            "(red: layers flagged; green band: 0.1 to 10)",
            "O médico do gradiente: norma do gradiente por camada, na inicialização "
            "(vermelho: camadas apontadas; faixa verde: de 0,1 a 10)",
        )
    )
    fig.subplots_adjust(hspace=0.45, wspace=0.25, top=0.9)
    save_figure(fig, path)


@register(
    "doctor",
    section="5",
    order=1,
    title={
        "en": "The gradient doctor: vanishing, exploding, dead and healthy networks",
        "pt": "O médico do gradiente: redes com gradiente desaparecendo, explodindo, com "
        "unidades mortas e saudável",
    },
    claim={
        "en": "One backward pass read layer by layer tells the problems apart and names the "
        "lecture's remedy: a deep logistic net with small weights has first-layer gradients "
        "orders of magnitude smaller than the last layer's (vanishing); ReLU with every weight "
        "1.5 multiplies the gradient layer after layer (exploding); a large negative bias "
        "silences every ReLU unit (dead); ReLU with He initialisation shows none of these.",
        "pt": "Uma retropropagação lida camada por camada distingue os problemas e indica o "
        "remédio da aula: uma rede logística profunda com pesos pequenos tem gradientes na "
        "primeira camada ordens de grandeza menores que na última (gradiente desaparecendo); "
        "ReLU com todos os pesos iguais a 1,5 multiplica o gradiente camada após camada "
        "(gradiente explodindo); um viés muito negativo silencia todas as unidades ReLU "
        "(unidades mortas); ReLU com inicialização de He não mostra nenhum desses problemas.",
    },
)
def doctor(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    samples: int = 512,
) -> dict[str, Any]:
    """``mlplab.diagnose`` on the four networks as initialised (seeded), on a regression
    y = sin(x1) + x2 x3 / 2 of 8 standard-normal features (``quick``: 128 samples).

    Writes ``doctor.txt`` (each report in ``lang``) and ``doctor.png``. Metrics:
    ``findings`` ({case: sorted finding kinds}), ``expected`` ({case: the kind the
    case demonstrates}) and ``cases`` (per case: description, loss, global_norm,
    layers, grad_norm_W, grad_rms_W, mean_abs_fprime, dead_fraction, flagged_layers,
    first_to_last_rms (RMS of ∂J/∂W, first layer over the last)).
    """
    t = T(lang)
    n = 128 if quick else int(samples)
    if n < 2:
        raise ValueError(f"samples must be at least 2. Received {samples!r}.")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    results: dict[str, Any] = {}
    report = []
    for key, expected, desc_en, desc_pt in DOCTOR_CASES:
        net = _doctor_net(key, X.shape[1], seed)
        diag = diagnose(net, X, y, loss="mse", lang=lang)
        stats = diag.stats
        index = {s["layer"]: k for k, s in enumerate(stats)}
        flagged = sorted(
            {index[f.layer] for f in diag.findings if f.layer is not None and f.kind != "healthy"}
        )
        rms = [s["grad_rms_W"] for s in stats]
        results[key] = {
            "description": t(desc_en, desc_pt),
            "expected": expected,
            "findings": sorted(diag.kinds()),
            "loss": diag.loss,
            "global_norm": diag.global_norm,
            "layers": [s["name"] for s in stats],
            "grad_norm_W": [s["grad_norm_W"] for s in stats],
            "grad_rms_W": rms,
            "mean_abs_fprime": [s["mean_abs_fprime"] for s in stats],
            "dead_fraction": [s["dead_fraction"] for s in stats],
            "flagged_layers": flagged,
            "first_to_last_rms": rms[0] / rms[-1] if rms[-1] > 0 else None,
        }
        bar = "=" * 78
        report += [bar, f"{key}: {t(desc_en, desc_pt)}", bar, str(diag), ""]
    (out_dir / "doctor.txt").write_text("\n".join(report), encoding="utf-8")
    _plot_doctor(results, t, out_dir / "doctor.png")
    return {
        "samples": n,
        "findings": {k: v["findings"] for k, v in results.items()},
        "expected": {k: v["expected"] for k, v in results.items()},
        "cases": results,
    }
