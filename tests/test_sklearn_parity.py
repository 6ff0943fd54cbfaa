"""mlplab's MLPClassifier/MLPRegressor against scikit-learn's, side by side.

The central promise of mlplab.estimators: with the same hyperparameters and the
same ``random_state``, the default initializer draws scikit-learn's initial
weights, the stochastic solvers (SGD with every momentum/schedule variant, Adam)
follow scikit-learn's training trajectory to rounding error, and L-BFGS reaches
the same quality of fit. Every test fits both libraries in the same test; no
expected number is hard-coded.
"""

from __future__ import annotations

import re
import warnings
from itertools import pairwise

import numpy as np
import pytest
from sklearn import neural_network as sknn
from sklearn.datasets import make_circles
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

import mlplab

WEIGHT_TOL = 1e-10  # float64 trajectories agree to rounding error
CURVE_RTOL = 1e-10

# --------------------------------------------------------------------------
# data: 60 samples, 3 features
# --------------------------------------------------------------------------
_rs = np.random.RandomState(7)
X = _rs.randn(60, 3)
_lin = X @ np.array([[1.5, -1.0, 0.3], [-0.7, 1.2, 0.8], [0.5, 0.4, -1.1]])
TARGETS = {
    "binary": (X[:, 0] + 0.5 * X[:, 1] - 0.3 * X[:, 2] > 0).astype(int),
    "multiclass": np.argmax(_lin, axis=1),
    "multilabel": (_lin > 0.2).astype(int),
    "reg": np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2],
    "reg2": np.c_[np.sin(X[:, 0]) + 0.5 * X[:, 1], np.cos(X[:, 1]) - X[:, 2] ** 2],
}
SAMPLE_WEIGHT = _rs.uniform(0.2, 3.0, size=X.shape[0])
assert len(np.unique(TARGETS["multiclass"])) == 3
assert TARGETS["multilabel"].sum(axis=0).min() > 5


def _classes(kind):
    return (
        (sknn.MLPClassifier, mlplab.MLPClassifier)
        if kind
        in (
            "binary",
            "multiclass",
            "multilabel",
        )
        else (sknn.MLPRegressor, mlplab.MLPRegressor)
    )


def _fit_recording(est, X, y, **fit_kw):
    """Fit, returning the list of warnings raised (all of them, always recorded)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, **fit_kw)
    return caught


def _n_convergence(caught):
    return sum(issubclass(w.category, ConvergenceWarning) for w in caught)


def _fit_pair(kind, params, sample_weight=None, X_=None, y_=None):
    Sk, Ml = _classes(kind)
    X_ = X if X_ is None else X_
    y_ = TARGETS[kind] if y_ is None else y_
    fit_kw = {} if sample_weight is None else {"sample_weight": sample_weight}
    sk = Sk(**params)
    ml = Ml(**params)
    w_sk = _fit_recording(sk, X_, y_, **fit_kw)
    w_ml = _fit_recording(ml, X_, y_, **fit_kw)
    # mlplab emits no other warning than scikit-learn does
    assert [w.category for w in w_ml] == [w.category for w in w_sk], (
        [str(w.message) for w in w_sk],
        [str(w.message) for w in w_ml],
    )
    return sk, ml, w_sk, w_ml


def _assert_same_weights(sk, ml, tol=WEIGHT_TOL):
    assert len(ml.coefs_) == len(sk.coefs_)
    assert len(ml.intercepts_) == len(sk.intercepts_)
    for i, (a, b) in enumerate(zip(ml.coefs_, sk.coefs_, strict=True)):
        assert a.shape == b.shape, f"coefs_[{i}]"
        np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=f"coefs_[{i}]")
    for i, (a, b) in enumerate(zip(ml.intercepts_, sk.intercepts_, strict=True)):
        assert np.shape(a) == np.shape(b), f"intercepts_[{i}]"
        np.testing.assert_allclose(a, b, rtol=0, atol=tol, err_msg=f"intercepts_[{i}]")


def _assert_same_stochastic_fit(sk, ml):
    _assert_same_weights(sk, ml)
    assert ml.n_iter_ == sk.n_iter_
    assert ml.t_ == sk.t_
    assert ml.n_layers_ == sk.n_layers_
    assert ml.n_outputs_ == sk.n_outputs_
    assert ml.out_activation_ == sk.out_activation_
    assert len(ml.loss_curve_) == len(sk.loss_curve_)
    np.testing.assert_allclose(ml.loss_curve_, sk.loss_curve_, rtol=CURVE_RTOL, atol=0)
    np.testing.assert_allclose(ml.loss_, sk.loss_, rtol=CURVE_RTOL)
    if sk.best_loss_ is None:
        assert ml.best_loss_ is None
    else:
        np.testing.assert_allclose(ml.best_loss_, sk.best_loss_, rtol=CURVE_RTOL)
    if sk.validation_scores_ is None:
        assert ml.validation_scores_ is None
        assert ml.best_validation_score_ is None
    else:
        assert len(ml.validation_scores_) == len(sk.validation_scores_)
        np.testing.assert_allclose(
            ml.validation_scores_, sk.validation_scores_, rtol=CURVE_RTOL, atol=1e-12
        )
        np.testing.assert_allclose(
            ml.best_validation_score_, sk.best_validation_score_, rtol=CURVE_RTOL, atol=1e-12
        )


def _assert_same_predictions(sk, ml, kind):
    if kind in ("reg", "reg2"):
        np.testing.assert_allclose(ml.predict(X), sk.predict(X), rtol=1e-9, atol=1e-9)
    else:
        np.testing.assert_array_equal(ml.classes_, sk.classes_)
        np.testing.assert_allclose(ml.predict_proba(X), sk.predict_proba(X), rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(ml.predict(X), sk.predict(X))


# --------------------------------------------------------------------------
# initial weights
# --------------------------------------------------------------------------


def _reference_initial_weights(layer_units, activation, random_state):
    """scikit-learn's scheme, written out: W then b per layer, U(-r, r), r = sqrt(f/(in+out))."""
    rs = check_random_state(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in pairwise(layer_units):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rs.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rs.uniform(-bound, bound, fan_out))
    return coefs, intercepts


