"""Recurrent layers (docs/recurrent.md): SimpleRNN, LSTM and GRU inside ``Sequential``.

* backpropagation through time against central finite differences (float64);
* loss and every gradient against PyTorch (``nn.RNN/LSTM/GRU``, ``batch_first=True``,
  float64, weights copied as the doc says: ``W = weight_ih_l0.T``, ...);
* truncated BPTT against a torch loop over ``nn.*Cell`` with ``h.detach()`` at the
  block boundaries (blocks of k steps counted back from the last step);
* ``hidden_grad_norms`` against ``retain_grad`` on the per-step hidden states;
* batch invariance, causality, stateful streaming, initial states, persistence,
  training on a memory task, float32, and clear errors for bad input.

PyTorch is a test-only oracle, as in test_gradients.py.
"""

from __future__ import annotations

import pickle
import zlib

import numpy as np
import pytest

import mlplab
from _gradcheck import assert_grad_matches_fd
from mlplab import ActivationLayer, BatchNorm, Dense, PReLU, Sequential

N, F, U, K = 3, 2, 3, 2  # samples, features, units, outputs: small, so FD is fast

FD_KINDS = ["rnn-tanh", "rnn-logistic", "lstm", "gru"]
TORCH_KINDS = ["rnn-tanh", "rnn-relu", "lstm", "gru"]
LAYER_KINDS = ["rnn-tanh", "lstm", "gru"]
MODES = ["seq", "last"]  # many-to-many (return_sequences=True) / many-to-one
STEPS = [1, 5, 20]


def _seed(*parts) -> int:
    """A stable, case-specific seed (so the cases see different weights and data)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) % (2**31)


def _rec(kind: str, units: int = U, **kw):
    """A recurrent layer from a short name: "rnn-<activation>", "lstm" or "gru"."""
    if kind.startswith("rnn-"):
        return mlplab.SimpleRNN(units, kind[4:], **kw)
    if kind == "lstm":
        return mlplab.LSTM(units, **kw)
    if kind == "gru":
        return mlplab.GRU(units, **kw)
    raise AssertionError(kind)


def _randomise_biases(net: Sequential, rng: np.random.Generator) -> None:
    """Biases, BatchNorm scales, PReLU slopes start at constants: make them generic."""
    for name, view in net.named_parameters():
        kind = name.split(".", 1)[1]
        if kind in ("b", "b_h", "beta"):
            view[...] = 0.3 * rng.standard_normal(view.shape)
        elif kind in ("gamma", "alpha"):
            view[...] = rng.uniform(0.3, 1.5, view.shape)


def _targets(loss: str, n: int, T: int | None, k: int, rng: np.random.Generator):
    """Targets (n, T, k) / (n, k); integer labels (n, T) / (n,) for cce."""
    lead = (n,) if T is None else (n, T)
    if loss == "mse":
        return rng.standard_normal((*lead, k))
    if loss == "bce":
        return rng.integers(0, 2, size=(*lead, k)).astype(np.float64)
    if loss == "cce":
        return rng.integers(0, k, size=lead)
    raise AssertionError(loss)


def _build(kinds, seq, *, head=None, rec_kw=None, n_in=F, seed=0, dtype="float64"):
    """Recurrent layers ``kinds`` (all but the last return sequences), then ``head``."""
    rec_kw = rec_kw or {}
    layers = [
        _rec(kind, return_sequences=seq or i < len(kinds) - 1, **rec_kw)
        for i, kind in enumerate(kinds)
    ]
    layers += head if head is not None else [Dense(K)]
    return Sequential(layers, n_inputs=n_in, seed=seed, dtype=dtype)


def _problem(kinds, T, seq, loss="mse", *, n=N, head=None, rec_kw=None, salt="", k=K):
    seed = _seed(*kinds, T, seq, loss, salt)
    rng = np.random.default_rng(seed)
    head = head if head is not None else [Dense(k)]
    net = _build(kinds, seq, head=head, rec_kw=rec_kw, seed=seed)
    _randomise_biases(net, rng)
    X = rng.standard_normal((n, T, F))
    y = _targets(loss, n, T if seq else None, k, rng)
    return net, X, y


# ----------------------------------------------------------------- finite differences
def _rec_grad_block(net: Sequential, grad: np.ndarray, layer_index: int) -> np.ndarray:
    """The part of the flat gradient that belongs to one layer."""
    parts, start = [], 0
    for name, view in net.named_parameters():
        if name.split(".", 1)[0] == str(layer_index):
            parts.append(grad[start : start + view.size])
        start += view.size
    return np.concatenate(parts)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T", STEPS)
@pytest.mark.parametrize("kind", FD_KINDS)
def test_bptt_gradient_matches_finite_differences(kind, T, mode):
    net, X, y = _problem([kind], T, mode == "seq")
    grad = assert_grad_matches_fd(net, X, y, loss="mse")
    rec = _rec_grad_block(net, grad, 0)
    assert np.abs(rec).max() > 1e-6  # the recurrent layer's gradient is really tested


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "kinds", [["rnn-tanh", "rnn-tanh"], ["lstm", "lstm"], ["gru", "gru"], ["gru", "lstm"]]
)
def test_stacked_bptt_gradient_matches_finite_differences(kinds, mode):
    net, X, y = _problem(kinds, 5, mode == "seq")
    grad = assert_grad_matches_fd(net, X, y, loss="mse")
    assert np.abs(_rec_grad_block(net, grad, 0)).max() > 1e-6  # the bottom layer too


@pytest.mark.parametrize("loss", ["bce", "cce"])
@pytest.mark.parametrize("mode", MODES)
def test_cross_entropy_losses_bptt_matches_finite_differences(loss, mode):
    net, X, y = _problem(["gru"], 5, mode == "seq", loss=loss, k=3)
    assert_grad_matches_fd(net, X, y, loss=loss)


@pytest.mark.parametrize(
    "act",
    ["identity", "logistic", "tanh", "relu", "leaky_relu", "gelu", "silu", "softplus", "elu"],
)
def test_simple_rnn_any_activation_matches_fd(act):
    """SimpleRNN takes any elementwise mlplab activation except step/prelu (and softmax)."""
    net, X, y = _problem([f"rnn-{act}"], 4, True, salt="act")
    assert_grad_matches_fd(net, X, y, loss="mse")


@pytest.mark.parametrize("mode", MODES)
def test_feed_forward_head_after_sequences_matches_fd(mode):
    """Several feed-forward layers after the recurrent one (applied at every step)."""
    head = [Dense(4, "tanh"), Dense(K)]
    net, X, y = _problem(["lstm"], 5, mode == "seq", head=head, salt="head")
    assert_grad_matches_fd(net, X, y, loss="mse")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "acts", [("logistic", "tanh"), ("relu", "logistic"), ("softplus", "tanh")]
)
def test_lstm_other_activations_match_fd(acts, mode):
    """An LSTM with other activations (not the tanh-form fast path of the default)."""
    kw = {"activation": acts[0], "recurrent_activation": acts[1]}
    net, X, y = _problem(["lstm"], 5, mode == "seq", rec_kw=kw, salt="acts")
    assert_grad_matches_fd(net, X, y, loss="mse")


@pytest.mark.parametrize("kw", [{}, {"recurrent_activation": "tanh"}])
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_backward_after_a_forward_without_training(kind, kw, rng):
    """A training forward pass keeps the backward's factors; after a plain forward
    (training=False) backward recomputes them: the same gradients either way."""
    kw = kw if kind != "rnn-tanh" else {}
    net = _build([kind, kind], True, rec_kw=kw, dtype="float64")
    X, da = rng.standard_normal((N, 6, F)), rng.standard_normal((N, 6, U))
    grads = []
    for training in (True, False):
        for inputs, train in ((2 * X + 1, True), (X, training)):  # the first fills the caches
            out = inputs
            for layer in net.layers[:2]:
                out = layer.forward(out, train)
        dx = net.layers[1].backward(da)
        net.layers[0].backward(dx)
        grads.append(np.concatenate([v.ravel() for v in net.layers[0].grads.values()]))
    np.testing.assert_array_equal(grads[0], grads[1])
    assert np.abs(grads[0]).max() > 1e-3


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_l2_and_sample_weight_gradient_match_fd(kind, rng):
    net, X, y = _problem([kind], 5, True, salt="l2sw")
    sw = rng.uniform(0.2, 2.0, N)
    assert_grad_matches_fd(net, X, y, loss="mse", l2=0.3, sample_weight=sw)


#: every activation a SimpleRNN takes (elementwise, differentiable, no parameter of its own)
RNN_ACTIVATIONS = sorted(
    n for n, c in mlplab.ACTIVATIONS.items() if c.elementwise and n not in ("step", "prelu")
)
GRADCHECK_KINDS = [f"rnn-{act}" for act in RNN_ACTIVATIONS] + ["lstm", "gru"]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("T", STEPS)
@pytest.mark.parametrize("loss", ["mse", "bce", "cce"])
@pytest.mark.parametrize("kind", GRADCHECK_KINDS)
def test_gradcheck_every_recurrent_kind_loss_and_length(kind, loss, T, seed):
    """RELIABILITY 5 for recurrent layers: every activation x loss x T in {1, 5, 20} on 3
    seeds, central differences (eps 1e-6) under gradcheck's allclose(atol 1e-5, rtol 1e-3)."""
    net, X, y = _problem([kind], T, True, loss=loss, salt=f"gradcheck-{seed}", k=3)
    grad = assert_grad_matches_fd(net, X, y, loss=loss, rtol=1e-3, atol=1e-5, h=1e-6)
    assert np.abs(_rec_grad_block(net, grad, 0)).max() > 1e-6


