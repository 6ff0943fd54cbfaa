"""Gradient-flow diagnostics: what GradientFlow records, what the doctor says, what fit warns.

Every recorded figure is checked against an independent computation: norms of the
gradients that ``loss_and_grad`` returns when the same parameters are replayed on a twin
network, means over the steps of an epoch, update ratios from parameter snapshots, dead
units and saturation from a forward pass written out here in numpy.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter

import numpy as np
import pytest

import mlplab
from mlplab import (
    ActivationLayer,
    BatchNorm,
    Callback,
    Dense,
    GradientFlow,
    PReLU,
    Sequential,
    diagnose,
)
from mlplab.clipping import global_norm
from mlplab.diagnostics import RECORDED, THRESHOLDS, GradientWarning, layer_stats

N_IN = 3


# ---------------------------------------------------------------------------- helpers
def sqrt_dot(a: np.ndarray) -> float:
    """The L2 norm as layer_stats computes it: sqrt of the dot product of the flat array."""
    a = a.reshape(-1)
    return math.sqrt(float(np.dot(a, a)))


def dense_indices(net: Sequential) -> list[int]:
    return [i for i, layer in enumerate(net.layers) if isinstance(layer, Dense)]


def data(n=48, n_in=N_IN, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in))
    y_reg = np.sin(X.sum(axis=1, keepdims=True))
    y_bin = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    y_cls = np.argmax(X, axis=1) % 3
    return X, y_reg, y_bin, np.eye(3)[y_cls]


class Recorder(Callback):
    """Snapshots taken by the loop's own hooks: theta and the raw gradient in
    on_gradients, state.grad_norm, theta after the optimizer's step."""

    def on_train_begin(self, state, net):
        self.theta_before, self.grads, self.norms, self.epochs = [], [], [], []
        self.theta_after = []

    def on_gradients(self, state, net):
        self.theta_before.append(net.theta.copy())
        self.grads.append(net.grad.copy())
        self.norms.append(state.grad_norm)
        self.epochs.append(state.epoch)

    def on_batch_end(self, state, net):
        self.theta_after.append(net.theta.copy())


def arch_activations():
    layers = [
        Dense(6, activation="logistic"),
        Dense(6, activation="tanh"),
        Dense(5, activation="relu"),
        Dense(5, activation="leaky_relu"),
        Dense(4, activation="elu"),
        Dense(4, activation="gelu"),
        Dense(1),
    ]
    names = [
        "0:Dense(logistic)",
        "1:Dense(tanh)",
        "2:Dense(relu)",
        "3:Dense(leaky_relu)",
        "4:Dense(elu)",
        "5:Dense(gelu)",
        "6:Dense(identity)",
    ]
    return layers, "mse", names


def arch_batchnorm():
    layers = [
        Dense(6),
        BatchNorm(),
        ActivationLayer("tanh"),
        Dense(5),
        BatchNorm(),
        ActivationLayer("relu"),
        Dense(1, activation="logistic"),
    ]
    return layers, "bce", ["0:Dense(tanh)", "3:Dense(relu)", "6:Dense(logistic)"]


def arch_prelu():
    layers = [Dense(6, activation="prelu"), Dense(5), PReLU(), Dense(3, activation="softmax")]
    return layers, "cce", None  # names: see the report (the PReLU layer is not read)


ARCHS = {
    "activations": arch_activations,
    "batchnorm+activation": arch_batchnorm,
    "prelu": arch_prelu,
}


def targets_for(loss, y_reg, y_bin, y_cls):
    return {"mse": y_reg, "bce": y_bin, "cce": y_cls}[loss]


