"""Optimizers, learning-rate schedules and gradient clipping.

The expected values are computed in this file from the update rules written
out in plain numpy (the formulas of each optimizer's docstring), never from
the engine itself.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

import mlplab
from mlplab import OPTIMIZERS, Dense, Sequential, clip_grad_norm_, clip_grad_value_
from mlplab.optimizers import SCHEDULES, get_optimizer, get_schedule

# --------------------------------------------------------------------------
# reference update rules (independent plain-numpy re-implementations)
# --------------------------------------------------------------------------


def ref_sgd(theta, grads, lr):
    theta = theta.copy()
    out = []
    for g in grads:
        theta = theta - lr * g
        out.append(theta.copy())
    return out


def ref_momentum(theta, grads, lr, mu, nesterov=False):
    # scikit-learn's SGDOptimizer: v <- mu v - lr g; theta <- theta + v
    # (nesterov: theta <- theta + mu v - lr g, with the *new* v)
    theta = theta.copy()
    v = np.zeros_like(theta)
    out = []
    for g in grads:
        v = mu * v - lr * g
        theta = theta + (mu * v - lr * g if nesterov else v)
        out.append(theta.copy())
    return out


def ref_adagrad(theta, grads, lr, eps):
    theta = theta.copy()
    G = np.zeros_like(theta)
    out = []
    for g in grads:
        G = G + g**2
        theta = theta - lr * g / (np.sqrt(G) + eps)
        out.append(theta.copy())
    return out


def ref_rmsprop(theta, grads, lr, rho, eps):
    theta = theta.copy()
    s = np.zeros_like(theta)
    out = []
    for g in grads:
        s = rho * s + (1 - rho) * g**2
        theta = theta - lr * g / (np.sqrt(s) + eps)
        out.append(theta.copy())
    return out


def ref_adam(theta, grads, lr, b1, b2, eps):
    theta = theta.copy()
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    out = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        theta = theta - lr_t * m / (np.sqrt(v) + eps)
        out.append(theta.copy())
    return out


# (id, spec for get_optimizer, reference(theta, grads) -> [theta after step 1, 2, 3])
CASES = [
    ("sgd", {"name": "sgd", "learning_rate": 0.1}, lambda th, gs: ref_sgd(th, gs, 0.1)),
    (
        "momentum",
        {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
        lambda th, gs: ref_momentum(th, gs, 0.1, 0.9),
    ),
    (
        "nesterov",
        {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
        lambda th, gs: ref_momentum(th, gs, 0.1, 0.9, nesterov=True),
    ),
    (
        "adagrad",
        {"name": "adagrad", "learning_rate": 0.5, "epsilon": 1e-10},
        lambda th, gs: ref_adagrad(th, gs, 0.5, 1e-10),
    ),
    (
        "rmsprop",
        {"name": "rmsprop", "learning_rate": 0.01, "rho": 0.9, "epsilon": 1e-8},
        lambda th, gs: ref_rmsprop(th, gs, 0.01, 0.9, 1e-8),
    ),
    (
        "adam",
        {"name": "adam", "learning_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8},
        lambda th, gs: ref_adam(th, gs, 0.01, 0.9, 0.999, 1e-8),
    ),
    (
        "adam_small_v",  # eps matters: it is added to sqrt(v), not to sqrt(v_hat)
        {"name": "adam", "learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 1e-3},
        lambda th, gs: ref_adam(th, gs, 0.1, 0.5, 0.75, 1e-3),
    ),
]
CASE_IDS = [c[0] for c in CASES]

THETA0 = np.array([0.5, -1.25, 2.0, 0.0, 3.0])
GRADS = [
    np.array([0.3, -0.2, 1.5, -0.01, 0.0]),
    np.array([-0.1, -0.4, 0.7, 0.02, 0.0]),
    np.array([0.25, 0.1, -2.0, 0.03, 0.0]),
]


def test_cases_cover_the_optimizer_table():
    covered = {spec["name"] for _, spec, _ in CASES}
    assert covered == set(OPTIMIZERS), "a new optimizer needs a reference update rule here"


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_three_steps_match_the_formula(case_id, spec, ref):
    opt = get_optimizer(dict(spec))
    theta = THETA0.copy()
    expected = ref(THETA0, GRADS)
    for k, g in enumerate(GRADS):
        g_copy = g.copy()
        opt.step(theta, g_copy)
        np.testing.assert_allclose(
            theta, expected[k], rtol=1e-12, atol=1e-15, err_msg=f"step {k + 1}"
        )
        np.testing.assert_array_equal(g_copy, g, err_msg="step must not modify grad")
    # the last coordinate has zero gradient: only momentum methods can move it, and they
    # cannot either because its velocity stays 0
    assert theta[-1] == THETA0[-1]


def test_momentum_and_nesterov_by_hand():
    # theta = 1, g = 1 each step, lr = 0.1, mu = 0.9, worked out on paper:
    # momentum: v = -0.1, -0.19, -0.271;  theta = 0.9, 0.71, 0.439
    # nesterov: theta += 0.9 v - 0.1 -> 0.81, 0.539, 0.1951
    for spec, expected in [
        ({"name": "momentum", "learning_rate": 0.1}, [0.9, 0.71, 0.439]),
        ({"name": "nesterov", "learning_rate": 0.1}, [0.81, 0.539, 0.1951]),
    ]:
        opt = get_optimizer(spec)
        theta = np.array([1.0])
        for want in expected:
            opt.step(theta, np.array([1.0]))
            assert theta[0] == pytest.approx(want, rel=1e-12)


def test_adam_first_step_is_lr_times_sign():
    # t = 1: m = (1-b1) g, v = (1-b2) g^2, lr_1 = lr sqrt(1-b2)/(1-b1)
    # -> update = lr g / (|g| + eps/sqrt(1-b2)) ~= lr sign(g) for |g| >> eps
    opt = mlplab.optimizers.Adam(learning_rate=0.01)
    theta = np.zeros(4)
    opt.step(theta, np.array([3.0, -0.5, 0.1, -200.0]))
    np.testing.assert_allclose(theta, [-0.01, 0.01, -0.01, 0.01], rtol=1e-5)
    # where |g| is comparable to eps/sqrt(1-b2) the step shrinks:
    # g = 1e-3 -> 0.01 * 1e-3 / (1e-3 + 1e-8/sqrt(0.001))
    opt = mlplab.optimizers.Adam(learning_rate=0.01)
    theta = np.zeros(1)
    opt.step(theta, np.array([1e-3]))
    assert theta[0] == pytest.approx(-0.01 * 1e-3 / (1e-3 + 1e-8 / math.sqrt(0.001)), rel=1e-9)


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_step_is_in_place_on_theta(case_id, spec, ref):
    opt = get_optimizer(dict(spec))
    base = np.full(9, 7.0)
    theta = base[2:7]  # a view, like a layer's W inside net.theta
    theta[...] = THETA0
    before_ptr = theta.__array_interface__["data"][0]
    opt.step(theta, GRADS[0].copy())
    assert theta.__array_interface__["data"][0] == before_ptr
    assert np.shares_memory(theta, base)
    np.testing.assert_allclose(base[2:7], ref(THETA0, GRADS[:1])[0], rtol=1e-12, atol=1e-15)
    assert base[0] == base[1] == base[7] == base[8] == 7.0  # nothing outside the view moved


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_float32_theta_stays_float32(case_id, spec, ref):
    opt = get_optimizer(dict(spec))
    theta = THETA0.astype(np.float32)
    for g in GRADS:
        opt.step(theta, g.astype(np.float32))
    assert theta.dtype == np.float32
    np.testing.assert_allclose(theta, ref(THETA0, GRADS)[-1], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_step_count_t(case_id, spec, ref):
    """``t`` is "the number of steps taken" (Optimizer.__init__)."""
    opt = get_optimizer(dict(spec))
    assert opt.t == 0
    theta = THETA0.copy()
    for k, g in enumerate(GRADS, start=1):
        opt.step(theta, g)
        assert opt.t == k, f"after {k} steps t == {opt.t}"
    assert int(opt.state_dict()["t"]) == len(GRADS)


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_state_dict_resume_gives_identical_steps(case_id, spec, ref):
    a = get_optimizer(dict(spec))
    theta_a = THETA0.copy()
    for g in GRADS[:2]:
        a.step(theta_a, g)
    b = get_optimizer(dict(spec))  # a fresh optimizer, e.g. after loading a checkpoint
    b.load_state_dict(copy.deepcopy(a.state_dict()))
    theta_b = theta_a.copy()
    rng = np.random.default_rng(3)
    for _ in range(3):
        g = rng.standard_normal(THETA0.shape)
        a.step(theta_a, g)
        b.step(theta_b, g)
        np.testing.assert_array_equal(theta_b, theta_a)
    assert b.t == a.t
    # and a fresh optimizer *without* the state would have stepped differently
    # (except plain SGD, which has no state)
    if a.state:
        c = get_optimizer(dict(spec))
        theta_c = theta_a.copy()
        theta_a2 = theta_a.copy()
        g = rng.standard_normal(THETA0.shape)
        c.step(theta_c, g)
        a.step(theta_a2, g)
        assert not np.array_equal(theta_c, theta_a2)


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_exact_state_dict_restores_the_state_bit_for_bit(case_id, spec, ref):
    """``state_dict(exact=True)`` (what model files store) gives back the very arrays the
    optimizer keeps: Adam's rescaled moments do not survive m (1 - b1) / (1 - b1)."""
    rng = np.random.default_rng(0)
    a = get_optimizer(dict(spec))
    theta = rng.standard_normal(2000)
    for _ in range(3):
        a.step(theta, rng.standard_normal(theta.shape))
    b = get_optimizer(dict(spec))
    b.load_state_dict(copy.deepcopy(a.state_dict(exact=True)))
    assert b.t == a.t and set(b.state) == set(a.state)
    for k in a.state:
        assert a.state[k].tobytes() == b.state[k].tobytes(), k
    # the default (textbook) form still loads, to within rounding
    c = get_optimizer(dict(spec))
    c.load_state_dict(a.state_dict())
    for k in a.state:
        np.testing.assert_allclose(c.state[k], a.state[k], rtol=1e-15, atol=0)


