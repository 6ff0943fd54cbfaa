"""exact=False: the estimators' fast numerics mode (issue 15).

``exact=False`` keeps scikit-learn's algorithms and stopping rules but not its bits: the
logistic through numpy's vectorised exp, stacks computed sample-major, L-BFGS through the
vectorised driver. Tolerances, documented here:

* one activation value: within 4 float64 ulps of ``scipy.special.expit`` (absolute 1e-15
  near 1/2), for every finite z, with no floating-point warning;
* a fast member of a stack against the same fast estimator fitted alone: predictions
  within ``MEMBER_ATOL`` (an lbfgs fast fit is a stack of one; the stack's arithmetic per
  member does not depend on the other members);
* fast against exact on the lecture's tasks: classification accuracy (mean over 10 seeds)
  at least exact's less ``ACC_SLACK``; regression training MSE (mean over 40 seeds) at most
  ``MSE_SLACK`` times exact's. Per seed the two differ: L-BFGS stopped by tol = 1e-4 on the
  gradient ends wherever the path crosses that threshold, and the paths part after a few
  dozen iterations (measured over 120 seeds on 1/x: mean MSE 0.98x exact's, median 1.57x).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV as SkGridSearchCV
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import mlplab
from mlplab import MLPClassifier, MLPRegressor
from mlplab.activations import get_activation
from mlplab.sklearn.batched import fit_many
from mlplab.teaching.datasets import circles, function, logic_gate

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SEEDS = range(10)  # single fits per classification task and mode
REG_SEEDS = range(40)  # regressions: one stack per mode (the mean over 10 seeds swings ~2x)
MEMBER_ATOL = 1e-12  # predictions of order 1: a member is the single fit, computed alike
ACC_SLACK = 0.01  # mean accuracy over the seeds
MSE_SLACK = 1.5


def test_exact_is_a_parameter_clone_and_set_params_keep():
    reg = MLPRegressor()
    assert reg.get_params()["exact"] is True
    fast = MLPRegressor(exact=False)
    assert clone(fast).get_params()["exact"] is False
    assert MLPClassifier().set_params(exact=False).exact is False
    with pytest.raises(TypeError, match="exact"):
        MLPRegressor(exact="no").fit([[0.0], [1.0]], [0.0, 1.0])


def test_fast_logistic_close_to_expit_without_warnings():
    z = np.concatenate([np.linspace(-800, 800, 20001), [-1e300, -1.7e308, 1e300, 1.7e308]])
    exact, fast = get_activation("logistic"), get_activation("logistic", exact=False)
    assert fast.config() == {"name": "logistic", "exact": False}
    assert get_activation(fast.config()) == fast  # a saved network gets the fast form back
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            a, b = fast.forward(z), fast.forward_(z.copy())
    ref = exact.forward(z)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, ref, rtol=4 * np.finfo(float).eps, atol=1e-304)
    assert not np.array_equal(a, ref)  # a different computation, not expit under a new name


def test_save_load_keeps_exact(tmp_path):
    X, y = function("sin", 200)
    reg = MLPRegressor(
        hidden_layer_sizes=(5,), activation="logistic", solver="lbfgs", random_state=0, exact=False
    ).fit(X, y)
    mlplab.save(reg, tmp_path / "m.mlplab")
    back = mlplab.load(tmp_path / "m.mlplab")
    assert back.get_params()["exact"] is False
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_fast_members_equal_single_fast_fits(solver, activation):
    X, y = function("sin", 120)
    est = MLPRegressor(
        hidden_layer_sizes=(6,),
        activation=activation,
        solver=solver,
        max_iter=150,
        exact=False,
        random_state=0,
    )
    with threadpool_limits(1):
        ens = fit_many(est, X, y, random_state=range(5))
        for m, seed in enumerate(range(5)):
            single = clone(est).set_params(random_state=seed).fit(X, y)
            np.testing.assert_allclose(ens.predict(X)[m], single.predict(X), atol=MEMBER_ATOL)


def test_fast_members_differ_from_exact_members():
    """exact=False is really another computation: a stack of both modes is two stacks."""
    X, y = function("sin", 120)
    est = MLPRegressor(
        hidden_layer_sizes=(6,), activation="logistic", solver="lbfgs", max_iter=50, random_state=0
    )
    ens = fit_many(est, X, y, param_list=[{"exact": True}, {"exact": False}])
    single = clone(est).fit(X, y)
    np.testing.assert_array_equal(ens.predict(X)[0], single.predict(X))
    assert not np.array_equal(ens.predict(X)[1], single.predict(X))
    assert ens.estimators_[1].exact is False


def _classification_tasks():
    return {
        "and": (logic_gate("and", 200, seed=0), (2,)),
        "xor": (logic_gate("xor", 200, seed=0), (4,)),
        "circles": (circles(300, seed=0), (8,)),
    }


@pytest.mark.parametrize("task", ["and", "xor", "circles"])
def test_fast_classification_accuracy_equals_exact(task):
    (X, y), hidden = _classification_tasks()[task]
    acc = {True: [], False: []}
    for seed in SEEDS:
        for exact in (True, False):
            clf = MLPClassifier(
                hidden, activation="logistic", solver="lbfgs", random_state=seed, exact=exact
            ).fit(X, y)
            acc[exact].append(clf.score(X, y))
    assert np.mean(acc[False]) >= np.mean(acc[True]) - ACC_SLACK


@pytest.mark.parametrize("name", ["x2", "inv", "sin"])
def test_fast_regression_mse_within_slack_of_exact(name):
    X, y = function(name, 300)
    y = (y - y.mean()) / y.std()
    est = MLPRegressor(hidden_layer_sizes=(10,), activation="logistic", solver="lbfgs")
    mse = {}
    for exact in (True, False):
        ens = fit_many(est.set_params(exact=exact), X, y, random_state=REG_SEEDS)
        mse[exact] = np.mean((ens.predict(X) - y) ** 2, axis=1).mean()
    assert mse[False] <= MSE_SLACK * mse[True]


def test_grid_search_fast_best_model_comparable():
    X, y = function("sin", 300)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    est = MLPRegressor(activation="logistic", solver="lbfgs", convergence_warning=False)
    grid = {"hidden_layer_sizes": [(5,), (10,)], "random_state": [0, 1, 2]}
    test_mse = {}
    for exact in (True, False):
        gs = mlplab.GridSearchCV(
            est.set_params(exact=exact), grid, cv=3, scoring="neg_mean_squared_error"
        ).fit(Xtr, ytr)
        assert gs.best_estimator_.exact is exact
        test_mse[exact] = np.mean((gs.predict(Xte) - yte) ** 2)
    assert test_mse[False] <= MSE_SLACK * test_mse[True]
    # scikit-learn's own GridSearchCV carries the parameter too (it clones)
    sk = SkGridSearchCV(est.set_params(exact=False), {"random_state": [0]}, cv=2).fit(X, y)
    assert sk.best_estimator_.exact is False


@pytest.mark.parametrize("activation", ["logistic", "relu", "identity"])
@pytest.mark.parametrize("big", [1e300, -1e300])
def test_extreme_inputs_give_the_exact_paths_error_not_a_warning(big, activation):
    X, y = function("sin", 60)
    X = X.copy()
    X[3, 0] = big
    outcome = {}
    for exact in (True, False):
        reg = MLPRegressor(
            hidden_layer_sizes=(5,),
            activation=activation,
            solver="lbfgs",
            random_state=0,
            max_iter=30,
            exact=exact,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            try:
                reg.fit(X, y)
                outcome[exact] = ("fitted", np.isfinite(reg.predict(X[:3])).all())
            except ValueError as exc:
                outcome[exact] = ("ValueError", str(exc).split(".")[0])
    assert outcome[False] == outcome[True]
    if activation != "logistic":  # unbounded units: the outputs overflow, scikit-learn's error
        assert outcome[False] == ("ValueError", "Solver produced non-finite parameter weights")


# ------------------------------------------------------- the vectorised L-BFGS driver
def _rosen(X, _idx):
    import scipy.optimize as so

    return np.array([so.rosen(x) for x in X]), np.array([so.rosen_der(x) for x in X])


def test_vectorised_lbfgs_solves_each_member_as_alone_with_scipys_rules():
    from mlplab.training.lbfgs import minimize_lbfgs, minimize_lbfgs_vectorised

    X0 = np.random.RandomState(0).uniform(-2, 2, (5, 4))
    res = minimize_lbfgs_vectorised(_rosen, X0, gtol=1e-6)
    ref = minimize_lbfgs(_rosen, X0, gtol=1e-6)  # scipy's L-BFGS-B per member
    assert (res.status == 0).all() and (ref.status == 0).all()
    np.testing.assert_allclose(res.x, ref.x, atol=1e-4)  # the same minima (one is local)
    np.testing.assert_allclose(res.nit, ref.nit, rtol=0.35)  # about as many iterations
    for m in range(5):  # a member's path does not depend on the others
        alone = minimize_lbfgs_vectorised(_rosen, X0[m : m + 1], gtol=1e-6)
        np.testing.assert_array_equal(alone.x[0], res.x[m])
        assert (alone.nit[0], alone.nfev[0]) == (res.nit[m], res.nfev[m])
    # the stopping rules: max|g| <= gtol (a quadratic bowl stops on it), nit capped by maxiter
    bowl = minimize_lbfgs_vectorised(lambda X, _: ((X**2).sum(1), 2 * X), X0, gtol=1e-3)
    assert all(m == "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL" for m in bowl.message)
    assert (np.abs(bowl.jac).max(axis=1) <= 1e-3).all()
    capped = minimize_lbfgs_vectorised(_rosen, X0, gtol=1e-6, maxiter=7)
    assert (capped.nit == 7).all() and (capped.status == 1).all()
    assert capped.message[0] == "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT"
    few = minimize_lbfgs_vectorised(_rosen, X0, gtol=1e-6, maxfun=5)
    assert (few.status == 1).all() and (few.nfev <= 5 + 21).all()


def test_vectorised_lbfgs_stops_on_the_relative_loss_change_and_on_the_callback():
    from mlplab.training.lbfgs import minimize_lbfgs_vectorised

    X0 = np.random.RandomState(1).uniform(-2, 2, (3, 4))
    loose = minimize_lbfgs_vectorised(_rosen, X0, gtol=0.0, ftol=1e-3)
    assert all(m == "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH" for m in loose.message)
    tight = minimize_lbfgs_vectorised(_rosen, X0, gtol=0.0)
    assert (loose.nit < tight.nit).all()
    halted = minimize_lbfgs_vectorised(_rosen, X0, callback=lambda idx, X, F: idx == 1)
    assert halted.status[1] == 99 and halted.nit[1] == 1 and (halted.status[[0, 2]] == 0).all()