# ------------------------------------------------- 1. recorded norms are the true norms
@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_recorded_norms_equal_norms_of_loss_and_grad(arch):
    X, *ys = data()
    layers, loss, names = ARCHS[arch]()
    y = targets_for(loss, *ys)
    net = Sequential(layers, n_inputs=N_IN, seed=3)
    twin = Sequential(ARCHS[arch]()[0], n_inputs=N_IN, seed=3)
    flow, rec = GradientFlow(every_step=True), Recorder()
    clip = 1e-3  # clipping changes every step: the records must still be the raw gradient
    mlplab.fit(
        net,
        X,
        y,
        loss=loss,
        optimizer="adam",
        learning_rate=0.01,
        epochs=5,
        batch_size=None,
        clip_norm=clip,
        callbacks=[flow, rec],
        diagnostics=False,
        seed=0,
    )
    idx = dense_indices(net)
    assert len(flow.steps) == 5 == len(rec.grads)
    if names is not None:
        assert flow.layer_names == names
    assert [int(n.split(":")[0]) for n in flow.layer_names] == idx
    for k, step in enumerate(flow.steps):
        assert (step["epoch"], step["batch"]) == (k, 0)
        twin.theta[...] = rec.theta_before[k]
        _, g = twin.loss_and_grad(X, y, loss=loss)
        # the callback saw exactly the gradient loss_and_grad returns (before clipping)
        np.testing.assert_array_equal(rec.grads[k], g)
        assert step["global_norm"] == global_norm(g) == rec.norms[k]
        assert step["global_norm"] > clip  # so clipping did act on this step
        grads = dict(twin.named_gradients())
        params = dict(twin.named_parameters())
        for j, i in enumerate(idx):
            gW, gb = grads[f"{i}.W"], grads[f"{i}.b"]
            assert step["grad_norm_W"][j] == sqrt_dot(gW)
            assert step["grad_norm_b"][j] == sqrt_dot(gb)
            assert step["grad_rms_W"][j] == math.sqrt(
                float(np.dot(gW.ravel(), gW.ravel())) / gW.size
            )
            assert step["weight_norm"][j] == sqrt_dot(params[f"{i}.W"])
            assert step["grad_norm_W"][j] > 0
    # the epoch records of a full-batch fit are the steps themselves
    for key in (k for k in RECORDED if k != "update_ratio"):
        np.testing.assert_array_equal(
            flow.history[key], np.array([s[key] for s in flow.steps], dtype=float)
        )


def test_layer_stats_after_loss_and_grad_match_named_gradients():
    X, y_reg, *_ = data()
    net = Sequential(arch_activations()[0], n_inputs=N_IN, seed=1)
    net.loss_and_grad(X, y_reg)
    grads = dict(net.named_gradients())
    stats = layer_stats(net)
    assert [s["layer"] for s in stats] == dense_indices(net)
    for s in stats:
        assert s["grad_norm_W"] == sqrt_dot(grads[f"{s['layer']}.W"])
        assert s["grad_norm_b"] == sqrt_dot(grads[f"{s['layer']}.b"])
        rel = abs(s["grad_norm_W"] - np.linalg.norm(grads[f"{s['layer']}.W"]))
        assert rel <= 1e-12 * s["grad_norm_W"]  # and it is the L2 norm


# ------------------------------------------------------------- 2. epoch aggregation
def test_epoch_records_are_means_of_the_steps():
    X, y_reg, *_ = data(n=64)
    layers = [Dense(6, activation="tanh"), Dense(5, activation="relu"), Dense(1)]
    net = Sequential(layers, n_inputs=N_IN, seed=5)
    twin = Sequential(
        [Dense(6, activation="tanh"), Dense(5, activation="relu"), Dense(1)], n_inputs=N_IN, seed=5
    )
    epochs, batches = 5, 4
    flow, steps, rec = GradientFlow(), GradientFlow(every_step=True), Recorder()
    hist = mlplab.fit(
        net,
        X,
        y_reg,
        optimizer="adam",
        learning_rate=0.01,
        epochs=epochs,
        batch_size=16,
        callbacks=[flow, steps, rec],
        diagnostics=False,
        seed=0,
    )
    n_layers = 3
    assert flow.epochs == epochs and len(steps.steps) == epochs * batches
    per_step = ("grad_norm_W", "grad_norm_b", "grad_rms_W")  # means over the epoch's steps
    for key in RECORDED:
        assert flow.history[key].shape == (epochs, n_layers)
        np.testing.assert_array_equal(flow.history[key], steps.history[key])
        if key == "update_ratio":
            continue
        for e in range(epochs):
            rows = np.array([s[key] for s in steps.steps if s["epoch"] == e])
            assert rows.shape == (batches, n_layers)
            if key in per_step:
                np.testing.assert_allclose(
                    flow.history[key][e], rows.mean(axis=0), rtol=1e-12, atol=0
                )
            else:  # activation statistics: the epoch's last batch
                np.testing.assert_array_equal(flow.history[key][e], rows[-1])
    # global norm: the mean of state.grad_norm (pre-clip) over the epoch's steps
    assert flow.global_norm.shape == (epochs,)
    assert [s["global_norm"] for s in steps.steps] == rec.norms
    per_epoch = [
        np.mean([g for g, e in zip(rec.norms, rec.epochs, strict=True) if e == ep])
        for ep in range(epochs)
    ]
    np.testing.assert_allclose(flow.global_norm, per_epoch, rtol=1e-12, atol=0)
    np.testing.assert_allclose(flow.global_norm, hist["grad_norm"], rtol=1e-12, atol=0)
    # update ratio over each epoch: ||W_end - W_start|| / ||W_start||, from snapshots
    idx = dense_indices(net)
    for e in range(epochs):
        first, last = e * batches, (e + 1) * batches - 1
        twin.theta[...] = rec.theta_before[first]
        before = [twin.layers[i].W.ravel().copy() for i in idx]
        twin.theta[...] = rec.theta_after[last]
        after = [twin.layers[i].W.ravel().copy() for i in idx]
        expected = [
            np.linalg.norm(a - b) / np.linalg.norm(b) for a, b in zip(after, before, strict=True)
        ]
        np.testing.assert_allclose(flow.history["update_ratio"][e], expected, rtol=1e-12, atol=0)
        assert all(r > 0 for r in expected)
    # to_dict: plain lists, JSON-able, the same figures
    d = flow.to_dict()
    assert set(d) == {"layers", "global_norm", *RECORDED}
    assert json.loads(json.dumps(d))["grad_norm_W"] == flow.history["grad_norm_W"].tolist()
    assert d["layers"] == ["0:Dense(tanh)", "1:Dense(relu)", "2:Dense(identity)"]


