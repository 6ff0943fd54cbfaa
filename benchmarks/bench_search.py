#!/usr/bin/env python3
"""Batched search benchmark: many small networks trained at once, beside scikit-learn and PyTorch.

Five measurements on the course's 1-D regressions (see benchmarks/README.md for the details):

1. lab7     -- the course's Lab 7 grid on 1/x, log10 x, exp(-x) and sin x: GridSearchCV over
   hidden sizes [(5,), (10,), (20,)] x random_state range(10), cv=10, logistic, lbfgs,
   neg MSE, n_jobs=-1 (300 fits + refit per function): scikit-learn's GridSearchCV with its
   MLPRegressor against mlplab's batched GridSearchCV with mlplab's (float64 and float32).
   Targets: mlplab >= 20x faster; test MSE of best_estimator_ <= 1.1x scikit-learn's.
2. x2       -- the notebook's x^2 grid: 6 architectures x 4 activations x 3 solvers x 10 seeds,
   cv=10 (7200 fits). scikit-learn's run (minutes) runs once in full mode.
   Targets: mlplab >= 20x faster; best CV MSE <= scikit-learn's.
3. ensemble -- 100 seeds of a 1-10-1 logistic net, Adam, 1000 full-batch steps on 700 points:
   mlplab.fit_many against 100 sequential mlplab fits and PyTorch (torch.func: vmap over
   stacked parameters), float64 and float32; final-loss distribution of each.
4. notebook -- a course-style notebook cell (the Lab 7 grid loop, scikit-learn imports and
   defaults, n_jobs=-1), unchanged, run with scikit-learn and inside mlplab.patched_sklearn().
   Target: >= 3x faster with the patch; the same printed best_params_/best_score_.
5. pipeline -- Pipeline(StandardScaler(), MLPRegressor) on 1/x: hidden sizes [(5,), (10,), (20,)]
   x random_state range(10), cv=10 (300 fits + refit), logistic, lbfgs, scikit-learn's defaults
   otherwise, neg MSE, n_jobs=-1: scikit-learn's GridSearchCV over its Pipeline against
   mlplab's over the same Pipeline with mlplab's MLPRegressor. Target: mlplab >= 5x faster.

Competitors run interleaved (round robin, the order rotated every round); medians are quoted.

Usage:
    python benchmarks/bench_search.py [--quick] [--json PATH]
                                      [--only lab7|x2|ensemble|notebook|pipeline|eval]
                                      [--skip-sklearn-x2] [--lab7-defaults] [--exact-false]

--exact-false adds mlplab's exact=False to Lab 7 (targets: >= 10x scikit-learn, test MSE
<= 1.5x per function, geometric mean <= 1.1x) and to the x^2 grid (targets: >= 20x
scikit-learn, best CV MSE <= scikit-learn's), and runs "eval": one stacked
loss-and-gradient evaluation (100 x 1-20-1 logistic, 630 points) exact and exact=False
(float64, float32) against the elementwise floor measured in the same run (target: <= 2x the
floor), and, when numba is installed, the same evaluation as one numba-compiled fused loop.

--skip-sklearn-x2 reuses scikit-learn's x^2 figures from the last JSON (--json PATH, else
benchmarks/results/search.json). The exit status is 0 when every mlplab measurement ran.
"""

from __future__ import annotations

import copy
import datetime
import gc
import json
import os
import sys
import time
import warnings

import numpy as np

from _common import (  # also exits when threadpoolctl is missing
    DEADLINE,
    ERRORS,
    NOTES,
    REPO,
    SRC,
    base_parser,
    finish,
    freeze_gc,
    import_mlplab,
    machine_facts,
    md_table,
    print_blas,
    print_facts_head,
    record_error,
    start,
    summary,
)

try:
    import sklearn
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV, KFold, ParameterGrid, train_test_split
    from sklearn.neural_network import MLPRegressor as SkMLPRegressor
except ImportError as exc:  # pragma: no cover - the reference must be there
    sys.exit(f"bench_search.py needs scikit-learn ({exc})")

# ----------------------------------------------------------------------------------------
# configuration
# ----------------------------------------------------------------------------------------
LAB7_FUNCTIONS = ("1/x", "log10 x", "exp(−x)", "sin x")
X2_ARCHS = [(10,), (20,), (40,), (10, 10), (20, 10), (40, 20, 10)]
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
SOLVERS = ["lbfgs", "sgd", "adam"]

FULL = dict(
    lab7_functions=LAB7_FUNCTIONS,
    lab7_sizes=[(5,), (10,), (20,)],
    lab7_seeds=10,
    lab7_cv=10,
    lab7_reps=3,  # timed GridSearchCV.fit per library and function (interleaved)
    x2_archs=X2_ARCHS,
    x2_seeds=10,
    x2_cv=10,
    x2_ml_reps=2,  # timed mlplab runs (one before and the rest after scikit-learn's)
    x2_sklearn=True,  # scikit-learn's x² run (once: minutes)
    ens_seeds=100,
    ens_steps=1000,
    ens_reps=3,  # interleaved rounds (each variant trains the whole ensemble per round)
    notebook_reps=2,  # timed runs of the notebook cell per variant (interleaved)
    pipe_seeds=10,
    pipe_cv=10,
    pipe_reps=3,  # timed GridSearchCV.fit per library (interleaved)
    budget_s=None,  # no time budget: every round runs
)
QUICK = dict(  # a smoke test: the figures are indicative only
    lab7_functions=("1/x", "sin x"),
    lab7_sizes=[(5,), (20,)],
    lab7_seeds=2,
    lab7_cv=3,
    lab7_reps=1,
    x2_archs=[(10,), (10, 10)],
    x2_seeds=2,
    x2_cv=3,
    x2_ml_reps=1,
    x2_sklearn=False,
    ens_seeds=20,
    ens_steps=100,
    ens_reps=1,
    notebook_reps=1,
    pipe_seeds=2,
    pipe_cv=3,
    pipe_reps=1,
    budget_s=40.0,  # past this (from the start), remaining timed rounds are cut (>= 1 kept)
)

N_POINTS = 1000  # linspace points of each function
TEST_SIZE = 0.3
SEED = 0  # train_test_split(random_state=0), as experiments.approximation.lab7 at seed 0
LAB7_NET = dict(activation="logistic", solver="lbfgs", max_iter=2000, tol=1e-5)
# --lab7-defaults: the exercise as students run it (scikit-learn's defaults: max_iter 200, tol 1e-4)
LAB7_DEFAULTS = dict(activation="logistic", solver="lbfgs", max_iter=200, tol=1e-4)
SPEED_TARGET = 20.0  # mlplab >= 20x faster than scikit-learn
# 5. the Pipeline case: the Lab 7 exercise's network with scikit-learn's defaults, inputs scaled
PIPE_FUNCTION = "1/x"
PIPE_NET = dict(activation="logistic", solver="lbfgs")
PIPE_SIZES = [(5,), (10,), (20,)]
PIPE_TARGET = 5.0  # mlplab >= 5x faster than scikit-learn
MSE_SLACK = 1.1  # test MSE of best_estimator_ <= 1.1x scikit-learn's
FAST_SPEED_TARGET = 10.0  # issue 15: exact=False >= 10x scikit-learn's GridSearchCV(n_jobs=-1)
FAST_MSE_SLACK = 1.5  # issue 15: exact=False, per function test MSE <= 1.5x scikit-learn's
EXACT_FALSE = False  # --exact-false
ENS_NET = dict(
    hidden_layer_sizes=(10,),
    activation="logistic",
    solver="adam",
    shuffle=False,
    tol=0.0,
)
ALPHA = 1e-4  # the estimators' default L2, used by the PyTorch ensemble too
DEFAULT_JSON = REPO / "benchmarks" / "results" / "search.json"

#: name -> (function, interval), as mlplab.datasets.FUNCTIONS
FUNCTIONS = {
    "x²": (np.square, (-1.0, 1.0)),
    "1/x": (np.reciprocal, (1.0, 100.0)),
    "sin x": (np.sin, (0.0, 2 * np.pi)),
    "log10 x": (np.log10, (1.0, 10.0)),
    "exp(−x)": (lambda x: np.exp(-x), (1.0, 10.0)),
}


