"""The lecture's activation plots (section 2) and smallest classifiers (section 7),
run in quick mode: their measured metrics, their figures and their languages."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlplab
import mlplab.experiments.activations  # noqa: F401  (registers "activations")
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.experiments.circles import opposite_pairs as _opposite_pairs

PNG = b"\x89PNG\r\n\x1a\n"
CLASSIFIERS = {"and": 1, "xor": 3, "circles": 5}  # experiment -> total nodes
QUICK_SAMPLES = {"and": 2000, "xor": 1000, "circles": 500}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each experiment run once (quick), shared by the tests below."""
    out = tmp_path_factory.mktemp("report")
    return {
        name: (run_experiment(name, out, quick=True), out / name)
        for name in ("activations", *CLASSIFIERS)
    }


@pytest.mark.parametrize("name", ["activations", *CLASSIFIERS])
def test_figures_are_pngs_and_record_is_written(runs, name):
    record, out_dir = runs[name]
    assert record["figures"], name
    for fig in record["figures"]:
        assert (out_dir / fig).read_bytes()[:8] == PNG, fig
    on_disk = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"] == json.loads(json.dumps(record["metrics"]))
    assert on_disk["lecture_section"] == EXPERIMENTS[name].section


def test_activation_derivatives_are_measured(runs):
    m = runs["activations"][0]["metrics"]
    step = m["grid"]["spacing"]
    assert "softmax" not in m["activations"] and "step" in m["activations"]
    assert set(m["max_derivative"]) == set(m["activations"])
    # logistic: at most 0.25, at z = 0; tanh: at most 1, at z = 0
    assert m["max_derivative"]["logistic"] == pytest.approx(0.25, abs=1e-12)
    assert abs(m["max_derivative_at"]["logistic"]) <= step
    assert m["max_derivative"]["tanh"] == pytest.approx(1.0, abs=1e-12)
    assert abs(m["max_derivative_at"]["tanh"]) <= step
    # saturation: f'(±10) is almost 0
    sat = m["logistic_saturation"]
    assert 0 < sat["f'(10)"] < 1e-4 and 0 < sat["f'(-10)"] < 1e-4
    assert sat["f(10)"] > 0.9999
    # the step's derivative is 0 (drawn), the kinks' f'(0) are the documented choices
    assert m["max_derivative"]["step"] == 0.0
    assert m["derivative_at_0_chosen"] == {
        "relu": 0.0,
        "leaky_relu": 0.01,
        "prelu": 0.25,
        "elu": 1.0,
    }
    # GELU and SiLU overshoot 1 (their maxima lie right of 0)
    assert m["max_derivative"]["gelu"] > 1.1 and m["max_derivative_at"]["gelu"] > 1
    assert max(m["max_error_vs_finite_difference"].values()) < 1e-6


@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier_metrics(runs, name):
    m = runs[name][0]["metrics"]
    assert m["nodes"] == CLASSIFIERS[name]
    assert m["n_samples"] == QUICK_SAMPLES[name]
    assert 0.0 <= m["accuracy"] <= 1.0
    assert m["accuracy"] >= 0.97  # even the quick runs solve their problem
    cm = np.asarray(m["confusion_matrix"])
    assert cm.shape == (2, 2) and cm.sum() == m["n_samples"]
    assert np.trace(cm) / cm.sum() == pytest.approx(m["accuracy"])
    assert m["initialisations_tried"] >= 1


@pytest.mark.parametrize("name", ["xor", "circles"])
def test_several_initialisations_are_tried_and_reported(runs, name):
    m = runs[name][0]["metrics"]
    tried = m["initialisations_tried"]
    assert tried == 20
    assert len(m["accuracy_per_initialisation"]) == len(m["loss_per_initialisation"]) == tried
    assert all(0.0 <= a <= 1.0 for a in m["accuracy_per_initialisation"])
    # the kept network has the lowest training loss of them all
    losses = m["loss_per_initialisation"]
    assert m["best_random_state"] == int(np.argmin(losses))  # seed 0: random_state = index
    assert 1 <= m["initialisations_solving"] <= tried


def test_xor_single_perceptron_fails(runs):
    m = runs["xor"][0]["metrics"]
    assert m["single_perceptron_accuracy"] < 0.9
    assert len(m["hidden_weights"]) == 2 and len(m["output_weights"]) == 3


def test_circles_construction_pairs_opposite_thresholds(runs):
    m = runs["circles"][0]["metrics"]
    assert sorted(j for pair in m["construction_ridge_pairs"] for j in pair) == [1, 2, 3, 4]
    assert m["initialisations_building_construction"] >= 1
    assert max(m["construction_pair_cosines"]) <= -0.8  # both pairs are opposite thresholds
    assert 45 <= m["construction_ridge_angle_degrees"] <= 90


def test_portuguese_title_lands_in_metrics_json(tmp_path):
    run_experiment("and", tmp_path, quick=True, lang="pt")
    record = json.loads((tmp_path / "and" / "metrics.json").read_text(encoding="utf-8"))
    assert record["lang"] == "pt"
    assert record["title"] == EXPERIMENTS["and"].title["pt"]
    assert "com ruído" in record["title"] and "nó" in record["title"]


def test_hidden_option_changes_the_network(tmp_path):
    record = run_experiment("circles", tmp_path, quick=True, hidden=3, initialisations=3)
    m = record["metrics"]
    assert m["nodes"] == 4 and m["initialisations_tried"] == 3
    # three thresholds: one pair and one node left alone
    assert sorted(len(g) for g in m["construction_ridge_pairs"]) == [1, 2]
    assert "--set hidden=3" in record["command"]


def test_opposite_pairs_finds_the_square():
    # four thresholds rising towards +x1, +x2, -x1, -x2: the opposite ones pair up
    u = np.array([[1.0, 0.0, -1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
    assert _opposite_pairs(u) == [(0, 2), (1, 3)]


def test_best_line_accuracy_counts_only_lines_that_exist():
    from mlplab.experiments.xor import best_line_accuracy

    # the noise-free corners, repeated: points at the same place cannot be split by a line
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 5)
    assert best_line_accuracy(corners, np.array([0, 0, 0, 1] * 5)) == 1.0  # AND
    assert best_line_accuracy(corners, np.array([0, 1, 1, 0] * 5)) == 0.75  # XOR: 3 corners
    assert best_line_accuracy(np.zeros((4, 2)), np.array([0, 1, 1, 1])) == 0.75  # one place
    # and noisy XOR: no line gets much more than 3 corners of 4
    X, y = mlplab.datasets.logic_gate("xor", 2000, noise=0.1, seed=0)
    assert 0.74 <= best_line_accuracy(X, y) <= 0.8


def test_single_perceptron_on_xor_hedges_at_one_half(runs):
    # its cross-entropy is that of a coin toss, ln 2, and its output stays near 0.5
    m = runs["xor"][0]["metrics"]
    assert m["single_perceptron_training_loss"] == pytest.approx(np.log(2), rel=0.02)
    lo, hi = m["single_perceptron_output_range"]
    assert 0.35 < lo <= hi < 0.65
    assert len(m["single_perceptron_accuracy_other_draws"]) == 10
    assert m["best_line_accuracy"] <= 0.8
