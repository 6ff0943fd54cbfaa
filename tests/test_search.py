"""mlplab.search against scikit-learn's GridSearchCV / RandomizedSearchCV.

Every test runs both searches over the same mlplab estimator (or, for the
fall-back paths, the same scikit-learn estimator) in the same test: mlplab's
trains the candidates x folds networks together (``mlplab.batched``),
scikit-learn's fits them one by one. No expected number is hard-coded.

Tolerance: the engine promises each member equals a lone fit to floating-point
tolerance. Measured (float64, lbfgs/adam/sgd, regressors and classifiers, every
test below): the split/mean/std scores agree exactly (difference 0); the tests
allow ``RTOL``/``ATOL`` so that a change of summation order inside the engine
does not break them, and require ranks, ``best_params_`` and the refit's
predictions to be equal. float32 members (``dtype="float32"``) agree to ~1e-8
relative with adam/sgd. The metric formulas equal scikit-learn's metric
functions to 1e-12 (measured: exactly).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import sklearn.model_selection as skms
from scipy import stats
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning, NotFittedError, UndefinedMetricWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import (
    accuracy_score,
    make_scorer,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils._param_validation import InvalidParameterError

import mlplab
from mlplab.sklearn import search
from mlplab.sklearn.search import FallbackNotice, GridSearchCV, RandomizedSearchCV

RTOL = 1e-6  # scores of a batched member vs the same network fitted alone
ATOL = 1e-9

# --------------------------------------------------------------------------- data
_rs = np.random.RandomState(0)
X_REG = _rs.uniform(-1.0, 1.0, size=(200, 1))
Y_REG = X_REG[:, 0] ** 2 + 0.05 * _rs.randn(200)
X_CLF = _rs.randn(150, 2)
Y_BIN = (X_CLF[:, 0] + 0.7 * X_CLF[:, 1] > 0).astype(int)
Y_3 = np.digitize(X_CLF[:, 0] - 0.5 * X_CLF[:, 1], [-0.5, 0.5])
assert np.bincount(Y_3).min() > 30


def _reg(**kw):
    base = dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="lbfgs",
        max_iter=50,
        random_state=0,
        convergence_warning=False,
    )
    base.update(kw)
    return mlplab.MLPRegressor(**base)


def _clf(**kw):
    base = dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="lbfgs",
        max_iter=50,
        random_state=0,
        convergence_warning=False,
    )
    base.update(kw)
    return mlplab.MLPClassifier(**base)


def _fit_both(ours, theirs, X, y, **fit_params):
    """Fit both searches; the batched one must not fall back (no FallbackNotice)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackNotice)
        ours.fit(X, y, **fit_params)
    theirs.fit(X, y, **fit_params)
    return ours, theirs


def _assert_same_results(ours, theirs, *, exact=False):
    a, b = ours.cv_results_, theirs.cv_results_
    assert list(a) == list(b)
    assert a["params"] == b["params"]
    for key in a:
        if key == "params":
            continue
        va, vb = a[key], b[key]
        assert type(va) is type(vb), key
        assert np.asarray(va).dtype == np.asarray(vb).dtype, key
        assert np.asarray(va).shape == np.asarray(vb).shape, key
        if key.startswith("param_"):
            assert np.array_equal(np.ma.getmaskarray(va), np.ma.getmaskarray(vb))
            assert list(va) == list(vb), key
        elif key.startswith("rank_"):
            np.testing.assert_array_equal(va, vb, err_msg=key)
        elif "_time" in key:
            assert np.all(np.asarray(va) >= 0), key
        elif exact:
            np.testing.assert_array_equal(va, vb, err_msg=key)
        else:
            np.testing.assert_allclose(va, vb, rtol=RTOL, atol=ATOL, err_msg=key)
    for attr in ("best_index_", "best_params_", "n_splits_", "multimetric_"):
        assert hasattr(ours, attr) == hasattr(theirs, attr), attr
        if hasattr(theirs, attr):
            assert getattr(ours, attr) == getattr(theirs, attr), attr
    if hasattr(theirs, "best_score_"):
        np.testing.assert_allclose(ours.best_score_, theirs.best_score_, rtol=RTOL, atol=ATOL)
    assert hasattr(ours, "best_estimator_") == hasattr(theirs, "best_estimator_")
    assert hasattr(ours, "refit_time_") == hasattr(theirs, "refit_time_")
    assert type(ours.scorer_) is type(theirs.scorer_)


