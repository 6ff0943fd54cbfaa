"""One line for unchanged scikit-learn code: ``mlplab.patch_sklearn()``.

After ``patch_sklearn()``, ``from sklearn.neural_network import MLPRegressor,
MLPClassifier`` and ``from sklearn.model_selection import GridSearchCV,
RandomizedSearchCV`` give mlplab's classes, so a notebook written for
scikit-learn runs unchanged with one added first cell, and its grid searches
over MLPs are batched. ``unpatch_sklearn()`` puts scikit-learn's classes back.

What is replaced, and what is not:

* Only the names a user imports: the attributes of the public packages
  ``sklearn.neural_network`` and ``sklearn.model_selection``. The modules that
  define scikit-learn's classes (``sklearn.neural_network._multilayer_perceptron``,
  ``sklearn.model_selection._search``) are left alone, so scikit-learn's own code
  and pickles of scikit-learn objects keep reaching scikit-learn's classes.
* scikit-learn modules that copy one of these names from the public package
  when they are imported (``RidgeCV``'s module copies ``GridSearchCV``) are
  imported before the names are replaced (:data:`BIND_AT_IMPORT`), so they keep
  scikit-learn's class even when the user imports them later.
* mlplab's ``GridSearchCV`` subclasses scikit-learn's class as defined in
  ``sklearn.model_selection._search`` (captured when mlplab is imported, before
  any patch); its one-fit-at-a-time fallback is that class's ``fit``. The
  originals are always read from the defining modules, never from the (possibly
  patched) public package, so patching twice cannot record mlplab's class as
  "the original", and nothing ends up calling itself.
* Only what is imported *after* the patch changes: names imported before it
  and objects created before it stay scikit-learn's (run the patch first).
  ``unpatch_sklearn()`` restores the package attributes; names a user imported
  while patched keep referring to mlplab's classes, objects stay what they are.

* What reads the public packages sees mlplab's classes while patched:
  ``sklearn.utils.all_estimators()`` lists mlplab's MLPs in place of
  scikit-learn's, and mlplab's own ``lab7`` experiment (which imports
  ``GridSearchCV`` when it runs) uses mlplab's search, with the same results.

Patching twice is harmless (already patched names are skipped); a patch is all
or nothing (a name another tool replaced is refused with a RuntimeError before
anything changes); unpatching what is not patched does nothing. The first patch
imports the modules of :data:`BIND_AT_IMPORT` (about 0.3 s: scikit-learn's
estimator-check tables import most of scikit-learn). Per process: joblib's
workers need no patch (they receive the objects). Not thread-safe: patch
before starting threads that import these names. Nothing is printed.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from mlplab.sklearn.estimators import MLPClassifier, MLPRegressor
from mlplab.sklearn.search import GridSearchCV, RandomizedSearchCV

__all__ = [
    "BIND_AT_IMPORT",
    "PATCHES",
    "patch_sklearn",
    "patched_sklearn",
    "sklearn_is_patched",
    "unpatch_sklearn",
]

#: name -> (the public package a user imports it from, the module defining
#: scikit-learn's class, mlplab's class)
PATCHES: dict[str, tuple[str, str, type]] = {
    "MLPClassifier": (
        "sklearn.neural_network",
        "sklearn.neural_network._multilayer_perceptron",
        MLPClassifier,
    ),
    "MLPRegressor": (
        "sklearn.neural_network",
        "sklearn.neural_network._multilayer_perceptron",
        MLPRegressor,
    ),
    "GridSearchCV": ("sklearn.model_selection", "sklearn.model_selection._search", GridSearchCV),
    "RandomizedSearchCV": (
        "sklearn.model_selection",
        "sklearn.model_selection._search",
        RandomizedSearchCV,
    ),
}

#: scikit-learn modules that copy a patched name from its public package when they
#: are imported (tests/test_patch_sklearn.py scans the installed scikit-learn for
#: them): imported before patching so that they keep scikit-learn's classes.
BIND_AT_IMPORT = (
    "sklearn.linear_model._ridge",  # RidgeCV(cv=...) searches with GridSearchCV
    "sklearn.utils._test_common.instance_generator",  # check_estimator's tables
)

_SAVED: dict[str, type] = {}  # name -> scikit-learn's class, while patched


def _names(names: str | Iterable[str] | None) -> list[str]:
    if names is None:
        return list(PATCHES)
    try:
        chosen = [names] if isinstance(names, str) else list(names)
    except TypeError:
        chosen = [names]
    if not all(isinstance(n, str) and n in PATCHES for n in chosen):
        raise ValueError(f"names must be None or some of {sorted(PATCHES)}; got {names!r}")
    return list(dict.fromkeys(chosen))


def _original(name: str) -> type:
    """scikit-learn's class, from the module that defines it (never patched)."""
    _, defining, ours = PATCHES[name]
    cls = getattr(importlib.import_module(defining), name)
    if cls is ours or not cls.__module__.startswith("sklearn."):
        raise RuntimeError(
            f"{defining}.{name} is {cls.__module__}.{cls.__qualname__}, not scikit-learn's "
            "class: something replaced scikit-learn's own module; mlplab does not patch over it"
        )
    if name.endswith("SearchCV") and cls not in ours.__mro__:  # its fallback is cls.fit
        raise RuntimeError(f"mlplab's {name} does not derive from scikit-learn's {name}")
    return cls


