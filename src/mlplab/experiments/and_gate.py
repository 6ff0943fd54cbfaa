"""``and`` (lecture section 7): noisy AND, no hidden layer: one logistic node (1 node in
total), as the course does it, with ``MLPClassifier(solver="lbfgs", activation="logistic")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlplab import datasets
from mlplab.experiments._logic import (
    MAX_ITER,
    confusion,
    confusion_panel,
    fit,
    grid,
    line,
    loss_panel,
    output,
    region,
    surface,
)
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T


def compute(*, seed: int, quick: bool, n_samples: int, noise: float) -> Result:
    """The single node fitted on noisy AND (see :func:`run`)."""
    n = min(n_samples, 2000) if quick else n_samples
    X, y = datasets.logic_gate("and", n, noise=noise, seed=seed)
    clf, rec = fit((), X, y, seed)  # convex: one initialisation suffices
    cm = confusion(clf, X, y)
    xx, yy, G = grid(X, steps=70 if quick else 150)
    W, b = clf.net_.layers[0].W[:, 0], float(clf.net_.layers[0].b[0])
    metrics = {
        "nodes": 1,
        "n_samples": n,
        "accuracy": rec["accuracy"],
        "confusion_matrix": cm,
        "training_loss": rec["loss"],
        "iterations": rec["iterations"],
        "initialisations_tried": 1,
        "weights": {"w1": float(W[0]), "w2": float(W[1]), "b": b},
    }
    data = {
        "X": X,
        "y": y,
        "xx": xx,
        "yy": yy,
        "p": output(clf, G, xx.shape),
        "W": W,
        "b": b,
        "loss_curve": list(clf.history_["loss"]),
        "accuracy": float(clf.score(X, y)),
    }
    return Result(metrics, data)


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``and_region.png`` (region, loss, confusion matrix) and ``and_surface.png``."""
    import matplotlib.pyplot as plt

    d, n, cm = result.data, result.metrics["n_samples"], result.metrics["confusion_matrix"]
    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    fig = plt.figure(figsize=(10, 6.4))
    gs = fig.add_gridspec(2, 2, width_ratios=(1.5, 1), hspace=0.55, wspace=0.35)
    ax_region = fig.add_subplot(gs[:, 0])
    region(
        ax_region,
        d["p"],
        X,
        y,
        xx,
        yy,
        t("AND: one node, one straight line", "AND: um nó, uma reta"),
        t,
    )
    line(ax_region, d["W"], d["b"], xx, yy, color="k", ls="--", lw=1)
    loss_panel(
        fig.add_subplot(gs[0, 1]), d["loss_curve"], t, t("training (L-BFGS)", "treino (L-BFGS)")
    )
    confusion_panel(fig.add_subplot(gs[1, 1]), cm, t)
    fig.suptitle(
        t(
            f"Noisy AND, {n} points: {d['accuracy']:.2%} correct with 1 node",
            f"AND com ruído, {n} pontos: {t.num(d['accuracy'], '.2%')} de acertos com 1 nó",
        )
    )
    save_figure(fig, out_dir / "and_region.png")

    fig = plt.figure(figsize=(7, 5.5))
    ax = fig.add_subplot(projection="3d")
    surface(
        ax,
        xx,
        yy,
        d["p"],
        t("the single node's output: a smooth threshold", "a saída do único nó: um limiar suave"),
        t("output ŷ", "saída ŷ"),
        zlim=(0, 1),
    )
    save_figure(fig, out_dir / "and_surface.png")


