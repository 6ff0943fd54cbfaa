"""The playground's Session: data, training steps, frames, limits and exports (no web code)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mlplab
from mlplab.web.session import (
    DATASETS,
    LIMITS,
    ConfigError,
    DivergedError,
    Session,
    TooLargeError,
    default_config,
    meta,
)

ROOT = Path(__file__).resolve().parents[1]
XOR_2 = {"layers": [{"units": 2, "activation": "logistic"}], "learning_rate": 0.1}


def dumps(frame):
    """Strict JSON, as the server sends it (fails on NaN/inf)."""
    return json.dumps(frame, allow_nan=False)


def all_numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from all_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from all_numbers(v)
    elif isinstance(obj, float):
        yield obj


def check_frame(frame):
    dumps(frame)
    assert all(math.isfinite(x) for x in all_numbers(frame))
    assert frame["type"] == "frame"
    n_dense = len(frame["units"]) - 1
    assert len(frame["grad_norms"]) == len(frame["layer_names"]) == n_dense
    assert len(frame["weights"]) == len(frame["biases"]) == len(frame["weight_grads"]) == n_dense
    for k, W in enumerate(frame["weights"]):
        assert len(W) == frame["units"][k] and len(W[0]) == frame["units"][k + 1]
        assert len(frame["biases"][k]) == frame["units"][k + 1]
    assert len(frame["dead"]) == len(frame["saturated"]) == n_dense - 1
    assert len(frame["node_maps"]) == n_dense - 1
    for maps, units in zip(frame["node_maps"], frame["units"][1:-1], strict=True):
        assert len(maps) == units
        for m in maps:
            assert len(m["values"]) == m["nx"] * m["ny"]
    for key in ("step", "loss", "test_loss", "grad_norms"):
        assert len(frame["history"][key]) == len(frame["history"]["step"])
    return frame


def session_with_state(cfg=None, steps=0):
    s = Session(cfg)
    if steps:
        s.step(steps)
    return s


# --------------------------------------------------------------------------- learning
@pytest.mark.parametrize("seed", [1, 3])
def test_xor_with_two_logistic_hidden_nodes_is_learned(seed):
    # The 2-2-1 logistic XOR network has local minima (about half of the initialisations
    # stall at 70-80 % accuracy, as the lecture warns); these seeds are in the good basin
    # at every learning rate tried (0.03, 0.05, 0.1) and reach 100 % within ~150 steps.
    s = Session({**XOR_2, "seed": seed})
    assert s.frame()["units"] == [2, 2, 1]
    for _ in range(20):  # at most 1000 steps
        s.step(50)
        if s.frame(points=False)["test_metric"] >= 0.99:
            break
    frame = check_frame(s.frame())
    assert frame["test_metric"] >= 0.99
    assert frame["train_metric"] >= 0.99
    assert frame["step"] <= 1000
    assert frame["history"]["loss"][-1] < frame["history"]["loss"][0]


def test_eight_logistic_layers_show_the_vanishing_gradient():
    s = Session({"layers": [{"units": 6, "activation": "logistic"}] * 8})
    s.step(10)
    frame = check_frame(s.frame())
    g = frame["grad_norms"]
    assert len(g) == 9
    assert g[0] * 100 <= g[-1]
    vanishing = [f for f in frame["findings"] if f["kind"] == "vanishing"]
    assert vanishing and vanishing[0]["layer"] == 0
    assert vanishing[0]["name"] == frame["layer_names"][0] == "1: logistic (6)"
    assert vanishing[0]["remedy"]
    # the doctor speaks Portuguese on request, without touching the weights
    theta = s._net.theta.copy()
    s.apply({"lang": "pt"})
    assert np.array_equal(s._net.theta, theta)
    pt = [f for f in s.frame()["findings"] if f["kind"] == "vanishing"]
    assert "menor" in pt[0]["detail"]


@pytest.mark.parametrize("name", [n for n in DATASETS if n != "csv"])
def test_every_dataset_builds_and_trains(name):
    s = Session({"dataset": name, "n_samples": 200})
    first = s.frame()
    s.step(5)
    frame = check_frame(s.frame())
    info = DATASETS[name]
    assert frame["task"] == info["task"]
    assert frame["units"][0] == info["inputs"]
    assert frame["step"] == 5 and frame["epoch"] > 0
    assert frame["loss"] is not None and frame["test_loss"] is not None
    assert first["points"] is not None and frame["points"] is None  # sent once
    n_train = len(first["points"]["train"])
    assert n_train + len(first["points"]["test"]) == 200
    assert len(first["points"]["train"][0]) == info["inputs"] + 1
    if info["task"] == "classification":
        assert frame["curve"] is None
        hm = frame["heatmap"]
        assert (hm["nx"], hm["ny"]) == (48, 48) and len(hm["values"]) == 48 * 48
        assert hm["classes"] == info["classes"]
        assert all(m["nx"] == m["ny"] == 16 for maps in frame["node_maps"] for m in maps)
        labels = {p[2] for p in first["points"]["train"]}
        assert labels == set(range(info["classes"]))
        if info["classes"] > 2:
            assert frame["resolved"] == {"loss": "cce", "output_activation": "softmax"}
            assert set(hm["values"]) <= {0.0, 1.0, 2.0}
        else:
            assert frame["resolved"] == {"loss": "bce", "output_activation": "logistic"}
            assert 0.0 <= min(hm["values"]) <= max(hm["values"]) <= 1.0
    else:
        assert frame["heatmap"] is None
        assert frame["resolved"] == {"loss": "mse", "output_activation": "identity"}
        assert len(frame["curve"]["x"]) == len(frame["curve"]["y"]) == 200


def test_regression_frames_carry_a_fitted_curve_in_original_units():
    s = Session({"dataset": "sin", "noise": 0.0})
    s.step(600)
    frame = check_frame(s.frame())
    curve = frame["curve"]
    x = np.array(curve["x"])
    assert len(x) == 200 and np.all(np.diff(x) > 0)
    assert x[0] < 0.0 < 2 * np.pi < x[-1]  # the data range [0, 2 pi] plus a margin
    assert frame["domain"]["x"] == [x[0], x[-1]] and frame["domain"]["y"] is None
    y = np.array(curve["y"])
    inside = (x > 0) & (x < 2 * np.pi)
    assert np.all(np.abs(y[inside] - np.sin(x[inside])) < 0.3)
    assert frame["metric"] == "r2" and frame["test_metric"] > 0.9
    assert all((m["nx"], m["ny"]) == (16, 1) for maps in frame["node_maps"] for m in maps)


# ------------------------------------------------------------------------ interaction
def test_weight_edit_changes_the_output_and_the_frame():
    s = Session()
    s.step(20)
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.3, 0.7]])
    before = s.predict(X)
    s.set_weight(2, 1, 0, 5.0)  # output layer, from hidden node 1
    frame = s.frame()
    assert frame["weights"][2][1][0] == 5.0
    assert not np.allclose(s.predict(X), before)
    s.set_weight(0, -1, 3, -2.5)  # bias of node 3 of the first layer
    assert s.frame()["biases"][0][3] == -2.5
    with pytest.raises(ConfigError, match="layer"):
        s.set_weight(3, 0, 0, 1.0)
    with pytest.raises(ConfigError, match="i must be"):
        s.set_weight(0, 2, 0, 1.0)
    with pytest.raises(ConfigError, match="j must be"):
        s.set_weight(0, 0, 4, 1.0)
    with pytest.raises(ConfigError, match="value"):
        s.set_weight(0, 0, 0, float("nan"))
    assert "not reproduced" in s.export_snippet()


def test_add_point_joins_the_training_set():
    s = Session({"n_samples": 100})
    s.frame()  # the points went out
    n = len(s.frame(points=True)["points"]["train"])
    assert s.frame()["points"] is None
    version = s.frame()["data_version"]
    s.add_point(0.5, 0.5, 1)
    frame = s.frame()
    assert frame["data_version"] == version + 1
    assert len(frame["points"]["train"]) == n + 1
    assert frame["points"]["train"][-1] == [0.5, 0.5, 1.0]
    s.step(10)  # trains with the new point
    s.add_point(5.0, -3.0, 0)  # outside the plot: the plot grows
    frame = check_frame(s.frame())
    assert frame["heatmap"]["x"][1] > 5.0 and frame["heatmap"]["y"][0] < -3.0
    with pytest.raises(ConfigError, match="label"):
        s.add_point(0.0, 0.0, 2)
    with pytest.raises(ConfigError, match="x must be"):
        s.add_point("a", 0.0, 0)
    r = Session({"dataset": "sin", "n_samples": 50})
    r.add_point(1.0, 3.0, 0)  # input 1, target 3
    assert r.frame(points=True)["points"]["train"][-1] == [1.0, 3.0]
    full = Session({"n_samples": LIMITS["n_samples"]})
    with pytest.raises(ConfigError, match="n_samples"):
        full.add_point(0.0, 0.0, 0)


def test_apply_keeps_or_rebuilds_as_needed():
    s = Session()
    s.step(30)
    theta = s._net.theta.copy()
    s.apply({"learning_rate": 0.01, "batch_size": 16, "l2": 1e-4, "clip_norm": 1.0})
    assert np.array_equal(s._net.theta, theta) and s.frame()["step"] == 30
    s.apply({"optimizer": "nesterov"})
    assert s.frame()["step"] == 30
    s.step(5)
    s.apply({"layers": [{"units": 3, "activation": "relu", "batch_norm": True}]})
    frame = check_frame(s.frame())
    assert frame["step"] == 0 and frame["units"] == [2, 3, 1]
    assert frame["layer_names"][0] == "1: relu + BN (3)"
    s.step(5)
    check_frame(s.frame())
    # a bad config leaves the session as it was
    config = s.config
    with pytest.raises(ConfigError):
        s.apply({"learning_rate": 0.5, "layers": [{"units": 0}]})
    assert s.config == config
    # switching to a regression with a classification loss: "auto" takes over
    s.apply({"loss": "bce"})
    s.apply({"dataset": "sin"})
    assert s.config["loss"] == "auto" and s.frame()["resolved"]["loss"] == "mse"
    # reset gives the same initial weights again
    s.step(5)
    s.reset()
    again = Session(s.config)
    assert np.array_equal(s._net.theta, again._net.theta)
    assert s.frame()["step"] == 0


# ------------------------------------------------------------------------------- CSV
def test_csv_classification_and_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 5, -1)  # labels {-1, 5} -> {0, 1}
    text = "x1,x2,label\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(X, y, strict=True))
    s = Session()
    s.load_csv(text)
    frame = check_frame(s.frame())
    assert s.config["dataset"] == "csv" and frame["task"] == "classification"
    pts = frame["points"]["train"] + frame["points"]["test"]
    assert len(pts) == 60 and {p[2] for p in pts} == {0.0, 1.0}
    s.step(10)
    check_frame(s.frame())
    # three classes, semicolons, no header, a comment
    text3 = "# my data\n" + "\n".join(f"{i % 7};{i % 5};{i % 3}" for i in range(30))
    s.load_csv(text3)
    assert s.frame()["resolved"]["loss"] == "cce" and s.frame()["classes"] == 3
    # two columns: regression (x, target), whitespace separated
    x = np.linspace(0, 3, 40)
    s.load_csv("\n".join(f"{a} {np.sin(a)}" for a in x))
    frame = check_frame(s.frame())
    assert frame["task"] == "regression" and frame["curve"] is not None
    s.step(10)
    # the session can leave the CSV and come back to it
    s.apply({"dataset": "xor"})
    s.apply({"dataset": "csv"})
    assert s.frame()["task"] == "regression"


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "no data rows"),
        ("x1,x2,label\n", "header but no data"),
        ("1,2,0\n3,abc,1\n" + "1,1,0\n" * 5, "line 2, column 2: 'abc' is not a number"),
        ("1,2,0\n3,nan,1\n" + "1,1,0\n" * 5, "line 2, column 2: 'nan' is not a finite"),
        ("1,2,0,4\n" * 6, "2 columns .* or 3 columns"),
        ("1\n" * 6, "2 columns .* or 3 columns"),
        ("1,2,0\n1,2\n" + "1,1,0\n" * 5, "line 2 has 2 columns, expected 3"),
        ("1,2,0.5\n" * 6, "integers"),
        ("1,2,1\n" * 6, "2 to 10 classes"),
        ("".join(f"{i},{i},{i}\n" for i in range(12)), "2 to 10 classes"),
        ("1,2,0\n2,1,1\n", "at least 4"),
        ("".join(f"{i},{i % 2}\n" for i in range(LIMITS["n_samples"] + 1)), "rows; the limit"),
    ],
)
def test_bad_csv_is_a_config_error_and_changes_nothing(text, match):
    s = Session()
    config = s.config
    with pytest.raises(ConfigError, match=match) as info:
        s.load_csv(text)
    assert info.value.field == "csv"
    assert s.config == config
    with pytest.raises(ConfigError, match="dataset"):
        s.apply({"dataset": "csv"})  # nothing was loaded


def test_csv_over_the_size_limit_is_too_large():
    s = Session()
    with pytest.raises(TooLargeError, match="bytes"):
        s.load_csv("1,2,0\n" * (LIMITS["csv_bytes"] // 6 + 1))
    with pytest.raises(ConfigError, match="csv must be text"):
        s.load_csv(b"1,2,0\n")


# ---------------------------------------------------------------------------- limits
@pytest.mark.parametrize(
    "config, match",
    [
        ({"layers": [{"units": 2}] * 9}, "layers: at most 8 hidden layers; received 9"),
        ({"layers": [{"units": 33}]}, r"layers\[0\]\.units must be an integer in 1..32; "),
        ({"layers": [{"activation": "step"}]}, r"layers\[0\]\.activation .*received 'step'"),
        ({"layers": [{"units": 2, "dropout": 0.5}]}, "unknown key 'dropout'"),
        ({"layers": [{"batch_norm": "yes"}]}, "batch_norm must be true or false"),
        ({"layers": "4,4"}, "layers must be a list"),
        ({"n_samples": 5001}, "n_samples must be an integer in 10..5000; received 5001"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"learning_rate": 0}, r"learning_rate must be a number in \(0, 1000\]; received 0"),
        ({"learning_rate": "fast"}, "learning_rate .*received 'fast'"),
        ({"learning_rate": True}, "learning_rate"),
        ({"noise": -1}, "noise"),
        ({"test_fraction": 0.95}, "test_fraction"),
        ({"batch_size": 0}, "batch_size"),
        ({"clip_norm": -1.0}, "clip_norm"),
        ({"optimizer": "lbfgs"}, "optimizer .*received 'lbfgs'"),
        ({"optimizer": "gd"}, "optimizer"),
        ({"init": "zero"}, "init"),
        ({"dataset": "mnist"}, "dataset .*received 'mnist'"),
        ({"dataset": "csv"}, "dataset: 'csv' needs an uploaded CSV"),
        ({"loss": "hinge"}, "loss"),
        ({"dataset": "multiblobs", "loss": "bce"}, "loss: 'bce' is for 2 classes"),
        ({"dataset": "sin", "loss": "cce"}, "loss: 'cce' is for classification"),
        ({"output_activation": "tanh"}, "output_activation: 'tanh' does not fit the loss"),
        ({"output_activation": "softmax", "loss": "bce"}, "output_activation: 'softmax'"),
        ({"lang": "fr"}, "lang"),
        ({"seed": -1}, "seed"),
        ({"steps_per_second": 0}, r"steps_per_second must be a number in \[0.1, 1e\+06\] or null"),
        ({"steps_per_second": "fast"}, "steps_per_second .*received 'fast'"),
        ({"steps_per_second": True}, "steps_per_second"),
        ({"steps_per_second": float("inf")}, "steps_per_second"),
        ({"colour": "red"}, "unknown config key 'colour'"),
    ],
)
def test_bad_configs_raise_config_errors_naming_the_field(config, match):
    with pytest.raises(ConfigError, match=match) as info:
        Session(config)
    assert isinstance(info.value, ValueError)
    assert info.value.field
    s = Session()
    with pytest.raises(ConfigError, match=match):
        s.apply(config)


def test_step_and_epoch_limits():
    s = Session()
    with pytest.raises(ConfigError, match="steps must be an integer in 0..1000; received 1001"):
        s.step(LIMITS["steps_per_request"] + 1)
    with pytest.raises(ConfigError, match="steps"):
        s.step(-1)
    s.step(0)
    assert s.frame()["step"] == 0
    small = Session({"n_samples": 20, "batch_size": 7}, limits={"epochs": 2})
    small.step(100)  # stops at the epoch limit
    assert small.frame()["epoch"] == 2.0 and small.frame()["step"] == 4  # 14 rows: 2 batches
    with pytest.raises(ConfigError, match="epochs: this session has trained 2 epochs"):
        small.step(1)
    small.reset()
    small.step(1)
    with pytest.raises(ConfigError, match="parameters"):
        Session(limits={"parameters": 10})


def test_speed_is_a_config_key_applied_on_the_fly():
    """steps_per_second paces the server's play loop: a number, or None for full speed; by
    default slow enough to watch XOR's boundary form; changing it keeps the training."""
    s = Session()
    assert s.config["steps_per_second"] == 10 == s.steps_per_second
    s.step(30)
    theta = s._net.theta.copy()
    for speed in (None, 0.5, 2000):
        s.apply({"steps_per_second": speed})
        assert s.steps_per_second == speed and s.config["steps_per_second"] == speed
        assert np.array_equal(s._net.theta, theta) and s.frame()["step"] == 30
    with pytest.raises(ConfigError) as info:
        s.apply({"steps_per_second": -3})
    assert info.value.field == "steps_per_second" and s.steps_per_second == 2000


