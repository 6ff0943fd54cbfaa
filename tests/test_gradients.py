"""Backpropagation: ``net.loss_and_grad`` against finite differences and PyTorch autograd.

Every hidden activation of ``ACTIVATIONS`` (except step and softmax) is crossed with
every loss of ``LOSSES``, each with an identity (logit) output and, where the loss
has a link, with its fused output activation. PyTorch is a test-only oracle, in
float64, built from copies of the mlplab weights (``Linear.weight = W.T``).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from scipy import special

import mlplab
from _gradcheck import RAISE, X_RANGE, assert_grad_matches_fd, fd_grad
from mlplab import ActivationLayer, BatchNorm, Dense, PReLU, Sequential
from mlplab.activations import ACTIVATIONS
from mlplab.initializers import INITIALIZERS
from mlplab.losses import LOSSES

N_SAMPLES, N_IN = 7, 3

HIDDEN = sorted(n for n, c in ACTIVATIONS.items() if c.elementwise and n != "step")


def _loss_cases() -> list[tuple[str, str]]:
    """(loss, output activation): identity always, plus the loss's link if it has one."""
    cases = []
    for name, cls in sorted(LOSSES.items()):
        cases.append((name, "identity"))
        if cls.link is not None:
            cases.append((name, cls.link))
    return cases


LOSS_CASES = _loss_cases()
LOSS_IDS = [f"{loss}-{out}" for loss, out in LOSS_CASES]


def _seed(*parts) -> int:
    """A stable, case-specific seed (so the cases see different weights and data)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) % (2**31)


def _n_out(loss: str) -> int:
    return 3 if loss == "cce" else 2


def _targets(loss: str, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    if loss == "mse":
        return rng.standard_normal((n, k))
    if loss == "bce":
        return rng.integers(0, 2, size=(n, k)).astype(np.float64)
    if loss == "cce":
        return rng.integers(0, k, size=n)  # integer labels
    pytest.fail(f"no target generator for the new loss {loss!r}: add one to _targets")


# --------------------------------------------------------------------------- networks
def _mlp(act):
    return lambda n_out, out: [Dense(4, act), Dense(3, act), Dense(n_out, out)]


ARCHS = {f"mlp-{act}": _mlp(act) for act in HIDDEN}
ARCHS.update(
    {
        "dense-bn-relu": lambda n_out, out: [
            Dense(4, "identity"),
            BatchNorm(),
            ActivationLayer("relu"),
            Dense(n_out, out),
        ],
        "dense_tanh-bn": lambda n_out, out: [Dense(4, "tanh"), BatchNorm(), Dense(n_out, out)],
        "prelu-layer": lambda n_out, out: [Dense(4), PReLU(0.25), Dense(n_out, out)],
        "dense-prelu": lambda n_out, out: [Dense(4, "prelu"), Dense(3, "tanh"), Dense(n_out, out)],
    }
)


def _randomise_non_weights(net: Sequential, rng: np.random.Generator) -> None:
    """Biases, PReLU slopes and BatchNorm scales start at constants; make them generic."""
    for name, view in net.named_parameters():
        kind = name.split(".", 1)[1]
        if kind in ("b", "beta"):
            view[...] = 0.3 * rng.standard_normal(view.shape)
        elif kind == "alpha":
            view[...] = rng.uniform(0.05, 0.6, view.shape)
        elif kind == "gamma":
            view[...] = rng.uniform(0.5, 1.5, view.shape)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            layer.running_mean[...] = rng.standard_normal(layer.n_in)
            layer.running_var[...] = rng.uniform(0.5, 2.0, layer.n_in)


def _problem(arch: str, loss: str, out: str, dtype="float64", salt: str = "", **kw):
    seed = _seed(arch, loss, out, salt)
    rng = np.random.default_rng(seed)
    n_out = _n_out(loss)
    net = Sequential(ARCHS[arch](n_out, out), n_inputs=N_IN, seed=seed, dtype=dtype, **kw)
    _randomise_non_weights(net, rng)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    y = _targets(loss, N_SAMPLES, n_out, rng)
    return net, X, y


# ------------------------------------------------------------------- (a) finite differences
#: three weight/data draws per case (RELIABILITY 5: 3 seeds)
SEEDS = ["", "seed-1", "seed-2"]


@pytest.mark.parametrize("salt", SEEDS, ids=["s0", "s1", "s2"])
@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_gradient_matches_finite_differences(arch, loss, out, salt):
    """Central differences (eps 1e-6) within rtol 1e-6, atol 1e-8: tighter than
    torch.autograd.gradcheck's defaults (rtol 1e-3, atol 1e-5)."""
    net, X, y = _problem(arch, loss, out, salt=salt)
    grad = assert_grad_matches_fd(net, X, y, loss=loss)
    assert np.abs(grad).max() > 1e-6  # a zero gradient would match nothing useful


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_gradient_matches_fd_for_every_initializer(init):
    rng = np.random.default_rng(_seed("init", init))
    net = Sequential([Dense(4, "tanh"), Dense(2)], n_inputs=N_IN, init=init, seed=3)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    y = rng.standard_normal((N_SAMPLES, 2))
    assert_grad_matches_fd(net, X, y, loss="mse")


