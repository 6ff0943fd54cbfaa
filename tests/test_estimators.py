"""Behaviour of mlplab.MLPClassifier / MLPRegressor as scikit-learn estimators.

Parameter and input validation, dtypes, probabilities, label types, partial_fit,
warm_start, model selection (GridSearchCV, cross_val_score, Pipeline), clone,
pickle and mlplab.save/load, and the extras scikit-learn lacks: history_,
grad_norms_, per-layer activations, batch_norm, gradient clipping,
early_stopping_monitor="loss", convergence_warning, dtype.
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn import neural_network as sknn
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

import mlplab
from mlplab import MLPClassifier, MLPRegressor

ESTIMATORS = [MLPClassifier, MLPRegressor]

# --------------------------------------------------------------------------
# small problems
# --------------------------------------------------------------------------
_rs = np.random.RandomState(0)
X = _rs.randn(80, 4)
Y_BIN = (X[:, 0] - X[:, 1] > 0).astype(int)
Y_MULTI = np.digitize(X[:, 0] + 0.5 * X[:, 2], [-0.5, 0.5])  # 3 classes
Y_LABELS = np.c_[X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] > 0.3].astype(int)
Y_REG = np.sin(X[:, 0]) + 0.3 * X[:, 1]
Y_REG2 = np.c_[Y_REG, X[:, 2] * X[:, 3]]
assert set(np.unique(Y_MULTI)) == {0, 1, 2}
_Xi, _yi = load_iris(return_X_y=True)

FAST = dict(hidden_layer_sizes=(8,), max_iter=60, random_state=0, learning_rate_init=0.02)


def _quiet(**kw):
    """Parameters of a fast fit that does not warn about convergence."""
    return {**FAST, "convergence_warning": False, **kw}


def _y_for(Est):
    return Y_BIN if Est is MLPClassifier else Y_REG


def _digest(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


# --------------------------------------------------------------------------
# the constructor: scikit-learn's signature plus the extras
# --------------------------------------------------------------------------

EXTRAS = {
    "initializer": None,
    "batch_norm": False,
    "clip_norm": None,
    "clip_value": None,
    "early_stopping_monitor": "score",
    "convergence_warning": True,
    "dtype": None,
    "record_diagnostics": False,
    "exact": True,
}


@pytest.mark.parametrize(
    "Ml, Sk", [(MLPClassifier, sknn.MLPClassifier), (MLPRegressor, sknn.MLPRegressor)]
)
def test_parameters_and_defaults_are_sklearns_plus_extras(Ml, Sk):
    sk_params = Sk().get_params()
    ml_params = Ml().get_params()
    expected = dict(sk_params)
    expected.update(EXTRAS)
    if Ml is MLPClassifier:
        expected["loss"] = "log_loss"
    assert set(ml_params) == set(expected)
    for name, value in expected.items():
        assert ml_params[name] == value, name
    # the same positional order for scikit-learn's positional parameters
    sk_pos = [
        p.name
        for p in inspect.signature(Sk).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    ml_pos = [
        p.name
        for p in inspect.signature(Ml).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    assert ml_pos == sk_pos


# --------------------------------------------------------------------------
# clear errors for bad hyperparameters
# --------------------------------------------------------------------------

BAD_PARAMS = [
    ("hidden_layer_sizes", (5, 0), ["0"]),
    ("hidden_layer_sizes", 0, ["0"]),
    ("activation", "swoosh", ["swoosh", "relu", "tanh", "logistic", "gelu", "elu"]),
    ("activation", ["tanh"], []),  # one name for two hidden layers (set below)
    ("activation", ["tanh", "relu", "relu"], []),
    ("activation", ["tanh", "nope"], ["nope"]),
    ("solver", "foo", ["foo"]),
    ("alpha", -1, ["-1"]),
    ("batch_size", 0, ["0"]),
    ("learning_rate", "sometimes", ["sometimes"]),
    ("learning_rate_init", 0, ["0"]),
    ("max_iter", 0, ["0"]),
    ("momentum", 2, ["2"]),
    ("validation_fraction", 1, ["1"]),
    ("n_iter_no_change", 0, ["0"]),
    ("beta_1", 1, ["1"]),
    ("epsilon", 0, ["0"]),
    ("initializer", "magic_uniform", ["magic_uniform"]),
    ("clip_norm", -1, ["-1"]),
    ("clip_value", 0, ["0"]),
    ("early_stopping_monitor", "accuracy", ["accuracy"]),
    ("dtype", "int8", ["int8"]),
]


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "name, value, words", BAD_PARAMS, ids=[f"{n}={v!r}" for n, v, _ in BAD_PARAMS]
)
def test_bad_hyperparameter_raises_clear_value_error(Est, name, value, words):
    params = {"hidden_layer_sizes": (4, 3), "max_iter": 5, name: value}
    est = Est(**params)  # __init__ only stores (clone and grid search need that)
    assert est.get_params()[name] == value
    with pytest.raises(ValueError) as info:
        est.fit(X, _y_for(Est))
    msg = str(info.value)
    assert name in msg, msg
    for word in words:
        assert word in msg, (word, msg)
    if name == "activation" and isinstance(value, list) and len(value) != 2:
        assert str(len(value)) in msg and "2" in msg, msg


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_bad_loss_is_rejected(Est):
    with pytest.raises(ValueError, match="loss"):
        Est(loss="hinge", max_iter=5).fit(X, _y_for(Est))


# --------------------------------------------------------------------------
# inputs: non-finite values, no mutation, read-only arrays, shapes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize(
    "where, bad", [("X", np.nan), ("X", np.inf), ("X", -np.inf), ("y", np.inf)]
)
def test_non_finite_inputs_raise(Est, where, bad):
    Xb = X.copy()
    yb = (Y_BIN if Est is MLPClassifier else Y_REG).astype(float)
    if where == "X":
        Xb[3, 1] = bad
    else:
        yb[5] = bad
    with pytest.raises(ValueError, match="(?i)nan|inf"):
        Est(**_quiet()).fit(Xb, yb)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_X_at_predict_raises(Est, bad):
    est = Est(**_quiet()).fit(X, _y_for(Est))
    Xb = X[:5].copy()
    Xb[0, 0] = bad
    before = _digest(Xb)
    methods = [est.predict, est.score] + (
        [est.predict_proba, est.predict_log_proba] if Est is MLPClassifier else []
    )
    for method in methods:
        args = (Xb, _y_for(Est)[:5]) if method == est.score else (Xb,)
        with pytest.raises(ValueError, match="NaN" if np.isnan(bad) else "inf"):
            method(*args)
    assert _digest(Xb) == before


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan], ids=["inf", "-inf", "nan"])
def test_non_finite_y_raises_in_fit_and_partial_fit(Est, bad):
    yb = _y_for(Est).astype(float)  # float labels, as scikit-learn's check_supervised_y_no_nan
    yb[7] = bad
    kwargs = {"classes": [0.0, 1.0]} if Est is MLPClassifier else {}
    for fit in (Est(**_quiet()).fit, lambda X_, y_: Est(**_quiet()).partial_fit(X_, y_, **kwargs)):
        with pytest.raises(ValueError, match="NaN|inf"):
            fit(X, yb)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_read_only_memmap_inputs(Est, solver, tmp_path):
    """np.memmap(mode="r") X, y and sample_weight (as joblib hands them to parallel
    workers): fit, partial_fit, predict and score work, equal the in-memory results,
    and the files are unchanged (sha256)."""
    sw = np.linspace(0.5, 2.0, len(X))
    arrays = {}
    for name, a in {"X": X, "y": _y_for(Est).astype(np.float64), "sw": sw}.items():
        path = tmp_path / f"{name}.dat"
        a.tofile(path)
        arrays[name] = np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    before = {name: _digest(m) for name, m in arrays.items()}
    Xm, ym, swm = arrays["X"], arrays["y"], arrays["sw"]
    y_mem = _y_for(Est).astype(np.float64)
    est = Est(**_quiet(solver=solver)).fit(Xm, ym, sample_weight=swm)
    ref = Est(**_quiet(solver=solver)).fit(X.copy(), y_mem, sample_weight=sw.copy())
    np.testing.assert_array_equal(est.predict(Xm), ref.predict(X))
    est.score(Xm, ym)
    if solver != "lbfgs":
        est.partial_fit(Xm, ym)
    assert {name: _digest(m) for name, m in arrays.items()} == before
    assert not Xm.flags.writeable


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_inputs_not_mutated_and_read_only_works(Est, solver):
    Xc = X.copy()
    yc = _y_for(Est).copy()
    sw = np.linspace(0.5, 2.0, len(Xc))
    before = [_digest(a) for a in (Xc, yc, sw)]
    est = Est(**_quiet(solver=solver, early_stopping=solver == "adam")).fit(Xc, yc, sw)
    est.predict(Xc)
    assert [_digest(a) for a in (Xc, yc, sw)] == before
    # read-only (e.g. memory-mapped) inputs
    for a in (Xc, yc, sw):
        a.setflags(write=False)
    est2 = Est(**_quiet(solver=solver)).fit(Xc, yc, sample_weight=sw)
    est2.predict(Xc)
    est2.score(Xc, yc)
    assert [_digest(a) for a in (Xc, yc, sw)] == before


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_sparse_input_equals_dense(Est, solver):
    from scipy import sparse

    Xs = X.copy()
    Xs[np.abs(Xs) < 0.7] = 0.0
    dense = Est(**_quiet(solver=solver)).fit(Xs, _y_for(Est))
    for fmt in (sparse.csr_matrix, sparse.csc_matrix):
        sp = Est(**_quiet(solver=solver)).fit(fmt(Xs), _y_for(Est))
        # sparse products sum in another order; 60 L-BFGS iterations amplify that a little
        tol = 1e-9 if solver == "adam" else 1e-6
        for a, b in zip(sp.coefs_, dense.coefs_, strict=True):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        np.testing.assert_allclose(sp.predict(fmt(Xs)), dense.predict(Xs), rtol=tol, atol=tol)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_wrong_number_of_features_at_predict(Est):
    est = Est(**_quiet()).fit(X, _y_for(Est))
    with pytest.raises(ValueError, match="feature"):
        est.predict(X[:, :3])


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_before_fit_raises_not_fitted(Est):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Est().predict(X)


def test_non_finite_weights_raise():
    """As scikit-learn's test_nonfinite_params: huge inputs -> a clear ValueError."""
    rng = np.random.RandomState(0)
    Xh = np.finfo(np.float64).max * rng.uniform(size=(10, 2))
    yh = rng.standard_normal(size=10)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # as in scikit-learn's test
            MLPRegressor().fit(Xh, yh)


