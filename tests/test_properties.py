"""Property-based tests (hypothesis) over random small architectures and data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning

from mlplab import (
    ACTIVATIONS,
    LOSSES,
    ActivationLayer,
    BatchNorm,
    Dense,
    MLPClassifier,
    MLPRegressor,
    PReLU,
    Sequential,
    get_activation,
    get_loss,
)

# step has no gradient and softmax is not elementwise: both are excluded from hidden layers
HIDDEN_ACTIVATIONS = sorted(set(ACTIVATIONS) - {"step", "softmax"})

SETTINGS = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
#: the primitives (softmax, sigmoid, the losses): the profile's count, 200 in CI and 500
#: nightly (tests/conftest.py)
PRIMITIVES = settings(deadline=None, database=None)

layer_specs = st.lists(
    st.tuples(st.integers(1, 5), st.sampled_from(HIDDEN_ACTIVATIONS)), min_size=1, max_size=3
)


@st.composite
def problems(draw, dtype="float64"):
    """(net, X): a random 1-3 layer Dense network and a random batch of 1-20 samples."""
    specs = draw(layer_specs)
    n_inputs = draw(st.integers(1, 5))
    n = draw(st.integers(1, 20))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 3.0]))
    net = Sequential([Dense(u, a) for u, a in specs], n_inputs=n_inputs, seed=seed, dtype=dtype)
    X = scale * np.random.default_rng(seed).standard_normal((n, n_inputs))
    return net, X


def _targets(net, n, seed):
    return np.random.default_rng(seed + 1).standard_normal((n, net.n_outputs))


@SETTINGS
@given(problems())
def test_forward_shape_and_dtype_float64(problem):
    net, X = problem
    out = net.forward(X)
    assert out.shape == (X.shape[0], net.layers[-1].units)
    assert out.dtype == np.float64
    assert np.isfinite(out).all()
    assert net.theta.dtype == net.grad.dtype == np.float64


@SETTINGS
@given(problems(dtype="float32"), st.sampled_from([np.float32, np.float64]))
def test_float32_end_to_end(problem, x_dtype):
    net, X = problem
    X = X.astype(x_dtype)
    out = net.forward(X)
    assert out.shape == (X.shape[0], net.n_outputs)
    assert out.dtype == np.float32
    for layer in net.layers:  # every intermediate value too
        assert layer.z.dtype == np.float32, layer
        assert layer.a.dtype == np.float32, layer
    Y = _targets(net, X.shape[0], 0).astype(x_dtype)
    loss, g = net.loss_and_grad(X, Y)
    assert np.isfinite(loss)
    assert net.theta.dtype == np.float32
    assert g.dtype == np.float32 and g.shape == net.theta.shape
    assert np.isfinite(g).all()
    # float32 forward agrees with a float64 copy of the same weights
    ref = Sequential.from_config({**net.get_config(), "dtype": "float64"})
    ref.theta[...] = net.theta
    np.testing.assert_allclose(out, ref.forward(X.astype(np.float64)), rtol=1e-3, atol=1e-4)


@SETTINGS
@given(problems(), st.integers(0, 1000))
def test_grad_has_theta_shape_dtype_and_is_finite(problem, seed):
    net, X = problem
    Y = _targets(net, X.shape[0], seed)
    theta0 = net.theta.copy()
    loss, g = net.loss_and_grad(X, Y)
    assert g.shape == net.theta.shape and g.dtype == net.theta.dtype
    assert g is net.grad
    assert np.isfinite(g).all() and np.isfinite(loss) and loss >= 0
    np.testing.assert_array_equal(net.theta, theta0)  # loss_and_grad does not update


@SETTINGS
@given(problems())
def test_batch_invariance(problem):
    net, X = problem
    out = net.forward(X)
    for i in range(X.shape[0]):
        single = net.forward(X[i : i + 1])
        assert single.shape == (1, net.n_outputs)
        np.testing.assert_allclose(single[0], out[i], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False))
def test_permutation_equivariance(problem, rnd):
    net, X = problem
    perm = list(range(X.shape[0]))
    rnd.shuffle(perm)
    perm = np.array(perm)
    np.testing.assert_allclose(net.forward(X[perm]), net.forward(X)[perm], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(problems(), st.randoms(use_true_random=False), st.floats(0.05, 0.6))
def test_batch_and_permutation_invariance_with_batchnorm_and_prelu(problem, rnd, alpha):
    """Inference (BatchNorm on its running statistics, PReLU, a separate activation layer):
    each row's output does not depend on the other rows or on their order (atol 1e-9)."""
    net, X = problem
    specs = [layer.config() for layer in net.layers]
    layers = [Dense(specs[0]["units"]), BatchNorm(), PReLU(alpha), ActivationLayer("tanh")]
    layers += [Dense(c["units"], c["activation"]) for c in specs[1:]]
    net = Sequential(layers, n_inputs=net.n_inputs, seed=0)
    net.fit(X, _targets(net, X.shape[0], 0), epochs=2, batch_size=4, diagnostics=False)
    out = net.predict(X)
    for i in range(X.shape[0]):
        np.testing.assert_allclose(net.predict(X[i : i + 1])[0], out[i], rtol=0, atol=1e-9)
    perm = list(range(X.shape[0]))
    rnd.shuffle(perm)
    np.testing.assert_allclose(net.predict(X[perm]), out[perm], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------

logit_rows = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=8),
    elements=st.floats(-700, 700, allow_nan=False),
)


