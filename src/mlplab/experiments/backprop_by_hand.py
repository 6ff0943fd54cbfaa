"""``backprop-by-hand`` (lecture section 3): :func:`mlplab.backprop.backprop_by_hand` on a
2-2-1 logistic network (XOR's sample x = (1, 0), y = 1; weights and biases from the seed),
written to ``table.md`` and drawn on the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.teaching.backprop import BackpropTable, backprop_by_hand

#: Colours of the forward values and of the backward ones (δ, ∂J/∂w).
_FORWARD, _BACKWARD = "tab:blue", "tab:red"


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


def compute(*, seed: int, x1: float, x2: float, target: float) -> Result:
    """The table of one sample through the seeded 2-2-1 network (see :func:`run`)."""
    net = _xor_net(seed)
    table = backprop_by_hand(net, [x1, x2], target, "mse")
    kinds: dict[str, int] = {}
    errors: dict[str, float] = {}
    for r in table.rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        errors[r["kind"]] = max(errors.get(r["kind"], 0.0), r["error"])
    metrics = {
        "sample": {"x": table.x, "y": table.y},
        "loss": table.loss_value,
        "max_error": table.max_error,
        "max_engine_error": table.max_engine_error,
        "max_fd_error": table.max_fd_error,
        "rows": len(table.rows),
        "rows_by_kind": kinds,
        "max_error_by_kind": errors,
        "forward": {r["quantity"]: r["value"] for r in table.rows if r["kind"] == "forward"},
        "deltas": {
            r["quantity"]: r["value"]
            for r in table.rows
            if r["kind"] == "backward" and r["quantity"].startswith("δ")
        },
        "gradients": {r["quantity"]: r["value"] for r in table.rows if r["kind"] == "gradient"},
        "weights": [{"W": layer["W"], "b": layer["b"]} for layer in table.layers],
    }
    return Result(metrics, {"table": table})


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``table.md`` (the full table in the language of ``t``) and ``backprop_network.png``."""
    table = result.data["table"]
    (out_dir / "table.md").write_text(table.to_markdown(t.lang) + "\n", encoding="utf-8")
    _draw_network(table, t, out_dir / "backprop_network.png")


def _draw_network(table: BackpropTable, t: T, path: Path) -> None:
    """Nodes with z, a, δ; edges with w and ∂J/∂w; biases beside their nodes."""
    import matplotlib.pyplot as plt

    layers = table.layers
    sizes = [len(layers[0]["x"])] + [len(layer["z"]) for layer in layers]
    gap_x, gap_y = 5.0, 2.4
    pos = [[(c * gap_x, ((n - 1) / 2 - j) * gap_y) for j in range(n)] for c, n in enumerate(sizes)]
    fig, ax = plt.subplots(figsize=(3.6 * len(sizes) + 1, 2.3 * max(sizes) + 2.2))
    r = 0.42
    _edges(ax, layers, pos, r, t)
    _nodes(ax, layers, pos, r, t)
    xo, yo = pos[-1][0]
    ax.text(
        xo + r + 0.25,
        yo,
        f"y = {t.num(table.y[0], '.4g')}\nJ = {t.num(table.loss_value, '.4g')}",
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
            f"(desvio máximo {t.num(table.max_error, '.1e')})",
        ),
        fontsize=10,
    )
    save_figure(fig, path)


def _edges(ax, layers: list[dict], pos: list, r: float, t: T) -> None:
    """The edges, each with its weight w above it (forward) and ∂J/∂w below it."""
    fwd, bwd = _FORWARD, _BACKWARD
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
                    (0.12, f"{wsym} = {t.num(W[i, j], '.4g')}", fwd, "bottom"),
                    (-0.12, f"∂J/∂{wsym} = {t.num(dW[i, j], '.4g')}", bwd, "top"),
                ):
                    ax.text(
                        px,
                        py + dy,
                        text,
                        color=color,
                        ha="center",
                        va=va,
                        fontsize=9,
                        bbox={"fc": "white", "ec": "none", "pad": 0.5, "alpha": 0.85},
                        zorder=3,
                    )