@pytest.mark.floor_smoke
@pytest.mark.parametrize(
    "kind, hidden, activation, seed",
    [
        ("binary", (5,), "logistic", 0),
        ("multiclass", (4, 3), "tanh", 1),
        ("multilabel", (6,), "relu", 2),
        ("reg", (4, 3), "logistic", 3),
        ("reg2", (), "relu", 4),
    ],
)
def test_initial_weights_equal_sklearn(kind, hidden, activation, seed):
    """One full-batch SGD step of 1e-12 leaves the initial weights to < 1e-10."""
    y = TARGETS[kind]
    params = dict(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver="sgd",
        max_iter=1,
        batch_size=X.shape[0],
        learning_rate_init=1e-12,
        momentum=0.0,
        shuffle=False,
        random_state=seed,
    )
    sk, ml, w_sk, w_ml = _fit_pair(kind, params)
    assert _n_convergence(w_sk) == _n_convergence(w_ml) == 1  # max_iter=1 reached
    n_out = (
        1
        if y.ndim == 1 and kind in ("binary", "reg")
        else (3 if kind == "multiclass" else y.shape[1])
    )
    units = [X.shape[1], *hidden, n_out]
    ref_W, ref_b = _reference_initial_weights(units, activation, seed)
    for a, b in zip(ml.coefs_, ref_W, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    for a, b in zip(ml.intercepts_, ref_b, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    _assert_same_weights(sk, ml, tol=1e-10)


def test_initial_weights_follow_random_state():
    """Another random_state gives other initial weights (the check above can fail)."""
    params = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        max_iter=1,
        batch_size=60,
        learning_rate_init=1e-12,
        shuffle=False,
        random_state=0,
    )
    a = mlplab.MLPRegressor(**params)
    b = mlplab.MLPRegressor(**{**params, "random_state": 1})
    _fit_recording(a, X, TARGETS["reg"])
    _fit_recording(b, X, TARGETS["reg"])
    assert np.abs(a.coefs_[0] - b.coefs_[0]).max() > 1e-3
    ref_W, _ = _reference_initial_weights([3, 5, 1], "relu", 1)
    np.testing.assert_allclose(b.coefs_[0], ref_W[0], rtol=0, atol=1e-10)


# --------------------------------------------------------------------------
# stochastic solvers: the same trajectory
# --------------------------------------------------------------------------

BASE = dict(batch_size=16, max_iter=30, shuffle=True)

SOLVER_CASES = {
    "sgd-plain-logistic": dict(
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.2,
        activation="logistic",
        hidden_layer_sizes=(5,),
    ),
    "sgd-momentum-tanh": dict(
        solver="sgd",
        momentum=0.9,
        nesterovs_momentum=False,
        learning_rate_init=0.02,
        activation="tanh",
        hidden_layer_sizes=(4, 3),
    ),
    "sgd-nesterov-relu": dict(
        solver="sgd",
        momentum=0.8,
        nesterovs_momentum=True,
        learning_rate_init=0.02,
        activation="relu",
        hidden_layer_sizes=(5,),
    ),
    "sgd-invscaling-tanh": dict(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.5,
        power_t=0.4,
        activation="tanh",
        hidden_layer_sizes=(4, 3),
    ),
    # tol large: every epoch counts as "no improvement", so the adaptive rate is
    # divided by 5 every n_iter_no_change + 1 epochs until it falls below 1e-6
    "sgd-adaptive-relu": dict(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.05,
        tol=0.5,
        n_iter_no_change=2,
        activation="relu",
        hidden_layer_sizes=(5,),
    ),
    "sgd-stops-on-tol-logistic": dict(
        solver="sgd",
        learning_rate_init=0.1,
        tol=0.02,
        n_iter_no_change=3,
        activation="logistic",
        hidden_layer_sizes=(5,),
    ),
    "adam-relu": dict(
        solver="adam",
        learning_rate_init=0.01,
        activation="relu",
        hidden_layer_sizes=(4, 3),
    ),
    "adam-betas-tanh-noshuffle": dict(
        solver="adam",
        learning_rate_init=0.02,
        beta_1=0.8,
        beta_2=0.99,
        epsilon=1e-6,
        activation="tanh",
        hidden_layer_sizes=(5,),
        shuffle=False,
    ),
    "adam-alpha-logistic": dict(
        solver="adam",
        learning_rate_init=0.05,
        alpha=0.3,
        activation="logistic",
        hidden_layer_sizes=(5,),
    ),
    "sgd-alpha-auto-batch-tanh": dict(
        solver="sgd",
        learning_rate_init=0.1,
        alpha=0.05,
        batch_size="auto",
        activation="tanh",
        hidden_layer_sizes=(4, 3),
    ),
    "identity-adam": dict(
        solver="adam",
        learning_rate_init=0.02,
        activation="identity",
        hidden_layer_sizes=(3,),
    ),
}
KINDS = ["binary", "multiclass", "multilabel", "reg", "reg2"]


@pytest.mark.floor_smoke
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", sorted(SOLVER_CASES))
def test_stochastic_fit_matches_sklearn(case, kind):
    params = {**BASE, **SOLVER_CASES[case], "random_state": 11}
    sk, ml, w_sk, w_ml = _fit_pair(kind, params)
    assert _n_convergence(w_ml) == _n_convergence(w_sk)
    _assert_same_stochastic_fit(sk, ml)
    _assert_same_predictions(sk, ml, kind)


def test_stochastic_cases_exercise_stopping_and_warnings():
    """The cases above cover both early convergence and the max_iter ConvergenceWarning."""
    stopped = sknn.MLPClassifier(**{**BASE, **SOLVER_CASES["sgd-adaptive-relu"]}, random_state=11)
    caught = _fit_recording(stopped, X, TARGETS["binary"])
    assert stopped.n_iter_ < 30 and _n_convergence(caught) == 0
    full = sknn.MLPClassifier(**{**BASE, **SOLVER_CASES["adam-relu"]}, random_state=11)
    caught = _fit_recording(full, X, TARGETS["binary"])
    assert full.n_iter_ == 30 and _n_convergence(caught) == 1


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "case", ["sgd-momentum-tanh", "adam-relu", "adam-alpha-logistic", "sgd-invscaling-tanh"]
)
def test_sample_weight_fit_matches_sklearn(case, kind):
    params = {**BASE, **SOLVER_CASES[case], "random_state": 5}
    sk, ml, w_sk, w_ml = _fit_pair(kind, params, sample_weight=SAMPLE_WEIGHT)
    assert _n_convergence(w_ml) == _n_convergence(w_sk)
    _assert_same_stochastic_fit(sk, ml)
    _assert_same_predictions(sk, ml, kind)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("use_sample_weight", [False, True])
