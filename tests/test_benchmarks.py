"""The benchmarks keep running (their figures are read from their output, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_benchmark_quick_runs_and_writes_json(tmp_path):
    out = tmp_path / "core.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_core.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "## 1. Tiny step" in proc.stdout and "## 2. Epoch" in proc.stdout
    data = json.loads(out.read_text())
    assert data  # a non-empty, valid JSON document


def test_sklearn_benchmark_quick_runs_and_writes_json(tmp_path):
    out = tmp_path / "sklearn.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_sklearn.py"), "--quick",
         "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "## 1. Single lbfgs fits" in proc.stdout
    assert json.loads(out.read_text())


def test_diagnostics_benchmark_quick_runs_and_writes_json(tmp_path):
    out = tmp_path / "diagnostics.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_diagnostics.py"), "--quick",
         "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "GradientFlow()" in proc.stdout
    assert json.loads(out.read_text())
