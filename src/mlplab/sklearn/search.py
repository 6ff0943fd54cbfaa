"""Hyper-parameter search that trains every (candidate, fold) network at once.

``GridSearchCV`` and ``RandomizedSearchCV`` are scikit-learn's (same constructor,
attributes, ``cv_results_``, refit, multimetric scoring, ``predict``/``score``
delegation: they subclass scikit-learn's classes and override only ``fit``).
When the estimator is an mlplab ``MLPRegressor`` or ``MLPClassifier`` (or a
``Pipeline`` / ``TransformedTargetRegressor`` around one:
:mod:`mlplab.sklearn.search_composite`), the ``candidates x folds`` networks are
trained together by ``mlplab.batched.fit_members`` (stacked by layer structure and solver, on
``n_jobs`` joblib workers), then scored with numpy formulas equal to
scikit-learn's metrics; the results are recorded exactly as scikit-learn's
``_fit_and_score`` records them, and scikit-learn's own code formats
``cv_results_``, ranks the candidates and refits the best one on all the data.

Batched: scoring ``None`` (the estimator's ``score``: R² / accuracy), "r2",
"neg_mean_squared_error", "neg_root_mean_squared_error", "neg_mean_absolute_error"
(regressors) or "accuracy" (classifiers), or a list/dict of those (also as
``get_scorer``/``make_scorer`` objects of these metrics); no fit parameters (or
``sample_weight=None``); ``groups`` for the splitter are fine. A candidate the
engine does not batch (``mlplab.batched.can_batch``: warm_start, early stopping,
batch_norm, an initializer, ...) or with invalid parameters is fitted and scored
by scikit-learn's ``_fit_and_score`` itself (so its ``error_score`` handling is
scikit-learn's), the others stay batched. So is a batched member whose training
became non-finite (non-finite loss or predictions): fitted alone, the estimator
rejects such weights, and scikit-learn's path records that failure as it would.

Everything else (another estimator or composite, a callable scorer or other metrics, fit
parameters such as a sample_weight, sparse or non-finite X, multilabel y,
callbacks) runs scikit-learn's own ``fit`` unchanged. Each such decision emits
one :class:`FallbackNotice` (a ``UserWarning``) stating the reason; nothing is
printed.

Differences from scikit-learn, by design: the members' ``fit_time`` is the
engine's group wall time shared equally among the group's members, and
``score_time`` the batch's prediction-and-scoring time shared equally.
"""

from __future__ import annotations

import time
import warnings
from collections import defaultdict
from inspect import signature
from itertools import product

