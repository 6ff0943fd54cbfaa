"""Every Python block of the README runs as written, pasted into a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(
    "code", BLOCKS, ids=[f"block{i}-{b.splitlines()[0][:30]}" for i, b in enumerate(BLOCKS)]
)
def test_readme_python_block_runs_in_a_fresh_interpreter(code, tmp_path):
    for optional in re.findall(r"^import (torch|onnxruntime)\b", code, re.M):
        pytest.importorskip(optional)  # the export example needs the optional extras
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
    # numpy's RuntimeWarnings (overflow, invalid value) are errors: a README example
    # must not print one
    argv = [sys.executable, "-W", "error::RuntimeWarning", "-c", code]
    run = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
