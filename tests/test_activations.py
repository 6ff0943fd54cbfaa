"""Activation functions: derivatives, kinks, numerical stability, oracles, lookup.

Every elementwise row of ``mlplab.activations.ACTIVATIONS`` is tested automatically
(softmax, whose Jacobian is not diagonal, separately). PyTorch is an optional,
test-only oracle: only the tests that call ``pytest.importorskip("torch")`` need it.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import mlplab
from _gradcheck import RAISE, X_RANGE
from mlplab import activations as acts
from mlplab.activations import ACTIVATIONS, NotDifferentiableError, get_activation

# ----------------------------------------------------------------------------- the table
ELEMENTWISE = sorted(name for name, cls in ACTIVATIONS.items() if cls.elementwise)
NON_ELEMENTWISE = sorted(name for name, cls in ACTIVATIONS.items() if not cls.elementwise)

#: Non-default parameter values, so that parameters are exercised (not only defaults).
EXTRA_PARAMS: dict[str, list[dict]] = {
    "leaky_relu": [{"slope": 0.2}],
    "prelu": [{"alpha": 0.1}],
    "elu": [{"alpha": 0.5}],
    "gelu": [{"approximate": True}],
}


def _specs(names):
    out = []
    for name in names:
        out.append({"name": name})
        out.extend({"name": name, **p} for p in EXTRA_PARAMS.get(name, []))
    return out


def _id(spec: dict) -> str:
    extra = ",".join(f"{k}={v}" for k, v in spec.items() if k != "name")
    return f"{spec['name']}({extra})" if extra else spec["name"]


ELEMENTWISE_SPECS = _specs(ELEMENTWISE)
ALL_SPECS = _specs(sorted(ACTIVATIONS))

#: The documented value f'(0) (the left derivative) at the kink, per activation.
KINK_VALUE = {
    "relu": lambda act: 0.0,
    "leaky_relu": lambda act: act.slope,
    "prelu": lambda act: act.alpha,
    "elu": lambda act: act.alpha,
}


def _central_fd(f, z: np.ndarray) -> np.ndarray:
    """Central differences with the relative step h = 1e-6 * max(1, |z|)."""
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    zp, zm = z + h, z - h
    return (f(zp) - f(zm)) / (zp - zm)  # the representable step, not 2h


# Grid for finite differences: away from the kink at 0 by a margin of 1e-3,
# plus points far out in both tails.
_FAR = np.array([10.0, 20.0, 35.0, 88.8, 100.0, 709.0, 710.0, 1e3, 1e4])
Z_FD = np.concatenate([np.linspace(-6.0, 6.0, 121) + 1e-3, _FAR, -_FAR])

# Grid for numerical stability: every dangerous magnitude of float64.
_BIG64 = np.array(
    [
        1e-300,
        1e-8,
        0.5,
        1.0,
        20.0,
        40.0,
        88.8,
        89.0,
        709.0,
        710.0,
        711.0,
        1e4,
        1e300,
        np.finfo(np.float64).max,
    ]
)
Z_EXTREME64 = np.concatenate([[0.0], _BIG64, -_BIG64])
_BIG32 = np.array(
    [1e-30, 1.0, 20.0, 88.7, 88.8, 89.0, 104.0, 1e4, 1e30, np.finfo(np.float32).max],
    dtype=np.float32,
)
Z_EXTREME32 = np.concatenate([np.zeros(1, np.float32), _BIG32, -_BIG32])


# ------------------------------------------------------------------ derivatives vs FD
@pytest.mark.parametrize("spec", ELEMENTWISE_SPECS, ids=_id)
def test_derivative_matches_central_finite_differences(spec):
    act = get_activation(spec)
    z = Z_FD.copy()
    d = act.derivative(z, act.forward(z))
    fd = _central_fd(act.forward, z)
    # atol: the FD round-off floor eps * |f| / h (e.g. tanh near +-6: f ~ 1, f' ~ 2e-5)
    np.testing.assert_allclose(d, fd, rtol=1e-6, atol=1e-8, err_msg=str(act))


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE_SPECS if s["name"] != "step"], ids=_id)
def test_backward_is_chain_rule_with_derivative(spec, rng):
    act = get_activation(spec)  # (step.backward raises by design: tested below)
    z = rng.standard_normal((5, 4)) * 3.0
    a = act.forward(z)
    da = rng.standard_normal(z.shape)
    fd = _central_fd(act.forward, z)
    np.testing.assert_allclose(act.backward(z, a, da), da * fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    "spec",
    [s for s in ELEMENTWISE_SPECS if s["name"] not in KINK_VALUE and s["name"] != "step"],
    ids=_id,
)
def test_smooth_activations_derivative_at_zero(spec):
    act = get_activation(spec)
    z = np.array([0.0])
    np.testing.assert_allclose(
        act.derivative(z, act.forward(z)), _central_fd(act.forward, z), rtol=1e-6, atol=1e-9
    )


# ---------------------------------------------------------------------------- kinks
@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE_SPECS if s["name"] in KINK_VALUE], ids=_id)
def test_documented_derivative_at_kink(spec):
    act = get_activation(spec)
    expected = KINK_VALUE[act.name](act)
    z = np.zeros(3)
    a = act.forward(z)
    np.testing.assert_array_equal(a, 0.0)
    np.testing.assert_array_equal(act.derivative(z, a), expected)
    np.testing.assert_array_equal(act.backward(z, a, np.full(3, 2.0)), 2.0 * expected)
    # It is the *left* derivative, as documented: (f(0) - f(-h)) / h.
    h = 1e-7
    left = (act.forward(np.array([0.0])) - act.forward(np.array([-h]))) / h
    np.testing.assert_allclose(left, expected, rtol=1e-6, atol=1e-12)


def test_kink_table_covers_every_kinked_activation():
    """relu-like rows in the table need a documented f'(0); a new one must be added above."""
    for name in ELEMENTWISE:
        act = get_activation(name)
        z = np.array([-1e-4, 1e-4])
        d = act.derivative(z, act.forward(z))
        if abs(d[1] - d[0]) > 0.1 and name != "step":
            assert name in KINK_VALUE, f"{name} has a kink at 0 but no documented f'(0) test"


