"""``mlplab.patch_sklearn()``: unchanged scikit-learn code runs on mlplab's classes.

An unchanged course-style script runs in a subprocess as is and with the patch line
prepended: the second uses mlplab's classes, is batched (no FallbackNotice) and prints
the same results to the bit. In-process tests check what the patch replaces, that
unpatching restores scikit-learn's classes exactly, and that scikit-learn's own
modules keep scikit-learn's classes.
"""

from __future__ import annotations

import ast
import importlib
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn
import sklearn.model_selection as skms
import sklearn.neural_network as sknn
from sklearn.linear_model import Ridge
from sklearn.model_selection import _search as sk_search
from sklearn.neural_network import _multilayer_perceptron as sk_mlp

import mlplab
from mlplab.sklearn import patch
from mlplab.sklearn.search import FallbackNotice

ROOT = Path(__file__).resolve().parents[1]
PATCH_LINE = "import mlplab; mlplab.patch_sklearn()\n"

#: scikit-learn's classes, from the modules that define them
ORIGINALS = {
    "MLPClassifier": sk_mlp.MLPClassifier,
    "MLPRegressor": sk_mlp.MLPRegressor,
    "GridSearchCV": sk_search.GridSearchCV,
    "RandomizedSearchCV": sk_search.RandomizedSearchCV,
}
OURS = {
    "MLPClassifier": mlplab.MLPClassifier,
    "MLPRegressor": mlplab.MLPRegressor,
    "GridSearchCV": mlplab.GridSearchCV,
    "RandomizedSearchCV": mlplab.RandomizedSearchCV,
}
PACKAGE = {"MLPClassifier": sknn, "MLPRegressor": sknn, "GridSearchCV": skms,
           "RandomizedSearchCV": skms}  # fmt: skip

# A notebook cell as the course writes it: nothing in it knows about mlplab.
NOTEBOOK = """\
import numpy as np
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPRegressor

x = np.linspace(-1, 1, 200).reshape(-1, 1)
y = x.ravel() ** 2
X_train, X_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0)

param_grid = {
    "hidden_layer_sizes": [(5,), (10,)],
    "activation": ["logistic", "tanh"],
    "random_state": [0, 1],
}
grid = GridSearchCV(MLPRegressor(solver="lbfgs", max_iter=300), param_grid, cv=3,
                    scoring="neg_mean_squared_error"{extra})
grid.fit(X_train, y_train)
print("best_params_:", grid.best_params_)
print("best_score_:", repr(grid.best_score_))
print("scores:", repr(grid.cv_results_["mean_test_score"].tolist()))
print("test mse:", repr(float(np.mean((grid.predict(X_test) - y_test) ** 2))))
print("classes:", type(grid).__module__, type(grid.best_estimator_).__module__)
"""


def _notebook(extra: str = "") -> str:
    return NOTEBOOK.replace("{extra}", extra)