def _forward_np(twin, X):
    """Independent forward of [Dense(logistic), Dense(relu), ...]: per layer (z, a)."""
    out = []
    x = X
    for layer in twin.layers[:-1]:
        z = x @ layer.W + layer.b
        name = layer.activation.name
        if name == "logistic":
            a = 1.0 / (1.0 + np.exp(-z))
        elif name == "tanh":
            a = np.tanh(z)
        else:
            a = np.where(z > 0, z, 0.0)
        out.append((name, z, a))
        x = a
    return out


def _expected_unit_stats(name, z, a):
    if name == "logistic":
        sat, fprime = np.mean((a < 0.01) | (a > 0.99)), np.mean(a * (1 - a))
    elif name == "tanh":
        sat, fprime = np.mean(np.abs(a) > 0.99), np.mean(1 - a * a)
    else:
        sat, fprime = 0.0, np.mean(z > 0)
    dead = np.mean(np.all(a <= 0, axis=0)) if name == "relu" else 0.0
    return {
        "saturation": sat,
        "dead_fraction": dead,
        "mean_abs_fprime": fprime,
        "act_mean": a.mean(),
        "act_std": a.std(),
    }


@pytest.mark.parametrize("case", ["saturated+dead", "partly dead"])
def test_dead_fraction_and_saturation_match_an_independent_forward(case):
    X, y_reg, *_ = data(n=64)

    def build():
        if case == "saturated+dead":
            net = Sequential(
                [Dense(6, activation="logistic"), Dense(8, activation="relu"), Dense(1)],
                n_inputs=N_IN,
                seed=2,
            )
            net.layers[0].W[...] = 50.0 * np.sign(net.layers[0].W)  # huge weights: saturated
            net.layers[1].b[...] = -100.0  # every ReLU unit dead for every sample
        else:
            net = Sequential(
                [Dense(8, activation="relu"), Dense(4, activation="tanh"), Dense(1)],
                n_inputs=N_IN,
                seed=2,
            )
            net.layers[0].b[:3] = -100.0  # 3 of 8 units dead
            net.layers[1].W[...] *= 4.0
        return net

    net, twin = build(), build()
    flow, rec = GradientFlow(every_step=True), Recorder()
    mlplab.fit(
        net,
        X,
        y_reg,
        optimizer="sgd",
        learning_rate=0.01,
        epochs=3,
        batch_size=None,
        callbacks=[flow, rec],
        diagnostics=False,
        seed=0,
    )
    for k, step in enumerate(flow.steps):
        twin.theta[...] = rec.theta_before[k]
        for j, (name, z, a) in enumerate(_forward_np(twin, X)):
            exp = _expected_unit_stats(name, z, a)
            for key in ("saturation", "dead_fraction"):
                # a threshold may differ by one element at worst (own exp vs expit)
                assert abs(step[key][j] - exp[key]) <= 1.0 / a.size, (key, j)
            for key in ("act_mean", "act_std", "mean_abs_fprime"):
                np.testing.assert_allclose(step[key][j], exp[key], rtol=1e-12, atol=1e-15)
    if case == "saturated+dead":
        np.testing.assert_array_equal(flow.history["dead_fraction"][:, 1], 1.0)
        assert (flow.history["saturation"][:, 0] > 0.9).all()  # near 1
        assert (flow.history["mean_abs_fprime"][:, 1] == 0.0).all()
        assert (flow.history["dead_fraction"][:, 0] == 0.0).all()  # logistic units never die
        assert (flow.history["saturation"][:, 1] == 0.0).all()  # ReLU units never saturate
    else:
        np.testing.assert_array_equal(flow.history["dead_fraction"][:, 0], 3 / 8)


