"""The lowest numpy, scipy and scikit-learn that pyproject.toml allows really work.

docs/dependency-floors.md says why the floors are what they are. This test keeps
them honest: it reads the three ``>=`` floors from pyproject.toml, builds a venv
with exactly those versions (wheels only) plus mlplab's other dependencies as
declared, and runs the tests marked ``floor_smoke`` there in a subprocess, with the
mlplab under test first on the path: estimator parity with scikit-learn, batched
lbfgs/adam/sgd members equal to single fits (``fit_many``), ``GridSearchCV`` /
``RandomizedSearchCV`` equal to scikit-learn's, and the stored model files loading
and resuming bit for bit.

The venv is built once into ``$MLPLAB_TEST_CACHE`` (default ``~/.cache/mlplab-tests``),
named by what it holds, and reused; the test skips only when the package registry
cannot be reached (or has no wheel of a floor version for this interpreter).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

import mlplab

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(mlplab.__file__).resolve().parents[1]  # the mlplab under test
FLOORED = ("numpy", "scipy", "scikit-learn")
MARKER = "floor_smoke"

_NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeout|"
    r"ReadTimeout|timed out|ProxyError|SSLError|connection broken",
    re.IGNORECASE,
)


def dependencies() -> list[Requirement]:
    """pyproject.toml's ``[project] dependencies``."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return [Requirement(r) for r in tomllib.load(f)["project"]["dependencies"]]


def floors() -> dict[str, str]:
    """The ``>=`` version of numpy, scipy and scikit-learn in pyproject.toml."""
    found = {}
    for req in dependencies():
        if req.name in FLOORED:
            lower = [s.version for s in req.specifier if s.operator == ">="]
            assert len(lower) == 1, f"{req}: expected one '>=' floor in pyproject.toml"
            found[req.name] = lower[0]
    assert sorted(found) == sorted(FLOORED), f"floors in pyproject.toml: {found}"
    return found


def floor_requirements() -> list[str]:
    """mlplab's dependencies with the floored ones pinned to their floor, and the
    test runner and what tests/conftest.py imports (the versions running this test)."""
    import hypothesis

    pins = floors()
    reqs = [f"{r.name}=={pins[r.name]}" if r.name in pins else str(r) for r in dependencies()]
    return [*reqs, f"pytest=={pytest.__version__}", f"hypothesis=={hypothesis.__version__}"]


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "mlplab-tests"
    return Path(os.environ.get("MLPLAB_TEST_CACHE", default))


def pip_install(python: str | Path, requirements: list[str], *args: str) -> None:
    """``python -m pip install`` wheels only; skips the test when the registry cannot be
    reached or has no wheel of a requirement for this interpreter, fails otherwise."""
    proc = subprocess.run(
        [
            *(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--only-binary=:all:", "--retries", "1", "--timeout", "20"),
            *args,
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode == 0:
        return
    output = proc.stdout + proc.stderr
    if _NETWORK_ERRORS.search(output):
        pytest.skip(f"cannot reach the package registry to install {requirements}")
    if "from versions: none" in output or "No matching distribution" in output:
        pytest.skip(
            f"the package registry has no wheel of one of {requirements} for Python "
            f"{sys.version_info[0]}.{sys.version_info[1]} on this platform (or cannot be "
            f"reached): {output.strip().splitlines()[-1]}"
        )
    raise AssertionError(f"pip could not install {requirements}:\n{output}")


def floor_venv() -> Path:
    """A venv holding ``floor_requirements()`` exactly; built once, then reused."""
    reqs = floor_requirements()
    key = hashlib.sha256("\n".join([sys.version, *reqs]).encode()).hexdigest()[:12]
    venv = cache_dir() / f"floor-venv-py{sys.version_info[0]}{sys.version_info[1]}-{key}"
    python = Path("bin", "python")
    if (venv / python).is_file():
        return venv / python
    venv.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=venv.parent, prefix=f".{venv.name}."))
    try:
        subprocess.run([sys.executable, "-m", "venv", str(tmp)], check=True, timeout=300)
        pip_install(tmp / python, reqs)
        try:
            tmp.rename(venv)  # complete venvs only: a killed pip leaves a dot-directory
        except OSError:
            if not (venv / python).is_file():  # not a concurrent build
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return venv / python


def smoke_files() -> list[str]:
    """The test files holding ``floor_smoke`` tests (collecting the others would import
    what the floor venv does not have: torch, pandas, playwright, ...)."""
    here = Path(__file__).resolve()
    return sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests").glob("test_*.py")
        if p != here and f"mark.{MARKER}" in p.read_text(encoding="utf-8")
    )


CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy, scipy, sklearn, pytest
    import mlplab
    versions = {"numpy": numpy.__version__, "scipy": scipy.__version__,
                "scikit-learn": sklearn.__version__, "mlplab": mlplab.__file__}
    print("FLOOR-VERSIONS " + json.dumps(versions), flush=True)
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "-m", sys.argv[1], *sys.argv[2:]]))
    """
)


def test_the_smoke_subset_passes_under_the_declared_floors() -> None:
    pins = floors()
    python = floor_venv()
    files = smoke_files()
    assert len(files) >= 4, files
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [str(python), "-c", CHILD, MARKER, *files],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": path},
        cwd=str(ROOT),
    )
    lines = proc.stdout.splitlines()
    found = [line for line in lines if line.startswith("FLOOR-VERSIONS ")]
    assert found, f"the floor venv did not start:\n{proc.stdout}\n{proc.stderr}"
    versions = json.loads(found[0].split(" ", 1)[1])
    assert Path(versions.pop("mlplab")).resolve().is_relative_to(SRC)
    assert {k: Version(v) for k, v in versions.items()} == {k: Version(v) for k, v in pins.items()}
    tail = "\n".join(lines[-40:])
    assert proc.returncode == 0, f"under {pins}:\n{tail}\n{proc.stderr[-3000:]}"
    assert re.search(r"\b[1-9][0-9]* passed\b", lines[-1]), tail
