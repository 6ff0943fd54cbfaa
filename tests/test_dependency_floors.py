"""The lowest scipy that pyproject.toml allows really works (docs/dependency-floors.md).

``mlplab.fit_many`` with ``solver="lbfgs"`` drives scipy's private reverse-communication
L-BFGS-B (``scipy.optimize._lbfgsb.setulb``) itself, reproducing the loop of
``scipy.optimize.minimize(method="L-BFGS-B")`` so that every member is bit-identical to
a single fit. That private signature changed in scipy 1.15, so the floor is a tested
fact, not a guess: this test installs the floor version (the ``scipy>=`` of
pyproject.toml, wheel only, without dependencies) into a cache directory, puts it first
on the path of a subprocess and checks there that fit_many's members equal single
``MLPRegressor`` fits and scikit-learn's own ``MLPRegressor`` to the bit.

The install is cached in ``$MLPLAB_TEST_CACHE`` (default: ``~/.cache/mlplab-tests``) and
reused; the test skips only when the package registry cannot be reached (or has no
wheel of that scipy for this interpreter).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import mlplab

ROOT = Path(__file__).resolve().parents[1]
SRC = Path(mlplab.__file__).resolve().parents[1]  # the mlplab under test

_NETWORK_ERRORS = re.compile(
    r"NewConnectionError|Max retries exceeded|Temporary failure in name resolution|"
    r"Name or service not known|Network is unreachable|Connection refused|ConnectTimeout|"
    r"ReadTimeout|timed out|ProxyError|SSLError|connection broken",
    re.IGNORECASE,
)


def scipy_floor() -> str:
    """The version in pyproject.toml's ``"scipy>=X"`` requirement."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.findall(r'"scipy>=([0-9][0-9.]*)"', text)
    assert len(found) == 1, f"expected one scipy>= requirement in pyproject.toml, found {found}"
    return found[0]


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "mlplab-tests"
    return Path(os.environ.get("MLPLAB_TEST_CACHE", default))


def install_scipy(version: str) -> Path:
    """``pip install --target`` scipy==version once; later runs reuse the directory."""
    target = cache_dir() / f"scipy-{version}-py{sys.version_info[0]}{sys.version_info[1]}"
    if (target / "scipy" / "__init__.py").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        proc = subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--no-deps", "--only-binary=:all:", "--retries", "1", "--timeout", "20"),
                *("--target", str(tmp), f"scipy=={version}"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            output = proc.stdout + proc.stderr
            if _NETWORK_ERRORS.search(output):
                pytest.skip(f"cannot reach the package registry to install scipy=={version}")
            if "from versions: none" in output or "No matching distribution" in output:
                pytest.skip(
                    f"the package registry has no scipy=={version} wheel for Python "
                    f"{sys.version_info[0]}.{sys.version_info[1]} on this platform (or "
                    f"cannot be reached): {output.strip().splitlines()[-1]}"
                )
            raise AssertionError(f"pip could not install scipy=={version}:\n{output}")
        try:
            tmp.rename(target)  # complete installs only: a killed pip leaves a dot-directory
        except OSError:
            if not (target / "scipy" / "__init__.py").is_file():  # not a concurrent install
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


CHILD = textwrap.dedent(
    """
    import json, sys, warnings

    warnings.simplefilter("error")  # as pytest's filterwarnings: a numpy/scipy mismatch warns
    import numpy as np
    import scipy
    import sklearn.neural_network as sknn
    from sklearn.exceptions import ConvergenceWarning

    import mlplab

    warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=50 on purpose
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, (40, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    params = dict(hidden_layer_sizes=(5,), activation="logistic", solver="lbfgs", max_iter=50)
    ens = mlplab.fit_many(mlplab.MLPRegressor(**params), X, y, random_state=range(3))
    members = []
    for m, member in enumerate(ens.estimators_):
        single = mlplab.MLPRegressor(random_state=m, **params).fit(X, y)
        sk = sknn.MLPRegressor(random_state=m, **params).fit(X, y)

        def same(a, b):
            return len(a) == len(b) and all(
                x.dtype == z.dtype and x.shape == z.shape and x.tobytes() == z.tobytes()
                for x, z in zip(a, b)
            )

        w = member.coefs_ + member.intercepts_
        members.append({
            "batched": bool(ens.fits_.batched_[m]),
            "n_iter": [int(member.n_iter_), int(single.n_iter_), int(sk.n_iter_)],
            "single_weights": same(w, single.coefs_ + single.intercepts_),
            "single_loss": member.loss_ == single.loss_,
            "single_predict": member.predict(X).tobytes() == single.predict(X).tobytes(),
            "sklearn_weights": same(w, sk.coefs_ + sk.intercepts_),
        })
    print(json.dumps({
        "scipy": scipy.__version__,
        "scipy_file": scipy.__file__,
        "numpy": np.__version__,
        "members": members,
    }))
    """
)


def test_fit_many_lbfgs_is_bit_identical_under_the_scipy_floor() -> None:
    version = scipy_floor()
    target = install_scipy(version)
    path = os.pathsep.join(
        p for p in (str(target), str(SRC), os.environ.get("PYTHONPATH", "")) if p
    )
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
        cwd=str(target.parent),
    )
    assert proc.returncode == 0, f"under scipy {version}:\n{proc.stderr}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["scipy"] == version
    assert Path(report["scipy_file"]).resolve().is_relative_to(target.resolve())
    assert len(report["members"]) == 3
    for m, member in enumerate(report["members"]):
        context = f"member {m} under scipy {version}, numpy {report['numpy']}: {member}"
        assert member["batched"], context  # the stacked L-BFGS ran, not a fallback
        assert len(set(member["n_iter"])) == 1, context
        assert member["single_weights"] and member["single_loss"], context
        assert member["single_predict"], context
        assert member["sklearn_weights"], context