def test_diverging_loss_with_early_stopping_does_not_raise():
    """scikit-learn's non-regression test #29504: divergence + early stopping is no error."""
    params = dict(
        hidden_layer_sizes=100,
        activation="identity",
        solver="sgd",
        alpha=0.0001,
        learning_rate="constant",
        learning_rate_init=1,
        shuffle=True,
        max_iter=20,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    )
    sk, ml = sknn.MLPRegressor(**params), MLPRegressor(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(_Xi, _yi)
        ml.fit(_Xi, _yi)
    assert np.isnan(sk.validation_scores_[-1])
    assert np.isnan(ml.validation_scores_[-1])  # the diverged epoch is stored as nan
    assert np.isfinite(ml.best_validation_score_)
    assert np.isfinite(ml.predict(_Xi)).all()  # the best (finite) weights are restored
    np.testing.assert_allclose(ml.best_validation_score_, sk.best_validation_score_, rtol=1e-6)
    np.testing.assert_allclose(ml.predict(_Xi), sk.predict(_Xi), rtol=1e-6, atol=1e-6)


NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)
_FMAX = float(np.finfo(np.float64).max)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fit_whose_last_update_overflows_raises(solver):
    """#13 item 4: one update of 1e300 leaves finite weights (|w| ~ 1e300) whose every
    prediction is inf or NaN. The step's guard checks before each update; the fit checks
    once after the last one: scikit-learn's ValueError, its sentence first, no warning
    (scikit-learn 1.9.1 itself only warns here: it checks the weights alone)."""
    rng = np.random.RandomState(0)
    Xr, yr = rng.rand(60, 2), rng.rand(60)
    est = MLPRegressor(
        solver=solver, learning_rate_init=1e300, max_iter=1, batch_size=60, random_state=0
    )
    with pytest.raises(ValueError) as exc:
        est.fit(Xr, yr)  # the suite's filterwarnings=error: any warning would fail first
    msg = str(exc.value)
    assert msg.startswith(NON_FINITE + " ")  # scikit-learn's sentence verbatim, advice after
    assert "predictions would be inf or NaN" in msg and "learning_rate_init" in msg
    # the update is undone: the weights it started from (the initial ones), finite outputs
    assert "before the last update were kept" in msg
    assert np.isfinite(est.predict(Xr)).all()
    assert np.abs(est.net_.theta).max() < 10


HUGE_INPUT_FITS = {
    "sgd": (dict(solver="sgd"), "fit"),
    "adam": (dict(solver="adam"), "fit"),
    "lbfgs": (dict(solver="lbfgs"), "fit"),
    "early_stopping": (dict(early_stopping=True), "fit"),
    "partial_fit": (dict(solver="sgd"), "partial_fit"),
    "float32": (dict(dtype="float32"), "fit"),
}


@pytest.mark.parametrize("variant", sorted(HUGE_INPUT_FITS))
@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize(
    "value", [1e300, -1e300, _FMAX, -_FMAX], ids=["1e300", "-1e300", "max", "-max"]
)
def test_huge_input_gives_the_clear_error_only(value, where, variant):
    """#13 item 5: a value near the float range in X or y gives scikit-learn's ValueError
    and nothing before it (no numpy RuntimeWarning, no ConvergenceWarning, no "diverged"
    warning of early stopping): under ``-W error`` that error is what the user gets. In a
    float32 network the value does not even fit: scikit-learn's input error says so."""
    rng = np.random.RandomState(0)
    Xh, yh = rng.rand(30, 2), rng.rand(30)
    (Xh if where == "X" else yh)[(3, 1) if where == "X" else 5] = value
    params, method = HUGE_INPUT_FITS[variant]
    est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0, **params)
    expected = "^" + re.escape(NON_FINITE)
    if variant == "float32":
        expected = f"^Input {where} contains infinity or a value too large for dtype\\('float32'\\)"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=expected):
            getattr(est, method)(Xh, yh)


