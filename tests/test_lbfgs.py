"""mlplab.training.lbfgs.minimize_lbfgs against scipy.optimize.minimize(method="L-BFGS-B").

Every problem is solved by scipy alone and by the driver, for one network and inside
a stack of members that stop at different points (convergence, maxiter, maxfun, an
abnormal line search after non-finite values, a callback's halt): the iterates, the
final x, fun, jac and the counters, status and message must be the same to the bit.
The fallback (no usable private ``setulb``) must give the same answers.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from mlplab import Dense, Sequential
from mlplab._blas import one_blas_thread
from mlplab.training import lbfgs

P = 13  # a 2-3-1 network: 2*3 + 3 + 3*1 + 1 parameters


@pytest.fixture(autouse=True)
def _one_thread():
    """setulb's tiny BLAS calls are ~100x slower with threads on a busy machine."""
    with one_blas_thread():
        yield


def _mlp(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 2))
    y = np.sin(X[:, 0]) * X[:, 1]
    net = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=seed)
    assert net.theta.size == P

    def f(x):
        net.theta[...] = x
        return net.loss_and_grad(X, y)  # the gradient is net.grad, a reused buffer

    return f, net.theta.copy()


def _rosen(x):
    return scipy.optimize.rosen(x), scipy.optimize.rosen_der(x)


def _quadratic(x):
    d = np.arange(1.0, P + 1)
    return 0.5 * float(np.dot(d * x, x)) - float(x.sum()), d * x - 1.0


def _wall(value):
    """(x - 3)^2 summed, but ``value`` (inf or nan) beyond x[0] = 1.5: the line search
    meets non-finite values on its way to the minimum."""
    hit = []

    def f(x):
        if x[0] > 1.5:
            hit.append(x[0])
            return value, np.full_like(x, value)
        return float(np.sum((x - 3.0) ** 2)), 2.0 * (x - 3.0)

    f.hit = hit
    return f


def _problems():
    """(name, f, x0, options, halt_at): halt_at = the iteration a callback stops at."""
    mlp0, t0 = _mlp(0)
    mlp1, t1 = _mlp(1)
    start = np.linspace(-1.2, 1.0, P)
    return [
        ("mlp", mlp0, t0, {}, None),
        ("mlp-maxiter", mlp1, t1, {"maxiter": 9}, None),
        ("rosenbrock", _rosen, start, {}, None),
        ("rosenbrock-maxiter", _rosen, start, {"maxiter": 12}, None),
        ("rosenbrock-maxfun", _rosen, start, {"maxfun": 10}, None),
        ("rosenbrock-halt", _rosen, start, {}, 4),
        ("rosenbrock-halt-at-maxiter", _rosen, start, {"maxiter": 4}, 4),
        ("quadratic-gtol", _quadratic, np.zeros(P), {"gtol": 1e-3}, None),
        ("quadratic-ftol", _quadratic, np.zeros(P), {"ftol": 1e-4, "maxcor": 3}, None),
        ("inf", _wall(np.inf), np.zeros(P), {}, None),
        ("nan", _wall(np.nan), np.zeros(P), {}, None),
    ]


def _scipy(f, x0, options, halt_at):
    iterates = []

    def callback(intermediate_result):
        iterates.append((intermediate_result.x.copy(), intermediate_result.fun))
        if len(iterates) == halt_at:
            raise StopIteration

    def fun(x):
        value, g = f(x)
        return value, np.array(g)

    res = scipy.optimize.minimize(
        fun, x0, jac=True, method="L-BFGS-B", callback=callback, options=options
    )
    return res, iterates


def _assert_same(res, ref, iterates, ref_iterates, name):
    assert np.array_equal(res.x, ref.x, equal_nan=True), name
    assert np.array_equal(res.jac, ref.jac, equal_nan=True), name
    assert np.array_equal(res.fun, ref.fun, equal_nan=True), (name, res.fun, ref.fun)
    for k in ("nit", "nfev", "njev", "status", "success", "message"):
        assert res[k] == ref[k], (name, k, res[k], ref[k])
    assert len(iterates) == len(ref_iterates) == ref.nit, name
    for (x, f), (rx, rf) in zip(iterates, ref_iterates, strict=True):
        assert np.array_equal(x, rx) and np.array_equal(f, rf, equal_nan=True), name