@pytest.mark.parametrize("case", ["sgd-nesterov-relu", "adam-alpha-logistic"])
def test_early_stopping_fit_matches_sklearn(case, use_sample_weight, kind):
    params = {
        **BASE,
        **SOLVER_CASES[case],
        "early_stopping": True,
        "validation_fraction": 0.25,
        "n_iter_no_change": 4,
        "random_state": 3,
    }
    sw = SAMPLE_WEIGHT if use_sample_weight else None
    sk, ml, w_sk, w_ml = _fit_pair(kind, params, sample_weight=sw)
    assert _n_convergence(w_ml) == _n_convergence(w_sk)
    assert ml.validation_scores_ is not None and len(ml.validation_scores_) == ml.n_iter_
    _assert_same_stochastic_fit(sk, ml)
    _assert_same_predictions(sk, ml, kind)


def test_poisson_regressor_matches_sklearn():
    y = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])
    params = dict(
        loss="poisson",
        solver="adam",
        learning_rate_init=0.01,
        hidden_layer_sizes=(5,),
        activation="tanh",
        random_state=2,
        **BASE,
    )
    sk, ml, w_sk, w_ml = _fit_pair("reg", params, y_=y)
    assert ml.out_activation_ == sk.out_activation_ == "exp"
    _assert_same_stochastic_fit(sk, ml)
    np.testing.assert_allclose(ml.predict(X), sk.predict(X), rtol=1e-9)
    assert (ml.predict(X) > 0).all()