def test_float32_model_rejects_too_large_input_at_predict():
    """A float32 model given 1e300 at predict: scikit-learn's input error, not numpy's
    overflow warning and inf predictions."""
    est = MLPRegressor(dtype="float32", **_quiet()).fit(X, Y_REG)
    Xh = X.copy()
    Xh[0, 0] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^Input X contains infinity or a value too large"):
            est.predict(Xh)


@pytest.mark.parametrize(
    "labels", [("cat", "dog"), (0, 7), ("dog", "cat")], ids=["str", "int", "first-class"]
)
def test_stratified_early_stopping_names_the_users_class(labels):
    """#13 item 7: scikit-learn's message for a class with one member (its test matches
    "Classes with too few members are: ['True']", the binarized label), then the user's
    own label, not "1.0"."""
    common, lone = labels
    yl = np.array([common] * 19 + [lone], dtype=object if isinstance(common, str) else int)
    est = MLPClassifier(early_stopping=True, random_state=0)
    with pytest.raises(ValueError) as exc:
        est.fit(X[:20], yl)
    msg = str(exc.value)
    assert msg.startswith("The least populated classes in y have only 1 member, which is too few.")
    binarized = lone == max(labels)  # scikit-learn stratifies on y == classes_[1]
    assert f"Classes with too few members are: ['{binarized}']" in msg
    assert f"{lone!r} (1 member)" in msg and "1.0" not in msg


# --------------------------------------------------------------------------
# dtypes (scikit-learn's casting tests)
# --------------------------------------------------------------------------

_Xd, _yd = load_digits(n_class=3, return_X_y=True)


