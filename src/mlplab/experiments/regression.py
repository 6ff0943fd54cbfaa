"""``regression`` (lecture section 7): the lecture's five functions fitted with one hidden
layer of logistic nodes, inside and beyond the training interval (the network, the split
and why the target is standardised: :mod:`mlplab.experiments._approximation`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab import datasets
from mlplab._checks import check_float, check_int
from mlplab.experiments._approximation import (
    LABELS,
    NAMES,
    THRESHOLDS,
    WHY_TARGET_SCALING,
    fitted_net,
    interval_text,
    mlp,
    mse,
    n_weights,
    sci,
    split,
)
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T

#: Functions whose domain needs x > 0 (the extrapolation stops at half the lower end).
POSITIVE_DOMAIN = ("inv", "log10")


def extended(name: str, margin: float) -> tuple[float, float]:
    """The training interval widened by ``margin`` of its width on each side
    (for 1/x and log10 x at most down to half the lower end: they need x > 0)."""
    lo, hi = datasets.FUNCTIONS[name][1]
    pad = margin * (hi - lo)
    a = lo - pad
    if name in POSITIVE_DOMAIN:
        a = max(a, lo / 2)
    return a, hi + pad


def compute(
    *,
    seed: int,
    quick: bool,
    hidden: int,
    initialisations: int,
    tol: float,
    max_iter: int,
    target_scaling: bool,
    input_scaling: bool,
    margin: float,
    n_samples: int,
) -> Result:
    """The five functions fitted (see :func:`run`); ``data["fits"]``: per function the
    training points, the curves and the errors."""
    hidden = check_int("hidden", hidden, minimum=1)
    initialisations = 1 if quick else check_int("initialisations", initialisations, minimum=1)
    tol = check_float("tol", tol, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    margin = check_float("margin", margin, minimum=0.0)
    n_samples = check_int("n_samples", n_samples, minimum=10)
    names = list(datasets.FUNCTIONS)
    net = {
        "tol": tol,
        "max_iter": max_iter,
        "target_scaling": target_scaling,
        "input_scaling": input_scaling,
    }
    fits = {
        name: _fit_function(name, seed, hidden, initialisations, margin, n_samples, net)
        for name in names
    }
    val = {n: fits[n]["val_mse"] for n in names}
    metrics = {
        "functions": names,
        "interval": {n: [float(v) for v in fits[n]["interval"]] for n in names},
        "val_mse": val,
        "val_mse_threshold": {n: THRESHOLDS[n] for n in names},
        "below_threshold": {n: bool(val[n] <= THRESHOLDS[n]) for n in names},
        "all_below_threshold": all(val[n] <= THRESHOLDS[n] for n in names),
        "train_mse": {n: fits[n]["train_mse"] for n in names},
        "extrap_mse": {n: fits[n]["extrap_mse"] for n in names},
        "extrapolation_interval": {n: [float(v) for v in fits[n]["extended"]] for n in names},
        "margin": margin,
        "plain_val_mse": {n: fits[n]["plain_val_mse"] for n in names},
        "plain_network": f"({hidden},) logistic, lbfgs, tol=1e-4, random_state={seed}, no scaling",
        "architecture": {
            "hidden_layer_sizes": [hidden],
            "activation": "logistic",
            "solver": "lbfgs",
            "alpha": 1e-4,
            "tol": tol,
            "max_iter": max_iter,
        },
        "n_weights": n_weights((hidden,)),
        "input_scaling": "standard" if input_scaling else "none",
        "target_scaling": "standard" if target_scaling else "none",
        "why_target_scaling": WHY_TARGET_SCALING,
        "initialisations": initialisations,
        "selection": "lowest training loss among the initialisations",
        "random_state": {n: fits[n]["random_state"] for n in names},
        "n_iter": {n: fits[n]["n_iter"] for n in names},
        "n_samples": n_samples,
        "split": "70/30, train_test_split(test_size=0.3, random_state=seed)",
    }
    return Result(metrics, {"fits": fits, "names": names})


def _fit_function(
    name: str,
    seed: int,
    hidden: int,
    initialisations: int,
    margin: float,
    n_samples: int,
    net: dict[str, Any],
) -> dict[str, Any]:
    """One function: the best of the initialisations by training loss (networks
    ``mlp(..., **net)``), the plain course network, their curves ``margin`` beyond the
    interval and their errors."""
    f = datasets.FUNCTIONS[name][0]
    X, y = datasets.function(name, n_samples)
    X_tr, X_va, y_tr, y_va = split(X, y, seed)
    best, best_loss, best_rs = None, np.inf, None
    for rs in range(seed, seed + initialisations):
        model = mlp((hidden,), random_state=rs, **net).fit(X_tr, y_tr)
        if fitted_net(model).loss_ < best_loss:
            best, best_loss, best_rs = model, fitted_net(model).loss_, rs
    plain = mlp(
        (hidden,), random_state=seed, tol=1e-4, max_iter=net["max_iter"], target_scaling=False
    ).fit(X_tr, y_tr)
    (lo, hi), (a, b) = datasets.FUNCTIONS[name][1], extended(name, margin)
    space = np.geomspace if name == "inv" else np.linspace
    x_in = space(lo, hi, 400)
    x_left = space(a, lo, 101)[:-1] if a < lo else np.empty(0)
    x_right = space(hi, b, 101)[1:] if b > hi else np.empty(0)
    x_out = np.concatenate([x_left, x_right])
    x_all = np.concatenate([x_left, x_in, x_right])
    return {
        "x_tr": X_tr[:, 0],
        "y_tr": y_tr,
        "x": x_all,
        "y": f(x_all),
        "y_hat": best.predict(x_all[:, None]),
        "y_plain": plain.predict(x_all[:, None]),
        "interval": (lo, hi),
        "extended": (a, b),
        "val_mse": mse(y_va, best.predict(X_va)),
        "plain_val_mse": mse(y_va, plain.predict(X_va)),
        "train_mse": mse(y_tr, best.predict(X_tr)),
        "extrap_mse": mse(f(x_out), best.predict(x_out[:, None])) if len(x_out) else None,
        "random_state": best_rs,
        "n_iter": fitted_net(best).n_iter_,
    }


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``regression_fits.png``: each function's fit and its absolute error."""
    _plot_regression(result.data["fits"], result.data["names"], t, out_dir / "regression_fits.png")