@pytest.mark.parametrize("kind", ["binary", "multiclass", "reg2"])
@pytest.mark.parametrize("case", ["sgd-nesterov-relu", "adam-relu"])
def test_float32_fit_matches_sklearn(case, kind):
    """float32 X: both libraries train in float32 and stay within float32 rounding."""
    params = {**BASE, **SOLVER_CASES[case], "random_state": 6}
    sk, ml, w_sk, w_ml = _fit_pair(kind, params, X_=X.astype(np.float32))
    for a, b in zip(ml.coefs_ + ml.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
    assert ml.n_iter_ == sk.n_iter_ and ml.t_ == sk.t_
    np.testing.assert_allclose(ml.loss_curve_, sk.loss_curve_, rtol=1e-4)
    X32 = X.astype(np.float32)
    if kind == "reg2":
        assert ml.predict(X32).dtype == sk.predict(X32).dtype == np.float32
        np.testing.assert_allclose(ml.predict(X32), sk.predict(X32), rtol=1e-4, atol=1e-4)
    else:
        assert ml.predict_proba(X32).dtype == sk.predict_proba(X32).dtype
        np.testing.assert_allclose(ml.predict_proba(X32), sk.predict_proba(X32), atol=1e-4)


@pytest.mark.floor_smoke
@pytest.mark.parametrize(
    "Sk, Ml, y",
    [
        (sknn.MLPClassifier, mlplab.MLPClassifier, TARGETS["multiclass"]),
        (sknn.MLPRegressor, mlplab.MLPRegressor, TARGETS["reg"]),
    ],
)
def test_partial_fit_matches_sklearn(Sk, Ml, y):
    params = dict(
        solver="sgd",
        learning_rate_init=0.05,
        hidden_layer_sizes=(5,),
        activation="tanh",
        random_state=4,
        batch_size=8,
    )
    sk, ml = Sk(**params), Ml(**params)
    kw = {"classes": np.unique(y)} if Sk is sknn.MLPClassifier else {}
    for i in range(4):
        part = slice(15 * i, 15 * (i + 1))
        sk.partial_fit(X[part], y[part], **kw)
        ml.partial_fit(X[part], y[part], **kw)
        kw = {}
        _assert_same_weights(sk, ml)
        assert ml.t_ == sk.t_ and ml.n_iter_ == sk.n_iter_
        np.testing.assert_allclose(ml.loss_curve_, sk.loss_curve_, rtol=CURVE_RTOL)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "Sk, Ml, y",
    [
        (sknn.MLPClassifier, mlplab.MLPClassifier, TARGETS["binary"]),
        (sknn.MLPRegressor, mlplab.MLPRegressor, TARGETS["reg2"]),
    ],
)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_matches_sklearn(Sk, Ml, y, solver, early_stopping):
    """warm_start: the optimizer is re-created, n_iter_ counts the last fit, t_ accumulates."""
    params = dict(
        solver=solver,
        learning_rate_init=0.02,
        hidden_layer_sizes=(5,),
        warm_start=True,
        max_iter=7,
        batch_size=16,
        random_state=9,
        early_stopping=early_stopping,
        validation_fraction=0.2,
    )
    sk, ml = Sk(**params), Ml(**params)
    for max_iter in (7, 5):
        sk.set_params(max_iter=max_iter)
        ml.set_params(max_iter=max_iter)
        w_sk = _fit_recording(sk, X, y)
        w_ml = _fit_recording(ml, X, y)
        assert _n_convergence(w_ml) == _n_convergence(w_sk)
        _assert_same_stochastic_fit(sk, ml)
        _assert_same_predictions(sk, ml, "binary" if Sk is sknn.MLPClassifier else "reg2")
    if not early_stopping:
        assert ml.n_iter_ == 5 and ml.t_ == 12 * X.shape[0]