# ----------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------
def finite(x):
    return x is not None and isinstance(x, (int, float, np.floating)) and bool(np.isfinite(x))


def fmt(x, nd=2):
    return f"{x:.{nd}f}" if finite(x) else "n/a"


def fmt_g(x, nd=3):
    return f"{x:.{nd}g}" if finite(x) else "n/a"


def fmt_x(x):
    return f"{x:.1f}×" if finite(x) else "n/a"


def ratio(a, b):
    return float(a) / float(b) if finite(a) and finite(b) and b else float("nan")


def past_deadline():
    return DEADLINE[0] is not None and time.perf_counter() > DEADLINE[0]


def budget_note():
    note = "--quick time budget reached: some tables have fewer timed rounds than configured"
    if note not in NOTES:
        NOTES.append(note)


def function_split(name):
    """N_POINTS linspace points of a lecture function, 70/30 train/test split."""
    f, (lo, hi) = FUNCTIONS[name]
    x = np.linspace(lo, hi, N_POINTS)
    X, y = x.reshape(-1, 1), f(x)
    return train_test_split(X, y, test_size=TEST_SIZE, random_state=SEED)


def jsonable_params(params):
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(params).items()}


def params_text(params, keys=None):
    keys = keys or sorted(params)
    out = []
    for k in keys:
        v = params.get(k)
        if k == "hidden_layer_sizes":
            out.append(str(tuple(v)).replace(" ", ""))
        elif k == "random_state":
            out.append(f"seed {v}")
        else:
            out.append(str(v))
    return ", ".join(out)


class Variant:
    """One competitor: ``prepare()`` (untimed) gives a fresh object, ``timed(obj)`` is timed,
    ``after(obj)`` (untimed) gives its figures."""

    def __init__(self, name, prepare, timed, after, is_mlplab):
        self.name, self.prepare, self.timed, self.after = name, prepare, timed, after
        self.is_mlplab = is_mlplab
        self.times_s: list[float] = []
        self.figures: list[dict] = []
        self.error: str | None = None
        self.warned: list[str] = []

    def fail(self, where, exc):
        self.error = f"{type(exc).__name__}: {exc}"
        if self.is_mlplab:
            record_error(f"{self.name} ({where})", exc)
        else:
            NOTES.append(f"{self.name} ({where}) failed: {self.error}")

    def run_once(self):
        """One timed call (gc collected before, disabled inside); warnings recorded."""
        obj = self.prepare()
        gc.collect()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            warnings.filterwarnings("ignore", category=ConvergenceWarning)
            gc.disable()
            try:
                t0 = time.perf_counter()
                self.timed(obj)
                t1 = time.perf_counter()
            finally:
                gc.enable()
        for w in caught:
            msg = f"{w.category.__name__}: {str(w.message)[:200]}"
            if msg not in self.warned:
                self.warned.append(msg)
        self.times_s.append(t1 - t0)
        self.figures.append(self.after(obj))


def run_interleaved(variants, rounds):
    """Round robin over the variants, the starting one rotated every round.

    Past DEADLINE (--quick) no further round starts (>= 1 runs).
    """
    for r in range(rounds):
        live = [v for v in variants if v.error is None]
        if not live:
            break
        if r >= 1 and past_deadline():
            budget_note()
            break
        k = r % len(live)
        for v in live[k:] + live[:k]:
            try:
                v.run_once()
            except Exception as exc:  # noqa: BLE001
                v.fail(f"round {r + 1}", exc)


def timing_cell(v):
    if v is None:
        return "n/a"
    if not v.times_s:
        return f"failed: {v.error}" if v.error else "n/a"
    s = summary(v.times_s)
    return f"{fmt(s['median'], 2)} ({fmt(s['min'], 2)})" if s["n"] > 1 else fmt(s["median"], 2)


def median_of(v):
    return summary(v.times_s)["median"] if v is not None and v.times_s else float("nan")


# ----------------------------------------------------------------------------------------
# mlplab's search (or a stand-in while mlplab.search is missing)
# ----------------------------------------------------------------------------------------
class StandinGridSearch:
    """GridSearchCV's work done with ``mlplab.batched.fit_members`` (used only while
    ``mlplab.search.GridSearchCV`` is missing): candidates x KFold splits fitted together,
    neg MSE on each test fold, the best mean picked as scikit-learn does (first of ties),
    refitted on all rows."""

    def __init__(self, estimator, param_grid, *, cv, scoring, n_jobs):
        assert scoring == "neg_mean_squared_error"
        self.estimator, self.param_grid, self.cv, self.n_jobs = estimator, param_grid, cv, n_jobs

    def fit(self, X, y):
        from mlplab.sklearn.batched import fit_members

        splits = list(KFold(self.cv).split(X, y))
        cands = list(ParameterGrid(self.param_grid))
        ests = [clone(self.estimator).set_params(**p) for p in cands for _ in splits]
        rows = [tr for _ in cands for tr, _te in splits]
        fits = fit_members(ests, X, y, rows, n_jobs=self.n_jobs)
        tests = [te for _ in cands for _tr, te in splits]
        preds = fits.predict_all([X[te] for te in tests])
        scores = np.array([-np.mean((y[te] - p) ** 2) for te, p in zip(tests, preds, strict=True)])
        mean = scores.reshape(len(cands), len(splits)).mean(axis=1)
        best = int(np.flatnonzero(mean == mean.max())[0])
        self.best_params_, self.best_score_ = cands[best], float(mean[best])
        self.best_estimator_ = clone(self.estimator).set_params(**cands[best]).fit(X, y)
        return self


def mlplab_search_class(mlplab):
    """(class, description): mlplab's batched GridSearchCV, or the stand-in."""
    cls = getattr(mlplab, "GridSearchCV", None)
    if cls is not None:
        return cls, "mlplab.GridSearchCV"
    try:
        from mlplab.sklearn.search import GridSearchCV as cls

        return cls, "mlplab.search.GridSearchCV"
    except ImportError as exc:
        NOTES.append(
            f"mlplab.search is not importable ({exc}): mlplab's column times a stand-in, "
            "mlplab.batched.fit_members over the same candidates x folds + neg MSE + refit"
        )
        return StandinGridSearch, "stand-in (fit_members + scoring + refit)"


def warm_workers(search_cls, est, data):
    """Start the joblib workers and import the library in them (untimed)."""
    Xtr, _Xte, ytr, _yte = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search_cls(
            clone(est).set_params(max_iter=20),
            {"hidden_layer_sizes": [(2,)], "random_state": [0, 1]},
            cv=2,
            scoring="neg_mean_squared_error",
            n_jobs=-1,
        ).fit(Xtr[:100], ytr[:100])


def search_variant(name, search_cls, est, grid, cv, data, is_mlplab):
    Xtr, Xte, ytr, yte = data

    def prepare():
        return search_cls(
            clone(est), grid, cv=cv, scoring="neg_mean_squared_error", n_jobs=-1
        )  # fmt: skip

    def after(gs):
        return {
            "best_params": jsonable_params(gs.best_params_),
            "best_cv_mse": float(-gs.best_score_),
            "test_mse": float(np.mean((yte - gs.best_estimator_.predict(Xte)) ** 2)),
        }

    return Variant(name, prepare, lambda gs: gs.fit(Xtr, ytr), after, is_mlplab)


def variant_figures(v):
    """Timing summary and the last run's figures (+ whether every run agreed)."""
    if v is None or not v.times_s:
        return {"status": "n/a" if v is None else f"failed: {v.error}"}
    last = v.figures[-1]
    same = all(f == last for f in v.figures)
    if not same:
        NOTES.append(f"{v.name}: the figures differed between repetitions")
    out = {"fit_s": summary(v.times_s), **last, "same_every_run": same}
    if v.warned:
        out["warnings"] = v.warned
        for w in v.warned:
            NOTES.append(f"{v.name}: {w}")
    return out