def _assert_same_refit(ours, theirs, X):
    # the refit is a plain fit of the best candidate on all the data, as scikit-learn's
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.best_estimator_.get_params() == theirs.best_estimator_.get_params()


# ---------------------------------------------------------------- metric formulas
@pytest.mark.parametrize(
    ("name", "func", "sign"),
    [
        ("r2", r2_score, 1),
        ("neg_mean_squared_error", mean_squared_error, -1),
        ("neg_root_mean_squared_error", root_mean_squared_error, -1),
        ("neg_mean_absolute_error", mean_absolute_error, -1),
    ],
)
def test_regression_formulas_equal_sklearn_metrics(rng, name, func, sign):
    cases = []
    for n in (2, 3, 17, 200):
        y = rng.normal(size=n)
        cases.append((y, y + 0.3 * rng.normal(size=n)))
        cases.append((y, y))  # perfect predictions
        cases.append((np.full(n, 1.5), rng.normal(size=n)))  # constant y: R² forced finite
        cases.append((np.full(n, 1.5), np.full(n, 1.5)))
        cases.append((rng.integers(0, 5, n), rng.normal(size=n)))  # integer y
        cases.append((y, (y + rng.normal(size=n)).astype(np.float32)))  # float32 predictions
        y32 = y.astype(np.float32)
        cases.append((y32, y32 + np.float32(0.1)))  # float32 throughout
        y2 = rng.normal(size=(n, 3))
        cases.append((y2, y2 + rng.normal(size=(n, 3))))  # multi-output
        y2c = y2.copy()
        y2c[:, 1] = 2.0
        cases.append((y2c, y2 + rng.normal(size=(n, 3))))
    for y_true, y_pred in cases:
        expected = sign * func(y_true, y_pred)
        got = search._fast_score(name, y_true, y_pred)
        assert isinstance(got, float)
        assert abs(got - expected) <= 1e-12 * max(1.0, abs(expected)), (name, y_true, y_pred)


def test_accuracy_formula_equals_sklearn(rng):
    for labels in (np.array([0, 1]), np.array([3, 7, 9]), np.array(["a", "b", "c"])):
        for n in (1, 5, 150):
            y_true = rng.choice(labels, n)
            y_pred = rng.choice(labels, n)
            for pred in (y_pred, y_true):
                expected = accuracy_score(y_true, pred)
                got = search._fast_score("accuracy", y_true, pred)
                assert isinstance(got, float)
                assert abs(got - expected) <= 1e-12


def test_formulas_defer_to_sklearn_when_ill_defined():
    assert search._fast_score("r2", np.array([1.0]), np.array([2.0])) is None
    assert search._fast_score("r2", np.array([1.0, 2.0]), np.array([np.nan, 2.0])) is None
    assert search._fast_score("neg_mean_squared_error", np.zeros(3), np.zeros(4)) is None
    assert search._fast_score("accuracy", np.array([], dtype=int), np.array([], dtype=int)) is None


# ---------------------------------------------------------------- regressor grids
@pytest.mark.floor_smoke
@pytest.mark.parametrize(
    ("solver", "extra"),
    [
        ("lbfgs", {}),
        ("adam", {"learning_rate_init": 0.01}),
        ("sgd", {"learning_rate_init": 0.05, "momentum": 0.9}),
    ],
)
def test_regressor_grid_matches_sklearn(solver, extra):
    est = _reg(solver=solver, **extra)
    grid = {
        "hidden_layer_sizes": [(4,), (8,)],
        "activation": ["tanh", "relu"],
        "random_state": [0, 1],
    }
    ours, theirs = _fit_both(
        GridSearchCV(est, grid, cv=3), skms.GridSearchCV(est, grid, cv=3), X_REG, Y_REG
    )
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_REG)
    assert ours.score(X_REG, Y_REG) == theirs.score(X_REG, Y_REG)