def _run(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "notebook.py"
    script.write_text(code)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def _lines(stdout: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in stdout.splitlines() if ": " in line)


@pytest.fixture
def restore():
    """Each test leaves scikit-learn as it found it (and checks that it did)."""
    yield
    mlplab.unpatch_sklearn()
    for name, original in ORIGINALS.items():
        assert getattr(PACKAGE[name], name) is original


# ------------------------------------------------------------ the unchanged notebook
def test_an_unchanged_script_runs_on_mlplab_with_one_added_line(tmp_path):
    plain = _lines(_run(_notebook(), tmp_path).stdout)
    run = _run(PATCH_LINE + _notebook(), tmp_path)
    patched = _lines(run.stdout)
    assert plain["classes"] == (
        "sklearn.model_selection._search sklearn.neural_network._multilayer_perceptron"
    )
    assert patched["classes"] == "mlplab.sklearn.search mlplab.sklearn.estimators"
    # mlplab's estimators are scikit-learn's arithmetic: the same numbers, to the bit
    for key in ("best_params_", "best_score_", "scores", "test mse"):
        assert patched[key] == plain[key], key
    assert "FallbackNotice" not in run.stderr  # the plain MLP grid is batched


def test_a_search_that_falls_back_is_seen_in_the_scripts_output(tmp_path):
    """The FallbackNotice check above can fail: a scorer the batched path does not
    compute (a callable) makes the patched script print one."""
    code = NOTEBOOK.replace('"random_state": [0, 1]', '"random_state": [0]').replace(
        '"activation": ["logistic", "tanh"]', '"activation": ["tanh"]'
    )
    code = PATCH_LINE + code.replace("{extra}", ", error_score='raise'").replace(
        'scoring="neg_mean_squared_error"', "scoring=lambda est, X, y: -est.loss_"
    )
    assert "FallbackNotice" in _run(code, tmp_path).stderr


# ------------------------------------------------------------ patch / unpatch
def test_patch_gives_mlplabs_classes_and_unpatch_restores_scikit_learns(restore):
    before = sknn.MLPRegressor  # a name imported before the patch ...
    made_before = sknn.MLPRegressor()  # ... and an object made before it
    assert not mlplab.sklearn_is_patched()
    mlplab.patch_sklearn()
    assert mlplab.sklearn_is_patched()
    for name, ours in OURS.items():
        assert getattr(PACKAGE[name], name) is ours
        assert mlplab.sklearn_is_patched(name)
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    assert (MLPClassifier, MLPRegressor, GridSearchCV, RandomizedSearchCV) == tuple(
        OURS[n] for n in ("MLPClassifier", "MLPRegressor", "GridSearchCV", "RandomizedSearchCV")
    )
    assert before is ORIGINALS["MLPRegressor"]  # stay scikit-learn's
    assert type(made_before) is ORIGINALS["MLPRegressor"]
    mlplab.unpatch_sklearn()
    assert not mlplab.sklearn_is_patched()
    for name, original in ORIGINALS.items():
        assert getattr(PACKAGE[name], name) is original
        assert not mlplab.sklearn_is_patched(name)


def test_patching_twice_and_unpatching_twice_are_harmless(restore):
    mlplab.unpatch_sklearn()  # nothing patched: nothing happens
    assert all(getattr(PACKAGE[n], n) is c for n, c in ORIGINALS.items())
    mlplab.patch_sklearn()
    mlplab.patch_sklearn()  # must not take mlplab's classes for the originals
    assert mlplab.sklearn_is_patched()
    mlplab.unpatch_sklearn()
    assert all(getattr(PACKAGE[n], n) is c for n, c in ORIGINALS.items())
    mlplab.unpatch_sklearn()
    assert all(getattr(PACKAGE[n], n) is c for n, c in ORIGINALS.items())


def test_names_patches_a_subset(restore):
    mlplab.patch_sklearn(names=["MLPClassifier", "MLPRegressor"])
    assert sknn.MLPRegressor is mlplab.MLPRegressor
    assert sknn.MLPClassifier is mlplab.MLPClassifier
    assert skms.GridSearchCV is ORIGINALS["GridSearchCV"]
    assert mlplab.sklearn_is_patched(["MLPClassifier", "MLPRegressor"])
    assert not mlplab.sklearn_is_patched()
    mlplab.unpatch_sklearn("MLPClassifier")
    assert sknn.MLPClassifier is ORIGINALS["MLPClassifier"]
    assert sknn.MLPRegressor is mlplab.MLPRegressor


@pytest.mark.parametrize("bad", ["MLP", ["GridSearchCV", "Pipeline"], 3, [None]])
def test_unknown_names_are_refused_with_the_known_ones(restore, bad):
    with pytest.raises(ValueError, match=r"names must be None or some of .*MLPRegressor"):
        mlplab.patch_sklearn(bad)
    assert not any(mlplab.sklearn_is_patched(n) for n in ORIGINALS)


def test_the_context_manager_restores_what_it_patched_and_nests(restore):
    mlplab.patch_sklearn("GridSearchCV")
    with mlplab.patched_sklearn():
        assert mlplab.sklearn_is_patched()
    assert skms.GridSearchCV is mlplab.GridSearchCV  # patched before the block: stays
    assert sknn.MLPRegressor is ORIGINALS["MLPRegressor"]
    with pytest.raises(KeyError), mlplab.patched_sklearn("MLPRegressor"):
        assert sknn.MLPRegressor is mlplab.MLPRegressor
        raise KeyError("inside the block")
    assert sknn.MLPRegressor is ORIGINALS["MLPRegressor"]


def test_a_name_someone_else_replaced_is_refused_and_nothing_is_patched(restore):
    class Foreign(ORIGINALS["MLPRegressor"]):
        pass

    sknn.MLPRegressor = Foreign  # another tool's patch
    try:
        with pytest.raises(RuntimeError, match=r"sklearn.neural_network.MLPRegressor is not"):
            mlplab.patch_sklearn()
        assert not any(mlplab.sklearn_is_patched(n) for n in ORIGINALS)  # all or nothing
        assert sknn.MLPRegressor is Foreign
    finally:
        sknn.MLPRegressor = ORIGINALS["MLPRegressor"]


# ------------------------------------------------------------ scikit-learn's internals
def test_scikit_learns_own_modules_and_pickles_keep_its_classes(restore):
    mlplab.patch_sklearn()
    assert sk_mlp.MLPRegressor is ORIGINALS["MLPRegressor"]
    assert sk_search.GridSearchCV is ORIGINALS["GridSearchCV"]
    # pickle finds a class by its defining module: scikit-learn objects still pickle
    again = pickle.loads(pickle.dumps(ORIGINALS["MLPRegressor"](max_iter=3)))
    assert type(again) is ORIGINALS["MLPRegressor"]
    # mlplab's search falls back to scikit-learn's fit, not to itself
    assert ORIGINALS["GridSearchCV"] in mlplab.GridSearchCV.__mro__
    X = [[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]]
    y = [0.0, 1.1, 1.9, 3.2, 3.9, 5.1]
    with pytest.warns(FallbackNotice):
        ours = skms.GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=2).fit(X, y)
    theirs = ORIGINALS["GridSearchCV"](Ridge(), {"alpha": [0.1, 10.0]}, cv=2).fit(X, y)
    assert type(ours) is mlplab.GridSearchCV
    assert ours.best_params_ == theirs.best_params_
    assert ours.best_score_ == theirs.best_score_