@pytest.mark.parametrize(("case_id", "spec", "ref"), CASES, ids=CASE_IDS)
def test_state_dict_is_a_snapshot(case_id, spec, ref):
    """A state_dict taken now must still resume from *now* after further steps
    (like ``Sequential.state_dict``, which returns copies)."""
    a = get_optimizer(dict(spec))
    theta = THETA0.copy()
    a.step(theta, GRADS[0])
    snap = a.state_dict()
    frozen = copy.deepcopy(snap)
    a.step(theta, GRADS[1])
    a.step(theta, GRADS[2])
    assert set(snap) == set(frozen)
    for k in frozen:
        np.testing.assert_array_equal(snap[k], frozen[k], err_msg=f"state_dict()[{k!r}] changed")


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


def test_get_optimizer_unknown_name_lists_the_names():
    with pytest.raises(ValueError) as exc:
        get_optimizer("adamw_nope")
    msg = str(exc.value)
    assert "adamw_nope" in msg
    for name in OPTIMIZERS:
        assert repr(name) in msg


def test_get_optimizer_unknown_parameter():
    with pytest.raises(ValueError, match="optimizer") as exc:
        get_optimizer({"name": "adam", "betas": (0.9, 0.99)})
    assert "betas" in str(exc.value)


@pytest.mark.parametrize(
    ("spec", "arg", "value"),
    [
        ({"name": "sgd", "learning_rate": -1.0}, "learning_rate", "-1"),
        ({"name": "adam", "learning_rate": 0.0}, "learning_rate", "0"),
        ({"name": "adam", "beta_1": 1.0}, "beta_1", "1"),
        ({"name": "adam", "beta_2": 1.5}, "beta_2", "1.5"),
        ({"name": "adam", "epsilon": 0.0}, "epsilon", "0"),
        ({"name": "sgd", "momentum": -1.0}, "momentum", "-1"),
        ({"name": "sgd", "momentum": 1.5}, "momentum", "1.5"),
        ({"name": "rmsprop", "rho": 1.0}, "rho", "1"),
        ({"name": "adagrad", "epsilon": -1e-8}, "epsilon", "-1e-08"),
        ({"name": "sgd", "learning_rate": float("nan")}, "learning_rate", "nan"),
    ],
)
def test_invalid_hyperparameters_name_the_argument(spec, arg, value):
    with pytest.raises(ValueError) as exc:
        get_optimizer(dict(spec))
    msg = str(exc.value)
    assert arg in msg and value in msg, msg