def _halting(halt_at, iterates):
    """The driver's callback: record, and stop each member at its halt_at."""

    def callback(members, X, F):
        for m, x, f in zip(members, X, F, strict=True):
            iterates[m].append((x.copy(), f))
        return [len(iterates[m]) == halt_at[m] for m in members]

    return callback


@pytest.mark.parametrize("problem", _problems(), ids=lambda p: p[0])
def test_one_network_is_scipy_to_the_bit(problem):
    name, f, x0, options, halt_at = problem
    ref, ref_iterates = _scipy(f, x0, options, halt_at)
    iterates = {0: []}

    def fun(X, members):
        assert X.shape == (1, P) and list(members) == [0]
        value, g = f(X[0])
        return [value], g[None]

    res = lbfgs.minimize_lbfgs(fun, x0, callback=_halting({0: halt_at}, iterates), **options)
    _assert_same(res, ref, iterates[0], ref_iterates, name)
    assert isinstance(res.message, str) and res.x.shape == (P,)


def test_the_problems_stop_in_every_way():
    """The cases above do reach each stopping rule (else the comparison proves less)."""
    problems = _problems()
    seen = {name: _scipy(f, x0, opts, halt)[0] for name, f, x0, opts, halt in problems}
    assert seen["mlp"].status == 0 and seen["rosenbrock"].status == 0
    assert "ITERATIONS" in seen["rosenbrock-maxiter"].message
    assert "EVALUATIONS" in seen["rosenbrock-maxfun"].message
    assert seen["rosenbrock-maxfun"].nfev > 10  # maxfun is looked at between iterations
    for name in ("rosenbrock-halt", "rosenbrock-halt-at-maxiter"):
        assert seen[name].status == 99 and "StopIteration" in seen[name].message
    assert "PGTOL" in seen["quadratic-gtol"].message
    assert "FACTR" in seen["quadratic-ftol"].message
    nan = seen["nan"]  # fun is the last value evaluated; x the last iterate, restored
    assert nan.status == 2 and "ABNORMAL" in nan.message
    assert np.isnan(nan.fun) and np.isfinite(nan.x).all()
    for name, f, *_ in problems[-2:]:
        assert name in ("inf", "nan") and f.hit, name  # the run met non-finite values


def _run_stack(problems, options):
    """The problems as the members of one stack, with the stack's options."""
    calls = []

    def fun(X, members):
        calls.append(list(members))
        out = [problems[m][1](x) for m, x in zip(members, X, strict=True)]
        return np.array([v for v, _ in out]), np.stack([g for _, g in out])

    iterates = {m: [] for m in range(len(problems))}
    halt_at = {m: p[4] for m, p in enumerate(problems)}
    X0 = np.stack([p[2] for p in problems])
    res = lbfgs.minimize_lbfgs(fun, X0, callback=_halting(halt_at, iterates), **options)
    return res, iterates, calls


@pytest.mark.parametrize("options", [{}, {"maxiter": 12}, {"maxfun": 10}], ids=str)
def test_a_stack_is_each_member_alone(options):
    """Members of different problems and stopping points; one call per round."""
    problems = [(n, f, x0, options, h) for n, f, x0, _, h in _problems()]
    res, iterates, calls = _run_stack(problems, options)
    M = len(problems)
    assert res.x.shape == (M, P) and len(res.message) == M
    for m, (name, f, x0, opts, halt_at) in enumerate(problems):
        ref, ref_iterates = _scipy(f, x0, opts, halt_at)
        one = scipy.optimize.OptimizeResult({k: res[k][m] for k in lbfgs.RESULT_FIELDS})
        _assert_same(one, ref, iterates[m], ref_iterates, name)
    assert len(set(res.nit.tolist())) >= 4  # they did stop at different points
    assert calls[0] == list(range(M))  # x0 evaluated for every member at once
    assert len(calls) == res.nfev.max()  # each round evaluates all members that want it


