"""``universal-approximation`` (lecture section 7): a capacity sweep of one hidden layer
against two on a smooth and a discontinuous target (the network, the split and why the
target is standardised: :mod:`mlplab.experiments._approximation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_choice, check_float, check_int
from mlplab.experiments._approximation import (
    LABELS,
    NAMES,
    THRESHOLDS,
    fitted_net,
    mlp,
    mse,
    n_weights,
    sci,
    sizes_option,
    split,
)
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T

#: Jumps of the discontinuous targets of the capacity sweep, on [0, 2 pi].
JUMPS = (np.pi / 2, np.pi, 3 * np.pi / 2)


def square(x: np.ndarray) -> np.ndarray:
    """+1 and -1 alternating between the jumps at pi/2, pi and 3 pi/2 (+1 on [0, pi/2))."""
    k = np.searchsorted(np.asarray(JUMPS), x, side="right")
    return np.where(k % 2 == 0, 1.0, -1.0)


def sawtooth(x: np.ndarray) -> np.ndarray:
    """Ramps from -1 to +1 on each quarter [k pi/2, (k+1) pi/2), jumping back at JUMPS."""
    quarter = np.pi / 2
    k = np.minimum(np.searchsorted(np.asarray(JUMPS), x, side="right"), len(JUMPS))
    return 2 * (x - k * quarter) / quarter - 1


#: Targets of the capacity sweep on [0, 2 pi]: name -> (function, discontinuous?).
SWEEP_TARGETS = {"sin": (np.sin, False), "square": (square, True), "sawtooth": (sawtooth, True)}


def _sweep_fit(X_tr, y_tr, X_eval, hidden, random_state, max_iter, alpha):
    """One capacity-sweep network: (training loss, n_iter, predictions on X_eval)."""
    model = mlp(hidden, random_state=random_state, tol=1e-5, max_iter=max_iter, alpha=alpha)
    model.fit(X_tr, y_tr)
    return fitted_net(model).loss_, fitted_net(model).n_iter_, model.predict(X_eval)


def gap_mask(x_tr: np.ndarray, x_va: np.ndarray) -> np.ndarray:
    """Validation points inside a jump's gap: between the last training point before
    the jump and the first one after it, where the samples cannot say where it is."""
    inside = np.zeros(len(x_va), dtype=bool)
    for c in JUMPS:
        left, right = x_tr[x_tr < c], x_tr[x_tr > c]
        a = left.max() if len(left) else -np.inf
        b = right.min() if len(right) else np.inf
        inside |= (x_va > a) & (x_va < b)
    return inside


def compute(
    *,
    seed: int,
    quick: bool,
    nodes: tuple,
    two_layers: str,
    discontinuous: str,
    initialisations: int,
    max_iter: int,
    alpha: float,
    n_jobs: int,
    n_samples: int,
) -> Result:
    """The capacity sweep (see :func:`run`)."""
    nodes = sizes_option(nodes, "nodes")
    two_layers = check_choice("two_layers", two_layers, ("total", "per_layer"))
    check_choice("discontinuous", discontinuous, [k for k, v in SWEEP_TARGETS.items() if v[1]])
    initialisations = check_int("initialisations", initialisations, minimum=1)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    alpha = check_float("alpha", alpha, minimum=0.0)
    n_jobs = check_int("n_jobs", n_jobs)
    n_samples = check_int("n_samples", n_samples, minimum=10)
    if quick:
        nodes = tuple(n for n in nodes if n <= 8) or nodes[:1]
        initialisations, max_iter = 1, min(max_iter, 500)

    def two(n: int) -> tuple[int, int] | None:
        if two_layers == "per_layer":
            return (n, n)
        return None if n < 2 else ((n + 1) // 2, n // 2)

    targets = ["sin", discontinuous]
    x = np.linspace(0.0, 2 * np.pi, n_samples)
    x_dense = np.linspace(0.0, 2 * np.pi, 1000)
    data = {}
    for name in targets:
        y = SWEEP_TARGETS[name][0](x)
        X_tr, X_va, y_tr, y_va = split(x[:, None], y, seed)
        data[name] = (X_tr, X_va, y_tr, y_va)
    archs = [(1, (n,), n) for n in nodes] + [(2, two(n), n) for n in nodes if two(n)]
    best = _fit_sweep(
        data,
        x_dense,
        targets,
        archs,
        seed=seed,
        initialisations=initialisations,
        max_iter=max_iter,
        alpha=alpha,
        n_jobs=n_jobs,
    )
    rows, curves, gaps = _rows(data, targets, archs, best)
    setting = {
        "nodes": list(nodes),
        "two_layers": two_layers,
        "two_layer_sizes": {str(n): list(two(n)) for n in nodes if two(n)},
        "initialisations": initialisations,
        "selection": "lowest training loss among the initialisations",
        "max_iter": max_iter,
        "alpha": alpha,
        "target_scaling": "standard",
    }
    metrics = _metrics(rows, gaps, data, targets, discontinuous, setting)
    floor = 4.0 / len(data[discontinuous][1])  # a jump of 2, squared, over n_val
    drawn = {
        "rows": rows,
        "targets": targets,
        "floor": floor,
        "curves": curves,
        "data": data,
        "x_dense": x_dense,
        "archs": archs,
    }
    return Result(metrics, drawn)


def _fit_sweep(data, x_dense, targets, archs, *, seed, initialisations, max_iter, alpha, n_jobs):
    """Every (target, architecture, initialisation) fitted in parallel; per (target, layers,
    nodes) the hidden sizes and the (loss, n_iter, predictions) of the lowest training loss."""
    from sklearn.utils.parallel import Parallel, delayed

    tasks = [
        (name, layers, h, n, rs)
        for name in targets
        for layers, h, n in archs
        for rs in range(seed, seed + initialisations)
    ]

    def job(name, h, rs):
        X_tr, X_va, _, _ = data[name]
        X_eval = np.concatenate([X_tr, X_va, x_dense[:, None]])
        return delayed(_sweep_fit)(X_tr, data[name][2], X_eval, h, rs, max_iter, alpha)

    outs = Parallel(n_jobs=n_jobs)(job(name, h, rs) for name, _, h, _, rs in tasks)
    best: dict[tuple, tuple] = {}
    for (name, layers, h, n, _), out in zip(tasks, outs, strict=True):
        key = (name, layers, n)
        if key not in best or out[0] < best[key][1][0]:
            best[key] = (h, out)
    return best


def _rows(data, targets, archs, best):
    """One row of errors per (target, architecture); the dense curves; per target the
    validation points inside a jump's gap (None for a smooth target)."""
    rows, curves = [], {}
    gaps = {}
    for name in targets:
        X_tr, X_va, y_tr, y_va = data[name]
        in_gap = gap_mask(X_tr[:, 0], X_va[:, 0]) if SWEEP_TARGETS[name][1] else None
        gaps[name] = in_gap
        for layers, _, n in archs:
            h, (_, n_iter, pred) = best[(name, layers, n)]
            p_tr, p_va = pred[: len(X_tr)], pred[len(X_tr) : len(X_tr) + len(X_va)]
            curves[(name, layers, n)] = pred[len(X_tr) + len(X_va) :]
            row = {
                "target": name,
                "layers": layers,
                "nodes": n,
                "hidden_layer_sizes": list(h),
                "n_weights": n_weights(h),
                "train_mse": mse(y_tr, p_tr),
                "val_mse": mse(y_va, p_va),
                "n_iter": int(n_iter),
            }
            if in_gap is not None:
                row["val_mse_outside_gaps"] = mse(y_va[~in_gap], p_va[~in_gap])
            rows.append(row)
    return rows, curves, gaps


