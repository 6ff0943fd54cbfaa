"""``xor`` (lecture section 7): noisy XOR, one hidden layer of 2 nodes (3 in total), and a
single perceptron failing on it for contrast; the hidden nodes are two linear separators
that map XOR into a space where it is linearly separable.

It trains from several initialisations and keeps the best (see
:mod:`mlplab.experiments._logic`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab import datasets
from mlplab._checks import check_int
from mlplab.experiments._logic import (
    NODE_COLORS,
    confusion,
    fit,
    fit_all,
    grid,
    hidden_activations,
    initialisation_metrics,
    initialisations_figure,
    kept_metrics,
    kept_panels,
    layer_weights,
    line,
    output,
    points,
    region,
    surface,
    view,
)
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T


def compute(
    *, seed: int, quick: bool, n_samples: int, noise: float, hidden: int, initialisations: int
) -> Result:
    """The kept network of ``hidden`` nodes and the single perceptron (see :func:`run`)."""
    hidden = check_int("hidden", hidden, minimum=1)
    tries = check_int("initialisations", initialisations, minimum=1)
    n = min(n_samples, 1000) if quick else n_samples
    X, y = datasets.logic_gate("xor", n, noise=noise, seed=seed)
    clf, _, records = fit_all((hidden,), X, y, seed, tries)
    single, single_rec = fit((), X, y, seed)
    cm = confusion(clf, X, y)
    acc = float(clf.score(X, y))
    nodes = hidden + 1
    xx, yy, G = grid(X, steps=70 if quick else 150)
    metrics = {
        **kept_metrics(clf, records, nodes, n, acc, cm),
        "single_perceptron_accuracy": single_rec["accuracy"],
        "single_perceptron_confusion_matrix": confusion(single, X, y),
        **initialisation_metrics(records, clf),
        **layer_weights(clf),
    }
    data = {
        "X": X,
        "y": y,
        "xx": xx,
        "yy": yy,
        "kept": view(clf, X, y, G, xx.shape),
        "single_p": output(single, G, xx.shape),
        "single_accuracy": single_rec["accuracy"],
        # the points in the hidden space (a1, a2), where XOR is linearly separable
        "hidden_space": hidden_activations(clf, X)[1] if hidden == 2 else None,
        "records": records,
    }
    return Result(metrics, data)


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``xor_region.png``, ``xor_surface.png``, ``xor_hidden.png`` and
    ``xor_initialisations.png``."""
    import matplotlib.pyplot as plt

    d = result.data
    X, y, xx, yy, kept = d["X"], d["y"], d["xx"], d["yy"], d["kept"]
    hidden = kept["W"].shape[1]
    nodes = hidden + 1
    # the decision regions: one node against 3
    fig, axes = plt.subplots(1, 4, figsize=(23, 4.8))
    region(
        axes[0],
        d["single_p"],
        X,
        y,
        xx,
        yy,
        t(
            f"1 node: no line separates XOR ({d['single_accuracy']:.0%})",
            f"1 nó: nenhuma reta separa o XOR ({t.num(d['single_accuracy'], '.0%')})",
        ),
        t,
    )
    kept_panels(axes[1:], kept, X, y, xx, yy, t, labelled=True)
    fig.subplots_adjust(wspace=0.45)
    save_figure(fig, out_dir / "xor_region.png")

    # the output surfaces
    fig = plt.figure(figsize=(13, 5.5))
    zl = t("output ŷ", "saída ŷ")
    surface(
        fig.add_subplot(1, 2, 1, projection="3d"),
        xx,
        yy,
        d["single_p"],
        t("single perceptron: one smooth threshold", "um perceptron: um único limiar suave"),
        zl,
    )
    surface(
        fig.add_subplot(1, 2, 2, projection="3d"),
        xx,
        yy,
        kept["p"],
        t(
            f"{nodes} nodes: {hidden} thresholds combined",
            f"{nodes} nós: {hidden} limiares combinados",
        ),
        zl,
    )
    save_figure(fig, out_dir / "xor_surface.png")
    _hidden_figure(d, t, out_dir / "xor_hidden.png")
    initialisations_figure(d["records"], t, out_dir / "xor_initialisations.png", "XOR", nodes)