@pytest.mark.floor_smoke
def test_early_stopping_string_labels_matches_sklearn():
    y = np.array(["low", "mid", "high"])[TARGETS["multiclass"]]
    params = {
        **BASE,
        **SOLVER_CASES["adam-relu"],
        "early_stopping": True,
        "validation_fraction": 0.25,
        "n_iter_no_change": 3,
        "random_state": 1,
    }
    sk, ml, w_sk, w_ml = _fit_pair("multiclass", params, y_=y)
    _assert_same_stochastic_fit(sk, ml)
    np.testing.assert_array_equal(ml.predict(X), sk.predict(X))


def test_batch_size_larger_than_data_warns_like_sklearn():
    params = {**BASE, **SOLVER_CASES["adam-relu"], "batch_size": 100, "random_state": 0}
    sk, ml, w_sk, w_ml = _fit_pair("reg", params)  # _fit_pair compares the warnings
    assert any(issubclass(w.category, UserWarning) and "batch_size" in str(w.message) for w in w_ml)
    _assert_same_stochastic_fit(sk, ml)


# --------------------------------------------------------------------------
# L-BFGS: the same optimum, to the optimiser's tolerance
# --------------------------------------------------------------------------


@pytest.mark.floor_smoke
@pytest.mark.parametrize(
    "kind, activation, hidden, alpha, sw",
    [
        ("binary", "logistic", (5,), 1e-4, False),
        ("multiclass", "tanh", (5,), 1e-4, False),
        ("multilabel", "relu", (6,), 1e-3, False),
        ("binary", "tanh", (4, 3), 0.1, True),
        ("reg", "logistic", (6,), 1e-4, False),
        ("reg", "tanh", (4, 3), 0.01, True),
        ("reg2", "tanh", (6,), 1e-4, False),
    ],
)
def test_lbfgs_fit_agrees_with_sklearn(kind, activation, hidden, alpha, sw):
    rs = np.random.RandomState(1)
    Xtr, Xte = X, X + 0.05 * rs.randn(*X.shape)
    y = TARGETS[kind]
    params = dict(
        solver="lbfgs",
        activation=activation,
        hidden_layer_sizes=hidden,
        alpha=alpha,
        max_iter=300,
        random_state=8,
    )
    sk, ml, w_sk, w_ml = _fit_pair(
        kind, params, sample_weight=SAMPLE_WEIGHT if sw else None, X_=Xtr, y_=y
    )
    assert _n_convergence(w_ml) == _n_convergence(w_sk)
    assert abs(ml.n_iter_ - sk.n_iter_) <= max(3, 0.05 * sk.n_iter_), (ml.n_iter_, sk.n_iter_)
    np.testing.assert_allclose(ml.loss_, sk.loss_, rtol=1e-3, atol=1e-8)
    assert ml.n_layers_ == sk.n_layers_ and ml.out_activation_ == sk.out_activation_
    if kind.startswith("reg"):
        mse_ml = mean_squared_error(y, ml.predict(Xte))
        mse_sk = mean_squared_error(y, sk.predict(Xte))
        assert mse_ml <= 1.1 * mse_sk + 1e-12, (mse_ml, mse_sk)
    else:
        acc_ml = accuracy_score(y, ml.predict(Xte))
        acc_sk = accuracy_score(y, sk.predict(Xte))
        assert acc_ml >= acc_sk - 0.005, (acc_ml, acc_sk)
        np.testing.assert_allclose(ml.predict_proba(Xtr), sk.predict_proba(Xtr), atol=0.02)


