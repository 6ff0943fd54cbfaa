"""What the classification experiments (``and``, ``xor``, ``circles``) share: the course's
classifier (``MLPClassifier(solver="lbfgs", activation="logistic")``) trained from several
initialisations, their metrics, and the panels of their figures (decision region, lines of
the hidden nodes, confusion matrix, loss, 3-D surface, the initialisations).

With so few nodes the loss surfaces of XOR and circles have local minima: those
experiments train from ``initialisations`` random initialisations
(``random_state = seed, seed + 1, ...``), report the loss and accuracy of each and keep
the one with the lowest training loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab.experiments._registry import save_figure
from mlplab.i18n import T
from mlplab.sklearn.estimators import MLPClassifier

MAX_ITER = 1000  # L-BFGS iterations; these tiny networks converge in far fewer
SOLVED = 0.99  # the training accuracy counted as "solved" per initialisation
_COLORS = ("tab:blue", "tab:red")  # class 0, class 1
LEGEND_FONT = 9  # legible at the report's width (figures are drawn at most ~10.5 in wide)
NODE_COLORS = ("tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive")


# ---------------------------------------------------------------- training
def _classifier(hidden: tuple[int, ...], random_state: int) -> MLPClassifier:
    return MLPClassifier(
        hidden_layer_sizes=hidden,
        activation="logistic",
        solver="lbfgs",
        random_state=random_state,
        max_iter=MAX_ITER,
        convergence_warning=False,  # convergence is reported per initialisation instead
    )


def fit(hidden: tuple[int, ...], X, y, random_state: int) -> tuple[MLPClassifier, dict]:
    from threadpoolctl import threadpool_limits

    # networks this small run fastest on one BLAS thread (several only contend)
    with threadpool_limits(limits=1):
        clf = _classifier(hidden, random_state).fit(X, y)
    record = {
        "random_state": random_state,
        "loss": float(clf.loss_),
        "accuracy": float(clf.score(X, y)),
        "iterations": int(clf.n_iter_),
        "converged": bool(clf.n_iter_ < MAX_ITER),
    }
    return clf, record


def fit_all(
    hidden: tuple[int, ...], X, y, seed: int, tries: int
) -> tuple[MLPClassifier, list[MLPClassifier], list[dict]]:
    """Train from random_state = seed, seed + 1, ...; return the network with the lowest
    training loss, every network and every initialisation's record."""
    fitted = [fit(hidden, X, y, rs) for rs in range(seed, seed + tries)]
    models = [m for m, _ in fitted]
    records = [r for _, r in fitted]
    best = models[int(np.argmin([r["loss"] for r in records]))]
    return best, models, records


def confusion(clf: MLPClassifier, X, y) -> list[list[int]]:
    """Rows: true class 0, 1; columns: predicted class 0, 1."""
    pred = clf.predict(X)
    return [[int(np.sum((y == c) & (pred == p))) for p in (0, 1)] for c in (0, 1)]


def initialisation_metrics(records: list[dict], best: MLPClassifier) -> dict[str, Any]:
    return {
        "initialisations_tried": len(records),
        "initialisations_solving": sum(r["accuracy"] >= SOLVED for r in records),
        "accuracy_per_initialisation": [r["accuracy"] for r in records],
        "loss_per_initialisation": [r["loss"] for r in records],
        "best_random_state": int(best.random_state),
    }


#: Labels of what kept_metrics, initialisation_metrics and layer_weights measure (the
#: report's table);
#: "initialisations_solving" names the task, so each experiment labels it.
KEPT_LABELS = {
    "nodes": ("nodes in the network (hidden + output)", "nós na rede (ocultos + saída)"),
    "n_samples": ("points (training set)", "pontos (conjunto de treino)"),
    "accuracy": ("training accuracy of the kept network", "acurácia de treino da rede mantida"),
    "confusion_matrix": (
        "confusion matrix of the kept network (rows: true class 0, 1; columns: predicted)",
        "matriz de confusão da rede mantida (linhas: classe verdadeira 0, 1; colunas: prevista)",
    ),
    "training_loss": ("final training loss of the kept network", "perda final da rede mantida"),
    "iterations": ("L-BFGS iterations of the kept network", "iterações do L-BFGS da rede mantida"),
    "initialisations_tried": ("initialisations tried", "inicializações tentadas"),
    "accuracy_per_initialisation": (
        "training accuracy of each initialisation",
        "acurácia de treino de cada inicialização",
    ),
    "loss_per_initialisation": (
        "final training loss of each initialisation",
        "perda final de treino de cada inicialização",
    ),
    "best_random_state": (
        "kept initialisation (random state, lowest loss)",
        "inicialização mantida (random state, menor perda)",
    ),
    "hidden_weights": (
        "hidden nodes' weights (w1, w2, b), one row per node",
        "pesos dos nós ocultos (w1, w2, b), uma linha por nó",
    ),
    "output_weights": (
        "output node's weights (one per hidden node, then the bias c)",
        "pesos do nó de saída (um por nó oculto, depois o viés c)",
    ),
}


