"""``circles`` (lecture section 7): concentric circles, one hidden layer of 4 nodes (5 in
total): each hidden node is a smooth threshold, two opposite thresholds add up to a ridge
("wave"), two perpendicular ridges add up to a bump.

It trains from several initialisations and keeps the best (see
:mod:`mlplab.experiments._logic`).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from textwrap import fill
from typing import Any

import numpy as np

from mlplab._checks import check_int
from mlplab.experiments._logic import (
    KEPT_LABELS,
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
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.sklearn.estimators import MLPClassifier

WRAP = 100  # characters per line of a figure's title
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
        "construction_accuracy": float(net.score(X, y)),
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
    fig = plt.figure(figsize=(10, 6.4))
    gs = fig.add_gridspec(2, 2, width_ratios=(1.5, 1), hspace=0.55, wspace=0.35)
    axes = [fig.add_subplot(gs[:, 0]), fig.add_subplot(gs[1, 1]), fig.add_subplot(gs[0, 1])]
    kept_panels(axes, d["kept"], X, y, xx, yy, t, labelled=True)
    save_figure(fig, out_dir / "circles_region.png")

    fig = plt.figure(figsize=(7, 5.5))
    surface(
        fig.add_subplot(projection="3d"),
        xx,
        yy,
        d["kept"]["p"],
        t(f"output of the {nodes}-node network", f"saída da rede de {nodes} nós"),
        t("output ŷ", "saída ŷ"),
        zlim=(0, 1),
    )
    save_figure(fig, out_dir / "circles_surface.png")

    whose = _whose(d, m, t)
    _hidden_figure(d, whose, t, out_dir / "circles_hidden.png")
    _construction_figure(d, whose, t, out_dir / "circles_construction.png")
    initialisations_figure(
        d["records"], t, out_dir / "circles_initialisations.png", t("Circles", "Círculos"), nodes
    )


def _whose(d: dict[str, Any], m: dict[str, Any], t: T) -> str:
    """Which network the construction figures show, and why, in words for a student."""
    rs_c, rs_kept = m["construction_random_state"], d["kept_random_state"]
    if m["construction_is_kept_network"]:
        return t(
            f"Network shown: the kept one (initialisation {rs_c}, the lowest loss).",
            f"Rede mostrada: a mantida (inicialização {rs_c}, a menor perda).",
        )
    acc = m["construction_accuracy"]
    return t(
        f"Network shown: initialisation {rs_c}, also {acc:.0%} correct, because its nodes pair "
        "up facing opposite ways, as in the lecture. The kept network (initialisation "
        f"{rs_kept}, the lowest loss) solves the task too, but its nodes are not paired so "
        "neatly.",
        f"Rede mostrada: a inicialização {rs_c}, também com {t.num(acc, '.0%')} de acertos, "
        "porque seus nós formam pares voltados para lados opostos, como na aula. A rede "
        f"mantida (inicialização {rs_kept}, a menor perda) também resolve a tarefa, mas seus "
        "nós não formam pares tão claros.",
    )


def _hidden_figure(d: dict[str, Any], whose: str, t: T, path: Path) -> None:
    """Each hidden node: a smooth threshold across its line z_j = 0."""
    import matplotlib.pyplot as plt

    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    net, pa = d["construction"], d["pair_analysis"]
    W, b, v, A = net["W"], net["b"], net["v"], net["A"]
    partner = {j: g[1 - i] for g in pa["groups"] if len(g) == 2 for i, j in enumerate(g)}
    hidden = W.shape[1]
    cols = min(hidden, 2)
    rows = (hidden + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols + 1, 4.4 * rows + 1), squeeze=False)
    for ax in axes.ravel()[hidden:]:
        ax.set_visible(False)
    for j, ax in enumerate(axes.ravel()[:hidden]):
        cs = ax.contourf(
            xx, yy, A[:, j].reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="YlGn"
        )
        points(ax, X, y, t, n=300, legend=False)
        line(ax, W[:, j], b[j], xx, yy, color="k", lw=1.5, ls="--")
        w = W[:, j]
        foot = -b[j] * w / (w @ w)  # the line's point nearest the origin
        step = 0.5 * pa["rising"][:, j]  # where v_j a_j rises
        ax.annotate("", xy=foot + step, xytext=foot, arrowprops={"arrowstyle": "->", "lw": 2})
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
        v_txt = t.num(v[j], ".3g")
        pair = (
            t(f", pairs with node {partner[j] + 1}", f", par do nó {partner[j] + 1}")
            if j in partner
            else ""
        )
        ax.set_title(
            t(
                f"hidden node {j + 1}: a{j + 1}\nv{j + 1} = {v_txt}{pair}",
                f"nó oculto {j + 1}: a{j + 1}\nv{j + 1} = {v_txt}{pair}",
            )
        )
    fig.suptitle(
        t(
            "Each hidden node is a smooth threshold: a_j (green) rises from 0 to 1 across its "
            "dashed line.\nThe arrow points where the node's share v_j a_j of the output's sum "
            "rises (v_j < 0 turns it around);\npaired nodes point opposite ways.",
            "Cada nó oculto é um limiar suave: a_j (verde) sobe de 0 a 1 ao cruzar sua reta "
            "tracejada.\nA seta aponta para onde sua parcela v_j a_j da soma da saída cresce "
            "(v_j < 0 a inverte);\nnós em par apontam para lados opostos.",
        )
        + "\n"
        + fill(whose, WRAP),
        fontsize=10,
    )
    fig.subplots_adjust(wspace=0.3, hspace=0.45, top=0.78, right=0.86)
    fig.colorbar(cs, cax=fig.add_axes((0.9, 0.25, 0.02, 0.4)), label="a_j")
    save_figure(fig, path)


def _apart(cos: float) -> float:
    """The angle in degrees between two unit directions whose cosine is ``cos``."""
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _construction_panels(d: dict[str, Any], t: T) -> list[tuple]:
    """(values on the grid, member nodes, title) of each step of the construction:
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
                f"one node: v{first + 1} a{first + 1},\na smooth threshold (a step)",
                f"um nó: v{first + 1} a{first + 1},\num limiar suave (um degrau)",
            ),
        )
    ]
    for g in groups:
        names = " + ".join(f"v{k + 1} a{k + 1}" for k in g)
        if len(g) == 1:
            panels.append((contrib[:, g[0]], g, t(f"unpaired: {names}", f"sem par: {names}")))
            continue
        cos = float(rising[:, g[0]] @ rising[:, g[1]])
        deg = f"{_apart(cos):.0f}°"
        if cos <= OPPOSITE_COS:
            title = t(
                f"{names}: two steps facing opposite\nways ({deg} apart) make a ridge (a wave)",
                f"{names}: dois degraus em sentidos\nopostos ({deg}) formam uma crista (onda)",
            )
        else:
            title = t(
                f"{names}: two steps only {deg} apart,\nnot opposite: a bent ridge",
                f"{names}: dois degraus a só {deg},\nnão opostos: uma crista dobrada",
            )
        panels.append((contrib[:, list(g)].sum(axis=1), g, title))
    panels.append(
        (
            contrib.sum(axis=1) + c,
            tuple(range(hidden)),
            t(
                "the whole sum Σ v_j a_j + c:\ntwo crossing ridges make a bump",
                "a soma inteira Σ v_j a_j + c:\nduas cristas cruzadas formam uma elevação",
            ),
        )
    )
    return panels