def test_deep_tanh_net_gradient_matches_fd():
    """20 Dense layers of tanh: the chain rule over 20 factors still matches FD."""
    rng = np.random.default_rng(20)
    layers = [Dense(5, "tanh") for _ in range(19)] + [Dense(1)]
    net = Sequential(layers, n_inputs=N_IN, seed=20, init="glorot_normal")
    _randomise_non_weights(net, rng)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    y = rng.standard_normal(N_SAMPLES)
    grad = assert_grad_matches_fd(net, X, y, loss="mse", rtol=1e-6, atol=1e-9)
    first = grad[: net.layers[0].W.size]  # "0.W" leads theta
    assert np.abs(first).max() > 1e-7  # the first layer's gradient is really tested


# -------------------------------------------------------------------------- (b) PyTorch
def _torch_activation(torch, act, n: int):
    """A torch module for an mlplab activation; PReLU gets a learnable per-node weight."""
    nn = torch.nn
    name = act.name
    if name == "prelu":
        return nn.PReLU(num_parameters=n, dtype=torch.float64)
    table = {
        "identity": lambda: nn.Identity(),
        "logistic": lambda: nn.Sigmoid(),
        "tanh": lambda: nn.Tanh(),
        "relu": lambda: nn.ReLU(),
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope=act.slope),
        "gelu": lambda: nn.GELU(approximate="tanh" if act.approximate else "none"),
        "silu": lambda: nn.SiLU(),
        "softplus": lambda: nn.Softplus(beta=1.0, threshold=60.0),
        "elu": lambda: nn.ELU(alpha=act.alpha),
        "softmax": lambda: nn.Softmax(dim=1),
    }
    if name not in table:
        pytest.fail(f"no PyTorch oracle for activation {name!r}: add one to _torch_activation")
    return table[name]()


def _to_torch(torch, net: Sequential):
    """Copy an mlplab net into torch.nn modules.

    Returns (model, links): links maps each mlplab parameter name to
    (torch parameter, transposed?), for reading gradients back.
    """
    nn = torch.nn

    def T(a):
        return torch.from_numpy(np.array(a, dtype=np.float64))

    mods, links = [], {}
    for i, layer in enumerate(net.layers):
        p = layer.params
        if isinstance(layer, Dense):
            lin = nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(T(p["W"].T))  # mlplab W is (n_in, n_out)
                lin.bias.copy_(T(p["b"]))
            links[f"{i}.W"], links[f"{i}.b"] = (lin.weight, True), (lin.bias, False)
            act = _torch_activation(torch, layer.activation, layer.n_out)
            if "alpha" in p:
                with torch.no_grad():
                    act.weight.copy_(T(p["alpha"]))
                links[f"{i}.alpha"] = (act.weight, False)
            mods += [lin, act]
        elif isinstance(layer, BatchNorm):
            bn = nn.BatchNorm1d(
                layer.n_in, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64
            )
            with torch.no_grad():
                bn.weight.copy_(T(p["gamma"]))
                bn.bias.copy_(T(p["beta"]))
                bn.running_mean.copy_(T(layer.running_mean))
                bn.running_var.copy_(T(layer.running_var))
            links[f"{i}.gamma"], links[f"{i}.beta"] = (bn.weight, False), (bn.bias, False)
            mods.append(bn)
        elif isinstance(layer, PReLU):
            pr = nn.PReLU(num_parameters=layer.n_in, dtype=torch.float64)
            with torch.no_grad():
                pr.weight.copy_(T(p["alpha"]))
            links[f"{i}.alpha"] = (pr.weight, False)
            mods.append(pr)
        elif isinstance(layer, ActivationLayer):
            mods.append(_torch_activation(torch, layer.activation, layer.n_in))
        else:
            pytest.fail(f"no PyTorch counterpart for layer {type(layer).__name__}")
    model = nn.Sequential(*mods)
    model.train()
    return model, links