def key(name: str, layers: int) -> str:
    """The metrics' key of a (target, number of hidden layers): "sin_1_layer", "square_2_layers"."""
    return f"{name}_{layers}_layer{'s' * (layers > 1)}"


def _metrics(rows, gaps, data, targets, discontinuous, setting: dict[str, Any]) -> dict[str, Any]:
    """The metrics of :func:`compute`: the setting, the sweep's rows and the best errors."""
    metrics: dict[str, Any] = {"targets": targets, **setting, "sweep": rows}
    for name in targets:
        for layers in (1, 2):
            sel = [r for r in rows if r["target"] == name and r["layers"] == layers]
            tag = key(name, layers)
            metrics[f"val_mse_{tag}"] = {str(r["nodes"]): r["val_mse"] for r in sel}
            metrics[f"train_mse_{tag}"] = {str(r["nodes"]): r["train_mse"] for r in sel}
            if SWEEP_TARGETS[name][1]:
                metrics[f"val_mse_outside_gaps_{tag}"] = {
                    str(r["nodes"]): r["val_mse_outside_gaps"] for r in sel
                }
    metrics["best_val_mse"] = {
        key(name, layers): min(
            r["val_mse"] for r in rows if r["target"] == name and r["layers"] == layers
        )
        for name in targets
        for layers in (1, 2)
        if any(r["target"] == name and r["layers"] == layers for r in rows)
    }
    metrics["best_train_mse"] = {
        k: min(r["train_mse"] for r in rows if key(r["target"], r["layers"]) == k)
        for k in metrics["best_val_mse"]
    }
    n_va = len(data[discontinuous][1])
    metrics["val_points_in_jump_gaps"] = int(gaps[discontinuous].sum())
    metrics["n_val"] = n_va
    metrics["val_mse_per_misplaced_point"] = 4.0 / n_va
    return metrics


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``capacity_vs_nodes.png``, ``capacity_vs_weights.png`` and ``capacity_fits.png``."""
    d = result.data
    rows, targets, floor = d["rows"], d["targets"], d["floor"]
    _plot_sweep(rows, targets, "nodes", floor, t, out_dir / "capacity_vs_nodes.png")
    _plot_sweep(rows, targets, "n_weights", floor, t, out_dir / "capacity_vs_weights.png")
    path = out_dir / "capacity_fits.png"
    _plot_sweep_fits(d["curves"], d["data"], d["x_dense"], targets, d["archs"], t, path)


def _tag(layers: int, t: T) -> str:
    return (
        t("1 hidden layer", "1 camada oculta")
        if layers == 1
        else t("2 hidden layers", "2 camadas ocultas")
    )


def _target_name(name: str, t: T) -> str:
    return {
        "sin": t.lookup(NAMES, "sin") + t(" (smooth)", " (suave)"),
        "square": t("square wave (3 jumps)", "onda quadrada (3 saltos)"),
        "sawtooth": t("sawtooth (3 jumps)", "dente de serra (3 saltos)"),
    }[name]


def _plain_ticks(ax, ticks: list[int] | None) -> None:
    """The log x axis labelled with plain numbers ("8", "100"), at ``ticks`` if given."""
    from matplotlib.ticker import FixedLocator, LogLocator, NullLocator, ScalarFormatter

    ax.xaxis.set_major_locator(FixedLocator(ticks) if ticks else LogLocator(subs=(1, 2, 5)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(ScalarFormatter())


def _plot_layers(ax, rows, name: str, layers: int, xkey: str, t: T) -> None:
    """The validation and training MSE (and away from the jumps) of one target and number
    of hidden layers against ``xkey``."""
    sel = sorted(
        (r for r in rows if r["target"] == name and r["layers"] == layers),
        key=lambda r: r[xkey],
    )
    if not sel:
        return
    xs = [r[xkey] for r in sel]
    c = {1: "tab:blue", 2: "tab:orange"}[layers]
    ax.loglog(
        xs,
        [r["val_mse"] for r in sel],
        "o-",
        color=c,
        label=_tag(layers, t) + t(": validation", ": validação"),
    )
    ax.loglog(
        xs,
        [r["train_mse"] for r in sel],
        ":",
        color=c,
        marker=".",
        label=_tag(layers, t) + t(": training", ": treino"),
    )
    if "val_mse_outside_gaps" in sel[0]:
        ax.loglog(
            xs,
            [r["val_mse_outside_gaps"] for r in sel],
            "s--",
            color=c,
            ms=4,
            label=_tag(layers, t)
            + t(": validation away from the jumps", ": validação longe dos saltos"),
        )


def _plot_sweep(rows, targets, xkey, floor, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(targets), figsize=(5.2 * len(targets), 5.0), squeeze=False)
    legend: dict[str, Any] = {}
    for ax, name in zip(axes[0], targets, strict=True):
        for layers in (1, 2):
            _plot_layers(ax, rows, name, layers, xkey, t)
        if any("val_mse_outside_gaps" in r for r in rows if r["target"] == name):
            ax.axhline(
                floor,
                color="0.4",
                ls="-.",
                lw=1,
                label=t(
                    "one validation point on the wrong side of a jump",
                    "um ponto de validação do lado errado de um salto",
                ),
            )
        ax.set_title(_target_name(name, t))
        ax.set_xlabel(
            t("total hidden nodes", "total de nós ocultos")
            if xkey == "nodes"
            else t("weights and biases", "pesos e vieses")
        )
        ax.set_ylabel(t("MSE", "EQM"))
        ax.grid(True, which="major", alpha=0.3)
        _plain_ticks(ax, sorted({r[xkey] for r in rows}) if xkey == "nodes" else None)
        for h, x in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(x, h)
    fig.suptitle(
        t(
            "Capacity: error against the number of hidden nodes",
            "Capacidade: erro em função do número de nós ocultos",
        )
        if xkey == "nodes"
        else t(
            "Capacity: error against the number of weights and biases (degrees of freedom)",
            "Capacidade: erro em função do número de pesos e vieses (graus de liberdade)",
        )
    )
    # the legend fills its columns first: one layer's lines, then the floor (first column),
    # then two layers' lines (second column)
    rank = {_tag(1, t): 0, _tag(2, t): 2}
    order = sorted(legend, key=lambda x: rank.get(x.partition(":")[0], 1))
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.legend(
        [legend[x] for x in order],
        order,
        loc="lower center",
        bbox_to_anchor=(0.5, 0),
        ncol=2,
        frameon=False,
    )
    save_figure(fig, path)


def _plot_sweep_fits(curves, data, x_dense, targets, archs, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    both = sorted({n for layers, _, n in archs if layers == 2})
    shown = both if len(both) <= 3 else [both[0], both[len(both) // 2], both[-1]]
    if not shown:
        shown = sorted({n for _, _, n in archs})[-3:]
    fig, axes = plt.subplots(
        len(targets), 2, figsize=(10.4, 3.3 * len(targets) + 0.9), squeeze=False, sharey="row"
    )
    legend: dict[str, Any] = {}
    for i, name in enumerate(targets):
        f = SWEEP_TARGETS[name][0]
        for j, layers in enumerate((1, 2)):
            ax = axes[i, j]
            ax.plot(
                x_dense, f(x_dense), color="k", lw=2, label=t("true function", "função verdadeira")
            )
            for n, c in zip(shown, ("tab:green", "tab:purple", "tab:red"), strict=False):
                if (name, layers, n) in curves:
                    ax.plot(
                        x_dense,
                        curves[(name, layers, n)],
                        color=c,
                        lw=1.2,
                        label=t(f"{n} hidden nodes in all", f"{n} nós ocultos no total"),
                    )
            ax.set_title(f"{_target_name(name, t)} — {_tag(layers, t)}")
            for h, x in zip(*ax.get_legend_handles_labels(), strict=True):
                legend.setdefault(x, h)
        axes[i, 0].set_ylabel("y")
    for ax in axes[-1]:
        ax.set_xlabel("x")
    fig.suptitle(
        t(
            "Fitted curves for a few sizes: one hidden layer (left) against two (right)",
            "Curvas ajustadas para alguns tamanhos: uma camada oculta (esquerda) contra duas "
            "(direita)",
        )
    )
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.legend(
        list(legend.values()),
        list(legend),
        loc="upper center",
        bbox_to_anchor=(0.5, 0.955),
        ncol=len(legend),
        frameon=False,
    )
    save_figure(fig, path)


#: From the fewest nodes to the best, the error falls at least this many times
#: (capacity grows with the weights).
CAPACITY_FACTOR = 100


#: The targets' names for the headline and the labels.
TARGET_NAMES = {
    "sin": NAMES["sin"],
    "square": ("square wave", "onda quadrada"),
    "sawtooth": ("sawtooth", "dente de serra"),
}


def _nodes(n: str | int, t: T) -> str:
    return f"{n} " + (t("node", "nó") if int(n) == 1 else t("nodes", "nós"))


def _best(m: dict[str, Any], prefix: str, name: str, layers: int) -> tuple[str, float] | None:
    """(total nodes, value) of the lowest ``prefix + key(name, layers)`` metric."""
    values = m.get(prefix + key(name, layers)) or {}
    return min(values.items(), key=lambda kv: kv[1]) if values else None


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """Capacity on sin x, one layer enough for it, two layers on the jumps, and the
    validation points no model can place."""
    smooth, jumps = m["targets"]
    return _smooth_rows(m, smooth, t) + _jump_rows(m, jumps, t)


def _at(best: tuple[str, float] | None, t: T) -> str:
    """A :func:`_best` for people: "1.4 × 10⁻⁶ (8 nodes)"."""
    return "—" if best is None else f"{sci(best[1], t)} ({_nodes(best[0], t)})"


def _smooth_rows(m: dict[str, Any], smooth: str, t: T) -> list[Row]:
    """The headline on the smooth target: capacity grows, one layer is enough."""
    fn = t.lookup(TARGET_NAMES, smooth)
    one = t("one hidden layer", "uma camada oculta")
    train = m[f"train_mse_{key(smooth, 1)}"]
    first = min(train, key=int)
    best_n, best = _best(m, "train_mse_", smooth, 1)
    sin_val = _best(m, "val_mse_", smooth, 1)
    sin_two = _best(m, "val_mse_", smooth, 2)
    bound = THRESHOLDS["sin"]
    return [
        Row(
            f"{fn}, {one}: " + t("training MSE as nodes are added", "EQM de treino ao somar nós"),
            t(
                f"more weights, more capacity: the error falls (≥ {CAPACITY_FACTOR}×, chosen here)",
                f"mais pesos, mais capacidade: o erro cai (≥ {CAPACITY_FACTOR}×, escolhido aqui)",
            ),
            f"{sci(train[first], t)} ({_nodes(first, t)}, {n_weights((int(first),))} "
            + t("weights", "pesos")
            + f") → {sci(best, t)} ({_nodes(best_n, t)}, {n_weights((int(best_n),))} "
            + t("weights", "pesos")
            + ")",
            best * CAPACITY_FACTOR <= train[first],
        ),
        Row(
            f"{fn}, {one}: " + t("best validation MSE", "melhor EQM de validação"),
            t(
                f"enough nodes approximate a continuous function: ≤ {sci(bound, t)} (the "
                "regression bound for sin x)",
                f"nós suficientes aproximam uma função contínua: ≤ {sci(bound, t)} (o limite "
                "da regressão para sen x)",
            ),
            _at(sin_val, t),
            sin_val[1] <= bound,
        ),
        Row(
            f"{fn}, "
            + t(
                "two hidden layers: best validation MSE",
                "duas camadas ocultas: melhor EQM de validação",
            ),
            t("not needed for a continuous function", "desnecessárias para uma função contínua"),
            _at(sin_two, t) + t("; one layer: ", "; uma camada: ") + _at(sin_val, t),
            None,
        ),
    ]


def _jump_rows(m: dict[str, Any], jumps: str, t: T) -> list[Row]:
    """The headline on the discontinuous target: two layers against one, and the
    validation points no model can place."""
    jn = t.lookup(TARGET_NAMES, jumps)
    jump_one, jump_two = _best(m, "train_mse_", jumps, 1), _best(m, "train_mse_", jumps, 2)
    away_one = _best(m, "val_mse_outside_gaps_", jumps, 1)
    away_two = _best(m, "val_mse_outside_gaps_", jumps, 2)
    bound = THRESHOLDS["sin"]
    return [
        Row(
            f"{jn}: "
            + t(
                "best training MSE, two hidden layers against one",
                "melhor EQM de treino, duas camadas ocultas contra uma",
            ),
            t(
                "two hidden layers approximate a discontinuous function: better than one",
                "duas camadas ocultas aproximam uma função descontínua: melhor que uma",
            ),
            _at(jump_two, t) + t(" against ", " contra ") + _at(jump_one, t),
            jump_two is not None and jump_two[1] < jump_one[1],
        ),
        Row(
            f"{jn}, "
            + t(
                "two hidden layers: best validation MSE away from the jumps",
                "duas camadas ocultas: melhor EQM de validação longe dos saltos",
            ),
            t(
                f"two layers approximate it: ≤ {sci(bound, t)} (the bound for sin x, chosen here)",
                f"duas camadas a aproximam: ≤ {sci(bound, t)} (o limite de sen x, escolhido aqui)",
            ),
            _at(away_two, t) + t("; one layer: ", "; uma camada: ") + _at(away_one, t),
            away_two is not None and away_two[1] <= bound,
        ),
        Row(
            t(
                f"{jn}: validation points between the two training points around a jump",
                f"{jn}: pontos de validação entre os dois pontos de treino em torno de um salto",
            ),
            t(
                "no sample says where the jump lies there: no model can place them",
                "nenhuma amostra diz onde fica o salto ali: nenhum modelo os acerta",
            ),
            t(
                f"{m['val_points_in_jump_gaps']} of {m['n_val']}; each one on the wrong side "
                f"adds {sci(m['val_mse_per_misplaced_point'], t)} to the validation MSE",
                f"{m['val_points_in_jump_gaps']} de {m['n_val']}; cada um do lado errado "
                f"soma {sci(m['val_mse_per_misplaced_point'], t)} ao EQM de validação",
            ),
            None,
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    smooth, jumps = m["targets"]
    fn, jn = _target_name(smooth, t), _target_name(jumps, t)
    train = m[f"train_mse_{key(smooth, 1)}"]
    first = min(train, key=int)
    sin_one = _best(m, "val_mse_", smooth, 1)
    sin_two = _best(m, "val_mse_", smooth, 2)
    jump_one, jump_two = _best(m, "train_mse_", jumps, 1), _best(m, "train_mse_", jumps, 2)
    two = {int(n): h for n, h in m["two_layer_sizes"].items()}
    n = max(two) if two else int(first)
    w1, w2 = n_weights((n,)), n_weights(two.get(n, (n,)))
    floor = sci(m["val_mse_per_misplaced_point"], t)
    k = m["val_points_in_jump_gaps"]
    start = sci(m[f"val_mse_{key(smooth, 1)}"][first], t)

    def v(best: tuple[str, float] | None) -> str:
        return "—" if best is None else sci(best[1], t)

    sizes = sorted(two) if len(two) <= 3 else [sorted(two)[0], sorted(two)[len(two) // 2], max(two)]
    shown = ", ".join(str(s) for s in sizes)
    return {
        "capacity_vs_nodes.png": t(
            "Validation MSE (solid, circles) and training MSE (dotted) against the total "
            "number of hidden nodes, log-log; blue: one hidden layer, orange: two. On "
            f"{fn} one layer falls from {start} ({_nodes(first, t)}) to "
            f"{v(sin_one)}; two layers reach {v(sin_two)}. On the {jn} "
            f"the best training MSE is {v(jump_one)} with one layer and {v(jump_two)} with "
            f"two. The dash-dotted line is what one validation point on the wrong side of a "
            f"jump costs ({floor}): {k} validation points lie between the two training points "
            "around a jump, where no sample says where it is, so near that line the "
            "validation MSE says little of the fit; the dashed squares (validation away "
            "from the jumps) show it. The curves need not fall at every step: L-BFGS stops "
            "at a tolerance, so a larger network is not always fitted closer.",
            "EQM de validação (contínuo, círculos) e de treino (pontilhado) em função do "
            "total de nós ocultos, log-log; azul: uma camada oculta, laranja: duas. Em "
            f"{fn} uma camada cai de {start} ({_nodes(first, t)}) a "
            f"{v(sin_one)}; duas camadas chegam a {v(sin_two)}. Na {jn} o "
            f"melhor EQM de treino é {v(jump_one)} com uma camada e {v(jump_two)} com duas. "
            "A linha traço-ponto é o custo de um ponto de validação do lado errado de um "
            f"salto ({floor}): {k} pontos de validação ficam entre os dois pontos de treino "
            "em torno de um salto, onde nenhuma amostra diz onde ele está, e por isso perto "
            "dessa linha o EQM de validação diz pouco do ajuste; os quadrados tracejados "
            "(validação longe dos saltos) o mostram. As curvas não precisam cair a cada "
            "passo: o L-BFGS para numa tolerância, e uma rede maior nem sempre fica mais "
            "ajustada.",
        ),
        "capacity_vs_weights.png": t(
            "The same errors against the number of weights and biases, the lecture's degrees "
            "of freedom. Two layers with the same total of nodes have more weights "
            f"({n} nodes: {w2} against {w1}), so the orange curves move right: compare the "
            "two curves at the same number of weights, not of nodes.",
            "Os mesmos erros em função do número de pesos e vieses, os graus de liberdade da "
            "aula. Duas camadas com o mesmo total de nós têm mais pesos "
            f"({n} nós: {w2} contra {w1}), por isso as curvas laranja vão para a direita: "
            "compare as duas curvas no mesmo número de pesos, não de nós.",
        ),
        "capacity_fits.png": t(
            f"The fitted curves ({shown} hidden nodes in all, coloured) over the true "
            "function (black): one hidden layer on the left, two on the right. Top, "
            f"{fn}: the curves reach the function once there are enough nodes. Bottom, the "
            f"{jn}: look at the jumps, how steep each curve is there and how far it "
            "overshoots beside them.",
            f"As curvas ajustadas ({shown} nós ocultos no total, coloridas) sobre a função "
            "verdadeira (preto): uma camada oculta à esquerda, duas à direita. Em cima, "
            f"{fn}: as curvas alcançam a função quando há nós suficientes. Embaixo, a "
            f"{jn}: olhe os saltos, quão íngremes as curvas são ali e quanto passam do "
            "valor ao lado deles.",
        ),
    }


def _capacity_labels() -> dict[str, tuple[str, str]]:
    """Labels of the sweep's metrics, for every target and number of layers."""
    what = {
        "val_mse_": ("validation MSE", "EQM de validação"),
        "train_mse_": ("training MSE", "EQM de treino"),
        "val_mse_outside_gaps_": (
            "validation MSE away from the jumps",
            "EQM de validação longe dos saltos",
        ),
    }
    layers = {1: ("1 hidden layer", "1 camada oculta"), 2: ("2 hidden layers", "2 camadas ocultas")}
    out = {}
    for name, (en, pt) in TARGET_NAMES.items():
        for n, (len_, lpt) in layers.items():
            out[key(name, n)] = (f"{en}, {len_}", f"{pt}, {lpt}")
            for prefix, (wen, wpt) in what.items():
                out[prefix + key(name, n)] = (f"{wen}, {en}, {len_}", f"{wpt}, {pt}, {lpt}")
    return out