# --------------------------------------------------------------------- 3. the doctor
def doctor_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, np.tanh(X[:, :1] - 0.5 * X[:, 1:2])


def deep_logistic(seed=0):
    layers = [Dense(16, activation="logistic") for _ in range(9)] + [Dense(1)]
    return Sequential(layers, n_inputs=5, init={"name": "normal", "scale": 0.1}, seed=seed)


def constant_relu():
    layers = [Dense(16, activation="relu") for _ in range(9)] + [Dense(1)]
    return Sequential(layers, n_inputs=5, init={"name": "constant", "value": 1.5}, seed=0)


def killed_relu():
    layers = [
        Dense(16, activation="relu"),
        Dense(16, activation="relu", bias_init={"name": "constant", "value": -10.0}),
        Dense(1),
    ]
    return Sequential(layers, n_inputs=5, init="he_normal", seed=0)


def healthy_relu(seed=0):
    layers = [Dense(32, activation="relu"), Dense(32, activation="relu"), Dense(1)]
    return Sequential(layers, n_inputs=5, init="he_normal", seed=seed)


def test_doctor_flags_vanishing_in_a_deep_logistic_net():
    X, y = doctor_data()
    d = diagnose(deep_logistic(), X, y)
    assert d.kinds() == {"vanishing"} and not d.healthy
    flagged = {f.layer for f in d.findings}
    assert 0 in flagged and 9 not in flagged  # the first layers, never the output layer
    rms = [s["grad_rms_W"] for s in d.stats]
    for f in d.findings:
        assert rms[f.layer] < THRESHOLDS["vanishing_ratio"] * max(rms)
        assert f.value == pytest.approx(rms[f.layer] / max(rms), rel=1e-12)
    assert "vanishing" in str(d).lower() and "Remedy" in str(d)


def test_doctor_flags_exploding_with_constant_init():
    X, y = doctor_data()
    d = diagnose(constant_relu(), X, y)
    assert d.kinds() == {"exploding"}
    assert d.global_norm > THRESHOLDS["exploding_norm"]
    assert math.isfinite(d.global_norm)


def test_doctor_flags_dead_relu_units():
    X, y = doctor_data()
    d = diagnose(killed_relu(), X, y)
    assert "dead" in d.kinds()
    dead = [f for f in d.findings if f.kind == "dead"]
    assert [f.layer for f in dead] == [1] and dead[0].value == 1.0
    assert d.stats[1]["dead_fraction"] == 1.0 and d.stats[0]["dead_fraction"] < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_doctor_finds_a_healthy_relu_he_net_healthy(seed):
    X, y = doctor_data(seed=seed)
    d = diagnose(healthy_relu(seed), X, y)
    assert d.healthy and d.kinds() == {"healthy"}, str(d)


def test_doctor_report_in_portuguese():
    X, y = doctor_data()
    en, pt = (str(diagnose(killed_relu(), X, y, lang=lang)) for lang in ("en", "pt"))
    for word in (
        "Diagnóstico do gradiente",
        "Remédio",
        "unidades mortas",
        "amostras",
        "taxa de aprendizado",
    ):
        assert word.lower() in pt.lower(), word
        assert word.lower() not in en.lower(), word
    pt_vanish = str(diagnose(deep_logistic(), X, y, lang="pt"))
    assert "desaparecendo" in pt_vanish and "menor que a maior camada" in pt_vanish
    pt_healthy = str(diagnose(healthy_relu(), X, y, lang="pt"))
    assert "SAUDÁVEL" in pt_healthy and "nada a relatar" in pt_healthy