def _construction_figure(d: dict[str, Any], whose: str, t: T, path: Path) -> None:
    """Inside the output node: thresholds -> ridges -> bump, in its weighted sum; one step
    per row, as a surface (left) and seen from above (right)."""
    import matplotlib.pyplot as plt

    X, y, xx, yy = d["X"], d["y"], d["xx"], d["yy"]
    W, b, pa = d["construction"]["W"], d["construction"]["b"], d["pair_analysis"]
    panels = _construction_panels(d, t)
    k = len(panels)
    fig = plt.figure(figsize=(10, 3.9 * k + 1.4))
    for i, (vals, members, title) in enumerate(panels):
        Zs = vals.reshape(xx.shape)
        surface(
            fig.add_subplot(k, 2, 2 * i + 1, projection="3d"),
            xx,
            yy,
            Zs,
            title,
            t("weighted sum", "soma ponderada"),
            cmap="viridis",
        )
        ax = fig.add_subplot(k, 2, 2 * i + 2)
        ax.contourf(xx, yy, Zs, levels=15, cmap="viridis")
        for j in members:
            line(ax, W[:, j], b[j], xx, yy, color="w", lw=1, ls="--")
        if i == k - 1:
            ax.contour(xx, yy, Zs, levels=[0.0], colors="r", linewidths=2)
            points(ax, X, y, t, n=300)
            ax.set_title(
                t(
                    "seen from above; red: Σ = 0,\nthe decision boundary",
                    "vista de cima; vermelho: Σ = 0,\na fronteira de decisão",
                )
            )
        else:
            ax.set_title(t("seen from above", "vista de cima"))
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    angle_txt = "" if pa["angle"] is None else f" ({pa['angle']:.0f}° apart)"
    angle_pt = "" if pa["angle"] is None else f" ({pa['angle']:.0f}° entre si)"
    fig.suptitle(
        t(
            "Inside the output node: two steps facing opposite ways add up to a ridge,\n"
            f"two crossing ridges{angle_txt} add up to a bump over the inner circle\n"
            "(dashed: the nodes' lines z_j = 0)",
            "Dentro do nó de saída: dois degraus em sentidos opostos somam-se numa crista,\n"
            f"duas cristas cruzadas{angle_pt} somam-se numa elevação sobre o círculo interno\n"
            "(tracejado: as retas z_j = 0 dos nós)",
        )
        + "\n\n"
        + fill(whose, WRAP),
        fontsize=10,
    )
    height = 3.9 * k + 1.4
    fig.subplots_adjust(wspace=0.15, hspace=0.45, top=1 - 2.1 / height)
    save_figure(fig, path)