LABELS_CAPACITY = {
    **LABELS,
    **_capacity_labels(),
    "targets": ("targets", "alvos"),
    "nodes": ("total hidden nodes", "total de nós ocultos"),
    "two_layers": (
        "two layers: the same total of nodes (total) or per layer",
        "duas camadas: o mesmo total de nós (total) ou por camada",
    ),
    "two_layer_sizes": ("two-layer nodes per total", "nós das duas camadas por total"),
    "sweep": ("every network", "cada rede"),
    "best_val_mse": ("best validation MSE", "melhor EQM de validação"),
    "best_train_mse": ("best training MSE", "melhor EQM de treino"),
    "val_points_in_jump_gaps": (
        "validation points between the training points around a jump",
        "pontos de validação entre os pontos de treino em torno de um salto",
    ),
    "n_val": ("validation points", "pontos de validação"),
    "val_mse_per_misplaced_point": (
        "validation MSE of one point on the wrong side of a jump",
        "EQM de validação de um ponto do lado errado de um salto",
    ),
}


@register(
    "universal-approximation",
    section="7",
    order=12,
    title={
        "en": "Universal approximation: validation error against the number of hidden nodes and "
        "weights, one hidden layer against two, on sin x and on a discontinuous function",
        "pt": "Aproximação universal: erro de validação em função do número de nós ocultos e de "
        "pesos, uma camada oculta contra duas, em sen x e numa função descontínua",
    },
    claim={
        "en": "Capacity grows with the number of weights (degrees of freedom): one hidden layer "
        "with enough nodes approximates almost any continuous function, and two hidden layers "
        "can approximate discontinuous ones.",
        "pt": "A capacidade cresce com o número de pesos (graus de liberdade): uma camada oculta "
        "com nós suficientes aproxima praticamente qualquer função contínua, e com duas camadas "
        "ocultas até funções descontínuas podem ser aproximadas.",
    },
    headline=headline,
    captions=captions,
    labels=LABELS_CAPACITY,
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    nodes: tuple = (1, 2, 4, 8, 16, 32),
    two_layers: str = "total",
    discontinuous: str = "square",
    initialisations: int = 3,
    max_iter: int = 5000,
    alpha: float = 1e-4,
    n_jobs: int = -1,
    n_samples: int = 1000,
) -> dict[str, Any]:
    """Capacity sweep: validation MSE against hidden nodes, one hidden layer against two.

    Targets on [0, 2 pi] (N = 1000 linspace points, the 70/30 split): sin x
    (smooth) and ``discontinuous`` ("square": +1/-1 with jumps at pi/2, pi,
    3 pi/2; or "sawtooth": ramps from -1 to 1 restarting at the same jumps).
    For every total number of hidden nodes n in ``nodes``: one hidden layer
    (n,) and two hidden layers with the same total, (n/2, n/2)
    (``two_layers="total"``; n = 1 has no two-layer net), or the same per layer,
    (n, n) (``two_layers="per_layer"``). Each network: logistic, L-BFGS,
    ``tol=1e-5``, standardised target, ``alpha=1e-4`` (scikit-learn's L2
    penalty), the best of ``initialisations`` starts by training loss.
    ``n_weights`` counts weights and biases (the lecture's degrees of freedom).

    Reported per network: ``train_mse`` (how well it represents the samples:
    the approximation the lecture speaks of), ``val_mse``, and for the
    discontinuous target ``val_mse_outside_gaps``: a validation point lying
    between the two training points that bracket a jump cannot be predicted by
    any model (the samples do not say where the jump is), and each one
    misplaced costs 4 / n_val (a jump of 2, squared) in the validation MSE, so
    these few points (``val_points_in_jump_gaps``) set a floor under ``val_mse``
    that has nothing to do with capacity. What was measured (seeds 0, 1, 2):
    on sin x one layer is as good as two (best 7e-7 to 4e-6 against 1e-6 to
    8e-6); on the square wave one layer rings around the jumps and stalls at
    a best training MSE of 4e-3 to 8e-3 however many nodes (a steep step needs
    large weights, which the L2 penalty charges), while two layers reach 2e-4
    to 6e-4 (best validation outside the gaps: 1e-5 to 2e-5 against 1e-3 to
    3e-3); a likely reason: a logistic of a logistic is steeper than either,
    so the second layer sharpens the first one's transitions without large
    weights.

    ``quick``: the sizes up to 8 nodes, one initialisation, at most 500 iterations.
    """
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        nodes=nodes,
        two_layers=two_layers,
        discontinuous=discontinuous,
        initialisations=initialisations,
        max_iter=max_iter,
        alpha=alpha,
        n_jobs=n_jobs,
        n_samples=n_samples,
    )
    draw(result, t, out_dir)
    return result.metrics
