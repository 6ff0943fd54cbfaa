"""The mitigations (section 5), dying ReLU (section 2) and the failure lab, run in quick
mode: their documented metrics, their figures and the outcomes that hold robustly."""

from __future__ import annotations

import json
import math

import pytest

import mlplab.experiments  # noqa: F401  (registers the experiments)
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.experiments.dying_relu import DYING_ACTIVATIONS
from mlplab.experiments.failure_lab import PRESETS
from mlplab.experiments.mitigations import CONFIGS

PNG = b"\x89PNG\r\n\x1a\n"
NAMES = ("mitigations", "dying-relu", "failure-lab")
FIGURES = {
    "mitigations": ["gradient_norms.png", "mitigations.png"],
    "dying-relu": ["dying_relu.png"],
    "failure-lab": ["failure_lab.png"],
}
HE_FAMILY = [k for k, v in CONFIGS.items() if v[3] == "he_normal"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each experiment run once (quick, English), shared by the tests below."""
    out = tmp_path_factory.mktemp("report")
    return {name: (run_experiment(name, out, quick=True), out / name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_record_figures_and_sections(runs, name):
    record, out_dir = runs[name]
    assert sorted(record["figures"]) == sorted(FIGURES[name])  # shown in the declared order
    for fig in record["figures"]:
        assert (out_dir / fig).read_bytes()[:8] == PNG, fig
    on_disk = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"] == json.loads(json.dumps(record["metrics"]))
    exp = EXPERIMENTS[name]
    assert (exp.section, exp.order) == {
        "mitigations": ("5", 2),
        "dying-relu": ("2", 5),
        "failure-lab": ("5", 3),
    }[name]
    assert set(exp.title) == set(exp.claim) == {"en", "pt"}


def test_mitigations_metrics(runs):
    m = runs["mitigations"][0]["metrics"]
    per_config = (
        "final_loss",
        "final_accuracy",
        "epochs_to_target",
        "grad_ratio_first_last_epoch1",
        "grad_ratio_first_last_final",
        "diverged",
        "gradient_warnings",
        "initial_weights_vs_relu_he",
        "grad_norm_W_epoch1_per_layer",
        "loss_curve",
    )
    for key in per_config:
        assert list(m[key]) == list(CONFIGS), key
    depth = int(m["task"]["network"].split()[0])
    assert all(len(g) == depth + 1 for g in m["grad_norm_W_epoch1_per_layer"].values())
    ratio = m["grad_ratio_first_last_epoch1"]
    # the vanishing gradient: logistic + small init starves the first layer, ReLU + He does not
    assert ratio["logistic_small"] < 1e-6
    assert ratio["relu_he"] > 1e3 * ratio["logistic_small"]
    assert all(ratio[k] > 1e-2 for k in HE_FAMILY)
    assert m["epochs_to_target"]["logistic_small"] == "never"
    assert m["final_accuracy"]["logistic_small"] <= 0.55
    assert "vanishing" in m["gradient_warnings"]["logistic_small"]
    assert m["final_accuracy"]["relu_he"] > m["final_accuracy"]["logistic_small"]
    # twins: identical weights in the He family, the same draw rescaled otherwise
    twins = m["initial_weights_vs_relu_he"]
    assert all(twins[k] == "identical" for k in HE_FAMILY)
    assert all(twins[k] == "rescaled" for k in CONFIGS if k not in HE_FAMILY)
    assert m["same_batch_order"] is True
    for v in m["epochs_to_target"].values():
        assert v == "never" or (isinstance(v, int) and v >= 1)


def test_dying_relu_metrics(runs):
    m = runs["dying-relu"][0]["metrics"]
    per_activation = (
        "initial_dead_fraction",
        "final_dead_fraction",
        "final_dead_fraction_per_layer",
        "final_negative_fraction",
        "gradientflow_dead_fraction_final",
        "final_loss",
        "final_accuracy",
        "negative_bias_initial_dead_fraction",
        "negative_bias_final_dead_fraction",
        "negative_bias_final_loss",
        "negative_bias_final_accuracy",
    )
    for key in per_activation:
        assert list(m[key]) == list(DYING_ACTIVATIONS), key
    assert m["twins"] is True
    dead = m["final_dead_fraction"]
    assert dead["relu"] > 0.1
    for act in ("leaky_relu", "prelu", "elu", "gelu"):
        assert dead[act] < dead["relu"], act
        assert (
            m["negative_bias_final_dead_fraction"][act]
            < m["negative_bias_final_dead_fraction"]["relu"]
        )
    assert dead["leaky_relu"] == 0.0  # slope 0.01: its derivative never falls below 1e-3
    # GradientFlow counts dead ReLU units only (0 by definition for the variants)
    assert max(m["gradientflow_dead_fraction_final"]["relu"]) > 0
    assert all(v == 0 for v in m["gradientflow_dead_fraction_final"]["leaky_relu"])
    # a negative bias: ReLU never recovers, every variant learns
    acc = m["negative_bias_final_accuracy"]
    assert acc["relu"] <= 0.55
    assert m["negative_bias_final_dead_fraction"]["relu"] == pytest.approx(
        m["negative_bias_initial_dead_fraction"]["relu"]
    )
    for act in ("leaky_relu", "prelu", "elu", "gelu"):
        assert acc[act] > acc["relu"] + 0.1, act
    # a dead ReLU unit gets exactly no gradient on the whole training set
    largest, n_dead = m["relu_dead_unit_gradient"]
    assert n_dead > 0 and largest == 0.0


def _value(v):
    return -math.inf if v is None else v


def test_failure_lab_metrics(runs):
    record, out_dir = runs["failure-lab"]
    m = record["metrics"]
    assert m["presets"] == list(PRESETS)
    for key in (
        "metric",
        "broken",
        "fixed",
        "doctor_broken",
        "doctor_fixed",
        "remedy",
        "remedy_named_by_doctor",
        "alternative",
        "alternative_metric",
        "broken_diverged",
    ):
        assert list(m[key]) == list(PRESETS), key
    for p in PRESETS:
        assert _value(m["fixed"][p]) > _value(m["broken"][p]), p
        assert m["doctor_broken"][p] and m["doctor_broken"][p] != "healthy", p
    assert "vanishing" in m["doctor_broken"]["deep_sigmoid"]
    assert "dead" in m["doctor_broken"]["dying_relu"]
    assert m["broken_diverged"]["lr_too_high"] is True
    assert m["broken"]["xor_stuck"] < 0.8 and m["fixed"]["xor_stuck"] > 0.95
    assert m["fixed"]["unscaled_target"] > 0.9
    for p in ("deep_sigmoid", "lr_too_high", "dying_relu"):
        assert m["remedy_named_by_doctor"][p] is True, p
        assert m["doctor_fixed"][p] == "healthy", p
    text = (out_dir / "failure_lab.txt").read_text(encoding="utf-8")
    assert text.count("Gradient doctor") == 2 * len(PRESETS)
    assert all(f"[{p}]" in text for p in PRESETS)


def test_failure_lab_in_portuguese(tmp_path):
    record = run_experiment("failure-lab", tmp_path, quick=True, lang="pt")
    assert record["title"].startswith("Laboratório de falhas")
    text = (tmp_path / "failure-lab" / "failure_lab.txt").read_text(encoding="utf-8")
    assert text.count("Diagnóstico do gradiente") == 2 * len(PRESETS)
    assert "Remédio aplicado" in text