CORNERS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _corner_sides(m: dict[str, Any]) -> list[int]:
    """On which side of the node's line z = 0 each noise-free corner lies (1: ŷ > 0.5)."""
    w = m["weights"]
    return [int(w["w1"] * a + w["w2"] * b + w["b"] > 0) for a, b in CORNERS]


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claim, checked: one node, one line, AND classified."""
    acc, n, cm, w = m["accuracy"], m["n_samples"], m["confusion_matrix"], m["weights"]
    wrong = n - cm[0][0] - cm[1][1]
    sides = _corner_sides(m)
    line_txt = (
        f"{t.num(w['w1'], '.3g')} x1 + {t.num(w['w2'], '.3g')} x2 "
        f"{'−' if w['b'] < 0 else '+'} {t.num(abs(w['b']), '.3g')} = 0"
    )
    return [
        Row(
            t("nodes in the network", "nós na rede"),
            t("1 node, no hidden layer", "1 nó, sem camada oculta"),
            t(f"{m['nodes']} node", f"{m['nodes']} nó"),
            m["nodes"] == 1,
        ),
        Row(
            t("accuracy on noisy AND", "acurácia no AND com ruído"),
            t(
                "AND is linearly separable: one node classifies it (we check ≥ 99 %)",
                "o AND é linearmente separável: um nó o classifica (verificamos ≥ 99 %)",
            ),
            t(
                f"{acc:.2%} of {n} points ({wrong} wrong)",
                f"{t.num(acc, '.2%')} de {n} pontos ({wrong} errados)",
            ),
            acc >= 0.99,
        ),
        Row(
            t("the node's boundary ŷ = 0.5", "a fronteira ŷ = 0,5 do nó"),
            t(
                "one straight line with the corner (1, 1) alone on its side",
                "uma reta com o canto (1, 1) sozinho do seu lado",
            ),
            t(
                f"{line_txt}; corners on the ŷ > 0.5 side: "
                + (", ".join(str(c) for c, s in zip(CORNERS, sides, strict=True) if s) or "none"),
                f"{line_txt}; cantos do lado ŷ > 0,5: "
                + (", ".join(str(c) for c, s in zip(CORNERS, sides, strict=True) if s) or "nenhum"),
            ),
            sides == [0, 0, 0, 1],
        ),
        Row(
            t("training (L-BFGS)", "treino (L-BFGS)"),
            t(
                "the loss of one node is convex: one initialisation suffices and converges",
                "a perda de um nó é convexa: uma inicialização basta e converge",
            ),
            t(
                f"converged in {m['iterations']} iterations, final loss "
                f"{t.num(m['training_loss'], '.2g')}",
                f"convergiu em {m['iterations']} iterações, perda final "
                f"{t.num(m['training_loss'], '.2g')}",
            ),
            m["iterations"] < MAX_ITER,
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    acc, n, cm = m["accuracy"], m["n_samples"], m["confusion_matrix"]
    wrong = n - cm[0][0] - cm[1][1]
    return {
        "and_region.png": t(
            "Left: the node's output ŷ over the plane (red: class 1, blue: class 0); the black "
            "line is where ŷ = 0.5, a straight line that leaves the corner (1, 1) alone on its "
            f"side. Only {wrong} of {n} points, pushed across it by the noise, are misclassified "
            "(confusion matrix, bottom right); L-BFGS reaches its minimum in a few iterations "
            "(top right).",
            "À esquerda: a saída ŷ do nó sobre o plano (vermelho: classe 1, azul: classe 0); a "
            "linha preta é onde ŷ = 0,5, uma reta que deixa o canto (1, 1) sozinho do seu "
            f"lado. Só {wrong} de {n} pontos, empurrados para o outro lado pelo ruído, são mal "
            "classificados (matriz de confusão, embaixo à direita); o L-BFGS chega ao mínimo em "
            "poucas iterações (em cima à direita).",
        ),
        "and_surface.png": t(
            "The same output ŷ as a surface: one smooth step from 0 up to 1 across a single "
            f"straight line; that is all one node can draw, and for AND it is enough ({acc:.2%}).",
            "A mesma saída ŷ como superfície: um degrau suave de 0 a 1 ao cruzar uma única reta; "
            "é tudo o que um nó consegue desenhar, e para o AND basta "
            f"({t.num(acc, '.2%')}).",
        ),
    }


@register(
    "and",
    section="7",
    order=1,
    title={
        "en": "Noisy AND learned by a single node (no hidden layer)",
        "pt": "AND com ruído aprendido por um único nó (sem camada oculta)",
    },
    claim={
        "en": "AND is linearly separable: one logistic node (1 node in total) classifies it.",
        "pt": "O AND é linearmente separável: um único nó logístico (1 nó no total) o classifica.",
    },
    headline=headline,
    captions=captions,
    labels={
        "nodes": ("nodes in the network", "nós na rede"),
        "n_samples": ("points (training set)", "pontos (conjunto de treino)"),
        "accuracy": ("training accuracy", "acurácia de treino"),
        "confusion_matrix": (
            "confusion matrix (rows: true class 0, 1; columns: predicted)",
            "matriz de confusão (linhas: classe verdadeira 0, 1; colunas: prevista)",
        ),
        "training_loss": (
            "final training loss (cross-entropy)",
            "perda final de treino (entropia cruzada)",
        ),
        "iterations": ("L-BFGS iterations", "iterações do L-BFGS"),
        "initialisations_tried": ("initialisations tried", "inicializações tentadas"),
        "weights": ("the node's weights (w1, w2) and bias b", "pesos (w1, w2) e viés b do nó"),
    },
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    n_samples: int = 10_000,
    noise: float = 0.1,
) -> dict[str, Any]:
    """MLPClassifier(hidden_layer_sizes=()) on noisy AND: a single logistic node."""
    t = T(lang)
    result = compute(seed=seed, quick=quick, n_samples=n_samples, noise=noise)
    draw(result, t, out_dir)
    return result.metrics