def _nodes(ax, layers: list[dict], pos: list, r: float, t: T) -> None:
    """The nodes: the inputs with their values; each node with b, z, a (forward)
    and δ, ∂J/∂b (backward)."""
    import matplotlib.pyplot as plt

    fwd, bwd = _FORWARD, _BACKWARD
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
                    t.num(layers[0]["x"][j], ".4g"),
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
                f"b = {t.num(layer['b'][j], '.4g')}\n"
                f"z = {t.num(layer['z'][j], '.4g')}\n"
                f"a = f(z) = {t.num(layer['a'][j], '.4g')}"
            )
            text_bwd = (
                f"δ = ∂J/∂z = {t.num(layer['delta'][j], '.4g')}\n"
                f"∂J/∂b = δ = {t.num(layer['db'][j], '.4g')}"
            )
            off = r + 0.08
            if above:
                ax.text(
                    x0, y0 + off + 0.62, text_fwd, ha="center", va="bottom", color=fwd, fontsize=9
                )
                ax.text(x0, y0 + off, text_bwd, ha="center", va="bottom", color=bwd, fontsize=9)
            else:
                ax.text(x0, y0 - off, text_fwd, ha="center", va="top", color=fwd, fontsize=9)
                ax.text(x0, y0 - off - 0.9, text_bwd, ha="center", va="top", color=bwd, fontsize=9)


#: The claim's tolerance: a hand value against the engine and a finite difference.
TOLERANCE = 1e-9