@PRIMITIVES
@given(logit_rows, st.floats(-1000, 1000))
def test_softmax_rows_sum_to_one_and_shift_invariant(z, c):
    softmax = get_activation("softmax")
    p = softmax.forward(z)
    assert p.shape == z.shape
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    shifts = c * np.linspace(-1, 1, z.shape[0])[:, None]  # a different constant per row
    np.testing.assert_allclose(softmax.forward(z + shifts), p, rtol=0, atol=1e-12)


@SETTINGS
@given(problems(), st.integers(2, 5))
def test_softmax_output_layer_rows_sum_to_one(problem, k):
    net, X = problem
    specs = [layer.config() for layer in net.layers]
    net = Sequential(
        [Dense(c["units"], c["activation"]) for c in specs] + [Dense(k, "softmax")],
        n_inputs=net.n_inputs,
        seed=0,
    )
    out = net.forward(X)
    assert out.shape == (X.shape[0], k)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@PRIMITIVES
@given(hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(-800, 800)))
def test_sigmoid_symmetry(x):
    for name in ("logistic", "sigmoid"):
        f = get_activation(name)
        np.testing.assert_allclose(f.forward(-x), 1.0 - f.forward(x), rtol=0, atol=1e-15)
    s = get_activation("logistic").forward(x)
    assert np.all((s >= 0) & (s <= 1))


# --------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------