def test_doctor_leaves_the_network_unchanged():
    X, y = doctor_data()
    layers = [Dense(8), BatchNorm(), ActivationLayer("relu"), Dense(1)]
    net = Sequential(layers, n_inputs=5, seed=0)
    net.fit(X, y, epochs=2, batch_size=50, diagnostics=False)  # non-trivial running stats
    before = net.state_dict()
    pred = net.predict(X)
    d = diagnose(net, X, y)
    after = net.state_dict()
    assert set(before) == set(after) and "1.running_mean" in before
    for k in before:
        np.testing.assert_array_equal(before[k], after[k], err_msg=k)
    np.testing.assert_array_equal(pred, net.predict(X))
    assert d.loss == net.loss_and_grad(X, y)[0]


@pytest.mark.parametrize("kind", ["multiclass", "binary", "batch_norm"])
def test_doctor_on_a_fitted_mlpclassifier(kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    labels = np.array(["ant", "bee", "cat"])
    y = labels[np.argmax(X[:, :3], axis=1)] if kind != "binary" else labels[(X[:, 0] > 0) * 1]
    clf = mlplab.MLPClassifier(
        hidden_layer_sizes=(8, 6),
        max_iter=20,
        random_state=0,
        batch_norm=kind == "batch_norm",
        convergence_warning=False,
    )
    clf.fit(X, y)
    before = clf.net_.state_dict()
    proba = clf.predict_proba(X)
    d = diagnose(clf, X, y, lang="pt")
    for k, v in clf.net_.state_dict().items():
        np.testing.assert_array_equal(before[k], v, err_msg=k)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    assert len(d.stats) == 3 and math.isfinite(d.global_norm) and d.kinds()
    grads = dict(clf.net_.named_gradients())
    for s in d.stats:  # the stats are of the gradient the diagnosis computed
        assert s["grad_norm_W"] == sqrt_dot(grads[f"{s['layer']}.W"])
    assert d.global_norm == global_norm(clf.net_.grad)
    assert str(d).startswith("Diagnóstico do gradiente")
    with pytest.raises(TypeError, match="fitted mlplab"):
        diagnose(object(), X, y)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_doctor_reports_nonfinite_weights(value):
    X, y = doctor_data()
    net = Sequential(
        [Dense(8, activation="tanh"), Dense(8, activation="relu"), Dense(1)], n_inputs=5, seed=0
    )
    net.layers[1].W[0, 0] = value
    before = net.theta.copy()
    d = diagnose(net, X, y)
    assert d.kinds() == {"nonfinite"} and not d.healthy
    assert any(s["nonfinite"] for s in d.stats)
    np.testing.assert_array_equal(net.theta, before)  # NaN == NaN position-wise
    assert "NaN/inf" in str(diagnose(net, X, y, lang="pt"))


# --------------------------------------------------------- 4. warnings during training
def _fit_recording_warnings(net, X, y, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # repeats are not hidden by the registry
        mlplab.fit(net, X, y, **kw)
    return caught


def _gradient_warnings(caught):
    out = []
    for w in caught:
        if issubclass(w.category, GradientWarning):
            _, where, rest = str(w.message).split(": ", 2)
            out.append((rest.split(" ")[0], where, w))
    return out


def test_deep_logistic_net_warns_vanishing_once_per_layer():
    X, y = doctor_data(n=100)
    caught = _fit_recording_warnings(deep_logistic(), X, y, epochs=20, batch_size=20)
    gw = _gradient_warnings(caught)
    assert gw, "no GradientWarning"
    counts = Counter((kind, where) for kind, where, _ in gw)
    assert set(counts.values()) == {1}, counts  # the checks run at epochs 1, 2, 4 and 8
    assert {kind for kind, _ in counts} == {"vanishing"}
    layers = {where for _, where in counts}
    assert "0:Dense(logistic)" in layers and "9:Dense(identity)" not in layers
    for _, _, w in gw:
        assert "vanishing" in str(w.message) and "diagnostics=False" in str(w.message)
        assert w.filename == __file__  # attributed to the caller of mlplab.fit
    assert len(caught) == len(gw)  # nothing else was warned


def test_dead_relu_net_warns_dead_once():
    X, y = doctor_data(n=100)
    caught = _fit_recording_warnings(killed_relu(), X, y, epochs=10, batch_size=25)
    gw = _gradient_warnings(caught)
    assert [(kind, where) for kind, where, _ in gw] == [("dead", "1:Dense(relu)")]


def test_diagnostics_false_emits_no_warning():
    X, y = doctor_data(n=100)
    for make in (deep_logistic, killed_relu):
        caught = _fit_recording_warnings(make(), X, y, epochs=10, batch_size=20, diagnostics=False)
        assert caught == [], [str(w.message) for w in caught]


def test_healthy_net_emits_no_warning():
    X, y = doctor_data(n=100)
    caught = _fit_recording_warnings(healthy_relu(), X, y, epochs=10, batch_size=20)
    assert caught == [], [str(w.message) for w in caught]


def test_training_checks_run_only_at_epochs_1_2_4_8(monkeypatch):
    """The default checks read layer_stats on the first (full-sized) batch of epochs 1, 2, 4
    and 8 only."""
    import mlplab.diagnostics.flow as diag  # where the training checks look it up

    where, calls = {}, []

    class Where(Callback):
        def on_gradients(self, state, net):
            where["now"] = (state.epoch + 1, state.batch)

    def counting(net):
        calls.append(where["now"])
        return layer_stats(net)

    monkeypatch.setattr(diag, "layer_stats", counting)
    X, y = doctor_data(n=60)
    caught = _fit_recording_warnings(
        healthy_relu(), X, y, epochs=40, batch_size=20, callbacks=[Where()]
    )
    assert caught == []
    assert calls == [(1, 0), (2, 0), (4, 0), (8, 0)]


# ------------------------------------------------- 5. recording costs nothing in state
def _bn_net():
    layers = [Dense(8), BatchNorm(), ActivationLayer("tanh"), Dense(6, activation="relu"), Dense(1)]
    return Sequential(layers, n_inputs=N_IN, seed=11)


def _attrs(net):
    return [sorted(vars(net))] + [sorted(vars(layer)) for layer in net.layers]


def test_recording_adds_no_state_and_changes_no_bit():
    X, y_reg, *_ = data(n=80)
    off, on = _bn_net(), _bn_net()
    kw = dict(optimizer="adam", learning_rate=0.01, epochs=6, batch_size=16, clip_norm=0.5, seed=4)
    h_off = mlplab.fit(off, X, y_reg, diagnostics=False, **kw)
    flows = [GradientFlow(), GradientFlow(every_step=True)]
    h_on = mlplab.fit(on, X, y_reg, callbacks=flows, diagnostics=True, **kw)
    assert flows[0].epochs == 6 and len(flows[1].steps) == 30
    np.testing.assert_array_equal(on.theta, off.theta)
    s_on, s_off = on.state_dict(), off.state_dict()
    for k in s_off:
        np.testing.assert_array_equal(s_on[k], s_off[k], err_msg=k)
    o_on, o_off = on.optimizer.state_dict(), off.optimizer.state_dict()
    assert set(o_on) == set(o_off)
    for k in o_off:
        np.testing.assert_array_equal(o_on[k], o_off[k], err_msg=k)
    assert h_on.history == h_off.history
    assert _attrs(on) == _attrs(off)  # no attribute added to the network or its layers
    assert not any(v is f for f in flows for v in vars(on).values())


# ------------------------------------------------------------ known bugs (see report)
def test_fused_output_layer_stats_describe_the_activation():
    X, _, y_bin, _ = data(n=64)
    net = Sequential(
        [Dense(6, activation="tanh"), Dense(1, activation="logistic")], n_inputs=N_IN, seed=0
    )
    net.loss_and_grad(X, y_bin, loss="bce")
    s = layer_stats(net)[-1]
    a = 1.0 / (1.0 + np.exp(-net.layers[-1].z))
    assert s["act_mean"] == pytest.approx(a.mean(), rel=1e-12)
    assert s["mean_abs_fprime"] == pytest.approx(np.mean(a * (1 - a)), rel=1e-12)


def test_flow_with_softmax_output_and_minibatches_warns_nothing():
    X, *_, y_cls = data(n=64)
    net = Sequential(
        [Dense(6, activation="relu"), Dense(3, activation="softmax")], n_inputs=N_IN, seed=0
    )
    flow = GradientFlow()
    mlplab.fit(
        net, X, y_cls, loss="cce", epochs=2, batch_size=16, callbacks=[flow], diagnostics=False
    )
    assert np.isnan(flow.history["mean_abs_fprime"][:, -1]).all()


def test_prelu_mean_abs_fprime_uses_the_trained_slope():
    X, y_reg, *_ = data(n=64)
    net = Sequential([Dense(6, activation="prelu"), Dense(1)], n_inputs=N_IN, seed=0)
    alpha = dict(net.named_parameters())["0.alpha"]
    alpha[...] = 0.9
    net.loss_and_grad(X, y_reg)
    z = net.layers[0].z
    expected = np.mean(np.where(z > 0, 1.0, 0.9))
    assert layer_stats(net)[0]["mean_abs_fprime"] == pytest.approx(expected, rel=1e-12)


def test_doctor_on_huge_finite_weights_warns_nothing():
    X, y = doctor_data()
    net = Sequential(
        [Dense(8, activation="tanh"), Dense(8, activation="relu"), Dense(1)], n_inputs=5, seed=0
    )
    net.layers[1].W[0, 0] = 1e200
    d = diagnose(net, X, y)
    assert not d.healthy


def test_healthy_net_with_a_one_sample_last_batch_warns_nothing():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(993, 5))  # 31 batches of 32, then a batch of 1 sample
    y = np.tanh(X[:, :1] - 0.5 * X[:, 1:2])
    net = healthy_relu()
    caught = _fit_recording_warnings(net, X, y, epochs=8, batch_size=32)
    assert diagnose(net, X, y).healthy  # on the whole data set nothing is dead
    assert caught == [], [str(w.message) for w in caught]


# ------------------------------------------------------------ through time
def _rnn_diagnosis(T, lang="en"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, T, 1))
    net = mlplab.Sequential([mlplab.SimpleRNN(16), mlplab.Dense(1)], n_inputs=1, seed=0)
    return mlplab.diagnose(net, X, X[:, 0, 0], lang=lang), net


