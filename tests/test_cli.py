"""The mlplab command: listing, running, the tour, and its error contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from mlplab.cli import main
from mlplab.experiments import EXPERIMENTS


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert any(line.startswith(name + " ") for line in out.splitlines()), name


def test_run_xor_writes_metrics_and_figure(tmp_path, capsys):
    assert main(["run", "xor", "--quick", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "xor" / "metrics.json").read_text())
    assert record["seed"] == 0 and record["experiment"] == "xor"
    m = record["metrics"]
    assert m["nodes"] == 3
    assert m["accuracy"] >= 0.95  # two hidden nodes separate XOR
    assert m["single_perceptron_accuracy"] < 0.9  # one node cannot
    png = tmp_path / "xor" / "xor_region.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "xor_region.png" in record["figures"]
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("[xor]"))
    assert "accuracy" in line.lower() and re.search(r"\d+/\d+ hold", line)  # results...
    assert "n_samples=" not in line and "nodes=" not in line  # ...not settings


def test_tour_runs_every_experiment(quick_tour):
    tmp_path = quick_tour("en").out  # the session's `mlplab tour --quick`
    for name in EXPERIMENTS:
        assert (tmp_path / name / "metrics.json").is_file(), name
    and_metrics = json.loads((tmp_path / "and" / "metrics.json").read_text())["metrics"]
    assert and_metrics["nodes"] == 1 and and_metrics["accuracy"] >= 0.97


@pytest.mark.parametrize(
    "argv",
    [["run", "no-such-experiment"], ["frobnicate"], [], ["tour", "--seed", "x"]],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_negative_seed_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "xor", "--seed", "-1", "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "Traceback" not in err


def test_unknown_experiment_option_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", "xor", "--quick", "--set", "bogus=1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mlplab: error:") and "bogus" in err and "n_samples" in err
    assert len(err.splitlines()) == 1


def test_experiment_option_is_applied(tmp_path):
    assert main(["run", "xor", "--quick", "--set", "n_samples=300", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "xor" / "metrics.json").read_text())
    assert record["metrics"]["n_samples"] == 300
    assert record["options"]["n_samples"] == 300
    assert "--set n_samples=300" in record["command"]


def test_tour_writes_a_report_in_portuguese(tmp_path):
    assert main(["tour", "--quick", "--lang", "pt", "--out", str(tmp_path)]) == 0
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Afirmação" in readme and "Afirmação" in page
    assert 'lang="pt"' in page and "data:image/png;base64," in page
    assert 'src="http' not in page  # self-contained


def test_failure_is_one_line_without_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", "run", "and", "--quick", "--out", str(blocker)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("mlplab: error:")


@pytest.mark.parametrize(
    ("argv", "traceback"),
    [
        (["--debug", "run", "xor"], True),
        (["run", "xor", "--debug"], True),
        (["run", "xor"], False),
    ],
    ids=["debug-before", "debug-after", "no-debug"],
)
def test_debug_before_or_after_the_subcommand_shows_the_traceback(argv, traceback):
    proc = subprocess.run(
        [sys.executable, "-m", "mlplab", *argv, "--set", "bogus=1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "bogus" in proc.stderr
    assert ("Traceback (most recent call last)" in proc.stderr) is traceback, proc.stderr
    if not traceback:
        assert proc.stderr.startswith("mlplab: error:")
        assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "../xor"],
        ["run", "..%2fxor"],
        ["run", "/etc/passwd"],
        ["run", "xor/../../x"],
        ["run", "C:\\xor"],
        ["run", "xor::$DATA"],
        ["run", "xor\x00"],
        ["run", "xor", "--out", "out\x00dir"],
        ["tour", "--out", ""],
    ],
)
def test_path_arguments_refuse_traversal_and_nul_with_usage(argv, tmp_path, monkeypatch, capsys):
    """The experiment name becomes a directory under --out: only the listed names are
    accepted; --out is the user's own choice of directory, refused only when no OS takes it."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--quick"])  # --quick: a regression costs seconds, not the whole tour
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage") and "Traceback" not in err
    assert ("argument --out" in err.splitlines()[-1]) is ("--out" in argv)
    assert list(tmp_path.iterdir()) == []


def test_info_describes_an_estimator_a_network_and_a_checkpoint(tmp_path, capsys):
    import numpy as np

    import mlplab

    X = np.random.default_rng(0).random((40, 2))
    y = np.where(X[:, 0] > X[:, 1], "yes", "no")
    clf = mlplab.MLPClassifier((4,), max_iter=5, random_state=0, convergence_warning=False)
    clf.fit(X, y)
    mlplab.save(clf, tmp_path / "clf.mlplab")
    assert main(["info", str(tmp_path / "clf.mlplab")]) == 0
    out = capsys.readouterr().out
    assert "mlplab.MLPClassifier" in out and "'hidden_layer_sizes': (4,)" in out
    assert "classes_: ['no', 'yes']" in out and "total parameters: 17" in out
    assert f"n_iter_: {clf.n_iter_}" in out and "checkpoint" not in out
    net = mlplab.Sequential([mlplab.Dense(3, activation="tanh"), mlplab.Dense(1)], n_inputs=2)
    path = tmp_path / "run.mlplab"
    net.fit(X, (y == "yes").astype(float), loss="bce", epochs=3,
            callbacks=[mlplab.ModelCheckpoint(path, every=2)])  # fmt: skip
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "mlplab.Sequential" in out and "total parameters: 13" in out
    assert "checkpoint: 3 epochs done" in out and "resume_from" in out


@pytest.mark.parametrize("name", ["missing.mlplab", "."])
def test_info_on_a_missing_file_or_a_directory_is_one_line(tmp_path, capsys, name):
    assert main(["info", str(tmp_path / name)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mlplab: error: ") and err.count("\n") == 1
