"""Recurrent networks (lecture section 6), run in quick mode: memory against the lag,
vital-sign forecasting and the free-running dynamics -- the measured metrics, the
figures and the Portuguese texts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import mlplab.experiments  # noqa: F401  (registers the experiments)
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.experiments.recurrent_memory import MEMORY_MODELS, QUICK_KS, RECURRENT_MODELS

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {
    "recurrent-memory": ["memory_accuracy.png", "memory_gradient.png"],
    "vital-signs": ["vital_forecast.png", "vital_signal.png"],
    "recurrent-dynamics": [
        "dynamics_lyapunov.png",
        "dynamics_phase.png",
        "dynamics_trajectories.png",
    ],
}
FORECASTERS = {"gru", "mlp", "naive_last", "seasonal_naive"}
REGIMES = {"fixed_point", "oscillation", "chaos", "divergence", "divergence_relu"}


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
    assert on_disk["lecture_section"] == "6"
    assert on_disk["quick"] is True


def test_registration():
    for name, order in (("recurrent-memory", 1), ("vital-signs", 2), ("recurrent-dynamics", 3)):
        exp = EXPERIMENTS[name]
        assert exp.section == "6"
        assert exp.order == order
        assert set(exp.title) == set(exp.claim) == {"en", "pt"}


# ------------------------------------------------------------------ memory
def test_memory_metric_keys(runs):
    m = runs["recurrent-memory"][0]["metrics"]
    for key in (
        "ks",
        "window",
        "n_params",
        "accuracy",
        "accuracy_per_seed",
        "solved_seeds",
        "longest_k_solved",
        "epochs_run",
        "init_grad_ratio",
        "init_grad_ratio_per_seed",
        "trained_grad_ratio",
        "probe_k",
        "grad_ratio",
        "grad_norms",
    ):
        assert key in m, key
    assert m["ks"] == list(QUICK_KS)
    assert m["seeds"] == [0]  # quick: one seed
    assert set(m["accuracy"]) == set(MEMORY_MODELS)
    for model, values in m["accuracy"].items():
        assert len(values) == len(m["ks"])
        assert all(0.0 <= a <= 1.0 for a in values)
        assert m["accuracy_per_seed"][model] == [values]  # one seed: the mean is the seed
    for key in ("init_grad_ratio_per_seed", "trained_grad_ratio"):
        assert set(m[key]) == set(RECURRENT_MODELS)
        assert all(len(v) == 1 and len(v[0]) == len(m["ks"]) for v in m[key].values())
    assert set(m["init_grad_ratio"]) == set(RECURRENT_MODELS)
    for model, per_seed in m["init_grad_ratio_per_seed"].items():
        assert m["init_grad_ratio"][model] == pytest.approx(per_seed[0], rel=1e-12)
    # about the same number of weights in every model (within 10 %)
    sizes = list(m["n_params"].values())
    assert max(sizes) < 1.1 * min(sizes)
    # the profiles through time have one value per step of the probed sequences
    length = max(m["probe_k"] + 1, m["window"])
    for when in ("init", "trained"):
        for prof in m["grad_norms"][when].values():
            assert len(prof) == length
            assert prof[-1] == pytest.approx(1.0)


def test_feedforward_has_no_memory_recurrent_nets_do(runs):
    m = runs["recurrent-memory"][0]["metrics"]
    ks, acc, window = m["ks"], m["accuracy"], m["window"]
    ff = dict(zip(ks, acc["feedforward"], strict=True))
    assert ff[1] >= 0.95  # inside its window
    assert m["longest_k_solved"]["feedforward"] == [max(k for k in ks if k < window)]
    for k in ks:
        if k >= window:  # outside its window: chance
            assert 0.4 < ff[k] < 0.6, k
    for model in RECURRENT_MODELS:
        # every recurrent net recalls the sign at every quick lag, also beyond the window
        assert min(acc[model]) >= 0.95, model
        assert acc[model][-1] > acc["feedforward"][-1] + 0.3, model
        assert m["solved_seeds"][model] == [1] * len(ks)


def test_gradient_through_time_vanishes_with_the_lag(runs):
    m = runs["recurrent-memory"][0]["metrics"]
    for model in RECURRENT_MODELS:
        r = m["init_grad_ratio"][model]
        # at initialisation ||dJ/dh_1|| / ||dJ/dh_T|| falls with the lag k
        assert all(b < a for a, b in zip(r, r[1:], strict=False)), (model, r)
        assert r[-1] < 0.1, model
    # having learned the lag, the gated nets pass more gradient back to step 1 than at
    # initialisation (their memory paths opened)
    assert m["probe_k"] == m["ks"][-1]
    for model in ("lstm", "gru"):
        assert m["grad_ratio"]["trained"][model] > m["grad_ratio"]["init"][model], model
        assert m["grad_ratio"]["init"][model] == m["init_grad_ratio_per_seed"][model][0][-1]


# ------------------------------------------------------------- vital signs
def test_vital_signs_metric_keys(runs):
    m = runs["vital-signs"][0]["metrics"]
    for key in (
        "mse_one_step",
        "mse_multi_step",
        "mse_at_horizon",
        "mse_by_horizon",
        "mean_predictor_mse",
        "noise_floor_mse",
        "window",
        "horizon",
        "seasonal_period_samples",
    ):
        assert key in m, key
    for key in ("mse_one_step", "mse_multi_step", "mse_at_horizon", "mse_by_horizon"):
        assert set(m[key]) == FORECASTERS, key
    for model, curve in m["mse_by_horizon"].items():
        assert len(curve) == m["horizon"]
        assert all(math.isfinite(v) and v > 0 for v in curve)
        assert curve[0] == pytest.approx(m["mse_one_step"][model])
        assert np.mean(curve) == pytest.approx(m["mse_multi_step"][model])
    # standardised with the training statistics: predicting the mean costs about the variance
    assert 0.5 < m["mean_predictor_mse"] < 2.0


def test_networks_beat_the_naive_baselines_one_step_ahead(runs):
    one = runs["vital-signs"][0]["metrics"]["mse_one_step"]
    floor = runs["vital-signs"][0]["metrics"]["noise_floor_mse"]
    for model in ("gru", "mlp"):
        assert one[model] < 0.5 * one["naive_last"], model
        assert one[model] < 0.5 * one["seasonal_naive"], model
    assert all(v > floor for v in one.values())  # nothing beats the white noise


# ---------------------------------------------------------------- dynamics
def test_dynamics_metric_keys(runs):
    m = runs["recurrent-dynamics"][0]["metrics"]
    assert set(m["regimes"]) == REGIMES
    assert set(m["lyapunov"]) == REGIMES
    assert set(m["spectral_radius"]) == REGIMES
    for reg in m["regimes"].values():
        assert reg["spectral_radius"] == pytest.approx(reg["rho"], rel=1e-9)
        # layer.cell.step is h_t = f(h_{t-1} W_h + b), checked against numpy on the weights
        assert reg["cell_step_max_rel_diff"] < 1e-12
    sweep = m["sweep"]
    assert len(sweep["rho"]) == len(sweep["lyapunov"]) >= 10


def test_settles_oscillates_is_chaotic_or_diverges(runs):
    m = runs["recurrent-dynamics"][0]["metrics"]
    reg = m["regimes"]
    fixed, osc, chaos = reg["fixed_point"], reg["oscillation"], reg["chaos"]
    # fixed point: nearby states converge at the linearisation's rate, log rho
    assert fixed["lyapunov"] < 0
    assert fixed["lyapunov"] == pytest.approx(math.log(fixed["rho"]), abs=0.01)
    assert fixed["norm_end"] < 1e-6
    # oscillation: a bounded orbit, neither converging nor separating
    assert abs(osc["lyapunov"]) < 0.02
    assert 0.1 < osc["norm_end"] < math.sqrt(m["units"])
    assert osc["period_measured_steps"] == pytest.approx(osc["rotation_period_steps"], rel=0.1)
    # chaos: nearby states separate exponentially, yet tanh keeps the state bounded
    assert chaos["lyapunov"] > 0.1
    for r in (fixed, osc, chaos):
        assert r["max_abs_state"] <= 1.0
    # divergence: unbounded activations let ||h_t|| grow geometrically
    div, relu = reg["divergence"], reg["divergence_relu"]
    assert div["growth_rate"] == pytest.approx(math.log(div["rho"]), rel=1e-6)
    assert div["lyapunov"] == pytest.approx(math.log(div["rho"]), rel=1e-9)
    assert relu["growth_rate"] > 0.3
    assert div["norm_end"] > 1e6 * div["norm_start"]
    assert relu["norm_end"] > 1e6 * relu["norm_start"]
    # the two measurements of the exponent agree
    for name, r in reg.items():
        assert r["lyapunov_two_trajectories"] == pytest.approx(r["lyapunov"], abs=0.03), name


def test_lyapunov_exponent_against_the_spectral_radius(runs):
    sweep = runs["recurrent-dynamics"][0]["metrics"]["sweep"]
    rho, lam = np.array(sweep["rho"]), np.array(sweep["lyapunov"])
    assert np.all(lam[rho < 0.95] < 0)
    # below 1 the origin attracts at rate log rho (the orthogonal W_h: all |eigenvalues| = rho)
    below = rho < 0.95
    assert lam[below] == pytest.approx(np.log(rho[below]), abs=0.01)
    assert np.all(lam[rho >= 2.0] > 0)


# ------------------------------------------------------------------- texts
def test_portuguese_texts_and_same_numbers(runs, tmp_path):
    record = run_experiment("recurrent-dynamics", tmp_path, quick=True, lang="pt")
    assert record["title"].startswith("Uma rede recorrente")
    assert "caótico" in record["claim"]
    en = runs["recurrent-dynamics"][0]["metrics"]
    assert record["metrics"]["lyapunov"] == en["lyapunov"]
    assert record["metrics"]["sweep"] == en["sweep"]


def test_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="max_k"):
        run_experiment("recurrent-memory", tmp_path, quick=True, max_k=0)
    with pytest.raises(ValueError, match="horizon"):
        run_experiment("vital-signs", tmp_path, quick=True, horizon=0)
    with pytest.raises(ValueError, match="units"):
        run_experiment("recurrent-dynamics", tmp_path, quick=True, units=1)
