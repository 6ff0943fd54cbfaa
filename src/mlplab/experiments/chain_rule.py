"""``chain-rule`` (lecture section 3): the lecture's two worked examples, factor by factor.

(a) Two logistic neurons in series, g1 = x·w1, z1 = f(g1), g2 = z1·w2, ŷ = f(g2),
J_e = (1/N) Σ (ŷ - y)² (mlplab's "mse", no ½): every factor of
∂J_e/∂w2 = ∂J_e/∂ŷ · ∂ŷ/∂g2 · ∂g2/∂w2 and of
∂J_e/∂w1 = ∂J_e/∂ŷ · ∂ŷ/∂g2 · ∂g2/∂z1 · ∂z1/∂g1 · ∂g1/∂w1 is checked against
its own central finite difference, and the products against the engine's
gradient and a finite difference of J_e. (b) Three nodes h, g, f in series
with weights w, 1, 1 and x = 1: dŷ/dw = f'·1·g'·1·h'·x for logistic, tanh
and ReLU, and the product against the depth of such a chain.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.activations import get_activation
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.teaching.backprop import H

THREE_NODE_ACTIVATIONS = ("logistic", "tanh", "relu")
_ACT_COLORS = {"logistic": "tab:blue", "tanh": "tab:orange", "relu": "tab:green"}


def _act_name(name: str, t: T) -> str:
    names = {"logistic": ("logistic", "logística"), "relu": ("ReLU", "ReLU")}
    return t.lookup(names, name, name)


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


# ------------------------------------------------------------------------ (a)
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


# ------------------------------------------------------------------------ (b)
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


def compute(*, x: float, y: float, w1: float, w2: float, w: float, max_depth: int) -> Result:
    """The worked examples (a) and (b) and the product against the depth (see :func:`run`)."""
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
    metrics = {
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
    return Result(metrics, {"a": a, "b": b, "depth": depth})


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``chain_rule.png``: the factors of (a), the factors of (b), the product against depth."""
    import matplotlib.pyplot as plt

    d = result.data
    fig, axes = plt.subplots(1, 3, figsize=(14.5, 5), gridspec_kw={"width_ratios": [1.1, 1, 1]})
    _factors_panel(axes[0], d["a"], t)
    _three_nodes_panel(axes[1], d["b"], t)
    _depth_panel(axes[2], d["depth"], t)
    fig.suptitle(t("The chain rule, factor by factor", "A regra da cadeia, fator a fator"))
    fig.subplots_adjust(wspace=0.35, top=0.82)
    save_figure(fig, out_dir / "chain_rule.png")


def _factors_panel(ax, a: dict, t: T) -> None:
    """(a) the factors of both gradients of the two-neuron example."""
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
        ax.text(v, i, " " + t.num(v, ".4g") + " ", va="center", ha="left" if v >= 0 else "right")
    lo, hi = min(vals + [0.0]), max(vals + [0.0])
    ax.set_xlim(lo - 0.35 * (hi - lo), hi + 0.35 * (hi - lo))
    gw2, gw1 = a["gradients"]["dJ/dw2"]["chain"], a["gradients"]["dJ/dw1"]["chain"]
    ax.set_title(
        t(
            "(a) two logistic neurons: the chain factors\n"
            f"∂J/∂w2 = purple × red = {gw2:.4g}\n∂J/∂w1 = purple × blue = {gw1:.4g}",
            "(a) dois neurônios logísticos: os fatores da cadeia\n"
            f"∂J/∂w2 = roxos × vermelho = {t.num(gw2, '.4g')}\n"
            f"∂J/∂w1 = roxos × azuis = {t.num(gw1, '.4g')}",
        ),
        fontsize=10,
    )
    ax.grid(axis="x", alpha=0.3)


def _three_nodes_panel(ax, b: dict, t: T) -> None:
    """(b) the three derivative factors per activation."""
    keys = ["h'(g_h)", "g'(g_g)", "f'(g_f)"]
    width = 0.25
    for i, act in enumerate(THREE_NODE_ACTIVATIONS):
        vals = [b[act]["factors"][k] for k in keys]
        xs = np.arange(len(keys)) + (i - 1) * width
        prod = b[act]["dyhat_dw"]["chain"]
        label = f"{_act_name(act, t)}: " + t("product", "produto") + f" {t.num(prod, '.3g')}"
        ax.bar(xs, vals, width, color=_ACT_COLORS[act], label=label)
    ax.axhline(
        0.25,
        color="tab:blue",
        ls="--",
        lw=1,
        label=t("logistic: f' ≤ 0.25", "logística: f' ≤ 0,25"),
    )
    ax.set_xticks(range(len(keys)), ["h'", "g'", "f'"])
    ax.set_ylim(0, 1.6)
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


def _depth_panel(ax, depth: dict, t: T) -> None:
    """(c) the product against the depth."""
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


#: The claim's tolerance: a hand-computed factor or product against its check.
TOLERANCE = 1e-8