@st.composite
def loss_cases(draw):
    name = draw(st.sampled_from(sorted(LOSSES)))
    n = draw(st.integers(1, 10))
    k = draw(st.integers(2, 4)) if name == "cce" else draw(st.integers(1, 3))
    scale = draw(st.sampled_from([1e-3, 1.0, 30.0, 1e3]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    out = scale * rng.standard_normal((n, k))
    if name == "mse":
        y = rng.standard_normal((n, k))
    elif name == "bce":
        y = rng.choice([0.0, 1.0, rng.uniform()], size=(n, k))  # labels and probabilities
    else:
        y = rng.integers(0, k, n)  # integer labels
    return name, out, y


def test_loss_cases_cover_the_table():
    assert set(LOSSES) == {"mse", "bce", "cce"}


@PRIMITIVES
@given(loss_cases())
def test_losses_are_non_negative(case):
    name, out, y = case
    loss = get_loss(name)
    Y = loss.prepare_targets(y, out.shape[1], np.dtype(np.float64))
    value = loss.value(out, Y)
    assert np.isfinite(value)
    assert value >= 0
    # the same through a network whose last layer outputs `out` (identity weights)
    k = out.shape[1]
    last = {"mse": "identity", "bce": "logistic", "cce": "softmax"}[name]
    net = Sequential([Dense(k, last)], n_inputs=k, seed=0)
    net.layers[0].W[...] = np.eye(k)
    net.layers[0].b[...] = 0
    net_value = net.loss(out, y, loss=name)
    assert net_value >= 0
    assert net_value == pytest.approx(value, rel=1e-12, abs=1e-300)


@PRIMITIVES
@given(st.floats(40, 1e6), st.sampled_from(["bce", "cce"]))
def test_confident_wrong_logit_gives_finite_loss_equal_to_the_logit(m, name):
    if name == "bce":
        X, y = np.array([[1.0], [-1.0]]), np.array([0, 1])  # z = +m for label 0, -m for 1
        net = Sequential([Dense(1, "logistic")], n_inputs=1, seed=0)
        net.layers[0].W[...] = m
    else:
        X, y = np.array([[1.0]]), np.array([1])  # z = (m, 0), true class 1
        net = Sequential([Dense(2, "softmax")], n_inputs=1, seed=0)
        net.layers[0].W[...] = [[m, 0.0]]
    net.layers[0].b[...] = 0
    value = net.loss(X, y, loss=name)
    assert np.isfinite(value)
    assert value == pytest.approx(m, rel=1e-12)
    loss, g = net.loss_and_grad(X, y, loss=name)
    assert loss == pytest.approx(m, rel=1e-12)
    assert np.isfinite(g).all()
    # the gradient saturates at magnitude 1 per sample instead of vanishing or exploding
    assert 0.5 < np.abs(g).max() <= 1.0 + 1e-12


def test_logit_1e4_on_the_wrong_class():
    for name, z, y in [
        ("bce", [[1e4]], [[0.0]]),
        ("bce", [[-1e4]], [[1.0]]),
        ("cce", [[1e4, 0.0, 0.0]], [[0.0, 1.0, 0.0]]),
    ]:
        value = get_loss(name).value(np.array(z), np.array(y))
        assert np.isfinite(value)
        assert value == pytest.approx(1e4, rel=1e-12)


# --------------------------------------------------------------------------
# no fit ends non-finite (RELIABILITY §2 item 9, #13 item 4)
# --------------------------------------------------------------------------

NON_FINITE = "Solver produced non-finite parameter weights. The input data may contain large"

estimator_configs = st.fixed_dictionaries(
    {
        "classifier": st.booleans(),
        "solver": st.sampled_from(["sgd", "adam", "lbfgs"]),
        "activation": st.sampled_from(["relu", "tanh", "logistic", "identity"]),
        "hidden_layer_sizes": st.lists(st.integers(1, 6), min_size=1, max_size=2).map(tuple),
        "learning_rate_init": st.sampled_from([1e-3, 0.1, 10.0, 1e3, 1e300]),
        "batch_size": st.sampled_from(["auto", 1, 7]),
        "max_iter": st.integers(1, 8),
        "alpha": st.sampled_from([0.0, 1e-4, 10.0]),
        "momentum": st.sampled_from([0.0, 0.9]),
        "early_stopping": st.booleans(),
        "random_state": st.integers(0, 2**16),
    }
)


_BASE = dict(
    classifier=False, activation="relu", hidden_layer_sizes=(6,), batch_size=7, max_iter=1,
    alpha=1e-4, momentum=0.9, early_stopping=False, random_state=0,
)  # fmt: skip


def _fit_or_error(config, scale):
    """Fit on 40 samples whose X is scaled by ``scale``; return the estimator, or None
    when it raised scikit-learn's non-finite error."""
    config = dict(config)
    Est = MLPClassifier if config.pop("classifier") else MLPRegressor
    rs = np.random.RandomState(config["random_state"])
    X = rs.standard_normal((40, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    if Est is MLPClassifier:
        y = (y > 0).astype(int)
    est = Est(**config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # early stopping on a diverging run warns that it kept the best weights
        warnings.filterwarnings("ignore", "Training diverged", RuntimeWarning)
        try:
            est.fit(scale * X, y)
        except ValueError as exc:
            assert str(exc).startswith(NON_FINITE), str(exc)
            return None, X
    return est, X


@settings(max_examples=100, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(estimator_configs, st.sampled_from([1e-6, 1.0, 1e6]))
@example(  # #13 item 4's reproducer: one update of 1e300, finite weights, inf outputs
    {**_BASE, "solver": "sgd", "learning_rate_init": 1e300, "batch_size": "auto"}, 1.0
)
@example({**_BASE, "solver": "adam", "learning_rate_init": 0.1}, 1e6)
@example({**_BASE, "solver": "lbfgs", "classifier": True}, 1e6)
@example({**_BASE, "solver": "sgd", "learning_rate_init": 0.1}, 1e-6)
def test_no_fit_ends_with_non_finite_weights_or_predictions(config, scale):
    """Random estimator configurations (rates up to 1e300, X scaled by 1e-6..1e6): a fit
    either raises scikit-learn's "non-finite parameter weights" ValueError, or every coefs_
    and intercepts_ entry is finite and so is every prediction on the training data.
    No numpy RuntimeWarning on the way (the suite's filterwarnings=error)."""
    est, X = _fit_or_error(config, scale)
    if est is None:
        return
    assert all(np.isfinite(w).all() for w in est.coefs_ + est.intercepts_)
    out = est.predict_proba(scale * X) if hasattr(est, "classes_") else est.predict(scale * X)
    assert np.isfinite(out).all()


@st.composite
def scaled_problems(draw):
    """(net, X, Y, loss): a random Dense net ending in logits or an activation, weights and
    X scaled from 1 up to 1e300, targets for mse, bce or cce."""
    specs = draw(layer_specs)
    loss = draw(st.sampled_from(["mse", "bce", "cce"]))
    k = draw(st.integers(1, 3))
    last = "identity" if loss != "mse" else draw(st.sampled_from(HIDDEN_ACTIVATIONS))
    seed = draw(st.integers(0, 2**32 - 1))
    n_inputs, n = draw(st.integers(1, 4)), draw(st.integers(1, 12))
    layers = [Dense(u, a) for u, a in specs] + [Dense(k, last)]
    net = Sequential(layers, n_inputs=n_inputs, seed=seed)
    net.theta *= draw(st.sampled_from([1.0, 1e20, 1e60, 1e100, 1e150, 1e300]))
    rng = np.random.default_rng(seed)
    X = draw(st.sampled_from([1.0, 1e50, 1e150, 1e300])) * rng.standard_normal((n, n_inputs))
    if loss == "mse":
        Y = draw(st.sampled_from([1.0, 1e100, 1e300])) * rng.standard_normal((n, k))
    elif loss == "bce":
        Y = (rng.random((n, k)) > 0.5).astype(float)
    else:
        Y = np.eye(k)[rng.integers(0, k, n)]
    return net, X, Y, get_loss(loss)


@SETTINGS
@given(scaled_problems())
def test_loss_surely_finite_is_sound(problem):
    """When the norms say the loss is surely finite, computing it overflows nowhere (numpy's
    floating-point errors raised) and gives a finite value: the end-of-fit check may skip
    its forward pass. (When unsure, the check computes the loss.)"""
    net, X, Y, loss = problem
    fused = net.output_fusion(loss)
    if not net.loss_surely_finite(X, Y, None, fused):
        return
    with np.errstate(all="raise", under="ignore"):
        value = net.loss_unchecked(X, Y, loss, None)
    assert np.isfinite(value)


def test_loss_surely_finite_holds_for_a_trained_size_network():
    """The usual case takes the shortcut: unit-scale data, weights of a trained size."""
    net = Sequential([Dense(100, "relu"), Dense(100, "tanh"), Dense(3)], n_inputs=20, seed=0)
    X = np.random.default_rng(0).standard_normal((500, 20))
    assert net.loss_surely_finite(X, np.ones((500, 3)), None, True)
    net.theta *= 1e200  # sizes that may overflow: unsure, so the loss is computed
    assert not net.loss_surely_finite(X, np.ones((500, 3)), None, True)


@pytest.mark.parametrize("w_scale", [1.0, 1e100, 1e200])
@pytest.mark.parametrize("x_scale", [1.0, 1e150, 1e300])
def test_batchnorm_output_bound_is_sound(w_scale, x_scale):
    """BatchNorm in inference mode bounds its output from gamma, beta and the running
    statistics: sound (no overflow when it says finite) and used at trained sizes."""
    rng = np.random.default_rng(0)
    net = Sequential([Dense(4), BatchNorm(), ActivationLayer("relu"), Dense(2)], n_inputs=3)
    net.fit(rng.standard_normal((20, 3)), rng.standard_normal((20, 2)), epochs=2)  # statistics
    net.theta *= w_scale
    X = x_scale * rng.standard_normal((7, 3))
    Y = rng.standard_normal((7, 2))
    sure = net.loss_surely_finite(X, Y)
    if w_scale == 1.0 and x_scale == 1.0:
        assert sure
    if sure:
        with np.errstate(all="raise", under="ignore"):
            value = net.loss_unchecked(X, Y, get_loss("mse"), None)
        assert np.isfinite(value)