def test_doctor_flags_vanishing_gradient_through_time():
    d, net = _rnn_diagnosis(60)
    norms = net.layers[0].hidden_grad_norms
    assert norms.shape == (60,)
    f = next(f for f in d.findings if f.layer == 0)
    assert f.kind == "vanishing" and "through time" in f.name
    assert f.value == pytest.approx(norms[0] / norms.max())
    assert "LSTM" in f.remedy
    assert "GRADIENTE DESAPARECENDO" in str(_rnn_diagnosis(60, "pt")[0])


def test_doctor_short_sequence_is_not_flagged():
    d, _ = _rnn_diagnosis(3)
    assert not any(f.layer == 0 for f in d.findings)


# ------------------------------------------------- the training state: converged nets
def readme_xor_net():
    """The README's first example: the 2-2-1 logistic XOR network, trained as written."""
    X, y = mlplab.datasets.logic_gate("xor", n_samples=1000, noise=0.1)
    net = Sequential(
        [Dense(2, activation="logistic"), Dense(1, activation="logistic")],
        n_inputs=2, init="glorot_uniform", seed=0, dtype="float64",
    )  # fmt: skip
    net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.05, epochs=300,
            batch_size=32, metrics=["accuracy"], validation_split=0.2, patience=20,
            verbose=0)  # fmt: skip
    return net, X, y


