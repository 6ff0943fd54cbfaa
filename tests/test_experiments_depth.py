"""Vanishing (lecture section 3) and exploding (section 4) gradients, run in quick mode:
the measured metrics, the figures and the Portuguese texts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import mlplab.experiments  # noqa: F401  (registers the experiments)
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.experiments.vanishing_gradient import QUICK_DEPTHS, RELU_HE, SWEEP_ACTIVATIONS

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {
    "vanishing-gradient": [
        "vanishing_depth_sweep.png",
        "vanishing_layer_norms.png",
        "vanishing_learning_curves.png",
    ],
    "exploding-gradient": ["exploding_layer_norms.png", "exploding_training.png"],
}
SERIES = {*SWEEP_ACTIVATIONS, RELU_HE}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each experiment run once (quick), shared by the tests below."""
    out = tmp_path_factory.mktemp("report")
    return {name: (run_experiment(name, out, quick=True), out / name) for name in FIGURES}


@pytest.mark.parametrize("name", list(FIGURES))
def test_figures_are_pngs_and_record_is_written(runs, name):
    record, out_dir = runs[name]
    assert sorted(record["figures"]) == sorted(FIGURES[name])  # shown in the declared order
    for fig in record["figures"]:
        assert (out_dir / fig).read_bytes()[:8] == PNG, fig
    on_disk = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"] == json.loads(json.dumps(record["metrics"]))
    assert on_disk["lecture_section"] == EXPERIMENTS[name].section
    assert on_disk["quick"] is True


def test_registration():
    assert EXPERIMENTS["vanishing-gradient"].section == "3"
    assert EXPERIMENTS["vanishing-gradient"].order == 3
    assert EXPERIMENTS["exploding-gradient"].section == "4"
    assert EXPERIMENTS["exploding-gradient"].order == 1


def test_vanishing_metric_keys(runs):
    m = runs["vanishing-gradient"][0]["metrics"]
    for key in (
        "depths",
        "first_layer_norm",
        "log_slope",
        "logistic_bound_slope",
        "first_last_ratio",
        "first_last_ratio_M20",
        "relu_he_ratio_range",
        "layer_norms_M10",
        "training",
    ):
        assert key in m, key
    assert m["depths"] == list(QUICK_DEPTHS)
    for key in ("first_layer_norm", "log_slope", "first_last_ratio", "first_last_ratio_M20"):
        assert set(m[key]) == SERIES, key
    assert set(m["layer_norms_M10"]) == SERIES
    assert all(len(v) == 11 for v in m["layer_norms_M10"].values())  # 10 hidden + output
    for values in m["first_layer_norm"].values():
        assert len(values) == len(m["depths"])
        assert all(math.isfinite(v) and v > 0 for v in values)


def test_logistic_gradient_vanishes_relu_he_does_not(runs):
    m = runs["vanishing-gradient"][0]["metrics"]
    slope = m["log_slope"]
    assert slope["logistic"] < 0
    assert slope["logistic"] < slope[RELU_HE]
    # about the derivative bound log10(0.25) per layer (the weights multiply in too)
    assert m["logistic_bound_slope"] == pytest.approx(math.log10(0.25))
    assert slope["logistic"] < -0.4
    # the first layer falls behind the output layer by orders of magnitude with the logistic
    assert m["first_last_ratio_M20"]["logistic"] < 1e-6
    # ReLU + He keeps the first and the output layer within a factor 10 at every depth
    lo, hi = m["relu_he_ratio_range"]
    assert 0.1 <= lo <= hi <= 10
    assert all(0.1 <= r <= 10 for r in m["first_last_ratio"][RELU_HE])


def test_early_layers_learn_slower_with_the_logistic(runs):
    tr = runs["vanishing-gradient"][0]["metrics"]["training"]
    logistic, he = tr["logistic"], tr[RELU_HE]
    assert logistic["optimizer"] == he["optimizer"] == "sgd"
    assert len(logistic["update_ratio_mean"]) == logistic["depth"] + 1
    # the first layer's updates are orders of magnitude smaller than the output layer's
    assert logistic["first_last_update_ratio"] < 1e-3
    assert he["first_last_update_ratio"] > 1e-2
    assert logistic["first_last_relative_change"] < he["first_last_relative_change"]
    # the update ratio grows from the input to the output layer
    assert np.all(np.diff(np.log(logistic["update_ratio_mean"])) > 0)
    # the gradient doctor flags the logistic net's early layers, not ReLU + He's
    assert any("vanishing" in w for w in logistic["doctor_warnings"])
    assert not any("vanishing" in w for w in he["doctor_warnings"])