# ----------------------------------------------------------------------------------------
# 1. Lab 7 grids
# ----------------------------------------------------------------------------------------
def bench_lab7(cfg, mlplab, results, summary_rows, targets):
    sizes, seeds, cv = cfg["lab7_sizes"], cfg["lab7_seeds"], cfg["lab7_cv"]
    n_fits = len(sizes) * seeds * cv
    print(
        f"## 1. Lab 7 grids: GridSearchCV, {len(sizes)} sizes × {seeds} seeds × {cv} folds = "
        f"{n_fits} lbfgs fits (+ 1 refit) per function"
    )
    grid = {"hidden_layer_sizes": list(sizes), "random_state": list(range(seeds))}
    search_cls, search_name = (None, "n/a") if mlplab is None else mlplab_search_class(mlplab)
    net_txt = ", ".join(f"{k}={v!r}" for k, v in LAB7_NET.items())
    print(
        f"`GridSearchCV(MLPRegressor({net_txt}), {{'hidden_layer_sizes': {list(sizes)}, "
        f"'random_state': range({seeds})}}, cv={cv}, scoring='neg_mean_squared_error', "
        f"n_jobs=-1)` on the 70 % training split (`train_test_split(test_size={TEST_SIZE}, "
        f"random_state={SEED})`) of {N_POINTS} linspace points of each function: "
        "scikit-learn's GridSearchCV with its MLPRegressor, and "
        f"{search_name} with mlplab's MLPRegressor (`convergence_warning=False`; float64, "
        "and `dtype='float32'`). The network: "
        + (
            "scikit-learn's defaults (max_iter 200, tol 1e-4), as students run the exercise"
            if LAB7_NET["tol"] == 1e-4
            else "experiments.approximation.lab7's (max_iter 2000, tol 1e-5) without its "
            "target standardisation"
        )
        + ". Test MSE: best_estimator_ on "
        "the 30 % split. Joblib workers are started with a tiny search per library first "
        f"(untimed); then {cfg['lab7_reps']} timed `fit` calls per library and function, "
        "interleaved; median (min) s. Default BLAS threads in the main process.\n"
    )
    est_sk = SkMLPRegressor(**LAB7_NET)
    est_ml = est_ml32 = None
    if mlplab is not None:
        est_ml = mlplab.MLPRegressor(**LAB7_NET, convergence_warning=False)
        est_ml32 = clone(est_ml).set_params(dtype="float32")
    # --exact-false: mlplab's fast numerics mode beside them (float64)
    extra = {"mlplab exact=False": ("exact=False", {"exact": False})} if EXACT_FALSE else {}
    out = {
        "grid": {"hidden_layer_sizes": [list(s) for s in sizes], "random_state": seeds},
        "cv": cv,
        "n_fits_per_function": n_fits,
        "estimator": f"MLPRegressor({net_txt})",
        "mlplab_search": search_name,
        "reps": cfg["lab7_reps"],
        "functions": {},
    }
    first = function_split(cfg["lab7_functions"][0])
    try:
        warm_workers(GridSearchCV, est_sk, first)
    except Exception as exc:  # noqa: BLE001
        NOTES.append(f"lab7: scikit-learn warm-up failed: {type(exc).__name__}: {exc}")
    if mlplab is not None:
        try:
            warm_workers(search_cls, est_ml, first)
        except Exception as exc:  # noqa: BLE001
            record_error("lab7: mlplab warm-up search", exc)
    rows = []
    totals = {"scikit-learn": 0.0, "mlplab": 0.0, "mlplab float32": 0.0}
    totals.update({k: 0.0 for k in extra})
    suffix = {"mlplab": "", "mlplab float32": ", float32"}
    suffix.update({k: f", {label}" for k, (label, _) in extra.items()})
    for name in cfg["lab7_functions"]:
        data = function_split(name)
        variants = [search_variant("scikit-learn", GridSearchCV, est_sk, grid, cv, data, False)]
        if mlplab is not None:
            variants.append(search_variant("mlplab", search_cls, est_ml, grid, cv, data, True))
            variants.append(
                search_variant("mlplab float32", search_cls, est_ml32, grid, cv, data, True)
            )
            for k, (_label, params) in extra.items():
                est_x = clone(est_ml).set_params(**params)
                variants.append(search_variant(k, search_cls, est_x, grid, cv, data, True))
        run_interleaved(variants, cfg["lab7_reps"])
        by = {v.name: v for v in variants}
        case = {k: variant_figures(by.get(k)) for k in totals}
        t = {k: median_of(by.get(k)) for k in totals}
        for k in totals:
            totals[k] += t[k]
        sk = case["scikit-learn"]
        for k in ("mlplab", "mlplab float32", *extra):
            ml = case[k]
            sp = ratio(t["scikit-learn"], t[k])
            mr = ratio(ml.get("test_mse"), sk.get("test_mse"))
            case[k]["speedup"] = sp
            case[k]["test_mse_ratio"] = mr
            case[k]["same_best_params"] = ml.get("best_params") == sk.get("best_params")
            rows.append(
                [
                    name + suffix[k],
                    timing_cell(by.get(k)),
                    timing_cell(by.get("scikit-learn")) if k == "mlplab" else "″",
                    fmt_x(sp),
                    fmt_g(ml.get("test_mse")),
                    fmt_g(sk.get("test_mse")),
                    fmt(mr, 2),
                    params_text(ml.get("best_params", {}), ["hidden_layer_sizes", "random_state"])
                    + (
                        " (same)"
                        if case[k]["same_best_params"]
                        else f" (sklearn: {params_text(sk.get('best_params', {}))})"
                    ),
                ]
            )
            summary_rows.append(
                [
                    f"Lab 7 {name}" + suffix[k],
                    fmt(t[k], 2),
                    fmt(t["scikit-learn"], 2),
                    "",
                    fmt_x(sp),
                    f"test MSE {fmt_g(ml.get('test_mse'))}",
                    f"test MSE {fmt_g(sk.get('test_mse'))}",
                ]
            )
            if k == "mlplab":
                targets.append(
                    (f"Lab 7 {name}: speed-up ≥ {SPEED_TARGET:g}×", sp >= SPEED_TARGET, fmt_x(sp))
                )
                targets.append(
                    (
                        f"Lab 7 {name}: test MSE ≤ {MSE_SLACK}× scikit-learn's",
                        finite(mr) and mr <= MSE_SLACK,
                        f"{fmt(mr, 3)}×",
                    )
                )
            elif k in extra:
                targets.append((f"Lab 7 {name}{suffix[k]}: test MSE ≤ {FAST_MSE_SLACK}× "
                                "scikit-learn's", finite(mr) and mr <= FAST_MSE_SLACK,
                                f"{fmt(mr, 3)}×"))  # fmt: skip
            else:
                targets.append(
                    (
                        f"Lab 7 {name}, float32: test MSE ≤ {MSE_SLACK}× scikit-learn's",
                        finite(mr) and mr <= MSE_SLACK,
                        f"{fmt(mr, 3)}×",
                    )
                )
        out["functions"][name] = case
    sp_total = ratio(totals["scikit-learn"], totals["mlplab"])
    sp32_total = ratio(totals["scikit-learn"], totals["mlplab float32"])
    out["total_s"] = totals
    for k in extra:
        sp_x = ratio(totals["scikit-learn"], totals[k])
        ratios = [out["functions"][f][k].get("test_mse_ratio") for f in out["functions"]]
        gmean = float(np.exp(np.mean(np.log(ratios)))) if all(map(finite, ratios)) else None
        out[f"speedup_total {k}"], out[f"test_mse_ratio_gmean {k}"] = sp_x, gmean
        targets.append((f"Lab 7 total{suffix[k]}: speed-up ≥ {FAST_SPEED_TARGET:g}×",
                        finite(sp_x) and sp_x >= FAST_SPEED_TARGET, fmt_x(sp_x)))  # fmt: skip
        targets.append((f"Lab 7{suffix[k]}: geometric mean of the test MSE ratios ≤ 1.1",
                        gmean is not None and gmean <= 1.1, f"{fmt(gmean, 3)}×"))  # fmt: skip
        rows.append([f"**total{suffix[k]}**", fmt(totals[k], 2), "″", fmt_x(sp_x),
                     "", "", f"gmean {fmt(gmean, 3)}", ""])  # fmt: skip
    out["speedup_total"] = sp_total
    out["speedup_total_float32"] = sp32_total
    for k, sp in (("mlplab", sp_total), ("mlplab float32", sp32_total)):
        label = "total" if k == "mlplab" else "total, float32"
        rows.append(
            [
                f"**{label}**",
                fmt(totals[k], 2),
                fmt(totals["scikit-learn"], 2) if k == "mlplab" else "″",
                fmt_x(sp),
                "",
                "",
                "",
                "",
            ]
        )
        summary_rows.append(
            [
                f"**Lab 7, {len(cfg['lab7_functions'])} functions, {label}**",
                fmt(totals[k], 2),
                fmt(totals["scikit-learn"], 2),
                "",
                fmt_x(sp),
                "",
                "",
            ]
        )
    targets.append((f"Lab 7 total: speed-up ≥ {SPEED_TARGET:g}×", sp_total >= SPEED_TARGET,
                    fmt_x(sp_total)))  # fmt: skip
    targets.append(
        (
            f"Lab 7 total, float32: speed-up ≥ {SPEED_TARGET:g}×",
            sp32_total >= SPEED_TARGET,
            fmt_x(sp32_total),
        )
    )
    print(
        md_table(
            [
                "function",
                "mlplab s",
                "scikit-learn s",
                "speed-up",
                "mlplab test MSE",
                "sklearn test MSE",
                "MSE ratio",
                "mlplab best_params_",
            ],
            rows,
        )
    )
    print()
    results["lab7"] = out