def tour_xor_classifier():
    """The ``xor`` experiment's kept network, from the experiment's own training."""
    from mlplab.experiments._logic import fit_all

    X, y = mlplab.datasets.logic_gate("xor", 400, noise=0.1, seed=0)
    clf, _, _ = fit_all((2,), X, y, 0, 5)
    return clf, X, y


def assert_converged_no_action(net, X, y, loss=None):
    for lang, word, ok in (
        ("en", "saturated", "but converged: no action needed"),
        ("pt", "saturada", "mas convergiu: nenhuma ação necessária"),
    ):
        d = diagnose(net, X, y, loss=loss, lang=lang)
        text = str(d)
        assert d.healthy and d.kinds() == {"healthy"}, text
        assert d.converged and d.to_dict()["converged"] is True
        assert "Remedy" not in text and "Remédio" not in text
        # the saturation is still measured and named, with the verdict
        assert max(s["saturation"] for s in d.stats[:-1]) > THRESHOLDS["saturated_fraction"]
        assert f"{word}, {ok}" in text, text


def test_doctor_finds_the_readme_xor_net_converged():
    net, X, y = readme_xor_net()
    loss, _ = net.loss_and_grad(X, y, loss="bce")
    assert loss < 1e-3 and np.array_equal(net.predict(X).ravel() > 0.5, y.ravel() > 0.5)
    assert_converged_no_action(net, X, y, loss="bce")