def _agree(rec: dict[str, float]) -> float:
    """The largest gap between the chain-rule product, the engine and a finite difference."""
    return max(abs(rec["chain"] - rec["engine"]), abs(rec["chain"] - rec["finite_difference"]))


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's worked examples and the product against depth, checked."""
    grads, b, depth = m["gradients"], m["three_nodes"], m["product_vs_depth"]  # (a), (b), (c)
    tol = t.num(TOLERANCE, "g").replace("e-0", "e-")  # 1e-8, as the claim writes it
    rows = [
        Row(
            t(
                "every chain-rule factor computed by hand (examples a and b)",
                "cada fator da regra da cadeia calculado à mão (exemplos a e b)",
            ),
            t(
                f"equals its finite difference (within {tol})",
                f"igual à sua diferença finita (até {tol})",
            ),
            t(
                f"largest difference {t.num(m['max_factor_error'], '.1e')}",
                f"maior diferença {t.num(m['max_factor_error'], '.1e')}",
            ),
            m["max_factor_error"] < TOLERANCE,
        )
    ]
    for key, n in (("dJ/dw2", 3), ("dJ/dw1", 5)):
        rec = grads[key]
        rows.append(
            Row(
                t(
                    f"(a) ∂J/∂{key[-2:]}, two logistic neurons",
                    f"(a) ∂J/∂{key[-2:]}, dois neurônios logísticos",
                ),
                t(
                    f"the product of its {n} factors = mlplab's gradient (within {tol})",
                    f"o produto de seus {n} fatores = gradiente do mlplab (até {tol})",
                ),
                t(
                    f"product {t.num(rec['chain'], '.6g')}, mlplab {t.num(rec['engine'], '.6g')}, "
                    f"finite difference {t.num(rec['finite_difference'], '.6g')}",
                    f"produto {t.num(rec['chain'], '.6g')}, mlplab {t.num(rec['engine'], '.6g')}, "
                    f"diferença finita {t.num(rec['finite_difference'], '.6g')}",
                ),
                _agree(rec) < TOLERANCE,
            )
        )
    worst = max(_agree(b[a]["dyhat_dw"]) for a in THREE_NODE_ACTIVATIONS)
    rows.append(
        Row(
            t(
                "(b) dŷ/dw of three nodes h, g, f (logistic, tanh, ReLU)",
                "(b) dŷ/dw de três nós h, g, f (logística, tanh, ReLU)",
            ),
            t(
                f"f′ · 1 · g′ · 1 · h′ · x = mlplab's gradient (within {tol})",
                f"f′ · 1 · g′ · 1 · h′ · x = gradiente do mlplab (até {tol})",
            ),
            t(
                f"largest difference {t.num(worst, '.1e')}",
                f"maior diferença {t.num(worst, '.1e')}",
            ),
            worst < TOLERANCE,
        )
    )
    return rows + _depth_rows(depth, m["three_nodes"], t)