# ---------------------------------------------------------------------------- PyTorch
def _t(torch, a):
    return torch.from_numpy(np.array(a, dtype=np.float64))


def _torch_rec_params(torch, module, layer, kind, suffix, i, links):
    """Copy W, W_h, b (and GRU's b_h) into a torch RNN / cell; record the links."""
    p = layer.params
    w_ih, w_hh = getattr(module, "weight_ih" + suffix), getattr(module, "weight_hh" + suffix)
    b_ih, b_hh = getattr(module, "bias_ih" + suffix), getattr(module, "bias_hh" + suffix)
    with torch.no_grad():
        w_ih.copy_(_t(torch, p["W"].T))
        w_hh.copy_(_t(torch, p["W_h"].T))
        b_ih.copy_(_t(torch, p["b"]))
        if kind == "gru":
            b_hh.copy_(_t(torch, p["b_h"]))
        else:
            b_hh.zero_()  # b = bias_ih + bias_hh
    links[f"{i}.W"], links[f"{i}.W_h"], links[f"{i}.b"] = (w_ih, True), (w_hh, True), (b_ih, False)
    if kind == "gru":
        links[f"{i}.b_h"] = (b_hh, False)


class _Head:
    """The torch layers after the recurrent ones, applied at every step: (..., U) -> (..., k)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, out):
        flat = self.model(out.reshape(-1, out.shape[-1]))  # (n T, U): BatchNorm over n and T
        return flat.reshape(*out.shape[:-1], flat.shape[-1])


def _torch_head(torch, net, first, links):
    """torch modules for the feed-forward layers from index ``first`` (Dense with an
    identity / tanh activation, BatchNorm, PReLU, ActivationLayer)."""
    nn = torch.nn
    acts = {"identity": nn.Identity, "tanh": nn.Tanh, "relu": nn.ReLU, "logistic": nn.Sigmoid}
    mods = []
    for i, layer in enumerate(net.layers[first:], start=first):
        p = layer.params
        if isinstance(layer, Dense):
            lin = nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(_t(torch, p["W"].T))
                lin.bias.copy_(_t(torch, p["b"]))
            links[f"{i}.W"], links[f"{i}.b"] = (lin.weight, True), (lin.bias, False)
            mods += [lin, acts[layer.activation.name]()]
        elif isinstance(layer, BatchNorm):
            bn = nn.BatchNorm1d(
                layer.n_in, eps=layer.eps, momentum=layer.momentum, dtype=torch.float64
            )
            with torch.no_grad():
                bn.weight.copy_(_t(torch, p["gamma"]))
                bn.bias.copy_(_t(torch, p["beta"]))
            links[f"{i}.gamma"], links[f"{i}.beta"] = (bn.weight, False), (bn.bias, False)
            mods.append(bn)
        elif isinstance(layer, PReLU):
            pr = nn.PReLU(num_parameters=layer.n_in, dtype=torch.float64)
            with torch.no_grad():
                pr.weight.copy_(_t(torch, p["alpha"]))
            links[f"{i}.alpha"] = (pr.weight, False)
            mods.append(pr)
        elif isinstance(layer, ActivationLayer):
            mods.append(acts[layer.activation.name]())
        else:
            raise AssertionError(type(layer).__name__)
    return _Head(nn.Sequential(*mods))


def _torch_modules(torch, net, kinds):
    """(list of nn.RNN/LSTM/GRU, head, links) copied from an mlplab net."""
    nn = torch.nn
    links, mods = {}, []
    for i, kind in enumerate(kinds):
        layer = net.layers[i]
        n_in, units = layer.params["W"].shape[0], layer.params["W_h"].shape[0]
        opts = {"batch_first": True, "dtype": torch.float64}
        if kind.startswith("rnn-"):
            m = nn.RNN(n_in, units, nonlinearity=kind[4:], **opts)
        elif kind == "lstm":
            m = nn.LSTM(n_in, units, **opts)
        else:
            m = nn.GRU(n_in, units, **opts)
        _torch_rec_params(torch, m, layer, kind, "_l0", i, links)
        mods.append(m)
    return mods, _torch_head(torch, net, len(kinds), links), links


def _torch_cells(torch, net, kinds):
    """(list of nn.RNNCell/LSTMCell/GRUCell, head, links) copied from an mlplab net."""
    nn = torch.nn
    links, cells = {}, []
    for i, kind in enumerate(kinds):
        layer = net.layers[i]
        n_in, units = layer.params["W"].shape[0], layer.params["W_h"].shape[0]
        if kind.startswith("rnn-"):
            c = nn.RNNCell(n_in, units, nonlinearity=kind[4:], dtype=torch.float64)
        elif kind == "lstm":
            c = nn.LSTMCell(n_in, units, dtype=torch.float64)
        else:
            c = nn.GRUCell(n_in, units, dtype=torch.float64)
        _torch_rec_params(torch, c, layer, kind, "", i, links)
        cells.append(c)
    return cells, _torch_head(torch, net, len(kinds), links), links


def _torch_unroll(torch, cells, kinds, x, *, truncate=None, init=None, keep=None):
    """Run the cells over time, layer after layer; return the top layer's (n, T, U).

    ``truncate=k``: the state entering step t is detached when (T - t) % k == 0
    (blocks of k steps counted back from the last). ``init[i]``: the initial state of
    layer i (h, or (h, c) for LSTM). ``keep[i]``: receives the per-step h_t with
    ``retain_grad()``. Returns also the last state of every layer.
    """
    n, T = x.shape[0], x.shape[1]
    last_states = []
    for i, (cell, kind) in enumerate(zip(cells, kinds, strict=True)):
        units = cell.hidden_size
        if init is not None and init[i] is not None:
            state = init[i]
        else:
            zero = torch.zeros(n, units, dtype=torch.float64)
            state = (zero, zero.clone()) if kind == "lstm" else zero
        hs = []
        for t in range(T):
            if truncate is not None and t > 0 and (T - t) % truncate == 0:
                state = tuple(s.detach() for s in state) if kind == "lstm" else state.detach()
            state = cell(x[:, t], state)
            h = state[0] if kind == "lstm" else state
            if keep is not None:
                h.retain_grad()
                keep[i].append(h)
            hs.append(h)
        x = torch.stack(hs, dim=1)
        last_states.append(state)
    return x, last_states


def _torch_loss(torch, loss, out, y, sample_weight=None):
    """mean over samples, steps and outputs (MSELoss / BCEWithLogits); cce: over samples
    and steps (CrossEntropyLoss on (n*T, k))."""
    F_ = torch.nn.functional
    k = out.shape[-1]
    if loss == "cce":
        labels = torch.from_numpy(np.asarray(y, dtype=np.int64)).reshape(-1)
        per = F_.cross_entropy(out.reshape(-1, k), labels, reduction="none")
        per = per.reshape(out.shape[:-1])[..., None]
    else:
        t = _t(torch, y).reshape(out.shape)
        if loss == "mse":
            per = (out - t) ** 2
        else:
            per = F_.binary_cross_entropy_with_logits(out, t, reduction="none")
    if sample_weight is None:
        return per.mean()
    w = _t(torch, sample_weight).reshape((-1,) + (1,) * (per.ndim - 1))
    return (w * per).sum() / (w.sum() * (per.numel() // per.shape[0]))


def _assert_grads_match(net, links, value, t_loss, grad=None, tol=1e-8):
    assert abs(value - t_loss.item()) <= tol * abs(t_loss.item()), (value, t_loss.item())
    assert sorted(n for n, _ in net.named_parameters()) == sorted(links)
    for name, g in net.named_gradients():
        p, transposed = links[name]
        ref = p.grad.numpy().T if transposed else p.grad.numpy()
        assert g.shape == ref.shape, (name, g.shape, ref.shape)
        err = np.linalg.norm(g - ref)
        assert err <= tol * np.linalg.norm(ref) + 1e-13, (  # 1e-13: exact zeros (b before BN)
            f"{name}: rel. error {err / max(np.linalg.norm(ref), 1e-300):.3g}\n{g}\nvs torch\n{ref}"
        )
    if grad is not None:  # the flat gradient is the concatenation of the named gradients
        flat = np.concatenate([g.ravel() for _, g in net.named_gradients()])
        np.testing.assert_array_equal(grad, flat)


def _assert_matches_torch_modules(net, kinds, X, y, seq, loss="mse", tol=1e-8):
    torch = pytest.importorskip("torch")
    mods, head, links = _torch_modules(torch, net, kinds)
    value, grad = net.loss_and_grad(X, y, loss=loss)
    out = _t(torch, X)
    for m in mods:
        out, _ = m(out)
    hidden = out
    if not seq:
        out = out[:, -1]
    out = head(out)
    t_loss = _torch_loss(torch, loss, out, y)
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad, tol)
    # the top recurrent layer's hidden states of that forward pass
    hs = net.layers[len(kinds) - 1].hidden_states
    np.testing.assert_allclose(hs, hidden.detach().numpy(), rtol=1e-10, atol=1e-12)
    # BatchNorm running statistics after that one training pass (over samples and steps)
    bns = [m for m in head.model if isinstance(m, torch.nn.BatchNorm1d)]
    ours = [layer for layer in net.layers if isinstance(layer, BatchNorm)]
    assert len(bns) == len(ours)
    for layer, bn in zip(ours, bns, strict=True):
        np.testing.assert_allclose(layer.running_mean, bn.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(layer.running_var, bn.running_var.numpy(), rtol=1e-12)
    # inference output == torch output (BatchNorm: running statistics)
    head.model.eval()
    with torch.no_grad():
        ref = _t(torch, X)
        for m in mods:
            ref, _ = m(ref)
        ref = head(ref if seq else ref[:, -1]).numpy()
    np.testing.assert_allclose(net.forward(X), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T", STEPS)
@pytest.mark.parametrize("kind", TORCH_KINDS)
def test_loss_and_gradient_match_torch(kind, T, mode, seed):
    salt = "torch" if seed == 0 else f"torch-{seed}"  # seed 0: the original case
    net, X, y = _problem([kind], T, mode == "seq", n=5, salt=salt)
    _assert_matches_torch_modules(net, [kind], X, y, mode == "seq")
    out = net.forward(X)
    assert out.shape == ((5, T, K) if mode == "seq" else (5, K))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "kinds", [["lstm", "lstm"], ["gru", "gru"], ["rnn-tanh", "rnn-tanh"], ["rnn-tanh", "gru"]]
)
def test_stacked_layers_match_torch(kinds, mode):
    net, X, y = _problem(kinds, 7, mode == "seq", n=4, salt="stack")
    _assert_matches_torch_modules(net, kinds, X, y, mode == "seq")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("loss", ["bce", "cce"])
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_cross_entropy_losses_match_torch(kind, loss, mode):
    """cce: integer labels (n,) / (n, T) vs torch cross_entropy; bce: vs BCE with logits."""
    net, X, y = _problem([kind], 6, mode == "seq", loss=loss, n=5, k=3, salt="ce")
    _assert_matches_torch_modules(net, [kind], X, y, mode == "seq", loss=loss)


HEADS = {
    "dense-tanh": lambda: [Dense(4, "tanh"), Dense(K)],
    "batchnorm": lambda: [BatchNorm(), Dense(K)],
    "dense-bn-relu": lambda: [Dense(4), BatchNorm(), ActivationLayer("relu"), Dense(K)],
    "prelu": lambda: [PReLU(0.25), Dense(K)],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("head", sorted(HEADS))
def test_feed_forward_layers_after_recurrent_match_torch(head, mode):
    """Dense, BatchNorm, ActivationLayer, PReLU after the recurrent layer; with
    sequences they act at every step (BatchNorm statistics over samples and steps)."""
    seq = mode == "seq"
    net, X, y = _problem(["gru"], 6, seq, n=4, head=HEADS[head](), salt="torch-" + head)
    _assert_matches_torch_modules(net, ["gru"], X, y, seq)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_recurrent_only_network_matches_torch(kind, mode):
    """No feed-forward layer at all: the hidden states are the output."""
    seq = mode == "seq"
    net, X, y = _problem([kind], 5, seq, n=4, head=[], k=U, salt="bare")
    _assert_matches_torch_modules(net, [kind], X, y, seq)
    assert net.forward(X).shape == ((4, 5, U) if seq else (4, U))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_sample_weight_matches_torch(kind, mode, rng):
    """A sample weight weighs every step of its sequence."""
    torch = pytest.importorskip("torch")
    seq = mode == "seq"
    net, X, y = _problem([kind], 5, seq, n=4, salt="sw")
    sw = rng.uniform(0.2, 3.0, 4)
    mods, head, links = _torch_modules(torch, net, [kind])
    value, grad = net.loss_and_grad(X, y, loss="mse", sample_weight=sw)
    out, _ = mods[0](_t(torch, X))
    out = head(out if seq else out[:, -1])
    t_loss = _torch_loss(torch, "mse", out, y, sample_weight=sw)
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad)


@pytest.mark.parametrize("mode", MODES)
def test_softmax_output_equals_logits_for_cce(mode):
    """cce fuses with a softmax output at every step, as it does with logits."""
    seq = mode == "seq"
    net, X, y = _problem(["lstm"], 5, seq, loss="cce", k=3, salt="fused")
    soft = _build(["lstm"], seq, head=[Dense(3, "softmax")], seed=0)
    soft.theta[...] = net.theta
    v1, g1 = net.loss_and_grad(X, y, loss="cce")
    g1 = g1.copy()
    v2, g2 = soft.loss_and_grad(X, y, loss="cce")
    assert v2 == pytest.approx(v1, rel=1e-14)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-16)
    probs = soft.predict(X)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-12)
    # one-hot targets (n, T, k) give the same as integer labels (n, T)
    v3, _ = net.loss_and_grad(X, np.eye(3)[y], loss="cce")
    assert v3 == pytest.approx(v1, rel=1e-14)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_l2_penalises_weight_matrices_not_biases(kind):
    """(l2/2) * sum ||.||^2 over W and W_h of the recurrent layer and W of Dense."""
    l2 = 0.37
    net, X, y = _problem([kind], 5, True, salt="l2")
    v0, g0 = net.loss_and_grad(X, y, loss="mse")
    g0 = g0.copy()
    v1, g1 = net.loss_and_grad(X, y, loss="mse", l2=l2)
    params = net.named_parameters()
    weights = [v for name, v in params if name.split(".")[1] in ("W", "W_h")]
    assert v1 - v0 == pytest.approx(0.5 * l2 * sum(float(np.sum(w * w)) for w in weights))
    expected = np.concatenate(
        [(l2 * v if name.split(".")[1] in ("W", "W_h") else 0 * v).ravel() for name, v in params]
    )
    np.testing.assert_allclose(g1 - g0, expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-logistic", "rnn-softplus", "lstm", "gru"])
def test_huge_inputs_stay_finite_without_warnings(kind, rng):
    """Saturating gates on inputs of 1e4 (pytest turns numpy overflow warnings into errors)."""
    net, _, _ = _problem([kind], 30, True, salt="huge")
    X = rng.standard_normal((N, 30, F)) * 1e4
    y = rng.standard_normal((N, 30, K))
    value, grad = net.loss_and_grad(X, y, loss="mse")
    assert np.isfinite(value) and np.isfinite(grad).all()
    assert np.isfinite(net.layers[0].hidden_grad_norms).all()


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_integer_sample_weight_equals_repeated_sequences(kind):
    net, X, y = _problem([kind], 5, True, n=5, salt="rep")
    counts = np.array([2, 0, 1, 3, 1])
    v_w, g_w = net.loss_and_grad(X, y, loss="mse", sample_weight=counts.astype(float))
    g_w = g_w.copy()
    idx = np.repeat(np.arange(5), counts)
    v_r, g_r = net.loss_and_grad(X[idx], y[idx], loss="mse")
    assert v_w == pytest.approx(v_r, rel=1e-12)
    np.testing.assert_allclose(g_w, g_r, rtol=1e-10, atol=1e-14)


def test_single_output_targets_n_by_T_equal_n_by_T_by_1():
    net, X, y = _problem(["lstm"], 5, True, k=1, salt="k1")
    assert y.shape == (N, 5, 1)
    v3, g3 = net.loss_and_grad(X, y, loss="mse")
    g3 = g3.copy()
    v2, g2 = net.loss_and_grad(X, y[..., 0], loss="mse")
    assert v2 == v3
    np.testing.assert_array_equal(g2, g3)
    assert net.forward(X).shape == (N, 5, 1)


# -------------------------------------------------------------------------- truncation
TRUNC = [(5, 1), (5, 2), (6, 3), (20, 3), (20, 7)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T,k", TRUNC, ids=[f"T{T}-k{k}" for T, k in TRUNC])
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_truncated_bptt_matches_torch_detach(kind, T, k, mode):
    torch = pytest.importorskip("torch")
    seq = mode == "seq"
    net, X, y = _problem([kind], T, seq, n=4, rec_kw={"truncate": k}, salt="trunc")
    cells, head, links = _torch_cells(torch, net, [kind])
    value, grad = net.loss_and_grad(X, y, loss="mse")
    hs, _ = _torch_unroll(torch, cells, [kind], _t(torch, X), truncate=k)
    out = head(hs if seq else hs[:, -1])
    t_loss = _torch_loss(torch, "mse", out, y)
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad)
    # in the last block no path is cut: ||dJ/dh_t|| there is the full-BPTT one
    trunc_norms = net.layers[0].hidden_grad_norms.copy()
    full = _build([kind], seq, seed=0)
    full.theta[...] = net.theta
    full.loss_and_grad(X, y, loss="mse")
    np.testing.assert_allclose(
        trunc_norms[T - k :], full.layers[0].hidden_grad_norms[T - k :], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("mode", MODES)
def test_stacked_truncated_bptt_matches_torch_detach(mode):
    torch = pytest.importorskip("torch")
    seq, kinds = mode == "seq", ["gru", "lstm"]
    net, X, y = _problem(kinds, 9, seq, n=4, rec_kw={"truncate": 4}, salt="trunc2")
    cells, head, links = _torch_cells(torch, net, kinds)
    value, grad = net.loss_and_grad(X, y, loss="mse")
    hs, _ = _torch_unroll(torch, cells, kinds, _t(torch, X), truncate=4)
    out = head(hs if seq else hs[:, -1])
    t_loss = _torch_loss(torch, "mse", out, y)
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad)


def test_torch_cell_oracle_equals_torch_module():
    """The cell-loop oracle (full BPTT) agrees with nn.LSTM: the oracle itself is right."""
    torch = pytest.importorskip("torch")
    net, X, y = _problem(["lstm"], 6, True, n=3, salt="oracle")
    cells, head_c, _ = _torch_cells(torch, net, ["lstm"])
    mods, _, _ = _torch_modules(torch, net, ["lstm"])
    hs, _ = _torch_unroll(torch, cells, ["lstm"], _t(torch, X))
    ref, _ = mods[0](_t(torch, X))
    np.testing.assert_allclose(hs.detach().numpy(), ref.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("extra", [0, 3])
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_truncate_at_least_T_is_full_bptt_exactly(kind, extra, mode):
    T, seq = 6, mode == "seq"
    full, X, y = _problem([kind], T, seq, salt="texact")
    trunc = _build([kind], seq, rec_kw={"truncate": T + extra})
    trunc.theta[...] = full.theta
    v1, g1 = full.loss_and_grad(X, y, loss="mse")
    g1 = g1.copy()
    v2, g2 = trunc.loss_and_grad(X, y, loss="mse")
    assert v1 == v2
    np.testing.assert_array_equal(g2, g1)
    # and a shorter truncation really changes the gradient of the recurrent weights
    short = _build([kind], seq, rec_kw={"truncate": 2})
    short.theta[...] = full.theta
    _, g3 = short.loss_and_grad(X, y, loss="mse")
    assert not np.allclose(_rec_grad_block(short, g3, 0), _rec_grad_block(full, g1, 0))


# ------------------------------------------------------------------ hidden_grad_norms
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T", [1, 5, 20])
@pytest.mark.parametrize("kind", TORCH_KINDS)
def test_hidden_grad_norms_match_torch(kind, T, mode):
    torch = pytest.importorskip("torch")
    seq = mode == "seq"
    net, X, y = _problem([kind], T, seq, n=4, salt="hgn")
    cells, head, _ = _torch_cells(torch, net, [kind])
    net.loss_and_grad(X, y, loss="mse")
    keep = [[]]
    hs, _ = _torch_unroll(torch, cells, [kind], _t(torch, X), keep=keep)
    _torch_loss(torch, "mse", head(hs if seq else hs[:, -1]), y).backward()
    ref = np.array([np.linalg.norm(h.grad.numpy()) for h in keep[0]])
    norms = np.asarray(net.layers[0].hidden_grad_norms)
    assert norms.shape == (T,)
    np.testing.assert_allclose(norms, ref, rtol=1e-8, atol=1e-15)
    assert net.layers[0].hidden_states.shape == (4, T, U)


@pytest.mark.parametrize("mode", MODES)
def test_hidden_grad_norms_of_stacked_layers_match_torch(mode):
    torch = pytest.importorskip("torch")
    seq, kinds = mode == "seq", ["lstm", "gru"]
    net, X, y = _problem(kinds, 8, seq, n=4, salt="hgn2")
    cells, head, _ = _torch_cells(torch, net, kinds)
    net.loss_and_grad(X, y, loss="mse")
    keep = [[], []]
    hs, _ = _torch_unroll(torch, cells, kinds, _t(torch, X), keep=keep)
    _torch_loss(torch, "mse", head(hs if seq else hs[:, -1]), y).backward()
    for i in range(2):
        ref = np.array([np.linalg.norm(h.grad.numpy()) for h in keep[i]])
        np.testing.assert_allclose(net.layers[i].hidden_grad_norms, ref, rtol=1e-8, atol=1e-15)


def test_hidden_grad_norms_vanish_back_in_time_for_small_weights():
    """With small recurrent weights the many-to-one gradient shrinks towards early steps."""
    net = _build(
        ["rnn-tanh"], False, rec_kw={"recurrent_init": {"name": "orthogonal", "gain": 0.3}}, seed=4
    )
    rng = np.random.default_rng(4)
    X = rng.standard_normal((5, 15, F))
    net.loss_and_grad(X, rng.standard_normal((5, K)), loss="mse")
    g = net.layers[0].hidden_grad_norms
    assert g[-1] > 0 and g[0] < 1e-3 * g[-1]
    assert np.all(np.diff(g) > 0)


# ----------------------------------------------------------------------- cell.step
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_cell_step_matches_torch_cell_and_unrolls_to_the_layer(kind, rng):
    torch = pytest.importorskip("torch")
    net, X, _ = _problem([kind], 4, True, n=3, salt="cell")
    layer = net.layers[0]
    cells, _, _ = _torch_cells(torch, net, [kind])
    h = rng.standard_normal((3, U))
    state = (h, rng.standard_normal((3, U))) if kind == "lstm" else h
    new = layer.cell.step(X[:, 0], state)
    t_state = tuple(_t(torch, s) for s in state) if kind == "lstm" else _t(torch, state)
    ref = cells[0](_t(torch, X[:, 0]), t_state)
    if kind == "lstm":
        for a, b in zip(new, ref, strict=True):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(new, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    # the layer is the unroll of its cell from the zero state
    net.forward(X)
    zero = np.zeros((3, U))
    state = (zero, zero.copy()) if kind == "lstm" else zero
    for t in range(4):
        state = layer.cell.step(X[:, t], state)
        h = state[0] if kind == "lstm" else state
        np.testing.assert_allclose(layer.hidden_states[:, t], h, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------ batch invariance, causality
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_batch_prediction_equals_one_sequence_at_a_time(kind, mode):
    net, X, _ = _problem([kind, kind], 9, mode == "seq", n=6, salt="batch")
    out = net.predict(X)
    for i in range(6):
        np.testing.assert_allclose(net.predict(X[i : i + 1]), out[i : i + 1], rtol=0, atol=1e-9)
    # permuting the batch permutes the outputs
    perm = np.array([3, 0, 5, 1, 4, 2])
    np.testing.assert_allclose(net.predict(X[perm]), out[perm], rtol=0, atol=1e-9)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_outputs_are_causal_and_length_free(kind):
    """Output t depends only on steps <= t; any sequence length is accepted."""
    net, X, _ = _problem([kind], 10, True, n=3, salt="causal")
    out = net.predict(X)
    for t in (1, 4, 7):
        np.testing.assert_allclose(net.predict(X[:, :t]), out[:, :t], rtol=1e-12, atol=1e-13)
    X2 = X.copy()
    X2[:, 6:] += 1.0
    out2 = net.predict(X2)
    np.testing.assert_array_equal(out2[:, :6], out[:, :6])
    assert not np.allclose(out2[:, 6:], out[:, 6:])
    # many-to-one over a prefix = the many-to-many output at that step
    last = _build([kind], False, seed=0)
    last.theta[...] = net.theta
    np.testing.assert_allclose(last.predict(X[:, :7]), out[:, 6], rtol=1e-12, atol=1e-13)


def test_non_stateful_calls_are_independent():
    net, X, _ = _problem(["lstm"], 6, True, salt="indep")
    a = net.forward(X)
    net.forward(X[:, ::-1] * 3.0)
    np.testing.assert_array_equal(net.forward(X), a)


# ------------------------------------------------------------------ state and streaming
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_stateful_streaming_equals_the_whole_sequence(kind, mode):
    seq = mode == "seq"
    net, X, _ = _problem([kind, kind], 12, seq, n=4, rec_kw={"stateful": True}, salt="stream")
    layers = net.layers[:2]
    full = net.forward(X)
    for layer in layers:
        layer.reset_states()
    parts = [net.forward(X[:, a:b]) for a, b in [(0, 5), (5, 6), (6, 12)]]
    if seq:
        np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=1e-12, atol=1e-13)
    else:
        np.testing.assert_allclose(parts[-1], full, rtol=1e-12, atol=1e-13)
    # without a reset the state carries on: feeding X again gives other outputs
    again = net.forward(X)
    assert not np.allclose(again, full)
    # reset_states() goes back to the initial (zero) state
    for layer in layers:
        layer.reset_states()
    np.testing.assert_allclose(net.forward(X), full, rtol=1e-12, atol=1e-13)
    # and a stateless copy with the same weights gives the same outputs on the whole X
    plain = _build([kind, kind], seq, seed=0)
    plain.theta[...] = net.theta
    np.testing.assert_allclose(plain.forward(X), full, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_stateful_gradient_does_not_cross_the_call_boundary(kind):
    """loss_and_grad on the second chunk = torch from the first chunk's (constant) state."""
    torch = pytest.importorskip("torch")
    net, X, y = _problem([kind], 10, True, n=4, rec_kw={"stateful": True}, salt="sgrad")
    cells, head, links = _torch_cells(torch, net, [kind])
    net.forward(X[:, :4])
    value, grad = net.loss_and_grad(X[:, 4:], y[:, 4:], loss="mse")
    with torch.no_grad():
        _, states = _torch_unroll(torch, cells, [kind], _t(torch, X[:, :4]))
    hs, _ = _torch_unroll(torch, cells, [kind], _t(torch, X[:, 4:]), init=states)
    t_loss = _torch_loss(torch, "mse", head(hs), y[:, 4:])
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad)


