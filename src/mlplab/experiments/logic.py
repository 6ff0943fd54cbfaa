"""Classification by the smallest networks that can do it (lecture section 7).

As the course does it, with ``MLPClassifier(solver="lbfgs", activation="logistic")``:

* ``and``: noisy AND, no hidden layer: one logistic node (1 node in total);
* ``xor``: noisy XOR, one hidden layer of 2 nodes (3 in total), and a single
  perceptron failing on it for contrast; the hidden nodes are two linear
  separators that map XOR into a space where it is linearly separable;
* ``circles``: concentric circles, one hidden layer of 4 nodes (5 in total):
  each hidden node is a smooth threshold, two opposite thresholds add up to a
  ridge ("wave"), two perpendicular ridges add up to a bump.

With so few nodes the loss surfaces of XOR and circles have local minima: the
experiments train from ``initialisations`` random initialisations
(``random_state = seed, seed + 1, ...``), report the loss and accuracy of each
and keep the one with the lowest training loss.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import datasets
from mlplab._checks import check_int
from mlplab.experiments._registry import T, register, save_figure
from mlplab.sklearn.estimators import MLPClassifier

MAX_ITER = 1000  # L-BFGS iterations; these tiny networks converge in far fewer
SOLVED = 0.99  # the training accuracy counted as "solved" per initialisation
OPPOSITE_COS = -0.8  # two thresholds rising in directions this opposite (>= 143 deg) make a ridge
_COLORS = ("tab:blue", "tab:red")  # class 0, class 1
_NODE_COLORS = ("tab:green", "tab:purple", "tab:orange", "tab:brown", "tab:pink", "tab:olive")


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


def _fit(hidden: tuple[int, ...], X, y, random_state: int) -> tuple[MLPClassifier, dict]:
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


def _fit_all(
    hidden: tuple[int, ...], X, y, seed: int, tries: int
) -> tuple[MLPClassifier, list[MLPClassifier], list[dict]]:
    """Train from random_state = seed, seed + 1, ...; return the network with the lowest
    training loss, every network and every initialisation's record."""
    fitted = [_fit(hidden, X, y, rs) for rs in range(seed, seed + tries)]
    models = [m for m, _ in fitted]
    records = [r for _, r in fitted]
    best = models[int(np.argmin([r["loss"] for r in records]))]
    return best, models, records


def _confusion(clf: MLPClassifier, X, y) -> list[list[int]]:
    """Rows: true class 0, 1; columns: predicted class 0, 1."""
    pred = clf.predict(X)
    return [[int(np.sum((y == c) & (pred == p))) for p in (0, 1)] for c in (0, 1)]


def _initialisation_metrics(records: list[dict], best: MLPClassifier) -> dict[str, Any]:
    return {
        "initialisations_tried": len(records),
        "initialisations_solving": sum(r["accuracy"] >= SOLVED for r in records),
        "accuracy_per_initialisation": [r["accuracy"] for r in records],
        "loss_per_initialisation": [r["loss"] for r in records],
        "best_random_state": int(best.random_state),
    }


def _kept_metrics(clf: MLPClassifier, records: list[dict], nodes: int, n: int, acc: float, cm):
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


def _layer_weights(clf: MLPClassifier) -> dict[str, Any]:
    """Hidden nodes' [w1, w2, b] and the output node's [v_1, ..., v_H, c]."""
    layers = clf.net_.layers
    out = layers[-1]
    weights: dict[str, Any] = {"output_weights": [*out.W[:, 0].tolist(), float(out.b[0])]}
    if len(layers) > 1:
        W, b = layers[0].W, layers[0].b
        weights["hidden_weights"] = [[*W[:, j].tolist(), float(b[j])] for j in range(W.shape[1])]
    return weights


# ---------------------------------------------------------------- plotting
def _pct(x: float, digits: int) -> str:
    """A percentage as Portuguese writes it: 99,96%."""
    return f"{x:.{digits}%}".replace(".", ",")