# ------------------------------------------------------------------ numerical stability
@pytest.mark.parametrize("spec", ELEMENTWISE_SPECS, ids=_id)
@pytest.mark.parametrize("z", [Z_EXTREME64, Z_EXTREME32], ids=["float64", "float32"])
def test_no_floating_point_errors_on_extreme_inputs(spec, z):
    act = get_activation(spec)
    z = z.copy()
    with np.errstate(all="raise", under="ignore"):
        a = act.forward(z)
        d = act.derivative(z, a)
        g = None if act.name == "step" else act.backward(z, a, np.ones_like(z))
    assert np.isfinite(a).all(), f"{act}: forward not finite at {z[~np.isfinite(a)]}"
    assert np.isfinite(d).all(), f"{act}: derivative not finite at {z[~np.isfinite(d)]}"
    if g is not None:
        assert np.isfinite(g).all(), f"{act}: backward not finite at {z[~np.isfinite(g)]}"


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_id)
@pytest.mark.parametrize("z", [Z_EXTREME64, Z_EXTREME32], ids=["float64", "float32"])
def test_growth_bounds_the_output(spec, z):
    """growth() = (L, c) promises |f(z)| <= L |z| + c for every finite z: what the end-of-fit
    check uses to skip its forward pass (Sequential.loss_surely_finite). Only PReLU, whose
    slope is trained, makes no promise."""
    act = get_activation(spec)
    growth = act.growth()
    if growth is None:
        assert act.learnable
        return
    L, c = growth
    if not act.elementwise:  # softmax's z - max(z) needs |z| <= max/2; Dense's bound keeps
        z = z / 4  # |z| below max/4
    a = act.forward(z if act.elementwise else z[None, :])
    bound = L * np.abs(z.astype(np.float64)) + c
    assert np.isfinite(a).all()
    assert (np.abs(a.astype(np.float64)).ravel() <= bound).all(), (act, z, a)