def _depth_rows(depth: dict[str, Any], three: dict[str, Any], t: T) -> list[Row]:
    """(c) the product against depth: logistic under 0.25^M, ReLU at 1."""
    logistic = [abs(v) for v in depth["logistic"]]
    bound = depth["logistic_bound"]
    M = depth["depth"]
    rows = []
    rows.append(
        Row(
            t(
                f"|dŷ/dw| of a chain of M logistic nodes, M = 1 to {M[-1]}",
                f"|dŷ/dw| de uma cadeia de M nós logísticos, M = 1 a {M[-1]}",
            ),
            t(
                "at most 0.25^M: shrinks exponentially with the number of layers",
                "no máximo 0,25^M: encolhe exponencialmente com o número de camadas",
            ),
            t(
                f"M = 1: {t.num(logistic[0], '.3g')}; M = {M[-1]}: {t.num(logistic[-1], '.3g')} "
                f"(0.25^{M[-1]} = {t.num(bound[-1], '.3g')})",
                f"M = 1: {t.num(logistic[0], '.3g')}; M = {M[-1]}: {t.num(logistic[-1], '.3g')} "
                f"(0,25^{M[-1]} = {t.num(bound[-1], '.3g')})",
            ),
            all(v <= c for v, c in zip(logistic, bound, strict=True)),
        )
    )
    relu = depth["relu"]
    positive = three["w"] * three["x"] > 0
    rows.append(
        Row(
            t(
                f"|dŷ/dw| of a chain of M ReLU nodes, M = 1 to {M[-1]}",
                f"|dŷ/dw| de uma cadeia de M nós ReLU, M = 1 a {M[-1]}",
            ),
            t(
                "f′ = 1 for g > 0: the product stays 1 (here every g > 0)",
                "f′ = 1 para g > 0: o produto fica em 1 (aqui todo g > 0)",
            ),
            t(
                f"M = 1: {t.num(relu[0], 'g')}; M = {M[-1]}: {t.num(relu[-1], 'g')}",
                f"M = 1: {t.num(relu[0], 'g')}; M = {M[-1]}: {t.num(relu[-1], 'g')}",
            ),
            positive and all(v == 1.0 for v in relu),
        )
    )
    return rows


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in the figure."""
    M = m["product_vs_depth"]["depth"][-1]
    last = abs(m["product_vs_depth"]["logistic"][-1])
    return {
        "chain_rule.png": t(
            "(a) The six factors of the two-neuron example: ∂J/∂w2 multiplies the purple and "
            "red bars, ∂J/∂w1 the purple and blue ones — the two logistic derivatives (near "
            "0.25) make ∂J/∂w1 much smaller. (b) The three derivative factors of the three-node "
            "chain: the logistic's stay under the dashed 0.25 line, ReLU's are 1. (c) The "
            "product against the number of layers M (log scale): the logistic's falls along the "
            f"0.25^M line to {t.num(last, '.2g')} at M = {M}; ReLU's stays at 1.",
            "(a) Os seis fatores do exemplo de dois neurônios: ∂J/∂w2 multiplica as barras roxas "
            "e a vermelha, ∂J/∂w1 as roxas e as azuis — as duas derivadas logísticas (perto de "
            "0,25) tornam ∂J/∂w1 bem menor. (b) Os três fatores (derivadas) da cadeia de três "
            "nós: os da logística ficam abaixo da linha tracejada de 0,25, os da ReLU valem 1. "
            "(c) O produto contra o número de camadas M (escala log): o da logística cai ao longo "
            f"da linha 0,25^M até {t.num(last, '.2g')} em M = {M}; o da ReLU fica em 1.",
        ),
    }


LABELS = {
    "inputs": ("(a) inputs and weights", "(a) entradas e pesos"),
    "forward": ("(a) forward pass", "(a) propagação direta"),
    "factors": ("(a) chain-rule factors, by hand", "(a) fatores da regra da cadeia, à mão"),
    "factors_fd": (
        "(a) the same factors by finite difference",
        "(a) os mesmos fatores por diferença finita",
    ),
    "gradients": ("(a) gradients", "(a) gradientes"),
    "ratio_dJdw1_to_dJdw2": ("(a) ratio ∂J/∂w1 ÷ ∂J/∂w2", "(a) razão ∂J/∂w1 ÷ ∂J/∂w2"),
    "three_nodes": ("(b) three nodes h, g, f", "(b) três nós h, g, f"),
    "product_vs_depth": ("(c) |dŷ/dw| against the depth M", "(c) |dŷ/dw| contra a profundidade M"),
    "max_factor_error": (
        "largest |factor − finite difference|",
        "maior |fator − diferença finita|",
    ),
    "max_gradient_error": (
        "largest |product − mlplab or finite difference|",
        "maior |produto − mlplab ou diferença finita|",
    ),
    "chain": ("chain rule", "regra da cadeia"),
    "engine": ("mlplab", "mlplab"),
    "finite_difference": ("finite difference", "diferença finita"),
    "factor_errors": ("|factor − finite difference|", "|fator − diferença finita|"),
    "dyhat_dw": ("dŷ/dw", "dŷ/dw"),
    "depth": ("M", "M"),
    "logistic": ("logistic", "logística"),
    "relu": ("ReLU", "ReLU"),
    "logistic_bound": ("bound 0.25^M", "limite 0,25^M"),
    "y_hat": ("ŷ", "ŷ"),
    "g_h": ("weighted sum into h", "soma ponderada de h"),
    "g_g": ("weighted sum into g", "soma ponderada de g"),
    "g_f": ("weighted sum into f", "soma ponderada de f"),
    "h'(g_h)": ("h′", "h′"),
    "g'(g_g)": ("g′", "g′"),
    "f'(g_f)": ("f′", "f′"),
    "dJ/dyhat": ("∂J/∂ŷ", "∂J/∂ŷ"),
    "dyhat/dg2": ("∂ŷ/∂g2", "∂ŷ/∂g2"),
    "dg2/dw2": ("∂g2/∂w2", "∂g2/∂w2"),
    "dg2/dz1": ("∂g2/∂z1", "∂g2/∂z1"),
    "dz1/dg1": ("∂z1/∂g1", "∂z1/∂g1"),
    "dg1/dw1": ("∂g1/∂w1", "∂g1/∂w1"),
    "dJ/dw1": ("∂J/∂w1", "∂J/∂w1"),
    "dJ/dw2": ("∂J/∂w2", "∂J/∂w2"),
    "N": ("N (samples)", "N (amostras)"),
    "J_engine": ("J (mlplab)", "J (mlplab)"),
}


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
    headline=headline,
    captions=captions,
    labels=LABELS,
)
def run(
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
    result = compute(x=x, y=y, w1=w1, w2=w2, w=w, max_depth=max_depth)
    draw(result, t, out_dir)
    return result.metrics
