"""``circles`` (lecture section 7): concentric circles, one hidden layer of 4 nodes (5 in
total): each hidden node is a smooth threshold, two opposite thresholds add up to a ridge
("wave"), two perpendicular ridges add up to a bump.

It trains from several initialisations and keeps the best (see
:mod:`mlplab.experiments._logic`).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_int
from mlplab.experiments._logic import (
    SOLVED,
    confusion,
    fit_all,
    grid,
    initialisation_metrics,
    initialisations_figure,
    kept_metrics,
    kept_panels,
    layer_weights,
    line,
    points,
    surface,
    view,
)
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T
from mlplab.sklearn.estimators import MLPClassifier

OPPOSITE_COS = -0.8  # two thresholds rising in directions this opposite (>= 143 deg) make a ridge


def opposite_pairs(u: np.ndarray) -> list[tuple[int, ...]]:
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
    groups = opposite_pairs(rising)
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


def compute(
    *,
    seed: int,
    quick: bool,
    n_samples: int,
    noise: float,
    factor: float,
    hidden: int,
    initialisations: int,
) -> Result:
    """The kept network, and the network showing the lecture's construction (see :func:`run`)."""
    from sklearn.datasets import make_circles

    hidden = check_int("hidden", hidden, minimum=1)
    tries = check_int("initialisations", initialisations, minimum=1)
    n = min(n_samples, 500) if quick else n_samples
    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    clf, models, records = fit_all((hidden,), X, y, seed, tries)
    cm = confusion(clf, X, y)
    acc = float(clf.score(X, y))
    nodes = hidden + 1
    xx, yy, G = grid(X, steps=70 if quick else 120)
    # the lecture's construction, in the network that shows it (the kept one if it does)
    kept_pa = _pair_analysis(clf, X)
    net, pa, n_building = _construction_network(clf, models, records, X)
    rs_c = int(net.random_state)
    metrics = {
        **kept_metrics(clf, records, nodes, n, acc, cm),
        **initialisation_metrics(records, clf),
        # the kept network's thresholds, paired most oppositely
        "ridge_pairs": [[j + 1 for j in g] for g in kept_pa["groups"]],
        "ridge_pair_cosines": kept_pa["cosines"],
        "opposite_pairs": kept_pa["opposite"],
        "ridge_angle_degrees": kept_pa["angle"],
        # the network drawn in circles_hidden.png and circles_construction.png
        "construction_random_state": rs_c,
        "construction_is_kept_network": net is clf,
        "construction_ridge_pairs": [[j + 1 for j in g] for g in pa["groups"]],
        "construction_pair_cosines": pa["cosines"],
        "construction_ridge_angle_degrees": pa["angle"],
        "initialisations_building_construction": n_building,
        **layer_weights(clf),
    }
    data = {
        "X": X,
        "y": y,
        "xx": xx,
        "yy": yy,
        "kept": view(clf, X, y, G, xx.shape),
        "kept_random_state": int(clf.random_state),
        "construction": view(net, X, y, G, xx.shape),
        "pair_analysis": pa,
        "records": records,
    }
    return Result(metrics, data)


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``circles_region.png``, ``circles_surface.png``, ``circles_hidden.png``,
    ``circles_construction.png`` and ``circles_initialisations.png``."""
    import matplotlib.pyplot as plt

    d, m = result.data, result.metrics
    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    nodes = m["nodes"]
    # the decision region
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8))
    kept_panels(axes, d["kept"], X, y, xx, yy, t, labelled=False)
    fig.subplots_adjust(wspace=0.45)
    save_figure(fig, out_dir / "circles_region.png")

    fig = plt.figure(figsize=(7, 5.5))
    surface(
        fig.add_subplot(projection="3d"),
        xx,
        yy,
        d["kept"]["p"],
        t(f"output of the {nodes}-node network", f"saída da rede de {nodes} nós"),
        t("output ŷ", "saída ŷ"),
    )
    save_figure(fig, out_dir / "circles_surface.png")

    whose = _whose(d, m, t)
    _hidden_figure(d, whose, t, out_dir / "circles_hidden.png")
    _construction_figure(d, whose, t, out_dir / "circles_construction.png")
    initialisations_figure(
        d["records"], t, out_dir / "circles_initialisations.png", t("Circles", "Círculos"), nodes
    )


def _whose(d: dict[str, Any], m: dict[str, Any], t: T) -> str:
    """Which network the construction figures show, and why."""
    rs_c, rs_kept = m["construction_random_state"], d["kept_random_state"]
    if m["construction_is_kept_network"]:
        return t(f"the kept network (random_state={rs_c})", f"a rede mantida (random_state={rs_c})")
    acc = d["construction"]["accuracy"]
    return t(
        f"random_state={rs_c}, also {acc:.0%} accurate: the kept network "
        f"(random_state={rs_kept}) pairs its thresholds less oppositely",
        f"random_state={rs_c}, também com {t.num(acc, '.0%')} de acurácia: "
        f"a rede mantida (random_state={rs_kept}) forma pares menos opostos",
    )


def _hidden_figure(d: dict[str, Any], whose: str, t: T, path: Path) -> None:
    """Each hidden node: a smooth threshold across its line z_j = 0."""
    import matplotlib.pyplot as plt

    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    net = d["construction"]
    W, b, v, A = net["W"], net["b"], net["v"], net["A"]
    hidden = W.shape[1]
    fig, axes = plt.subplots(1, hidden, figsize=(4.6 * hidden, 4.4), squeeze=False)
    for j, ax in enumerate(axes[0]):
        cs = ax.contourf(
            xx, yy, A[:, j].reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="YlGn"
        )
        if j == hidden - 1:
            fig.colorbar(cs, ax=ax, fraction=0.046, pad=0.04, label="a_j")
        points(ax, X, y, t, n=300, legend=False)
        line(ax, W[:, j], b[j], xx, yy, color="k", lw=1.5, ls="--")
        w = W[:, j]
        foot = -b[j] * w / (w @ w)  # the line's point nearest the origin
        step = 0.5 * w / np.linalg.norm(w)
        ax.annotate("", xy=foot + step, xytext=foot, arrowprops={"arrowstyle": "->", "lw": 2})
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        v_txt = t.num(v[j], ".3g")
        ax.set_title(
            t(
                f"hidden node {j + 1}: a{j + 1}; output weight v{j + 1} = {v_txt}",
                f"nó oculto {j + 1}: a{j + 1}; peso de saída v{j + 1} = {v_txt}",
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
    save_figure(fig, path)


def _construction_panels(d: dict[str, Any], t: T) -> list[tuple]:
    """(values on the grid, member nodes, title) of each panel of the construction:
    one threshold, each pair of thresholds (a ridge), the whole weighted sum (a bump)."""
    net, pa = d["construction"], d["pair_analysis"]
    A, v, c = net["A"], net["v"], net["c"]
    hidden = A.shape[1]
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
        cos = float(rising[:, g[0]] @ rising[:, g[1]])
        cos_txt = t.num(cos, ".2f")
        if float(f"{cos:.2f}") <= OPPOSITE_COS:
            title = t(
                f"ridge (wave): {names}\nopposite thresholds, cos = {cos_txt}",
                f"onda (crista): {names}\nlimiares opostos, cos = {cos_txt}",
            )
        else:
            title = t(
                f"pair: {names}\nnot opposite (cos = {cos_txt}): a bent ridge",
                f"par: {names}\nnão opostos (cos = {cos_txt}): crista dobrada",
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
    return panels


def _construction_figure(d: dict[str, Any], whose: str, t: T, path: Path) -> None:
    """Inside the output node: thresholds -> ridges -> bump, in its weighted sum."""
    import matplotlib.pyplot as plt

    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    W, b, pa = d["construction"]["W"], d["construction"]["b"], d["pair_analysis"]
    panels = _construction_panels(d, t)
    k = len(panels)
    fig = plt.figure(figsize=(4.8 * k, 9))
    for i, (vals, members, title) in enumerate(panels):
        Zs = vals.reshape(xx.shape)
        surface(
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
            line(ax, W[:, j], b[j], xx, yy, color="w", lw=1, ls="--")
        if i == k - 1:
            ax.contour(xx, yy, Zs, levels=[0.0], colors="r", linewidths=2)
            points(ax, X, y, t, n=300)
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
    save_figure(fig, path)


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
def run(
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
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        n_samples=n_samples,
        noise=noise,
        factor=factor,
        hidden=hidden,
        initialisations=initialisations,
    )
    draw(result, t, out_dir)
    return result.metrics
