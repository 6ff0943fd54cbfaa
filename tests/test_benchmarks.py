"""The benchmarks keep running (their figures are read from their output, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "name, sections",
    [
        ("core", ["## 1. Tiny step", "## 2. Epoch"]),
        ("sklearn", ["## 1. Single lbfgs fits"]),
        ("diagnostics", ["GradientFlow()"]),
        ("recurrent", ["## 1. Training step", "## 2. Same weights"]),
        ("search", ["## 1. Lab 7 grids", "## 2. The x² grid", "## 3. Ensemble"]),
        ("playground", ["## 1. Frames per second"]),
    ],
)
def test_benchmark_quick_runs_and_writes_json(tmp_path, name, sections):
    out = tmp_path / f"{name}.json"
    script = ROOT / "benchmarks" / f"bench_{name}.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for section in sections:
        assert section in proc.stdout
    assert json.loads(out.read_text())  # a non-empty, valid JSON document


def test_run_all_runs_each_script_and_reports():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--quick", "--only", "core"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "| bench_core.py | ok |" in proc.stdout
    assert json.loads((ROOT / "benchmarks" / "results" / "core.quick.json").read_text())


def test_ab_workloads_script_times_a_workload_and_refuses_unknown_ones():
    script = str(ROOT / "benchmarks" / "ab_workloads.py")
    run = subprocess.run([sys.executable, script, "fit-xor-adam-mse"], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)  # fmt: skip
    assert run.returncode == 0, run.stderr
    value, unit = run.stdout.split()
    assert float(value) > 0 and unit == "us/step"
    bad = subprocess.run([sys.executable, script, "nope"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)  # fmt: skip
    assert bad.returncode == 2 and "usage" in bad.stderr