def test_solver_and_alpha_in_the_grid_with_train_scores():
    grid = [
        {"solver": ["lbfgs"], "alpha": [1e-4, 1e-1]},
        {"solver": ["adam"], "learning_rate_init": [0.01, 0.03], "alpha": [1e-4]},
    ]
    est = _reg(max_iter=40)
    ours, theirs = _fit_both(
        GridSearchCV(est, grid, cv=KFold(4, shuffle=True, random_state=0), return_train_score=True),
        skms.GridSearchCV(
            est, grid, cv=KFold(4, shuffle=True, random_state=0), return_train_score=True
        ),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)
    assert "mean_train_score" in ours.cv_results_
    _assert_same_refit(ours, theirs, X_REG)


def test_multi_output_regression():
    y2 = np.c_[Y_REG, np.sin(3 * X_REG[:, 0])]
    grid = {"hidden_layer_sizes": [(4,), (8,)], "random_state": [0, 1]}
    est = _reg()
    ours, theirs = _fit_both(
        GridSearchCV(est, grid, cv=3, scoring="neg_mean_squared_error"),
        skms.GridSearchCV(est, grid, cv=3, scoring="neg_mean_squared_error"),
        X_REG,
        y2,
    )
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_REG)


# --------------------------------------------------------------- classifiers
@pytest.mark.floor_smoke
@pytest.mark.parametrize("y", [Y_BIN, Y_3], ids=["binary", "3-class"])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_classifier_grid_matches_sklearn(y, solver):
    est = _clf(solver=solver, **({"learning_rate_init": 0.01} if solver == "adam" else {}))
    grid = {"hidden_layer_sizes": [(3,), (6,)], "alpha": [1e-4, 1.0]}
    ours, theirs = _fit_both(
        GridSearchCV(est, grid, cv=3, return_train_score=True),
        skms.GridSearchCV(est, grid, cv=3, return_train_score=True),
        X_CLF,
        y,
    )
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_CLF)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_array_equal(ours.predict_proba(X_CLF), theirs.predict_proba(X_CLF))


def test_classifier_string_labels_and_accuracy_scoring():
    y = np.array(["no", "yes"])[Y_BIN]
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    ours, theirs = _fit_both(
        GridSearchCV(_clf(), grid, scoring=["accuracy"], refit="accuracy"),
        skms.GridSearchCV(_clf(), grid, scoring=["accuracy"], refit="accuracy"),
        X_CLF,
        y,
    )
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_CLF)


# --------------------------------------------------------------- multimetric
def test_multimetric_refit_r2_with_train_scores():
    scoring = {
        "r2": "r2",
        "mse": "neg_mean_squared_error",
        "rmse": "neg_root_mean_squared_error",
        "mae": make_scorer(mean_absolute_error, greater_is_better=False),
    }
    grid = {"hidden_layer_sizes": [(3,), (8,)], "alpha": [1e-4, 1e-2]}
    kw = dict(scoring=scoring, refit="r2", cv=3, return_train_score=True)
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, **kw), skms.GridSearchCV(_reg(), grid, **kw), X_REG, Y_REG
    )
    _assert_same_results(ours, theirs)
    for name in scoring:
        assert f"mean_train_{name}" in ours.cv_results_
        assert f"rank_test_{name}" in ours.cv_results_
    assert ours.multimetric_ and set(ours.scorer_) == set(scoring)
    assert ours.best_index_ == np.argmin(ours.cv_results_["rank_test_r2"])
    _assert_same_refit(ours, theirs, X_REG)


def test_multimetric_without_refit_and_callable_refit():
    grid = {"hidden_layer_sizes": [(3,), (8,)]}
    scoring = ["r2", "neg_mean_absolute_error"]
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, scoring=scoring, refit=False, cv=3),
        skms.GridSearchCV(_reg(), grid, scoring=scoring, refit=False, cv=3),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)
    assert not hasattr(ours, "best_params_") and not hasattr(ours, "best_estimator_")

    def lowest_mae(results):
        return int(np.argmax(results["mean_test_neg_mean_absolute_error"]))

    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, scoring=scoring, refit=lowest_mae, cv=3),
        skms.GridSearchCV(_reg(), grid, scoring=scoring, refit=lowest_mae, cv=3),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)
    assert not hasattr(ours, "best_score_")
    _assert_same_refit(ours, theirs, X_REG)