@pytest.mark.parametrize("spec", ELEMENTWISE_SPECS, ids=_id)
def test_derivative_in_the_far_tails_is_the_asymptotic_slope(spec):
    """Far out, the derivative (and the secant slope) is that at |z| = 1e4, not garbage.

    The FD grid stops at 1e4; this carries the check out to 1e300 and the largest float.
    """
    act = get_activation(spec)
    for sign in (1.0, -1.0):
        ref_z = np.array([sign * 1e4])
        ref = act.derivative(ref_z, act.forward(ref_z))[0]
        z = sign * np.array([1e6, 1e100, 1e300, np.finfo(np.float64).max])
        d = act.derivative(z, act.forward(z))
        np.testing.assert_allclose(d, ref, rtol=1e-10, atol=1e-12, err_msg=f"{act} at {z}")
        # and the function grows with that slope: f(2z) - f(z) = slope * z
        zz = sign * np.array([1e6, 1e100, 1e300])
        secant = (act.forward(2 * zz) - act.forward(zz)) / zz
        np.testing.assert_allclose(secant, ref, rtol=1e-10, atol=1e-12, err_msg=str(act))


# --------------------------------------------------------------------- saturation maxima
def test_logistic_derivative_max_is_quarter_at_zero():
    act = get_activation("logistic")
    z = np.arange(-8000, 8001) / 1000.0  # contains 0.0 exactly
    d = act.derivative(z, act.forward(z))
    assert z[np.argmax(d)] == 0.0
    assert d.max() == pytest.approx(0.25, abs=1e-15)
    assert np.all(d <= 0.25)


def test_tanh_derivative_max_is_one_at_zero():
    act = get_activation("tanh")
    z = np.arange(-8000, 8001) / 1000.0
    d = act.derivative(z, act.forward(z))
    assert z[np.argmax(d)] == 0.0
    assert d.max() == pytest.approx(1.0, abs=1e-15)
    assert np.all(d <= 1.0)


# ------------------------------------------------------------------------- logistic
def test_logistic_float64_matches_expit():
    z = np.concatenate([np.linspace(-40, 40, 801), Z_EXTREME64])
    np.testing.assert_allclose(get_activation("logistic").forward(z), special.expit(z), rtol=1e-12)


def test_logistic_float32_path_matches_expit():
    act = get_activation("logistic")
    z64 = np.concatenate([np.linspace(-40, 40, 801), [-1e4, 1e4, -88.8, 88.8]])
    z32 = z64.astype(np.float32)
    a = act.forward(z32)
    assert a.dtype == np.float32
    ref = special.expit(z32.astype(np.float64))
    np.testing.assert_allclose(a, ref, rtol=0, atol=1e-6)
    assert np.all((a >= 0) & (a <= 1))
    d = act.derivative(z32, a)
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, ref * (1 - ref), rtol=0, atol=1e-6)


# ---------------------------------------------- the whole range against scipy (RELIABILITY 6)