# ----------------------------------------------------------------------------------------
# 2. the x² grid
# ----------------------------------------------------------------------------------------
def load_previous_x2(path):
    """scikit-learn's x² figures from an earlier JSON of this benchmark (or None, why)."""
    try:
        prev = json.loads(open(path).read())
    except (OSError, ValueError) as exc:
        return None, f"no usable JSON at {path} ({type(exc).__name__})"
    x2 = prev.get("x2") or {}
    sk = x2.get("scikit-learn") or {}
    if "fit_s" not in sk or prev.get("quick"):
        return None, f"{path} holds no full-mode scikit-learn x² figures"
    return {**sk, "reused_from": str(path), "measured_at": sk.get("measured_at")}, None


def _x2_params(fig):
    params = fig.get("best_params")
    if not params:
        return "n/a"
    return params_text(params, ["hidden_layer_sizes", "activation", "solver", "random_state"])


def bench_x2(cfg, mlplab, args, results, summary_rows, targets):
    archs, seeds, cv = cfg["x2_archs"], cfg["x2_seeds"], cfg["x2_cv"]
    grid = {
        "hidden_layer_sizes": list(archs),
        "activation": ACTIVATIONS,
        "solver": SOLVERS,
        "random_state": list(range(seeds)),
    }
    n_cand = len(archs) * len(ACTIVATIONS) * len(SOLVERS) * seeds
    n_fits = n_cand * cv
    print(
        f"## 2. The x² grid: GridSearchCV, {len(archs)} architectures × {len(ACTIVATIONS)} "
        f"activations × {len(SOLVERS)} solvers × {seeds} seeds × {cv} folds = {n_fits} fits"
    )
    search_cls, search_name = (None, "n/a") if mlplab is None else mlplab_search_class(mlplab)
    print(
        f"x² on [−1, 1], {N_POINTS} linspace points, 70/30 split (random_state={SEED}); "
        f"`GridSearchCV(MLPRegressor(), {{'hidden_layer_sizes': {list(archs)}, 'activation': "
        f"{ACTIVATIONS}, 'solver': {SOLVERS}, 'random_state': range({seeds})}}, cv={cv}, "
        "scoring='neg_mean_squared_error', n_jobs=-1)`: the estimators' defaults otherwise "
        "(max_iter=200, tol=1e-4, alpha=1e-4, batch_size='auto', learning_rate_init=1e-3). "
        f"mlplab: {search_name}. scikit-learn's search runs once (it takes minutes); mlplab "
        f"{cfg['x2_ml_reps']} time(s), the first before scikit-learn's. Test MSE: "
        "best_estimator_ on the 30 % split.\n"
    )
    data = function_split("x²")
    out = {"grid": jsonable_params(grid), "cv": cv, "n_fits": n_fits, "mlplab_search": search_name}
    sk_v, sk = None, None
    if cfg["x2_sklearn"] and not args.skip_sklearn_x2:
        sk_v = search_variant("scikit-learn", GridSearchCV, SkMLPRegressor(), grid, cv, data, False)
    elif args.skip_sklearn_x2 and not args.quick:
        sk, why = load_previous_x2(args.json or DEFAULT_JSON)
        if sk is None:
            NOTES.append(f"x2: --skip-sklearn-x2 but {why}: scikit-learn's column is empty")
    ml_v = fast_v = None
    if mlplab is not None:
        est_ml = mlplab.MLPRegressor(convergence_warning=False)
        ml_v = search_variant("mlplab", search_cls, est_ml, grid, cv, data, True)
        if EXACT_FALSE:  # --exact-false: mlplab's fast numerics mode beside it (float64)
            est_fast = clone(est_ml).set_params(exact=False)
            fast_v = search_variant("mlplab exact=False", search_cls, est_fast, grid, cv, data,
                                    True)  # fmt: skip
    for cls, est, who in ((GridSearchCV, SkMLPRegressor(), "scikit-learn"),
                          (search_cls, ml_v and est_ml, "mlplab")):  # fmt: skip
        if est is not None and (who == "mlplab" or sk_v is not None):
            try:  # start joblib's workers untimed, as lab7 does
                warm_workers(cls, est, data)
            except Exception as exc:  # noqa: BLE001
                NOTES.append(f"x2: {who} warm-up failed: {type(exc).__name__}: {exc}")
    # mlplab once, scikit-learn once (minutes), then mlplab's remaining runs
    mine = [v for v in (ml_v, fast_v) if v is not None]
    order = mine + [sk_v] + mine * (cfg["x2_ml_reps"] - 1)
    for i, v in enumerate(order):
        if v is None or v.error is not None:
            continue
        if i > len(mine) and past_deadline():
            budget_note()
            break
        try:
            v.run_once()
        except Exception as exc:  # noqa: BLE001
            v.fail("x2", exc)
    ml = variant_figures(ml_v)
    if sk is None:
        if sk_v is not None and sk_v.times_s:
            sk = variant_figures(sk_v)
            sk["measured_at"] = datetime.datetime.now().isoformat(timespec="seconds")
        else:
            sk = {"status": "skipped (--quick)" if args.quick else "skipped"}
    t_sk = (sk.get("fit_s") or {}).get("median", float("nan"))
    out.update({"mlplab": ml, "scikit-learn": sk, "speedup": ratio(t_sk, median_of(ml_v))})
    variants = [("mlplab", ml_v, ml)]
    if fast_v is not None:
        fast = variant_figures(fast_v)
        out.update({"mlplab exact=False": fast,
                    "speedup_exact_false": ratio(t_sk, median_of(fast_v))})  # fmt: skip
        variants.append(("mlplab exact=False", fast_v, fast))
    reused = " (reused)" if "reused_from" in sk else ""
    rows = []
    for name, v, fig in variants:
        t_ml = median_of(v)
        rows.append([name, timing_cell(v), fmt_x(ratio(t_sk, t_ml)), fmt_g(fig.get("best_cv_mse")),
                     fmt_g(fig.get("test_mse")), _x2_params(fig),
                     f"{n_fits / t_ml:.0f}" if finite(t_ml) else "n/a"])  # fmt: skip
    rows.append(["scikit-learn", fmt(t_sk, 1) + reused if finite(t_sk) else sk.get("status", "n/a"),
                 "1.0×", fmt_g(sk.get("best_cv_mse")), fmt_g(sk.get("test_mse")), _x2_params(sk),
                 f"{n_fits / t_sk:.0f}" if finite(t_sk) else "n/a"])  # fmt: skip
    print(
        md_table(
            ["library", "s (min)", "speed-up", "best CV MSE", "test MSE", "best_params_", "fits/s"],
            rows,
        )
    )
    if "reused_from" in sk:
        print(
            f"\nscikit-learn's figures reused from {sk['reused_from']} "
            f"(measured {sk.get('measured_at') or 'earlier'}; --skip-sklearn-x2)."
        )
    print()
    for name, v, fig in variants:
        t_ml, target = median_of(v), SPEED_TARGET
        label = "" if name == "mlplab" else ", exact=False"
        summary_rows.append([f"x² grid, {n_fits} fits{label}", fmt(t_ml, 1),
                             (fmt(t_sk, 1) + reused) if finite(t_sk) else "skipped", "",
                             fmt_x(ratio(t_sk, t_ml)),
                             f"best CV MSE {fmt_g(fig.get('best_cv_mse'))}",
                             f"best CV MSE {fmt_g(sk.get('best_cv_mse'))}"])  # fmt: skip
        if not finite(t_sk):
            continue
        sp = ratio(t_sk, t_ml)
        targets.append((f"x² grid{label}: speed-up ≥ {target:g}×", finite(sp) and sp >= target,
                        fmt_x(sp)))  # fmt: skip
        a, b = fig.get("best_cv_mse"), sk.get("best_cv_mse")
        targets.append((f"x² grid{label}: best CV MSE ≤ scikit-learn's",
                        finite(a) and finite(b) and a <= b,
                        f"{fmt_g(a)} vs {fmt_g(b)}"))  # fmt: skip
    results["x2"] = out