def test_the_fallback_is_the_same_one_member_at_a_time(monkeypatch):
    problems = _problems()[:6]
    native, native_iterates, _ = _run_stack(problems, {"maxiter": 30})
    monkeypatch.setattr(lbfgs, "native_available", lambda: False)
    res, iterates, calls = _run_stack(problems, {"maxiter": 30})
    assert all(len(c) == 1 for c in calls)
    for k in lbfgs.RESULT_FIELDS:
        assert np.array_equal(np.asarray(res[k]), np.asarray(native[k])), k
    for m in native_iterates:
        for (x, f), (nx, nf) in zip(iterates[m], native_iterates[m], strict=True):
            assert np.array_equal(x, nx) and f == nf


def test_native_check_refuses_another_setulb(monkeypatch):
    from scipy.optimize import _lbfgsb

    assert lbfgs.native_available()

    def old_setulb(m, x, l, u, nbd, f, g, factr, pgtol, wa, iwa, task, iprint, csave, lsave,
                   isave, dsave, maxls):  # fmt: skip
        """scipy < 1.15's signature: 17 arguments are a TypeError."""

    monkeypatch.setattr(_lbfgsb, "setulb", old_setulb)
    assert lbfgs.native_available.__wrapped__() is False

    def silent(*args):  # takes the arguments, never answers: the check sees no FG
        return None

    monkeypatch.setattr(_lbfgsb, "setulb", silent)
    assert lbfgs.native_available.__wrapped__() is False


def test_bad_arguments():
    with pytest.raises(ValueError, match="maxls"):
        lbfgs.minimize_lbfgs(lambda X, m: (X.sum(1), X), np.zeros(2), maxls=0)
    with pytest.raises(ValueError, match="x0"):
        lbfgs.minimize_lbfgs(lambda X, m: (X.sum(1), X), np.zeros((1, 2, 2)))


# ------------------------------------------- the three callers, natively and without setulb
def _callers():
    """What each caller produces for small lbfgs problems: Sequential.fit (with a
    callback that stops it), an MLPClassifier and a stack of MLPRegressor members."""
    from mlplab import Callback, MLPClassifier, MLPRegressor
    from mlplab.sklearn.batched import fit_members

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = X[:, 0] - X[:, 1] * X[:, 2]

    class StopAt(Callback):
        def on_epoch_end(self, state, net):
            state.stop = state.epoch + 1 == 6

    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=3, seed=0)
    hist = net.fit(X, y, optimizer="lbfgs", epochs=50, callbacks=[StopAt()])
    seq = (net.theta.copy(), dict(hist.history), hist.stop_reason)
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=8, random_state=0)
    with pytest.warns(Warning, match="lbfgs failed to converge"):
        clf.fit(X, y > 0)
    ests = [
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=s, max_iter=60)
        for s in (0, 1, 2)
    ]
    ests[2].set_params(alpha=1.0)
    rows = [np.random.RandomState(s).permutation(40)[:35] for s in (0, 1, 2)]  # one group
    with pytest.warns(Warning, match="before converging"):  # each member stops early
        fits = fit_members(ests, X, y, rows)
    assert fits.batched_.all()
    stack = [fits.estimator(m).coefs_ for m in range(3)], fits.n_iter_.copy(), fits.loss_curve_
    return seq, (clf.coefs_, clf.n_iter_, clf.loss_, clf.history_), stack


def _equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(u, v) for u, v in zip(a, b, strict=True))
    if isinstance(a, str):
        return a == b
    return np.array_equal(a, b, equal_nan=True)


def test_the_callers_fall_back_to_the_same_results(monkeypatch):
    native = _callers()
    assert "StopIteration" in native[0][2] and len(native[0][1]["loss"]) == 6
    monkeypatch.setattr(lbfgs, "native_available", lambda: False)
    runs = []
    minimize = scipy.optimize.minimize
    monkeypatch.setattr(
        scipy.optimize, "minimize", lambda *a, **k: runs.append(1) or minimize(*a, **k)
    )
    alone = _callers()
    assert len(runs) == 5  # one scipy.optimize.minimize per network: 1 + 1 + 3 members
    for a, b, name in zip(native, alone, ["Sequential.fit", "MLPClassifier", "stack"], strict=True):
        assert _equal(a, b), name