def _torch_loss(torch, loss: str, out_act: str, out, y, sample_weight=None, n_out=None):
    """The loss on the torch output, composed the textbook way (no mlplab fusion).

    A fused output (logistic / softmax) gives probabilities in torch, so the loss
    is BCE on probabilities / NLL of their log, the same function mathematically.
    """
    F = torch.nn.functional
    if loss == "mse":
        per = (out - torch.from_numpy(np.asarray(y, dtype=np.float64))) ** 2
    elif loss == "bce":
        t = torch.from_numpy(np.asarray(y, dtype=np.float64))
        per = (
            F.binary_cross_entropy(out, t, reduction="none")
            if out_act == "logistic"
            else F.binary_cross_entropy_with_logits(out, t, reduction="none")
        )
    elif loss == "cce":
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64))
        per = (
            F.nll_loss(torch.log(out), labels, reduction="none")
            if out_act == "softmax"
            else F.cross_entropy(out, labels, reduction="none")
        )
        per = per[:, None]  # one term per sample: CrossEntropyLoss averages over samples
    else:
        pytest.fail(f"no PyTorch oracle for the new loss {loss!r}")
    if sample_weight is None:
        return per.mean()
    w = torch.from_numpy(np.asarray(sample_weight, dtype=np.float64))[:, None]
    return (w * per).sum() / (w.sum() * per.shape[1])


def _assert_matches_torch(net, X, y, loss, out_act, *, sample_weight=None, l2=0.0, tol=1e-8):
    torch = pytest.importorskip("torch")
    model, links = _to_torch(torch, net)  # copy before mlplab's forward moves buffers
    value, grad = net.loss_and_grad(X, y, loss=loss, sample_weight=sample_weight, l2=l2)

    out = model(torch.from_numpy(np.asarray(X, dtype=np.float64)))
    t_loss = _torch_loss(torch, loss, out_act, out, y, sample_weight)
    if l2:
        t_loss = t_loss + 0.5 * l2 * sum(
            (p**2).sum() for name, (p, _) in links.items() if name.endswith(".W")
        )
    t_loss.backward()

    assert abs(value - t_loss.item()) <= tol * abs(t_loss.item()), (value, t_loss.item())
    names = [n for n, _ in net.named_parameters()]
    assert sorted(names) == sorted(links)
    for name, g in net.named_gradients():
        p, transposed = links[name]
        ref = p.grad.numpy().T if transposed else p.grad.numpy()
        err = np.linalg.norm(g - ref)
        assert err <= tol * np.linalg.norm(ref) + 1e-15, (
            f"{name}: rel. error {err / max(np.linalg.norm(ref), 1e-300):.3g}\n{g}\nvs torch\n{ref}"
        )
    # the flat gradient is the concatenation of the named gradients
    flat = np.concatenate([g.ravel() for _, g in net.named_gradients()])
    np.testing.assert_array_equal(grad, flat)
    return model


@pytest.mark.parametrize("salt", SEEDS, ids=["s0", "s1", "s2"])
@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_loss_and_gradient_match_torch(arch, loss, out, salt):
    net, X, y = _problem(arch, loss, out, salt=salt)
    _assert_matches_torch(net, X, y, loss, out)


@pytest.mark.parametrize("arch", ["dense-bn-relu", "dense_tanh-bn"])
def test_batchnorm_running_statistics_match_torch(arch):
    torch = pytest.importorskip("torch")
    net, X, y = _problem(arch, "mse", "identity")
    model = _assert_matches_torch(net, X, y, "mse", "identity")  # one training step each
    ours = [lay for lay in net.layers if isinstance(lay, BatchNorm)]
    assert all(lay.momentum == 0.1 and lay.eps == 1e-5 for lay in ours)  # PyTorch's defaults
    theirs = [m for m in model if isinstance(m, torch.nn.BatchNorm1d)]
    assert ours and len(ours) == len(theirs)
    bns = list(zip(ours, theirs, strict=True))
    for layer, bn in bns:
        np.testing.assert_allclose(layer.running_mean, bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, bn.running_var.numpy(), rtol=1e-12)
    # inference mode uses those running statistics, in both
    model.eval()
    with torch.no_grad():
        ref = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(net.forward(X), ref, rtol=1e-10, atol=1e-12)