# ------------------------------------------------------------ randomized search
@pytest.mark.floor_smoke
def test_randomized_search_matches_sklearn():
    dists = {
        "hidden_layer_sizes": stats.randint(2, 9),
        "alpha": stats.loguniform(1e-5, 1e-1),
        "activation": ["tanh", "relu", "logistic"],
        "learning_rate_init": stats.loguniform(3e-3, 3e-2),
    }
    est = _reg(solver="adam", max_iter=30)
    kw = dict(n_iter=6, cv=3, random_state=42, return_train_score=True)
    ours, theirs = _fit_both(
        RandomizedSearchCV(est, dists, **kw),
        skms.RandomizedSearchCV(est, dists, **kw),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_REG)


def test_dataframe_input_and_float32():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(X_REG, columns=["x"])
    y = pd.Series(Y_REG, name="y")
    est = _reg(solver="adam", learning_rate_init=0.01)
    grid = {"hidden_layer_sizes": [(3,), (6,)], "dtype": [None, "float32"]}
    ours, theirs = _fit_both(
        GridSearchCV(est, grid, cv=3), skms.GridSearchCV(est, grid, cv=3), X, y
    )
    _assert_same_results(ours, theirs)
    assert list(ours.feature_names_in_) == ["x"]
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


# ------------------------------------------------------------ splitters, n_jobs
def test_groups_and_boolean_mask_splits_stay_batched():
    groups = np.arange(X_REG.shape[0]) % 5
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, cv=GroupKFold(5)),
        skms.GridSearchCV(_reg(), grid, cv=GroupKFold(5)),
        X_REG,
        Y_REG,
        groups=groups,
    )
    _assert_same_results(ours, theirs)

    masks = [(groups != g, groups == g) for g in range(3)]
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, cv=masks),
        skms.GridSearchCV(_reg(), grid, cv=masks),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)


def test_n_jobs_gives_the_same_results():
    grid = {"hidden_layer_sizes": [(3,), (6,)], "activation": ["tanh", "relu"]}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackNotice)
        one = GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
        two = GridSearchCV(_reg(), grid, cv=3, n_jobs=2).fit(X_REG, Y_REG)
    _assert_same_results(one, two, exact=True)


def test_dask_local_cluster_gives_the_local_result():
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    grid = {"hidden_layer_sizes": [(3,), (6,)], "activation": ["tanh", "relu"]}
    local = GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
        joblib.parallel_backend("dask"),
        distributed.get_task_stream(client) as tasks,
    ):
        remote = GridSearchCV(_reg(), grid, cv=3, n_jobs=2).fit(X_REG, Y_REG)
    assert len(tasks.data) > 0  # the stacks were trained on the cluster's workers
    assert remote.best_params_ == local.best_params_
    _assert_same_results(remote, local, exact=True)


# ------------------------------------------------------------------- fall-backs
def test_non_mlplab_estimator_falls_back_with_notice():
    grid = {"alpha": [0.1, 1.0, 10.0]}
    with pytest.warns(FallbackNotice, match="Ridge.*not an mlplab") as record:
        ours = GridSearchCV(Ridge(), grid, cv=3, return_train_score=True).fit(X_REG, Y_REG)
    assert len(record) == 1 and record[0].filename == __file__  # points at the caller
    assert "\n" not in str(record[0].message)
    theirs = skms.GridSearchCV(Ridge(), grid, cv=3, return_train_score=True).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs, exact=True)
    _assert_same_refit(ours, theirs, X_REG)


def test_callable_scorer_falls_back_with_notice():
    def neg_max_error(estimator, X, y):
        return -float(np.max(np.abs(estimator.predict(X) - y)))

    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    with pytest.warns(FallbackNotice, match="callable"):
        ours = GridSearchCV(_reg(), grid, cv=3, scoring=neg_max_error).fit(X_REG, Y_REG)
    theirs = skms.GridSearchCV(_reg(), grid, cv=3, scoring=neg_max_error).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs, exact=True)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"scoring": "explained_variance"}, "explained_variance"),
        ({"scoring": {"r2": "r2", "med": "neg_median_absolute_error"}, "refit": "r2"}, "median"),
    ],
)
def test_other_metrics_fall_back_with_notice(kw, match):
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    with pytest.warns(FallbackNotice, match=match):
        ours = GridSearchCV(_reg(), grid, cv=3, **kw).fit(X_REG, Y_REG)
    theirs = skms.GridSearchCV(_reg(), grid, cv=3, **kw).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs, exact=True)