def test_sigmoid_softplus_softmax_agree_with_scipy_over_the_whole_range():
    """No FloatingPointError, all finite, rtol 1e-12 against scipy.special / np.logaddexp;
    softmax of a row (x, 0) is expit(x), of (x, 0, -x/2) is exp(z - logsumexp(z))."""
    x = X_RANGE.copy()
    z3 = np.stack([x, np.zeros_like(x), -0.5 * x], axis=1)
    with np.errstate(**RAISE):
        sig = get_activation("logistic").forward(x)
        soft = get_activation("softplus").forward(x)
        sm2 = get_activation("softmax").forward(np.stack([x, np.zeros_like(x)], axis=1))
        sm3 = get_activation("softmax").forward(z3)
        ref3 = np.exp(z3 - special.logsumexp(z3, axis=1, keepdims=True))
    for out in (sig, soft, sm2, sm3):
        assert np.isfinite(out).all()
    np.testing.assert_allclose(sig, special.expit(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(soft, np.logaddexp(0.0, x), rtol=1e-12, atol=0)
    # below the smallest normal float only an absolute bound means anything (expit gives
    # 0 where e^x is still a subnormal)
    tiny = np.finfo(np.float64).tiny
    np.testing.assert_allclose(sm2[:, 0], special.expit(x), rtol=1e-12, atol=tiny)
    np.testing.assert_allclose(sm2[:, 1], special.expit(-x), rtol=1e-12, atol=tiny)
    np.testing.assert_allclose(sm3, ref3, rtol=1e-12, atol=tiny)
    np.testing.assert_allclose(sm3.sum(axis=1), 1.0, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------ torch oracle
def _torch_function(torch, act):
    """The PyTorch function equal to ``act`` (None for a row with no oracle yet)."""
    F = torch.nn.functional
    return {
        "identity": lambda t: t * 1.0,
        "logistic": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, negative_slope=getattr(act, "slope", 0.0)),
        "prelu": lambda t: F.prelu(t, torch.tensor([getattr(act, "alpha", 0.0)], dtype=t.dtype)),
        "gelu": lambda t: F.gelu(
            t, approximate="tanh" if getattr(act, "approximate", False) else "none"
        ),
        "silu": F.silu,
        # threshold well above the grid: PyTorch's default 20 switches to the line x
        "softplus": lambda t: F.softplus(t, beta=1.0, threshold=60.0),
        "elu": lambda t: F.elu(t, alpha=getattr(act, "alpha", 1.0)),
    }.get(act.name)


Z_TORCH = np.concatenate(
    [np.linspace(-8, 8, 161) + 1e-3, [0.0, -20.0, 20.0, -30.0, 30.0, -50.0, 50.0]]
)


@pytest.mark.parametrize("spec", [s for s in ELEMENTWISE_SPECS if s["name"] != "step"], ids=_id)
def test_forward_and_derivative_match_torch_autograd(spec):
    torch = pytest.importorskip("torch")
    act = get_activation(spec)
    fn = _torch_function(torch, act)
    if fn is None:
        pytest.fail(f"no PyTorch oracle for activation {act.name!r}: add one to _torch_function")
    z = Z_TORCH.copy()  # includes z = 0: the kink values must agree with PyTorch too
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = fn(t)
    out.backward(torch.ones_like(out))
    a = act.forward(z)
    np.testing.assert_allclose(a, out.detach().numpy(), rtol=1e-10, atol=1e-14, err_msg=str(act))
    np.testing.assert_allclose(
        act.derivative(z, a), t.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=str(act)
    )


def test_step_forward_matches_torch_heaviside():
    torch = pytest.importorskip("torch")
    z = np.concatenate([Z_TORCH, [-1e-300, 1e-300, -0.0]])
    ref = torch.heaviside(torch.tensor(z), torch.tensor(1.0, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(get_activation("step").forward(z), ref)


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_matches_torch_both_modes(approximate):
    """GELU exact vs F.gelu, tanh approximation vs F.gelu(approximate='tanh')."""
    torch = pytest.importorskip("torch")
    act = get_activation({"name": "gelu", "approximate": approximate})
    z = np.linspace(-6, 6, 1201)
    t = torch.tensor(z, requires_grad=True)
    out = torch.nn.functional.gelu(t, approximate="tanh" if approximate else "none")
    out.sum().backward()
    np.testing.assert_allclose(act.forward(z), out.detach().numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(
        act.derivative(z, act.forward(z)), t.grad.numpy(), rtol=1e-10, atol=1e-14
    )
    # the two modes are different functions (max gap ~ 5e-4), so each oracle is discriminating
    other = get_activation({"name": "gelu", "approximate": not approximate})
    assert np.max(np.abs(other.forward(z) - out.detach().numpy())) > 1e-5


# ---------------------------------------------------------------------------- step
def test_step_backward_raises_not_differentiable():
    step = acts.Step()
    z = np.array([-1.0, 0.5, 2.0])
    with pytest.raises(NotDifferentiableError, match="derivative is 0"):
        step.backward(z, step.forward(z), np.ones(3))
    assert issubclass(NotDifferentiableError, ValueError)


def test_step_forward_is_heaviside_with_one_at_zero():
    step = acts.Step()
    np.testing.assert_array_equal(
        step.forward(np.array([-2.0, -1e-300, 0.0, 1e-300, 3.0])), [0, 0, 1, 1, 1]
    )


@pytest.mark.parametrize(
    "layers",
    [
        lambda: [mlplab.Dense(3, activation="step"), mlplab.Dense(1)],
        lambda: [mlplab.Dense(3), mlplab.ActivationLayer("heaviside"), mlplab.Dense(1)],
    ],
    ids=["dense-step", "activation-layer-step"],
)
def test_training_through_step_raises(layers, rng):
    X = rng.standard_normal((8, 2))
    y = rng.standard_normal(8)
    net = mlplab.Sequential(layers(), n_inputs=2, seed=0)
    with pytest.raises(NotDifferentiableError, match="derivative is 0"):
        net.loss_and_grad(X, y, loss="mse")
    net = mlplab.Sequential(layers(), n_inputs=2, seed=0)
    with pytest.raises(NotDifferentiableError, match="derivative is 0"):
        net.fit(X, y, loss="mse", optimizer="sgd", epochs=2)


# -------------------------------------------------------------------------- softmax
@pytest.mark.parametrize("name", NON_ELEMENTWISE)
def test_non_elementwise_rows_are_known(name):
    """Only softmax is non-elementwise; a new such row needs its own tests here."""
    assert name == "softmax"


def _softmax_inputs(rng):
    z = rng.standard_normal((6, 5)) * 3.0
    z[0] = [1e4, -1e4, 0.0, 710.0, -710.0]
    z[1] = [1e300, -1e300, 1e300, 0.0, 5.0]
    z[2] = 800.0  # a constant row
    return z


def test_softmax_rows_sum_to_one_and_are_finite(rng):
    act = get_activation("softmax")
    z = _softmax_inputs(rng)
    with np.errstate(all="raise", under="ignore"):
        a = act.forward(z)
        d = act.derivative(z, a)
        g = act.backward(z, a, rng.standard_normal(z.shape))
    assert np.isfinite(a).all() and np.isfinite(d).all() and np.isfinite(g).all()
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(a[2], 0.2, rtol=1e-14)
    np.testing.assert_allclose(a[1], [0.5, 0.0, 0.5, 0.0, 0.0], atol=1e-300)


@pytest.mark.parametrize("c", [-1e3, -3.7, 0.25, 50.0, 1e3])
def test_softmax_invariant_to_adding_a_constant(c, rng):
    act = get_activation("softmax")
    z = rng.standard_normal((4, 6)) * 2.0
    np.testing.assert_allclose(act.forward(z + c), act.forward(z), rtol=1e-10, atol=1e-15)
    # a different constant per row too
    shift = rng.standard_normal((4, 1)) * c
    np.testing.assert_allclose(act.forward(z + shift), act.forward(z), rtol=1e-10, atol=1e-15)


def test_softmax_matches_exp_normalisation(rng):
    act = get_activation("softmax")
    z = rng.standard_normal((5, 4))
    e = np.exp(z)
    np.testing.assert_allclose(act.forward(z), e / e.sum(axis=1, keepdims=True), rtol=1e-13)


def test_softmax_backward_matches_finite_differences_of_a_scalar(rng):
    act = get_activation("softmax")
    z = rng.standard_normal((3, 4)) * 2.0
    w = rng.standard_normal(z.shape)

    def L(zz):  # a scalar function of the softmax outputs; dL/da = w
        return float(np.sum(w * act.forward(zz)))

    g = act.backward(z, act.forward(z), w.copy())
    fd = np.empty_like(z)
    h = 1e-6
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        fd[idx] = (L(zp) - L(zm)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)


def test_softmax_derivative_is_jacobian_diagonal(rng):
    act = get_activation("softmax")
    z = rng.standard_normal((3, 4))
    d = act.derivative(z, act.forward(z))
    h = 1e-6
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        fd = (act.forward(zp)[idx] - act.forward(zm)[idx]) / (2 * h)
        assert d[idx] == pytest.approx(fd, rel=1e-6, abs=1e-10)


def test_softmax_backward_matches_torch(rng):
    torch = pytest.importorskip("torch")
    act = get_activation("softmax")
    z = rng.standard_normal((4, 5)) * 3.0
    w = rng.standard_normal(z.shape)
    t = torch.tensor(z, requires_grad=True)
    out = torch.softmax(t, dim=1)
    (out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(act.forward(z), out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        act.backward(z, act.forward(z), w), t.grad.numpy(), rtol=1e-10, atol=1e-14
    )


# -------------------------------------------------------------------------- lookup
def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError) as info:
        get_activation("no_such_activation")
    msg = str(info.value)
    assert "no_such_activation" in msg
    for name in ACTIVATIONS:
        assert repr(name) in msg, f"{name!r} missing from: {msg}"


@pytest.mark.parametrize("bad", [None, 3, {"alpha": 1.0}, {"name": "nope"}])
def test_bad_activation_specs_raise_value_error(bad):
    with pytest.raises(ValueError, match="Unknown activation"):
        get_activation(bad)


def test_invalid_parameters_raise_value_error():
    with pytest.raises(ValueError, match="elu"):
        get_activation({"name": "elu", "beta": 2.0})


@pytest.mark.parametrize("alias,target", [("sigmoid", "logistic"), ("swish", "silu")])
def test_documented_aliases(alias, target):
    assert get_activation(alias).name == target
    assert isinstance(get_activation(alias), ACTIVATIONS[target])


@pytest.mark.parametrize("alias", sorted(acts.ALIASES))
def test_every_alias_resolves_to_a_table_row(alias):
    act = get_activation(alias)
    assert act.name == acts.ALIASES[alias]
    z = np.linspace(-3, 3, 7) + 1e-3
    np.testing.assert_array_equal(act.forward(z), get_activation(act.name).forward(z))


def test_dict_spec_with_parameters():
    act = get_activation({"name": "elu", "alpha": 0.5})
    assert isinstance(act, ACTIVATIONS["elu"]) and act.alpha == 0.5
    z = np.array([-2.0, -0.5, 1.5])
    np.testing.assert_allclose(act.forward(z), [0.5 * np.expm1(-2.0), 0.5 * np.expm1(-0.5), 1.5])
    np.testing.assert_allclose(
        act.derivative(z, act.forward(z)), [0.5 * np.exp(-2.0), 0.5 * np.exp(-0.5), 1.0]
    )
    leaky = get_activation({"name": "leaky_relu", "slope": 0.2})
    np.testing.assert_allclose(leaky.forward(np.array([-1.0, 2.0])), [-0.2, 2.0])


def test_instance_spec_is_returned_unchanged():
    act = acts.ELU(alpha=0.3)
    assert get_activation(act) is act


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_id)
def test_config_round_trip(spec):
    act = get_activation(spec)
    again = get_activation(act.config())
    assert again == act and type(again) is type(act)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=_id)
def test_float32_in_float32_out(spec, rng):
    act = get_activation(spec)
    z = (rng.standard_normal((4, 5)) * 3.0).astype(np.float32)
    a = act.forward(z)
    assert a.dtype == np.float32, f"{act}: forward gave {a.dtype}"
    d = act.derivative(z, a)
    assert d.dtype == np.float32, f"{act}: derivative gave {d.dtype}"
    if act.name != "step":
        g = act.backward(z, a, np.ones_like(z))
        assert g.dtype == np.float32, f"{act}: backward gave {g.dtype}"
    # and the float32 values are the float64 values, rounded
    z64 = z.astype(np.float64)
    np.testing.assert_allclose(a, act.forward(z64), rtol=1e-5, atol=1e-6)