# (L-BFGS is left out of the f32/f64 comparisons: its line search amplifies float32 rounding,
# in scikit-learn too: regression output 11x apart on this problem; its dtypes are below)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_classifier_float32_matches_float64(solver):
    params = dict(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=100, tol=1e-1, solver=solver
    )
    m64 = MLPClassifier(**params).fit(_Xd[:300], _yd[:300])
    m32 = MLPClassifier(**params).fit(_Xd[:300].astype(np.float32), _yd[:300])
    assert all(c.dtype == np.float32 for c in m32.coefs_ + m32.intercepts_)
    assert all(c.dtype == np.float64 for c in m64.coefs_ + m64.intercepts_)
    p32 = m32.predict_proba(_Xd[300:].astype(np.float32))
    assert p32.dtype == np.float32
    np.testing.assert_array_equal(m64.predict(_Xd[300:]), m32.predict(_Xd[300:].astype(np.float32)))
    np.testing.assert_allclose(m64.predict_proba(_Xd[300:]), p32, rtol=1e-2)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_regressor_float32_matches_float64(solver):
    params = dict(
        alpha=1e-5, hidden_layer_sizes=(5, 3), random_state=1, max_iter=150, tol=1e-3, solver=solver
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m64 = MLPRegressor(**params).fit(_Xd[:300], _yd[:300])
        m32 = MLPRegressor(**params).fit(_Xd[:300].astype(np.float32), _yd[:300])
    assert all(c.dtype == np.float32 for c in m32.coefs_ + m32.intercepts_)
    pred32 = m32.predict(_Xd[300:].astype(np.float32))
    assert pred32.dtype == np.float32
    np.testing.assert_allclose(m64.predict(_Xd[300:]), pred32, rtol=5e-4)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_float32_X_gives_float32_parameters_and_outputs(Est, solver):
    est = Est(**_quiet(solver=solver)).fit(X.astype(np.float32), _y_for(Est))
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    out = est.predict_proba(X.astype(np.float32)) if Est is MLPClassifier else est.predict(X)
    assert out.dtype == np.float32


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("forced", ["float32", "float64"])
def test_dtype_parameter_forces_precision(Est, x_dtype, forced):
    est = Est(**_quiet(dtype=forced)).fit(X.astype(x_dtype), _y_for(Est))
    assert all(c.dtype == np.dtype(forced) for c in est.coefs_ + est.intercepts_)
    assert est.net_.theta.dtype == np.dtype(forced)
    out = est.predict_proba(X.astype(x_dtype)) if Est is MLPClassifier else est.predict(X)
    assert out.dtype == np.dtype(forced)


# --------------------------------------------------------------------------
# probabilities and labels
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("y", [Y_BIN, Y_MULTI], ids=["binary", "multiclass"])
def test_predict_proba_and_log_proba(y, solver):
    clf = MLPClassifier(**_quiet(solver=solver)).fit(X, y)
    proba = clf.predict_proba(X)
    k = len(np.unique(y))
    assert proba.shape == (len(X), k)
    assert (proba >= 0).all() and (proba <= 1).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    with np.errstate(divide="ignore"):  # a saturated probability is exactly 0
        log_proba = np.log(proba)
    np.testing.assert_allclose(clf.predict_log_proba(X), log_proba, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    assert clf.score(X, y) > 0.8
    assert clf.out_activation_ == ("logistic" if k == 2 else "softmax")
    assert clf.n_outputs_ == (1 if k == 2 else k)


def test_multilabel():
    clf = MLPClassifier(**_quiet(solver="lbfgs", max_iter=300)).fit(X, Y_LABELS)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    pred = clf.predict(X)
    assert pred.shape == Y_LABELS.shape and set(np.unique(pred)) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y_LABELS.shape and ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert clf.score(X, Y_LABELS) > 0.7  # subset accuracy


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("y", [Y_BIN, Y_MULTI], ids=["binary", "multiclass"])
def test_string_labels(y, solver):
    names = np.array(["cat", "dog", "fish"])
    ys = names[y]
    clf = MLPClassifier(**_quiet(solver=solver)).fit(X, ys)
    np.testing.assert_array_equal(clf.classes_, np.unique(ys))
    pred = clf.predict(X)
    assert set(pred) <= set(ys)
    ref = MLPClassifier(**_quiet(solver=solver)).fit(X, y)
    np.testing.assert_array_equal(pred, names[ref.predict(X)])  # labels are only names


def test_explicit_losses_match_log_loss():
    """log_loss = bce for binary, = cce for multiclass; cce on two classes is a 2-way softmax."""
    a = MLPClassifier(**_quiet(loss="log_loss")).fit(X, Y_BIN)
    b = MLPClassifier(**_quiet(loss="bce")).fit(X, Y_BIN)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(u, v)
    a = MLPClassifier(**_quiet(loss="log_loss")).fit(X, Y_MULTI)
    b = MLPClassifier(**_quiet(loss="cce")).fit(X, Y_MULTI)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_array_equal(u, v)
    c = MLPClassifier(**_quiet(loss="cce")).fit(X, Y_BIN)
    assert c.out_activation_ == "softmax"
    assert c.coefs_[-1].shape[1] == 2
    p = c.predict_proba(X)
    assert p.shape == (len(X), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert c.score(X, Y_BIN) > 0.85
    d = MLPClassifier(**_quiet(loss="bce")).fit(X, Y_MULTI)
    assert d.out_activation_ == "logistic" and d.coefs_[-1].shape[1] == 3
    assert d.score(X, Y_MULTI) > 0.7


def _forward(coefs, intercepts, X, hidden_acts, out_act):
    f = {
        "identity": lambda z: z,
        "logistic": lambda z: 1.0 / (1.0 + np.exp(-z)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0.0),
        "softmax": lambda z: (
            np.exp(z - z.max(1, keepdims=True))
            / np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
        ),
        "exp": np.exp,
    }
    a = X
    for i, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        z = a @ W + b
        a = f[hidden_acts[i] if i < len(coefs) - 1 else out_act](z)
    return a


@pytest.mark.parametrize("y", [Y_BIN, Y_MULTI, Y_LABELS], ids=["bin", "multi", "labels"])
def test_coefs_are_the_classifier_weights(y):
    clf = MLPClassifier(**_quiet(hidden_layer_sizes=(5, 4), activation="tanh")).fit(X, y)
    out = _forward(clf.coefs_, clf.intercepts_, X, ["tanh", "tanh"], clf.out_activation_)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(
        proba[:, 1] if y.ndim == 1 and out.shape[1] == 1 else proba,
        out.ravel() if out.shape[1] == 1 else out,
        rtol=1e-10,
    )


def test_per_layer_activations():
    reg = MLPRegressor(
        **_quiet(hidden_layer_sizes=(6, 5, 4), activation=["tanh", "relu", "logistic"])
    ).fit(X, Y_REG)
    out = _forward(reg.coefs_, reg.intercepts_, X, ["tanh", "relu", "logistic"], "identity")
    np.testing.assert_allclose(reg.predict(X), out.ravel(), rtol=1e-10, atol=1e-12)
    # a list of one repeated name is the same network as the name itself
    a = MLPRegressor(**_quiet(hidden_layer_sizes=(5, 4), activation=["tanh", "tanh"])).fit(X, Y_REG)
    b = MLPRegressor(**_quiet(hidden_layer_sizes=(5, 4), activation="tanh")).fit(X, Y_REG)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = MLPRegressor(**_quiet(hidden_layer_sizes=(5, 4), activation=["tanh", "relu"])).fit(X, Y_REG)
    assert not np.array_equal(b.predict(X), c.predict(X))


@pytest.mark.parametrize("y", [Y_REG, Y_REG2], ids=["single", "multi"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_regression_shapes(y, solver):
    reg = MLPRegressor(**_quiet(solver=solver)).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert reg.n_outputs_ == (1 if y.ndim == 1 else y.shape[1])
    assert reg.coefs_[-1].shape == (8, reg.n_outputs_)
    assert reg.n_layers_ == 3 and reg.n_features_in_ == X.shape[1]
    assert reg.score(X, y) > 0.5
    out = _forward(reg.coefs_, reg.intercepts_, X, ["relu"], "identity")
    np.testing.assert_allclose(pred, out.reshape(pred.shape), rtol=1e-10, atol=1e-12)


def test_poisson_regressor_predicts_positive_means():
    y = np.random.RandomState(0).poisson(np.exp(0.5 * X[:, 0]))
    reg = MLPRegressor(loss="poisson", **_quiet(solver="lbfgs")).fit(X, y)
    assert reg.out_activation_ == "exp"
    pred = reg.predict(X)
    assert (pred > 0).all()
    assert abs(pred.mean() - y.mean()) < 0.2 * y.mean()
    with pytest.raises(ValueError):
        MLPRegressor(loss="poisson", **_quiet()).fit(X, -np.abs(Y_REG))


# --------------------------------------------------------------------------
# partial_fit
# --------------------------------------------------------------------------


def test_partial_fit_classifier_needs_classes_first():
    clf = MLPClassifier(solver="sgd")
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, Y_MULTI)
    sk = sknn.MLPClassifier(solver="sgd")
    with pytest.raises(ValueError, match="classes"):
        sk.partial_fit(X, Y_MULTI)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_continues_training(Est, solver):
    y = Y_MULTI if Est is MLPClassifier else Y_REG
    est = Est(hidden_layer_sizes=(8,), solver=solver, learning_rate_init=0.01, random_state=0)
    kw = {"classes": [0, 1, 2]} if Est is MLPClassifier else {}
    losses, thetas = [], []
    for i in range(25):
        est.partial_fit(X, y, **kw)
        kw = {}
        # as scikit-learn: n_iter_ counts this call's epoch, t_ every sample seen
        assert est.n_iter_ == 1 and est.t_ == (i + 1) * len(X)
        assert len(est.loss_curve_) == i + 1
        losses.append(est.loss_)
        thetas.append(np.concatenate([c.ravel() for c in est.coefs_]))
    assert est.loss_curve_ == pytest.approx(losses)
    assert losses[-1] < 0.8 * losses[0]
    assert not np.array_equal(thetas[-1], thetas[-2])  # every call moves the weights
    # a subset of the classes is fine after the first call
    if Est is MLPClassifier:
        est.partial_fit(X[Y_MULTI == 0], Y_MULTI[Y_MULTI == 0])
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
        with pytest.raises(ValueError):
            est.partial_fit(X, Y_MULTI + 1)  # class 3 was never declared


@pytest.mark.parametrize(
    "Ml, Sk", [(MLPClassifier, sknn.MLPClassifier), (MLPRegressor, sknn.MLPRegressor)]
)
def test_partial_fit_lbfgs_is_unavailable_like_sklearn(Ml, Sk):
    ml = Ml(solver="lbfgs")
    with pytest.raises(AttributeError, match="lbfgs"):
        ml.partial_fit(X, _y_for(Ml))
    # scikit-learn hides the method (available_if; its test_partial_fit_errors asserts
    # `not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")`). Its MLPRegressor
    # means to do the same but its available_if lambda forgets the call.
    assert not hasattr(Sk(solver="lbfgs"), "partial_fit") or Sk is sknn.MLPRegressor
    assert not hasattr(ml, "partial_fit")
    assert hasattr(Ml(solver="sgd"), "partial_fit") and hasattr(Ml(), "partial_fit")


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_partial_fit_after_fit(Est):
    """As scikit-learn's non-regression test gh-25693 (early_stopping fit, then partial_fit)."""
    est = Est(**_quiet(early_stopping=True)).fit(X, _y_for(Est))
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, _y_for(Est))
    # after a plain fit, partial_fit continues from the fitted weights
    est = Est(**_quiet()).fit(X, _y_for(Est))
    before, t = [c.copy() for c in est.coefs_], est.t_
    est.partial_fit(X, _y_for(Est))
    assert est.n_iter_ == 1 and est.t_ == t + len(X)
    assert max(np.abs(a - b).max() for a, b in zip(est.coefs_, before, strict=True)) < 0.5


# --------------------------------------------------------------------------
# warm_start, compared with scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize(
    "Ml, Sk", [(MLPClassifier, sknn.MLPClassifier), (MLPRegressor, sknn.MLPRegressor)]
)
def test_warm_start_no_convergence_like_sklearn(Ml, Sk, solver):
    params = dict(
        solver=solver,
        warm_start=True,
        early_stopping=False,
        max_iter=10,
        n_iter_no_change=np.inf,
        random_state=0,
        hidden_layer_sizes=(10,),
    )
    ml, sk = Ml(**params), Sk(**params)
    for max_iter in (10, 20):
        ml.set_params(max_iter=max_iter)
        sk.set_params(max_iter=max_iter)
        with pytest.warns(ConvergenceWarning):
            sk.fit(_Xi, _yi)
        with pytest.warns(ConvergenceWarning):
            ml.fit(_Xi, _yi)
        assert ml.n_iter_ == sk.n_iter_ == max_iter
        if solver != "lbfgs":
            assert ml.t_ == sk.t_
            assert len(ml.loss_curve_) == len(sk.loss_curve_)


def test_warm_start_keeps_weights_and_checks_classes():
    clf = MLPClassifier(
        hidden_layer_sizes=2,
        solver="lbfgs",
        warm_start=True,
        random_state=42,
        tol=1e-2,
        max_iter=500,
    ).fit(_Xi, _yi)
    w = [c.copy() for c in clf.coefs_]
    clf.set_params(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(_Xi, _yi)
    # one more iteration starts from the previous solution, not a new initialisation
    assert max(np.abs(a - b).max() for a, b in zip(clf.coefs_, w, strict=True)) < 0.5
    y_3alt = np.array([0] * 50 + [1] * 50 + [3] * 50)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        clf.fit(_Xi, y_3alt)
    cold = MLPClassifier(
        hidden_layer_sizes=2, solver="lbfgs", random_state=42, tol=1e-2, max_iter=500
    ).fit(_Xi, _yi)
    cold.fit(_Xi, y_3alt)  # without warm_start a new problem is fine
    np.testing.assert_array_equal(cold.classes_, [0, 1, 3])


def test_warm_start_with_early_stopping_extends_validation_scores():
    mlp = MLPRegressor(
        max_iter=10,
        random_state=0,
        warm_start=True,
        early_stopping=True,
        hidden_layer_sizes=(10,),
        convergence_warning=False,
    )
    mlp.fit(_Xi, _yi)
    n = len(mlp.validation_scores_)
    mlp.set_params(max_iter=20)
    mlp.fit(_Xi, _yi)
    assert len(mlp.validation_scores_) > n


# --------------------------------------------------------------------------
# model selection
# --------------------------------------------------------------------------

_Xg, _yg = make_classification(n_samples=120, n_features=5, n_informative=3, random_state=3)


def test_grid_search_parallel_equals_serial():
    grid = {"hidden_layer_sizes": [(2,), (6,)], "random_state": [0, 1, 2]}
    est = MLPClassifier(solver="lbfgs", max_iter=50, activation="tanh", convergence_warning=False)
    serial = GridSearchCV(est, grid, cv=3, n_jobs=1).fit(_Xg, _yg)
    parallel = GridSearchCV(est, grid, cv=3, n_jobs=-1).fit(_Xg, _yg)
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert parallel.best_score_ > 0.7
    assert isinstance(parallel.best_estimator_, MLPClassifier)
    np.testing.assert_array_equal(parallel.predict(_Xg), serial.predict(_Xg))


def test_convergence_warning_false_is_silent_also_in_grid_search_workers():
    est = MLPClassifier(hidden_layer_sizes=(3,), max_iter=1, convergence_warning=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(_Xg, _yg)
        MLPClassifier(solver="lbfgs", max_iter=1, convergence_warning=False).fit(_Xg, _yg)
        MLPRegressor(solver="sgd", max_iter=1, convergence_warning=False).fit(_Xg, _yg * 1.0)
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    # the default warns (so the check above can fail) ...
    with pytest.warns(ConvergenceWarning):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=1).fit(_Xg, _yg)
    # ... also in worker processes: the filter travels to them and turns it into an error
    grid = {"random_state": [0, 1]}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        GridSearchCV(est, grid, cv=2, n_jobs=2, error_score="raise").fit(_Xg, _yg)
        with pytest.raises(ConvergenceWarning):
            GridSearchCV(
                clone(est).set_params(convergence_warning=True),
                grid,
                cv=2,
                n_jobs=2,
                error_score="raise",
            ).fit(_Xg, _yg)


def test_cross_val_score_and_pipeline():
    scores = cross_val_score(MLPClassifier(**_quiet(solver="lbfgs")), _Xg, _yg, cv=4)
    assert scores.shape == (4,) and np.isfinite(scores).all() and scores.mean() > 0.7
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**_quiet(solver="lbfgs")))
    pipe.fit(_Xg * 100 + 7, _yg)
    assert pipe.score(_Xg * 100 + 7, _yg) > 0.85
    assert pipe.predict_proba(_Xg[:5] * 100 + 7).shape == (5, 2)
    r = cross_val_score(
        make_pipeline(StandardScaler(), MLPRegressor(**_quiet(solver="lbfgs"))),
        X,
        Y_REG,
        cv=3,
        scoring="neg_mean_squared_error",
    )
    assert np.isfinite(r).all()


# --------------------------------------------------------------------------
# clone, params, pickle, save/load
# --------------------------------------------------------------------------

EXTRA_SETTINGS = dict(
    hidden_layer_sizes=(4, 3),
    activation=["tanh", "gelu"],
    initializer="he_normal",
    batch_norm=True,
    clip_norm=1.5,
    clip_value=0.7,
    early_stopping_monitor="loss",
    convergence_warning=False,
    dtype="float32",
)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_clone_get_set_params_round_trip(Est):
    est = Est(**EXTRA_SETTINGS, random_state=3)
    params = est.get_params()
    for k, v in EXTRA_SETTINGS.items():
        assert params[k] == v
    twin = clone(est)
    assert twin is not est and twin.get_params() == params
    other = Est()
    assert other.set_params(**params) is other
    assert other.get_params() == params
    other.set_params(batch_norm=False, clip_norm=None, activation="elu")
    assert (other.batch_norm, other.clip_norm, other.activation) == (False, None, "elu")
    # clone of a fitted estimator is unfitted with the same parameters
    est.fit(X, _y_for(Est))
    fresh = clone(est)
    assert fresh.get_params() == params and not hasattr(fresh, "coefs_")
    assert repr(est).startswith(Est.__name__)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("settings", [{}, EXTRA_SETTINGS], ids=["default", "extras"])
def test_pickle_round_trip(Est, settings):
    est = Est(**{**_quiet(), **settings}).fit(X, _y_for(Est))
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    if Est is MLPClassifier:
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    for a, b in zip(back.coefs_, est.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    # the unpickled model keeps training (scikit-learn's non-regression test #19626)
    before = [c.copy() for c in back.coefs_]
    back.partial_fit(X, _y_for(Est))
    assert any(not np.array_equal(a, b) for a, b in zip(back.coefs_, before, strict=True))
    np.testing.assert_array_equal(est.coefs_[0], before[0])  # the original is untouched


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_save_load_round_trip(Est, solver, tmp_path):
    y = np.array(["no", "yes"])[Y_BIN] if Est is MLPClassifier else Y_REG2
    est = Est(**_quiet(solver=solver)).fit(X, y)
    path = tmp_path / "model.mlplab"
    mlplab.save(est, path)
    back = mlplab.load(path)
    assert type(back) is Est
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert back.n_features_in_ == est.n_features_in_ == X.shape[1]
    assert back.get_params() == est.get_params()
    assert back.n_iter_ == est.n_iter_ and back.n_layers_ == est.n_layers_
    assert back.out_activation_ == est.out_activation_
    if Est is MLPClassifier:
        np.testing.assert_array_equal(back.classes_, est.classes_)
        np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    if solver == "adam":
        assert back.loss_curve_ == pytest.approx(est.loss_curve_)
    assert back.history_["loss"] == pytest.approx(est.history_["loss"])
    np.testing.assert_array_equal(back.grad_norms_, est.grad_norms_)
    assert back.score(X, y) == est.score(X, y)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_save_load_multilabel_and_extras(Est, tmp_path):
    y = Y_LABELS if Est is MLPClassifier else Y_REG
    est = Est(**{**_quiet(), **EXTRA_SETTINGS}).fit(X, y)
    mlplab.save(est, tmp_path / "m.mlplab")
    back = mlplab.load(tmp_path / "m.mlplab")
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    assert back.get_params() == est.get_params()
    assert back.coefs_[0].dtype == np.float32


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_feature_names_with_pandas(Est, tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = Est(**_quiet()).fit(df, pd.Series(_y_for(Est)))
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    mlplab.save(est, tmp_path / "named.mlplab")
    back = mlplab.load(tmp_path / "named.mlplab")
    np.testing.assert_array_equal(back.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(back.predict(df), est.predict(df))
    with pytest.raises(ValueError, match="feature names"):
        back.predict(df.rename(columns={"a": "z"}))
    # early stopping keeps the names (scikit-learn gh-24846): no UserWarning
    Est(**_quiet(early_stopping=True, validation_fraction=0.2)).fit(df, _y_for(Est))


def test_load_rejects_a_pickle(tmp_path):
    est = MLPClassifier(**_quiet()).fit(X, Y_BIN)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(est))
    with pytest.raises(mlplab.ModelFormatError):
        mlplab.load(path)


def test_save_unfitted_fails(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises((NotFittedError, ValueError, TypeError)):
        mlplab.save(MLPClassifier(), tmp_path / "x.mlplab")
    assert not (tmp_path / "x.mlplab").exists()


# --------------------------------------------------------------------------
# history_, grad_norms_, net_
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_history_and_grad_norms_stochastic(Est, solver):
    est = Est(**_quiet(solver=solver, hidden_layer_sizes=(6, 5))).fit(X, _y_for(Est))
    assert est.history_["loss"] == est.loss_curve_
    assert len(est.loss_curve_) == est.n_iter_
    assert "val_loss" not in est.history_ and "val_score" not in est.history_
    g = est.grad_norms_
    assert g.shape == (est.n_iter_, est.n_layers_ - 1)
    assert np.isfinite(g).all() and (g > 0).all()
    assert isinstance(est.net_, mlplab.Sequential)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_history_and_grad_norms_lbfgs(Est):
    est = Est(**_quiet(solver="lbfgs", hidden_layer_sizes=(6,))).fit(X, _y_for(Est))
    assert len(est.history_["loss"]) == est.n_iter_
    np.testing.assert_allclose(est.history_["loss"][-1], est.loss_, rtol=1e-6)
    assert est.grad_norms_.shape == (est.n_iter_, est.n_layers_ - 1)
    assert np.isfinite(est.grad_norms_).all() and (est.grad_norms_ > 0).all()
    assert not hasattr(est, "loss_curve_")  # as scikit-learn: stochastic solvers only


def _manual_tanh_regression_grads(W0, b0, W1, b1, X, y):
    """sklearn's half squared error: dL/dW of a tanh hidden layer and identity output."""
    n = X.shape[0]
    H = np.tanh(X @ W0 + b0)
    out = H @ W1 + b1
    d1 = (out - y.reshape(-1, 1)) / n
    gW1, gb1 = H.T @ d1, d1.sum(0)
    d0 = (d1 @ W1.T) * (1 - H**2)
    gW0, gb0 = X.T @ d0, d0.sum(0)
    return gW0, gb0, gW1, gb1


def _initial(units, seed, activation="tanh"):
    rs = check_random_state(seed)
    factor = 2.0 if activation == "logistic" else 6.0
    out = []
    for fan_in, fan_out in zip(units[:-1], units[1:], strict=True):
        r = np.sqrt(factor / (fan_in + fan_out))
        out += [rs.uniform(-r, r, (fan_in, fan_out)), rs.uniform(-r, r, fan_out)]
    return out


def test_grad_norms_are_mean_per_layer_weight_gradient_norms():
    lr = 0.05
    params = dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="sgd",
        momentum=0.0,
        learning_rate_init=lr,
        alpha=0.0,
        shuffle=False,
        max_iter=1,
        batch_size=40,
        random_state=4,
        convergence_warning=False,
    )
    reg = MLPRegressor(**params).fit(X, Y_REG)
    W0, b0, W1, b1 = _initial([4, 5, 1], 4)
    norms = []
    for sl in (slice(0, 40), slice(40, 80)):  # two batches, plain SGD in between
        gW0, gb0, gW1, gb1 = _manual_tanh_regression_grads(W0, b0, W1, b1, X[sl], Y_REG[sl])
        norms.append([np.linalg.norm(gW0), np.linalg.norm(gW1)])
        W0, b0, W1, b1 = W0 - lr * gW0, b0 - lr * gb0, W1 - lr * gW1, b1 - lr * gb1
    np.testing.assert_allclose(reg.grad_norms_[0], np.mean(norms, axis=0), rtol=1e-9)
    np.testing.assert_allclose(reg.coefs_[0], W0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(reg.intercepts_[1], b1, rtol=0, atol=1e-12)


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_validation_data_is_recorded_and_does_not_change_training(Est, solver):
    y = _y_for(Est)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.25, random_state=0)
    params = _quiet(solver=solver, alpha=0.0)
    plain = Est(**params).fit(X_tr, y_tr)
    est = Est(**params).fit(X_tr, y_tr, validation_data=(X_val, y_val))
    for a, b in zip(plain.coefs_, est.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    h = est.history_
    assert len(h["loss"]) == len(h["val_loss"]) == len(h["val_score"]) == est.n_iter_
    assert np.isfinite(h["val_loss"]).all()
    # the last entries are those of the final weights
    np.testing.assert_allclose(h["val_score"][-1], est.score(X_val, y_val), rtol=1e-9)
    if Est is MLPClassifier:
        expected = log_loss(y_val, est.predict_proba(X_val))
    else:
        expected = 0.5 * np.mean((est.predict(X_val) - y_val) ** 2)
    np.testing.assert_allclose(h["val_loss"][-1], expected, rtol=1e-7)
    if solver == "adam":
        assert est.validation_scores_ is None  # no early stopping: as scikit-learn


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_early_stopping_history_equals_validation_scores(Est):
    est = Est(**_quiet(early_stopping=True, max_iter=100)).fit(X, _y_for(Est))
    assert est.history_["val_score"] == est.validation_scores_
    assert len(est.history_["val_loss"]) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_early_stopping_monitor_loss_stops_at_best_val_loss():
    seed, frac, patience = 5, 0.25, 4
    params = dict(
        hidden_layer_sizes=(30,),
        solver="adam",
        learning_rate_init=0.05,
        alpha=0.0,
        early_stopping=True,
        early_stopping_monitor="loss",
        validation_fraction=frac,
        n_iter_no_change=patience,
        tol=0.0,
        max_iter=400,
        random_state=seed,
        batch_size=16,
    )
    # a small noisy problem that overfits: the validation loss turns up
    rs = np.random.RandomState(1)
    Xn = rs.uniform(-2, 2, (60, 1))
    yn = np.sin(2 * Xn[:, 0]) + 0.4 * rs.randn(60)
    reg = MLPRegressor(**params).fit(Xn, yn)
    vl = np.asarray(reg.history_["val_loss"])
    assert len(vl) == reg.n_iter_ < params["max_iter"]
    best = int(np.argmin(vl))
    assert reg.n_iter_ == best + 1 + patience + 1  # stopped patience + 1 epochs after best
    # the restored weights are the best epoch's: recompute the validation loss
    rs_split = check_random_state(seed)
    _initial([1, 30, 1], rs_split, "relu")  # the initial draws come first
    _, Xv, _, yv = train_test_split(Xn, yn, random_state=rs_split, test_size=frac)
    np.testing.assert_allclose(0.5 * np.mean((reg.predict(Xv) - yv) ** 2), vl[best], rtol=1e-9)


def test_early_stopping_monitor_loss_classifier():
    """monitor="loss": stops n_iter_no_change + 1 epochs after the lowest validation loss."""
    patience = 3
    params = dict(
        hidden_layer_sizes=(30,),
        solver="adam",
        learning_rate_init=0.05,
        early_stopping=True,
        early_stopping_monitor="loss",
        validation_fraction=0.3,
        n_iter_no_change=patience,
        tol=0.0,
        max_iter=300,
        random_state=0,
        batch_size=16,
    )
    rs = np.random.RandomState(2)
    Xn = rs.randn(80, 5)
    yn = (Xn[:, 0] + 0.8 * rs.randn(80) > 0).astype(int)  # noisy labels: overfits
    clf = MLPClassifier(**params).fit(Xn, yn)
    vl = np.asarray(clf.history_["val_loss"])
    assert len(vl) == len(clf.validation_scores_) == clf.n_iter_ < params["max_iter"]
    assert clf.n_iter_ == int(np.argmin(vl)) + 1 + patience + 1
    # the default monitor (accuracy) follows another rule on the same fit
    by_score = MLPClassifier(**{**params, "early_stopping_monitor": "score"}).fit(Xn, yn)
    scores = np.asarray(by_score.validation_scores_)
    assert by_score.n_iter_ == int(np.argmax(scores)) + 1 + patience + 1


# --------------------------------------------------------------------------
# the extras: batch_norm, clipping, initializers, every activation
# --------------------------------------------------------------------------

_Xm, _ym = make_classification(
    n_samples=200, n_features=6, n_informative=4, class_sep=1.5, random_state=0
)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_batch_norm_trains(solver):
    clf = MLPClassifier(
        hidden_layer_sizes=(16, 8),
        batch_norm=True,
        solver=solver,
        learning_rate_init=0.01,
        max_iter=80,
        random_state=0,
        convergence_warning=False,
    ).fit(_Xm * 10 + 3, _ym)
    layers = clf.net_.layers
    bn_at = [i for i, layer in enumerate(layers) if isinstance(layer, mlplab.BatchNorm)]
    assert len(bn_at) == 2  # one per hidden layer, right after its weighted sum
    assert all(isinstance(layers[i - 1], mlplab.Dense) for i in bn_at)
    assert clf.score(_Xm * 10 + 3, _ym) > 0.9
    # inference mode: a single sample gets the same prediction as inside a batch
    p_batch = clf.predict_proba(_Xm * 10 + 3)
    p_one = np.vstack([clf.predict_proba(_Xm[i : i + 1] * 10 + 3) for i in range(5)])
    np.testing.assert_allclose(p_one, p_batch[:5], rtol=1e-10)
    np.testing.assert_array_equal(clf.predict_proba(_Xm * 10 + 3), p_batch)
    plain = MLPClassifier(
        hidden_layer_sizes=(16, 8),
        solver=solver,
        max_iter=80,
        learning_rate_init=0.01,
        random_state=0,
        convergence_warning=False,
    ).fit(_Xm * 10 + 3, _ym)
    assert not any(isinstance(layer, mlplab.BatchNorm) for layer in plain.net_.layers)


def _theta(est):
    return np.concatenate(
        [a.ravel() for pair in zip(est.coefs_, est.intercepts_, strict=True) for a in pair]
    )


def _ref_theta(units, seed):
    return np.concatenate([a.ravel() for a in _initial(units, seed)])


def _one_sgd_step(lr: float) -> dict:
    """One plain full-batch SGD step, no L2, no shuffling: the update is -lr * gradient."""
    return dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        solver="sgd",
        momentum=0.0,
        learning_rate_init=lr,
        alpha=0.0,
        shuffle=False,
        max_iter=1,
        batch_size=len(X),
        random_state=2,
        convergence_warning=False,
    )


@pytest.mark.parametrize("clip", [0.05, 0.2])
def test_clip_norm_limits_the_update(clip):
    """Plain full-batch SGD, one step: ||delta theta|| = lr * min(||g||, clip_norm)."""
    lr = 0.5
    params = _one_sgd_step(lr)
    y = 5 * Y_REG  # a large gradient
    theta0 = _ref_theta([4, 5, 1], 2)
    free = MLPRegressor(**params).fit(X, y)
    step_free = np.linalg.norm(_theta(free) - theta0)
    clipped = MLPRegressor(**params, clip_norm=clip).fit(X, y)
    step = np.linalg.norm(_theta(clipped) - theta0)
    assert step_free > lr * clip * 1.5  # the unclipped gradient is larger than clip_norm
    np.testing.assert_allclose(step, lr * clip, rtol=1e-9)
    # the direction is unchanged: clipping only rescales
    np.testing.assert_allclose(
        (_theta(clipped) - theta0) / step,
        (_theta(free) - theta0) / step_free,
        rtol=1e-8,
        atol=1e-12,
    )


def test_clip_value_limits_each_component():
    lr = 0.5
    params = _one_sgd_step(lr)
    y = 5 * Y_REG
    theta0 = _ref_theta([4, 5, 1], 2)
    d_free = _theta(MLPRegressor(**params).fit(X, y)) - theta0
    d = _theta(MLPRegressor(**params, clip_value=0.1).fit(X, y)) - theta0
    assert np.abs(d_free).max() > lr * 0.1
    np.testing.assert_allclose(d, np.clip(d_free, -lr * 0.1, lr * 0.1), rtol=1e-9, atol=1e-14)


def test_clipping_keeps_a_large_learning_rate_stable():
    params = dict(
        hidden_layer_sizes=(16,),
        solver="sgd",
        momentum=0.9,
        learning_rate_init=0.5,
        max_iter=30,
        random_state=0,
        convergence_warning=False,
    )
    y = 50 * Y_REG
    reg = MLPRegressor(**params, clip_norm=1.0).fit(X, y)
    assert np.isfinite(reg.loss_curve_).all() and np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "lecun_normal"])
def test_initializers(name):
    a = MLPRegressor(**_quiet(initializer=name, max_iter=5)).fit(X, Y_REG)
    b = MLPRegressor(**_quiet(initializer=name, max_iter=5)).fit(X, Y_REG)
    d = MLPRegressor(**_quiet(max_iter=5)).fit(X, Y_REG)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])  # reproducible with random_state
    assert not np.allclose(a.coefs_[0], d.coefs_[0])  # not scikit-learn's scheme
    c = MLPRegressor(**_quiet(initializer=name, max_iter=5, random_state=1)).fit(X, Y_REG)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])