def test_sample_weight_falls_back_and_none_does_not():
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    sw = np.linspace(0.5, 2.0, X_REG.shape[0])
    with pytest.warns(FallbackNotice, match="sample_weight"):
        ours = GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG, sample_weight=sw)
    theirs = skms.GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG, sample_weight=sw)
    _assert_same_results(ours, theirs, exact=True)
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, cv=3),
        skms.GridSearchCV(_reg(), grid, cv=3),
        X_REG,
        Y_REG,
        sample_weight=None,
    )
    _assert_same_results(ours, theirs)


def test_unbatchable_candidates_run_alone_the_rest_batched():
    grid = {"hidden_layer_sizes": [(3,), (6,)], "warm_start": [False, True]}
    with pytest.warns(FallbackNotice, match="6 of 12 fits are not batched") as record:
        ours = GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
    assert len(record) == 1 and record[0].filename == __file__
    assert "warm_start=True" in str(record[0].message)
    theirs = skms.GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs)
    _assert_same_refit(ours, theirs, X_REG)


def test_engine_failure_refits_one_by_one(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine out of order")

    monkeypatch.setattr(search, "fit_members", broken)
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    with pytest.warns(FallbackNotice, match="engine out of order"):
        ours = GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
    theirs = skms.GridSearchCV(_reg(), grid, cv=3).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs, exact=True)


# ----------------------------------------------------- failures and error messages
def test_failed_fits_get_error_score_as_sklearn():
    grid = {"hidden_layer_sizes": [(3,), (0,)]}  # (0,) fails validation in fit
    with pytest.warns(FallbackNotice, match="3 of 6 fits are not batched"):
        with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
            ours = GridSearchCV(_reg(), grid, cv=3, error_score=-99.0).fit(X_REG, Y_REG)
    with pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6"):
        theirs = skms.GridSearchCV(_reg(), grid, cv=3, error_score=-99.0).fit(X_REG, Y_REG)
    _assert_same_results(ours, theirs)
    assert ours.cv_results_["split0_test_score"][1] == -99.0
    assert ours.best_params_ == {"hidden_layer_sizes": (3,)}

    with pytest.warns(FallbackNotice), pytest.raises(ValueError, match="hidden_layer_sizes"):
        GridSearchCV(_reg(), grid, cv=3, error_score="raise").fit(X_REG, Y_REG)
    with pytest.warns(FallbackNotice), pytest.raises(ValueError, match="All the 3 fits failed"):
        GridSearchCV(_reg(), {"hidden_layer_sizes": [(0,)]}, cv=3).fit(X_REG, Y_REG)


def test_diverged_members_are_refitted_alone_and_fail_as_sklearn():
    # sgd at learning rate 10 on unscaled inputs diverges; the estimator fitted alone
    # rejects its non-finite weights (fit_error, error_score), as in scikit-learn's search
    X_big = X_REG * 100
    est = _reg(solver="sgd", hidden_layer_sizes=(20,), activation="relu", max_iter=20)
    grid = {"learning_rate_init": [1e-5, 10.0]}

    def failed():
        return pytest.warns(FitFailedWarning, match="3 fits failed out of a total of 6")

    def nan_means():
        return pytest.warns(UserWarning, match="test scores are non-finite")

    with pytest.warns(FallbackNotice, match="3 of 6 fits are not batched.*non-finite"):
        with failed(), nan_means():
            ours = GridSearchCV(est, grid, cv=3).fit(X_big, Y_REG)
    with failed(), nan_means():
        theirs = skms.GridSearchCV(est, grid, cv=3).fit(X_big, Y_REG)
    _assert_same_results(ours, theirs)
    assert np.isnan(ours.cv_results_["mean_test_score"][1])


