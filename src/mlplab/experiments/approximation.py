"""Universal function approximation (lecture section 7): regression with one
hidden layer of logistic nodes, the course's Lab 7 grid search, and a capacity
sweep of one hidden layer against two on a smooth and a discontinuous target.

Every network here is ``mlplab.MLPRegressor(activation="logistic",
solver="lbfgs")``, as in the course, trained on N = 1000 linspace points split
70/30 (``train_test_split(test_size=0.3, random_state=seed)``); "validation
MSE" is measured on the 30 %.

Why the target is standardised (``target_scaling``). L-BFGS stops when the
largest component of the gradient falls below ``tol`` (scikit-learn's default
1e-4), or when one iteration lowers the loss by less than about 2.2e-9
(scipy's ``ftol``; absolute, because the loss is below 1). Both rules are
absolute, while the gradient of the squared error is proportional to the
residuals, so a target with a small spread stops early: 1/x on [1, 100] has a
variance of 0.0075, and the plain course network ((20,), default ``tol``)
stops there, on the gradient rule, at a validation MSE of 1.3e-5, above the
1e-5 the issue asks. Fitting the standardised target
(``TransformedTargetRegressor(..., transformer=StandardScaler())``, whose mean
and standard deviation come from the training split only, and whose
predictions are transformed back) makes both stopping rules relative to the
target's spread; the MSEs reported are in the original units. A smaller
``tol`` (1e-5) helps for the same reason, and both are used. Standardising the
input instead (``Pipeline(StandardScaler(), MLPRegressor())``, available as
``input_scaling=True``) was measured and does not help 1/x: 7.7e-5 with
``tol=1e-5``, the plain target, one initialisation, seed 0. Every selection among networks
(initialisations, sizes) uses the training split only: the training loss or
the cross-validation inside the training split, never the validation 30 %.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import datasets
from mlplab._checks import check_choice, check_float, check_int
from mlplab.experiments._registry import T, register, save_figure

#: The issue's thresholds on the validation MSE (full runs, not ``--quick``).
THRESHOLDS = {"x2": 1e-5, "inv": 1e-5, "sin": 1e-4, "log10": 1e-5, "exp": 1e-5}
#: Functions whose domain needs x > 0 (the extrapolation stops at half the lower end).
POSITIVE_DOMAIN = ("inv", "log10")
#: The course's Lab 7 functions, in the exercise's order.
LAB7_FUNCTIONS = ("inv", "log10", "exp", "sin")
#: Why the target is standardised, for the metrics (the module docstring says more).
WHY_TARGET_SCALING = (
    "L-BFGS stops on absolute thresholds (tol on the gradient, ftol on the loss decrease), "
    "so a target with a small spread stops early (1/x on [1, 100]: variance 0.0075); "
    "standardising the target on the training split makes them relative to its spread"
)
#: Jumps of the discontinuous targets of the capacity sweep, on [0, 2 pi].
JUMPS = (np.pi / 2, np.pi, 3 * np.pi / 2)

_NAMES = {
    "en": {"x2": "x²", "inv": "1/x", "sin": "sin x", "log10": "log₁₀ x", "exp": "exp(−x)"},
    "pt": {"x2": "x²", "inv": "1/x", "sin": "sen x", "log10": "log₁₀ x", "exp": "exp(−x)"},
}


# ---------------------------------------------------------------- helpers


def _mlp(
    hidden, *, random_state, tol, max_iter, alpha=1e-4, target_scaling=True, input_scaling=False
):
    """The course's network (logistic hidden layers, L-BFGS), optionally with
    the input and/or the target standardised on the training data."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlplab.sklearn.estimators import MLPRegressor

    model = MLPRegressor(
        hidden_layer_sizes=tuple(hidden),
        activation="logistic",
        solver="lbfgs",
        alpha=alpha,
        tol=tol,
        max_iter=max_iter,
        random_state=random_state,
        convergence_warning=False,
    )
    if input_scaling:
        model = make_pipeline(StandardScaler(), model)
    if target_scaling:
        model = TransformedTargetRegressor(model, transformer=StandardScaler())
    return model