TRAINABLE = sorted(set(mlplab.ACTIVATIONS) - {"step"})


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_activation_trains(name):
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        activation=name,
        solver="adam",
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
        convergence_warning=False,
    ).fit(X, Y_REG)
    assert np.isfinite(reg.loss_curve_).all()
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]
    assert np.isfinite(reg.predict(X)).all()
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        activation=[name],
        solver="lbfgs",
        max_iter=40,
        random_state=0,
        convergence_warning=False,
    ).fit(X, Y_BIN)
    assert np.isfinite(clf.loss_) and clf.score(X, Y_BIN) > 0.6


def test_step_activation_is_rejected_clearly():
    with pytest.raises(ValueError, match="step"):
        MLPRegressor(hidden_layer_sizes=(4,), activation="step", max_iter=3).fit(X, Y_REG)


# --------------------------------------------------------------------------
# verbose output and sample weights
# --------------------------------------------------------------------------


def test_verbose_prints_like_sklearn(capsys):
    params = dict(
        hidden_layer_sizes=(4,),
        solver="sgd",
        max_iter=3,
        verbose=True,
        random_state=0,
        learning_rate_init=0.01,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sknn.MLPRegressor(**params).fit(X, Y_REG)
        sk_out = capsys.readouterr().out
        MLPRegressor(**params).fit(X, Y_REG)
        ml_out = capsys.readouterr().out
    assert "Iteration 3, loss = " in ml_out
    assert ml_out == sk_out


@pytest.mark.parametrize("Est", ESTIMATORS)
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_integer_sample_weight_equals_repetition(Est, solver):
    """Weight 2 = the sample twice (full batch, no shuffling: the same objective)."""
    y = _y_for(Est)
    sw = np.ones(len(X), dtype=int)
    sw[:20] = 2
    Xr = np.vstack([X, X[:20]])
    yr = np.concatenate([y, y[:20]])
    params = _quiet(solver=solver, batch_size="auto", shuffle=False, max_iter=20, tol=0.0)
    a = Est(**params).fit(X, y, sample_weight=sw)
    b = Est(**params).fit(Xr, yr)
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-7, atol=1e-9)
    zero = Est(**params).fit(X, y, sample_weight=np.r_[np.ones(60), np.zeros(20)])
    cut = Est(**params).fit(X[:60], y[:60])
    np.testing.assert_allclose(zero.coefs_[0], cut.coefs_[0], rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------
# history_["score"]: the training score per epoch
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_lbfgs_history_score_ends_at_the_final_training_score(Est):
    y = _y_for(Est)
    est = Est(
        hidden_layer_sizes=(8,),
        solver="lbfgs",
        max_iter=60,
        random_state=0,
        convergence_warning=False,
    ).fit(X, y)
    assert len(est.history_["score"]) == len(est.history_["loss"]) == est.n_iter_
    assert est.history_["score"][-1] == pytest.approx(est.score(X, y), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_stochastic_history_score_is_a_running_training_score(Est):
    y = _y_for(Est)
    est = Est(
        hidden_layer_sizes=(16,),
        solver="adam",
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
        convergence_warning=False,
    ).fit(X, y)
    scores = np.asarray(est.history_["score"])
    assert scores.shape == (est.n_iter_,) and np.isfinite(scores).all()
    assert scores[-5:].mean() > scores[:5].mean()  # it learns, and the record shows it
    # accumulated over the epoch's batches while the weights moved: close to, not
    # equal to, a fresh pass at the end
    assert abs(scores[-1] - est.score(X, y)) < 0.1


# --------------------------------------------------------------------------
# diagnostics_: the per-epoch gradient-flow record (record_diagnostics=True)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_diagnostics_attribute_records_every_epoch_and_layer(Est, solver):
    from mlplab.diagnostics import layer_stats

    y = _y_for(Est)
    est = Est(
        hidden_layer_sizes=(6, 4),
        solver=solver,
        max_iter=15,
        random_state=0,
        record_diagnostics=True,
        convergence_warning=False,
    ).fit(X, y)
    d = est.diagnostics_
    assert d["grad_norm_W"].shape == (est.n_iter_, est.n_layers_ - 1)
    assert len(d["layers"]) == est.n_layers_ - 1
    assert np.isfinite(d["grad_norm_W"]).all() and (d["grad_norm_W"] > 0).all()
    if solver == "lbfgs":  # the last row is the final iterate's own backward pass
        est._loss_grad(np.ascontiguousarray(X), est._targets(est._encode(y), np.float64), None)
        last = [s["grad_norm_W"] for s in layer_stats(est.net_)]
        np.testing.assert_allclose(d["grad_norm_W"][-1], last, rtol=1e-10)


def test_diagnostics_attribute_needs_the_flag():
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, convergence_warning=False)
    est.fit(X, _y_for(MLPRegressor))
    assert not hasattr(est, "diagnostics_")
    with pytest.raises(AttributeError, match="record_diagnostics=True"):
        _ = est.diagnostics_


def test_predict_on_overflowing_inputs_is_a_clear_error_or_the_saturated_limit():
    """An output that is not finite is a ValueError naming the cause, not numpy's overflow
    warning and NaN predictions; a saturated logistic output is its limit (0 or 1)."""
    X = np.random.default_rng(0).random((30, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        reg = mlplab.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0,
                                  convergence_warning=False).fit(X, X.sum(1))  # fmt: skip
        reg.coefs_ = [np.full((2, 3), 1e300), np.full((3, 1), 1e300)]
        with pytest.raises(ValueError, match="outputs on X are not finite.*Scale X"):
            reg.predict(X)
        clf = mlplab.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0,
                                   convergence_warning=False).fit(X, X[:, 0] > 0.5)  # fmt: skip
        clf.coefs_ = [np.full((2, 3), 1e300), np.full((3, 1), -1e300)]
        proba = clf.predict_proba(X)
    assert np.array_equal(proba, np.tile([1.0, 0.0], (30, 1)))