def _initial_state(kind, shape, rng):
    h = rng.standard_normal(shape)
    return (h, rng.standard_normal(shape)) if kind == "lstm" else h


@pytest.mark.parametrize("per_sample", [False, True], ids=["shape-U", "shape-nU"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_initial_state_matches_torch_h0(kind, mode, per_sample, rng):
    torch = pytest.importorskip("torch")
    seq, n = mode == "seq", 4
    net, X, y = _problem([kind], 5, seq, n=n, salt="h0")
    n_params = net.n_params
    init = _initial_state(kind, (n, U) if per_sample else (U,), rng)
    net.layers[0].initial_state = init
    assert net.n_params == n_params  # not a trained parameter
    cells, head, links = _torch_cells(torch, net, [kind])
    value, grad = net.loss_and_grad(X, y, loss="mse")

    def full(a):
        return _t(torch, np.broadcast_to(a, (n, U)))

    t_init = tuple(full(a) for a in init) if kind == "lstm" else full(init)
    hs, _ = _torch_unroll(torch, cells, [kind], _t(torch, X), init=[t_init])
    out = head(hs if seq else hs[:, -1])
    t_loss = _torch_loss(torch, "mse", out, y)
    t_loss.backward()
    _assert_grads_match(net, links, value, t_loss, grad)
    np.testing.assert_allclose(net.forward(X), out.detach().numpy(), rtol=1e-10, atol=1e-12)
    # the same through nn.RNN / nn.LSTM / nn.GRU with h0 (and c0) of shape (1, n, U)
    mods, head_m, _ = _torch_modules(torch, net, [kind])
    h0 = tuple(s[None] for s in t_init) if kind == "lstm" else t_init[None]
    ref, _ = mods[0](_t(torch, X), h0)
    ref = head_m(ref if seq else ref[:, -1])
    np.testing.assert_allclose(net.forward(X), ref.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_reset_states_restores_the_initial_state(kind, rng):
    net, X, _ = _problem([kind], 8, True, n=3, rec_kw={"stateful": True}, salt="reset")
    layer = net.layers[0]
    layer.initial_state = _initial_state(kind, (3, U), rng)
    layer.reset_states()
    first = net.forward(X)
    chunks = np.concatenate([net.forward(X[:, :3]), net.forward(X[:, 3:])], axis=1)
    assert not np.allclose(chunks, first)  # continued from the end of the first call
    layer.reset_states()
    np.testing.assert_allclose(net.forward(X), first, rtol=1e-12, atol=1e-13)
    layer.reset_states()
    chunks = np.concatenate([net.forward(X[:, :3]), net.forward(X[:, 3:])], axis=1)
    np.testing.assert_allclose(chunks, first, rtol=1e-12, atol=1e-13)
    # a stateless layer with the same initial state starts every call there
    plain = _build([kind], True, seed=0)
    plain.theta[...] = net.theta
    plain.layers[0].initial_state = layer.initial_state
    np.testing.assert_allclose(plain.forward(X), first, rtol=1e-12, atol=1e-13)


# ------------------------------------------------------------------------ persistence
def _saved_layers(kind):
    """Two stacked recurrent layers with non-default options, then a Dense head."""
    kw = {"return_sequences": True, "truncate": 3}
    if kind == "rnn":
        rec = [mlplab.SimpleRNN(4, "logistic", **kw), mlplab.SimpleRNN(3)]
    elif kind == "lstm":
        rec = [
            mlplab.LSTM(4, unit_forget_bias=False, **kw),
            mlplab.LSTM(3, recurrent_activation="tanh"),
        ]
    else:
        rec = [mlplab.GRU(4, **kw), mlplab.GRU(3, activation="elu")]
    return [*rec, Dense(4, "tanh"), Dense(2)]


def _saved_problem(kind, rng):
    net = Sequential(_saved_layers(kind), n_inputs=F, seed=11)
    net.theta[...] = rng.standard_normal(net.theta.size) * 0.5
    X = rng.standard_normal((5, 7, F))
    return net, X


PERSIST_KINDS = ["rnn", "lstm", "gru"]


@pytest.mark.parametrize("kind", PERSIST_KINDS)
def test_save_load_round_trip(kind, tmp_path, rng):
    net, X = _saved_problem(kind, rng)
    path = tmp_path / f"{kind}.mlplab"
    mlplab.save(net, path)
    net2 = mlplab.load(path)
    assert type(net2) is Sequential
    assert [type(a) for a in net2.layers] == [type(b) for b in net.layers]
    assert net2.get_config() == net.get_config()
    np.testing.assert_array_equal(net2.theta, net.theta)
    np.testing.assert_array_equal(net2.predict(X), net.predict(X))
    y = rng.standard_normal((5, 2))  # the top recurrent layer is many-to-one
    v1, g1 = net.loss_and_grad(X, y)
    g1 = g1.copy()
    v2, g2 = net2.loss_and_grad(X, y)
    assert v1 == v2
    np.testing.assert_array_equal(g1, g2)


@pytest.mark.parametrize("kind", PERSIST_KINDS)
def test_pickle_round_trip(kind, rng):
    net, X = _saved_problem(kind, rng)
    net2 = pickle.loads(pickle.dumps(net))
    assert net2.get_config() == net.get_config()
    np.testing.assert_array_equal(net2.predict(X), net.predict(X))


@pytest.mark.parametrize("kind", PERSIST_KINDS)
def test_get_config_from_config_rebuilds_the_architecture(kind, rng):
    net, X = _saved_problem(kind, rng)
    config = net.get_config()
    twin = Sequential.from_config(config)
    assert twin.get_config() == config
    assert [(n, v.shape) for n, v in twin.named_parameters()] == [
        (n, v.shape) for n, v in net.named_parameters()
    ]
    for a, b in zip(twin.layers, net.layers, strict=True):
        assert type(a) is type(b)
        for attr in ("return_sequences", "stateful", "truncate"):
            if hasattr(b, attr):
                assert getattr(a, attr) == getattr(b, attr)
    # the config holds the seed: a rebuilt net has the same initial weights as a fresh one
    fresh = Sequential(_saved_layers(kind), n_inputs=F, seed=11)
    np.testing.assert_array_equal(Sequential.from_config(config).theta, fresh.theta)
    # with the weights copied it computes the same function
    twin.theta[...] = net.theta
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))
    # a stateful layer stays stateful
    st = _build([kind if kind != "rnn" else "rnn-tanh"], True, rec_kw={"stateful": True})
    assert Sequential.from_config(st.get_config()).layers[0].stateful is True


def test_recurrent_layer_defaults_and_initialisation():
    rnn = mlplab.SimpleRNN(4, return_sequences=True)
    lstm = mlplab.LSTM(3)
    gru = mlplab.GRU(2)
    assert lstm.return_sequences is False and gru.stateful is False and rnn.truncate is None
    net = Sequential(
        [rnn, mlplab.LSTM(3, return_sequences=True), gru, Dense(1)], n_inputs=2, seed=0
    )
    p = dict(net.named_parameters())
    assert {k: v.shape for k, v in p.items()} == {
        "0.W": (2, 4), "0.W_h": (4, 4), "0.b": (4,),
        "1.W": (4, 12), "1.W_h": (3, 12), "1.b": (12,),
        "2.W": (3, 6), "2.W_h": (2, 6), "2.b": (6,), "2.b_h": (6,),
        "3.W": (2, 1), "3.b": (1,),
    }  # fmt: skip
    # every parameter is a view into theta
    for v in p.values():
        assert np.shares_memory(v, net.theta)
    # recurrent_init="orthogonal": the square SimpleRNN W_h is orthogonal
    np.testing.assert_allclose(p["0.W_h"] @ p["0.W_h"].T, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(p["0.b"], 0.0)
    # unit_forget_bias=True: the forget gate's bias starts at 1, the others at 0
    np.testing.assert_array_equal(p["1.b"][3:6], 1.0)
    np.testing.assert_array_equal(np.r_[p["1.b"][:3], p["1.b"][6:]], 0.0)
    off = Sequential([mlplab.LSTM(3, unit_forget_bias=False), Dense(1)], n_inputs=2, seed=0)
    np.testing.assert_array_equal(dict(off.named_parameters())["0.b"], 0.0)
    # the same seed gives bit-identical weights
    again = Sequential(
        [
            mlplab.SimpleRNN(4, return_sequences=True),
            mlplab.LSTM(3, return_sequences=True),
            mlplab.GRU(2),
            Dense(1),
        ],
        n_inputs=2,
        seed=0,
    )
    np.testing.assert_array_equal(again.theta, net.theta)


# --------------------------------------------------------------------------- training
def _delay_task(n, T, delay, rng):
    X = rng.standard_normal((n, T, 1))
    y = np.zeros((n, T, 1))
    y[:, delay:] = X[:, :-delay]
    return X, y


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fit_learns_a_delay_memory_task(kind, rng):
    """y_t = x_{t-3}: needs memory; adam lowers the loss by a large factor."""
    X, y = _delay_task(64, 10, 3, rng)
    net = Sequential([_rec(kind, 12, return_sequences=True), Dense(1)], n_inputs=1, seed=1)
    before = net.loss(X, y)
    hist = net.fit(
        X, y, loss="mse", optimizer="adam", learning_rate=0.02, epochs=150, batch_size=16, seed=0
    )
    after = net.loss(X, y)
    assert np.isfinite(hist["loss"]).all()
    assert after < before / 100, (before, after)
    # generalises to fresh sequences (it learnt the rule, not the samples)
    Xt, yt = _delay_task(32, 10, 3, np.random.default_rng(99))
    assert net.loss(Xt, yt) < before / 30


@pytest.mark.parametrize("kind", ["rnn-tanh", "lstm", "gru"])
def test_fit_learns_a_sequence_sum_many_to_one(kind, rng):
    X = rng.uniform(-1, 1, (64, 6, 1))
    y = X.sum(axis=(1, 2))
    net = Sequential([_rec(kind, 8), Dense(1)], n_inputs=1, seed=2)
    before = net.loss(X, y)
    net.fit(
        X, y, loss="mse", optimizer="adam", learning_rate=0.02, epochs=150, batch_size=16, seed=0
    )
    assert net.loss(X, y) < before / 10


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_float32_end_to_end(kind, rng):
    X, y = _delay_task(32, 6, 1, rng)
    net32 = Sequential(
        [_rec(kind, 6, return_sequences=True), Dense(1)], n_inputs=1, seed=3, dtype="float32"
    )
    net64 = Sequential([_rec(kind, 6, return_sequences=True), Dense(1)], n_inputs=1, seed=3)
    net64.theta[...] = net32.theta
    out = net32.forward(X)
    assert out.dtype == np.float32 and out.shape == (32, 6, 1)
    assert net32.layers[0].hidden_states.dtype == np.float32
    v32, g32 = net32.loss_and_grad(X, y)
    assert g32.dtype == np.float32
    assert net32.layers[0].hidden_grad_norms.dtype == np.float32
    v64, g64 = net64.loss_and_grad(X, y)
    assert v32 == pytest.approx(v64, rel=1e-5)
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-5)
    before = net32.loss(X, y)
    net32.fit(X, y, optimizer="adam", learning_rate=0.02, epochs=60, seed=0)
    assert net32.theta.dtype == np.float32
    assert net32.forward(X).dtype == np.float32
    assert net32.loss(X, y) < before / 3


def test_fit_with_validation_metrics_and_sample_weight_on_sequences(rng):
    X, y = _delay_task(40, 8, 1, rng)
    Xv, yv = _delay_task(12, 8, 1, np.random.default_rng(5))
    net = Sequential([mlplab.GRU(6, return_sequences=True), Dense(1)], n_inputs=1, seed=0)
    sw = rng.uniform(0.5, 2.0, 40)
    hist = net.fit(
        X,
        y,
        validation_data=(Xv, yv[..., 0]),
        metrics=("mse", "mae"),
        epochs=4,
        sample_weight=sw,
        batch_size=8,
        seed=0,
    )
    assert len(hist["loss"]) == len(hist["val_loss"]) == len(hist["val_mae"]) == 4
    # the epoch-end metrics are over every sample and step
    assert hist["val_loss"][-1] == pytest.approx(net.loss(Xv, yv), rel=1e-10)
    assert hist["mse"][-1] == pytest.approx(net.loss(X, y), rel=1e-10)
    assert hist["val_mae"][-1] == pytest.approx(np.abs(net.predict(Xv) - yv).mean(), rel=1e-10)
    hist = net.fit(X, y, validation_split=0.25, epochs=2, seed=0)
    assert len(hist["val_loss"]) == 2 and np.isfinite(hist["val_loss"]).all()


def test_fit_many_to_many_classification_with_integer_labels(rng):
    """cce with labels (n, T): is x_{t-1} > 0 ? (one step of memory)."""
    X = rng.standard_normal((64, 8, 1))
    y = np.zeros((64, 8), dtype=int)
    y[:, 1:] = X[:, :-1, 0] > 0
    net = Sequential([mlplab.LSTM(8, return_sequences=True), Dense(2)], n_inputs=1, seed=0)
    hist = net.fit(
        X,
        y,
        loss="cce",
        optimizer="adam",
        learning_rate=0.03,
        epochs=60,
        batch_size=16,
        metrics=("accuracy",),
        seed=0,
    )
    assert hist["accuracy"][-1] > 0.9
    assert hist["loss"][-1] < hist["loss"][0] / 4
    pred = net.predict(X).argmax(axis=-1)
    assert pred.shape == (64, 8) and np.mean(pred == y) == pytest.approx(hist["accuracy"][-1])


@pytest.mark.parametrize("kind", ["rnn-tanh", "gru"])
def test_fit_with_lbfgs_on_sequences(kind, rng):
    X = rng.uniform(-1, 1, (32, 5, 1))
    y = X.sum(axis=(1, 2))
    net = Sequential([_rec(kind, 5), Dense(1)], n_inputs=1, seed=2)
    before = net.loss(X, y)
    net.fit(X, y, optimizer="lbfgs", epochs=100)
    assert net.loss(X, y) < before / 100


def test_summary_and_repr_name_the_recurrent_layers():
    net = _build(["lstm", "gru"], True, seed=0)
    text = net.summary()
    assert "LSTM" in text and "GRU" in text and str(net.n_params) in text
    assert "LSTM(" in repr(net) and "return_sequences=True" in repr(net)


def test_truncated_training_also_learns_a_short_memory_task(rng):
    X, y = _delay_task(64, 12, 2, rng)
    net = Sequential(
        [mlplab.GRU(8, return_sequences=True, truncate=4), Dense(1)], n_inputs=1, seed=5
    )
    before = net.loss(X, y)
    net.fit(X, y, optimizer="adam", learning_rate=0.02, epochs=100, batch_size=16, seed=0)
    assert net.loss(X, y) < before / 100


# ----------------------------------------------------------------------------- errors
ANY_ERROR = (ValueError, TypeError)


def _seq_net(**kw):
    return Sequential([mlplab.LSTM(3, return_sequences=True, **kw), Dense(2)], n_inputs=F, seed=0)


def test_two_dimensional_X_is_rejected(rng):
    net = _seq_net()
    with pytest.raises(ANY_ERROR, match="X"):
        net.forward(rng.standard_normal((4, F)))
    with pytest.raises(ANY_ERROR, match="X"):
        net.loss_and_grad(rng.standard_normal((4, F)), rng.standard_normal((4, 2)))
    with pytest.raises(ANY_ERROR, match="X"):
        net.fit(rng.standard_normal((4, F)), rng.standard_normal((4, 2)), epochs=1)


def test_wrong_number_of_features_is_rejected(rng):
    net = _seq_net()
    with pytest.raises(ANY_ERROR, match=r"X|n_inputs|feature"):
        net.forward(rng.standard_normal((4, 5, F + 1)))
    with pytest.raises(ANY_ERROR, match=r"X|n_inputs|feature"):
        net.loss_and_grad(rng.standard_normal((4, 5, F + 1)), rng.standard_normal((4, 5, 2)))


@pytest.mark.parametrize("shape", [(4, 2), (4, 6, 2), (4, 5, 3), (4, 5), (3, 5, 2)], ids=str)
def test_wrong_target_shape_many_to_many_is_rejected(shape, rng):
    net = _seq_net()
    X = rng.standard_normal((4, 5, F))
    with pytest.raises(ANY_ERROR, match="y"):
        net.loss_and_grad(X, rng.standard_normal(shape), loss="mse")


def test_wrong_target_shape_many_to_one_is_rejected(rng):
    net = Sequential([mlplab.GRU(3), Dense(2)], n_inputs=F, seed=0)
    X = rng.standard_normal((4, 5, F))
    with pytest.raises(ANY_ERROR, match="y"):
        net.loss_and_grad(X, rng.standard_normal((4, 5, 2)), loss="mse")


@pytest.mark.parametrize("kind", LAYER_KINDS)
@pytest.mark.parametrize("units", [0, -2, 2.5, "3"], ids=repr)
def test_bad_units_are_rejected(kind, units):
    with pytest.raises(ANY_ERROR, match="units"):
        _rec(kind, units)


@pytest.mark.parametrize("truncate", [0, -1, 1.5])
def test_bad_truncate_is_rejected(truncate):
    with pytest.raises(ANY_ERROR, match="truncate"):
        Sequential([mlplab.GRU(3, truncate=truncate), Dense(1)], n_inputs=F)


@pytest.mark.parametrize("act", ["step", "softmax", "prelu", "no-such-activation"])
def test_simple_rnn_rejects_unsupported_activations(act):
    with pytest.raises(ANY_ERROR, match=r"activation|" + act):
        Sequential([mlplab.SimpleRNN(3, act), Dense(1)], n_inputs=F)


def test_dense_before_a_recurrent_layer_is_rejected(rng):
    with pytest.raises(ANY_ERROR, match=r"(?i)recurrent|layers"):
        net = Sequential([Dense(3), mlplab.LSTM(2), Dense(1)], n_inputs=F)
        net.forward(rng.standard_normal((2, 4, F)))


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_non_sequence_recurrent_layer_feeding_another_is_rejected(kind, rng):
    with pytest.raises(ANY_ERROR, match="return_sequences"):
        net = Sequential([_rec(kind, 3), _rec(kind, 2), Dense(1)], n_inputs=F)
        net.forward(rng.standard_normal((2, 4, F)))


def test_stateful_rejects_a_changed_batch_size(rng):
    net = _seq_net(stateful=True)
    net.forward(rng.standard_normal((4, 5, F)))
    with pytest.raises(ANY_ERROR, match=r"(?i)stateful|batch|reset_states"):
        net.forward(rng.standard_normal((3, 5, F)))
    # after reset_states() any batch size is fine again
    net.layers[0].reset_states()
    assert net.forward(rng.standard_normal((3, 5, F))).shape == (3, 5, 2)


@pytest.mark.parametrize("kind", LAYER_KINDS)
def test_bad_initial_state_shape_is_rejected(kind, rng):
    net, X, _ = _problem([kind], 4, True, n=3, salt="badh0")
    bad = rng.standard_normal(U + 1)
    net.layers[0].initial_state = (bad, bad) if kind == "lstm" else bad
    with pytest.raises(ANY_ERROR, match="initial_state"):
        net.forward(X)


def test_empty_sequences_are_rejected():
    net = _seq_net()
    with pytest.raises(ANY_ERROR, match="X"):
        net.forward(np.zeros((4, 0, F)))
    with pytest.raises(ANY_ERROR, match="X"):
        net.forward(np.zeros((0, 5, F)))


def test_initial_state_for_another_batch_size_is_rejected(rng):
    net, X, _ = _problem(["gru"], 4, True, n=3, salt="h0n")
    net.layers[0].initial_state = rng.standard_normal((5, U))
    with pytest.raises(ANY_ERROR, match="initial_state"):
        net.forward(X)
    lstm, X, _ = _problem(["lstm"], 4, True, n=3, salt="h0pair")
    lstm.layers[0].initial_state = rng.standard_normal((3, U))  # not a pair (h0, c0)
    with pytest.raises(ANY_ERROR, match="initial_state"):
        lstm.forward(X)


def test_recurrent_layers_are_exported():
    from mlplab import recurrent

    assert mlplab.SimpleRNN is recurrent.SimpleRNN
    assert mlplab.LSTM is recurrent.LSTM and mlplab.GRU is recurrent.GRU


@pytest.mark.parametrize("cls", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("w_scale", [1.0, 1e100, 1e300])
@pytest.mark.parametrize("x_scale", [1.0, 1e150, 1e300])
def test_recurrent_output_bound_is_sound(cls, w_scale, x_scale):
    """A recurrent layer with a bounded activation and logistic gates bounds its h by the
    activation's bound: the end-of-fit check then skips its forward pass. When it says the
    loss is surely finite, computing it overflows nowhere; at trained sizes it says so."""
    net = Sequential([getattr(mlplab, cls)(4), Dense(2)], n_inputs=3, seed=0)
    net.theta *= w_scale
    rng = np.random.default_rng(0)
    X = x_scale * rng.standard_normal((5, 6, 3))
    Y = rng.standard_normal((5, 2))
    sure = net.loss_surely_finite(X, Y)
    if w_scale == 1.0 and x_scale == 1.0:
        assert sure
    if sure:
        with np.errstate(all="raise", under="ignore"):
            value = net.loss_unchecked(X, Y, mlplab.get_loss("mse"), None)
        assert np.isfinite(value)