def test_meta_and_defaults():
    m = meta()
    assert "step" not in m["activations"] and "relu" in m["activations"]
    assert set(m["optimizers"]) == {"adam", "sgd", "momentum", "nesterov", "rmsprop", "adagrad"}
    assert set(m["losses"]) == {"auto", "bce", "cce", "mse"}
    assert m["limits"] == LIMITS and set(m["datasets"]) == set(DATASETS)
    assert Session().config == default_config()
    assert Session(seed=3).config["seed"] == 3
    assert Session({"seed": 4}, seed=3).config["seed"] == 4
    dumps(m)


def test_importing_the_session_does_not_need_the_web_stack():
    code = (
        "import sys, mlplab.web, mlplab.web.session; "
        "print('fastapi' in sys.modules, 'uvicorn' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------ divergence
def test_nan_guard_keeps_finite_weights_and_reports():
    s = Session(
        {
            "dataset": "square",
            "layers": [{"units": 16, "activation": "relu"}] * 3,
            "optimizer": "sgd",
            "learning_rate": 100.0,
        }
    )
    s.step(50)  # no exception: the guard stops the training
    frame = check_frame(s.frame())
    assert frame["error"] and "diverged" in frame["error"]
    assert frame["findings"][0]["kind"] == "nonfinite"
    assert np.isfinite(s._net.theta).all()
    assert all(math.isfinite(w) for w in all_numbers(frame["weights"]))
    step = frame["step"]
    with pytest.raises(DivergedError, match="training: stopped at step 3 because it diverged"):
        s.step(10)  # paused until something changes
    assert s.frame()["step"] == step == 3
    s.apply({"learning_rate": 0.01})  # a change lifts the pause
    assert s.frame()["error"] is None
    s.step(10)  # (from weights this large it may diverge again: no matter)
    assert s.frame()["step"] > step
    s.set_weight(0, 0, 0, 0.1)  # an edit lifts the pause too
    s.step(1)
    check_frame(s.frame())
    s.reset()
    assert s.frame()["error"] is None and s.frame()["step"] == 0
    s.apply({"learning_rate": 0.001})
    s.step(10)
    assert s.frame()["error"] is None and s.frame()["step"] == 10


# --------------------------------------------------------------------------- exports
def test_exported_model_loads_and_predicts_the_same(tmp_path):
    for config in ({}, {"dataset": "expneg"}, {"layers": [{"units": 5, "batch_norm": True}]}):
        s = Session(config)
        s.step(40)
        path = tmp_path / "model.mlplab"
        path.write_bytes(s.export_model())
        net = mlplab.load(path)
        d = s._data
        X = np.concatenate([d.X_train, d.X_test])  # original units
        np.testing.assert_allclose(net.predict(X), s.predict(X), rtol=1e-12, atol=1e-12)


def test_export_history_csv_and_json():
    s = Session()
    for _ in range(3):
        s.step(7)
    h = json.loads(s.export_history("json"))
    assert h["step"] == [0, 7, 14, 21]
    assert len(h["grad_norms"]) == 4 and len(h["grad_norms"][0]) == 3
    assert len(h["layer_names"]) == 3
    lines = s.export_history("csv").strip().splitlines()
    assert lines[0].split(",")[:4] == ["step", "epoch", "loss", "test_loss"]
    assert lines[0].endswith("grad_norm_3")
    assert len(lines) == 5 and lines[-1].startswith("21,")
    assert float(lines[-1].split(",")[2]) == pytest.approx(h["loss"][-1])
    with pytest.raises(ConfigError, match="format"):
        s.export_history("xlsx")


def run_snippet(code):
    namespace = {"__name__": "__snippet__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the doctor's training-time warnings
        exec(compile(code, "<snippet>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"dataset": "spiral", "layers": [{"units": 6, "activation": "relu", "batch_norm": True}]},
        {"dataset": "multiblobs", "loss": "mse", "optimizer": "momentum", "l2": 1e-3},
        {"dataset": "sin", "clip_norm": 0.5, "batch_size": 500},
    ],
)
def test_snippet_runs_and_reproduces_the_training(config, capsys):
    s = Session({**config, "n_samples": 200})
    n_batches = -(-s._Xs_train.shape[0] // s.config["batch_size"])
    s.step(2 * n_batches)  # two epochs
    assert s.frame()["epoch"] == 2.0
    code = s.export_snippet()
    assert "EPOCHS = 2" in code
    ns = run_snippet(code)
    assert "epochs: 2" in capsys.readouterr().out
    np.testing.assert_array_equal(ns["net"].theta, s._net.theta)  # the very same steps


def test_snippet_of_a_run_stopped_mid_epoch_makes_the_same_steps(capsys):
    """18 whole epochs and 2 mini-batches of the 19th (epoch 18.18 on the page): the snippet
    makes exactly those 200 optimizer steps (not 19 epochs) and ends at the same weights."""
    s = Session()  # XOR: 350 training points, 11 mini-batches of 32 per epoch
    with threadpool_limits(1):
        s.step(200)
    assert s.frame()["epoch"] == pytest.approx(18 + 2 / 11)
    code = s.export_snippet()
    assert "EPOCHS = 19" in code and "STEPS = 200" in code
    with threadpool_limits(1):
        ns = run_snippet(code)
    assert "epochs: 19 (the last one partial)" in capsys.readouterr().out
    np.testing.assert_array_equal(ns["net"].theta, s._net.theta)


def test_snippet_with_csv_or_added_points_embeds_the_data(capsys):
    s = Session({"n_samples": 50})
    s.add_point(0.2, 0.9, 1)
    ns = run_snippet(s.export_snippet(epochs=2))
    np.testing.assert_array_equal(ns["X_train"], s._data.X_train)
    s.load_csv("\n".join(f"{i / 10},{(i / 10) ** 2}" for i in range(30)))
    ns = run_snippet(s.export_snippet(epochs=1))
    assert ns["hist"].epochs == 1
    assert "test R²" in capsys.readouterr().out


# ----------------------------------------------------------------------------- frames
def test_frames_are_strict_json_in_every_state():
    s = Session({"dataset": "circles", "n_samples": 100, "test_fraction": 0.0})
    frame = check_frame(s.frame())
    assert frame["test_loss"] is None and frame["test_metric"] is None
    assert frame["points"]["test"] == []
    s.step(1000)
    check_frame(s.frame())
    for name in ("relu", "leaky_relu", "prelu", "gelu", "silu", "softplus", "elu", "softmax"):
        s = Session(
            {
                "layers": [
                    {"units": 3, "activation": name},
                    {"units": 3, "batch_norm": True, "activation": name},
                ]
            }
        )
        s.step(3)
        check_frame(s.frame())
    s = Session({"loss": "cce"})  # two classes, two softmax outputs
    hm = check_frame(s.frame())["heatmap"]
    assert s.frame()["units"][-1] == 2 and len(set(hm["values"])) > 2  # P(class 1)
    s = Session({"output_activation": "identity", "loss": "mse", "init": "zeros"})
    s.step(3)
    check_frame(s.frame())
    many = Session({"n_samples": 30, "batch_size": 30})
    many.step(1000)
    many.step(1000)
    frame = many.frame()
    assert len(frame["history"]["step"]) == 3
    text = json.dumps(frame)
    assert "NaN" not in text and "Infinity" not in text


def test_csv_with_a_lone_surrogate_is_a_config_error_not_a_crash():
    from mlplab.web.session import ConfigError, parse_csv

    with pytest.raises(ConfigError, match="not valid Unicode") as err:
        parse_csv("x,y\n1,2\n\ud800,3\n")
    assert err.value.field == "csv"
