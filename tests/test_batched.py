"""mlplab.batched: every member of a stacked fit equals the estimator fitted alone.

``fit_members(estimators, X, y, train_rows)`` promises (docs/batched.md) that member m is
``clone(estimators[m]).fit(X[train_rows[m]], y[train_rows[m]])``: same initialisation draws,
same per-epoch shuffles, same stopping rule. In float64 that holds bit for bit here, so the
checks below use ``np.array_equal`` / ``==`` (predictions, probabilities, n_iter_, loss_,
loss_curve_, coefs_, score). Where it does not hold (yet) the test says so:

* float32: weights, predictions, n_iter_ and loss curves bit for bit too (all solvers).
* sgd ``learning_rate="invscaling"``: exact (the stack computes ``(t + 1) ** power_t`` with
  Python floats, as the single fit).
* ``fits.estimator(m)`` carries the member's optimizer state: ``partial_fit`` continues as the
  single fit's.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from mlplab import MLPClassifier, MLPRegressor
from mlplab.activations import get_activation
from mlplab.layers.dense import Dense
from mlplab.sklearn import stack as stack_module
from mlplab.sklearn.batched import MemberFits, can_batch, fit_many, fit_members

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SOLVERS = ("lbfgs", "adam", "sgd")
ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
N = 90  # rows of the shared data set
N_TRAIN = 60  # rows each member trains on
F32_ATOL = 2e-6  # float32 sgd/adam predictions (values of order 1): a few float32 ulps
INVSCALING_RTOL = 1e-9  # invscaling, power_t != 0.5: 1-ulp learning rates, 40 epochs later


# ----------------------------------------------------------------------------- data
def _X(d=3, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (N, d))


def _y_reg(X):
    return np.sin(2 * X[:, 0]) + X[:, -1] ** 2


def _Y_multi(X):
    return np.c_[_y_reg(X), X[:, 0] * X[:, -1], np.cos(X[:, 0])]


def _y_binary(X):
    return np.where(X[:, 0] * X[:, -1] > 0, "same", "other")  # string labels


def _y_3class(X):
    return np.digitize(X[:, 0] + 0.5 * X[:, -1], [-0.4, 0.4])  # 0, 1, 2


def _rows(k, n_train=N_TRAIN, seed=100):
    """k unsorted index arrays: each member sees its own rows, in its own order."""
    return [np.random.RandomState(seed + i).permutation(N)[:n_train] for i in range(k)]


# ----------------------------------------------------------------------- checking
def _single(est, X, y, rows):
    return clone(est).fit(X[rows], y[rows])


def _curve(single):
    """What fits.loss_curve_ holds: loss_curve_ (sgd/adam) or the per-iteration losses."""
    if single.get_params()["solver"] == "lbfgs":
        return list(single.history_["loss"])
    return list(single.loss_curve_)


def assert_member_equals_single(fits, m, est, X, y, rows, *, batched=True, loss_rtol=0.0):
    """Member m of ``fits`` is ``est`` fitted alone on X[rows], y[rows], bit for bit
    (``loss_rtol``: loss_ / loss_curve_ only to that relative tolerance)."""
    s = _single(est, X, y, rows)
    if batched is not None:
        assert bool(fits.batched_[m]) is batched, f"member {m}: batched_={fits.batched_[m]}"
    assert fits.n_iter_[m] == s.n_iter_, (m, fits.n_iter_[m], s.n_iter_)
    if loss_rtol:
        np.testing.assert_allclose(fits.loss_[m], s.loss_, rtol=loss_rtol)
        np.testing.assert_allclose(fits.loss_curve_[m], _curve(s), rtol=loss_rtol)
    else:
        assert fits.loss_[m] == s.loss_, (m, fits.loss_[m], s.loss_)
        assert list(fits.loss_curve_[m]) == _curve(s), m
    p_single = s.predict(X)
    p_member = fits.predict(m, X)
    assert p_member.shape == p_single.shape
    assert np.array_equal(p_member, p_single), (m, np.max(np.abs(p_member - p_single)))
    clf = isinstance(s, MLPClassifier)
    if clf:
        assert np.array_equal(fits.predict_proba(m, X), s.predict_proba(X)), m
    e = fits.estimator(m)
    assert e is not est
    assert type(e) is type(s)
    assert np.array_equal(e.predict(X), p_single), m
    assert e.score(X, y) == s.score(X, y), m
    assert e.n_iter_ == s.n_iter_, m
    assert e.loss_ == s.loss_ or (loss_rtol and np.isclose(e.loss_, s.loss_, rtol=loss_rtol)), m
    assert len(e.coefs_) == len(s.coefs_)
    for a, b in zip(e.coefs_ + e.intercepts_, s.coefs_ + s.intercepts_, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b), m
    if s.get_params()["solver"] != "lbfgs":
        if loss_rtol:
            np.testing.assert_allclose(e.loss_curve_, s.loss_curve_, rtol=loss_rtol)
        else:
            assert list(e.loss_curve_) == list(s.loss_curve_), m
    if clf:
        assert np.array_equal(e.classes_, s.classes_)
        assert np.array_equal(e.predict_proba(X), s.predict_proba(X)), m
    return s


def _stack(cls, n_members=3, **kw):
    """Members that differ in random_state, alpha and learning_rate_init (one stack)."""
    member = [(0, 1e-4, 1e-2), (7, 1e-2, 3e-2), (42, 0.5, 5e-3)]
    return [
        cls(random_state=rs, alpha=a, learning_rate_init=lr, **kw)
        for rs, a, lr in member[:n_members]
    ]


def _check_all(ests, X, y, rows, **kw):
    fits = fit_members(ests, X, y, rows, **kw)
    assert isinstance(fits, MemberFits) and len(fits) == len(ests)
    for m, est in enumerate(ests):
        assert_member_equals_single(fits, m, est, X, y, rows[m])
    return fits


# ------------------------------------------------ member by member: regression
@pytest.mark.floor_smoke
@pytest.mark.parametrize("hidden", [(6,), (5, 4)], ids=["1layer", "2layers"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_regressor_members_equal_single_fits(solver, activation, hidden):
    X = _X()
    y = _y_reg(X)
    ests = _stack(
        MLPRegressor,
        hidden_layer_sizes=hidden,
        activation=activation,
        solver=solver,
        batch_size=16,
        max_iter=25,
    )
    fits = _check_all(ests, X, y, _rows(3))
    assert fits.batched_.all()


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_input_column(solver):
    """The 1-D regressions of the course (X of shape (n, 1): the K=1 first layer)."""
    x = np.linspace(-1, 1, N).reshape(-1, 1)
    y = x[:, 0] ** 2
    ests = _stack(
        MLPRegressor, hidden_layer_sizes=(10,), activation="logistic", solver=solver, max_iter=40
    )
    _check_all(ests, x, y, _rows(3))


@pytest.mark.parametrize("n_inputs", [1, 3])
def test_lbfgs_stack_evaluated_in_chunks_equals_lone_fits(monkeypatch, n_inputs):
    """Exact mode evaluates an lbfgs stack a few members at a time (chunks sized for the
    cache): with chunks of two members, and members stopping at different iterations (so
    that later evaluations take some of the rows only), each member equals its lone fit."""
    monkeypatch.setattr(stack_module, "_CHUNK_ELEMENTS", 2 * N_TRAIN * 8)  # two 1-8-1 members
    sizes = []
    rows_loss_and_grad = stack_module.Stack.rows_loss_and_grad

    def spy(self, theta, rows):
        sizes.append(len(rows))
        return rows_loss_and_grad(self, theta, rows)

    monkeypatch.setattr(stack_module.Stack, "rows_loss_and_grad", spy)
    X = _X(d=n_inputs)
    y = _y_reg(X)
    ests = [
        MLPRegressor(hidden_layer_sizes=(8,), activation="logistic", solver="lbfgs", alpha=a,
                     random_state=s, max_iter=60, tol=1e-3)
        for s, a in zip(range(5), (1e-4, 1e-2, 1e-4, 0.3, 1e-3), strict=True)
    ]  # fmt: skip
    fits = _check_all(ests, X, y, _rows(5))
    # more members than a chunk holds; some evaluations for some members only
    assert len(set(fits.n_iter_)) > 1 and max(sizes) > 2 and min(sizes) < max(sizes), sizes


def test_stacked_dense_passes_equal_each_members_own_calls_to_the_bit():
    """A stack's one-input forward ([x 1] [W; b] in one product) and its backward's outer
    product and bias sums give each member the bits of scikit-learn's calls on that member
    alone (np.dot then + b; np.dot(delta, W.T); the rows' sum), signs of zeros included,
    on values spread over 20 decades."""
    rng = np.random.RandomState(0)
    M, n, units = 4, 300, 7

    def wide(*shape):
        return rng.standard_normal(shape) * 10.0 ** rng.uniform(-10, 10, shape)

    def same_bits(a, b):
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))

    x = wide(M, n, 1)
    x[:, ::7] = 0.0  # 0 w with w < 0: np.dot gives +0
    W, b = wide(M, 1, units), wide(M, units)
    W[:, 0, :2], b[:, 0] = -1.0, -0.0  # +0 + -0 = +0, where -0 + -0 would stay -0
    x1 = np.concatenate([x, np.ones_like(x)], axis=2)
    for name in ("identity", "logistic"):
        layer = Dense(units, name)
        layer.W, layer.b = W, b
        z = layer.forward_members_with_ones(x, x1).copy()
        for m in range(M):
            ref = np.dot(x[m], W[m])
            ref += b[m]
            assert same_bits(z[m], get_activation(name).forward(ref)), (name, m)
    out = Dense(1)
    out.W, out.b = wide(M, units, 1), wide(M, 1)
    out.W[:, 0] = -1.0
    out.dW, out.db = np.empty((M, units, 1)), np.empty((M, 1))
    out.x = wide(M, n, units)
    delta = wide(M, n, 1)
    delta[:, ::5] = 0.0
    dx = out.backward_from_z(delta, True)
    hidden = Dense(units, "logistic")
    hidden.x, hidden.W = x, W
    hidden.dW, hidden.db = np.empty((M, 1, units)), np.empty((M, units))
    dz = wide(M, n, units)
    hidden.backward_from_z(dz, False)
    for m in range(M):
        assert same_bits(dx[m], np.dot(delta[m], out.W[m].T)), m
        assert same_bits(hidden.db[m], np.add.reduce(dz[m], axis=0)), m  # np.mean's sum
        assert same_bits(hidden.dW[m], np.dot(x[m].T, dz[m])), m


@pytest.mark.parametrize("solver", SOLVERS)
def test_column_major_X_members_equal_lone_fits_on_column_major_rows(solver):
    """A DataFrame's array is column-major, and so are the rows each lone fit sees."""
    X = np.asfortranarray(_X() * [1.0, 40.0, 3.0])
    y, rows = _y_reg(X), _rows(3)
    kw = dict(hidden_layer_sizes=(4,), activation="tanh", solver=solver, batch_size=16)
    ests = _stack(MLPRegressor, max_iter=25, **kw)
    fits = fit_members(ests, X, y, rows)
    for m, est in enumerate(ests):
        s = clone(est).fit(np.asfortranarray(X[rows[m]]), y[rows[m]])
        assert fits.n_iter_[m] == s.n_iter_ and np.array_equal(fits.predict(m, X), s.predict(X))


@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_output_regression(solver):
    X = _X()
    Y = _Y_multi(X)
    ests = _stack(
        MLPRegressor,
        hidden_layer_sizes=(6, 5),
        activation="tanh",
        solver=solver,
        batch_size=20,
        max_iter=30,
    )
    fits = _check_all(ests, X, Y, _rows(3))
    assert fits.predict(0, X).shape == (N, 3)


# ----------------------------------------------- member by member: classifiers
@pytest.mark.floor_smoke
@pytest.mark.parametrize("kind", ["binary", "3class"])
@pytest.mark.parametrize("activation", ["logistic", "relu"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_classifier_members_equal_single_fits(solver, activation, kind):
    X = _X()
    y = _y_binary(X) if kind == "binary" else _y_3class(X)
    ests = _stack(
        MLPClassifier,
        hidden_layer_sizes=(6,),
        activation=activation,
        solver=solver,
        batch_size=16,
        max_iter=30,
    )
    fits = _check_all(ests, X, y, _rows(3))
    assert fits.batched_.all()
    assert set(fits.predict(0, X)) <= set(y)
    proba = fits.predict_proba(0, X)
    assert proba.shape == (N, 2 if kind == "binary" else 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_classifier_member_missing_a_class():
    """Rows with 2 of the 3 classes: the single fit is a binary classifier of those two."""
    X = _X()
    y = _y_3class(X)
    two = np.flatnonzero(y != 0)[:40]
    est = MLPClassifier(hidden_layer_sizes=(5,), solver="adam", max_iter=20, random_state=3)
    fits = fit_members([est, est], X, y, [two, _rows(1, 40)[0]])
    assert_member_equals_single(fits, 0, est, X, y, two, batched=None)
    assert list(fits.estimator(0).classes_) == sorted(set(y[two]))
    assert fits.predict_proba(0, X).shape == (N, 2)


# ------------------------------------------------------------------ sgd variants
@pytest.mark.parametrize(
    "kw",
    [
        dict(momentum=0.0),
        dict(momentum=0.9, nesterovs_momentum=False),
        dict(momentum=0.5, nesterovs_momentum=True),
        dict(learning_rate="invscaling", learning_rate_init=0.2),  # power_t = 0.5
        dict(shuffle=False),
        dict(batch_size="auto"),
        dict(batch_size=7),  # 60 rows: a short last batch
        pytest.param(
            dict(batch_size=500),  # clipped to the rows (the single fit warns)
            marks=pytest.mark.filterwarnings("ignore:Got `batch_size`:UserWarning"),
        ),
    ],
    ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()),
)
def test_sgd_variants(kw):
    X = _X()
    y = _y_reg(X)
    base = dict(hidden_layer_sizes=(6,), activation="tanh", solver="sgd", max_iter=40)
    base["batch_size"] = 16
    base.update(kw)
    ests = [
        MLPRegressor(random_state=rs, alpha=a, **base)
        for rs, a in [(0, 1e-4), (1, 1e-3), (2, 1e-1)]
    ]
    _check_all(ests, X, y, _rows(3))


def _invscaling_members():
    X = _X()
    y = _y_reg(X)
    ests = [
        MLPRegressor(
            hidden_layer_sizes=(5,),
            activation="logistic",
            solver="sgd",
            learning_rate="invscaling",
            learning_rate_init=0.1,
            power_t=0.3,
            batch_size=16,
            max_iter=40,
            random_state=rs,
        )
        for rs in range(3)
    ]
    return X, y, ests, _rows(3)


def test_sgd_invscaling_power_t_close():
    X, y, ests, rows = _invscaling_members()
    fits = fit_members(ests, X, y, rows)
    for m, est in enumerate(ests):
        s = _single(est, X, y, rows[m])
        assert fits.n_iter_[m] == s.n_iter_
        np.testing.assert_allclose(fits.predict(m, X), s.predict(X), rtol=INVSCALING_RTOL)
        np.testing.assert_allclose(fits.loss_curve_[m], s.loss_curve_, rtol=INVSCALING_RTOL)


def test_sgd_invscaling_power_t_exact():
    X, y, ests, rows = _invscaling_members()
    _check_all(ests, X, y, rows)


# ----------------------------------------------------------------------- float32
def _f32_members(solver):
    X = _X().astype(np.float32)
    y = _y_reg(X).astype(np.float32)
    ests = _stack(
        MLPRegressor,
        hidden_layer_sizes=(6,),
        activation="tanh",
        solver=solver,
        batch_size=16,
        max_iter=40,
        dtype="float32",
    )
    return X, y, ests, _rows(3)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_float32_stochastic_close(solver):
    X, y, ests, rows = _f32_members(solver)
    fits = fit_members(ests, X, y, rows)
    assert fits.batched_.all()
    for m, est in enumerate(ests):
        s = _single(est, X, y, rows[m])
        assert fits.n_iter_[m] == s.n_iter_
        p = fits.predict(m, X)
        assert p.dtype == s.predict(X).dtype == np.float32
        np.testing.assert_allclose(p, s.predict(X), rtol=0, atol=F32_ATOL)
        np.testing.assert_allclose(fits.loss_curve_[m], s.loss_curve_, rtol=1e-5)
        e = fits.estimator(m)
        assert e.coefs_[0].dtype == np.float32
        np.testing.assert_allclose(e.predict(X), s.predict(X), rtol=0, atol=F32_ATOL)


def test_float32_input_without_dtype_param():
    """dtype=None follows X: float32 X trains in float32 in both."""
    X = _X().astype(np.float32)
    y = _y_reg(X).astype(np.float32)
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="adam", max_iter=10, random_state=0)
    fits = fit_members([est], X, y, _rows(1))
    assert fits.predict(0, X).dtype == np.float32
    assert fits.estimator(0).coefs_[0].dtype == np.float32


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_weights_exact(solver):
    """float32: weights, predictions, n_iter_ bit for bit; the losses to float32 rounding."""
    X, y, ests, rows = _f32_members(solver)
    fits = fit_members(ests, X, y, rows)
    for m, est in enumerate(ests):
        assert_member_equals_single(fits, m, est, X, y, rows[m], loss_rtol=1e-6)


@pytest.mark.parametrize("solver", ["lbfgs", "adam", "sgd"])
def test_float32_exact(solver):
    X, y, ests, rows = _f32_members(solver)
    _check_all(ests, X, y, rows)


# ------------------------------------------------------- per-member stopping
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_members_stop_at_their_own_epoch(solver):
    """tol / n_iter_no_change per member: one stack, different stopping epochs."""
    X = _X()
    y = _y_reg(X)
    ests = [
        MLPRegressor(
            hidden_layer_sizes=(6,),
            activation="tanh",
            solver=solver,
            batch_size=20,
            max_iter=300,
            tol=1e-3,
            n_iter_no_change=3,
            random_state=rs,
            learning_rate_init=lr,
            alpha=a,
        )
        for rs, lr, a in [(0, 0.05, 1e-4), (1, 0.01, 1e-3), (2, 0.002, 1e-2), (3, 0.2, 1e-4)]
    ]
    rows = _rows(4)
    fits = _check_all(ests, X, y, rows)
    assert len(set(fits.n_iter_.tolist())) >= 3, fits.n_iter_  # stopped at different epochs
    assert (fits.n_iter_ < 300).sum() >= 2, fits.n_iter_  # by the tol rule, not max_iter


@pytest.mark.floor_smoke
def test_lbfgs_members_stop_at_their_own_iteration():
    """One L-BFGS stack (same tol): each member stops on its own rule and iteration."""
    X = _X()
    y = _y_reg(X)
    ests = [
        MLPRegressor(
            hidden_layer_sizes=(5,),
            activation="logistic",
            solver="lbfgs",
            max_iter=400,
            tol=1e-3,
            random_state=rs,
            alpha=a,
        )
        for rs, a in [(0, 1e-4), (1, 1e-2), (2, 1.0), (3, 1e-4)]
    ]
    fits = _check_all(ests, X, y, _rows(4))
    assert len(set(fits.n_iter_.tolist())) >= 3, fits.n_iter_
    assert (fits.n_iter_ < 400).sum() >= 3, fits.n_iter_


def test_lbfgs_max_fun():
    X = _X()
    y = _y_reg(X)
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_fun=7, random_state=0)
    _check_all([est, clone(est).set_params(random_state=1)], X, y, _rows(2))


# --------------------------------------------------- several stacks in one call
def test_mixed_structures_rows_and_kinds_in_one_call():
    X = _X()
    y = _y_reg(X)
    ests, rows = [], []
    for hidden in [(3,), (4, 2)]:
        for solver in SOLVERS:
            for n_train in (50, 70):  # different row counts: different stacks
                for rs in (0, 1):
                    ests.append(
                        MLPRegressor(
                            hidden_layer_sizes=hidden,
                            activation="relu",
                            solver=solver,
                            batch_size=25,
                            max_iter=15,
                            random_state=rs,
                        )
                    )
                    rows.append(_rows(1, n_train, seed=rs + n_train)[0])
    fits = _check_all(ests, X, y, rows)
    assert fits.batched_.all()
    assert fits.predict_all([X] * len(ests))[5].shape == (N,)
    got = fits.predict_all([X[: m + 1] for m in range(len(ests))])
    for m, p in enumerate(got):
        assert np.array_equal(p, fits.predict(m, X[: m + 1]))


def test_bootstrap_rows_with_repeats():
    X = _X()
    y = _y_reg(X)
    rows = [np.random.RandomState(i).randint(0, N, N) for i in range(3)]
    ests = _stack(MLPRegressor, hidden_layer_sizes=(5,), solver="adam", max_iter=20)
    _check_all(ests, X, y, rows)


def test_estimators_are_not_mutated():
    X = _X()
    y = _y_reg(X)
    ests = _stack(MLPRegressor, hidden_layer_sizes=(4,), solver="adam", max_iter=5)
    before = [repr(e.get_params()) for e in ests]
    fits = fit_members(ests, X, y, _rows(3))
    assert [repr(e.get_params()) for e in ests] == before
    assert not any(hasattr(e, "coefs_") for e in ests)
    assert fits.estimator(0) is not fits.estimator(1)


# ------------------------------------------------------------------- fallbacks
def test_fallback_members_are_fitted_alone():
    X = _X()
    y = _y_reg(X)
    y3 = _y_3class(X)
    one_class = np.flatnonzero(y3 == 1)[:30]
    ok = MLPRegressor(hidden_layer_sizes=(5,), solver="adam", max_iter=20, random_state=0)
    early = clone(ok).set_params(early_stopping=True, random_state=1)
    bn = clone(ok).set_params(batch_norm=True, random_state=2)
    sk = SkMLPRegressor(hidden_layer_sizes=(5,), solver="adam", max_iter=20, random_state=3)
    clf_one = MLPClassifier(hidden_layer_sizes=(5,), solver="adam", max_iter=20, random_state=4)
    ests = [ok, early, bn, sk, ok]
    rows = _rows(5)
    fits = fit_members(ests, X, y, rows)
    assert fits.batched_.tolist() == [True, False, False, False, True]
    for m in (0, 1, 2, 4):
        assert_member_equals_single(fits, m, ests[m], X, y, rows[m], batched=bool(m in (0, 4)))
    # scikit-learn's own estimator: its own fit, the same numbers
    s = clone(sk).fit(X[rows[3]], y[rows[3]])
    assert np.array_equal(fits.predict(3, X), s.predict(X))
    assert fits.n_iter_[3] == s.n_iter_ and fits.loss_[3] == s.loss_
    assert list(fits.loss_curve_[3]) == list(s.loss_curve_)
    assert isinstance(fits.estimator(3), SkMLPRegressor)
    assert np.array_equal(fits.estimator(3).coefs_[0], s.coefs_[0])
    # a classifier whose rows hold one class only
    cfits = fit_members([clf_one, clf_one], X, y3, [one_class, _rows(1, 30)[0]])
    assert cfits.batched_.tolist() == [False, True]
    assert_member_equals_single(cfits, 0, clf_one, X, y3, one_class, batched=False)
    assert set(cfits.predict(0, X)) == {1}


def test_sparse_X_falls_back():
    sp = pytest.importorskip("scipy.sparse")
    X = _X()
    y = _y_reg(X)
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="adam", max_iter=10, random_state=0)
    Xs = sp.csr_matrix(X)
    rows = _rows(2)
    fits = fit_members([est, est], Xs, y, rows)
    assert not fits.batched_.any()
    for m in range(2):
        s = clone(est).fit(Xs[rows[m]], y[rows[m]])
        assert np.array_equal(fits.predict(m, Xs), s.predict(Xs))


