"""Estimators keep every piece of training state through mlplab.save/load and pickle,
and hand-set weights (coefs_, intercepts_) take effect everywhere.

Resuming: fit -> save -> load -> partial_fit x3 (and warm-start fit x3) gives, bit for
bit, what the same calls give on the estimator kept in memory, for every solver x
learning-rate schedule x early stopping, both estimators.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn import neural_network as sknn
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from threadpoolctl import threadpool_limits

import mlplab

_rng = np.random.default_rng(5)
X = _rng.standard_normal((48, 3))
Y = {
    "clf": (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int),
    "reg": np.sin(X[:, 0]) + 0.3 * X[:, 2],
}
ESTIMATORS = {"clf": mlplab.MLPClassifier, "reg": mlplab.MLPRegressor}


def _bits(v) -> bytes:
    """Everything about a value, as bytes: arrays by dtype, shape and bytes; floats by repr."""
    if isinstance(v, np.ndarray):
        return repr((v.dtype.str, v.shape)).encode() + v.tobytes()
    if isinstance(v, (list, tuple)):
        return b"[" + b",".join(_bits(x) for x in v) + b"]"
    return repr(v).encode()


def _snapshot(est) -> dict[str, bytes]:
    """Everything a later call reads or a user sees, each as exact bytes."""
    names = (
        "coefs_",
        "intercepts_",
        "loss_",
        "loss_curve_",
        "n_iter_",
        "t_",
        "best_loss_",
        "validation_scores_",
        "best_validation_score_",
        "_no_improvement_count",
        "_best_val_loss",
        "grad_norms_",
        "diagnostics_",
    )
    out = {k: _bits(getattr(est, k, None)) for k in names}
    out["_no_improvement_count"] = _bits(getattr(est, "_no_improvement_count", 0))  # lbfgs: none
    if est.early_stopping:  # the best weights, read only with early stopping
        out["_best_theta"] = _bits(est._best_theta)
    out["history_"] = _bits(sorted(est.history_.items()))
    opt = est.net_.optimizer
    if opt is not None:
        out["optimizer"] = _bits([opt.learning_rate, opt.t, *sorted(opt.state.items())])
    out["predict"] = _bits(est.predict(X))
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = _bits(est.predict_proba(X))
    return out


def _assert_same(a, b, when: str) -> None:
    sa, sb = _snapshot(a), _snapshot(b)
    differ = [k for k in sa if sa[k] != sb[k]]
    assert not differ, f"{when}: {differ} differ from the estimator kept in memory"


def _file_bytes(est, path) -> bytes:
    mlplab.save(est, path)
    return path.read_bytes()


def _continue(est, y, partial: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if partial:
            est.partial_fit(X, y)
        else:
            est.fit(X, y)  # warm_start=True: continues from the current weights


def _check_resume(est, y, tmp_path, calls) -> None:
    """est (fitted) against its save/load and pickle copies, call after call."""
    first = _file_bytes(est, tmp_path / "a.mlplab")
    assert _file_bytes(est, tmp_path / "b.mlplab") == first  # saving is deterministic
    loaded = mlplab.load(tmp_path / "a.mlplab")
    unpickled = pickle.loads(pickle.dumps(est))
    # everything the file holds comes back: saving the loaded model writes the same bytes
    assert _file_bytes(loaded, tmp_path / "c.mlplab") == first
    for other, how in ((loaded, "save/load"), (unpickled, "pickle")):
        _assert_same(est, other, f"right after {how}")
    for k, partial in enumerate(calls):
        for e in (est, loaded, unpickled):
            _continue(e, y, partial)
        what = "partial_fit" if partial else "warm-start fit"
        for other, how in ((loaded, "save/load"), (unpickled, "pickle")):
            _assert_same(est, other, f"{what} #{k + 1} after {how}")
    assert _file_bytes(loaded, tmp_path / "d.mlplab") == _file_bytes(est, tmp_path / "e.mlplab")


GRID = [
    (kind, solver, schedule, early)
    for kind in ("clf", "reg")
    for solver in ("sgd", "adam", "lbfgs")
    for schedule in ("constant", "invscaling", "adaptive")
    for early in (False, True)
]


@pytest.mark.parametrize(("kind", "solver", "schedule", "early"), GRID)
def test_save_load_then_training_is_bitwise_the_in_memory_run(
    tmp_path, kind, solver, schedule, early
):
    # tol large and n_iter_no_change=1: the stopping count, best loss / validation score,
    # early stopping's best weights and the adaptive rate all change within a few epochs
    est = ESTIMATORS[kind](
        hidden_layer_sizes=(5,),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=0.05,
        early_stopping=early,
        validation_fraction=0.25,
        n_iter_no_change=1,
        tol=0.02,
        batch_size=16,
        max_iter=4,
        warm_start=True,
        random_state=0,
        record_diagnostics=True,
    )
    y = Y[kind]
    with threadpool_limits(1):
        _continue(est, y, partial=False)
        # partial_fit: sgd/adam without early stopping (scikit-learn refuses the rest)
        partial = solver != "lbfgs" and not early
        calls = [True, True, True] * partial + [False, False, False]
        _check_resume(est, y, tmp_path, calls)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["clf", "reg"]),
    solver=st.sampled_from(["sgd", "adam"]),
    schedule=st.sampled_from(["constant", "invscaling", "adaptive"]),
    early=st.booleans(),
    monitor=st.sampled_from(["score", "loss"]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    nesterov=st.booleans(),
    batch_norm=st.booleans(),
    dtype=st.sampled_from(["float32", "float64"]),
    batch_size=st.sampled_from([7, 16, "auto"]),
    n_iter_no_change=st.integers(1, 3),
    tol=st.sampled_from([0.0, 1e-3, 0.05]),
    clip_norm=st.sampled_from([None, 0.5]),
    max_iter=st.integers(1, 5),
)
def test_save_load_resume_property(tmp_path, kind, solver, early, max_iter, **params):
    """The same over the other options that training reads state from (momentum,
    BatchNorm's running statistics, float32, the early-stopping monitor, clipping)."""
    est = ESTIMATORS[kind](
        hidden_layer_sizes=(4,),
        solver=solver,
        learning_rate=params.pop("schedule"),
        nesterovs_momentum=params.pop("nesterov") and params["momentum"] > 0,
        early_stopping_monitor=params.pop("monitor"),
        early_stopping=early,
        validation_fraction=0.25,
        learning_rate_init=0.05,
        max_iter=max_iter,
        warm_start=True,
        random_state=1,
        **params,
    )
    y = Y[kind]
    with threadpool_limits(1):
        _continue(est, y, partial=False)
        _check_resume(est, y, tmp_path, [True, True, True] * (not early) + [False, False])


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_state_object_is_kept(tmp_path, kind, dtype):
    """A RandomState random_state is consumed by every fit (shuffling, the early-stopping
    split): the file keeps its state, so the loaded model shuffles as the original."""
    est = ESTIMATORS[kind](
        hidden_layer_sizes=(4,),
        solver="sgd",
        batch_size=8,
        max_iter=3,
        warm_start=True,
        random_state=np.random.RandomState(3),
        dtype=dtype,
    )
    y = Y[kind]
    with threadpool_limits(1):
        _continue(est, y, partial=False)
        _check_resume(est, y, tmp_path, [True, True, False])
        loaded = mlplab.load(tmp_path / "a.mlplab")
        assert isinstance(loaded.random_state, np.random.RandomState)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_issue_reproducer_tiny_adam_rate_resumes_after_load(tmp_path, kind):
    """Issue 13 item 2: with learning_rate_init=1e-9 no epoch improves by tol, so the
    stopping count is read at once; after load it was missing (AttributeError)."""
    est = ESTIMATORS[kind](
        hidden_layer_sizes=(4,),
        solver="adam",
        learning_rate_init=1e-9,
        max_iter=5,
        warm_start=True,
        random_state=0,
    )
    y = Y[kind]
    with threadpool_limits(1):
        _continue(est, y, partial=False)
        _check_resume(est, y, tmp_path, [True] * 12 + [False, False])
    assert est._no_improvement_count > 0


def test_diverged_early_stopping_model_saves_and_loads(tmp_path):
    """A NaN validation score (a diverged epoch under early stopping) is kept by save."""
    est = mlplab.MLPRegressor(
        hidden_layer_sizes=(4,),
        solver="sgd",
        early_stopping=True,
        max_iter=3,
        random_state=0,
        convergence_warning=False,
    ).fit(X, Y["reg"])
    est.validation_scores_.append(float("nan"))  # as _diverged records it
    est.history_["val_score"].append(float("nan"))
    mlplab.save(est, tmp_path / "m.mlplab")
    back = mlplab.load(tmp_path / "m.mlplab")
    assert np.isnan(back.validation_scores_[-1]) and np.isnan(back.history_["val_score"][-1])
    assert back.validation_scores_[:-1] == est.validation_scores_[:-1]


# ------------------------------------------------------------ hand-set weights

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])
# h1 = OR(x1, x2), h2 = NAND(x1, x2), out = AND(h1, h2): XOR, with logistic units
XOR_W = [np.array([[20.0, -20.0], [20.0, -20.0]]), np.array([[20.0], [20.0]])]
XOR_B = [np.array([-10.0, 30.0]), np.array([-30.0])]