# ----------------------------------------------------------------------------------------
# 3. ensemble of seeds
# ----------------------------------------------------------------------------------------
def init_draws(seed, units=(1, 10, 1)):
    """scikit-learn's initialisation of a logistic net: per layer W then b from one stream."""
    rs = np.random.RandomState(seed)
    out = []
    for fi, fo in zip(units[:-1], units[1:], strict=True):
        bound = np.sqrt(2.0 / (fi + fo))
        out.append((rs.uniform(-bound, bound, (fi, fo)), rs.uniform(-bound, bound, fo)))
    return out


def torch_ensemble(torch, dtype, X, y, seeds, steps):
    """Adam on a stack of 1-10-1 logistic nets with torch.func (stack_module_state + vmap +
    functional_call); full batch; 0.5 MSE + alpha/2 ||W||² / n as the estimators; the same
    initial weights (scikit-learn's draws). Returns each member's loss at the last step."""
    from torch.func import functional_call, stack_module_state, vmap

    Xt = torch.as_tensor(X, dtype=dtype)
    yt = torch.as_tensor(y, dtype=dtype)
    n = Xt.shape[0]
    models = []
    for s in seeds:
        (W1, b1), (W2, b2) = init_draws(s)
        m = torch.nn.Sequential(
            torch.nn.Linear(1, 10), torch.nn.Sigmoid(), torch.nn.Linear(10, 1)
        ).to(dtype)
        with torch.no_grad():
            m[0].weight.copy_(torch.as_tensor(W1.T))
            m[0].bias.copy_(torch.as_tensor(b1))
            m[2].weight.copy_(torch.as_tensor(W2.T))
            m[2].bias.copy_(torch.as_tensor(b2))
        models.append(m)
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def loss_one(p, b, X, y):
        out = functional_call(base, (p, b), (X,)).squeeze(-1)
        l2 = p["0.weight"].pow(2).sum() + p["2.weight"].pow(2).sum()
        return 0.5 * ((out - y) ** 2).mean() + 0.5 * ALPHA * l2 / n

    vloss = vmap(loss_one, in_dims=(0, 0, None, None))
    opt = torch.optim.Adam(list(params.values()), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    losses = None
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        losses = vloss(params, buffers, Xt, yt)
        losses.sum().backward()
        opt.step()
    return losses.detach().to(torch.float64).numpy()


def dist(losses):
    a = np.asarray(losses, dtype=float)
    if not a.size:
        return {}
    return {"min": float(a.min()), "median": float(np.median(a)), "max": float(a.max())}


def bench_ensemble(cfg, mlplab, torch, results, summary_rows, targets):
    M, steps = cfg["ens_seeds"], cfg["ens_steps"]
    print(f"## 3. Ensemble of {M} seeds: 1-10-1 logistic, Adam, {steps} full-batch steps")
    Xtr, _Xte, ytr, _yte = function_split("x²")
    n = len(Xtr)
    kw = dict(ENS_NET, batch_size=n, max_iter=steps, n_iter_no_change=steps)
    kw_txt = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    print(
        f"x² on [−1, 1]: the {n} training points of the 70/30 split. mlplab: "
        f"`fit_many(MLPRegressor({kw_txt}), X, y, random_state=range({M}))` (tol=0 and "
        f"n_iter_no_change={steps}: all {steps} steps run), in float64 and with "
        "`dtype='float32'`, in this process (numpy's elementwise work runs on one core) and "
        "with `n_jobs=-1` (the stack split over joblib's workers, one per core); the same "
        f"{M} estimators fitted one after the other; PyTorch "
        f"{torch.__version__ if torch else '(not installed)'}: `torch.func` "
        "(stack_module_state + vmap + functional_call) over the stacked nets, "
        "`torch.optim.Adam(lr=1e-3)` on the stacked parameters, the same loss "
        "(½ MSE + α/2·‖W‖²/n, α = 1e-4) and the same initial weights (scikit-learn's draws), "
        f"float64 and float32. Default threads (BLAS {blas_threads()}, torch "
        f"{torch.get_num_threads() if torch else 'n/a'}). {cfg['ens_reps']} interleaved "
        "rounds, each variant trains the whole ensemble once per round; median (min) s. "
        "Final loss: the loss of each member's last step.\n"
    )
    variants = []
    if mlplab is not None:
        from mlplab.sklearn.batched import fit_many

        fit_many = getattr(mlplab, "fit_many", fit_many)
        est = mlplab.MLPRegressor(**kw, convergence_warning=False)
        est32 = clone(est).set_params(dtype="float32")
        box: dict = {}

        def run_many(e, key, n_jobs=None):
            def timed(_):
                box[key] = fit_many(e, Xtr, ytr, random_state=range(M), n_jobs=n_jobs)

            return timed

        def seq(_):
            box["seq"] = [clone(est).set_params(random_state=s).fit(Xtr, ytr) for s in range(M)]

        def many_figs(key):
            return lambda _: {
                "loss": box[key].loss_.tolist(),
                "n_iter": sorted(set(box[key].n_iter_.tolist())),
            }

        variants += [
            Variant("mlplab fit_many, float64", lambda: None, run_many(est, "f64"),
                    many_figs("f64"), True),
            Variant("mlplab fit_many, float32", lambda: None, run_many(est32, "f32"),
                    many_figs("f32"), True),
            Variant("mlplab fit_many n_jobs=-1, float64", lambda: None,
                    run_many(est, "f64j", -1), many_figs("f64j"), True),
            Variant("mlplab fit_many n_jobs=-1, float32", lambda: None,
                    run_many(est32, "f32j", -1), many_figs("f32j"), True),
            Variant(f"mlplab, {M} sequential fits, float64", lambda: None, seq,
                    lambda _: {"loss": [e.loss_ for e in box["seq"]],
                               "n_iter": sorted({e.n_iter_ for e in box["seq"]})}, True),
        ]  # fmt: skip
    if torch is not None:
        for name, dt in (("float64", torch.float64), ("float32", torch.float32)):
            box_t: dict = {}

            def timed(_, dt=dt, box_t=box_t):
                box_t["loss"] = torch_ensemble(torch, dt, Xtr, ytr, range(M), steps)

            variants.append(
                Variant(f"PyTorch torch.func, {name}", lambda: None, timed,
                        lambda _, box_t=box_t: {"loss": box_t["loss"].tolist()}, False)
            )  # fmt: skip
    else:
        NOTES.append("ensemble: torch is not importable: its rows are empty")
    # untimed warm-up of each code path (imports, torch's first vmap/autograd calls)
    try:
        if mlplab is not None:
            for e in (est, est32):
                for n_jobs in (None, -1):
                    fit_many(clone(e).set_params(max_iter=3), Xtr, ytr,
                             random_state=range(4), n_jobs=n_jobs)  # fmt: skip
            clone(est).set_params(max_iter=3).fit(Xtr, ytr)
        if torch is not None:
            for dt in (torch.float64, torch.float32):
                torch_ensemble(torch, dt, Xtr, ytr, range(2), 3)
    except Exception as exc:  # noqa: BLE001
        record_error("ensemble warm-up", exc)
    run_interleaved(variants, cfg["ens_reps"])
    by = {v.name: v for v in variants}
    out = {"seeds": M, "steps": steps, "n_train": n, "estimator": f"MLPRegressor({kw_txt})"}
    t = {}
    for v in variants:
        fig = v.figures[-1] if v.figures else {}
        t[v.name] = median_of(v)
        out[v.name] = {
            "fit_s": summary(v.times_s) if v.times_s else None,
            "final_loss": dist(fig.get("loss", [])),
            "n_iter": fig.get("n_iter"),
            "status": "ok" if v.times_s else f"failed: {v.error}",
        }
    f64, f32 = "mlplab fit_many, float64", "mlplab fit_many, float32"
    f64j, f32j = "mlplab fit_many n_jobs=-1, float64", "mlplab fit_many n_jobs=-1, float32"
    seq_name = f"mlplab, {M} sequential fits, float64"
    pt64, pt32 = "PyTorch torch.func, float64", "PyTorch torch.func, float32"
    if f64 in by and seq_name in by and by[f64].figures and by[seq_name].figures:
        a = np.asarray(by[f64].figures[-1]["loss"])
        b = np.asarray(by[seq_name].figures[-1]["loss"])
        out["max_abs_loss_diff_fit_many_vs_sequential"] = float(np.max(np.abs(a - b)))
    rows = []
    ref = {f64: pt64, f32: pt32, f64j: pt64, f32j: pt32, seq_name: pt64, pt64: pt64, pt32: pt32}
    for v in variants:
        d = out[v.name]["final_loss"]
        vs_seq = ratio(t.get(seq_name), t[v.name])
        vs_pt = ratio(t.get(ref[v.name]), t[v.name])
        out[v.name]["speedup_vs_sequential"] = vs_seq
        out[v.name]["speedup_vs_pytorch_same_dtype"] = vs_pt
        rows.append(
            [
                v.name,
                timing_cell(v),
                fmt_x(vs_seq),
                fmt_x(vs_pt) if not v.name.startswith("PyTorch") else "1.0×",
                fmt_g(d.get("min"), 4),
                fmt_g(d.get("median"), 4),
                fmt_g(d.get("max"), 4),
            ]
        )
    print(
        md_table(
            [
                "variant",
                "s (min)",
                "vs sequential",
                "vs PyTorch (same dtype)",
                "final loss min",
                "median",
                "max",
            ],
            rows,
        )
    )
    if "max_abs_loss_diff_fit_many_vs_sequential" in out:
        print(
            "\nfit_many against the sequential fits: max |Δ final loss| = "
            f"{out['max_abs_loss_diff_fit_many_vs_sequential']:.3g} (0 = bit-identical)."
        )
    print()
    for name, pt in ((f64, pt64), (f32, pt32), (f64j, pt64), (f32j, pt32)):
        d = out.get(name, {}).get("final_loss", {})
        dp = out.get(pt, {}).get("final_loss", {})
        summary_rows.append(
            [
                f"ensemble {M} × {steps} Adam steps, "
                + name.removeprefix("mlplab fit_many").lstrip(", "),
                fmt(t.get(name), 2),
                "",
                fmt(t.get(pt), 2),
                f"{fmt_x(ratio(t.get(seq_name), t.get(name)))} vs sequential; "
                f"{fmt_x(ratio(t.get(pt), t.get(name)))} vs PyTorch",
                f"median final loss {fmt_g(d.get('median'), 4)}",
                f"PyTorch {fmt_g(dp.get('median'), 4)}",
            ]
        )
    results["ensemble"] = out


# ----------------------------------------------------------------------------------------
# 4. a course-style notebook cell, unchanged, with and without mlplab.patch_sklearn()
# ----------------------------------------------------------------------------------------
#: The cell as a student writes it (data, sizes, n_seeds and cv come from earlier cells).
NOTEBOOK_CELL = """\
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor

for name, (X, y) in data.items():
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    grid = GridSearchCV(MLPRegressor(activation="logistic", solver="lbfgs"),
                        {"hidden_layer_sizes": sizes, "random_state": range(n_seeds)},
                        cv=cv, scoring="neg_mean_squared_error", n_jobs=-1)
    grid.fit(X_train, y_train)
    print(name, grid.best_params_, repr(grid.best_score_))
"""
NOTEBOOK_TARGET = 3.0  # the target: >= 3x with patch_sklearn()


def notebook_variant(name, mlplab, inputs, patched):
    """The cell exec'd in a fresh namespace; ``patched``: inside mlplab.patched_sklearn()
    (the patch itself is timed: it is the cell's one added line)."""
    import contextlib
    import io

    code = compile(NOTEBOOK_CELL, "<notebook cell>", "exec")

    def prepare():
        return {"ns": dict(inputs), "out": io.StringIO()}

    def timed(box):
        with contextlib.redirect_stdout(box["out"]):
            if patched:
                with mlplab.patched_sklearn():
                    exec(code, box["ns"])
            else:
                exec(code, box["ns"])

    def after(box):
        grid = box["ns"]["grid"]
        return {
            "printed": box["out"].getvalue(),
            "classes": f"{type(grid).__module__}, {type(grid.best_estimator_).__module__}",
        }

    return Variant(name, prepare, timed, after, patched)


def bench_notebook(cfg, mlplab, results, summary_rows, targets):
    names, sizes, seeds, cv = (cfg["lab7_functions"], cfg["lab7_sizes"], cfg["lab7_seeds"],
                               cfg["lab7_cv"])  # fmt: skip
    n_fits = len(names) * len(sizes) * seeds * cv
    print(f"## 4. A course-style notebook cell, unchanged: {n_fits} lbfgs fits")
    print(
        "The Lab 7 cell as students write it — scikit-learn imports, scikit-learn's defaults "
        "(max_iter 200, tol 1e-4), `n_jobs=-1` — over "
        f"{', '.join(names)} ({N_POINTS} linspace points each), {len(sizes)} sizes × "
        f"{seeds} seeds × {cv} folds per function:\n\n```python\n{NOTEBOOK_CELL}```\n\n"
        "run with scikit-learn, and the same code inside `mlplab.patched_sklearn()` (the "
        "notebook's one added line `mlplab.patch_sklearn()`; the patch is inside the timed "
        "block). One process; each variant runs the cell untimed on a tiny grid first "
        f"(workers started), then {cfg['notebook_reps']} timed run(s) each, interleaved; "
        "median (min) s. Default BLAS threads.\n"
    )
    if mlplab is None or not hasattr(mlplab, "patched_sklearn"):
        NOTES.append("notebook: mlplab.patched_sklearn is missing: the case is not measured")
        return
    data = {}
    for name in names:
        f, (lo, hi) = FUNCTIONS[name]
        x = np.linspace(lo, hi, N_POINTS)
        data[name] = (x.reshape(-1, 1), f(x))
    inputs = {"data": data, "sizes": list(sizes), "n_seeds": seeds, "cv": cv}
    tiny = {"data": dict(list(data.items())[:1]), "sizes": [(2,)], "n_seeds": 2, "cv": 2}
    variants = [
        notebook_variant("scikit-learn", mlplab, inputs, False),
        notebook_variant("patch_sklearn()", mlplab, inputs, True),
    ]
    for v in variants:  # untimed warm-up: joblib's workers, first imports, the first patch
        try:
            notebook_variant(v.name, mlplab, tiny, v.is_mlplab).run_once()
        except Exception as exc:  # noqa: BLE001
            v.fail("warm-up", exc)
    run_interleaved(variants, cfg["notebook_reps"])
    sk, ml = variants
    t_sk, t_ml = median_of(sk), median_of(ml)
    sp = ratio(t_sk, t_ml)
    f_sk, f_ml = variant_figures(sk), variant_figures(ml)
    same = bool(f_sk.get("printed")) and f_sk.get("printed") == f_ml.get("printed")
    out = {"n_fits": n_fits, "cell": NOTEBOOK_CELL, "speedup": sp, "same_output": same,
           "scikit-learn": f_sk, "patch_sklearn()": f_ml}  # fmt: skip
    rows = []
    for v in variants:
        classes = v.figures[-1]["classes"] if v.figures else "n/a"
        rows.append([v.name, timing_cell(v), fmt_x(ratio(t_sk, median_of(v))), classes])
    print(md_table(["variant", "s (min)", "speed-up", "classes (search, best_estimator_)"], rows))
    print(
        f"\nThe cell's printed output (best_params_, best_score_ per function) is "
        f"{'the same, to the last digit,' if same else 'NOT the same'} with and without the "
        "patch." + (" mlplab's run emitted: " + "; ".join(ml.warned) if ml.warned else "")
    )
    print()
    summary_rows.append(
        [f"notebook cell, patch_sklearn() ({n_fits} fits)", fmt(t_ml, 2), fmt(t_sk, 2), "",
         fmt_x(sp), "same output" if same else "output differs", ""]
    )  # fmt: skip
    targets.append(
        (f"notebook cell with patch_sklearn(): speed-up ≥ {NOTEBOOK_TARGET:g}×",
         finite(sp) and sp >= NOTEBOOK_TARGET, fmt_x(sp))
    )  # fmt: skip
    targets.append(("notebook cell: same printed results with the patch", same,
                    "same" if same else "differs"))  # fmt: skip
    results["notebook"] = out


# ----------------------------------------------------------------------------------------
# 5. Pipeline(StandardScaler(), MLPRegressor)
# ----------------------------------------------------------------------------------------
def bench_pipeline(cfg, mlplab, results, summary_rows, targets):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seeds, cv = cfg["pipe_seeds"], cfg["pipe_cv"]
    n_fits = len(PIPE_SIZES) * seeds * cv
    grid = {
        "mlpregressor__hidden_layer_sizes": list(PIPE_SIZES),
        "mlpregressor__random_state": list(range(seeds)),
    }
    net_txt = ", ".join(f"{k}={v!r}" for k, v in PIPE_NET.items())
    print(
        f"## 5. Pipeline: GridSearchCV over Pipeline(StandardScaler(), MLPRegressor), "
        f"{len(PIPE_SIZES)} sizes × {seeds} seeds × {cv} folds = {n_fits} fits (+ 1 refit)"
    )
    print(
        f"`GridSearchCV(make_pipeline(StandardScaler(), MLPRegressor({net_txt})), "
        f"{{'mlpregressor__hidden_layer_sizes': {list(PIPE_SIZES)}, "
        f"'mlpregressor__random_state': range({seeds})}}, cv={cv}, "
        "scoring='neg_mean_squared_error', n_jobs=-1)` on the 70 % training split of "
        f"{PIPE_FUNCTION} ({N_POINTS} linspace points): scikit-learn's classes, and mlplab's "
        "GridSearchCV over the same Pipeline with mlplab's MLPRegressor "
        "(`convergence_warning=False`). Workers warmed by a tiny search per library "
        f"(untimed); {cfg['pipe_reps']} timed `fit` calls per library, interleaved; "
        "median (min) s.\n"
    )
    data = function_split(PIPE_FUNCTION)
    Xtr, Xte, ytr, yte = data
    variants = []

    def add(name, make_net, search_cls, is_mlplab):
        def prepare():
            pipe = make_pipeline(StandardScaler(), make_net())
            return search_cls(pipe, grid, cv=cv, scoring="neg_mean_squared_error", n_jobs=-1)

        def after(gs):
            return {
                "best_params": jsonable_params(gs.best_params_),
                "best_cv_mse": float(-gs.best_score_),
                "test_mse": float(np.mean((yte - gs.best_estimator_.predict(Xte)) ** 2)),
            }

        warm = make_pipeline(StandardScaler(), make_net().set_params(max_iter=20))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search_cls(warm, {"mlpregressor__random_state": [0, 1]}, cv=2, n_jobs=-1).fit(
                Xtr[:100], ytr[:100]
            )
        variants.append(Variant(name, prepare, lambda gs: gs.fit(Xtr, ytr), after, is_mlplab))

    add("scikit-learn", lambda: SkMLPRegressor(**PIPE_NET), GridSearchCV, False)
    if mlplab is not None:
        search_cls, _ = mlplab_search_class(mlplab)
        net = lambda: mlplab.MLPRegressor(**PIPE_NET, convergence_warning=False)  # noqa: E731
        try:
            add("mlplab", net, search_cls, True)
        except Exception as exc:  # noqa: BLE001
            record_error("pipeline: mlplab warm-up search", exc)
    run_interleaved(variants, cfg["pipe_reps"])
    by = {v.name: v for v in variants}
    case = {k: variant_figures(by.get(k)) for k in ("scikit-learn", "mlplab")}
    t = {k: median_of(by.get(k)) for k in ("scikit-learn", "mlplab")}
    sp = ratio(t["scikit-learn"], t["mlplab"])
    mr = ratio(case["mlplab"].get("test_mse"), case["scikit-learn"].get("test_mse"))
    case["mlplab"]["speedup"], case["mlplab"]["test_mse_ratio"] = sp, mr
    print(
        md_table(
            ["mlplab s", "scikit-learn s", "speed-up", "mlplab test MSE", "sklearn test MSE"],
            [
                [
                    timing_cell(by.get("mlplab")),
                    timing_cell(by.get("scikit-learn")),
                    fmt_x(sp),
                    fmt_g(case["mlplab"].get("test_mse")),
                    fmt_g(case["scikit-learn"].get("test_mse")),
                ]
            ],
        )
    )
    print()
    summary_rows.append(
        [
            f"Pipeline(StandardScaler(), MLPRegressor), {PIPE_FUNCTION}, {n_fits} fits",
            fmt(t["mlplab"], 2),
            fmt(t["scikit-learn"], 2),
            "",
            fmt_x(sp),
            f"test MSE {fmt_g(case['mlplab'].get('test_mse'))}",
            f"test MSE {fmt_g(case['scikit-learn'].get('test_mse'))}",
        ]
    )
    targets.append((f"Pipeline {n_fits} fits: speed-up ≥ {PIPE_TARGET:g}×", sp >= PIPE_TARGET,
                    fmt_x(sp)))  # fmt: skip
    results["pipeline"] = {
        "function": PIPE_FUNCTION,
        "estimator": f"make_pipeline(StandardScaler(), MLPRegressor({net_txt}))",
        "n_fits": n_fits,
        "reps": cfg["pipe_reps"],
        **case,
    }


# 6. one stacked evaluation against the elementwise floor (--exact-false)
# ----------------------------------------------------------------------------------------
def _interleaved_ms(calls, rounds=30):
    """Median ms of each no-argument callable, timed in rounds of one call each (the order
    rotated every round), so that every variant meets the same load; one untimed call each
    first."""
    names = list(calls)
    for f in calls.values():
        f()
    ts = {k: [] for k in names}
    for r in range(rounds):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            t0 = time.perf_counter()
            calls[k]()
            ts[k].append(time.perf_counter() - t0)
    return {k: 1e3 * float(np.median(v)) for k, v in ts.items()}


def bench_eval(mlplab, results, summary_rows, targets, M=100, n=630, h=20):
    """One loss-and-gradient evaluation of M stacked 1-h-1 logistic members on n points
    (a Lab 7 stack), exact and exact=False (float64, and float32 as a user may ask), 1 BLAS
    thread, against the elementwise floor measured here: one exp and 10 simple passes over
    the (M, h, n) hidden activations, shared by 2 cores (as the issue defines it); and the
    same evaluation as one fused loop compiled with numba (1 and 2 threads), when numba is
    installed (the issue's side-by-side test for a compiled dependency). The floor's exp
    and pass and every variant are timed in 30 interleaved rounds (medians): on a shared
    machine they all meet the same load."""
    from threadpoolctl import threadpool_limits

    from mlplab.sklearn.stack import Spec, Stack

    print(f"## 4. One stacked evaluation, {M} × 1-{h}-1 logistic on {n} points\n")
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 2 * np.pi, (M, n, 1))
    Y = np.sin(X)
    theta = rng.uniform(-0.5, 0.5, (M, 3 * h + 1))
    alpha = np.full(M, 1e-4)
    big = rng.uniform(-3, 3, (M, h, n))
    work = np.empty_like(big)
    grads = {}
    try:
        import _numba_eval as nbe
    except ImportError as exc:  # numba not installed: the comparison is left out, with a note
        nbe = None
        NOTES.append(f"eval: numba not importable ({exc}); the compiled comparison is left out")
    calls = {
        "exp": lambda: np.exp(big, out=work),
        "pass": lambda: np.multiply(big, 0.5, out=work),
    }
    with threadpool_limits(1), np.errstate(all="ignore"):
        for key, exact, dt in (("exact", True, "float64"), ("fast", False, "float64"),
                               ("fast32", False, "float32")):  # fmt: skip
            spec = Spec(False, (1, h, 1), "logistic", "identity", "lbfgs", {"exact": exact},
                        np.dtype(dt))  # fmt: skip
            Xd, Yd, th = X.astype(dt), Y.astype(dt), theta.astype(dt)
            stack = Stack(spec, Xd, Yd, alpha)
            grads[key] = np.array(stack.loss_and_grad(th, Xd, Yd)[1], dtype=float)
            calls[key] = lambda stack=stack, th=th, Xd=Xd, Yd=Yd: stack.loss_and_grad(th, Xd, Yd)
        if nbe is not None:
            run, compile_s = nbe.make(theta, X, Y, alpha)
            grads["numba"] = run()[1].copy()
            for k in (1, 2):
                calls[f"numba{k}"] = lambda k=k: (nbe.set_threads(k), run())
        out = _interleaved_ms(calls)
    t_exp, t_pass = out["exp"], out["pass"]
    floor = (t_exp + 10 * t_pass) / 2
    ref = grads["exact"]

    def dev(key):  # the largest gradient difference from exact's, relative to max |g|
        return f"{np.abs(grads[key] - ref).max() / np.abs(ref).max():.1e}"

    rows = [
        ["floor: (exp + 10 passes) / 2 cores", fmt(floor, 2), "1.0×", ""],
        ["exact=True (bit-identical)", fmt(out["exact"], 2), fmt_x(out["exact"] / floor), "0"],
        ["exact=False (numpy, fused and chunked)", fmt(out["fast"], 2),
         fmt_x(out["fast"] / floor), dev("fast")],
        ["exact=False, dtype float32", fmt(out["fast32"], 2), fmt_x(out["fast32"] / floor),
         dev("fast32")],
    ]  # fmt: skip
    if nbe is not None:
        for k in (1, 2):
            rows.append([f"numba {nbe.VERSION}, one fused loop, {k} thread{'s' * (k > 1)}",
                         fmt(out[f"numba{k}"], 2), fmt_x(out[f"numba{k}"] / floor),
                         dev("numba")])  # fmt: skip
    head = ["evaluation", "ms (median, interleaved)", "× floor", "gradient − exact's, rel."]
    print(md_table(head, rows))
    print(f"\n(exp over the {M}×{h}×{n} activations {t_exp:.2f} ms, one pass {t_pass:.2f} ms)")
    if nbe is not None:
        best = min(out["numba1"], out["numba2"])
        print(f"numba: first call (compilation) {compile_s:.2f} s; best numba / exact=False "
              f"numpy = {best / out['fast']:.2f} (adopt only if ≤ 0.5)")  # fmt: skip
    print()
    ratio_fast = out["fast"] / floor
    targets.append(("one stacked evaluation, exact=False: ≤ 2× the floor", ratio_fast <= 2.0,
                    f"{ratio_fast:.2f}×"))  # fmt: skip
    summary_rows.append([f"one evaluation {M}×1-{h}-1, exact=False", fmt(out["fast"] / 1e3, 4),
                         "", "", f"{fmt(out['exact'] / out['fast'], 2)}× exact's speed",
                         f"{ratio_fast:.2f}× floor", ""])  # fmt: skip
    results["eval"] = {"floor_ms": floor, "exp_ms": t_exp, "pass_ms": t_pass,
                       "exact_ms": out["exact"], "fast_ms": out["fast"],
                       "fast32_ms": out["fast32"]}  # fmt: skip
    if nbe is not None:
        results["eval"].update(numba=nbe.VERSION, numba_compile_s=compile_s,
                               numba1_ms=out["numba1"], numba2_ms=out["numba2"])  # fmt: skip


