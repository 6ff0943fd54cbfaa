"""``lab7`` (lecture section 7): the course's Lab 7, a cross-validated grid search over the
hidden nodes and the seed for 1/x, log₁₀ x, exp(−x) and sin x (the network, the split and
why the target is standardised: :mod:`mlplab.experiments._approximation`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from mlplab import datasets
from mlplab._checks import check_float, check_int
from mlplab.experiments._approximation import (
    NAMES,
    THRESHOLDS,
    WHY_TARGET_SCALING,
    mlp,
    mse,
    sizes_option,
    split,
)
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T

#: The course's Lab 7 functions, in the exercise's order.
LAB7_FUNCTIONS = ("inv", "log10", "exp", "sin")


def compute(
    *,
    seed: int,
    quick: bool,
    sizes: tuple,
    n_seeds: int,
    cv: int,
    tol: float,
    max_iter: int,
    target_scaling: bool,
    n_jobs: int,
    n_samples: int,
) -> Result:
    """The grid search for each of the Lab 7 functions (see :func:`run`)."""
    sizes = sizes_option(sizes, "sizes")
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
    model = mlp(
        (sizes[0],), random_state=None, tol=tol, max_iter=max_iter, target_scaling=target_scaling
    )
    kw = {"seed": seed, "cv": cv, "n_jobs": n_jobs, "n_samples": n_samples}
    results = {name: _search(name, model, grid, prefix, sizes, **kw) for name in LAB7_FUNCTIONS}
    n_candidates = len(sizes) * n_seeds
    names = list(LAB7_FUNCTIONS)
    val = {n: results[n]["val_mse"] for n in names}
    metrics = {
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
    return Result(metrics, {"results": results})


def _search(
    name: str,
    model,
    grid: dict[str, Any],
    prefix: str,
    sizes: tuple[int, ...],
    *,
    seed: int,
    cv: int,
    n_jobs: int,
    n_samples: int,
) -> dict[str, Any]:
    """The grid search for one function on its training split, scored once on the
    validation split; its predictions for the figure."""
    from sklearn.model_selection import GridSearchCV

    X, y = datasets.function(name, n_samples)
    X_tr, X_va, y_tr, y_va = split(X, y, seed)
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
    return {
        "best_params": {
            "hidden_layer_sizes": list(best["hidden_layer_sizes"]),
            "random_state": int(best["random_state"]),
        },
        "cv_mse": float(-search.best_score_),
        "cv_mse_by_size": {
            str(s): float(min(m for m, st in zip(cv_mse, sizes_tried, strict=True) if st == s))
            for s in sizes
        },
        "val_mse": mse(y_va, search.predict(X_va)),
        "seconds": round(seconds, 2),
        "x_va": X_va[:, 0],
        "y_va": y_va,
        "y_va_hat": search.predict(X_va),
        "x": x_dense,
        "y": datasets.FUNCTIONS[name][0](x_dense),
        "y_hat": search.predict(x_dense[:, None]),
    }


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``lab7_<function>.png`` per function: the fit and the validation error."""
    for name, r in result.data["results"].items():
        _plot_lab7(name, r, t, out_dir / f"lab7_{name}.png")


def _plot_lab7(name, r, t: T, path: Path) -> None:
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
        f"{t.lookup(NAMES, name)}: "
        + t("best", "melhor")
        + f" hidden_layer_sizes=({p['hidden_layer_sizes'][0]},), random_state={p['random_state']}"
    )
    fig.suptitle(
        t("Lab 7", "Laboratório 7")
        + f" — {t.lookup(NAMES, name)}: "
        + t("validation MSE", "EQM de validação")
        + f" {r['val_mse']:.2e}",
    )
    fig.tight_layout()
    save_figure(fig, path)


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
def run(
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
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        sizes=sizes,
        n_seeds=n_seeds,
        cv=cv,
        tol=tol,
        max_iter=max_iter,
        target_scaling=target_scaling,
        n_jobs=n_jobs,
        n_samples=n_samples,
    )
    draw(result, t, out_dir)
    return result.metrics