import numpy as np
from joblib import logger
from scipy import sparse
from sklearn.base import _fit_context, clone, is_classifier
from sklearn.metrics import (
    accuracy_score,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    root_mean_squared_error,
)
from sklearn.metrics._scorer import _MultimetricScorer, _PassthroughScorer, _Scorer
from sklearn.model_selection import GridSearchCV as _SkGridSearchCV
from sklearn.model_selection import RandomizedSearchCV as _SkRandomizedSearchCV
from sklearn.model_selection._split import check_cv
from sklearn.model_selection._validation import (
    _fit_and_score,
    _score,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils import indexable
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params, _num_samples, check_array

from mlplab.sklearn.batched import can_batch, fit_members
from mlplab.sklearn.search_composite import (
    RowFits,
    composite_blocker,
    default_metric,
    fit_composite,
    locate_member,
    member_of,
)

__all__ = ["FallbackNotice", "GridSearchCV", "RandomizedSearchCV"]


class FallbackNotice(UserWarning):
    """A search (or some of its fits) runs scikit-learn's one-fit-at-a-time path.

    The message states why (the estimator is not an mlplab MLP, the scoring is
    not one the batched path computes, fit parameters were given, ...). The
    results are scikit-learn's either way; only the speed-up is lost.
    """


def _notice(reason: str, stacklevel: int = 2) -> None:
    warnings.warn(
        f"mlplab.search: {reason}; using scikit-learn's one-fit-at-a-time path.",
        FallbackNotice,
        stacklevel=stacklevel + 1,
    )


# ------------------------------------------------------------------ metrics
# scikit-learn's metric functions, operation for operation (same numpy calls on
# the same arrays, so the same bits), without their per-call validation
# overhead. ``sign`` as a scorer's: the "neg_" scorers return -loss.

_REGRESSION_METRICS = {
    (r2_score, 1): "r2",
    (mean_squared_error, -1): "neg_mean_squared_error",
    (root_mean_squared_error, -1): "neg_root_mean_squared_error",
    (mean_absolute_error, -1): "neg_mean_absolute_error",
}
_CLASSIFICATION_METRICS = {(accuracy_score, 1): "accuracy"}
_SUPPORTED = "None, " + ", ".join(
    repr(m) for m in (*_REGRESSION_METRICS.values(), *_CLASSIFICATION_METRICS.values())
)


def _floating_dtype(*arrays: np.ndarray) -> np.dtype:
    """scikit-learn's ``_find_matching_floating_dtype``: the widest floating dtype
    among the arrays, float64 when none is floating."""
    floating = [a.dtype for a in arrays if np.issubdtype(a.dtype, np.floating)]
    return np.result_type(*floating) if floating else np.dtype(np.float64)


def _fast_score(metric: str, y_true, y_pred) -> float | None:
    """``metric`` (a scorer name) of one prediction, as scikit-learn's scorer returns it.

    None when scikit-learn's own scorer must decide (non-finite predictions, too few
    samples, mismatched shapes): it then raises or warns exactly as scikit-learn does.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    n = y_true.shape[0]
    if metric == "accuracy":
        if n < 1 or y_pred.shape != y_true.shape or y_true.ndim != 1:
            return None
        return float(np.average(y_true == y_pred))
    if y_pred.dtype.kind not in "fiu" or y_true.dtype.kind not in "fiub":
        return None
    dtype = _floating_dtype(y_true, y_pred)
    yt = np.ascontiguousarray(y_true, dtype=dtype)
    yp = np.ascontiguousarray(y_pred, dtype=dtype)
    if yt.ndim == 1:
        yt = yt.reshape((-1, 1))
    if yp.ndim == 1:
        yp = yp.reshape((-1, 1))
    if n < (2 if metric == "r2" else 1) or yt.shape != yp.shape or yt.ndim != 2:
        return None
    if not (np.isfinite(yp).all() and np.isfinite(yt).all()):
        return None
    if metric == "r2":
        numerator = np.sum(1.0 * (yt - yp) ** 2, axis=0)
        denominator = np.sum(1.0 * (yt - np.average(yt, axis=0)) ** 2, axis=0)
        nonzero_denominator = denominator != 0
        nonzero_numerator = numerator != 0
        scores = np.ones([yt.shape[1]], dtype=numerator.dtype)
        valid = nonzero_denominator & nonzero_numerator
        scores[valid] = 1 - (numerator[valid] / denominator[valid])
        scores[nonzero_numerator & ~nonzero_denominator] = 0.0
        return 1 * float(np.average(scores))
    if metric == "neg_mean_absolute_error":
        return -1 * float(np.average(np.average(np.abs(yp - yt), axis=0)))
    errors = np.average((yt - yp) ** 2, axis=0)
    if metric == "neg_root_mean_squared_error":
        errors = np.sqrt(errors)
    return -1 * float(np.average(errors))


def _metric_of(scorer, estimator) -> str | None:
    """The batched metric a resolved scikit-learn scorer computes, or None."""
    classifier = is_classifier(estimator)
    if type(scorer) is _PassthroughScorer:
        return default_metric(estimator)
    if type(scorer) is not _Scorer:
        return None
    if getattr(scorer, "_response_method", None) != "predict" or getattr(scorer, "_kwargs", 1):
        return None
    table = _CLASSIFICATION_METRICS if classifier else _REGRESSION_METRICS
    return table.get((getattr(scorer, "_score_func", None), getattr(scorer, "_sign", None)))


# ------------------------------------------------------------- verbose output
def _params_msg(parameters) -> str:
    return ", ".join(f"{k}={parameters[k]}" for k in sorted(parameters))


def _progress_msg(verbose, split_progress, candidate_progress) -> str:
    msg = ""
    if verbose > 2:
        msg = f" {split_progress[0] + 1}/{split_progress[1]}"
        if verbose > 9:
            msg += f"; {candidate_progress[0] + 1}/{candidate_progress[1]}"
    return msg


def _print_end(verbose, parameters, progress, record, return_train_score) -> None:
    """The "[CV] END ..." line of scikit-learn's ``_fit_and_score`` (verbose > 1)."""
    test_scores = record["test_scores"]
    end_msg = f"[CV{progress}] END "
    params_msg = _params_msg(parameters)
    result_msg = params_msg + (";" if params_msg else "")
    if verbose > 2:
        if isinstance(test_scores, dict):
            for name in sorted(test_scores):
                result_msg += f" {name}: ("
                if return_train_score:
                    result_msg += f"train={record['train_scores'][name]:.3f}, "
                result_msg += f"test={test_scores[name]:.3f})"
        else:
            result_msg += ", score="
            if return_train_score:
                result_msg += f"(train={record['train_scores']:.3f}, test={test_scores:.3f})"
            else:
                result_msg += f"{test_scores:.3f}"
    total_time = record["fit_time"] + record["score_time"]
    result_msg += f" total time={logger.short_format_time(total_time)}"
    end_msg += "." * (80 - len(end_msg) - len(result_msg))
    print(end_msg + result_msg)


# ------------------------------------------------------------------ the search
def _as_indices(rows, n_samples: int) -> np.ndarray | None:
    """A split's integer row indices (boolean masks converted), or None."""
    try:
        rows = np.asarray(rows)
    except Exception:
        return None
    if rows.ndim != 1:
        return None
    if rows.dtype == bool:
        return np.flatnonzero(rows) if rows.shape[0] == n_samples else None
    if rows.dtype.kind in "iu":
        if rows.size and (rows.min() < -n_samples or rows.max() >= n_samples):
            return None
        return rows.astype(np.intp, copy=False)
    return None


def _member_blocker(est) -> str | None:
    """Why one member cannot be trained by the engine (None: it can)."""
    try:
        est._validate_params()
    except Exception as exc:
        return f"invalid parameters ({type(exc).__name__})"
    try:
        ok, reason = can_batch(est)
    except Exception as exc:
        return f"can_batch raised {type(exc).__name__}: {exc}"
    return None if ok else (reason or "not batchable")


def _split_rows(pairs, n_samples: int) -> dict:
    """Each split's (train, test) integer rows, by split index; None for a split
    whose rows are neither integer index arrays nor boolean masks."""
    splits = {}
    for (_, _), (split_idx, (train, test)) in pairs:
        if split_idx not in splits:
            rows = (_as_indices(train, n_samples), _as_indices(test, n_samples))
            splits[split_idx] = None if rows[0] is None or rows[1] is None else rows
    return splits


def _sort_pairs(base_estimator, pairs, splits) -> tuple[list, list, list, list]:
    """The pairs the engine can train with their estimators, and the pairs to fit
    one by one with the reasons."""
    batched, estimators, solo, reasons = [], [], [], []
    candidates: dict[int, tuple] = {}  # one estimator a candidate, shared by its folds
    for i, ((cand_idx, parameters), (split_idx, _)) in enumerate(pairs):
        if splits[split_idx] is None:
            reason = "the cv splits are not integer index arrays or masks"
        else:
            if cand_idx not in candidates:
                est = clone(base_estimator).set_params(**clone(parameters, safe=False))
                path, reason = locate_member(est)
                if reason is None:
                    reason = _member_blocker(member_of(est, path))
                candidates[cand_idx] = est, reason
            est, reason = candidates[cand_idx]
        if reason is None:
            batched.append(i)
            estimators.append(est)
        else:
            solo.append(i)
            reasons.append(reason)
    return batched, estimators, solo, reasons


def _evaluation_contexts(callback_ctx, n_pairs: int) -> list:
    """One callback subcontext per (candidate, split) pair (None without callbacks)."""
    if callback_ctx is None:
        return [None] * n_pairs
    return [
        callback_ctx.subcontext(task_name="candidate-split-evaluation", task_id=task_id)
        for task_id in range(n_pairs)
    ]


def _pair_progress(verbose, pair, sizes) -> str:
    """The " split/n_splits; candidate/n_candidates" of a pair's verbose lines."""
    (cand_idx, _), (split_idx, _) = pair
    n_candidates, n_splits = sizes
    return _progress_msg(verbose, (split_idx, n_splits), (cand_idx, n_candidates))


class _BatchedSearchMixin:
    """``fit`` for scikit-learn's search classes that trains mlplab MLPs together."""

    def _batch_blocker(self, X, y, params, scorers) -> tuple[str | None, dict]:
        """Why this search cannot run batched (None: it can), and the prepared data."""
        estimator = self.estimator
        path, reason = locate_member(estimator)
        if reason is None and path:
            reason = composite_blocker()
        if reason is not None:
            return reason, {}
        if getattr(self, "_skl_callbacks", None):
            return "callbacks are set on the search", {}
        if callable(self.scoring):
            return "scoring is a callable", {}
        named = scorers._scorers if isinstance(scorers, _MultimetricScorer) else {"score": scorers}
        metrics = {}
        for name, scorer in named.items():
            metric = _metric_of(scorer, estimator)
            if metric is None:
                return (
                    f"scoring {scorer!r} is not one the batched search computes for "
                    f"{type(estimator).__name__} ({_SUPPORTED})",
                    {},
                )
            metrics[name] = metric
        passed = sorted(k for k, v in params.items() if v is not None and k != "groups")
        if passed:
            return f"fit parameters {passed} are passed", {}
        if y is None:
            return "y is None", {}
        # scikit-learn's preparation (same errors as its fit raises)
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed_params = self._get_routed_params_for_fit(params)
        routed = {**routed_params.estimator.fit, **routed_params.scorer.score}
        passed = sorted(k for k, v in routed.items() if v is not None)
        if passed:
            return f"parameters {passed} are routed to the estimator or the scorer", {}
        if path:  # the composite's transformers take X as they are (sparse, NaN, text, ...)
            Xa = None
        elif sparse.issparse(X):
            return "X is sparse", {}
        else:
            try:
                Xa = check_array(X, dtype=(np.float64, np.float32))
            except Exception as exc:
                return f"X is not a finite numeric 2-D array ({exc})", {}
        ya = np.asarray(y)
        if is_classifier(estimator):
            target = type_of_target(ya)
            if ya.ndim != 1 or target not in ("binary", "multiclass"):
                return f"y is {target} (batched: binary or multiclass labels)", {}
        else:
            try:
                ya = check_array(ya, ensure_2d=False, dtype="numeric")
            except Exception as exc:
                return f"y is not a finite numeric array ({exc})", {}
            if ya.ndim == 2 and ya.shape[1] == 1:
                return "y is a column vector", {}
            if ya.ndim not in (1, 2):
                return f"y has {ya.ndim} dimensions", {}
        if ya.shape[0] != _num_samples(X):
            return "X and y have different lengths", {}
        if isinstance(scorers, _MultimetricScorer):
            metrics_out = metrics
        else:
            metrics_out = metrics["score"]
        return None, {
            "X": X,
            "y": y,
            "routed_params": routed_params,
            "Xa": Xa,
            "ya": ya,
            "metrics": metrics_out,
        }

    @_fit_context(
        # *SearchCV.estimator is not validated yet
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None, **params):
        """Run fit with all sets of parameters (scikit-learn's ``fit``, batched).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        **params : dict of str -> object
            Parameters for the estimator's fit, the scorer and the CV splitter
            (``groups``), as scikit-learn's. Fit parameters other than
            ``sample_weight=None`` run scikit-learn's unbatched path.

        Returns
        -------
        self : object
            Instance of fitted estimator.
        """
        scorers, refit_metric = self._get_scorers()
        reason, data = self._batch_blocker(X, y, params, scorers)
        if reason is not None:
            _notice(reason, stacklevel=3)
            return super().fit(X, y, **params)
        return self._fit_batched(scorers, refit_metric, **data)

    def _fit_batched(self, scorers, refit_metric, *, X, y, routed_params, Xa, ya, metrics):
        # The structure below is scikit-learn's BaseSearchCV.fit; only the
        # evaluation of the (candidate, split) fits differs.
        metadata_callbacks = None  # no sample_weight on this path
        root_callback_ctx = self._init_callback_context(
            max_subtasks=1 + (self.refit is not False)
        ).call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata_callbacks)

        self._checked_cv_orig = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        self._check_input_parameters(X=X, y=y, split_params=routed_params.splitter.split)
        self.n_splits_ = self._checked_cv_orig.get_n_splits(X, y, **routed_params.splitter.split)

        base_estimator = clone(self.estimator)
        fit_and_score_kwargs = self._fit_and_score_kwargs(scorers, routed_params)

        results = {}
        all_candidate_params = []
        all_out = []
        all_more_results = defaultdict(list)

        def evaluate_candidates(candidate_params, cv=None, more_results=None, callback_ctx=None):
            cv = cv or self._checked_cv_orig
            candidate_params = list(candidate_params)
            pairs = self._candidate_split_pairs(cv, candidate_params, X, y, routed_params)
            out = self._evaluate(
                base_estimator,
                pairs,
                _evaluation_contexts(callback_ctx, len(pairs)),
                (X, y, Xa, ya),
                scorers,
                metrics,
                fit_and_score_kwargs,
                (len(candidate_params), self.n_splits_),
            )
            if len(out) < 1:
                raise ValueError(
                    "No fits were performed. Was the CV iterator empty? Were there no candidates?"
                )
            _warn_or_raise_about_fit_failures(out, self.error_score)
            all_candidate_params.extend(candidate_params)
            all_out.extend(out)
            if more_results is not None:
                for key, value in more_results.items():
                    all_more_results[key].extend(value)
            nonlocal results
            results = self._format_results(
                all_candidate_params, self.n_splits_, all_out, all_more_results
            )
            return results

        if "callback_ctx" in signature(self._run_search).parameters:
            self._run_search(evaluate_candidates, callback_ctx=root_callback_ctx)
        else:
            self._run_search(evaluate_candidates)

        self.multimetric_ = isinstance(all_out[0]["test_scores"], dict)
        if self.refit or not self.multimetric_:
            self._select_best(results, refit_metric)
        if self.refit:
            self._refit_best(base_estimator, X, y, routed_params, root_callback_ctx)
        self.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
        self.cv_results_ = results
        root_callback_ctx.call_on_fit_task_end(
            estimator=self, X=X, y=y, metadata=metadata_callbacks
        )
        return self

    def _fit_and_score_kwargs(self, scorers, routed_params) -> dict:
        """The arguments scikit-learn's fit gives every ``_fit_and_score`` call."""
        return dict(
            scorer=scorers,
            fit_params=routed_params.estimator.fit,
            score_params=routed_params.scorer.score,
            return_train_score=self.return_train_score,
            return_n_test_samples=True,
            return_times=True,
            return_parameters=False,
            error_score=self.error_score,
            verbose=self.verbose,
        )

    def _candidate_split_pairs(self, cv, candidate_params, X, y, routed_params) -> list:
        """Every ((candidate index, parameters), (split index, (train, test))), in
        scikit-learn's order; the "Fitting ..." line with verbose > 0."""
        n_candidates = len(candidate_params)
        n_splits = self.n_splits_

        cv_splits = list(cv.split(X, y, **routed_params.splitter.split))
        if len(cv_splits) != n_splits:
            raise ValueError(
                f"cv.split and cv.get_n_splits return inconsistent results. "
                f"Expected {n_splits} splits, got {len(cv_splits)}"
            )

        if self.verbose > 0:
            print(
                f"Fitting {n_splits} folds for each of {n_candidates} candidates,"
                f" totalling {n_candidates * n_splits} fits"
            )
        return list(product(enumerate(candidate_params), enumerate(cv_splits)))

    def _select_best(self, results, refit_metric) -> None:
        """``best_index_``, ``best_score_`` (unless refit is a callable), ``best_params_``."""
        self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
        if not callable(self.refit):
            self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
        self.best_params_ = results["params"][self.best_index_]

    def _refit_best(self, base_estimator, X, y, routed_params, root_callback_ctx) -> None:
        """``best_estimator_``: the best parameters fitted on all the data."""
        metadata_callbacks = None  # no sample_weight on this path
        self.best_estimator_ = clone(base_estimator).set_params(
            **clone(self.best_params_, safe=False)
        )
        refit_subctx = root_callback_ctx.subcontext(task_name="refit-with-best-params")
        with refit_subctx.propagate_callback_context(self.best_estimator_):
            refit_subctx.call_on_fit_task_begin(
                estimator=self, X=X, y=y, metadata=metadata_callbacks
            )
            refit_start_time = time.time()
            self.best_estimator_.fit(X, y, **routed_params.estimator.fit)
            refit_end_time = time.time()
        self.refit_time_ = refit_end_time - refit_start_time

        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_

        refit_subctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata_callbacks)

    def _evaluate(
        self, base_estimator, pairs, contexts, data, scorers, metrics, fit_and_score_kwargs, sizes
    ) -> list[dict]:
        """The ``_fit_and_score`` records of every (candidate, split) pair, in order.

        ``data`` is (X, y) as given and as checked arrays (Xa, ya); ``sizes`` is
        (n_candidates, n_splits). The pairs the engine can train are trained
        together; the others, and those the engine could not finish, are fitted
        one by one by scikit-learn's ``_fit_and_score``.
        """
        X, y, Xa, ya = data
        n_candidates, n_splits = sizes
        splits = _split_rows(pairs, _num_samples(X))
        batched, estimators, solo, reasons = _sort_pairs(base_estimator, pairs, splits)

        out: list[dict | None] = [None] * len(pairs)
        if batched:
            records, refit, refit_reasons = self._train_together(
                batched, estimators, pairs, splits, data, scorers, metrics, sizes
            )
            for i, record in records.items():
                out[i] = record
            if refit:
                reasons.extend(refit_reasons)
                solo = sorted(solo + refit)

        if solo:
            unique = list(dict.fromkeys(reasons))
            _notice(
                f"{len(solo)} of {len(pairs)} fits are not batched ({'; '.join(unique)})",
                stacklevel=7,
            )
            parallel = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch)
            solo_out = parallel(
                delayed(_fit_and_score)(
                    clone(base_estimator),
                    X,
                    y,
                    train=pairs[i][1][1][0],
                    test=pairs[i][1][1][1],
                    parameters=pairs[i][0][1],
                    split_progress=(pairs[i][1][0], n_splits),
                    candidate_progress=(pairs[i][0][0], n_candidates),
                    **fit_and_score_kwargs,
                    caller=self,
                    callback_ctx=contexts[i],
                )
                for i in solo
            )
            for i, record in zip(solo, solo_out, strict=True):
                out[i] = record
        return out

    def _train_together(self, batched, estimators, pairs, splits, data, scorers, metrics, sizes):
        """The engine's records of the pairs ``batched`` (by pair index), the pairs to
        fit one by one instead, and why: all of them if the engine raised, else those
        whose training became non-finite (or, for a composite estimator, whose
        transformed data the engine does not take)."""
        X, y, Xa, ya = data
        if self.verbose > 9:
            for i in batched:
                progress = _pair_progress(self.verbose, pairs[i], sizes)
                start_msg = f"[CV{progress}] START {_params_msg(pairs[i][0][1])}"
                print(f"{start_msg}{(80 - len(start_msg)) * '.'}")
        train_rows = [splits[pairs[i][1][0]][0] for i in batched]
        try:
            if locate_member(self.estimator)[0]:  # a Pipeline / TransformedTargetRegressor
                fits = fit_composite(
                    estimators,
                    [pairs[i][1][0] for i in batched],
                    [pairs[i][0][1] for i in batched],
                    (X, y, splits),
                    fit=fit_members,
                    n_jobs=self.n_jobs,
                )
            else:
                fits = RowFits(fit_members(estimators, Xa, ya, train_rows, n_jobs=self.n_jobs), Xa)
        except Exception as exc:  # fit those one by one instead
            return {}, batched, [f"the batched engine raised {type(exc).__name__}: {exc}"]
        scored = self._score_members(fits, batched, pairs, splits, ya, scorers, metrics)
        records, diverged, reasons = {}, [], []
        for m, (i, record) in enumerate(zip(batched, scored, strict=True)):
            if record is None:  # diverged: the lone fit decides (it may fail)
                diverged.append(i)
                reasons.append(fits.unbatched.get(m, "training became non-finite"))
                continue
            records[i] = record
            if self.verbose > 1:
                progress = _pair_progress(self.verbose, pairs[i], sizes)
                _print_end(self.verbose, pairs[i][0][1], progress, record, self.return_train_score)
        return records, diverged, list(dict.fromkeys(reasons))

    def _score_members(self, fits, batched, pairs, splits, ya, scorers, metrics):
        """Records as ``_fit_and_score`` returns them, for the engine's members.

        None for a member whose training became non-finite (a non-finite loss or
        prediction): fitted alone, it may raise (the estimator rejects non-finite
        weights), so scikit-learn's path refits it and records what happens.
        """
        start = time.time()
        tests = [splits[pairs[i][1][0]][1] for i in batched]
        trains = [splits[pairs[i][1][0]][0] for i in batched]
        failed = fits.failed_ | np.isin(np.arange(len(batched)), list(fits.unbatched))

        def predictions(rows_list):
            return [None if failed[m] else fits.predict_rows(m, r) for m, r in enumerate(rows_list)]

        test_preds = predictions(tests)
        train_preds = predictions(trains) if self.return_train_score else None
        check_predictions = not is_classifier(self.estimator)

        def finite(pred) -> bool:
            pred = np.asarray(pred)
            return pred.dtype.kind not in "fc" or bool(np.isfinite(pred).all())

        def scores_of(m, rows, pred):
            y_true = ya[rows]
            if isinstance(metrics, dict):
                values = {
                    name: _fast_score(metric, y_true, pred) for name, metric in metrics.items()
                }
                if all(v is not None for v in values.values()):
                    return values
            else:
                value = _fast_score(metrics, y_true, pred)
                if value is not None:
                    return value
            # scikit-learn's scorer decides (errors, warnings, error_score)
            estimator, X_rows = fits.scoring_input(m, rows)
            return _score(estimator, X_rows, y_true, scorers, {}, self.error_score)

        records = []
        for m in range(len(batched)):
            diverged = (
                failed[m]
                or not np.isfinite(fits.loss_[m])
                or (
                    check_predictions
                    and not (
                        finite(test_preds[m]) and (train_preds is None or finite(train_preds[m]))
                    )
                )
            )
            if diverged:
                records.append(None)
                continue
            record = {"fit_error": None, "test_scores": scores_of(m, tests[m], test_preds[m])}
            if self.return_train_score:
                record["train_scores"] = scores_of(m, trains[m], train_preds[m])
            record["n_test_samples"] = int(tests[m].shape[0])
            record["fit_time"] = float(fits.fit_time_[m])
            records.append(record)
        kept = [r for r in records if r is not None]
        score_time = (time.time() - start) / max(len(kept), 1)
        for record in kept:
            record["score_time"] = score_time
        return records