def blas_threads():
    from _common import blas_libs

    return sorted({lib["num_threads"] for lib in blas_libs()})


# ----------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------
def main(argv=None):
    cases = ("lab7", "x2", "ensemble", "notebook", "pipeline", "eval")
    ap = base_parser(__doc__, 60, cases, "run one of them")
    ap.add_argument(
        "--skip-sklearn-x2",
        action="store_true",
        help="reuse scikit-learn's x² grid figures from the last JSON instead of re-running it",
    )
    ap.add_argument(
        "--lab7-defaults",
        action="store_true",
        help="Lab 7 with scikit-learn's defaults (max_iter 200, tol 1e-4) instead of the "
        "tour's max_iter 2000, tol 1e-5",
    )
    ap.add_argument(
        "--exact-false",
        action="store_true",
        help="Lab 7 and the x² grid also with mlplab's exact=False (fast numerics), and the "
        "'eval' case: "
        "one stacked loss-and-gradient evaluation against the elementwise floor",
    )
    args = ap.parse_args(argv)
    global EXACT_FALSE
    EXACT_FALSE = args.exact_false
    if args.lab7_defaults:
        LAB7_NET.clear()
        LAB7_NET.update(LAB7_DEFAULTS)
    t_start, cfg = start(args.quick, QUICK, FULL)
    # joblib's workers must find this checkout's mlplab too (they unpickle its estimators)
    if SRC.is_dir():
        pp = os.environ.get("PYTHONPATH", "")
        if str(SRC) not in pp.split(os.pathsep):
            os.environ["PYTHONPATH"] = str(SRC) + (os.pathsep + pp if pp else "")
    mlplab, mlplab_err = import_mlplab(lambda m: m.MLPRegressor)
    if mlplab is None:
        ERRORS.append(f"mlplab not importable: {mlplab_err}")
    try:
        import torch
    except ImportError:
        torch = None
    # scikit-learn hands the main process's warning filters to its joblib workers
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    import joblib
    import scipy

    facts = machine_facts(
        mlplab,
        f"not importable ({mlplab_err})",
        [
            ("scipy", scipy.__version__),
            ("sklearn", sklearn.__version__),
            ("joblib", joblib.__version__),
            ("torch", torch.__version__ if torch else "not installed"),
            ("torch_threads", torch.get_num_threads() if torch else None),
        ],
    )
    freeze_gc()
    print(f"# mlplab batched search benchmark{' (--quick)' if args.quick else ''}\n")
    print_facts_head(
        facts,
        f"numpy {facts['numpy']}, scipy {facts['scipy']}, scikit-learn {facts['sklearn']}, "
        f"joblib {facts['joblib']}, torch {facts['torch']}",
    )
    print_blas(facts["blas"])
    print()
    results = {
        "machine": facts,
        "quick": args.quick,
        "config": cfg,
        "measured_at": datetime.datetime.now().isoformat(timespec="seconds"),
    }
    summary_rows: list[list[str]] = []
    targets: list[tuple[str, bool, str]] = []
    if args.only in (None, "lab7"):
        bench_lab7(cfg, mlplab, results, summary_rows, targets)
    if args.only in (None, "x2"):
        bench_x2(cfg, mlplab, args, results, summary_rows, targets)
    if args.only in (None, "ensemble"):
        bench_ensemble(cfg, mlplab, torch, results, summary_rows, targets)
    if args.only in (None, "notebook"):
        bench_notebook(cfg, mlplab, results, summary_rows, targets)
    if args.only in (None, "pipeline"):
        bench_pipeline(cfg, mlplab, results, summary_rows, targets)
    if args.only in (None, "eval") and args.exact_false:
        bench_eval(mlplab, results, summary_rows, targets)

    print("## Summary")
    print(
        md_table(
            [
                "case",
                "mlplab s",
                "scikit-learn s",
                "PyTorch s",
                "ratio (speed-up of mlplab)",
                "mlplab quality",
                "reference quality",
            ],
            summary_rows,
        )
    )
    print("\nTargets (from the figures measured above):")
    for what, ok, value in targets:
        print(f"- {what}: **{'met' if ok else 'MISSED'}** ({value})")
    if not targets:
        print("- none measured in this run (the targets need scikit-learn's figures)")
    if args.only in (None, "ensemble"):
        print("- the ensemble case has no target: its ratios are reported as measured")
    if args.quick:
        print("- (--quick: smaller grids and fewer rounds; the figures are indicative only)")
    print()
    results["summary"] = summary_rows
    results["targets"] = [{"target": w, "met": bool(ok), "value": v} for w, ok, v in targets]
    return finish(results, t_start, args.json, load_at_end="wall")


if __name__ == "__main__":
    sys.exit(main())
