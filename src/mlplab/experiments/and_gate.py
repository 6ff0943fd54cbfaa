"""``and`` (lecture section 7): noisy AND, no hidden layer: one logistic node (1 node in
total), as the course does it, with ``MLPClassifier(solver="lbfgs", activation="logistic")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlplab import datasets
from mlplab.experiments._logic import (
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
from mlplab.experiments._registry import Result, register, save_figure
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
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    region(
        axes[0],
        d["p"],
        X,
        y,
        xx,
        yy,
        t("AND: one node, one linear separator", "AND: um nó, um separador linear"),
        t,
    )
    line(axes[0], d["W"], d["b"], xx, yy, color="k", ls="--", lw=1, label="z = 0")
    loss_panel(axes[1], d["loss_curve"], t, t("training (L-BFGS)", "treinamento (L-BFGS)"))
    confusion_panel(axes[2], cm, t)
    fig.suptitle(
        t(
            f"Noisy AND, {n} points: accuracy {d['accuracy']:.2%} with 1 node",
            f"AND com ruído, {n} pontos: acurácia de {t.num(d['accuracy'], '.2%')} com 1 nó",
        )
    )
    fig.subplots_adjust(wspace=0.45, top=0.86)
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
    )
    save_figure(fig, out_dir / "and_surface.png")


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