def test_doctor_finds_the_tour_xor_classifier_converged():
    clf, X, y = tour_xor_classifier()
    assert clf.score(X, y) == 1.0
    assert_converged_no_action(clf, X, y)


def test_doctor_finds_the_tour_and_classifier_healthy():
    from mlplab.experiments._logic import fit

    X, y = mlplab.datasets.logic_gate("and", 400, noise=0.1, seed=0)
    clf, _ = fit((), X, y, 0)
    for lang in ("en", "pt"):
        d = diagnose(clf, X, y, lang=lang)
        assert d.healthy and d.kinds() == {"healthy"}, str(d)
        assert ("convergiu" if lang == "pt" else "converged") in str(d)


@pytest.mark.parametrize("kind", ["sequential", "classifier"])
def test_doctor_flags_the_same_saturated_net_when_it_has_not_converged(kind):
    """The solved nets with their output layer negated: the same saturated hidden
    units, every answer wrong (a high loss) -> still saturated, with the remedy."""
    net, X, y = readme_xor_net() if kind == "sequential" else tour_xor_classifier()
    inner = getattr(net, "net_", net)
    inner.layers[-1].W *= -1
    inner.layers[-1].b *= -1
    loss = "bce" if kind == "sequential" else None
    for lang, remedy in (("en", "Remedy (saturated)"), ("pt", "Remédio (saturada)")):
        d = diagnose(net, X, y, loss=loss, lang=lang)
        assert "saturated" in d.kinds() and not d.healthy and not d.converged, str(d)
        assert remedy in str(d) and "converg" not in str(d)
        assert d.loss > 1.0


def test_converged_is_the_loss_near_chance_or_a_solving_minimum():
    from mlplab.diagnostics.doctor import converged

    th = THRESHOLDS
    frac, grad = th["converged_loss_fraction"], th["converged_grad_fraction"]
    assert converged(frac, None, 1.0, th) and not converged(2 * frac, None, 0.0, th)
    # 100 % accuracy at a minimum (an L2 optimum: the loss stays above its floor)
    assert converged(0.3, 1.0, grad, th) and not converged(0.3, 1.0, 2 * grad, th)
    # a flat gradient with wrong answers is no solution (saturated from the start)
    assert not converged(0.3, 0.99, 0.0, th) and not converged(math.nan, 1.0, 0.0, th)


def test_doctor_finds_the_tour_circles_classifier_converged():
    from sklearn.datasets import make_circles

    from mlplab.experiments._logic import fit_all

    X, y = make_circles(n_samples=500, noise=0.05, factor=0.5, random_state=0)
    clf, _, _ = fit_all((4,), X, y, 0, 5)  # the circles experiment's 5-node network
    assert clf.score(X, y) == 1.0
    assert_converged_no_action(clf, X, y)


@pytest.mark.parametrize(
    ("f", "lo", "hi"), [(np.square, -1, 1), (np.sin, 0, 2 * np.pi), (np.reciprocal, 1, 100)]
)
def test_doctor_finds_the_tour_regressions_healthy(f, lo, hi):
    """The regression experiment's networks (1-20-1 logistic, lbfgs, standardised target)."""
    from mlplab.experiments._approximation import fitted_net, mlp

    X = np.linspace(lo, hi, 1000).reshape(-1, 1)
    y = f(X).ravel()
    model = mlp((20,), random_state=0, tol=1e-5, max_iter=2000).fit(X, y)
    ys = model.transformer_.transform(y.reshape(-1, 1)).ravel()  # what the net was fitted to
    for lang in ("en", "pt"):
        d = diagnose(fitted_net(model), X, ys, lang=lang)
        assert d.healthy and d.kinds() == {"healthy"} and d.converged, str(d)
        assert "Remedy" not in str(d) and "Remédio" not in str(d)