def _hidden_figure(d: dict[str, Any], t: T, path: Path) -> None:
    """The hidden nodes: linear separators, and the space they map XOR into."""
    import matplotlib.pyplot as plt

    X, y, xx, yy, kept = d["X"], d["y"], d["xx"], d["yy"], d["kept"]
    W, b, v, c, A = kept["W"], kept["b"], kept["v"], kept["c"], kept["A"]
    hidden = W.shape[1]
    show_space = d["hidden_space"] is not None
    ncols = hidden + 1 + show_space
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 4.8))
    for j in range(hidden):
        ax = axes[j]
        cs = ax.contourf(
            xx, yy, A[:, j].reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="YlGn"
        )
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label=f"a{j + 1}")
        points(ax, X, y, t, n=300, legend=False)
        line(ax, W[:, j], b[j], xx, yy, color="w", lw=2, ls="--")
        ax.set_title(
            t(
                f"hidden node {j + 1}: a{j + 1} = f(z{j + 1}), line z{j + 1} = 0",
                f"nó oculto {j + 1}: a{j + 1} = f(z{j + 1}), reta z{j + 1} = 0",
            )
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    region(
        axes[hidden],
        kept["p"],
        X,
        y,
        xx,
        yy,
        t("output node: f(Σ v_j a_j + c)", "nó de saída: f(Σ v_j a_j + c)"),
        t,
    )
    for j in range(hidden):
        line(axes[hidden], W[:, j], b[j], xx, yy, ls="--", color=NODE_COLORS[j % 6])
    if show_space:
        ax = axes[-1]
        points(ax, d["hidden_space"], y, t, n=500)
        a_box = np.linspace(-0.05, 1.05, 2)
        line(ax, v, c, *np.meshgrid(a_box, a_box), color="k", lw=1.5, ls="--")
        ax.set_xlabel("a1")
        ax.set_ylabel("a2")
        ax.set_aspect("equal")
        ax.set_title(
            t(
                "hidden space (a1, a2):\nXOR is now linearly separable",
                "espaço oculto (a1, a2):\no XOR agora é linearmente separável",
            ),
            fontsize=10,
        )
    fig.suptitle(
        t(
            "Each hidden node is a linear separator; the output node combines them",
            "Cada nó oculto é um separador linear; o nó de saída os combina",
        )
    )
    fig.subplots_adjust(wspace=0.45, top=0.86)
    save_figure(fig, path)


@register(
    "xor",
    section="7",
    order=2,
    title={
        "en": "Noisy XOR: two hidden logistic nodes (3 in total) against a single perceptron",
        "pt": "XOR com ruído: dois nós ocultos logísticos (3 no total) contra um único perceptron",
    },
    claim={
        "en": "A single perceptron cannot learn XOR; one hidden layer of 2 nodes can: the two "
        "hidden nodes learn two linear separators that combine into a non-linear one.",
        "pt": "Um único perceptron não aprende o XOR; uma camada oculta de 2 nós aprende: os dois "
        "nós ocultos aprendem dois separadores lineares que se combinam num separador não linear.",
    },
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    n_samples: int = 4000,
    noise: float = 0.1,
    hidden: int = 2,
    initialisations: int = 20,
) -> dict[str, Any]:
    """MLPClassifier(hidden_layer_sizes=(2,)) on noisy XOR, best of several initialisations,
    and MLPClassifier(hidden_layer_sizes=()) (a single perceptron) for contrast."""
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        n_samples=n_samples,
        noise=noise,
        hidden=hidden,
        initialisations=initialisations,
    )
    draw(result, t, out_dir)
    return result.metrics