def test_deep_tanh_net_matches_torch():
    rng = np.random.default_rng(21)
    layers = [Dense(5, "tanh") for _ in range(19)] + [Dense(1)]
    net = Sequential(layers, n_inputs=N_IN, seed=21, init="glorot_normal")
    _randomise_non_weights(net, rng)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    y = rng.standard_normal((N_SAMPLES, 1))
    _assert_matches_torch(net, X, y, "mse", "identity")


# ----------------------------------------------------------- the loss_and_grad contract
def test_grad_is_net_grad_aligned_with_theta_and_overwritten():
    net, X, y = _problem("mlp-tanh", "mse", "identity")
    value, grad = net.loss_and_grad(X, y, loss="mse")
    assert grad is net.grad or np.shares_memory(grad, net.grad)
    assert grad.ndim == 1 and grad.shape == net.theta.shape and grad.dtype == net.theta.dtype
    first = grad.copy()
    # overwritten, not accumulated: calling again (or after other data) gives the same
    net.loss_and_grad(X[:3] * 2.0, y[:3], loss="mse")
    value2, grad2 = net.loss_and_grad(X, y, loss="mse")
    assert value2 == value
    np.testing.assert_array_equal(grad2, first)
    # named views alias theta / grad
    for (name, p), (gname, g) in zip(net.named_parameters(), net.named_gradients(), strict=True):
        assert name == gname
        assert np.shares_memory(p, net.theta) and np.shares_memory(g, net.grad)
    # the parameters were not updated
    theta0 = net.theta.copy()
    net.loss_and_grad(X, y, loss="mse")
    np.testing.assert_array_equal(net.theta, theta0)


def test_parameter_names():
    net, _, _ = _problem("dense-prelu", "mse", "identity")
    assert [n for n, _ in net.named_parameters()] == [
        "0.W",
        "0.b",
        "0.alpha",
        "1.W",
        "1.b",
        "2.W",
        "2.b",
    ]
    net, _, _ = _problem("prelu-layer", "mse", "identity")
    assert [n for n, _ in net.named_parameters()] == ["0.W", "0.b", "1.alpha", "2.W", "2.b"]
    net, _, _ = _problem("dense-bn-relu", "mse", "identity")
    assert [n for n, _ in net.named_parameters()] == [
        "0.W",
        "0.b",
        "1.gamma",
        "1.beta",
        "3.W",
        "3.b",
    ]


def test_cce_accepts_integer_labels_or_one_hot():
    net, X, y = _problem("mlp-tanh", "cce", "softmax")
    v_int, g_int = net.loss_and_grad(X, y, loss="cce")
    g_int = g_int.copy()
    onehot = np.eye(3)[y]
    v_hot, g_hot = net.loss_and_grad(X, onehot, loss="cce")
    assert v_hot == pytest.approx(v_int, rel=1e-14)
    np.testing.assert_allclose(g_hot, g_int, rtol=1e-13, atol=1e-16)


FUSED = [(loss, out) for loss, out in LOSS_CASES if out != "identity"]


@pytest.mark.parametrize("loss,out", FUSED, ids=[f"{loss}-{out}" for loss, out in FUSED])
def test_fused_output_equals_logit_output(loss, out):
    """The same weights with the link output or with logits give the same loss and gradient,
    whether the link is the last Dense's activation or a final ActivationLayer."""
    net, X, y = _problem("mlp-tanh", loss, out)
    k = _n_out(loss)
    logit_net = Sequential(ARCHS["mlp-tanh"](k, "identity"), n_inputs=N_IN)
    layer_net = Sequential(ARCHS["mlp-tanh"](k, "identity") + [ActivationLayer(out)], n_inputs=N_IN)
    logit_net.theta[...] = net.theta
    layer_net.theta[...] = net.theta
    v1, g1 = net.loss_and_grad(X, y, loss=loss)
    for other in (logit_net, layer_net):
        v2, g2 = other.loss_and_grad(X, y, loss=loss)
        assert v1 == pytest.approx(v2, rel=1e-14)
        np.testing.assert_allclose(g1, g2, rtol=1e-13, atol=1e-16)


