"""Universal function approximation (lecture section 7): regression, the course's
Lab 7 grid search and the capacity sweep, run in quick mode."""

from __future__ import annotations

import json
import math
import re
import warnings

import numpy as np
import pytest

import mlplab.experiments  # noqa: F401  (registers the experiments)
from mlplab import datasets
from mlplab.experiments import EXPERIMENTS, run_experiment
from mlplab.experiments._approximation import n_weights as _n_weights
from mlplab.experiments.lab7 import LAB7_FUNCTIONS
from mlplab.experiments.regression import extended as _extended
from mlplab.experiments.universal_approximation import JUMPS
from mlplab.experiments.universal_approximation import gap_mask as _gap_mask
from mlplab.experiments.universal_approximation import sawtooth as _sawtooth
from mlplab.experiments.universal_approximation import square as _square

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {
    "regression": ["regression_fits.png"],
    "lab7": sorted(f"lab7_{name}.png" for name in LAB7_FUNCTIONS),
    "universal-approximation": [
        "capacity_fits.png",
        "capacity_vs_nodes.png",
        "capacity_vs_weights.png",
    ],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each experiment run once (quick), shared by the tests below."""
    out = tmp_path_factory.mktemp("report")
    return {name: (run_experiment(name, out, quick=True), out / name) for name in FIGURES}


def _positive_finite(values) -> bool:
    return all(math.isfinite(v) and v > 0 for v in values)


@pytest.mark.parametrize("name", list(FIGURES))
def test_figures_are_pngs_and_record_is_written(runs, name):
    record, out_dir = runs[name]
    assert sorted(record["figures"]) == sorted(FIGURES[name])  # shown in the declared order
    for fig in record["figures"]:
        assert (out_dir / fig).read_bytes()[:8] == PNG, fig
    on_disk = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"] == json.loads(json.dumps(record["metrics"]))
    assert on_disk["lecture_section"] == "7" and on_disk["quick"] is True


def test_regression_metrics(runs):
    m = runs["regression"][0]["metrics"]
    names = list(datasets.FUNCTIONS)
    for key in ("val_mse", "train_mse", "extrap_mse", "plain_val_mse"):
        assert list(m[key]) == names, key
        assert _positive_finite(m[key].values()), key
    assert max(m["val_mse"].values()) < 1e-3  # even one quick start fits every function
    # beyond the training interval the network is not held to the function
    assert all(m["extrap_mse"][n] > m["val_mse"][n] for n in names)
    assert set(m["below_threshold"]) == set(names)
    assert m["architecture"]["hidden_layer_sizes"] == [20]
    assert m["architecture"]["activation"] == "logistic"
    assert m["n_weights"] == 61
    assert m["target_scaling"] == "standard" and m["input_scaling"] == "none"
    assert m["initialisations"] == 1  # quick
    for name in ("inv", "log10"):  # x > 0 only
        assert m["extrapolation_interval"][name][0] > 0
    assert m["extrapolation_interval"]["x2"] == pytest.approx([-1.3, 1.3])


def test_lab7_best_params_lie_in_the_grid(runs):
    m = runs["lab7"][0]["metrics"]
    assert m["functions"] == list(LAB7_FUNCTIONS)
    assert m["grid"] == {"hidden_layer_sizes": [[5], [20]], "random_state": [0, 1]}
    assert m["cv"] == 3 and m["n_fits"] == 2 * 2 * 3 * 4 and m["n_refits"] == 4
    for name in LAB7_FUNCTIONS:
        best = m["best_params"][name]
        assert best["hidden_layer_sizes"] in m["grid"]["hidden_layer_sizes"]
        assert best["random_state"] in m["grid"]["random_state"]
        assert m["best_nodes"][name] == best["hidden_layer_sizes"][0]
        assert list(m["cv_mse_by_size"][name]) == ["5", "20"]
        assert min(m["cv_mse_by_size"][name].values()) == pytest.approx(m["cv_mse"][name])
    assert _positive_finite(m["val_mse"].values()) and _positive_finite(m["cv_mse"].values())
    assert max(m["val_mse"].values()) < 1e-3


def test_capacity_sweep_sizes(runs):
    m = runs["universal-approximation"][0]["metrics"]
    assert m["targets"] == ["sin", "square"]
    assert m["nodes"] == [1, 2, 4, 8]  # quick: the default sizes up to 8
    assert m["two_layers"] == "total"
    assert m["two_layer_sizes"] == {"2": [1, 1], "4": [2, 2], "8": [4, 4]}
    rows = m["sweep"]
    assert len(rows) == 2 * (4 + 3)
    for r in rows:
        assert r["n_weights"] == _n_weights(r["hidden_layer_sizes"])
        assert sum(r["hidden_layer_sizes"]) == r["nodes"]
        assert len(r["hidden_layer_sizes"]) == r["layers"]
        assert _positive_finite([r["train_mse"], r["val_mse"]])
        assert ("val_mse_outside_gaps" in r) == (r["target"] == "square")
    assert list(m["val_mse_sin_1_layer"]) == ["1", "2", "4", "8"]
    assert list(m["val_mse_square_2_layers"]) == ["2", "4", "8"]
    assert m["val_mse_sin_1_layer"]["8"] < 1e-3  # 8 logistic nodes fit sin x
    assert m["val_mse_sin_1_layer"]["8"] < m["val_mse_sin_1_layer"]["1"]
    assert 0 <= m["val_points_in_jump_gaps"] < m["n_val"] == 300


def test_portuguese_title_lands_in_metrics_json(tmp_path):
    name = "universal-approximation"
    run_experiment(name, tmp_path, quick=True, lang="pt", nodes=[2])
    record = json.loads((tmp_path / name / "metrics.json").read_text(encoding="utf-8"))
    assert record["lang"] == "pt"
    assert record["title"] == EXPERIMENTS[name].title["pt"]
    assert "Aproximação universal" in record["title"] and "camadas" in record["claim"]
    assert record["metrics"]["nodes"] == [2]


def test_invalid_options_name_the_option(tmp_path):
    with pytest.raises(ValueError, match="two_layers"):
        run_experiment("universal-approximation", tmp_path, quick=True, two_layers="three")
    with pytest.raises(ValueError, match="sizes"):
        run_experiment("lab7", tmp_path, quick=True, sizes=[])


def test_discontinuous_targets_jump_where_documented():
    eps = 1e-9
    for c in JUMPS:
        assert _square(np.array([c - eps]))[0] == -_square(np.array([c + eps]))[0]
        assert _sawtooth(np.array([c - eps]))[0] == pytest.approx(1.0)
        assert _sawtooth(np.array([c + eps]))[0] == pytest.approx(-1.0)
    x = np.linspace(0, 2 * np.pi, 1000)
    assert set(np.unique(_square(x))) == {-1.0, 1.0}
    assert _square(np.array([0.0, 2 * np.pi])).tolist() == [1.0, -1.0]


def test_gap_mask_marks_validation_points_between_bracketing_training_points():
    c = JUMPS[0]
    others = [j + d for j in JUMPS[1:] for d in (-0.01, 0.01)]  # the other jumps: tight gaps
    x_tr = np.array([c - 0.3, c + 0.2, *others])
    x_va = np.array([c - 0.1, c + 0.1, c + 0.25, 0.1])
    assert _gap_mask(x_tr, x_va).tolist() == [True, True, False, False]


def test_weights_count_and_extrapolation_domain():
    assert _n_weights([20]) == 3 * 20 + 1
    assert _n_weights([4, 4]) == 2 * 4 + 4 * 4 + 4 + 4 + 1
    assert _extended("inv", 0.15) == pytest.approx((0.5, 100 + 0.15 * 99))
    assert _extended("exp", 0.15)[0] == pytest.approx(1 - 0.15 * 9)


FOLDS = {"en": re.compile(r"(\d+)-fold|(\d+) folds"), "pt": re.compile(r"(\d+) partições")}


@pytest.mark.parametrize(("lang", "quick", "cv"), [("pt", True, 10), ("en", False, 4)])
def test_lab7_texts_state_the_folds_actually_used(tmp_path, monkeypatch, lang, quick, cv):
    """Every text of Lab 7 (title, claim, headline, captions, the figures' text) that
    counts folds counts those the search used: --quick uses 3 whatever ``cv`` says."""
    from matplotlib.text import Text

    from mlplab.experiments import lab7

    drawn: list[str] = []
    save = lab7.save_figure

    def capture(fig, path):
        drawn.extend(x.get_text() for x in fig.findobj(Text))
        save(fig, path)

    monkeypatch.setattr(lab7, "save_figure", capture)
    small = {"sizes": [5], "n_seeds": 1, "n_samples": 200, "max_iter": 100, "n_jobs": 1}
    record = run_experiment("lab7", tmp_path, quick=quick, lang=lang, cv=cv, **small)
    used = record["metrics"]["cv"]
    assert used == (3 if quick else cv)
    texts = [record["title"], record["claim"], *record["captions"].values(), *drawn]
    texts += [row[k] for row in record["headline"] for k in ("what", "lecture", "measured")]
    counted = [int(a or b) for x in texts for a, b in _fold_counts(FOLDS[lang], x)]
    assert counted, "no text says how many folds the search used"
    assert set(counted) == {used}, counted
    assert sum(f"{used}" in c for c in record["captions"].values()) == len(record["captions"])


def test_lab7_search_takes_the_batched_path(tmp_path, monkeypatch):
    """Lab 7's search (a TransformedTargetRegressor) trains its fits batched, no fallback."""
    from mlplab.sklearn import search

    calls = []
    engine = search.fit_members

    def counting(estimators, *args, **kwargs):
        calls.append(len(estimators))
        return engine(estimators, *args, **kwargs)

    monkeypatch.setattr(search, "fit_members", counting)
    small = {"sizes": [5], "n_seeds": 2, "n_samples": 200, "max_iter": 100, "n_jobs": 1}
    with warnings.catch_warnings():
        warnings.simplefilter("error", search.FallbackNotice)
        record = run_experiment("lab7", tmp_path, quick=True, **small)
    assert calls == [2 * 3] * len(LAB7_FUNCTIONS)  # 2 seeds x 3 folds, one call a function
    assert record["metrics"]["n_fits"] == sum(calls)


def _fold_counts(pattern: re.Pattern, text: str) -> list[tuple[str, str]]:
    return [m if isinstance(m, tuple) else (m, "") for m in pattern.findall(text)]


def test_headline_checks_are_the_metrics_against_the_lectures_bounds(runs):
    """Each checked headline row is the run's own measurement against the bound it states."""
    for name in ("regression", "lab7"):
        record = runs[name][0]
        m, rows = record["metrics"], record["headline"]
        by_function = [r for r in rows if r["lecture"].startswith("≤")]
        assert [r["holds"] for r in by_function] == [
            m["below_threshold"][n] for n in m["functions"]
        ], name
    record = runs["universal-approximation"][0]
    m, rows = record["metrics"], record["headline"]
    sin_best = min(m["val_mse_sin_1_layer"].values())
    away_best = min(m["val_mse_outside_gaps_square_2_layers"].values())
    assert rows[1]["holds"] == (sin_best <= 1e-4)
    assert rows[4]["holds"] == (away_best <= 1e-4)
    assert rows[3]["holds"] == (
        min(m["train_mse_square_2_layers"].values()) < min(m["train_mse_square_1_layer"].values())
    )
