"""mlplab.search over a Pipeline / TransformedTargetRegressor around an mlplab MLP,
against scikit-learn's GridSearchCV / RandomizedSearchCV over the same object.

The batched search fits each fold's transformers once per setting of their
parameters, by the composite's own ``fit`` (the MLP replaced by a recorder), trains
the MLPs together and predicts through the same fitted composite: ``cv_results_``
must equal scikit-learn's to the bit (times aside) and the refit's predictions too.
BLAS threads are pinned to 1 so that both sides do the same arithmetic.
"""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn.model_selection as skms
from scipy import stats
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler
from threadpoolctl import threadpool_limits

import mlplab
from mlplab.sklearn import search
from mlplab.sklearn.search import FallbackNotice, GridSearchCV, RandomizedSearchCV

_rs = np.random.RandomState(3)
X_REG = _rs.uniform(-1.0, 1.0, size=(120, 2)) * [1.0, 40.0] + [0.0, 100.0]
Y_REG = 50.0 * X_REG[:, 0] ** 2 + 0.02 * X_REG[:, 1] + _rs.randn(120)
X_CLF = _rs.randn(120, 2) * [1.0, 30.0]
Y_CLF = np.digitize(X_CLF[:, 0] - X_CLF[:, 1] / 30.0, [-0.5, 0.5])