def test_exploding_metric_keys(runs):
    m = runs["exploding-gradient"][0]["metrics"]
    for key in (
        "layer_norms_constant",
        "layer_norms_normal",
        "layer_norms_he",
        "growth_factor",
        "mean_growth_factor",
        "growth_factor_W",
        "initial_loss",
        "diverged_at",
        "divergence_warning",
        "final_loss_clip_norm",
        "final_loss_clip_value",
        "final_loss_he",
        "mean_predictor_loss",
        "runs",
        "constant_runs",
    ):
        assert key in m, key
    for init in ("constant", "normal", "he"):
        norms = m[f"layer_norms_{init}"]
        assert set(norms) == {"grad_W", "grad_b", "delta"}
        assert all(len(v) == m["depth"] + 1 for v in norms.values())
        assert len(m["growth_factor"][init]) == m["depth"]


def test_error_signal_grows_toward_the_input(runs):
    m = runs["exploding-gradient"][0]["metrics"]
    width = m["width"]
    # constant 1.5: every unit identical and active, the error grows by 1.5 * 16 per layer
    assert m["growth_factor"]["constant"][:-1] == pytest.approx([1.5 * width] * 9, rel=1e-9)
    assert m["growth_factor"]["constant"][-1] == pytest.approx(1.5 * math.sqrt(width))
    assert 2.0 < m["mean_growth_factor"]["normal"] < 4.5  # about gain = 3
    assert 0.5 < m["mean_growth_factor"]["he"] < 2.0
    delta = m["layer_norms_normal"]["delta"]
    assert delta[0] > 1e4 * delta[-1]
    # the weight gradients are huge but about level across the layers (homogeneity)
    for init in ("constant", "normal"):
        assert 0.5 < m["mean_growth_factor_W"][init] < 2.0
        assert min(m[f"layer_norms_{init}"]["grad_W"]) > 1e6 * max(m["layer_norms_he"]["grad_W"])


def test_divergence_is_caught_and_clipping_keeps_training_finite(runs):
    m = runs["exploding-gradient"][0]["metrics"]
    at = m["diverged_at"]
    assert at is not None and at["epoch"] >= 1 and at["batch"] >= 1
    assert m["divergence_warning"].startswith(
        f"Training diverged at epoch {at['epoch']}, batch {at['batch']}"
    )
    assert m["runs"]["no_clip"]["epochs_run"] == at["epoch"]
    assert m["losses_before_divergence"][-1] > m["losses_before_divergence"][0]
    initial = m["initial_loss"]
    assert initial > 1e6
    for key in ("final_loss_clip_norm", "final_loss_clip_value"):
        assert math.isfinite(m[key]) and m[key] < initial, key
    for clip in ("clip_norm", "clip_value"):
        assert m["runs"][clip]["diverged_at"] is None
        assert m["runs"][clip]["divergence_warning"] is None
    # the well-initialised net learns beyond the mean predictor
    assert m["final_loss_he"] < m["mean_predictor_loss"]


def test_portuguese_texts_and_same_numbers(runs, tmp_path):
    record = run_experiment("exploding-gradient", tmp_path, quick=True, lang="pt")
    assert record["title"].startswith("Gradiente que explode")
    en = runs["exploding-gradient"][0]["metrics"]
    pt = record["metrics"]
    assert pt["diverged_at"] == en["diverged_at"]
    assert pt["final_loss_clip_norm"] == en["final_loss_clip_norm"]
    assert pt["growth_factor"] == en["growth_factor"]


def test_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="gain"):
        run_experiment("exploding-gradient", tmp_path, quick=True, gain=-1.0)
    with pytest.raises(ValueError, match="max_depth"):
        run_experiment("vanishing-gradient", tmp_path, quick=True, max_depth=1)