def _plot_regression(fits, names, t: T, path: Path) -> None:
    """One row per function: the fit (left) and its absolute error (right), one legend
    above the rows."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(names), 2, figsize=(10.4, 2.7 * len(names) + 1), squeeze=False)
    for (left, right), name in zip(axes, names, strict=True):
        d = fits[name]
        (lo, hi), (a, b) = d["interval"], d["extended"]
        for ax in (left, right):
            if a < lo:
                ax.axvspan(a, lo, color="0.85", zorder=0)
            if b > hi:
                ax.axvspan(hi, b, color="0.85", zorder=0, label=t("extrapolation", "extrapolação"))
            if name == "inv":
                ax.set_xscale("log")
            ax.set_xlim(a, b)
        left.scatter(
            d["x_tr"],
            d["y_tr"],
            s=4,
            color="tab:blue",
            alpha=0.35,
            label=t("training points", "pontos de treino"),
        )
        left.plot(d["x"], d["y"], color="k", lw=1.5, label=t("true function", "função verdadeira"))
        left.plot(
            d["x"],
            d["y_hat"],
            "--",
            color="tab:red",
            lw=1.5,
            label=t("network (MLP)", "rede (MLP)"),
        )
        left.set_title(
            f"{t.lookup(NAMES, name)}: " + t("validation MSE", "EQM de validação") + " "
            f"{sci(d['val_mse'], t)}"
        )
        left.set_ylabel("y")
        right.semilogy(
            d["x"], np.maximum(np.abs(d["y_hat"] - d["y"]), 1e-12), color="tab:red", lw=1
        )
        right.semilogy(
            d["x"],
            np.maximum(np.abs(d["y_plain"] - d["y"]), 1e-12),
            color="tab:gray",
            lw=1,
            alpha=0.8,
            label=t(
                "course network as written (tol = 10⁻⁴, target not standardised)",
                "rede do curso como escrita (tol = 10⁻⁴, alvo não padronizado)",
            ),
        )
        right.set_title(
            f"{t.lookup(NAMES, name)}: " + t("absolute error |ŷ − y|", "erro absoluto |ŷ − y|")
        )
    axes[-1, 0].set_xlabel("x")
    axes[-1, 1].set_xlabel("x")
    handles, texts = axes[0, 0].get_legend_handles_labels()
    more, more_texts = axes[0, 1].get_legend_handles_labels()
    keep = [i for i, x in enumerate(more_texts) if x not in texts]
    fig.suptitle(
        t(
            "One hidden layer of logistic nodes: the fit inside the training interval "
            "and beyond it (grey)",
            "Uma camada oculta de nós logísticos: o ajuste dentro do intervalo de treino "
            "e além dele (cinza)",
        )
    )
    fig.tight_layout(rect=(0, 0, 1, 0.945))
    fig.legend(
        handles + [more[i] for i in keep],
        texts + [more_texts[i] for i in keep],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.965),
        ncol=3,
        frameon=False,
        markerscale=3,
    )
    save_figure(fig, path)


#: The extrapolation error is "far larger" than the validation error by at least this factor.
EXTRAPOLATION_FACTOR = 10


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """Each function's validation MSE against the lecture's bound, the error beyond the
    training interval, and the network."""
    rows = [
        Row(
            f"{t.lookup(NAMES, n)} "
            + t("on", "em")
            + f" {interval_text(n)}: "
            + t("validation MSE", "EQM de validação"),
            f"≤ {sci(m['val_mse_threshold'][n], t)}",
            sci(m["val_mse"][n], t),
            m["val_mse"][n] <= m["val_mse_threshold"][n],
        )
        for n in m["functions"]
    ]
    names = [n for n in m["functions"] if m["extrap_mse"][n] is not None]
    ratio = {n: m["extrap_mse"][n] / m["val_mse"][n] for n in names}
    lo, hi = min(names, key=m["extrap_mse"].get), max(names, key=m["extrap_mse"].get)
    margin = m["margin"]
    least = sci(min(ratio.values()), t) if names else "—"
    rows.append(
        Row(
            t(
                f"MSE beyond the training interval (up to {t.num(100 * margin, '.3g')} % of "
                "its width on each side)",
                f"EQM além do intervalo de treino (até {t.num(100 * margin, '.3g')} % da sua "
                "largura de cada lado)",
            ),
            t(
                f"nothing holds the network to the function there: the error is far larger "
                f"than inside (≥ {EXTRAPOLATION_FACTOR}× the validation MSE, chosen here)",
                f"nada prende a rede à função ali: o erro é muito maior que dentro "
                f"(≥ {EXTRAPOLATION_FACTOR}× o EQM de validação, escolhido aqui)",
            ),
            t(
                f"{sci(m['extrap_mse'][lo], t)} ({t.lookup(NAMES, lo)}) to "
                f"{sci(m['extrap_mse'][hi], t)} ({t.lookup(NAMES, hi)}); at least "
                f"{least}× the validation MSE",
                f"de {sci(m['extrap_mse'][lo], t)} ({t.lookup(NAMES, lo)}) a "
                f"{sci(m['extrap_mse'][hi], t)} ({t.lookup(NAMES, hi)}); no mínimo "
                f"{least}× o EQM de validação",
            ),
            bool(names) and min(ratio.values()) >= EXTRAPOLATION_FACTOR,
        )
    )
    (hidden,) = m["architecture"]["hidden_layer_sizes"]
    starts = m["initialisations"]
    rows.append(
        Row(
            t("the network", "a rede"),
            t(
                "one hidden layer of logistic nodes, enough of them",
                "uma camada oculta de nós logísticos, em número suficiente",
            ),
            t(
                f"{hidden} nodes ({m['n_weights']} weights and biases), "
                + (f"the best of {starts} starts" if starts > 1 else "one start"),
                f"{hidden} nós ({m['n_weights']} pesos e vieses), "
                + (f"a melhor de {starts} inicializações" if starts > 1 else "uma inicialização"),
            ),
            None,
        )
    )
    return rows


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    worst = max(m["functions"], key=m["plain_val_mse"].get)
    plain = sci(m["plain_val_mse"][worst], t)
    mine = sci(m["val_mse"][worst], t)
    name = t.lookup(NAMES, worst)
    return {
        "regression_fits.png": t(
            "One row per function. Left: the network (red dashes) lies on the true function "
            "(black) over the training points (blue) inside the training interval; in the "
            "grey bands beyond it nothing holds it there and it leaves the function, least "
            "where the function is flat. Right: the absolute error on a log scale (red), "
            "which grows once x leaves the training interval. The grey "
            "curve is the course's network as written (tol = 10⁻⁴, target not "
            f"standardised), which stops earlier: for {name}, validation MSE {plain} "
            f"against {mine}.",
            "Uma linha por função. À esquerda: a rede (tracejado vermelho) fica sobre a "
            "função verdadeira (preto) e os pontos de treino (azul) dentro do intervalo de "
            "treino; nas faixas cinzas além dele nada a prende ali e ela se afasta da função, "
            "menos onde a função é plana. À direita: o erro absoluto em escala log "
            "(vermelho), que cresce quando x sai do intervalo de treino. A curva "
            "cinza é a rede do curso como escrita (tol = 10⁻⁴, alvo não padronizado), que "
            f"para antes: para {name}, EQM de validação {plain} contra {mine}.",
        )
    }


LABELS_REGRESSION = {
    **LABELS,
    "extrap_mse": ("MSE beyond the training interval", "EQM além do intervalo de treino"),
    "extrapolation_interval": (
        "interval drawn and measured beyond",
        "intervalo desenhado e medido além",
    ),
    "margin": (
        "extrapolation on each side (fraction of the interval)",
        "extrapolação de cada lado (fração do intervalo)",
    ),
    "plain_val_mse": (
        "validation MSE of the course's network as written",
        "EQM de validação da rede do curso como escrita",
    ),
    "plain_network": ("the course's network as written", "a rede do curso como escrita"),
    "architecture": ("network", "rede"),
    "n_weights": ("weights and biases", "pesos e vieses"),
    "random_state": (
        "seed of the chosen start (random state)",
        "semente da inicialização escolhida (random state)",
    ),
    "n_iter": ("L-BFGS iterations", "iterações do L-BFGS"),
}


@register(
    "regression",
    section="7",
    order=10,
    title={
        "en": "Regression with one hidden layer of logistic nodes: x², 1/x, sin x, log₁₀ x, "
        "exp(−x), inside and beyond the training interval",
        "pt": "Regressão com uma camada oculta de nós logísticos: x², 1/x, sen x, log₁₀ x, "
        "exp(−x), dentro e além do intervalo de treino",
    },
    claim={
        "en": "One hidden layer with enough nodes approximates these continuous functions on the "
        "training interval (validation MSE ≤ 10⁻⁵; ≤ 10⁻⁴ for sin x); nothing makes it follow "
        "the function beyond that interval (extrapolation).",
        "pt": "Uma camada oculta com nós suficientes aproxima essas funções contínuas no "
        "intervalo de treino (EQM de validação ≤ 10⁻⁵; ≤ 10⁻⁴ para sen x); nada a obriga a "
        "seguir a função fora desse intervalo (extrapolação).",
    },
    headline=headline,
    captions=captions,
    labels=LABELS_REGRESSION,
)
def run(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    hidden: int = 20,
    initialisations: int = 3,
    tol: float = 1e-5,
    max_iter: int = 2000,
    target_scaling: bool = True,
    input_scaling: bool = False,
    margin: float = 0.15,
    n_samples: int = 1000,
) -> dict[str, Any]:
    """Fit the lecture's five functions with one hidden layer of ``hidden`` logistic nodes.

    Recipe (see the module docstring for why): the target standardised on the
    training split, ``tol=1e-5``, and the best of ``initialisations`` starts
    (``random_state`` = seed, seed + 1, ...) by *training* loss. For contrast the
    plain course network (same size, ``random_state=seed``, default ``tol=1e-4``,
    no scaling) is fitted too: ``plain_val_mse``. The curves are drawn
    ``margin`` (15 %) beyond each end of the training interval, where the
    error is measured as ``extrap_mse`` (1/x and log10 x stop at x = lo / 2).

    ``quick``: a single initialisation.
    """
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        hidden=hidden,
        initialisations=initialisations,
        tol=tol,
        max_iter=max_iter,
        target_scaling=target_scaling,
        input_scaling=input_scaling,
        margin=margin,
        n_samples=n_samples,
    )
    draw(result, t, out_dir)
    return result.metrics