def _net(cls=mlplab.MLPRegressor, **kw):
    base = dict(
        hidden_layer_sizes=(4,),
        activation="tanh",
        solver="lbfgs",
        max_iter=40,
        random_state=0,
        convergence_warning=False,
    )
    return cls(**{**base, **kw})


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _both(search_cls, sk_cls, estimator, grid, X, y, **kw):
    """Fit mlplab's search (must not fall back) and scikit-learn's, same arguments."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackNotice)
        ours = search_cls(estimator, grid, **kw).fit(X, y)
    theirs = sk_cls(estimator, grid, **kw).fit(X, y)
    return ours, theirs


def _assert_equal(ours, theirs, X):
    a, b = ours.cv_results_, theirs.cv_results_
    assert list(a) == list(b)
    assert a["params"] == b["params"]
    for key in a:
        if key == "params" or "_time" in key:
            continue
        if key.startswith("param_"):
            assert list(a[key]) == list(b[key]), key
            continue
        assert np.asarray(a[key]).dtype == np.asarray(b[key]).dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)  # to the bit
    assert ours.best_params_ == theirs.best_params_
    if hasattr(theirs, "best_estimator_"):
        assert (
            ours.best_estimator_.get_params().keys() == theirs.best_estimator_.get_params().keys()
        )
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_array_equal(
            ours.best_estimator_.predict(X), theirs.best_estimator_.predict(X)
        )


def test_pipeline_scaler_regressor_lbfgs_grid_equals_sklearn():
    grid = {
        "mlpregressor__hidden_layer_sizes": [(3,), (6,)],
        "mlpregressor__alpha": [1e-4, 1e-1],
        "mlpregressor__random_state": [0, 1],
    }
    pipe = make_pipeline(StandardScaler(), _net())
    ours, theirs = _both(
        GridSearchCV, skms.GridSearchCV, pipe, grid, X_REG, Y_REG, cv=4, return_train_score=True
    )
    _assert_equal(ours, theirs, X_REG)


def test_pipeline_classifier_accuracy_equals_sklearn():
    pipe = make_pipeline(StandardScaler(), MinMaxScaler(), _net(mlplab.MLPClassifier))
    grid = {"mlpclassifier__hidden_layer_sizes": [(3,), (5,)], "mlpclassifier__alpha": [1e-4, 1.0]}
    for scoring in (None, "accuracy"):
        ours, theirs = _both(
            GridSearchCV, skms.GridSearchCV, pipe, grid, X_CLF, Y_CLF, cv=3, scoring=scoring
        )
        _assert_equal(ours, theirs, X_CLF)
    np.testing.assert_array_equal(ours.predict_proba(X_CLF), theirs.predict_proba(X_CLF))


def test_transformed_target_regressor_equals_sklearn():
    ttr = TransformedTargetRegressor(_net(), transformer=StandardScaler())
    grid = {"regressor__hidden_layer_sizes": [(3,), (6,)], "regressor__random_state": [0, 1, 2]}
    ours, theirs = _both(
        GridSearchCV,
        skms.GridSearchCV,
        ttr,
        grid,
        X_REG,
        Y_REG,
        cv=3,
        scoring=["neg_mean_squared_error", "r2"],
        refit="neg_mean_squared_error",
        return_train_score=True,
    )
    _assert_equal(ours, theirs, X_REG)


def test_ttr_of_a_pipeline_as_the_experiments_build_it_equals_sklearn():
    from mlplab.experiments._approximation import mlp

    model = mlp((3,), random_state=None, tol=1e-4, max_iter=40, input_scaling=True)
    grid = {
        "regressor__mlpregressor__hidden_layer_sizes": [(3,), (5,)],
        "regressor__mlpregressor__random_state": [0, 1],
    }
    ours, theirs = _both(
        GridSearchCV,
        skms.GridSearchCV,
        model,
        grid,
        X_REG,
        Y_REG,
        cv=5,
        scoring="neg_mean_squared_error",
    )
    _assert_equal(ours, theirs, X_REG)


def test_randomized_search_and_dataframe_input_equal_sklearn():
    X = pd.DataFrame(X_REG, columns=["a", "b"])
    pipe = Pipeline([("scale", StandardScaler()), ("skip", "passthrough"), ("net", _net())])
    dists = {"net__alpha": stats.loguniform(1e-5, 1e-1), "scale__with_std": [True, False]}
    ours, theirs = _both(
        RandomizedSearchCV,
        skms.RandomizedSearchCV,
        pipe,
        dists,
        X,
        Y_REG,
        n_iter=5,
        cv=3,
        random_state=0,
    )
    _assert_equal(ours, theirs, X)


def test_missing_values_imputed_inside_the_pipeline_stay_batched():
    X = X_REG.copy()
    X[::7, 1] = np.nan  # the bare network would refuse X; the pipeline's imputer fills it
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), _net())
    grid = {"simpleimputer__strategy": ["mean", "median"], "mlpregressor__alpha": [1e-4, 1.0]}
    ours, theirs = _both(GridSearchCV, skms.GridSearchCV, pipe, grid, X, Y_REG, cv=3)
    _assert_equal(ours, theirs, X)


def test_bare_network_on_a_two_column_dataframe_equals_sklearn_to_the_bit():
    # a DataFrame's array is column-major: the engine stacks the members' rows so too
    X = pd.DataFrame(X_REG / [1.0, 40.0], columns=["a", "b"])
    grid = {"hidden_layer_sizes": [(3,), (6,)], "random_state": [0, 1]}
    ours, theirs = _both(GridSearchCV, skms.GridSearchCV, _net(), grid, X, Y_REG, cv=3)
    _assert_equal(ours, theirs, X)


class CountingScaler(StandardScaler):
    """A StandardScaler that counts its fits (class-wide)."""

    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


def test_transformer_parameters_group_the_fits_once_per_fold_and_setting():
    pipe = make_pipeline(CountingScaler(), _net())
    ttr = TransformedTargetRegressor(pipe, transformer=StandardScaler())
    grid = {
        "regressor__countingscaler__with_mean": [True, False],
        "transformer": [StandardScaler(), MinMaxScaler()],
        "regressor__mlpregressor__hidden_layer_sizes": [(3,), (5,), (6,)],
    }
    CountingScaler.fits = 0
    ours, theirs = _both(GridSearchCV, skms.GridSearchCV, ttr, grid, X_REG, Y_REG, cv=3)
    # sklearn: 2 x 2 x 3 candidates x 3 folds + the refit = 37 scaler fits (both searches)
    # ours: 2 x 2 settings x 3 folds + the refit = 13
    assert CountingScaler.fits == 13 + 37
    _assert_equal(ours, theirs, X_REG)


def test_engine_failure_fits_the_composite_one_by_one(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("engine out of order")

    monkeypatch.setattr(search, "fit_members", broken)
    pipe = make_pipeline(StandardScaler(), _net())
    grid = {"mlpregressor__hidden_layer_sizes": [(3,), (6,)]}
    with pytest.warns(FallbackNotice, match="6 of 6 fits are not batched.*engine out of order"):
        ours = GridSearchCV(pipe, grid, cv=3).fit(X_REG, Y_REG)
    theirs = skms.GridSearchCV(pipe, grid, cv=3).fit(X_REG, Y_REG)
    _assert_equal(ours, theirs, X_REG)


def test_failing_transformer_setting_runs_alone_with_error_score():
    pipe = make_pipeline(FunctionTransformer(), _net())
    grid = {
        "functiontransformer__func": [None, np.log],  # log of negative X: non-finite
        "mlpregressor__hidden_layer_sizes": [(3,), (6,)],
    }
    with pytest.warns(FallbackNotice, match="6 of 12 fits are not batched.*not finite"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", FitFailedWarning)
            ours = GridSearchCV(pipe, grid, cv=3, error_score=-1.0).fit(X_REG, Y_REG)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skms.GridSearchCV(pipe, grid, cv=3, error_score=-1.0).fit(X_REG, Y_REG)
    _assert_equal(ours, theirs, X_REG)


_SCALER_GRID = {"standardscaler__with_mean": [True, False]}


@pytest.mark.parametrize(
    ("estimator", "grid", "fit_params", "match"),
    [
        (
            make_pipeline(StandardScaler(), Ridge()),
            _SCALER_GRID,
            {},
            "final step.*Ridge.*not an mlplab",
        ),
        (
            TransformedTargetRegressor(transformer=StandardScaler()),
            {"check_inverse": [True, False]},
            {},
            "regressor is None",
        ),
        (
            make_pipeline(StandardScaler(), _net(), memory=joblib.Memory(location=None)),
            _SCALER_GRID,
            {},
            "memory",
        ),
        (
            make_pipeline(StandardScaler(), _net()),
            _SCALER_GRID,
            {"standardscaler__sample_weight": np.ones(120)},
            "fit parameters",
        ),
    ],
)
def test_unsupported_composites_fall_back_with_one_notice(estimator, grid, fit_params, match):
    with pytest.warns(FallbackNotice, match=match) as record:
        ours = GridSearchCV(estimator, grid, cv=3).fit(X_REG, Y_REG, **fit_params)
    assert sum(issubclass(r.category, FallbackNotice) for r in record) == 1
    theirs = skms.GridSearchCV(estimator, grid, cv=3).fit(X_REG, Y_REG, **fit_params)
    _assert_equal(ours, theirs, X_REG)