def _pairs_text(pairs: list[list[int]], cosines: list[float], t: T) -> str:
    """ "nodes 1 + 4: 164° apart; nodes 2 + 3: 175° apart" (only the pairs)."""
    two = [p for p in pairs if len(p) == 2]
    return "; ".join(
        t(f"nodes {a} + {b}: {_apart(c):.0f}° apart", f"nós {a} + {b}: {_apart(c):.0f}° entre si")
        for (a, b), c in zip(two, cosines, strict=True)
    )


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claim, checked: 4 hidden nodes separate the circles, as two pairs of
    opposite thresholds (two ridges) crossing at about a right angle (a bump)."""
    acc, n, nodes = m["accuracy"], m["n_samples"], m["nodes"]
    cosines = m["construction_pair_cosines"]
    angle = m["construction_ridge_angle_degrees"]
    tried, solving = m["initialisations_tried"], m["initialisations_solving"]
    building = m["initialisations_building_construction"]
    opposite = f"{_apart(OPPOSITE_COS):.0f}°"
    return [
        Row(
            t(
                f"accuracy with {nodes - 1} hidden nodes + output",
                f"acurácia com {nodes - 1} nós ocultos + saída",
            ),
            t(
                "one hidden layer of 4 nodes separates the circles (we check ≥ 99 %)",
                "uma camada oculta de 4 nós separa os círculos (verificamos ≥ 99 %)",
            ),
            t(f"{acc:.2%} of {n} points", f"{t.num(acc, '.2%')} de {n} pontos"),
            acc >= 0.99,
        ),
        Row(
            t("pairs of opposite thresholds (ridges)", "pares de limiares opostos (cristas)"),
            t(
                "the 4 thresholds pair up facing opposite ways, each pair a ridge (we count a "
                f"pair as opposite when ≥ {opposite} apart)",
                "os 4 limiares formam pares em sentidos opostos, cada par uma crista (contamos "
                f"um par como oposto com ≥ {opposite} entre si)",
            ),
            _pairs_text(m["construction_ridge_pairs"], cosines, t) or t("no pair", "nenhum par"),
            len(cosines) >= 2 and max(cosines) <= OPPOSITE_COS,
        ),
        Row(
            t("angle between the two ridges", "ângulo entre as duas cristas"),
            t(
                "perpendicular ridges add up to a bump: about 90° (we check ≥ 60°)",
                "cristas perpendiculares somam-se numa elevação: cerca de 90° (verificamos ≥ 60°)",
            ),
            "—" if angle is None else f"{angle:.0f}°",
            angle is not None and angle >= 60,
        ),
        Row(
            t("initialisations that solve the circles", "inicializações que resolvem os círculos"),
            t(
                "with so few nodes some stop in a local minimum; at least one of them solves it",
                "com tão poucos nós algumas param num mínimo local; ao menos uma resolve",
            ),
            t(f"{solving} of {tried}", f"{solving} de {tried}"),
            solving >= 1,
        ),
        Row(
            t(
                "solving initialisations that build the lecture's construction",
                "inicializações que resolvem e fazem a construção da aula",
            ),
            t(
                "it is one way to solve the task, not the only one: at least one builds it",
                "é uma maneira de resolver a tarefa, não a única: ao menos uma a faz",
            ),
            t(f"{building} of {solving}", f"{building} de {solving}"),
            building >= 1,
        ),
        Row(
            t("the kept network (lowest loss)", "a rede mantida (menor perda)"),
            t(
                "any solution is fine; its thresholds need not pair up neatly",
                "qualquer solução serve; seus limiares não precisam formar pares claros",
            ),
            _pairs_text(m["ridge_pairs"], m["ridge_pair_cosines"], t) or t("no pair", "nenhum par"),
            None,
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    acc, nodes, n = m["accuracy"], m["nodes"], m["n_samples"]
    tried, solving = m["initialisations_tried"], m["initialisations_solving"]
    rs_c, rs_kept = m["construction_random_state"], m["best_random_state"]
    if m["construction_is_kept_network"]:
        shown = t(
            f"the kept network (initialisation {rs_c})",
            f"da rede mantida (inicialização {rs_c})",
        )
    else:
        shown = t(
            f"initialisation {rs_c}, chosen over the kept one ({rs_kept}) because its nodes "
            "pair up more clearly",
            f"da inicialização {rs_c}, escolhida em vez da mantida ({rs_kept}) porque seus nós "
            "formam pares mais claros",
        )
    return {
        "circles_region.png": t(
            f"Left: the output ŷ of the kept {nodes}-node network; its black line ŷ = 0.5 is a "
            f"closed curve around the inner circle, and {acc:.2%} of the {n} points fall on "
            "their side (confusion matrix, bottom right). The dashed lines are the hidden "
            "nodes' lines z = 0: the curve is a rounded polygon bounded by those that cross "
            "the data.",
            f"À esquerda: a saída ŷ da rede de {nodes} nós mantida; sua linha preta ŷ = 0,5 é "
            f"uma curva fechada em volta do círculo interno, e {t.num(acc, '.2%')} dos {n} "
            "pontos caem do seu lado (matriz de confusão, embaixo à direita). As retas "
            "tracejadas são as retas z = 0 dos nós ocultos: a curva é um polígono arredondado "
            "limitado pelas que cruzam os dados.",
        ),
        "circles_surface.png": t(
            "The same output ŷ as a surface: a plateau near 1 over the inner circle, falling "
            "to 0 all around; one hidden layer built this closed bump out of straight steps.",
            "A mesma saída ŷ como superfície: um platô perto de 1 sobre o círculo interno, "
            "caindo a 0 em toda a volta; uma camada oculta construiu essa elevação fechada a "
            "partir de degraus retos.",
        ),
        "circles_hidden.png": t(
            f"The hidden nodes of {shown}. Each one is a step across its own straight line "
            "(green: a_j near 1). The arrows show where each node raises the output's sum: "
            "the two nodes of a pair point opposite ways, and all four point towards the inner "
            "circle.",
            f"Os nós ocultos {shown}. Cada um é um degrau ao cruzar sua própria reta (verde: "
            "a_j perto de 1). As setas mostram para onde cada nó eleva a soma da saída: os dois "
            "nós de um par apontam para lados opostos, e os quatro apontam para o círculo "
            "interno.",
        ),
        "circles_construction.png": t(
            f"Read it from top to bottom (network: {shown}). One node's share of the output's "
            "sum is a step; two steps facing opposite ways add up to a ridge, high between "
            "their lines; the two ridges cross, and their sum is highest where they overlap, "
            "over the inner circle. The red curve, where the sum is 0, is the decision "
            "boundary.",
            f"Leia de cima para baixo (rede: {shown}). A parcela de um nó na soma da saída é "
            "um degrau; dois degraus em sentidos opostos somam-se numa crista, alta entre suas "
            "retas; as duas cristas se cruzam, e a soma é mais alta onde elas se sobrepõem, "
            "sobre o círculo interno. A curva vermelha, onde a soma é 0, é a fronteira de "
            "decisão.",
        ),
        "circles_initialisations.png": t(
            f"The same {nodes}-node network trained from {tried} random starts: {solving} "
            "separate the circles (green); the others stop in a local minimum (grey). The "
            "report keeps the lowest loss.",
            f"A mesma rede de {nodes} nós treinada a partir de {tried} inícios aleatórios: "
            f"{solving} separam os círculos (verde); as outras param num mínimo local (cinza). "
            "O relatório mantém a menor perda.",
        ),
    }


LABELS = {
    **KEPT_LABELS,  # kept_metrics, initialisation_metrics and layer_weights
    "initialisations_solving": (
        "initialisations separating the circles (≥ 99 % correct)",
        "inicializações que separam os círculos (≥ 99 % de acertos)",
    ),
    "ridge_pairs": (
        "kept network: its hidden nodes paired most oppositely",
        "rede mantida: seus nós ocultos em pares mais opostos",
    ),
    "ridge_pair_cosines": (
        "kept network: cosine between the two directions of each pair (−1: opposite)",
        "rede mantida: cosseno entre as duas direções de cada par (−1: opostas)",
    ),
    "opposite_pairs": (
        "kept network: pairs counted as opposite (cosine ≤ −0.8)",
        "rede mantida: pares contados como opostos (cosseno ≤ −0,8)",
    ),
    "ridge_angle_degrees": (
        "kept network: angle between its two ridges (degrees)",
        "rede mantida: ângulo entre suas duas cristas (graus)",
    ),
    "construction_random_state": (
        "network shown in the construction figures (initialisation)",
        "rede mostrada nas figuras da construção (inicialização)",
    ),
    "construction_is_kept_network": (
        "the construction figures show the kept network",
        "as figuras da construção mostram a rede mantida",
    ),
    "construction_accuracy": (
        "training accuracy of the network shown",
        "acurácia de treino da rede mostrada",
    ),
    "construction_ridge_pairs": (
        "network shown: its hidden nodes paired most oppositely",
        "rede mostrada: seus nós ocultos em pares mais opostos",
    ),
    "construction_pair_cosines": (
        "network shown: cosine between the two directions of each pair (−1: opposite)",
        "rede mostrada: cosseno entre as duas direções de cada par (−1: opostas)",
    ),
    "construction_ridge_angle_degrees": (
        "network shown: angle between its two ridges (degrees)",
        "rede mostrada: ângulo entre suas duas cristas (graus)",
    ),
    "initialisations_building_construction": (
        "solving initialisations that build the lecture's construction",
        "inicializações que resolvem e fazem a construção da aula",
    ),
}


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