def _xor_pair():
    """scikit-learn's and mlplab's 2-2-1 classifiers after 3 sgd epochs (bit for bit
    the same weights: the parity that holds today)."""
    params = dict(
        hidden_layer_sizes=(2,),
        activation="logistic",
        solver="sgd",
        learning_rate_init=0.1,
        max_iter=3,
        random_state=0,
    )
    out = []
    for cls in (sknn.MLPClassifier, mlplab.MLPClassifier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            out.append(cls(**params).fit(XOR_X, XOR_Y))
    return out


def _set_xor(est, how: str) -> None:
    if how == "items":
        for i in range(2):
            est.coefs_[i] = XOR_W[i]
            est.intercepts_[i] = XOR_B[i]
    elif how == "lists":
        est.coefs_ = [w.copy() for w in XOR_W]
        est.intercepts_ = [b.copy() for b in XOR_B]
    else:  # in place
        for i in range(2):
            est.coefs_[i][...] = XOR_W[i]
            est.intercepts_[i][:] = XOR_B[i]


@pytest.mark.parametrize("how", ["items", "lists", "in_place"])
def test_hand_set_xor_weights_predict_xor_like_sklearn(tmp_path, how):
    sk, ml = _xor_pair()
    _set_xor(sk, how)
    _set_xor(ml, how)
    assert isinstance(ml.coefs_, list) and isinstance(ml.intercepts_, list)
    for a, w in zip(ml.coefs_ + ml.intercepts_, XOR_W + XOR_B, strict=True):
        assert np.array_equal(a, w)
    assert np.array_equal(ml.predict(XOR_X), XOR_Y)
    assert np.array_equal(ml.predict(XOR_X), sk.predict(XOR_X))
    np.testing.assert_array_equal(ml.predict_proba(XOR_X), sk.predict_proba(XOR_X))
    # saved and pickled: the assigned weights
    mlplab.save(ml, tmp_path / "xor.mlplab")
    for back in (mlplab.load(tmp_path / "xor.mlplab"), pickle.loads(pickle.dumps(ml))):
        np.testing.assert_array_equal(back.predict_proba(XOR_X), ml.predict_proba(XOR_X))
    # one partial_fit step from the assigned weights, as scikit-learn's
    with threadpool_limits(1):
        sk.partial_fit(XOR_X, XOR_Y)
        ml.partial_fit(XOR_X, XOR_Y)
    for a, b in zip(ml.coefs_ + ml.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)  # bit for bit, as the fit before it
    np.testing.assert_array_equal(ml.predict_proba(XOR_X), sk.predict_proba(XOR_X))


def test_hand_set_weights_are_used_by_a_warm_start_fit():
    sk, ml = _xor_pair()
    for est in (sk, ml):
        est.set_params(warm_start=True, max_iter=2)
        est.coefs_ = [w / 4 for w in XOR_W]
        est.intercepts_[0] = XOR_B[0] / 4
        est.intercepts_[1] = XOR_B[1] / 4
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(XOR_X, XOR_Y)
    for a, b in zip(ml.coefs_ + ml.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_assignment_after_partial_fit_still_drives_predictions():
    """The issue's second symptom: after partial_fit, coefs_ showed the assigned arrays
    while predictions came from the network's own (trained) weights."""
    _, ml = _xor_pair()
    ml.coefs_ = [w.copy() for w in XOR_W]
    ml.partial_fit(XOR_X, XOR_Y)
    ml.coefs_[1] = XOR_W[1]
    ml.intercepts_ = [b.copy() for b in XOR_B]
    dense = [layer for layer in ml.net_.layers if isinstance(layer, mlplab.Dense)]
    for i, layer in enumerate(dense):
        assert np.array_equal(layer.W, ml.coefs_[i]) and np.array_equal(layer.b, ml.intercepts_[i])
    h = 1 / (1 + np.exp(-(XOR_X @ ml.coefs_[0] + ml.intercepts_[0])))
    p = 1 / (1 + np.exp(-(h @ ml.coefs_[1] + ml.intercepts_[1])))
    np.testing.assert_allclose(ml.predict_proba(XOR_X)[:, 1], p.ravel(), rtol=1e-12)


def test_in_place_edit_takes_effect():
    _, ml = _xor_pair()
    before = ml.predict_proba(XOR_X)
    ml.coefs_[1][0, 0] = 5.0
    assert ml.net_.layers[-1].W[0, 0] == 5.0
    assert not np.array_equal(ml.predict_proba(XOR_X), before)


def test_float64_weights_into_a_float32_model_are_cast():
    ml = mlplab.MLPClassifier(hidden_layer_sizes=(2,), activation="logistic", max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ml.fit(XOR_X.astype(np.float32), XOR_Y)
    w = np.array([[0.1, 0.2], [0.3, 0.4]])  # float64, not exact in float32
    ml.coefs_[0] = w
    assert ml.coefs_[0].dtype == np.float32
    assert np.array_equal(ml.coefs_[0], w.astype(np.float32))
    ml.intercepts_ = [np.array([1, 2]), np.array([3])]  # ints are fine too
    assert ml.intercepts_[0].dtype == np.float32 and ml.intercepts_[1][0] == 3.0
    assert ml.predict_proba(XOR_X).dtype == np.float32


@pytest.mark.parametrize(
    ("attr", "value", "match"),
    [
        ("coefs_[0]", np.zeros((3, 2)), r"coefs_\[0\] must have shape \(2, 2\).*\(3, 2\)"),
        ("coefs_[1]", np.zeros(2), r"coefs_\[1\] must have shape \(2, 1\).*\(2,\)"),
        ("intercepts_[0]", np.zeros((2, 1)), r"intercepts_\[0\] must have shape \(2,\)"),
        ("coefs_[0]", [["a", "b"], ["c", "d"]], r"coefs_\[0\] must be a real numeric"),
        ("coefs_[0]", [[1.0, 2.0], [3.0]], r"coefs_\[0\] must be a numeric array"),
        ("coefs_[0]", np.ones((2, 2)) * 1j, r"coefs_\[0\] must be a real numeric"),
        ("intercepts_[1]", np.array([np.nan]), r"intercepts_\[1\] contains NaN or inf"),
        ("coefs_", [np.zeros((2, 2))], r"coefs_ must be a list of 2 arrays.*received 1"),
        ("intercepts_", np.zeros(2), r"intercepts_ must be a list of 2 arrays"),
        ("coefs_", [np.zeros((2, 2)), np.zeros((3, 1))], r"coefs_\[1\] must have shape"),
    ],
)
def test_bad_hand_set_weights_are_refused_and_change_nothing(attr, value, match):
    _, ml = _xor_pair()
    before = [a.copy() for a in ml.coefs_ + ml.intercepts_]
    with pytest.raises(ValueError, match=match):
        if attr.endswith("]"):
            getattr(ml, attr[:-3])[int(attr[-2])] = value
        else:
            setattr(ml, attr, value)
    for a, b in zip(ml.coefs_ + ml.intercepts_, before, strict=True):
        assert np.array_equal(a, b)


def test_the_number_of_layers_is_fixed():
    _, ml = _xor_pair()
    for change in (
        lambda c: c.append(np.zeros(1)),
        lambda c: c.pop(),
        lambda c: c.__delitem__(0),
        lambda c: c.clear(),
    ):
        with pytest.raises(ValueError, match="coefs_ has one array per layer"):
            change(ml.coefs_)
    assert len(ml.coefs_) == 2


def test_weights_list_copies_and_unfitted_assignment():
    _, ml = _xor_pair()
    for copied in (copy.deepcopy(ml.coefs_), pickle.loads(pickle.dumps(ml.coefs_))):
        assert type(copied) is list and np.array_equal(copied[0], ml.coefs_[0])
    twin = copy.deepcopy(ml)
    twin.coefs_[0] = XOR_W[0]
    assert not np.array_equal(ml.coefs_[0], XOR_W[0])  # the copy has its own network
    assert not hasattr(clone(ml), "coefs_")
    with pytest.raises(NotFittedError, match="fit or partial_fit first"):
        mlplab.MLPClassifier().coefs_ = XOR_W