# ------------------------------------------------------------------ loss conventions
LOSS_VARIANTS = [
    {"name": "mse"},
    {"name": "mse", "half": True},
    {"name": "mse", "reduction": "sample"},
    {"name": "bce"},
    {"name": "bce", "reduction": "sample"},
    {"name": "cce"},
]


def test_loss_variants_cover_the_table():
    assert {v["name"] for v in LOSS_VARIANTS} == set(LOSSES)


@pytest.mark.parametrize("spec", LOSS_VARIANTS, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_loss_value_and_gradient_conventions_match_torch(spec, weighted, rng):
    """mean over every element ("mean"), sum over outputs / mean over samples ("sample"),
    MSE half=True: the factor 1/2; cce always sums over classes. Checked on the Loss
    objects directly, with the gradient from autograd."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    loss = mlplab.get_loss(spec)
    n, k = 6, 3
    out = rng.standard_normal((n, k)) * 2.0
    Y = loss.prepare_targets(_targets(spec["name"], n, k, rng), k, np.dtype(np.float64))
    sw = rng.uniform(0.2, 2.0, n) if weighted else None
    t = torch.tensor(out, requires_grad=True)
    ty = torch.tensor(Y)
    if spec["name"] == "mse":
        per = (t - ty) ** 2 * (0.5 if spec.get("half") else 1.0)
    elif spec["name"] == "bce":
        per = F.binary_cross_entropy_with_logits(t, ty, reduction="none")
    else:
        per = F.cross_entropy(t, ty, reduction="none")[:, None]  # probability targets
    if spec.get("reduction", "mean" if spec["name"] != "cce" else "sample") == "sample":
        per = per.sum(dim=1, keepdim=True)
    w = torch.ones(n, 1, dtype=torch.float64) if sw is None else torch.tensor(sw)[:, None]
    ref = (w * per).sum() / (w.sum() * per.shape[1])
    ref.backward()
    out0 = out.copy()
    assert loss.value(out, Y, sw) == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(loss.gradient(out, Y, sw), t.grad.numpy(), rtol=1e-10, atol=1e-15)
    value, grad = loss.value_and_gradient(out, Y, sw)  # the path loss_and_grad takes
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_array_equal(out, out0)  # the outputs were not modified in place


# ------------------------------------------------------------ saturation and extreme logits
@pytest.mark.parametrize("scale", [50.0, 1e4])
@pytest.mark.parametrize("loss,out", FUSED, ids=[f"{loss}-{out}" for loss, out in FUSED])
def test_fused_output_does_not_saturate_on_confidently_wrong_logits(loss, out, scale):
    """Logits +-scale on the wrong class: L = scale (not inf), dL/dz = link(z) - y = +-1/N
    (with a probability output and no fusion, a (1 - a) ~ e^-scale would kill it)."""
    k = _n_out(loss) if loss == "cce" else 1
    net = Sequential([Dense(k, out)], n_inputs=1)
    X = np.array([[1.0], [-1.0]])
    if loss == "bce":
        net.theta[:] = [scale, 0.0]  # z = +scale for a 0 label, -scale for a 1 label
        y = np.array([0.0, 1.0])
        expected_value, expected_dW, expected_db = scale, [1.0], [0.0]
    else:
        W = np.zeros((1, k))
        W[0, 0] = scale  # z = (+scale, 0, ..) for sample 0 (x = 1), (-scale, 0, ..) for sample 1
        net.theta[:] = np.concatenate([W.ravel(), np.zeros(k)])
        y = np.array([1, 0])  # both wrong: sample 0 is not class 0, sample 1 is
        # L_0 = logsumexp(z) - z_1 = scale;  L_1 = log(k - 1) + scale
        # (softmax of sample 1's logits = (0, 1/(k-1), ..))
        expected_value = scale + np.log(k - 1) / 2
        p0, p1 = np.eye(k)[0], np.r_[0.0, np.full(k - 1, 1.0 / (k - 1))]
        dz0, dz1 = (p0 - np.eye(k)[1]) / 2, (p1 - np.eye(k)[0]) / 2  # (softmax - onehot) / N
        expected_dW, expected_db = dz0 * 1.0 + dz1 * -1.0, dz0 + dz1
    with np.errstate(all="raise", under="ignore"):
        value, grad = net.loss_and_grad(X, y, loss=loss)
    assert value == pytest.approx(expected_value, rel=1e-12)
    g = dict(net.named_gradients())
    np.testing.assert_allclose(g["0.W"].ravel(), expected_dW, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g["0.b"], expected_db, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(n for n, c in LOSSES.items() if c.link is not None))
def test_cross_entropy_losses_are_finite_for_huge_logits(name):
    loss = mlplab.get_loss(name)
    out = np.array([[1e4, -1e4, 0.0], [-1e300, 1e300, 5.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with np.errstate(all="raise", under="ignore"):
        value, grad = loss.value_and_gradient(out, Y)
        assert np.isfinite(loss.value(out, Y)) and np.isfinite(loss.gradient(out, Y)).all()
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert value > 1e4 / out.size  # confidently wrong: a large but finite loss


def _per_element(loss, rows, labels):
    """The loss of each row alone (value() averages, so one call per row)."""
    return np.array(
        [loss.value(row[None, :], lab[None, :]) for row, lab in zip(rows, labels, strict=True)]
    )


def test_cross_entropies_on_logits_are_exact_log_sigmoid_and_logsumexp():
    """bce(z, 1) = -log_expit(z), bce(z, 0) = -log_expit(-z); cce of the row (z, 0) is
    -log_expit(+-z) by label, and of (z, 0, -z/2) logsumexp - z_k: rtol 1e-12 against
    scipy over [-1e4, 1e4], with no FloatingPointError. A confidently right logit gives
    the tiny true loss (log1p(e^-30) = 9.36e-14), not the rounding error of 30 - 30."""
    x = X_RANGE
    col = x[:, None]
    zeros, ones = np.zeros_like(col), np.ones_like(col)
    two = np.hstack([col, zeros])
    three = np.hstack([col, zeros, -0.5 * col])
    bce, cce = mlplab.get_loss("bce"), mlplab.get_loss("cce")
    with np.errstate(**RAISE):
        got = {
            "bce y=1": _per_element(bce, col, ones),
            "bce y=0": _per_element(bce, col, zeros),
            "cce (z,0) k=0": _per_element(cce, two, np.tile([1.0, 0.0], (x.size, 1))),
            "cce (z,0) k=1": _per_element(cce, two, np.tile([0.0, 1.0], (x.size, 1))),
            "cce (z,0,-z/2) k=1": _per_element(cce, three, np.tile([0.0, 1.0, 0.0], (x.size, 1))),
        }
        ref_lse = special.logsumexp(three, axis=1)  # no cancellation: z_1 = 0 is never the max
    ref = {
        "bce y=1": -special.log_expit(x),
        "bce y=0": -special.log_expit(-x),
        "cce (z,0) k=0": -special.log_expit(x),
        "cce (z,0) k=1": -special.log_expit(-x),
        "cce (z,0,-z/2) k=1": ref_lse,
    }
    for name, value in got.items():
        assert np.isfinite(value).all(), name
        np.testing.assert_allclose(value, ref[name], rtol=1e-12, atol=0, err_msg=name)


def test_soft_label_cross_entropies_match_the_entropy_form():
    """Soft targets: bce = -(y log s + (1-y) log(1-s)), cce = -sum y log softmax, with the
    logs from scipy's log_expit / log_softmax (exact where they are), rtol 1e-12."""
    x = X_RANGE[np.abs(X_RANGE) <= 700]
    col = x[:, None]
    y = np.linspace(0.0, 1.0, x.size)[:, None]
    bce, cce = mlplab.get_loss("bce"), mlplab.get_loss("cce")
    with np.errstate(**RAISE):
        got_b = _per_element(bce, col, y)
        got_c = _per_element(cce, np.hstack([col, -col]), np.hstack([y, 1 - y]))
    ref_b = -(y[:, 0] * special.log_expit(x) + (1 - y[:, 0]) * special.log_expit(-x))
    ref_c = -(y[:, 0] * special.log_expit(2 * x) + (1 - y[:, 0]) * special.log_expit(-2 * x))
    np.testing.assert_allclose(got_b, ref_b, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(got_c, ref_c, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", ["BinaryLogLoss", "LogLoss"])
def test_sklearn_cross_entropies_raise_no_floating_point_error(name):
    """The estimators' losses (probabilities clipped as scikit-learn does) on the same range."""
    from mlplab.sklearn import losses as sk_losses

    z = X_RANGE[:, None]
    if name == "LogLoss":
        z = np.hstack([z, np.zeros_like(z), -0.5 * z])
    y = np.zeros_like(z)
    y[:, 0] = 1.0
    with np.errstate(**RAISE):
        value, delta = getattr(sk_losses, name)().value_and_gradient(z, y)
    assert np.isfinite(value) and np.isfinite(delta).all()


# --------------------------------------------------------------------------------- l2
@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("arch", ["mlp-tanh", "dense-prelu", "dense-bn-relu"])
def test_l2_penalty_value_and_gradient(arch, loss, out):
    l2 = 0.37
    net, X, y = _problem(arch, loss, out)
    v0, g0 = net.loss_and_grad(X, y, loss=loss)
    g0 = g0.copy()
    v1, g1 = net.loss_and_grad(X, y, loss=loss, l2=l2)
    params = net.named_parameters()
    weights = [v for name, v in params if name.endswith(".W")]
    assert weights
    assert v1 - v0 == pytest.approx(
        0.5 * l2 * sum(float(np.sum(w * w)) for w in weights), rel=1e-12
    )
    expected = np.concatenate(
        [(l2 * v if name.endswith(".W") else np.zeros_like(v)).ravel() for name, v in params]
    )  # W only: no b, alpha, gamma, beta
    np.testing.assert_allclose(g1 - g0, expected, rtol=1e-10, atol=1e-14)
    assert_grad_matches_fd(net, X, y, loss=loss, l2=l2)


@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
def test_l2_matches_torch(loss, out):
    net, X, y = _problem("dense-prelu", loss, out)
    _assert_matches_torch(net, X, y, loss, out, l2=0.37)


# ----------------------------------------------------------------------- sample_weight
def _weights(n, rng):
    return rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
@pytest.mark.parametrize("arch", ["mlp-tanh", "dense-prelu"])
def test_sample_weight_gradient_matches_fd_and_torch(arch, loss, out):
    net, X, y = _problem(arch, loss, out)
    sw = _weights(N_SAMPLES, np.random.default_rng(_seed("sw", arch, loss, out)))
    assert_grad_matches_fd(net, X, y, loss=loss, sample_weight=sw)
    pytest.importorskip("torch")
    _assert_matches_torch(net, X, y, loss, out, sample_weight=sw)


@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
def test_integer_sample_weight_equals_repeated_rows(loss, out):
    """Weight 3 on a sample is the same as that sample three times (no BatchNorm here)."""
    net, X, y = _problem("mlp-silu", loss, out)
    counts = np.array([3, 1, 0, 2, 1, 1, 4])
    v_w, g_w = net.loss_and_grad(X, y, loss=loss, sample_weight=counts.astype(float))
    g_w = g_w.copy()
    idx = np.repeat(np.arange(N_SAMPLES), counts)
    v_r, g_r = net.loss_and_grad(X[idx], y[idx], loss=loss)
    assert v_w == pytest.approx(v_r, rel=1e-12)
    np.testing.assert_allclose(g_w, g_r, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss,out", LOSS_CASES, ids=LOSS_IDS)
def test_unit_sample_weight_equals_none(loss, out):
    net, X, y = _problem("mlp-relu", loss, out)
    v1, g1 = net.loss_and_grad(X, y, loss=loss)
    g1 = g1.copy()
    v2, g2 = net.loss_and_grad(X, y, loss=loss, sample_weight=np.full(N_SAMPLES, 2.5))
    assert v2 == pytest.approx(v1, rel=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-16)


# --------------------------------------------------------------------------- float32
def _float32_problem(arch, loss, out):
    # salt: a seed whose ReLU inputs stay > 1e-3 from the kink (float32 FD needs eps 1e-3;
    # the unsalted seed of dense-bn-relu has a BatchNorm output at 1.1e-3)
    net32, X, y = _problem(arch, loss, out, dtype="float32", salt="f32")
    net64 = Sequential(ARCHS[arch](_n_out(loss), out), n_inputs=N_IN)
    net64.theta[...] = net32.theta.astype(np.float64)
    for l32, l64 in zip(net32.layers, net64.layers, strict=True):
        for name, buf in l32.buffers().items():
            l64.buffers()[name][...] = buf
    return net32, net64, X, y


FLOAT32_CASES = (
    [(f"mlp-{a}", "mse", "identity") for a in HIDDEN]
    + [("mlp-tanh", loss, out) for loss, out in LOSS_CASES if loss != "mse"]
    + [("dense-bn-relu", "cce", "softmax"), ("dense-prelu", "bce", "logistic")]
)


@pytest.mark.parametrize("arch,loss,out", FLOAT32_CASES, ids=["-".join(c) for c in FLOAT32_CASES])
def test_float32_gradient(arch, loss, out):
    net32, net64, X, y = _float32_problem(arch, loss, out)
    v32, g32 = net32.loss_and_grad(X, y, loss=loss)
    assert g32.dtype == np.float32 and net32.theta.dtype == np.float32
    g32 = g32.copy()
    # float32 finite differences (eps 1e-3): coarse, but independent of float64
    fd = fd_grad(net32, X, y, h=1e-3, loss=loss)
    np.testing.assert_allclose(g32, fd, rtol=1e-2, atol=2e-3)
    # and the float32 gradient is the float64 one, rounded
    v64, g64 = net64.loss_and_grad(X, y, loss=loss)
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)


# --------------------------------------------------------------- loss / output mismatch
MISMATCH = [
    (loss, act)
    for loss, cls in sorted(LOSSES.items())
    if cls.link is not None
    for act in sorted(ACTIVATIONS)
    if act not in ("identity", cls.link)
]


@pytest.mark.parametrize("loss,act", MISMATCH, ids=[f"{loss}-{act}" for loss, act in MISMATCH])
def test_cross_entropy_with_wrong_last_activation_raises(loss, act, rng):
    n_out = _n_out(loss)
    net = Sequential([Dense(4, "tanh"), Dense(n_out, act)], n_inputs=N_IN, seed=0)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    y = _targets(loss, N_SAMPLES, n_out, rng)
    link = LOSSES[loss].link
    with pytest.raises(ValueError, match=link):
        net.loss_and_grad(X, y, loss=loss)
    with pytest.raises(ValueError, match=link):
        net.fit(X, y, loss=loss, epochs=1)
    net2 = Sequential(
        [Dense(n_out), ActivationLayer(act)]
        if act != "prelu"
        else [Dense(n_out), Dense(n_out, act)],
        n_inputs=N_IN,
        seed=0,
    )
    with pytest.raises(ValueError, match=link):
        net2.loss_and_grad(X, y, loss=loss)


def test_bce_with_tanh_output_raises(rng):
    net = Sequential([Dense(3, "relu"), Dense(1, "tanh")], n_inputs=2, seed=1)
    X = rng.standard_normal((5, 2))
    with pytest.raises(ValueError, match="tanh"):
        net.loss_and_grad(X, np.array([0, 1, 1, 0, 1]), loss="bce")


@pytest.mark.parametrize("act", sorted(n for n in ACTIVATIONS if n != "step"))
def test_mse_accepts_any_output_activation(act, rng):
    net = Sequential([Dense(4, "tanh"), Dense(2, act)], n_inputs=N_IN, seed=0)
    X = rng.standard_normal((N_SAMPLES, N_IN))
    value, _ = net.loss_and_grad(X, rng.standard_normal((N_SAMPLES, 2)), loss="mse")
    assert np.isfinite(value)


def test_mse_with_logistic_and_softmax_outputs_matches_fd():
    """Unfused outputs: the activation's derivative is multiplied in (softmax: full Jacobian)."""
    for out in ("logistic", "softmax"):
        rng = np.random.default_rng(_seed("mse-out", out))
        net = Sequential([Dense(4, "tanh"), Dense(3, out)], n_inputs=N_IN, seed=5)
        _randomise_non_weights(net, rng)
        X = rng.standard_normal((N_SAMPLES, N_IN))
        y = rng.uniform(0, 1, (N_SAMPLES, 3))
        assert_grad_matches_fd(net, X, y, loss="mse")


def test_mlplab_public_names():
    """The classes the tests build on are the ones exported at top level."""
    assert mlplab.Dense is Dense and mlplab.BatchNorm is BatchNorm and mlplab.PReLU is PReLU