def patch_sklearn(names: str | Iterable[str] | None = None) -> None:
    """Make ``from sklearn.neural_network / sklearn.model_selection import ...`` give mlplab's.

    ``names``: None (all of ``MLPClassifier``, ``MLPRegressor``, ``GridSearchCV``,
    ``RandomizedSearchCV``) or some of them, e.g. ``["MLPClassifier",
    "MLPRegressor"]`` for the estimators only (then scikit-learn's searches run
    mlplab's estimators one fit at a time). Call it before the imports it should
    affect. Already patched names are left as they are.
    """
    chosen = _names(names)
    for module in BIND_AT_IMPORT:
        try:
            importlib.import_module(module)
        except ImportError:  # another scikit-learn layout: nothing there copies the name
            pass
    todo = {}  # every name checked before any is replaced: all or nothing
    for name in chosen:
        if name in _SAVED:
            continue
        public = PATCHES[name][0]
        original = _original(name)
        if getattr(importlib.import_module(public), name) is not original:
            raise RuntimeError(
                f"{public}.{name} is not scikit-learn's class (another patch is active?); "
                "mlplab leaves it alone"
            )
        todo[name] = original
    for name, original in todo.items():
        public, _, ours = PATCHES[name]
        _SAVED[name] = original
        setattr(importlib.import_module(public), name, ours)


def unpatch_sklearn(names: str | Iterable[str] | None = None) -> None:
    """Put scikit-learn's classes back (all, or the given ``names``).

    Names not patched are skipped. A name that something else replaced after
    mlplab's patch is left as that other code set it.
    """
    for name in _names(names):
        original = _SAVED.pop(name, None)
        if original is None:
            continue
        public, _, ours = PATCHES[name]
        package = importlib.import_module(public)
        if getattr(package, name) is ours:
            setattr(package, name, original)


def sklearn_is_patched(names: str | Iterable[str] | None = None) -> bool:
    """Whether all the given ``names`` (None: all four) currently give mlplab's classes."""
    chosen = _names(names)
    return all(getattr(importlib.import_module(PATCHES[n][0]), n) is PATCHES[n][2] for n in chosen)


@contextmanager
def patched_sklearn(names: str | Iterable[str] | None = None) -> Iterator[None]:
    """``with mlplab.patched_sklearn(): ...``: patched inside the block; on leaving it,
    the names this block patched are restored (those patched before it stay patched)."""
    new = [n for n in _names(names) if n not in _SAVED]
    try:
        patch_sklearn(new)
        yield
    finally:
        unpatch_sklearn(new)