@pytest.mark.parametrize("max_fun", [1, 5])
@pytest.mark.parametrize("kind", ["binary", "reg"])
def test_lbfgs_max_fun_like_sklearn(kind, max_fun):
    params = dict(solver="lbfgs", hidden_layer_sizes=(5,), max_fun=max_fun, random_state=0)
    sk, ml, w_sk, w_ml = _fit_pair(kind, params)
    assert _n_convergence(w_ml) == _n_convergence(w_sk) == 1
    assert ml.n_iter_ == sk.n_iter_ < 200
    np.testing.assert_allclose(ml.loss_, sk.loss_, rtol=1e-8)


# --------------------------------------------------------------------------
# the lecture's examples, with the course notebooks' scikit-learn calls
# --------------------------------------------------------------------------


def _noisy_gate(gate, n=10_000, noise=0.1, seed=0):
    """As in the course: random binary corners of the unit square + Gaussian noise."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, 2))
    y = bits[:, 0] & bits[:, 1] if gate == "and" else bits[:, 0] ^ bits[:, 1]
    return bits + noise * rng.standard_normal((n, 2)), y


LECTURE_CLASSIFICATION = {
    "and": (lambda: _noisy_gate("and"), ()),
    "xor": (lambda: _noisy_gate("xor"), (2,)),
    "circles": (
        lambda: make_circles(n_samples=1000, noise=0.1, factor=0.2, random_state=0),
        (4,),
    ),
}


@pytest.mark.parametrize("random_state", [0, 1, 2])
@pytest.mark.parametrize("problem", sorted(LECTURE_CLASSIFICATION))
def test_lecture_classification_parity(problem, random_state):
    make, hidden = LECTURE_CLASSIFICATION[problem]
    Xp, yp = make()
    params = dict(
        hidden_layer_sizes=hidden, activation="logistic", solver="lbfgs", random_state=random_state
    )
    sk = sknn.MLPClassifier(**params)
    ml = mlplab.MLPClassifier(**params)
    w_sk = _fit_recording(sk, Xp, yp)
    w_ml = _fit_recording(ml, Xp, yp)
    assert _n_convergence(w_ml) <= _n_convergence(w_sk)
    acc_sk = sk.score(Xp, yp)
    acc_ml = ml.score(Xp, yp)
    assert acc_ml >= acc_sk - 0.005, (acc_ml, acc_sk)
    assert ml.n_layers_ == len(hidden) + 2
    assert [c.shape for c in ml.coefs_] == [c.shape for c in sk.coefs_]


LECTURE_FUNCTIONS = {
    "x2": (np.square, -1.0, 1.0),
    "inv": (np.reciprocal, 1.0, 100.0),
    "sin": (np.sin, 0.0, 2 * np.pi),
    "log10": (np.log10, 1.0, 10.0),
    "exp": (lambda x: np.exp(-x), 1.0, 10.0),
}


@pytest.mark.parametrize("random_state", [0, 1])
@pytest.mark.parametrize("name", sorted(LECTURE_FUNCTIONS))
def test_lecture_regression_parity(name, random_state):
    f, lo, hi = LECTURE_FUNCTIONS[name]
    x = np.linspace(lo, hi, 1000).reshape(-1, 1)
    y = f(x.ravel())
    X_tr, X_val, y_tr, y_val = train_test_split(x, y, test_size=0.3, random_state=0)
    params = dict(
        hidden_layer_sizes=(20,),
        activation="logistic",
        solver="lbfgs",
        max_iter=5000,
        random_state=random_state,
    )
    sk = sknn.MLPRegressor(**params)
    ml = mlplab.MLPRegressor(**params)
    w_sk = _fit_recording(sk, X_tr, y_tr)
    w_ml = _fit_recording(ml, X_tr, y_tr)
    assert _n_convergence(w_ml) <= _n_convergence(w_sk)
    mse_sk = mean_squared_error(y_val, sk.predict(X_val))
    mse_ml = mean_squared_error(y_val, ml.predict(X_val))
    assert mse_ml <= 1.1 * mse_sk + 1e-12, (mse_ml, mse_sk)


def test_lab7_grid_search_agrees_with_sklearn():
    """The course's Lab 7: a cross-validated grid search over hidden nodes and seed (log10),
    with the lab's cv=10 and n_jobs=-1 (workers in other processes)."""
    from sklearn.model_selection import GridSearchCV

    f, lo, hi = LECTURE_FUNCTIONS["log10"]
    x = np.linspace(lo, hi, 1000).reshape(-1, 1)
    X_tr, X_val, y_tr, y_val = train_test_split(x, f(x.ravel()), test_size=0.3, random_state=0)
    grid = {"hidden_layer_sizes": [(3,), (10,)], "random_state": [0, 1]}
    params = dict(activation="logistic", solver="lbfgs", max_iter=5000)
    searches = []
    for Est in (sknn.MLPRegressor, mlplab.MLPRegressor):
        gs = GridSearchCV(Est(**params), grid, cv=10, n_jobs=-1, scoring="neg_mean_squared_error")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            searches.append(gs.fit(X_tr, y_tr))
    sk, ml = searches
    assert ml.best_params_ == sk.best_params_
    np.testing.assert_allclose(
        ml.cv_results_["mean_test_score"], sk.cv_results_["mean_test_score"], rtol=0.1
    )
    mse_sk = mean_squared_error(y_val, sk.predict(X_val))
    mse_ml = mean_squared_error(y_val, ml.predict(X_val))
    assert mse_ml <= 1.1 * mse_sk + 1e-12