@pytest.mark.parametrize(
    ("cls", "kwargs", "arg"),
    [
        (mlplab.optimizers.SGD, {"learning_rate": -1}, "learning_rate"),
        (mlplab.optimizers.Adam, {"beta_1": 1}, "beta_1"),
        (mlplab.optimizers.SGD, {"momentum": -1}, "momentum"),
        (mlplab.optimizers.SGD, {"learning_rate": "0.1"}, "learning_rate"),
        (mlplab.optimizers.SGD, {"momentum": 0.0, "nesterov": True}, "nesterov"),
    ],
)
def test_invalid_hyperparameters_in_constructors(cls, kwargs, arg):
    with pytest.raises((ValueError, TypeError)) as exc:
        cls(**kwargs)
    assert arg in str(exc.value)


def test_fit_rejects_unknown_optimizer_listing_the_names():
    net = Sequential([Dense(1)], n_inputs=1, seed=0)
    with pytest.raises(ValueError) as exc:
        net.fit(np.ones((4, 1)), np.ones(4), optimizer="adamax", epochs=1)
    msg = str(exc.value)
    assert "adamax" in msg and "optimizer" in msg
    for name in [*OPTIMIZERS, "lbfgs"]:
        assert repr(name) in msg


# --------------------------------------------------------------------------
# learning-rate schedules
# --------------------------------------------------------------------------

