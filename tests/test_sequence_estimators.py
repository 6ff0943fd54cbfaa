"""RNNRegressor / RNNClassifier (mlplab.sequence): scikit-learn's contract, learning, I/O.

scikit-learn's estimator checks feed 2-D X (n, T): univariate sequences of T steps.
ConvergenceWarning is expected in them (small problems, the estimator's own max_iter)
and ignored; any other warning is an error (pyproject's ``filterwarnings = error``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab
from mlplab.sklearn.sequence import RNNClassifier, RNNRegressor, make_windows

ESTIMATORS = [
    RNNRegressor(cell="lstm", units=8),
    RNNClassifier(cell="gru", units=8),
    RNNRegressor(cell="rnn", units=8, dense_layers=(4,), clip_norm=5.0),
    RNNClassifier(cell="rnn", units=8, truncate=3, batch_size=64),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Est", [RNNRegressor, RNNClassifier])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_predictions_are_batch_and_permutation_invariant(Est, cell):
    """RELIABILITY 10 on batches of 3-D sequences (n, T, F), float64: predict(X)[i] equals
    predict(X[i:i+1])[0] and predict(X[perm]) equals predict(X)[perm] within atol 1e-9."""
    rng = np.random.default_rng(10)
    X = rng.standard_normal((12, 7, 2))
    y = X[:, -3:, 0].sum(axis=1) if Est is RNNRegressor else (X[:, -1, 0] > 0).astype(int)
    est = Est(cell=cell, units=5, max_iter=3, random_state=0, dense_layers=(4,))
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    methods = [est.predict] + ([est.predict_proba] if Est is RNNClassifier else [])
    perm = rng.permutation(len(X))
    for method in methods:
        out = method(X)
        for i in range(len(X)):
            np.testing.assert_allclose(method(X[i : i + 1])[0], out[i], rtol=0, atol=1e-9)
        np.testing.assert_allclose(method(X[perm]), out[perm], rtol=0, atol=1e-9)


# ------------------------------------------------------------------------ make_windows
def test_make_windows_univariate():
    s = np.arange(10.0)
    X, y = make_windows(s, window=3)
    assert X.shape == (7, 3, 1) and y.shape == (7,)
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(X[-1, :, 0], [6, 7, 8])
    np.testing.assert_array_equal(y, np.arange(3.0, 10.0))
    X, y = make_windows(s, window=3, horizon=2, step=3)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 3])  # windows start at 0, 3 (6+3+2 > 10)
    np.testing.assert_array_equal(y, [4, 7])  # 2 steps after the window's last value
    X, y = make_windows(np.arange(5), window=4)  # integers become float64
    assert X.dtype == np.float64 and X.shape == (1, 4, 1) and y.tolist() == [4.0]


def test_make_windows_multivariate_keeps_float32():
    s = np.stack([np.arange(8.0), -np.arange(8.0)], axis=1).astype(np.float32)
    X, y = make_windows(s, window=5)
    assert X.shape == (3, 5, 2) and y.shape == (3, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(X[1], s[1:6])
    np.testing.assert_array_equal(y, s[5:8])
    X[0, 0, 0] = 99.0  # a copy: the series is untouched
    assert s[0, 0] == 0.0


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((np.arange(10.0), 0), {}, ValueError, "window"),
        ((np.arange(10.0), 2.5), {}, TypeError, "window"),
        ((np.arange(10.0), 3), {"horizon": 0}, ValueError, "horizon"),
        ((np.arange(10.0), 3), {"step": 0}, ValueError, "step"),
        ((np.arange(10.0), 10), {}, ValueError, "series` has 10 steps"),
        ((np.zeros((4, 3, 2)), 2), {}, ValueError, "series` must be 1-D"),
        ((np.array(["a", "b", "c"]), 1), {}, ValueError, "series` must be numeric"),
    ],
)
def test_make_windows_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_windows(*args, **kwargs)


# ---------------------------------------------------------------------------- learning
def sine_windows(window=12, n=400):
    t = np.arange(n + window) * 0.2
    return make_windows(np.sin(t) + 0.5 * np.sin(0.37 * t), window)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_regressor_beats_last_value_baseline(cell):
    X, y = sine_windows()
    Xtr, ytr, Xte, yte = X[:300], y[:300], X[300:], y[300:]
    reg = RNNRegressor(cell=cell, units=16, max_iter=150, random_state=0, tol=1e-6)
    reg.set_params(convergence_warning=False).fit(Xtr, ytr)
    mse = np.mean((reg.predict(Xte) - yte) ** 2)
    naive = np.mean((Xte[:, -1, 0] - yte) ** 2)
    assert mse < 0.05 * naive, (mse, naive)  # measured: 0.003-0.01
    assert 1 <= reg.n_iter_ <= 150 and len(reg.loss_curve_) == reg.n_iter_
    assert reg.loss_ == reg.loss_curve_[-1] == reg.history_["loss"][-1]
    assert reg.n_features_in_ == 12 and reg.input_shape_ == (12, 1)
    assert isinstance(reg.net_, mlplab.Sequential)
    # the same windows as 2-D (n, T) give the same model
    reg2 = clone(reg).set_params(max_iter=5, convergence_warning=False).fit(Xtr[:, :, 0], ytr)
    reg3 = clone(reg).set_params(max_iter=5, convergence_warning=False).fit(Xtr, ytr)
    np.testing.assert_allclose(reg2.predict(Xte[:, :, 0]), reg3.predict(Xte))


def test_classifier_sign_of_sum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 8, 2))
    y = np.where(X[:, :, 0].sum(axis=1) > 0, "pos", "neg")
    clf = RNNClassifier(cell="gru", units=16, max_iter=150, random_state=0)
    clf.set_params(convergence_warning=False).fit(X[:400], y[:400])
    assert clf.score(X[400:], y[400:]) > 0.9
    assert clf.classes_.tolist() == ["neg", "pos"]
    proba = clf.predict_proba(X[400:])
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_classifier_three_classes_and_float32():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(450, 6, 1)).astype(np.float32)
    s = X[:, :, 0].sum(axis=1)
    y = np.digitize(s, [-1.0, 1.0])  # 0, 1, 2
    clf = RNNClassifier(cell="lstm", units=16, max_iter=200, random_state=0, tol=1e-3)
    clf.set_params(convergence_warning=False).fit(X[:300], y[:300])
    assert clf.net_.dtype == np.float32 and clf.net_.layers[-1].units == 3
    assert clf.score(X[300:], y[300:]) > 0.8
    assert clf.predict_proba(X[:5]).shape == (5, 3)


def test_convergence_warning():
    X, y = sine_windows(window=4, n=40)
    with pytest.warns(ConvergenceWarning, match=r"maximum iterations \(2\)"):
        RNNRegressor(units=4, max_iter=2, random_state=0).fit(X, y)


def test_early_stopping_records_validation_loss():
    X, y = sine_windows(window=8, n=200)
    reg = RNNRegressor(
        cell="gru", units=8, max_iter=300, early_stopping=True, n_iter_no_change=5, tol=1e-3,
        random_state=0,
    )  # fmt: skip
    reg.fit(X, y)  # no ConvergenceWarning: it stops early
    assert reg.n_iter_ < 300
    assert len(reg.history_["val_loss"]) == reg.n_iter_


def test_warm_start_and_partial_fit_continue():
    X, y = sine_windows(window=8, n=150)
    reg = RNNRegressor(cell="rnn", units=8, max_iter=5, random_state=0, warm_start=True)
    reg.set_params(convergence_warning=False).fit(X, y)
    theta = reg.net_.theta.copy()
    net = reg.net_
    reg.fit(X, y)
    assert reg.net_ is net and not np.array_equal(theta, net.theta)  # continued, same net
    assert len(reg.loss_curve_) == 10 and reg.n_iter_ == 5
    clf = RNNClassifier(cell="rnn", units=4, random_state=0)
    yc = (X[:, -1, 0] > 0).astype(int)
    clf.partial_fit(X[:50], yc[:50], classes=[0, 1, 2])
    clf.partial_fit(X[50:], yc[50:])
    assert clf.classes_.tolist() == [0, 1, 2] and clf.n_iter_ == 1
    assert len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match="classes"):
        RNNClassifier().partial_fit(X, yc)


# ------------------------------------------------------------------- scikit-learn tools
def test_grid_search_and_cross_val_score():
    X, y = sine_windows(window=8, n=120)
    base = RNNRegressor(units=8, max_iter=20, random_state=0, convergence_warning=False)
    grid = GridSearchCV(base, {"cell": ["rnn", "gru"], "units": [4, 8]}, cv=3).fit(X, y)
    assert grid.best_params_["cell"] in ("rnn", "gru")
    assert grid.predict(X).shape == (120,)
    Xc = X[:, :, 0]
    yc = (Xc.sum(axis=1) > 0).astype(int)
    clf = RNNClassifier(cell="rnn", units=8, max_iter=30, random_state=0)
    scores = cross_val_score(clf.set_params(convergence_warning=False), Xc, yc, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.6)


# --------------------------------------------------------------------------- save/load
@pytest.mark.parametrize(
    "est, labels",
    [
        (RNNRegressor(cell="lstm", units=6, dense_layers=(5,), max_iter=3), None),
        (RNNClassifier(cell="gru", units=6, max_iter=3), ["a", "b", "c"]),
        (RNNClassifier(cell="rnn", units=6, max_iter=3, dtype="float32"), [3, 7]),
    ],
)
def test_save_load_round_trip(tmp_path, est, labels):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 7, 3))
    y = X.sum(axis=(1, 2)) if labels is None else np.array(labels)[np.arange(60) % len(labels)]
    est.set_params(random_state=0, convergence_warning=False).fit(X, y)
    path = tmp_path / "model.mlplab"
    mlplab.save(est, path)
    loaded = mlplab.load(path)
    assert type(loaded) is type(est) and loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    if labels is not None:
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
        np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    assert loaded.loss_curve_ == est.loss_curve_ and loaded.input_shape_ == est.input_shape_
    assert loaded.n_features_in_ == est.n_features_in_ == 7


# ------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize(
    "params, exc, match",
    [
        ({"cell": "lstn"}, ValueError, "cell"),
        ({"units": 0}, ValueError, "units"),
        ({"dense_layers": (4, -1)}, ValueError, "dense_layers"),
        ({"optimizer": "adamw"}, ValueError, "optimizer"),
        ({"learning_rate": 0.0}, ValueError, "learning_rate"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"batch_size": "big"}, TypeError, "batch_size"),
        ({"truncate": 0}, ValueError, "truncate"),
        ({"clip_norm": -1.0}, ValueError, "clip_norm"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"early_stopping": "yes"}, TypeError, "early_stopping"),
        ({"dtype": "float16"}, ValueError, "dtype"),
    ],
)
def test_bad_parameters_name_the_argument(params, exc, match):
    X = np.zeros((10, 4))
    with pytest.raises(exc, match=match):
        RNNRegressor(**params).fit(X, np.zeros(10))


def test_bad_data_errors():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 5, 2))
    reg = RNNRegressor(units=4, max_iter=2, random_state=0, convergence_warning=False)
    with pytest.raises(ValueError, match="X` must be 2-D .* or 3-D"):
        reg.fit(X[..., None], np.zeros(20))
    reg.fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="3 features per time step.*expecting 2"):
        reg.predict(rng.normal(size=(4, 5, 3)))
    with pytest.raises(ValueError, match="4 features, but RNNRegressor is expecting 5"):
        reg.predict(rng.normal(size=(4, 4, 2)))  # T differs (n_features_in_ = T)
    with pytest.raises(ValueError, match="sample_weight"):
        reg.fit(X, np.zeros(20), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="validation_fraction"):
        RNNRegressor(early_stopping=True, validation_fraction=0.01).fit(X, np.zeros(20))
    with pytest.raises(ValueError, match="2 classes"):
        RNNClassifier().fit(X, np.ones(20))
    clf = RNNClassifier(units=4, max_iter=2, random_state=0, convergence_warning=False)
    clf.set_params(warm_start=True).fit(X, np.arange(20) % 2)
    with pytest.raises(ValueError, match="labels not seen"):
        clf.fit(X, np.arange(20) % 3)