@pytest.mark.parametrize(
    "est, why",
    [
        (MLPRegressor(early_stopping=True), "early_stopping"),
        (MLPRegressor(batch_norm=True), "batch_norm"),
        (MLPRegressor(warm_start=True), "warm_start"),
        (MLPRegressor(initializer="he_normal"), "initializer"),
        (MLPRegressor(clip_norm=1.0), "clipping"),
        (MLPRegressor(clip_value=1.0), "clipping"),
        (MLPRegressor(loss="poisson"), "poisson"),
        (MLPRegressor(solver="sgd", learning_rate="adaptive"), "adaptive"),
        (MLPRegressor(activation=["tanh"]), "activation"),
        (MLPRegressor(random_state=np.random.default_rng(0)), "random_state"),
        (MLPRegressor(hidden_layer_sizes=-1), "invalid parameters"),
        (MLPRegressor(record_diagnostics=True), "record_diagnostics"),
        (SkMLPRegressor(), "not an mlplab"),
        (object(), "not an mlplab"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_can_batch_reasons(est, why):
    ok, reason = can_batch(est)
    assert ok is False
    assert why in reason


@pytest.mark.parametrize(
    "est",
    [
        MLPRegressor(),
        MLPClassifier(solver="sgd", learning_rate="invscaling", momentum=0.0),
        MLPRegressor(solver="lbfgs", activation="identity", random_state=np.random.RandomState(0)),
        MLPClassifier(hidden_layer_sizes=(3, 4), dtype="float32", random_state=5),
    ],
)
def test_can_batch_true(est):
    assert can_batch(est) == (True, "")


# ----------------------------------------------------------- known gaps (xfail)
def test_fallback_lbfgs_member_has_its_loss_curve():
    X = _X()
    y = _y_reg(X)
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=20, random_state=0)
    alone = clone(est).set_params(early_stopping=True)  # lbfgs ignores it; can_batch does not
    rows = _rows(2)
    fits = fit_members([est, alone], X, y, rows)
    assert fits.batched_.tolist() == [True, False]
    assert fits.loss_curve_[0] == _curve(_single(est, X, y, rows[0]))
    assert fits.loss_curve_[1] == _curve(_single(alone, X, y, rows[1]))


def test_diverging_member_is_flagged_and_spares_the_others():
    """Fitted alone, a diverging member raises ValueError (non-finite weights); in a stack it
    is flagged in failed_ and its neighbours still equal their single fits."""
    X = _X()
    y = _y_reg(X) * 1e3
    kw = dict(hidden_layer_sizes=(5,), solver="sgd", max_iter=30, batch_size=30)
    kw["n_iter_no_change"] = 100  # keep going while the loss grows
    bad = MLPRegressor(learning_rate_init=1e3, random_state=0, **kw)
    good = MLPRegressor(learning_rate_init=1e-7, random_state=1, **kw)
    rows = _rows(2)
    with pytest.raises(ValueError, match="non-finite"):
        _single(bad, X, y, rows[0])
    fits = fit_members([bad, good], X, y, rows)
    assert fits.batched_.tolist() == [True, True]
    assert fits.failed_.tolist() == [True, False]
    assert_member_equals_single(fits, 1, good, X, y, rows[1])


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_member_whose_fit_ends_non_finite_is_flagged(solver):
    """#13 item 4 in a stack: a member whose fit ends with inf/NaN outputs raises alone
    (sgd/adam: one update of 1e300 leaves finite weights |w| ~ 1e300; lbfgs: a y of 1e300
    in its rows, no finite point), so in the stack it is failed_; its neighbour, of the
    same stack, still equals its single fit."""
    X = _X()
    y = _y_reg(X)
    rows = _rows(2)
    kw = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=1, random_state=0)
    if solver == "lbfgs":
        y = y.copy()
        y[np.setdiff1d(rows[0], rows[1])[0]] = 1e300  # in member 0's rows only
        bad, good = MLPRegressor(**kw), MLPRegressor(alpha=1e-3, **kw)
    else:
        kw["batch_size"] = N_TRAIN
        bad = MLPRegressor(learning_rate_init=1e300, **kw)
        good = MLPRegressor(learning_rate_init=1e-3, **kw)
    with pytest.raises(ValueError, match="^Solver produced non-finite parameter weights"):
        _single(bad, X, y, rows[0])
    fits = fit_members([bad, good], X, y, rows, n_jobs=1)  # (ConvergenceWarning ignored)
    # (y and the clean targets agree on member 1's rows; scored on all X, the clean ones)
    assert_member_equals_single(fits, 1, good, X, _y_reg(X), rows[1])
    assert fits.batched_.tolist() == [True, True]
    assert fits.failed_.tolist() == [True, False]


def test_convergence_warning_and_converged_flags():
    """converged_[m] is False exactly where the single fit warns (max_iter reached); the
    stack warns ConvergenceWarning too, unless convergence_warning=False."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X = _X()
    y = _y_reg(X)
    ests = [
        MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=it, tol=1e-2,
                     random_state=0, learning_rate_init=0.05)
        for solver in ("adam", "lbfgs") for it in (2, 300)
    ]  # fmt: skip
    rows = _rows(len(ests))
    fits = fit_members(ests, X, y, rows)
    for m, est in enumerate(ests):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _single(est, X, y, rows[m])
        warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        assert bool(fits.converged_[m]) is not warned, (m, est.solver, est.max_iter)
    assert not fits.converged_.all() and fits.converged_.any()
    for flag, expect in ((True, 1), (False, 0)):
        quiet = [clone(e).set_params(convergence_warning=flag) for e in ests]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit_members(quiet, X, y, rows)
        n = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
        assert (n >= 1) if expect else (n == 0), (flag, n)


@pytest.mark.parametrize(
    "kw",
    [
        {"solver": "adam"},
        {"solver": "sgd"},  # momentum 0.9, nesterov
        {"solver": "sgd", "learning_rate": "invscaling", "nesterovs_momentum": False},
        {"solver": "sgd", "momentum": 0.0},
        {"solver": "adam", "dtype": "float32"},
    ],
)
def test_estimator_m_continues_like_the_single_fit(kw):
    # the member's optimizer state (moments, velocity, step count, learning rate) and
    # stopping counters travel to fits.estimator(m): partial_fit continues as the single fit
    X = _X()
    y = _y_reg(X)
    est = MLPRegressor(
        hidden_layer_sizes=(5,), max_iter=10, random_state=0, learning_rate_init=0.01, **kw
    )
    fits = fit_members([est], X, y, [np.arange(N)])  # ConvergenceWarning: filtered (module)
    e, s = fits.estimator(0), clone(est).fit(X, y)
    for _ in range(3):
        e.partial_fit(X, y)
        s.partial_fit(X, y)
    assert np.array_equal(e.predict(X), s.predict(X))
    assert e.loss_curve_ == s.loss_curve_ and e._no_improvement_count == s._no_improvement_count


# --------------------------------------------------------------- fit_many (public)
def _fit_many_reg(**kw):
    return MLPRegressor(
        hidden_layer_sizes=(6,), activation="logistic", solver="adam", batch_size=30,
        max_iter=40, learning_rate_init=0.02, **kw,
    )  # fmt: skip


def test_fit_many_20_seeds():
    X = _X(d=1)
    y = X[:, 0] ** 2
    est = _fit_many_reg()
    ens = fit_many(est, X, y, random_state=range(20))
    assert len(ens) == 20
    assert ens.loss_.shape == (20,) and ens.n_iter_.shape == (20,)
    assert np.isfinite(ens.loss_).all()
    assert len(set(ens.loss_.tolist())) == 20  # a distribution over seeds
    pred = ens.predict(X)
    assert pred.shape == (20, N)
    members = ens.estimators_
    assert ens.estimators_ is members and len(members) == 20
    for seed in (0, 7, 19):
        s = clone(est).set_params(random_state=seed).fit(X, y)
        e = members[seed]
        assert e.random_state == seed
        assert np.array_equal(pred[seed], s.predict(X))
        assert np.array_equal(e.predict(X), s.predict(X))
        assert ens.loss_[seed] == s.loss_ and ens.n_iter_[seed] == s.n_iter_
        assert list(ens.loss_curve_[seed]) == list(s.loss_curve_)
        for a, b in zip(e.coefs_, s.coefs_, strict=True):
            assert np.array_equal(a, b)


def test_fit_many_flags_and_warns_about_members_that_end_non_finite():
    """A member whose single fit would raise (here one update of 1e300: finite weights,
    inf outputs) does not pass silently in an ensemble: failed_ marks it, one warning
    says so, and the others are unaffected."""
    X = _X()
    y = _y_reg(X)
    est = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=1, batch_size=N)
    params = [{"learning_rate_init": 1e300}, {"learning_rate_init": 1e-3}]
    with pytest.warns(RuntimeWarning, match=r"1 of 2 members ended non-finite.*Solver produced"):
        ens = fit_many(est, X, y, random_state=[0, 1], param_list=params)
    assert ens.failed_.tolist() == [True, False]
    assert np.isfinite(ens.predict(X)).all()  # the failed one: its last finite step


def test_fit_many_param_list_and_train_rows():
    X = _X()
    Y = _Y_multi(X)
    est = _fit_many_reg()
    params = [{"alpha": 1e-4}, {"alpha": 1e-1, "learning_rate_init": 0.005},
              {"hidden_layer_sizes": (3, 3)}]  # fmt: skip
    rows = [np.random.RandomState(i).randint(0, N, N) for i in range(3)]  # bootstraps
    ens = fit_many(est, X, Y, random_state=[5, 6, 7], param_list=params, train_rows=rows)
    assert ens.predict(X).shape == (3, N, 3)
    for m in range(3):
        e1 = clone(est).set_params(**params[m], random_state=5 + m)
        assert_member_equals_single(ens.fits_, m, e1, X, Y, rows[m])
        assert ens.estimators_[m].get_params() == e1.get_params()
    ens = fit_many(est, X, Y, param_list=params)  # seeds from the estimator (None here)
    assert len(ens) == 3


def test_fit_many_classifier():
    X = _X()
    y = _y_3class(X)
    est = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=30)
    ens = fit_many(est, X, y, random_state=range(4))
    pred = ens.predict(X)
    assert pred.shape == (4, N) and set(np.unique(pred)) <= {0, 1, 2}
    s = clone(est).set_params(random_state=2).fit(X, y)
    assert np.array_equal(pred[2], s.predict(X))


@pytest.mark.parametrize(
    "kw, err, match",
    [
        (dict(), ValueError, "random_state"),
        (dict(random_state=range(3), param_list=[{}]), ValueError, "param_list"),
        (dict(random_state=range(2), train_rows=[np.arange(10)]), ValueError, "train_rows"),
        (dict(random_state=range(2), param_list=[{"bogus": 1}, {}]), ValueError, "bogus"),
        (dict(random_state=3), (TypeError, ValueError), None),  # an int, not a list of seeds
    ],
)
def test_fit_many_bad_arguments(kw, err, match):
    X = _X()
    y = _y_reg(X)
    with pytest.raises(err, match=match):
        fit_many(_fit_many_reg(), X, y, **kw)


def test_fit_many_invalid_estimator_parameter():
    X = _X()
    y = _y_reg(X)
    with pytest.raises(ValueError, match="alpha"):
        fit_many(_fit_many_reg(alpha=-1.0), X, y, random_state=range(2))


def test_fit_members_bad_arguments():
    X = _X()
    y = _y_reg(X)
    est = _fit_many_reg()
    with pytest.raises(ValueError, match="train_rows"):
        fit_members([est, est], X, y, _rows(3))


def test_n_jobs_2_same_as_sequential():
    X = _X()
    y = _y_reg(X)
    ests = []
    for hidden in [(3,), (4,)]:
        for solver in SOLVERS:
            ests += [MLPRegressor(hidden_layer_sizes=hidden, solver=solver, activation="tanh",
                                  batch_size=20, max_iter=20, random_state=r)
                     for r in range(3)]  # fmt: skip
    rows = _rows(len(ests))
    f1 = fit_members(ests, X, y, rows)
    f2 = fit_members(ests, X, y, rows, n_jobs=2)
    assert np.array_equal(f1.n_iter_, f2.n_iter_)
    assert np.array_equal(f1.loss_, f2.loss_)
    assert f1.loss_curve_ == f2.loss_curve_
    for m in range(len(ests)):
        assert np.array_equal(f1.predict(m, X), f2.predict(m, X))
    # one stack split across the workers
    e1 = fit_many(_fit_many_reg(), X, y, random_state=range(8))
    e2 = fit_many(_fit_many_reg(), X, y, random_state=range(8), n_jobs=2)
    assert np.array_equal(e1.loss_, e2.loss_)
    assert np.array_equal(e1.predict(X), e2.predict(X))


def test_largest_stacks_go_first(monkeypatch):
    """Stacks are handed to the workers largest first (members x rows x weights), so that
    the workers end together; each member still equals its lone fit."""
    from mlplab.sklearn import batched

    order = []
    fit_stack = batched.fit_stack

    def spy(spec, X, *args):
        order.append((spec.units[1], len(X)))
        return fit_stack(spec, X, *args)

    monkeypatch.setattr(batched, "fit_stack", spy)
    X = _X()
    y = _y_reg(X)
    ests = [
        MLPRegressor(hidden_layer_sizes=(h,), solver="lbfgs", max_iter=15, random_state=r)
        for h, n in ((2, 4), (8, 3), (4, 4))
        for r in range(n)
    ]  # fmt: skip
    _check_all(ests, X, y, _rows(len(ests)))
    assert order == [(8, 3), (4, 4), (2, 4)], order


def test_nan_in_X_raises_the_estimators_error():
    X = _X().copy()
    X[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fit_many(MLPRegressor(hidden_layer_sizes=(3,)), X, _y_reg(_X()), random_state=[0, 1])