SCHEDULE_CASES = [
    ("constant", lambda lr0, e: lr0),
    ("invscaling", lambda lr0, e: lr0 / math.sqrt(e + 1)),  # default power_t = 0.5
    ({"name": "invscaling", "power_t": 1.0}, lambda lr0, e: lr0 / (e + 1)),
    ("step", lambda lr0, e: lr0 * 0.5 ** (e // 10)),  # defaults factor 0.5, every 10
    ({"name": "step", "factor": 0.6, "every": 3}, lambda lr0, e: lr0 * 0.6 ** (e // 3)),
]


SCHEDULE_IDS = ["constant", "invscaling", "invscaling_p1", "step", "step_0.6_every3"]


def test_schedule_cases_cover_the_table():
    names = {s if isinstance(s, str) else s["name"] for s, _ in SCHEDULE_CASES}
    assert names == set(SCHEDULES)


@pytest.mark.parametrize(("spec", "formula"), SCHEDULE_CASES, ids=SCHEDULE_IDS)
def test_schedule_values(spec, formula):
    sched = get_schedule(spec)
    for epoch in [0, 1, 2, 3, 9, 10, 11, 25, 99]:
        assert sched(0.2, epoch) == pytest.approx(formula(0.2, epoch), rel=1e-14)


def test_schedule_values_by_hand():
    assert get_schedule("invscaling")(0.1, 3) == pytest.approx(0.05)  # 0.1 / sqrt(4)
    step = get_schedule("step")
    assert step(0.1, 9) == pytest.approx(0.1)
    assert step(0.1, 10) == pytest.approx(0.05)
    assert step(0.1, 25) == pytest.approx(0.025)
    assert get_schedule(None)(0.3, 50) == 0.3


def test_unknown_schedule_lists_the_names():
    with pytest.raises(ValueError) as exc:
        get_schedule("cosine")
    for name in SCHEDULES:
        assert repr(name) in str(exc.value)
    with pytest.raises(ValueError, match="factor"):
        get_schedule({"name": "step", "factor": 2.0})


class _LrRecorder(mlplab.Callback):
    def __init__(self):
        self.lrs: list[float] = []
        self.opt_lrs: list[float] = []
        self.applied: list[float] = []  # lr recovered from each SGD update

    def on_epoch_begin(self, state, net):
        self.lrs.append(state.learning_rate)
        self.opt_lrs.append(net.optimizer.learning_rate)

    def on_gradients(self, state, net):
        self._theta = net.theta.copy()
        self._grad = net.grad.copy()

    def on_batch_end(self, state, net):
        # plain SGD: theta_new = theta - lr g  ->  lr = -(delta . g) / (g . g)
        delta = net.theta - self._theta
        self.applied.append(-float(delta @ self._grad) / float(self._grad @ self._grad))
        np.testing.assert_allclose(delta, -self.applied[-1] * self._grad, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(("spec", "formula"), SCHEDULE_CASES, ids=SCHEDULE_IDS)
def test_fit_applies_the_schedule(spec, formula, rng):
    X = rng.standard_normal((12, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    net = Sequential([Dense(1)], n_inputs=2, seed=0)
    rec = _LrRecorder()
    epochs = 23
    net.fit(
        X,
        y,
        optimizer="sgd",
        learning_rate=0.05,
        epochs=epochs,
        batch_size=None,
        lr_schedule=spec,
        callbacks=[rec],
    )
    expected = [formula(0.05, e) for e in range(epochs)]
    np.testing.assert_allclose(rec.lrs, expected, rtol=1e-14)
    np.testing.assert_allclose(rec.opt_lrs, expected, rtol=1e-14)
    np.testing.assert_allclose(rec.applied, expected, rtol=1e-8)


# --------------------------------------------------------------------------
# gradient clipping
# --------------------------------------------------------------------------


def test_clip_grad_norm_by_hand_in_place():
    base = np.array([9.0, 3.0, 4.0, 9.0])
    g = base[1:3]  # a view: the clip must write through it
    norm = clip_grad_norm_(g, 1.0)
    assert norm == pytest.approx(5.0, rel=1e-15)  # pre-clip norm
    np.testing.assert_allclose(base, [9.0, 0.6, 0.8, 9.0], rtol=1e-15)


def test_clip_grad_norm_below_threshold_is_untouched(rng):
    g = rng.standard_normal(20)
    g0 = g.copy()
    norm = clip_grad_norm_(g, 1e3)
    assert norm == pytest.approx(np.linalg.norm(g0), rel=1e-13)
    np.testing.assert_array_equal(g, g0)
    assert clip_grad_norm_(g, None) == pytest.approx(np.linalg.norm(g0), rel=1e-13)
    np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("max_norm", [1e-6, 0.3, 2.0])
def test_clip_grad_norm_keeps_direction(max_norm, rng):
    g = 10 * rng.standard_normal(50)
    g0 = g.copy()
    norm = clip_grad_norm_(g, max_norm)
    assert norm == pytest.approx(np.linalg.norm(g0), rel=1e-13)
    assert np.linalg.norm(g) == pytest.approx(max_norm, rel=1e-12)
    np.testing.assert_allclose(
        g / np.linalg.norm(g), g0 / np.linalg.norm(g0), rtol=1e-12, atol=1e-15
    )


# numpy's own floating-point warnings (not the engine's messages)
NUMPY_FP_WARNING = r"(overflow|invalid value|divide by zero|underflow) encountered"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.filterwarnings(f"ignore:{NUMPY_FP_WARNING}:RuntimeWarning")
def test_clip_grad_norm_huge_entries_do_not_overflow(dtype):
    """The values; whether numpy warns on the way is tested separately below."""
    big = 1e200 if dtype == np.float64 else 1e30  # squares overflow in both precisions
    g = np.array([1.0, -1.0, 3.0, 0.0], dtype=dtype) * dtype(big)
    expected_norm = math.hypot(*[float(x) for x in g])  # hypot rescales internally
    norm = clip_grad_norm_(g, 1.0)
    assert math.isfinite(norm)
    assert norm == pytest.approx(expected_norm, rel=1e-6)
    assert np.isfinite(g).all() and g.dtype == dtype
    expected = np.array([1.0, -1.0, 3.0, 0.0]) / math.sqrt(11)
    np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-7)


def test_clip_grad_value_by_hand_in_place():
    base = np.array([0.0, -5.0, 0.5, 3.0, 0.0])
    g = base[1:4]
    norm = clip_grad_value_(g, 1.0)
    assert norm == pytest.approx(math.sqrt(25 + 0.25 + 9), rel=1e-15)
    np.testing.assert_array_equal(base, [0.0, -1.0, 0.5, 1.0, 0.0])


@pytest.mark.filterwarnings(f"ignore:{NUMPY_FP_WARNING}:RuntimeWarning")
def test_clip_grad_value_huge_entries():
    g = np.array([1e200, -3e200, 0.25])
    norm = clip_grad_value_(g, 2.0)
    assert math.isfinite(norm)
    assert norm == pytest.approx(math.hypot(1e200, 3e200), rel=1e-12)
    np.testing.assert_array_equal(g, [2.0, -2.0, 0.25])


@pytest.mark.parametrize("clip", [clip_grad_norm_, clip_grad_value_])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clipping_huge_entries_emits_no_numpy_warning(clip, dtype):
    """global_norm deliberately handles the overflow of the sum of squares (it
    rescales); the overflow it handles must not leak out as a numpy
    RuntimeWarning (an error under this project's filterwarnings = error)."""
    big = 1e200 if dtype == np.float64 else 1e30
    g = np.array([1.0, -3.0, 0.5], dtype=dtype) * dtype(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = clip(g, 1.0)
    assert math.isfinite(norm)


def test_clip_by_value_then_norm_never_grows_and_never_divides_by_zero():
    from mlplab.clipping import clip_

    g = np.array([3.0, -4.0])  # norm 5
    assert clip_(g, 2.0, 0.5) == pytest.approx(5.0)  # returns the pre-clip norm
    np.testing.assert_array_equal(g, [0.5, -0.5])  # value clip left norm 0.71 <= 2: no rescale
    g = np.array([3.0, -4.0])
    clip_(g, 1.0, 3.5)  # value clip -> [3, -3.5], norm 4.61 > 1: rescaled to norm 1
    assert np.linalg.norm(g) == pytest.approx(1.0, rel=1e-12)
    g = np.array([1.0, -2.0])
    clip_(g, 0.5, 5e-324)  # the clipped squares underflow to 0: no ZeroDivisionError
    assert np.isfinite(g).all() and np.abs(g).max() <= 5e-324


def test_stacked_adam_with_per_member_step_counts_equals_each_member_alone():
    """The member axis: one Adam over (M, P) with a learning rate and a step count per
    member gives each member exactly what its own Adam gives."""
    from mlplab.optimizers import Adam

    rng = np.random.default_rng(7)
    P, pre = 6, (0, 5, 2)
    singles, thetas = [], []
    for m, k in enumerate(pre):  # member m has already taken k steps
        opt = Adam(learning_rate=0.01 * (m + 1))
        theta = rng.normal(size=P)
        for _ in range(k):
            opt.step(theta, rng.normal(size=P))
        singles.append(opt)
        thetas.append(theta.copy())
    stack = Adam(learning_rate=np.array([o.learning_rate for o in singles]))
    stack.state = {s: np.stack([o.state.get(s, np.zeros(P)) for o in singles]) for s in ("m", "v")}
    stack.t = np.array([o.t for o in singles])
    theta_stack = np.stack(thetas)
    for _ in range(4):
        g = rng.normal(size=(3, P))
        stack.step(theta_stack, g)
        for m, opt in enumerate(singles):
            opt.step(thetas[m], g[m].copy())
    for m in range(3):
        assert np.array_equal(theta_stack[m], thetas[m])
    assert stack.t.tolist() == [k + 4 for k in pre]
    stack.select(np.array([True, False, True]))
    assert stack.t.tolist() == [4, 6] and stack.state["m"].shape == (2, P)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "adagrad", "momentum"])
def test_state_follows_another_theta_or_a_loaded_state(name):
    """The state is checked against theta only when theta or the state dict is another
    object than at the last step: another shape starts afresh, a loaded state is used."""
    opt = get_optimizer(name, 0.1)
    g5 = np.linspace(-1.0, 1.0, 5)
    opt.step(np.ones(3), np.ones(3))
    theta = np.ones(5)
    opt.step(theta, g5)  # another shape: fresh state, step count from 0
    assert opt.t == 1 and all(v.shape == (5,) for v in opt.state.values())
    saved = opt.state_dict(exact=True)
    after_one = theta.copy()
    opt.step(theta, g5)
    two = theta.copy()
    opt.load_state_dict(saved)  # back to the state after one step
    theta[...] = after_one
    opt.step(theta, g5)
    np.testing.assert_array_equal(theta, two)
    fresh = get_optimizer(name, 0.1)
    ref = np.ones(5)
    fresh.step(ref, g5)
    fresh.step(ref, g5)
    np.testing.assert_array_equal(theta, ref)