def kept_metrics(clf: MLPClassifier, records: list[dict], nodes: int, n: int, acc: float, cm):
    """The kept network's size, data size, accuracy, confusion matrix, loss and iterations."""
    best = next(r for r in records if r["random_state"] == clf.random_state)
    return {
        "nodes": nodes,
        "n_samples": n,
        "accuracy": acc,
        "confusion_matrix": cm,
        "training_loss": best["loss"],
        "iterations": best["iterations"],
    }


def layer_weights(clf: MLPClassifier) -> dict[str, Any]:
    """Hidden nodes' [w1, w2, b] and the output node's [v_1, ..., v_H, c]."""
    layers = clf.net_.layers
    out = layers[-1]
    weights: dict[str, Any] = {"output_weights": [*out.W[:, 0].tolist(), float(out.b[0])]}
    if len(layers) > 1:
        W, b = layers[0].W, layers[0].b
        weights["hidden_weights"] = [[*W[:, j].tolist(), float(b[j])] for j in range(W.shape[1])]
    return weights


def weights(clf: MLPClassifier) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """W, b of the hidden layer and v, c of the (single) output node."""
    hidden, out = clf.net_.layers[0], clf.net_.layers[1]
    return hidden.W, hidden.b, out.W[:, 0], float(out.b[0])


def hidden_activations(clf: MLPClassifier, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z and a = f(z) of the first hidden layer, read from the network after a forward pass."""
    clf.net_.forward(G)
    layer = clf.net_.layers[0]
    return layer.z.copy(), layer.a.copy()


def output(clf: MLPClassifier, G: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return clf.predict_proba(G)[:, 1].reshape(shape)


def view(clf: MLPClassifier, X, y, G: np.ndarray, shape: tuple[int, ...]) -> dict[str, Any]:
    """What the figures show of a fitted classifier with one hidden layer: its output ``p``
    on the grid G (reshaped to ``shape``), the hidden layer's activations ``A`` on G, its
    weights W, b and the output node's v, c, its accuracy, confusion matrix and loss curve."""
    W, b, v, c = weights(clf)
    return {
        "p": output(clf, G, shape),
        "A": hidden_activations(clf, G)[1],
        "W": W,
        "b": b,
        "v": v,
        "c": c,
        "accuracy": float(clf.score(X, y)),
        "confusion_matrix": confusion(clf, X, y),
        "loss_curve": list(clf.history_["loss"]),
    }


# ---------------------------------------------------------------- plotting
def grid(X: np.ndarray, steps: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0) - 0.4, X.max(axis=0) + 0.4
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def points(ax, X: np.ndarray, y: np.ndarray, t: T, n: int = 500, legend: bool = True) -> None:
    idx = np.random.default_rng(0).permutation(len(X))[:n]
    for c in (0, 1):
        sel = idx[y[idx] == c]
        ax.scatter(
            X[sel, 0],
            X[sel, 1],
            s=10,
            color=_COLORS[c],
            edgecolors="k",
            linewidths=0.3,
            label=t(f"class {c}", f"classe {c}"),
        )
    if legend:
        legend_below(ax)


def legend_below(ax, ncol: int = 2) -> None:
    """The axes' legend under its x label, where it hides no data."""
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        borderaxespad=3.2,
        ncol=ncol,
        fontsize=LEGEND_FONT,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
    )


def line(ax, w: np.ndarray, b: float, xx: np.ndarray, yy: np.ndarray, **kw) -> None:
    """Draw the line w[0] x1 + w[1] x2 + b = 0 inside the grid's box."""
    x_lo, x_hi, y_lo, y_hi = xx.min(), xx.max(), yy.min(), yy.max()
    if abs(w[1]) >= abs(w[0]):
        xs = np.array([x_lo, x_hi])
        ys = -(w[0] * xs + b) / w[1]
    else:
        ys = np.array([y_lo, y_hi])
        xs = -(w[1] * ys + b) / w[0]
    ax.plot(xs, ys, **kw)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)


def region(ax, p: np.ndarray, X, y, xx, yy, title: str, t: T) -> None:
    """The output ŷ = ``p`` on the grid (xx, yy), its 0.5 contour and the points."""
    cs = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
    points(ax, X, y, t)
    ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label=t("output ŷ", "saída ŷ"))
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")


def confusion_panel(ax, cm: list[list[int]], t: T) -> None:
    m = np.asarray(cm)
    ax.imshow(m, cmap="Blues")
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                str(m[i, j]),
                ha="center",
                va="center",
                color="white" if m[i, j] > m.max() / 2 else "black",
                fontsize=12,
            )
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    ax.set_xlabel(t("predicted class", "classe prevista"))
    ax.set_ylabel(t("true class", "classe verdadeira"))
    ax.set_title(t("confusion matrix", "matriz de confusão"))