def test_ill_defined_scores_are_sklearns_own():
    # one-sample test folds: R² is undefined, scikit-learn's scorer warns and gives nan
    n = X_REG.shape[0]
    cv = [(np.arange(1, n), np.array([0])), (np.arange(n - 1), np.array([n - 1]))]
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    with pytest.warns(UndefinedMetricWarning), pytest.warns(UserWarning, match="non-finite"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", FallbackNotice)
            ours = GridSearchCV(_reg(), grid, cv=cv).fit(X_REG, Y_REG)
    with pytest.warns(UndefinedMetricWarning), pytest.warns(UserWarning, match="non-finite"):
        theirs = skms.GridSearchCV(_reg(), grid, cv=cv).fit(X_REG, Y_REG)
    assert np.isnan(ours.cv_results_["mean_test_score"]).all()
    assert list(ours.cv_results_) == list(theirs.cv_results_)
    np.testing.assert_array_equal(
        ours.cv_results_["rank_test_score"], theirs.cv_results_["rank_test_score"]
    )
    ours, theirs = _fit_both(
        GridSearchCV(_reg(), grid, cv=cv, scoring="neg_mean_absolute_error"),
        skms.GridSearchCV(_reg(), grid, cv=cv, scoring="neg_mean_absolute_error"),
        X_REG,
        Y_REG,
    )
    _assert_same_results(ours, theirs)


def _message(call):
    try:
        call()
    except Exception as exc:
        return type(exc), str(exc)
    raise AssertionError("no exception raised")


@pytest.mark.parametrize(
    "kw",
    [
        {"scoring": ["r2", "neg_mean_squared_error"]},  # multimetric needs refit=<name>
        {"scoring": ["r2"], "refit": "mse"},
        {"scoring": "not_a_metric"},
        {"error_score": "nope"},
        {"cv": "three"},
    ],
)
def test_error_messages_are_sklearns(kw):
    grid = {"hidden_layer_sizes": [(3,)]}
    ours = _message(lambda: GridSearchCV(_reg(), grid, **kw).fit(X_REG, Y_REG))
    theirs = _message(lambda: skms.GridSearchCV(_reg(), grid, **kw).fit(X_REG, Y_REG))
    assert ours[0] in (ValueError, InvalidParameterError)
    assert ours == theirs


def test_unknown_parameter_and_unfitted_search_raise_as_sklearn():
    bad = {"no_such_param": [1]}
    ours = _message(lambda: GridSearchCV(_reg(), bad, cv=3).fit(X_REG, Y_REG))
    theirs = _message(lambda: skms.GridSearchCV(_reg(), bad, cv=3).fit(X_REG, Y_REG))
    assert ours == theirs and ours[0] is ValueError
    with pytest.raises(NotFittedError):
        GridSearchCV(_reg(), {"alpha": [1.0]}).predict(X_REG)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        GridSearchCV(_reg(), {"alpha": [1.0]}).fit(X_REG, Y_REG[:-1])


# ---------------------------------------------------------- estimator protocol
def test_constructor_params_and_clone_are_sklearns():
    ours = GridSearchCV(_reg(), {"alpha": [1.0]}, cv=4, n_jobs=2)
    theirs = skms.GridSearchCV(_reg(), {"alpha": [1.0]}, cv=4, n_jobs=2)
    assert ours.get_params(deep=False).keys() == theirs.get_params(deep=False).keys()
    assert clone(ours).get_params()["cv"] == 4
    rs = RandomizedSearchCV(_reg(), {"alpha": [1.0]}, n_iter=1)
    assert (
        rs.get_params().keys() == skms.RandomizedSearchCV(_reg(), {}, n_iter=1).get_params().keys()
    )
    assert isinstance(ours, skms.GridSearchCV) and isinstance(rs, skms.RandomizedSearchCV)


def test_verbose_output_matches_sklearn(capsys):
    grid = {"hidden_layer_sizes": [(3,), (6,)]}
    kw = dict(cv=3, verbose=3, scoring=["r2", "neg_mean_absolute_error"], refit="r2")
    GridSearchCV(_reg(), grid, return_train_score=True, **kw).fit(X_REG, Y_REG)
    ours = capsys.readouterr().out
    skms.GridSearchCV(_reg(), grid, return_train_score=True, **kw).fit(X_REG, Y_REG)
    theirs = capsys.readouterr().out

    def untimed(out):
        return re.sub(r"total time=.*s$", "total time=", out, flags=re.MULTILINE).splitlines()

    assert untimed(ours) == untimed(theirs)
    assert untimed(ours)[0] == "Fitting 3 folds for each of 2 candidates, totalling 6 fits"
    assert len(untimed(ours)) == 7