# --------------------------------------------------------------------------
# the messages scikit-learn's own test-suite matches (#13 item 7)
# --------------------------------------------------------------------------


def _iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def _nonfinite_params(Est):
    """test_nonfinite_params: inputs near the float range."""
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    Est.MLPRegressor().fit(X, rng.standard_normal(size=10))


def _warm_start_classes(Est):
    """test_warm_start: a warm-started classifier given other classes."""
    X, y = _iris()
    clf = Est.MLPClassifier(
        hidden_layer_sizes=2, solver="lbfgs", warm_start=True, random_state=42, tol=1e-2
    ).fit(X, y)
    clf.fit(X, np.array([0] * 75 + [1] * 75))


def _early_stopping_stratified(Est):
    """test_early_stopping_stratified: a class with one member."""
    Est.MLPClassifier(early_stopping=True).fit([[1, 2], [2, 3], [3, 4], [4, 5]], [0, 0, 0, 1])


def _partial_fit_early_stopping(Est):
    """test_mlp_partial_fit_after_fit."""
    X, y = _iris()
    Est.MLPRegressor(early_stopping=True, random_state=0, max_iter=5).fit(X, y).partial_fit(X, y)


def _validation_set_too_small(Est):
    """test_minimum_input_sample_size."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=2, n_features=5, random_state=0)
    Est.MLPRegressor(early_stopping=True, random_state=0).fit(X, y)


# every `match=` of sklearn/neural_network/tests/test_mlp.py (scikit-learn 1.9.1)
SKLEARN_MATCHED = {
    "nonfinite_params": (
        _nonfinite_params,
        "Solver produced non-finite parameter weights. The input data may contain large"
        " values and need to be preprocessed.",
    ),
    "warm_start_classes": (
        _warm_start_classes,
        re.escape(
            "warm_start can only be used where `y` has the same classes as in the previous "
            "call to fit. Previously got [0 1 2], `y` has [0 1]"
        ),
    ),
    "early_stopping_stratified": (
        _early_stopping_stratified,
        r"The least populated classes in y have only 1 member.*Classes with "
        r"too few members are: \['True'\]",
    ),
    "partial_fit_early_stopping": (
        _partial_fit_early_stopping,
        "partial_fit does not support early_stopping=True",
    ),
    "validation_set_too_small": (_validation_set_too_small, "The validation set is too small"),
}


@pytest.mark.parametrize("lib", ["sklearn", "mlplab"])
@pytest.mark.parametrize("case", sorted(SKLEARN_MATCHED))
def test_messages_match_sklearns_own_tests(case, lib):
    """The same inputs raise, in scikit-learn and in mlplab, a ValueError that scikit-learn's
    test-suite regex matches; mlplab's own advice may only follow it."""
    run, pattern = SKLEARN_MATCHED[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # as scikit-learn's test, for its run
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=pattern) as exc:
            run(sknn if lib == "sklearn" else mlplab)
    if lib == "mlplab":
        assert re.match(pattern.split(".*")[0], str(exc.value)), "the matched text comes first"