def _grid(X: np.ndarray, steps: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lo, hi = X.min(axis=0) - 0.4, X.max(axis=0) + 0.4
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def _output(clf: MLPClassifier, G: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return clf.predict_proba(G)[:, 1].reshape(shape)


def _hidden(clf: MLPClassifier, G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z and a = f(z) of the first hidden layer, read from the network after a forward pass."""
    clf.net_.forward(G)
    layer = clf.net_.layers[0]
    return layer.z.copy(), layer.a.copy()


def _points(ax, X: np.ndarray, y: np.ndarray, t: T, n: int = 500, legend: bool = True) -> None:
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
        ax.legend(loc="upper right", fontsize=7, framealpha=0.8)


def _line(ax, w: np.ndarray, b: float, xx: np.ndarray, yy: np.ndarray, **kw) -> None:
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


def _region(ax, clf, X, y, xx, yy, G, title: str, t: T) -> None:
    p = _output(clf, G, xx.shape)
    cs = ax.contourf(xx, yy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.contour(xx, yy, p, levels=[0.5], colors="k", linewidths=1.5)
    _points(ax, X, y, t)
    ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label=t("output ŷ", "saída ŷ"))
    ax.set_title(title)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")


def _confusion_panel(ax, cm: list[list[int]], t: T) -> None:
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


def _loss_panel(ax, clf: MLPClassifier, t: T, title: str) -> None:
    ax.semilogy(np.arange(1, len(clf.history_["loss"]) + 1), clf.history_["loss"])
    ax.set_xlabel(t("L-BFGS iteration", "iteração do L-BFGS"))
    ax.set_ylabel(t("cross-entropy (training)", "entropia cruzada (treino)"))
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")


def _surface(ax, xx, yy, Z, title: str, zlabel: str, cmap: str = "RdBu_r") -> None:
    ax.plot_surface(xx, yy, Z, cmap=cmap, linewidth=0, antialiased=False, rcount=40, ccount=40)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_zlabel(zlabel)
    ax.set_title(title)
    ax.view_init(elev=28, azim=-60)


def _weights(clf: MLPClassifier) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """W, b of the hidden layer and v, c of the (single) output node."""
    hidden, out = clf.net_.layers[0], clf.net_.layers[1]
    return hidden.W, hidden.b, out.W[:, 0], float(out.b[0])


def _kept_panels(axes, clf: MLPClassifier, X, y, grid, cm, t: T, labelled: bool) -> None:
    """The kept network's decision region with its hidden nodes' lines z_j = 0, its confusion
    matrix and its training loss, on three axes; ``labelled``: the lines in a legend."""
    xx, yy, G = grid
    acc = float(clf.score(X, y))
    W, b, _, _ = _weights(clf)
    hidden = W.shape[1]
    nodes = hidden + 1
    _region(
        axes[0],
        clf,
        X,
        y,
        xx,
        yy,
        G,
        t(
            f"{hidden} hidden nodes + output: {acc:.2%}",
            f"{hidden} nós ocultos + saída: {_pct(acc, 2)}",
        ),
        t,
    )
    for j in range(hidden):
        kw = {"label": t(f"hidden node {j + 1}: z = 0", f"nó oculto {j + 1}: z = 0")}
        _line(
            axes[0],
            W[:, j],
            b[j],
            xx,
            yy,
            ls="--",
            lw=1.5 if labelled else 1,
            color=_NODE_COLORS[j % len(_NODE_COLORS)],
            **(kw if labelled else {}),
        )
    if labelled:
        axes[0].legend(loc="upper right", fontsize=7, framealpha=0.8)
    _confusion_panel(axes[1], cm, t)
    _loss_panel(
        axes[2],
        clf,
        t,
        t(f"training ({nodes}-node network)", f"treinamento (rede de {nodes} nós)"),
    )


def _initialisations_figure(records: list[dict], t: T, path: Path, what: str, nodes: int) -> None:
    import matplotlib.pyplot as plt

    rs = [r["random_state"] for r in records]
    loss = np.array([r["loss"] for r in records])
    acc = np.array([r["accuracy"] for r in records])
    best = int(np.argmin(loss))
    colors = ["tab:green" if a >= SOLVED else "tab:gray" for a in acc]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.8))
    ax1.bar(range(len(rs)), loss, color=colors)
    ax1.set_yscale("log")
    ax1.set_ylabel(t("final training loss", "perda de treino final"))
    ax2.bar(range(len(rs)), acc, color=colors)
    ax2.axhline(SOLVED, color="k", ls="--", lw=0.8)
    ax2.set_ylim(min(0.4, acc.min() - 0.05), 1.02)
    ax2.set_ylabel(t("training accuracy", "acurácia de treino"))
    for ax in (ax1, ax2):
        ax.set_xticks(range(len(rs)), [str(r) for r in rs], fontsize=7)
        ax.set_xlabel("random_state")
        ax.get_xticklabels()[best].set_fontweight("bold")
        ax.grid(alpha=0.3, axis="y")
    ax1.set_title(
        t("each initialisation ends in its own minimum", "cada inicialização para num mínimo")
    )
    ax2.set_title(
        t(
            f"green: solved (≥ {SOLVED:.0%}); kept: random_state={rs[best]}",
            f"verde: resolvido (≥ {_pct(SOLVED, 0)}); mantida: random_state={rs[best]}",
        )
    )
    n_ok = int(np.sum(acc >= SOLVED))
    fig.suptitle(
        t(
            f"{what} with {nodes} nodes: {n_ok} of {len(rs)} initialisations find the solution "
            "(the others stop in a local minimum)",
            f"{what} com {nodes} nós: {n_ok} de {len(rs)} inicializações encontram a solução "
            "(as outras param num mínimo local)",
        )
    )
    fig.subplots_adjust(wspace=0.22, top=0.8)
    save_figure(fig, path)


# ---------------------------------------------------------------- AND
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
def and_gate(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    n_samples: int = 10_000,
    noise: float = 0.1,
) -> dict[str, Any]:
    """MLPClassifier(hidden_layer_sizes=()) on noisy AND: a single logistic node."""
    import matplotlib.pyplot as plt

    t = T(lang)
    n = min(n_samples, 2000) if quick else n_samples
    X, y = datasets.logic_gate("and", n, noise=noise, seed=seed)
    clf, rec = _fit((), X, y, seed)  # convex: one initialisation suffices
    cm = _confusion(clf, X, y)
    xx, yy, G = _grid(X, steps=70 if quick else 150)

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    _region(
        axes[0],
        clf,
        X,
        y,
        xx,
        yy,
        G,
        t("AND: one node, one linear separator", "AND: um nó, um separador linear"),
        t,
    )
    W, b = clf.net_.layers[0].W[:, 0], float(clf.net_.layers[0].b[0])
    _line(axes[0], W, b, xx, yy, color="k", ls="--", lw=1, label="z = 0")
    _loss_panel(axes[1], clf, t, t("training (L-BFGS)", "treinamento (L-BFGS)"))
    _confusion_panel(axes[2], cm, t)
    fig.suptitle(
        t(
            f"Noisy AND, {n} points: accuracy {clf.score(X, y):.2%} with 1 node",
            f"AND com ruído, {n} pontos: acurácia de {_pct(clf.score(X, y), 2)} com 1 nó",
        )
    )
    fig.subplots_adjust(wspace=0.45, top=0.86)
    save_figure(fig, out_dir / "and_region.png")

    fig = plt.figure(figsize=(7, 5.5))
    ax = fig.add_subplot(projection="3d")
    _surface(
        ax,
        xx,
        yy,
        _output(clf, G, xx.shape),
        t("the single node's output: a smooth threshold", "a saída do único nó: um limiar suave"),
        t("output ŷ", "saída ŷ"),
    )
    save_figure(fig, out_dir / "and_surface.png")

    return {
        "nodes": 1,
        "n_samples": n,
        "accuracy": rec["accuracy"],
        "confusion_matrix": cm,
        "training_loss": rec["loss"],
        "iterations": rec["iterations"],
        "initialisations_tried": 1,
        "weights": {"w1": float(W[0]), "w2": float(W[1]), "b": b},
    }


# ---------------------------------------------------------------- XOR
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
def xor_gate(
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
    import matplotlib.pyplot as plt

    t = T(lang)
    hidden = check_int("hidden", hidden, minimum=1)
    tries = check_int("initialisations", initialisations, minimum=1)
    n = min(n_samples, 1000) if quick else n_samples
    X, y = datasets.logic_gate("xor", n, noise=noise, seed=seed)
    clf, _, records = _fit_all((hidden,), X, y, seed, tries)
    single, single_rec = _fit((), X, y, seed)
    cm = _confusion(clf, X, y)
    acc = float(clf.score(X, y))
    nodes = hidden + 1
    xx, yy, G = _grid(X, steps=70 if quick else 150)
    W, b, v, c = _weights(clf)

    # the decision regions: one node against 3
    fig, axes = plt.subplots(1, 4, figsize=(23, 4.8))
    _region(
        axes[0],
        single,
        X,
        y,
        xx,
        yy,
        G,
        t(
            f"1 node: no line separates XOR ({single_rec['accuracy']:.0%})",
            f"1 nó: nenhuma reta separa o XOR ({_pct(single_rec['accuracy'], 0)})",
        ),
        t,
    )
    _kept_panels(axes[1:], clf, X, y, (xx, yy, G), cm, t, labelled=True)
    fig.subplots_adjust(wspace=0.45)
    save_figure(fig, out_dir / "xor_region.png")

    # the output surfaces
    fig = plt.figure(figsize=(13, 5.5))
    zl = t("output ŷ", "saída ŷ")
    _surface(
        fig.add_subplot(1, 2, 1, projection="3d"),
        xx,
        yy,
        _output(single, G, xx.shape),
        t("single perceptron: one smooth threshold", "um perceptron: um único limiar suave"),
        zl,
    )
    _surface(
        fig.add_subplot(1, 2, 2, projection="3d"),
        xx,
        yy,
        _output(clf, G, xx.shape),
        t(
            f"{nodes} nodes: {hidden} thresholds combined",
            f"{nodes} nós: {hidden} limiares combinados",
        ),
        zl,
    )
    save_figure(fig, out_dir / "xor_surface.png")

    # the hidden nodes: linear separators, and the space they map XOR into
    Z, A = _hidden(clf, G)
    show_space = hidden == 2
    ncols = hidden + 1 + show_space
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 4.8))
    for j in range(hidden):
        ax = axes[j]
        cs = ax.contourf(
            xx, yy, A[:, j].reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="YlGn"
        )
        fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label=f"a{j + 1}")
        _points(ax, X, y, t, n=300, legend=False)
        _line(ax, W[:, j], b[j], xx, yy, color="w", lw=2, ls="--")
        ax.set_title(
            t(
                f"hidden node {j + 1}: a{j + 1} = f(z{j + 1}), line z{j + 1} = 0",
                f"nó oculto {j + 1}: a{j + 1} = f(z{j + 1}), reta z{j + 1} = 0",
            )
        )
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    _region(
        axes[hidden],
        clf,
        X,
        y,
        xx,
        yy,
        G,
        t("output node: f(Σ v_j a_j + c)", "nó de saída: f(Σ v_j a_j + c)"),
        t,
    )
    for j in range(hidden):
        _line(axes[hidden], W[:, j], b[j], xx, yy, ls="--", color=_NODE_COLORS[j % 6])
    if show_space:
        ax = axes[-1]
        clf.net_.forward(X)
        H = clf.net_.layers[0].a
        _points(ax, H, y, t, n=500)
        a_box = np.linspace(-0.05, 1.05, 2)
        _line(ax, v, c, *np.meshgrid(a_box, a_box), color="k", lw=1.5, ls="--")
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
    save_figure(fig, out_dir / "xor_hidden.png")

    _initialisations_figure(records, t, out_dir / "xor_initialisations.png", "XOR", nodes)
    return {
        **_kept_metrics(clf, records, nodes, n, acc, cm),
        "single_perceptron_accuracy": single_rec["accuracy"],
        "single_perceptron_confusion_matrix": _confusion(single, X, y),
        **_initialisation_metrics(records, clf),
        **_layer_weights(clf),
    }


# ---------------------------------------------------------------- circles
def _opposite_pairs(u: np.ndarray) -> list[tuple[int, ...]]:
    """Group the nodes (columns of unit vectors u) into pairs pointing most oppositely.

    Exhaustive over the pairings for up to 8 nodes (105 pairings), greedy beyond; with an
    odd count one node stays alone.
    """
    cos = u.T @ u
    nodes = list(range(u.shape[1]))

    def pairings(items: list[int]):
        if len(items) < 2:
            yield [tuple(items)] if items else []
            return
        if len(items) % 2:
            for k in items:
                rest = [i for i in items if i != k]
                for p in pairings(rest):
                    yield [*p, (k,)]
            return
        first = items[0]
        for k in items[1:]:
            rest = [i for i in items[1:] if i != k]
            for p in pairings(rest):
                yield [(first, k), *p]

    def cost(pairing) -> float:
        return sum(cos[p[0], p[1]] for p in pairing if len(p) == 2)

    if len(nodes) <= 8:
        return sorted(min(pairings(nodes), key=cost))
    pairs, left = [], set(nodes)
    for j, k in sorted(combinations(nodes, 2), key=lambda jk: cos[jk]):
        if j in left and k in left:
            pairs.append((j, k))
            left -= {j, k}
    return sorted(pairs + [(k,) for k in left])


def _pair_analysis(clf: MLPClassifier, X: np.ndarray) -> dict[str, Any]:
    """How the hidden thresholds of ``clf`` pair up into ridges.

    ``rising[:, j]``: the unit direction in which node j's term v_j a_j(x) grows;
    ``groups``: the nodes paired most oppositely; ``cosines``: cos between the two
    directions of each pair (-1: exactly opposite); ``active``: the node's line
    z_j = 0 crosses the data (at least 2% of the points on each side).
    """
    W, b = clf.net_.layers[0].W, clf.net_.layers[0].b
    v = clf.net_.layers[1].W[:, 0]
    rising = W * np.sign(v) / np.linalg.norm(W, axis=0)
    groups = _opposite_pairs(rising)
    pairs = [g for g in groups if len(g) == 2]
    cosines = [float(rising[:, j] @ rising[:, k]) for j, k in pairs]
    side = (X @ W + b) > 0
    active = np.minimum(side.mean(axis=0), 1 - side.mean(axis=0)) >= 0.02
    across = [rising[:, j] - rising[:, k] for j, k in pairs]
    angle = None
    if len(across) >= 2:
        n1, n2 = (a / np.linalg.norm(a) for a in across[:2])
        angle = float(np.degrees(np.arccos(min(1.0, abs(float(n1 @ n2))))))
    return {
        "rising": rising,
        "groups": groups,
        "cosines": cosines,
        "angle": angle,
        "opposite": sum(c <= OPPOSITE_COS for c in cosines),
        "builds_lecture_construction": bool(
            pairs
            and all(len(g) == 2 for g in groups)
            and max(cosines) <= OPPOSITE_COS
            and active.all()
        ),
    }


def _construction_network(
    clf: MLPClassifier, models: list[MLPClassifier], records: list[dict], X: np.ndarray
) -> tuple[MLPClassifier, dict[str, Any], int]:
    """The network whose hidden nodes show the lecture's construction best.

    The kept network if its thresholds pair up into opposite pairs; otherwise the solving
    initialisation (accuracy >= SOLVED, every node active) with the most opposite pairs.
    Also returns how many solving initialisations build the construction.
    """
    kept = _pair_analysis(clf, X)
    candidates = []
    for model, rec in zip(models, records, strict=True):
        if rec["accuracy"] >= SOLVED:
            pa = _pair_analysis(model, X)
            if pa["builds_lecture_construction"]:
                candidates.append((max(pa["cosines"]), rec["loss"], model, pa))
    if kept["builds_lecture_construction"] or not candidates:
        return clf, kept, len(candidates)
    _, _, model, pa = min(candidates, key=lambda c: (c[0], c[1]))
    return model, pa, len(candidates)


@register(
    "circles",
    section="7",
    order=3,
    title={
        "en": "Concentric circles: one hidden layer of 4 logistic nodes (5 in total)",
        "pt": "Círculos concêntricos: uma camada oculta de 4 nós logísticos (5 no total)",
    },
    claim={
        "en": "One hidden layer of 4 nodes separates concentric circles: each hidden node is a "
        "smooth threshold, two opposite thresholds add up to a ridge (a wave), and two "
        "perpendicular ridges add up to a bump over the inner circle.",
        "pt": "Uma camada oculta de 4 nós separa círculos concêntricos: cada nó oculto é um "
        "limiar suave, dois limiares opostos somam-se numa crista (uma onda) e duas cristas "
        "perpendiculares somam-se numa elevação sobre o círculo interno.",
    },
)
def circles(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    n_samples: int = 1000,
    noise: float = 0.1,
    factor: float = 0.2,
    hidden: int = 4,
    initialisations: int = 20,
) -> dict[str, Any]:
    """MLPClassifier(hidden_layer_sizes=(4,)) on sklearn's make_circles, best of several
    initialisations, with the lecture's threshold -> ridge -> bump construction."""
    import matplotlib.pyplot as plt
    from sklearn.datasets import make_circles

    t = T(lang)
    hidden = check_int("hidden", hidden, minimum=1)
    tries = check_int("initialisations", initialisations, minimum=1)
    n = min(n_samples, 500) if quick else n_samples
    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    clf, models, records = _fit_all((hidden,), X, y, seed, tries)
    cm = _confusion(clf, X, y)
    acc = float(clf.score(X, y))
    nodes = hidden + 1
    xx, yy, G = _grid(X, steps=70 if quick else 120)

    # the decision region
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8))
    _kept_panels(axes, clf, X, y, (xx, yy, G), cm, t, labelled=False)
    fig.subplots_adjust(wspace=0.45)
    save_figure(fig, out_dir / "circles_region.png")

    fig = plt.figure(figsize=(7, 5.5))
    _surface(
        fig.add_subplot(projection="3d"),
        xx,
        yy,
        _output(clf, G, xx.shape),
        t(f"output of the {nodes}-node network", f"saída da rede de {nodes} nós"),
        t("output ŷ", "saída ŷ"),
    )
    save_figure(fig, out_dir / "circles_surface.png")

    # the lecture's construction, in the network that shows it (the kept one if it does)
    kept_pa = _pair_analysis(clf, X)
    net, pa, n_building = _construction_network(clf, models, records, X)
    rs_c = int(net.random_state)
    if net is clf:
        whose = t(
            f"the kept network (random_state={rs_c})", f"a rede mantida (random_state={rs_c})"
        )
    else:
        whose = t(
            f"random_state={rs_c}, also {net.score(X, y):.0%} accurate: the kept network "
            f"(random_state={clf.random_state}) pairs its thresholds less oppositely",
            f"random_state={rs_c}, também com {_pct(net.score(X, y), 0)} de acurácia: "
            f"a rede mantida (random_state={clf.random_state}) forma pares menos opostos",
        )
    W, b, v, c = _weights(net)
    Z, A = _hidden(net, G)

    # each hidden node: a smooth threshold across its line z_j = 0
    fig, axes = plt.subplots(1, hidden, figsize=(4.6 * hidden, 4.4), squeeze=False)
    for j, ax in enumerate(axes[0]):
        cs = ax.contourf(
            xx, yy, A[:, j].reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="YlGn"
        )
        if j == hidden - 1:
            fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="a_j")
        _points(ax, X, y, t, n=300, legend=False)
        _line(ax, W[:, j], b[j], xx, yy, color="k", lw=1.5, ls="--")
        w = W[:, j]
        foot = -b[j] * w / (w @ w)  # the line's point nearest the origin
        step = 0.5 * w / np.linalg.norm(w)
        ax.annotate("", xy=foot + step, xytext=foot, arrowprops={"arrowstyle": "->", "lw": 2})
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        v_txt = f"{v[j]:.3g}"
        ax.set_title(
            t(
                f"hidden node {j + 1}: a{j + 1}; output weight v{j + 1} = {v_txt}",
                f"nó oculto {j + 1}: a{j + 1}; peso de saída v{j + 1} = {v_txt.replace('.', ',')}",
            ),
            fontsize=10,
        )
    fig.suptitle(
        t(
            "Each hidden node is a smooth threshold: a_j rises from 0 to 1 across its line "
            f"z_j = 0, in the arrow's direction\n{whose}",
            "Cada nó oculto é um limiar suave: a_j sobe de 0 a 1 ao cruzar sua reta z_j = 0, "
            f"no sentido da seta\n{whose}",
        )
    )
    fig.subplots_adjust(wspace=0.3, top=0.82)
    save_figure(fig, out_dir / "circles_hidden.png")

    # thresholds -> ridges -> bump, in the output node's weighted sum
    contrib = A * v  # v_j a_j(x), one column per hidden node
    rising, groups = pa["rising"], pa["groups"]
    first = groups[0][0]
    panels = [
        (
            contrib[:, first],
            (first,),
            t(
                f"one node: v{first + 1} a{first + 1}\n(a smooth threshold)",
                f"um nó: v{first + 1} a{first + 1}\n(um limiar suave)",
            ),
        )
    ]
    for g in groups:
        names = " + ".join(f"v{k + 1} a{k + 1}" for k in g)
        if len(g) == 1:
            panels.append((contrib[:, g[0]], g, t(f"unpaired: {names}", f"sem par: {names}")))
            continue
        cos_txt = f"{float(rising[:, g[0]] @ rising[:, g[1]]):.2f}"
        if float(cos_txt) <= OPPOSITE_COS:
            title = t(
                f"ridge (wave): {names}\nopposite thresholds, cos = {cos_txt}",
                f"onda (crista): {names}\nlimiares opostos, cos = {cos_txt.replace('.', ',')}",
            )
        else:
            title = t(
                f"pair: {names}\nnot opposite (cos = {cos_txt}): a bent ridge",
                f"par: {names}\nnão opostos (cos = {cos_txt.replace('.', ',')}): crista dobrada",
            )
        panels.append((contrib[:, list(g)].sum(axis=1), g, title))
    panels.append(
        (
            contrib.sum(axis=1) + c,
            tuple(range(hidden)),
            t(
                "the whole sum Σ v_j a_j + c:\na bump",
                "a soma inteira Σ v_j a_j + c:\numa elevação",
            ),
        )
    )
    k = len(panels)
    fig = plt.figure(figsize=(4.8 * k, 9))
    for i, (vals, members, title) in enumerate(panels):
        Zs = vals.reshape(xx.shape)
        _surface(
            fig.add_subplot(2, k, i + 1, projection="3d"),
            xx,
            yy,
            Zs,
            title,
            t("weighted sum", "soma ponderada"),
            cmap="viridis",
        )
        ax = fig.add_subplot(2, k, k + i + 1)
        ax.contourf(xx, yy, Zs, levels=15, cmap="viridis")
        for j in members:
            _line(ax, W[:, j], b[j], xx, yy, color="w", lw=1, ls="--")
        if i == k - 1:
            ax.contour(xx, yy, Zs, levels=[0.0], colors="r", linewidths=2)
            _points(ax, X, y, t, n=300)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    angle_txt = "" if pa["angle"] is None else f"{pa['angle']:.0f}°"
    fig.suptitle(
        t(
            "Inside the output node: opposite thresholds add up to ridges (waves), "
            f"perpendicular ridges to a bump (angle between the ridges: {angle_txt})\n"
            f"{whose}\n(dashed: the nodes' lines z_j = 0; red: Σ = 0, the decision boundary)",
            "Dentro do nó de saída: limiares opostos somam-se em ondas (cristas), ondas "
            f"perpendiculares numa elevação (ângulo entre as ondas: {angle_txt})\n{whose}\n"
            "(tracejado: as retas z_j = 0 dos nós; vermelho: Σ = 0, a fronteira de decisão)",
        )
    )
    fig.subplots_adjust(wspace=0.25, hspace=0.15, top=0.86)
    save_figure(fig, out_dir / "circles_construction.png")

    _initialisations_figure(
        records, t, out_dir / "circles_initialisations.png", t("Circles", "Círculos"), nodes
    )
    return {
        **_kept_metrics(clf, records, nodes, n, acc, cm),
        **_initialisation_metrics(records, clf),
        # the kept network's thresholds, paired most oppositely
        "ridge_pairs": [[j + 1 for j in g] for g in kept_pa["groups"]],
        "ridge_pair_cosines": kept_pa["cosines"],
        "opposite_pairs": kept_pa["opposite"],
        "ridge_angle_degrees": kept_pa["angle"],
        # the network drawn in circles_hidden.png and circles_construction.png
        "construction_random_state": rs_c,
        "construction_is_kept_network": net is clf,
        "construction_ridge_pairs": [[j + 1 for j in g] for g in groups],
        "construction_pair_cosines": pa["cosines"],
        "construction_ridge_angle_degrees": pa["angle"],
        "initialisations_building_construction": n_building,
        **_layer_weights(clf),
    }