def loss_panel(ax, losses: list[float], t: T, title: str) -> None:
    ax.semilogy(np.arange(1, len(losses) + 1), losses)
    ax.set_xlabel(t("L-BFGS iteration", "iteração do L-BFGS"))
    ax.set_ylabel(t("cross-entropy (training)", "entropia cruzada (treino)"))
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")


def surface(
    ax, xx, yy, Z, title: str, zlabel: str, cmap: str = "RdBu_r", zlim: tuple | None = None
) -> None:
    """Z over the grid (xx, yy) in 3-D; ``zlim``: fixed z limits (e.g. (0, 1) for an output,
    so that a flat output looks flat)."""
    kw = {} if zlim is None else {"vmin": zlim[0], "vmax": zlim[1]}
    ax.plot_surface(
        xx, yy, Z, cmap=cmap, linewidth=0, antialiased=False, rcount=40, ccount=40, **kw
    )
    if zlim is not None:
        ax.set_zlim(*zlim)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_zlabel(zlabel)
    ax.set_title(title)
    ax.view_init(elev=28, azim=-60)


def kept_panels(axes, kept: dict[str, Any], X, y, xx, yy, t: T, labelled: bool) -> None:
    """The kept network's decision region with its hidden nodes' lines z_j = 0, its confusion
    matrix and its training loss, on three axes; ``labelled``: the lines in a legend.
    ``kept``: the network's :func:`view`."""
    acc, W, b = kept["accuracy"], kept["W"], kept["b"]
    hidden = W.shape[1]
    nodes = hidden + 1
    region(
        axes[0],
        kept["p"],
        X,
        y,
        xx,
        yy,
        t(
            f"{hidden} hidden nodes + output: {acc:.2%}",
            f"{hidden} nós ocultos + saída: {t.num(acc, '.2%')}",
        ),
        t,
    )
    for j in range(hidden):
        kw = {"label": t(f"hidden node {j + 1}: z = 0", f"nó oculto {j + 1}: z = 0")}
        line(
            axes[0],
            W[:, j],
            b[j],
            xx,
            yy,
            ls="--",
            lw=1.5 if labelled else 1,
            color=NODE_COLORS[j % len(NODE_COLORS)],
            **(kw if labelled else {}),
        )
    if labelled:
        legend_below(axes[0], ncol=2 if hidden <= 2 else 3)
    confusion_panel(axes[1], kept["confusion_matrix"], t)
    loss_panel(
        axes[2],
        kept["loss_curve"],
        t,
        t(f"training ({nodes}-node network)", f"treinamento (rede de {nodes} nós)"),
    )


def initialisations_figure(records: list[dict], t: T, path: Path, what: str, nodes: int) -> None:
    """Each initialisation's final loss and accuracy, one bar each (green: solved)."""
    import matplotlib.pyplot as plt

    rs = [r["random_state"] for r in records]
    loss = np.array([r["loss"] for r in records])
    acc = np.array([r["accuracy"] for r in records])
    best = int(np.argmin(loss))
    colors = ["tab:green" if a >= SOLVED else "tab:gray" for a in acc]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6.2), sharex=True)
    ax1.bar(range(len(rs)), loss, color=colors)
    ax1.set_yscale("log")
    ax1.set_ylabel(t("final training loss", "perda de treino final"))
    ax2.bar(range(len(rs)), acc, color=colors)
    ax2.axhline(SOLVED, color="k", ls="--", lw=0.8)
    ax2.set_ylim(min(0.4, acc.min() - 0.05), 1.02)
    ax2.set_ylabel(t("training accuracy", "acurácia de treino"))
    ax2.set_xticks(range(len(rs)), [str(r) for r in rs])
    ax2.get_xticklabels()[best].set_fontweight("bold")
    ax2.set_xlabel(t("initialisation (random_state)", "inicialização (random_state)"))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3, axis="y")
    ax1.set_title(
        t(
            "each initialisation ends in its own minimum (lower is better)",
            "cada inicialização para num mínimo próprio (mais baixo é melhor)",
        )
    )
    ax2.set_title(
        t(
            f"green: solved (≥ {SOLVED:.0%} correct, dashed line); "
            f"kept: the lowest loss, initialisation {rs[best]} (bold)",
            f"verde: resolvido (≥ {t.num(SOLVED, '.0%')} de acertos, linha tracejada); "
            f"mantida: a menor perda, inicialização {rs[best]} (em negrito)",
        )
    )
    n_ok = int(np.sum(acc >= SOLVED))
    fig.suptitle(
        t(
            f"{what} with {nodes} nodes: {n_ok} of {len(rs)} initialisations find the solution\n"
            "(the others stop in a local minimum)",
            f"{what} com {nodes} nós: {n_ok} de {len(rs)} inicializações encontram a solução\n"
            "(as outras param num mínimo local)",
        )
    )
    fig.subplots_adjust(hspace=0.3, top=0.86)
    save_figure(fig, path)