#: The table's kinds of rows, in the lecture's order: (key, what, the lecture's formula,
#: what each hand value is checked against).
_KINDS = (
    (
        "forward",
        ("forward pass: z and a", "propagação direta: z e a"),
        ("z = Σ w x + b, a = f(z)", "z = Σ w x + b, a = f(z)"),
        ("mlplab's forward pass", "a propagação direta do mlplab"),
    ),
    (
        "cost",
        ("cost: J and ∂J/∂ŷ", "custo: J e ∂J/∂ŷ"),
        ("J = (ŷ − y)², ∂J/∂ŷ = 2 (ŷ − y)", "J = (ŷ − y)², ∂J/∂ŷ = 2 (ŷ − y)"),
        ("mlplab, and ∂J/∂ŷ = a finite difference", "mlplab, e ∂J/∂ŷ = diferença finita"),
    ),
    (
        "backward",
        ("backward pass: f′(z) and δ = ∂J/∂z", "retropropagação: f′(z) e δ = ∂J/∂z"),
        (
            "δ_out = ∂J/∂ŷ · f′(z), δ_hidden = f′(z) · Σ_k w_jk δ_k",
            "δ_saída = ∂J/∂ŷ · f′(z), δ_oculta = f′(z) · Σ_k w_jk δ_k",
        ),
        ("mlplab and a finite difference", "mlplab e diferença finita"),
    ),
    (
        "gradient",
        ("gradients ∂J/∂w and ∂J/∂b", "gradientes ∂J/∂w e ∂J/∂b"),
        ("∂J/∂w_ij = δ_j · x_i, ∂J/∂b_j = δ_j", "∂J/∂w_ij = δ_j · x_i, ∂J/∂b_j = δ_j"),
        ("mlplab and a finite difference", "mlplab e diferença finita"),
    ),
)


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """Every kind of hand-computed value against mlplab and a finite difference."""
    tol = t.num(TOLERANCE, "g").replace("e-0", "e-")
    rows = []
    for key, what, formula, against in _KINDS:
        if key not in m["rows_by_kind"]:
            continue
        n, err = m["rows_by_kind"][key], m["max_error_by_kind"][key]
        rows.append(
            Row(
                t(*what) + t(f" ({n} values)", f" ({n} valores)"),
                t(*formula)
                + t(
                    f"; by hand = {against[0]} (within {tol})",
                    f"; à mão = {against[1]} (até {tol})",
                ),
                t("largest difference ", "maior diferença ") + (t.num(err, ".1e") if err else "0"),
                err < TOLERANCE,
            )
        )
    x = ", ".join(t.num(v, "g") for v in m["sample"]["x"])
    y = ", ".join(t.num(v, "g") for v in m["sample"]["y"])
    rows.append(
        Row(
            t("the sample and its loss", "a amostra e sua perda"),
            t(
                "one sample of XOR through a 2-2-1 logistic network",
                "uma amostra do XOR numa rede logística 2-2-1",
            ),
            f"x = ({x}), y = {y}: J = {t.num(m['loss'], '.4g')}",
            None,
        )
    )
    return rows


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in the figure."""
    x = ", ".join(t.num(v, "g") for v in m["sample"]["x"])
    return {
        "backprop_network.png": t(
            f"The sample x = ({x}) enters on the left. In blue, above each edge and node, the "
            "forward pass: the weight w, then z = Σ w x + b and a = f(z). In red, below, the "
            "backward pass: δ = ∂J/∂z at each node and ∂J/∂w = δ · x on each edge. An input of "
            "0 gives the weights leaving it a gradient of 0.",
            f"A amostra x = ({x}) entra pela esquerda. Em azul, acima de cada aresta e nó, a "
            "propagação direta: o peso w, depois z = Σ w x + b e a = f(z). Em vermelho, abaixo, "
            "a retropropagação: δ = ∂J/∂z em cada nó e ∂J/∂w = δ · x em cada aresta. Uma "
            "entrada 0 dá gradiente 0 aos pesos que saem dela.",
        ),
    }


LABELS = {
    "sample": ("the sample", "a amostra"),
    "loss": ("loss J = (ŷ − y)²", "perda J = (ŷ − y)²"),
    "max_error": (
        "largest difference, hand against mlplab or a finite difference",
        "maior diferença, à mão contra mlplab ou diferença finita",
    ),
    "max_engine_error": (
        "largest difference, hand against mlplab",
        "maior diferença, à mão contra mlplab",
    ),
    "max_fd_error": (
        "largest difference, hand against a finite difference",
        "maior diferença, à mão contra diferença finita",
    ),
    "rows": ("rows of the table", "linhas da tabela"),
    "rows_by_kind": ("rows of the table, per kind", "linhas da tabela, por tipo"),
    "max_error_by_kind": ("largest difference, per kind", "maior diferença, por tipo"),
    "forward": ("forward pass (z, a)", "propagação direta (z, a)"),
    "cost": ("cost (J, ∂J/∂ŷ)", "custo (J, ∂J/∂ŷ)"),
    "backward": ("backward pass (δ)", "retropropagação (δ)"),
    "gradient": ("gradients (∂J/∂w, ∂J/∂b)", "gradientes (∂J/∂w, ∂J/∂b)"),
    "deltas": ("δ = ∂J/∂z, by hand", "δ = ∂J/∂z, à mão"),
    "gradients": ("∂J/∂w and ∂J/∂b, by hand", "∂J/∂w e ∂J/∂b, à mão"),
    "weights": ("weights W and biases b, per layer", "pesos W e vieses b, por camada"),
}


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
    x1: float = 1.0,
    x2: float = 0.0,
    target: float = 1.0,
) -> dict[str, Any]:
    """One sample of XOR through a 2-2-1 logistic network, by hand (``quick`` changes nothing).

    Writes ``table.md`` (the full table in ``lang``) and ``backprop_network.png``.
    Metrics: ``max_error`` (largest deviation of a hand value from the engine or a
    finite difference), ``max_engine_error``, ``max_fd_error``, ``rows`` (number
    of rows), ``rows_by_kind``, ``max_error_by_kind`` (its largest deviation per kind of
    row), ``loss`` (J), ``forward`` ({quantity: value}),
    ``deltas`` ({"δ…": value}), ``gradients`` ({"∂J/∂…": value}), ``weights``
    (per layer W and b) and ``sample``.
    """
    t = T(lang)
    result = compute(seed=int(seed), x1=float(x1), x2=float(x2), target=float(target))
    draw(result, t, out_dir)
    return result.metrics
