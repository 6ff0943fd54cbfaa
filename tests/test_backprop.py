"""Backpropagation by hand (mlplab.backprop) and the gradient experiments
(chain-rule, backprop-by-hand, doctor) of lecture sections 3-5."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlplab
import mlplab.experiments  # noqa: F401  (registers the experiments)
from mlplab import ActivationLayer, BatchNorm, Dense, PReLU, Sequential
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.teaching.backprop import BackpropTable, backprop_by_hand

PNG = b"\x89PNG\r\n\x1a\n"

HIDDEN = ["logistic", "tanh", "relu", "leaky_relu", "prelu", "elu", "softplus", "silu", "gelu"]
OUTPUTS = [  # (loss, output activation, number of outputs)
    ("mse", "identity", 1),
    ("mse", "logistic", 2),
    ("mse", "tanh", 3),
    ("bce", "logistic", 1),
    ("bce", "identity", 2),  # logits
    ("cce", "softmax", 3),
    ("cce", "identity", 3),  # logits
]


def _net(hidden: str, out: str, k: int, seed: int) -> Sequential:
    bias = {"name": "uniform", "scale": 0.5}
    return Sequential(
        [
            Dense(3, activation=hidden, bias_init=bias),
            Dense(4, activation=hidden, bias_init=bias),
            Dense(k, activation=out, bias_init=bias),
        ],
        n_inputs=2,
        seed=seed,
    )


def _target(loss: str, k: int, rng: np.random.Generator):
    if loss == "cce":
        return int(rng.integers(k))  # a class label
    if loss == "bce":
        return rng.integers(0, 2, size=k).astype(float)
    return rng.normal(size=k)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss,out,k", OUTPUTS)
def test_hand_values_match_engine_and_finite_differences(hidden, loss, out, k, rng):
    net = _net(hidden, out, k, seed=int(rng.integers(1000)))
    theta = net.theta.copy()
    x = rng.normal(size=2)
    table = backprop_by_hand(net, x, _target(loss, k, rng), loss)
    assert isinstance(table, BackpropTable)
    assert table.max_error <= 1e-8, str(table)
    assert table.max_engine_error <= 1e-12
    np.testing.assert_array_equal(net.theta, theta)  # parameters untouched
    # every parameter has a gradient row, each checked against the engine and an FD
    grads = [r for r in table.rows if r["kind"] == "gradient"]
    assert len(grads) == net.n_params
    for r in grads + [r for r in table.rows if r["quantity"].startswith("δ")]:
        assert r["engine"] is not None and r["finite_difference"] is not None, r
    for r in table.rows:
        assert set(r) >= {"quantity", "formula", "value", "engine", "finite_difference"}
    # the engine's gradient, in theta order, is the table's gradient rows
    _, g = net.loss_and_grad(np.atleast_2d(x), [table.y], loss)  # y as a row (cce: one-hot)
    np.testing.assert_allclose(
        sorted(r["value"] for r in grads), sorted(g.tolist()), rtol=0, atol=1e-12
    )


@pytest.mark.parametrize(
    "spec", [{"name": "mse", "half": True}, {"name": "mse", "reduction": "sample"}]
)
def test_mse_variants(spec, rng):
    net = _net("tanh", "identity", 2, seed=3)
    table = backprop_by_hand(net, rng.normal(size=(1, 2)), rng.normal(size=(1, 2)), spec)
    assert table.max_error <= 1e-8


def _two_neurons(w1=0.5, w2=-0.3) -> Sequential:
    net = Sequential([Dense(1, activation="logistic"), Dense(1, activation="logistic")], 1)
    net.theta[:] = [w1, 0.0, w2, 0.0]
    return net


def test_lecture_worked_example_numbers():
    """Two logistic neurons in series, x = 1, y = 0, w1 = 0.5, w2 = -0.3 (see
    tests/test_worked_example.py for the numbers worked by hand)."""
    table = backprop_by_hand(_two_neurons(), [1.0], 0.0)
    assert table.row("J")["value"] == pytest.approx(0.205617574, abs=1e-9)
    assert table.row("∂J/∂ŷ₁")["value"] == pytest.approx(0.906901480, abs=1e-9)
    assert table.row("f'(z₁⁽²⁾)")["value"] == pytest.approx(0.247833166, abs=1e-9)
    assert table.row("∂J/∂w₁₁⁽²⁾")["value"] == pytest.approx(0.139904124, abs=1e-9)
    assert table.row("∂J/∂w₁₁⁽¹⁾")["value"] == pytest.approx(-0.015845849, abs=1e-9)
    assert table.max_error <= 1e-9


def test_table_shows_the_lectures_formulas():
    net = Sequential(
        [Dense(2, activation="logistic"), Dense(1, activation="logistic")], n_inputs=2, seed=0
    )
    table = backprop_by_hand(net, [1.0, 0.0], 1.0)
    f = {r["quantity"]: r["formula"] for r in table.rows}
    # forward: z = Σ w x + b with the numbers, a = f(z)
    assert f["z₁⁽¹⁾"].startswith("Σᵢ wᵢ₁⁽¹⁾·xᵢ + b₁⁽¹⁾ = ")
    assert f["z₁⁽²⁾"].startswith("Σᵢ wᵢ₁⁽²⁾·aᵢ⁽¹⁾ + b₁⁽²⁾ = ")
    assert f["a₁⁽¹⁾"].startswith("σ(z₁⁽¹⁾) = 1/(1 + exp(")
    assert "a₁⁽²⁾ = ŷ₁" in f
    # cost and the chain rule
    assert f["J"].startswith("(ŷ₁ - y₁)² = ")
    assert f["∂J/∂ŷ₁"].startswith("2·(ŷ₁ - y₁) = ")
    assert f["f'(z₁⁽²⁾)"].startswith("a₁⁽²⁾(1 - a₁⁽²⁾) = ")
    assert f["δ₁⁽²⁾"].startswith("∂J/∂ŷ₁ · f'(z₁⁽²⁾) = ")  # δ_out = ∂J/∂ŷ · f'(z)
    assert f["δ₂⁽¹⁾"].startswith("f'(z₂⁽¹⁾) · Σₖ w₂ₖ⁽²⁾ δₖ⁽²⁾ = ")  # δ_hidden
    assert f["∂J/∂w₂₁⁽¹⁾"].startswith("δ₁⁽¹⁾ · x₂ = ")  # ∂J/∂w_ij = δ_j x_i
    assert f["∂J/∂w₂₁⁽²⁾"].startswith("δ₁⁽²⁾ · a₂⁽¹⁾ = ")
    assert f["∂J/∂b₁⁽¹⁾"].startswith("δ₁⁽¹⁾ · 1 = ")
    # the numbers are plugged in
    W = net.layers[0].W
    assert f"{W[0, 0]:.6g}" in f["z₁⁽¹⁾"] and f"{W[1, 0]:.6g}" in f["z₁⁽¹⁾"]
    assert table.row("δ₁⁽¹⁾")["value"] == pytest.approx(table.row("∂J/∂b₁⁽¹⁾")["value"])
    # one row per forward value, δ, f'(z), weight and bias: 6 + 2 + 6 + 9
    assert len(table.rows) == 23


def test_fused_cross_entropy_delta_is_prediction_minus_target():
    net = Sequential([Dense(2, activation="tanh"), Dense(3, activation="softmax")], 2, seed=1)
    table = backprop_by_hand(net, [0.3, -0.7], 2, "cce")
    yhat = net.forward([[0.3, -0.7]])[0]
    for k in range(3):
        row = table.row(f"δ{'₁₂₃'[k]}⁽²⁾")
        assert row["formula"].startswith(f"∂J/∂z{'₁₂₃'[k]}⁽²⁾ = (ŷ{'₁₂₃'[k]} - y{'₁₂₃'[k]})")
        assert row["value"] == pytest.approx(yhat[k] - (k == 2), abs=1e-12)
    assert not any(r["quantity"] == "f'(z₁⁽²⁾)" for r in table.rows)  # never multiplied in
    assert table.max_error <= 1e-8


def test_prelu_slopes_get_their_own_rows():
    net = Sequential([Dense(3, activation="prelu"), Dense(1)], 2, seed=4)
    table = backprop_by_hand(net, [1.5, -2.0], 0.5)
    alpha_rows = [r for r in table.rows if r["quantity"].startswith("∂J/∂α")]
    assert len(alpha_rows) == 3
    assert table.max_error <= 1e-8


def test_markdown_and_text_in_both_languages():
    table = backprop_by_hand(_two_neurons(), [1.0], 0.0)
    en, pt = table.to_markdown("en"), table.to_markdown("pt")
    assert "## Forward pass" in en and "## Backward pass" in en and "| quantity |" in en
    assert "matches to 1e-" in en
    assert "## Propagação direta" in pt and "## Retropropagação" in pt and "| grandeza |" in pt
    assert "confere até 1e-" in pt
    assert "0,5·1" in pt and "0.5·1" in en  # decimal comma in Portuguese
    text = str(table)
    assert text.startswith("Backpropagation by hand") and "δ₁⁽¹⁾ = " in text
    with pytest.raises(ValueError, match="lang"):
        table.to_markdown("fr")


@pytest.mark.parametrize(
    "layers,match",
    [
        ([Dense(3), BatchNorm(), ActivationLayer("relu"), Dense(1)], "layer 1 is BatchNorm"),
        ([Dense(3), ActivationLayer("relu"), Dense(1)], "layer 1 is ActivationLayer"),
        ([Dense(3), PReLU(), Dense(1)], "activation='prelu'"),
        ([Dense(3, activation="step"), Dense(1)], "step"),
        ([Dense(3, activation="softmax"), Dense(1)], "not elementwise"),
    ],
)
def test_layers_it_cannot_show_raise_a_clear_error(layers, match):
    net = Sequential(layers, n_inputs=2, seed=0)
    with pytest.raises(ValueError, match=match):
        backprop_by_hand(net, [1.0, 2.0], 1.0)


def test_other_misuse_raises_a_clear_error():
    net = Sequential([Dense(2), Dense(1)], n_inputs=2, seed=0)
    with pytest.raises(ValueError, match="ONE sample"):
        backprop_by_hand(net, [[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0])
    with pytest.raises(ValueError, match="float64"):
        backprop_by_hand(Sequential([Dense(1)], 2, dtype="float32"), [1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="Sequential"):
        backprop_by_hand("net", [1.0], 1.0)
    soft = Sequential([Dense(2), Dense(2, activation="softmax")], n_inputs=2, seed=0)
    with pytest.raises(ValueError, match="not elementwise"):
        backprop_by_hand(soft, [1.0, 2.0], [1.0, 0.0], "mse")


# ------------------------------------------------------------------ experiments
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return {
        name: (run_experiment(name, out, quick=True), out / name)
        for name in ("chain-rule", "backprop-by-hand", "doctor")
    }


@pytest.mark.parametrize("name", ["chain-rule", "backprop-by-hand", "doctor"])
def test_experiment_writes_record_and_figures(runs, name):
    record, out_dir = runs[name]
    assert record["figures"]
    for fig in record["figures"]:
        assert (out_dir / fig).read_bytes()[:8] == PNG
    on_disk = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"] == json.loads(json.dumps(record["metrics"]))
    exp = EXPERIMENTS[name]
    assert (exp.section, exp.order) == {
        "chain-rule": ("3", 1),
        "backprop-by-hand": ("3", 2),
        "doctor": ("5", 1),
    }[name]
    assert set(exp.title) == set(exp.claim) == {"en", "pt"}


def test_chain_rule_factors(runs):
    m = runs["chain-rule"][0]["metrics"]
    assert m["max_factor_error"] <= 1e-8
    assert m["max_gradient_error"] <= 1e-8
    f = m["factors"]
    assert set(f) == {"dJ/dyhat", "dyhat/dg2", "dg2/dw2", "dg2/dz1", "dz1/dg1", "dg1/dw1"}
    assert f["dJ/dyhat"] == pytest.approx(0.906901480, abs=1e-9)  # 2 (ŷ - y), no ½
    assert f["dyhat/dg2"] == pytest.approx(0.247833166, abs=1e-9)
    assert f["dg2/dz1"] == -0.3 and f["dg1/dw1"] == 1.0
    for key in f:
        assert f[key] == pytest.approx(m["factors_fd"][key], abs=1e-8)
    g = m["gradients"]
    assert g["dJ/dw2"]["chain"] == pytest.approx(0.139904124, abs=1e-9)
    assert g["dJ/dw1"]["chain"] == pytest.approx(-0.015845849, abs=1e-9)
    for rec in g.values():
        assert rec["chain"] == pytest.approx(rec["engine"], abs=1e-12)
        assert rec["chain"] == pytest.approx(rec["finite_difference"], abs=1e-8)
    # example (b): logistic factors ≤ 0.25, ReLU's are 1, the product shrinks with depth
    b = m["three_nodes"]
    assert all(0 < v <= 0.25 for v in b["logistic"]["factors"].values())
    assert all(v == 1.0 for v in b["relu"]["factors"].values())
    for act in ("logistic", "tanh", "relu"):
        d = b[act]["dyhat_dw"]
        assert d["chain"] == pytest.approx(d["engine"], abs=1e-12)
        assert d["chain"] == pytest.approx(d["finite_difference"], abs=1e-8)
    depth = m["product_vs_depth"]
    logi = np.array(depth["logistic"])
    assert np.all(np.diff(logi) < 0) and np.all(logi <= np.array(depth["logistic_bound"]))
    assert depth["relu"] == [1.0] * len(depth["depth"])
    assert np.all(np.array(depth["tanh"]) > logi)


def test_backprop_by_hand_experiment(runs):
    record, out_dir = runs["backprop-by-hand"]
    m = record["metrics"]
    assert m["max_error"] <= 1e-9
    assert m["rows"] == 23 and m["rows_by_kind"] == {
        "forward": 6,
        "cost": 2,
        "backward": 6,
        "gradient": 9,
    }
    assert m["sample"] == {"x": [1.0, 0.0], "y": [1.0]}
    assert set(m["max_error_by_kind"]) == set(m["rows_by_kind"])
    assert max(m["max_error_by_kind"].values()) == m["max_error"]
    assert len(m["gradients"]) == 9 and len(m["deltas"]) == 3
    assert m["gradients"]["∂J/∂w₂₁⁽¹⁾"] == 0.0  # x₂ = 0
    text = (out_dir / "table.md").read_text(encoding="utf-8")
    assert "## Backward pass" in text and "δ₁⁽²⁾" in text


def test_doctor_flags_each_case(runs):
    record, out_dir = runs["doctor"]
    m = record["metrics"]
    assert m["findings"] == {
        "logistic-small-init": ["vanishing"],
        "relu-constant-1.5": ["exploding"],
        "relu-bias-minus-10": ["dead"],
        "relu-he": ["healthy"],
    }
    cases = m["cases"]
    assert len(cases["logistic-small-init"]["layers"]) == 10
    assert cases["logistic-small-init"]["first_to_last_rms"] < 1e-3
    assert cases["relu-constant-1.5"]["global_norm"] > 1e3
    assert all(f == 1.0 for f in cases["relu-bias-minus-10"]["dead_fraction"][:-1])
    assert 1e-2 < cases["relu-he"]["first_to_last_rms"] < 1e2
    text = (out_dir / "doctor.txt").read_text(encoding="utf-8")
    assert text.count("Gradient doctor") == 4 and "Remedy (vanishing)" in text


def test_experiments_in_portuguese(tmp_path):
    run_experiment("backprop-by-hand", tmp_path, quick=True, lang="pt")
    md = (tmp_path / "backprop-by-hand" / "table.md").read_text(encoding="utf-8")
    assert md.startswith("# Retropropagação à mão") and "| grandeza |" in md
    rec = run_experiment("doctor", tmp_path, quick=True, lang="pt")
    assert rec["title"].startswith("O médico do gradiente")
    text = (tmp_path / "doctor" / "doctor.txt").read_text(encoding="utf-8")
    assert text.count("Diagnóstico do gradiente") == 4 and "Remédio" in text
    rec = run_experiment("chain-rule", tmp_path, quick=True, lang="pt")
    assert rec["metrics"]["max_factor_error"] <= 1e-8
    assert mlplab.__version__ == rec["versions"]["mlplab"]