class GridSearchCV(_BatchedSearchMixin, _SkGridSearchCV):
    """Exhaustive search over a parameter grid: scikit-learn's ``GridSearchCV``.

    Same constructor, attributes and results as
    ``sklearn.model_selection.GridSearchCV``; for an mlplab ``MLPRegressor`` /
    ``MLPClassifier`` the candidates x folds networks train together (see the
    module docstring for what is batched and what falls back, with a
    :class:`FallbackNotice`, to scikit-learn's own path).

    Examples
    --------
    >>> from mlplab import MLPRegressor
    >>> from mlplab.search import GridSearchCV
    >>> search = GridSearchCV(MLPRegressor(solver="lbfgs", max_iter=500),
    ...                       {"hidden_layer_sizes": [(5,), (10,)], "alpha": [1e-4, 1e-2]})
    """


class RandomizedSearchCV(_BatchedSearchMixin, _SkRandomizedSearchCV):
    """Randomized search over parameter distributions: scikit-learn's ``RandomizedSearchCV``.

    Same constructor, attributes and results as
    ``sklearn.model_selection.RandomizedSearchCV`` (the same ``random_state``
    draws the same candidates); for an mlplab ``MLPRegressor`` /
    ``MLPClassifier`` the candidates x folds networks train together (see the
    module docstring).
    """