_LATE_IMPORT = """\
import sys
import mlplab
from mlplab.sklearn import patch
# as if nothing had imported it yet (mlplab's own imports may have: TransformedTargetRegressor)
sys.modules.pop("sklearn.linear_model._ridge", None)
if sys.argv[1] == "unguarded":
    patch.BIND_AT_IMPORT = ()
mlplab.patch_sklearn()
import sklearn.linear_model._ridge as ridge
print(ridge.GridSearchCV.__module__)
"""


@pytest.mark.parametrize(
    "mode, seen", [("guarded", "sklearn.model_selection._search"), ("unguarded", "mlplab")]
)
def test_a_scikit_learn_module_imported_after_the_patch_keeps_scikit_learns(tmp_path, mode, seen):
    """RidgeCV's module copies GridSearchCV when it is imported; imported for the first
    time after the patch, it would copy mlplab's (the unguarded run shows it would)."""
    script = tmp_path / "late.py"
    script.write_text(_LATE_IMPORT)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True,
                         env=env, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().startswith(seen)


def _copies_of_patched_names(path: Path, module: str) -> list[tuple[str, bool]]:
    """(module, at module level?) for each import in ``path`` that copies a patched name
    from its public package (absolute or relative import)."""
    tree = ast.parse(path.read_text("utf-8"))
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(fn)}
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            source = f"{base}.{node.module}" if node.module else base
        else:
            source = node.module or ""
        names = {a.name for a in node.names}
        if any(patch.PATCHES[n][0] == source for n in names & set(patch.PATCHES)):
            out.append((module, id(node) not in inside))
    return out


def test_bind_at_import_lists_every_scikit_learn_module_that_copies_a_patched_name():
    root = Path(sklearn.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).with_suffix("")
        if "tests" in rel.parts:
            continue
        text = path.read_text("utf-8")
        if not any(n in text for n in patch.PATCHES):
            continue
        module = ".".join(rel.parts).removesuffix(".__init__")
        if module in {p for p, _, _ in patch.PATCHES.values()}:
            continue  # the public packages themselves
        found += _copies_of_patched_names(path, module)
    assert ("sklearn.linear_model._ridge", True) in found  # the scan sees what it looks for
    # every copy is made at import (a copy inside a function would see mlplab's) ...
    assert [m for m, top in found if not top] == []
    # ... and is imported before patching
    assert {m for m, _ in found} <= set(patch.BIND_AT_IMPORT)
    for module in patch.BIND_AT_IMPORT:
        importlib.import_module(module)