def _net(model):
    """The fitted MLPRegressor inside a (target-transformed, piped) model."""
    model = getattr(model, "regressor_", model)
    return model[-1] if hasattr(model, "steps") else model


def _split(X, y, seed):
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.3, random_state=seed)


def _mse(y, y_hat) -> float:
    return float(np.mean((np.asarray(y) - np.asarray(y_hat)) ** 2))


def _n_weights(hidden) -> int:
    """Weights and biases of a 1-input, 1-output network with these hidden layers."""
    sizes = [1, *hidden, 1]
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))


def _extended(name: str, margin: float) -> tuple[float, float]:
    """The training interval widened by ``margin`` of its width on each side
    (for 1/x and log10 x at most down to half the lower end: they need x > 0)."""
    lo, hi = datasets.FUNCTIONS[name][1]
    pad = margin * (hi - lo)
    a = lo - pad
    if name in POSITIVE_DOMAIN:
        a = max(a, lo / 2)
    return a, hi + pad


def _sizes(value, name: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) or not hasattr(value, "__iter__"):
        value = [value]
    out = tuple(check_int(name, v, minimum=1) for v in value)
    if not out:
        raise ValueError(f"`{name}` must list at least one size. Received: {name}={value!r}.")
    return out


# ------------------------------------------------------------- regression


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
)
def regression(
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
    hidden = check_int("hidden", hidden, minimum=1)
    initialisations = 1 if quick else check_int("initialisations", initialisations, minimum=1)
    tol = check_float("tol", tol, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    margin = check_float("margin", margin, minimum=0.0)
    n_samples = check_int("n_samples", n_samples, minimum=10)
    names = list(datasets.FUNCTIONS)
    fits: dict[str, dict[str, Any]] = {}
    for name in names:
        f = datasets.FUNCTIONS[name][0]
        X, y = datasets.function(name, n_samples)
        X_tr, X_va, y_tr, y_va = _split(X, y, seed)
        best, best_loss, best_rs = None, np.inf, None
        for rs in range(seed, seed + initialisations):
            model = _mlp(
                (hidden,),
                random_state=rs,
                tol=tol,
                max_iter=max_iter,
                target_scaling=target_scaling,
                input_scaling=input_scaling,
            ).fit(X_tr, y_tr)
            if _net(model).loss_ < best_loss:
                best, best_loss, best_rs = model, _net(model).loss_, rs
        plain = _mlp(
            (hidden,), random_state=seed, tol=1e-4, max_iter=max_iter, target_scaling=False
        ).fit(X_tr, y_tr)
        (lo, hi), (a, b) = datasets.FUNCTIONS[name][1], _extended(name, margin)
        space = np.geomspace if name == "inv" else np.linspace
        x_in = space(lo, hi, 400)
        x_left = space(a, lo, 101)[:-1] if a < lo else np.empty(0)
        x_right = space(hi, b, 101)[1:] if b > hi else np.empty(0)
        x_out = np.concatenate([x_left, x_right])
        x_all = np.concatenate([x_left, x_in, x_right])
        fits[name] = {
            "x_tr": X_tr[:, 0],
            "y_tr": y_tr,
            "x": x_all,
            "y": f(x_all),
            "y_hat": best.predict(x_all[:, None]),
            "y_plain": plain.predict(x_all[:, None]),
            "interval": (lo, hi),
            "extended": (a, b),
            "val_mse": _mse(y_va, best.predict(X_va)),
            "plain_val_mse": _mse(y_va, plain.predict(X_va)),
            "train_mse": _mse(y_tr, best.predict(X_tr)),
            "extrap_mse": _mse(f(x_out), best.predict(x_out[:, None])) if len(x_out) else None,
            "random_state": best_rs,
            "n_iter": _net(best).n_iter_,
        }

    _plot_regression(fits, names, t, lang, out_dir / "regression_fits.png")
    val = {n: fits[n]["val_mse"] for n in names}
    return {
        "functions": names,
        "val_mse": val,
        "val_mse_threshold": {n: THRESHOLDS[n] for n in names},
        "below_threshold": {n: bool(val[n] <= THRESHOLDS[n]) for n in names},
        "all_below_threshold": all(val[n] <= THRESHOLDS[n] for n in names),
        "train_mse": {n: fits[n]["train_mse"] for n in names},
        "extrap_mse": {n: fits[n]["extrap_mse"] for n in names},
        "extrapolation_interval": {n: [float(v) for v in fits[n]["extended"]] for n in names},
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
        "n_weights": _n_weights((hidden,)),
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


def _plot_regression(fits, names, t, lang, path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 7.5), squeeze=False)
    for j, name in enumerate(names):
        d = fits[name]
        top, bottom = axes[0, j], axes[1, j]
        (lo, hi), (a, b) = d["interval"], d["extended"]
        for ax in (top, bottom):
            if a < lo:
                ax.axvspan(a, lo, color="0.85", zorder=0)
            if b > hi:
                ax.axvspan(hi, b, color="0.85", zorder=0, label=t("extrapolation", "extrapolação"))
            if name == "inv":
                ax.set_xscale("log")
            ax.set_xlim(a, b)
            ax.set_xlabel("x")
        top.scatter(
            d["x_tr"],
            d["y_tr"],
            s=4,
            color="tab:blue",
            alpha=0.35,
            label=t("training points", "pontos de treino"),
        )
        top.plot(d["x"], d["y"], color="k", lw=1.5, label=t("true function", "função verdadeira"))
        top.plot(d["x"], d["y_hat"], "--", color="tab:red", lw=1.5, label=t("MLP", "MLP"))
        top.set_title(
            f"{_NAMES[lang][name]}: "
            + t("validation MSE", "EQM de validação")
            + f" {d['val_mse']:.1e}"
        )
        err = np.abs(d["y_hat"] - d["y"])
        err_plain = np.abs(d["y_plain"] - d["y"])
        bottom.semilogy(
            d["x"], np.maximum(err, 1e-12), color="tab:red", lw=1, label=t("MLP", "MLP")
        )
        bottom.semilogy(
            d["x"],
            np.maximum(err_plain, 1e-12),
            color="tab:gray",
            lw=1,
            alpha=0.8,
            label=t(
                "plain course network (tol=1e-4, no scaling)",
                "rede simples do curso (tol=1e-4, sem padronização)",
            ),
        )
        bottom.set_title(t("absolute error |ŷ − y|", "erro absoluto |ŷ − y|"))
    axes[0, 0].legend(loc="best", fontsize=8)
    axes[1, 0].legend(loc="best", fontsize=8)
    axes[0, 0].set_ylabel("y")
    axes[1, 0].set_ylabel(t("absolute error", "erro absoluto"))
    fig.suptitle(
        t(
            "One hidden layer of logistic nodes: fit inside the training interval, "
            "extrapolation (grey) outside it",
            "Uma camada oculta de nós logísticos: ajuste dentro do intervalo de treino, "
            "extrapolação (cinza) fora dele",
        )
    )
    fig.tight_layout()
    save_figure(fig, path)


# ------------------------------------------------------------------- lab7


@register(
    "lab7",
    section="7",
    order=11,
    title={
        "en": "Lab 7: a 10-fold cross-validated grid search over the hidden nodes and the seed "
        "for 1/x, log₁₀ x, exp(−x) and sin x",
        "pt": "Laboratório 7: busca em grade com validação cruzada em 10 partições sobre o número "
        "de nós ocultos e a semente para 1/x, log₁₀ x, exp(−x) e sen x",
    },
    claim={
        "en": "The right architecture is found by search: a grid search over the number of hidden "
        "nodes and the initialisation, scored by cross-validation on the training split, picks "
        "a network whose validation MSE is ≤ 10⁻⁵ (≤ 10⁻⁴ for sin x).",
        "pt": "A arquitetura certa se encontra por busca: uma busca em grade sobre o número de nós "
        "ocultos e a inicialização, avaliada por validação cruzada no conjunto de treino, escolhe "
        "uma rede cujo EQM de validação é ≤ 10⁻⁵ (≤ 10⁻⁴ para sen x).",
    },
)
def lab7(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    sizes: tuple = (5, 10, 20),
    n_seeds: int = 10,
    cv: int = 10,
    tol: float = 1e-5,
    max_iter: int = 2000,
    target_scaling: bool = True,
    n_jobs: int = -1,
    n_samples: int = 1000,
) -> dict[str, Any]:
    """The course's Lab 7 with GridSearchCV, for 1/x, log10 x, exp(-x) and sin x.

    For each function: N = 1000 linspace points, the 70/30 split, then
    ``GridSearchCV(model, {"hidden_layer_sizes": [(5,), (10,), (20,)],
    "random_state": range(seed, seed + 10)}, cv=10,
    scoring="neg_mean_squared_error", n_jobs=-1)`` on the training 70 %, where
    ``model`` is ``MLPRegressor(activation="logistic", solver="lbfgs",
    max_iter=2000, tol=1e-5, convergence_warning=False)`` fitted on the
    standardised target (``TransformedTargetRegressor(model,
    transformer=StandardScaler())``; see the module docstring). Measured at
    seed 0: the exercise verbatim (plain target, default ``tol=1e-4``) misses
    1e-5 for 1/x (1.04e-5) and log10 x (2.1e-5); either fix alone passes
    (standardised target: 1/x 6.3e-6; ``tol=1e-5``: 1/x 1.1e-6), and both
    together give the largest margin, so both are the default.
    Cross-validation scores are in the original units, so the search ranks
    what the validation MSE measures. The best estimator (refitted on the
    whole training split) is scored once on the validation 30 %.
    ``--set target_scaling=false --set tol=1e-4`` runs the exercise verbatim.

    ``quick``: the first and last size, 2 seeds and 3 folds (12 fits per function).
    """
    from sklearn.model_selection import GridSearchCV

    t = T(lang)
    sizes = _sizes(sizes, "sizes")
    n_seeds = check_int("n_seeds", n_seeds, minimum=1)
    cv = check_int("cv", cv, minimum=2)
    tol = check_float("tol", tol, minimum=0.0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    n_jobs = check_int("n_jobs", n_jobs)
    n_samples = check_int("n_samples", n_samples, minimum=10 * cv)
    if quick:
        sizes, n_seeds, cv = tuple(dict.fromkeys((sizes[0], sizes[-1]))), min(n_seeds, 2), 3
    grid = {
        "hidden_layer_sizes": [(s,) for s in sizes],
        "random_state": list(range(seed, seed + n_seeds)),
    }
    prefix = "regressor__" if target_scaling else ""
    model = _mlp(
        (sizes[0],), random_state=None, tol=tol, max_iter=max_iter, target_scaling=target_scaling
    )
    results: dict[str, dict[str, Any]] = {}
    for name in LAB7_FUNCTIONS:
        X, y = datasets.function(name, n_samples)
        X_tr, X_va, y_tr, y_va = _split(X, y, seed)
        search = GridSearchCV(
            model,
            {prefix + k: v for k, v in grid.items()},
            cv=cv,
            scoring="neg_mean_squared_error",
            n_jobs=n_jobs,
        )
        t0 = time.perf_counter()
        search.fit(X_tr, y_tr)
        seconds = time.perf_counter() - t0
        best = {k.removeprefix(prefix): v for k, v in search.best_params_.items()}
        cv_mse = -search.cv_results_["mean_test_score"]
        sizes_tried = [p[prefix + "hidden_layer_sizes"][0] for p in search.cv_results_["params"]]
        lo, hi = datasets.FUNCTIONS[name][1]
        x_dense = (np.geomspace if name == "inv" else np.linspace)(lo, hi, 500)
        results[name] = {
            "best_params": {
                "hidden_layer_sizes": list(best["hidden_layer_sizes"]),
                "random_state": int(best["random_state"]),
            },
            "cv_mse": float(-search.best_score_),
            "cv_mse_by_size": {
                str(s): float(min(m for m, st in zip(cv_mse, sizes_tried, strict=True) if st == s))
                for s in sizes
            },
            "val_mse": _mse(y_va, search.predict(X_va)),
            "seconds": round(seconds, 2),
            "x_va": X_va[:, 0],
            "y_va": y_va,
            "y_va_hat": search.predict(X_va),
            "x": x_dense,
            "y": datasets.FUNCTIONS[name][0](x_dense),
            "y_hat": search.predict(x_dense[:, None]),
        }
        _plot_lab7(name, results[name], t, lang, out_dir / f"lab7_{name}.png")

    n_candidates = len(sizes) * n_seeds
    names = list(LAB7_FUNCTIONS)
    val = {n: results[n]["val_mse"] for n in names}
    return {
        "functions": names,
        "grid": {
            "hidden_layer_sizes": [[s] for s in sizes],
            "random_state": grid["random_state"],
        },
        "cv": cv,
        "n_fits": n_candidates * cv * len(names),
        "n_refits": len(names),
        "best_params": {n: results[n]["best_params"] for n in names},
        "best_nodes": {n: results[n]["best_params"]["hidden_layer_sizes"][0] for n in names},
        "best_random_state": {n: results[n]["best_params"]["random_state"] for n in names},
        "cv_mse": {n: results[n]["cv_mse"] for n in names},
        "cv_mse_by_size": {n: results[n]["cv_mse_by_size"] for n in names},
        "val_mse": val,
        "val_mse_threshold": {n: THRESHOLDS[n] for n in names},
        "below_threshold": {n: bool(val[n] <= THRESHOLDS[n]) for n in names},
        "all_below_threshold": all(val[n] <= THRESHOLDS[n] for n in names),
        "search_seconds": {n: results[n]["seconds"] for n in names},
        "estimator": f"MLPRegressor(activation='logistic', solver='lbfgs', max_iter={max_iter}, "
        f"tol={tol:g}, convergence_warning=False)",
        "target_scaling": "standard" if target_scaling else "none",
        "why_target_scaling": WHY_TARGET_SCALING,
        "scoring": "neg_mean_squared_error",
        "n_jobs": n_jobs,
        "n_samples": n_samples,
        "split": "70/30, train_test_split(test_size=0.3, random_state=seed)",
    }


def _plot_lab7(name, r, t, lang, path) -> None:
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    order = np.argsort(r["x_va"])
    ax1.plot(r["x"], r["y"], color="k", lw=1.5, label=t("true function", "função verdadeira"))
    ax1.plot(r["x"], r["y_hat"], "--", color="tab:red", lw=1.5, label=t("prediction", "predição"))
    ax1.scatter(
        r["x_va"],
        r["y_va_hat"],
        s=5,
        color="tab:orange",
        zorder=3,
        label=t("prediction on validation points", "predição nos pontos de validação"),
    )
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.legend(fontsize=8)
    ax2.semilogy(
        r["x_va"][order],
        np.maximum(np.abs(r["y_va_hat"] - r["y_va"])[order], 1e-12),
        ".",
        ms=3,
        color="tab:orange",
    )
    ax2.set_xlabel("x")
    ax2.set_title(
        t("absolute error on the validation points", "erro absoluto nos pontos de validação")
    )
    if name == "inv":
        ax1.set_xscale("log")
        ax2.set_xscale("log")
    p = r["best_params"]
    ax1.set_title(
        f"{_NAMES[lang][name]}: "
        + t("best", "melhor")
        + f" hidden_layer_sizes=({p['hidden_layer_sizes'][0]},), random_state={p['random_state']}"
    )
    fig.suptitle(
        t("Lab 7", "Laboratório 7")
        + f" — {_NAMES[lang][name]}: "
        + t("validation MSE", "EQM de validação")
        + f" {r['val_mse']:.2e}",
    )
    fig.tight_layout()
    save_figure(fig, path)


# ------------------------------------------------- universal approximation


def _square(x: np.ndarray) -> np.ndarray:
    """+1 and -1 alternating between the jumps at pi/2, pi and 3 pi/2 (+1 on [0, pi/2))."""
    k = np.searchsorted(np.asarray(JUMPS), x, side="right")
    return np.where(k % 2 == 0, 1.0, -1.0)


def _sawtooth(x: np.ndarray) -> np.ndarray:
    """Ramps from -1 to +1 on each quarter [k pi/2, (k+1) pi/2), jumping back at JUMPS."""
    quarter = np.pi / 2
    k = np.minimum(np.searchsorted(np.asarray(JUMPS), x, side="right"), len(JUMPS))
    return 2 * (x - k * quarter) / quarter - 1


#: Targets of the capacity sweep on [0, 2 pi]: name -> (function, discontinuous?).
SWEEP_TARGETS = {"sin": (np.sin, False), "square": (_square, True), "sawtooth": (_sawtooth, True)}


def _sweep_fit(X_tr, y_tr, X_eval, hidden, random_state, max_iter, alpha):
    """One capacity-sweep network: (training loss, n_iter, predictions on X_eval)."""
    model = _mlp(hidden, random_state=random_state, tol=1e-5, max_iter=max_iter, alpha=alpha)
    model.fit(X_tr, y_tr)
    return _net(model).loss_, _net(model).n_iter_, model.predict(X_eval)


def _gap_mask(x_tr: np.ndarray, x_va: np.ndarray) -> np.ndarray:
    """Validation points inside a jump's gap: between the last training point before
    the jump and the first one after it, where the samples cannot say where it is."""
    inside = np.zeros(len(x_va), dtype=bool)
    for c in JUMPS:
        left, right = x_tr[x_tr < c], x_tr[x_tr > c]
        a = left.max() if len(left) else -np.inf
        b = right.min() if len(right) else np.inf
        inside |= (x_va > a) & (x_va < b)
    return inside


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
)
def universal_approximation(
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
    from sklearn.utils.parallel import Parallel, delayed

    t = T(lang)
    nodes = _sizes(nodes, "nodes")
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
        X_tr, X_va, y_tr, y_va = _split(x[:, None], y, seed)
        data[name] = (X_tr, X_va, y_tr, y_va)
    archs = [(1, (n,), n) for n in nodes] + [(2, two(n), n) for n in nodes if two(n)]
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

    rows, curves = [], {}
    gaps = {}
    for name in targets:
        X_tr, X_va, y_tr, y_va = data[name]
        in_gap = _gap_mask(X_tr[:, 0], X_va[:, 0]) if SWEEP_TARGETS[name][1] else None
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
                "n_weights": _n_weights(h),
                "train_mse": _mse(y_tr, p_tr),
                "val_mse": _mse(y_va, p_va),
                "n_iter": int(n_iter),
            }
            if in_gap is not None:
                row["val_mse_outside_gaps"] = _mse(y_va[~in_gap], p_va[~in_gap])
            rows.append(row)

    floor = 4.0 / len(data[discontinuous][1])  # a jump of 2, squared, over n_val
    _plot_sweep(rows, targets, "nodes", floor, t, lang, out_dir / "capacity_vs_nodes.png")
    _plot_sweep(rows, targets, "n_weights", floor, t, lang, out_dir / "capacity_vs_weights.png")
    _plot_sweep_fits(curves, data, x_dense, targets, archs, t, lang, out_dir / "capacity_fits.png")

    metrics: dict[str, Any] = {
        "targets": targets,
        "nodes": list(nodes),
        "two_layers": two_layers,
        "two_layer_sizes": {str(n): list(two(n)) for n in nodes if two(n)},
        "initialisations": initialisations,
        "selection": "lowest training loss among the initialisations",
        "max_iter": max_iter,
        "alpha": alpha,
        "target_scaling": "standard",
        "sweep": rows,
    }
    for name in targets:
        for layers in (1, 2):
            sel = [r for r in rows if r["target"] == name and r["layers"] == layers]
            tag = f"{name}_{layers}_layer{'s' * (layers > 1)}"
            metrics[f"val_mse_{tag}"] = {str(r["nodes"]): r["val_mse"] for r in sel}
            metrics[f"train_mse_{tag}"] = {str(r["nodes"]): r["train_mse"] for r in sel}
            if SWEEP_TARGETS[name][1]:
                metrics[f"val_mse_outside_gaps_{tag}"] = {
                    str(r["nodes"]): r["val_mse_outside_gaps"] for r in sel
                }
    metrics["best_val_mse"] = {
        f"{name}_{layers}_layer{'s' * (layers > 1)}": min(
            r["val_mse"] for r in rows if r["target"] == name and r["layers"] == layers
        )
        for name in targets
        for layers in (1, 2)
        if any(r["target"] == name and r["layers"] == layers for r in rows)
    }
    metrics["best_train_mse"] = {
        k: min(
            r["train_mse"]
            for r in rows
            if f"{r['target']}_{r['layers']}_layer{'s' * (r['layers'] > 1)}" == k
        )
        for k in metrics["best_val_mse"]
    }
    n_va = len(data[discontinuous][1])
    metrics["val_points_in_jump_gaps"] = int(gaps[discontinuous].sum())
    metrics["n_val"] = n_va
    metrics["val_mse_per_misplaced_point"] = 4.0 / n_va
    return metrics


def _tag(layers: int, t) -> str:
    return (
        t("1 hidden layer", "1 camada oculta")
        if layers == 1
        else t("2 hidden layers", "2 camadas ocultas")
    )


def _target_name(name: str, t, lang: str) -> str:
    return {
        "sin": _NAMES[lang]["sin"] + t(" (smooth)", " (suave)"),
        "square": t("square wave (3 jumps)", "onda quadrada (3 saltos)"),
        "sawtooth": t("sawtooth (3 jumps)", "dente de serra (3 saltos)"),
    }[name]


def _plot_sweep(rows, targets, xkey, floor, t, lang, path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(targets), figsize=(6.2 * len(targets), 4.6), squeeze=False)
    colors = {1: "tab:blue", 2: "tab:orange"}
    for ax, name in zip(axes[0], targets, strict=True):
        for layers in (1, 2):
            sel = sorted(
                (r for r in rows if r["target"] == name and r["layers"] == layers),
                key=lambda r: r[xkey],
            )
            if not sel:
                continue
            xs = [r[xkey] for r in sel]
            c = colors[layers]
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
                    + t(
                        ": validation outside jump gaps", ": validação fora das lacunas dos saltos"
                    ),
                )
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
        ax.set_title(_target_name(name, t, lang))
        ax.set_xlabel(
            t("total hidden nodes", "total de nós ocultos")
            if xkey == "nodes"
            else t(
                "number of weights and biases (degrees of freedom)",
                "número de pesos e vieses (graus de liberdade)",
            )
        )
        ax.set_ylabel(t("MSE", "EQM"))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(
        t(
            "Capacity: error against the number of hidden nodes",
            "Capacidade: erro em função do número de nós ocultos",
        )
        if xkey == "nodes"
        else t(
            "Capacity: error against the number of weights",
            "Capacidade: erro em função do número de pesos",
        )
    )
    fig.tight_layout()
    save_figure(fig, path)


def _plot_sweep_fits(curves, data, x_dense, targets, archs, t, lang, path) -> None:
    import matplotlib.pyplot as plt

    both = sorted({n for layers, _, n in archs if layers == 2})
    shown = both if len(both) <= 3 else [both[0], both[len(both) // 2], both[-1]]
    if not shown:
        shown = sorted({n for _, _, n in archs})[-3:]
    fig, axes = plt.subplots(len(targets), 2, figsize=(12, 3.8 * len(targets)), squeeze=False)
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
                        label=t(f"{n} hidden nodes", f"{n} nós ocultos"),
                    )
            ax.set_title(f"{_target_name(name, t, lang)} — {_tag(layers, t)}")
            ax.set_xlabel("x")
            ax.legend(fontsize=7, loc="lower left")
    fig.suptitle(
        t(
            "Fitted curves for a few sizes (total hidden nodes)",
            "Curvas ajustadas para alguns tamanhos (total de nós ocultos)",
        )
    )
    fig.tight_layout()
    save_figure(fig, path)
