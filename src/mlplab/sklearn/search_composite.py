"""The batched search over a Pipeline or TransformedTargetRegressor around an mlplab MLP.

``mlplab.GridSearchCV`` batches the candidates x folds networks of a
``Pipeline(transformers..., MLP)`` and of a ``TransformedTargetRegressor`` whose
regressor is an mlplab ``MLPRegressor`` (or such a Pipeline), nested in any order.
Nothing of scikit-learn's composite is re-implemented: for each fold and each
distinct setting of the parameters that do not address the MLP, a clone of the
candidate's composite, with its MLP replaced by a *recorder*, is fitted by its own
``fit`` on the fold's training rows — so its transformers are fitted exactly as
``Pipeline.fit`` / ``TransformedTargetRegressor.fit`` fit them (TTR's 2-D target,
``check_inverse``, the ravel) — and the recorder keeps the transformed data the MLP
would have received. The MLPs of every candidate are then trained together by
``mlplab.batched.fit_members`` on those data, and a member's predictions go back
through the same fitted composite (its ``predict``: transform X, the member's
prediction, the target's inverse transform), the recorder now answering with the
member.

:func:`locate_member` says what is batched (and why not); :func:`fit_composite`
trains; :class:`RowFits` and :class:`CompositeFits` give the search one interface to
the members' predictions, whether the estimator is a bare MLP or a composite.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import _safe_split

from mlplab.sklearn.estimators import MLPClassifier, MLPRegressor

__all__ = [
    "CompositeFits",
    "RowFits",
    "default_metric",
    "fit_composite",
    "locate_member",
]

_MLPS = (MLPRegressor, MLPClassifier)


def locate_member(estimator: Any) -> tuple[str | None, str | None]:
    """(path, None) with the ``get_params`` path of the mlplab MLP the search trains
    ("" for a bare MLP, "mlpregressor", "regressor", "regressor__mlpregressor", ...),
    or (None, the reason it is not batched)."""
    if type(estimator) in _MLPS:
        return "", None
    name = type(estimator).__name__
    if type(estimator) is Pipeline:
        if estimator.memory is not None:
            return None, "the Pipeline caches its transformers (memory=...)"
        if estimator.transform_input is not None:
            return None, "the Pipeline transforms fit inputs (transform_input=...)"
        steps = estimator.steps
        if not isinstance(steps, list | tuple) or not steps:
            return None, "the Pipeline has no steps"
        for step in steps[:-1]:
            transformer = step[1]
            if transformer is None or transformer == "passthrough":
                continue
            if not (hasattr(transformer, "fit") or hasattr(transformer, "fit_transform")) or (
                not hasattr(transformer, "transform")
            ):
                return None, (
                    f"the Pipeline step {step[0]!r} ({type(transformer).__name__}) "
                    "has no fit/transform"
                )
        path, reason = locate_member(steps[-1][1])
        if reason is not None:
            return None, f"the Pipeline's final step: {reason}"
        return (steps[-1][0] + ("__" + path if path else "")), None
    if type(estimator) is TransformedTargetRegressor:
        regressor = estimator.regressor
        if regressor is None:
            return None, "the TransformedTargetRegressor's regressor is None (LinearRegression)"
        path, reason = locate_member(regressor)
        if reason is not None:
            return None, f"the TransformedTargetRegressor's regressor: {reason}"
        return "regressor" + ("__" + path if path else ""), None
    return None, (
        f"the estimator ({name}) is not an mlplab MLPRegressor/MLPClassifier, a Pipeline "
        "ending in one or a TransformedTargetRegressor of those"
    )


def member_of(estimator: Any, path: str) -> Any:
    """The MLP at ``path`` (from :func:`locate_member`) inside ``estimator``."""
    for name in path.split("__") if path else ():
        # a Pipeline's step by name, a TransformedTargetRegressor's regressor
        estimator = (
            dict(estimator.steps)[name] if type(estimator) is Pipeline else estimator.regressor
        )
    return estimator


def default_metric(estimator: Any) -> str | None:
    """The metric ``estimator.score`` computes ("r2" / "accuracy"), or None when its
    ``score`` is another (then scikit-learn's path scores)."""
    if type(estimator) is Pipeline:  # its score is its final step's on the transformed X
        return default_metric(estimator.steps[-1][1])
    if isinstance(estimator, ClassifierMixin):
        return "accuracy" if type(estimator).score is ClassifierMixin.score else None
    return "r2" if type(estimator).score is RegressorMixin.score else None


def composite_blocker() -> str | None:
    """Why no composite is batched in this configuration (None: it can be)."""
    if get_config().get("enable_metadata_routing", False):
        return "metadata routing is enabled"
    return None


# ------------------------------------------------------------------ the recorder
class _Recorder:
    """Shared by a recording stub and its clones (a composite clones its regressor):
    keeps the data the stub was fitted on; then answers for one member at a time."""

    def __init__(self) -> None:
        self.X: Any = None
        self.y: Any = None
        self.fits: Any = None
        self.m = 0
        self.fitted: Any = None  # a fitted estimator answering instead of fits

    def __deepcopy__(self, memo: dict) -> _Recorder:
        return self  # clone() deep-copies parameters: every clone records here

    def answer(self, method: str, X: Any, *args: Any, **kwargs: Any) -> Any:
        if self.fitted is not None:
            return getattr(self.fitted, method)(X, *args, **kwargs)
        if method == "predict":
            return self.fits.predict(self.m, X)
        if method == "predict_proba":
            return self.fits.predict_proba(self.m, X)
        return getattr(self.fits.estimator(self.m), method)(X, *args, **kwargs)


class _RecordingRegressor(RegressorMixin, BaseEstimator):
    """Stands in for the MLP inside a composite (see the module docstring)."""

    def __init__(self, recorder: Any = None) -> None:
        self.recorder = recorder

    def fit(self, X: Any, y: Any) -> _RecordingRegressor:
        self.recorder.X, self.recorder.y = X, y
        self.recorded_ = True
        return self

    def predict(self, X: Any) -> Any:
        return self.recorder.answer("predict", X)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self.recorder.answer("score", X, y, sample_weight=sample_weight)


class _RecordingClassifier(ClassifierMixin, _RecordingRegressor):
    def predict_proba(self, X: Any) -> Any:
        return self.recorder.answer("predict_proba", X)


# ------------------------------------------------------------------ the members
class RowFits:
    """An engine's ``MemberFits`` addressed by rows of the search's data array."""

    def __init__(self, fits: Any, Xa: np.ndarray) -> None:
        self.fits, self.Xa = fits, Xa
        self.loss_ = fits.loss_
        self.fit_time_ = fits.fit_time_
        self.failed_ = getattr(fits, "failed_", np.zeros(len(fits.loss_), dtype=bool))
        self.unbatched: dict[int, str] = {}

    def predict_rows(self, m: int, rows: np.ndarray) -> Any:
        return self.fits.predict(m, self.Xa[rows])

    def scoring_input(self, m: int, rows: np.ndarray) -> tuple[Any, Any]:
        """(fitted estimator, X rows) for scikit-learn's scorer."""
        return self.fits.estimator(m), self.Xa[rows]


class _Group:
    """The members sharing one fold and one setting of the non-MLP parameters."""

    def __init__(self, split_idx: int, key: dict, composite: Any, path: str) -> None:
        self.split_idx, self.key, self.path = split_idx, key, path
        self.composite = composite  # the first candidate's; then the fitted recording one
        self.members: list[int] = []
        self.mlps: dict[int, Any] = {}  # each member's (unfitted) MLP
        self.recorder = _Recorder()
        self.seconds = 0.0

    def matches(self, split_idx: int, key: dict, path: str) -> bool:
        return (
            split_idx == self.split_idx
            and path == self.path
            and key.keys() == self.key.keys()
            and all(_same(key[k], self.key[k]) for k in key)
        )


def _same(a: Any, b: Any) -> bool:
    """Whether two parameter values are certainly the same setting."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b) and hash(a) == hash(b)
    except Exception:
        return False


class CompositeFits:
    """The members of a composite search: predictions through each member's fitted
    composite; ``unbatched`` maps the members left to scikit-learn's path to why."""

    def __init__(self, X: Any, n_members: int) -> None:
        self.X = X
        self.loss_ = np.full(n_members, np.nan)
        self.fit_time_ = np.zeros(n_members)
        self.failed_ = np.zeros(n_members, dtype=bool)
        self.unbatched: dict[int, str] = {}
        self._where: dict[int, tuple[_Group, Any, int]] = {}

    def _select(self, m: int, fitted: bool) -> Any:
        group, fits, local = self._where[m]
        recorder = group.recorder
        recorder.fits, recorder.m = fits, local
        recorder.fitted = fits.estimator(local) if fitted else None
        return group.composite

    def predict_rows(self, m: int, rows: np.ndarray) -> Any:
        composite = self._select(m, fitted=False)
        return composite.predict(_safe_indexing(self.X, rows))

    def scoring_input(self, m: int, rows: np.ndarray) -> tuple[Any, Any]:
        """(fitted composite, X rows) for scikit-learn's scorer: valid until the next
        call on this object."""
        return self._select(m, fitted=True), _safe_indexing(self.X, rows)


def _groups(composites: list, split_ids: list[int], params: list[dict]) -> list[_Group]:
    """The members grouped by fold and non-MLP parameters, in order of appearance."""
    groups: list[_Group] = []
    for m, (composite, split_idx, candidate) in enumerate(
        zip(composites, split_ids, params, strict=True)
    ):
        path, _ = locate_member(composite)
        key = {k: v for k, v in candidate.items() if not k.startswith(path + "__")}
        group = next((g for g in groups if g.matches(split_idx, key, path)), None)
        if group is None:
            group = _Group(split_idx, key, composite, path)
            groups.append(group)
        group.members.append(m)
        group.mlps[m] = member_of(composite, path)
    return groups


def _record(group: _Group, X: Any, y: Any, train: np.ndarray) -> str | None:
    """Fit the group's composite (its MLP replaced by a recorder) on the fold's
    training rows; None, or why its members are not batched."""
    mlp = member_of(group.composite, group.path)
    stub_type = _RecordingClassifier if isinstance(mlp, ClassifierMixin) else _RecordingRegressor
    composite = clone(group.composite)
    composite.set_params(**{group.path: stub_type(group.recorder)})
    start = time.time()
    X_train, y_train = _safe_split(group.composite, X, y, train)
    try:
        composite.fit(X_train, y_train)
    except Exception as exc:
        return f"fitting the transformers raised {type(exc).__name__}"
    group.seconds = time.time() - start
    group.composite = composite
    Xt, yt = group.recorder.X, np.asarray(group.recorder.y)
    if type(Xt) is not np.ndarray or Xt.ndim != 2 or Xt.dtype not in (np.float64, np.float32):
        return "the transformed X is not a float ndarray"
    if not (Xt.flags.c_contiguous or Xt.flags.f_contiguous):
        return "the transformed X is neither C- nor F-contiguous"
    if not np.isfinite(Xt).all():
        return "the transformed X is not finite"
    if yt.ndim not in (1, 2) or (yt.ndim == 2 and yt.shape[1] == 1):
        return "the transformed y is not 1-D or (n, k>1)"
    if yt.dtype.kind in "fc" and not np.isfinite(yt).all():
        return "the transformed y is not finite"
    return None


def fit_composite(
    composites: list, split_ids: list[int], params: list[dict], data: tuple, *, fit, n_jobs
) -> CompositeFits:
    """Train member m = ``composites[m]`` (its candidate's ``params``) on the training
    rows of split ``split_ids[m]``; ``data`` is (X, y, splits) with splits
    {split index: (train, test)}; ``fit`` is ``mlplab.batched.fit_members``."""
    X, y, splits = data
    result = CompositeFits(X, len(composites))
    buckets: dict[tuple, list[_Group]] = {}
    for group in _groups(composites, split_ids, params):
        reason = _record(group, X, y, splits[group.split_idx][0])
        if reason is not None:
            result.unbatched.update(dict.fromkeys(group.members, reason))
            continue
        Xt, yt = group.recorder.X, np.asarray(group.recorder.y)
        layout = "C" if Xt.flags.c_contiguous else "F"  # as the MLP's lone fit sees it
        key = (layout, Xt.dtype.str, Xt.shape[1], yt.dtype.str, yt.shape[1:])
        buckets.setdefault(key, []).append(group)
    for groups in buckets.values():
        _train_bucket(result, groups, fit, n_jobs)
    return result


def _train_bucket(result: CompositeFits, groups: list[_Group], fit, n_jobs) -> None:
    """One engine call for groups whose transformed data stack into one array."""
    Xs = [g.recorder.X for g in groups]
    ys = [np.asarray(g.recorder.y) for g in groups]
    offsets = np.cumsum([0] + [x.shape[0] for x in Xs])
    members, estimators, rows = [], [], []
    for g, start, stop in zip(groups, offsets[:-1], offsets[1:], strict=True):
        for m in g.members:
            members.append((g, m))
            estimators.append(g.mlps[m])
            rows.append(np.arange(start, stop))
    try:
        X_all = np.concatenate(Xs, axis=0)
        if not Xs[0].flags.c_contiguous:  # column-major: the engine stacks it so
            X_all = np.asfortranarray(X_all)
        fits = fit(estimators, X_all, np.concatenate(ys), rows, n_jobs=n_jobs)
    except Exception as exc:
        for _, m in members:
            result.unbatched[m] = f"the batched engine raised {type(exc).__name__}: {exc}"
        return
    failed = getattr(fits, "failed_", np.zeros(len(members), dtype=bool))
    for local, (g, m) in enumerate(members):
        result._where[m] = (g, fits, local)
        result.loss_[m] = fits.loss_[local]
        result.failed_[m] = failed[local]
        result.fit_time_[m] = fits.fit_time_[local] + g.seconds / len(g.members)
