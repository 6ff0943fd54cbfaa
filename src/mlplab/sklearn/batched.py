"""Train many networks of one layer structure as one stacked computation.

A grid search over a tiny network spends its time on per-call overhead, not on
arithmetic: a 1-20-1 step is a few microseconds of work wrapped in ~40 numpy
calls. Here every parameter array gets a leading *member* axis: M networks
(seeds x folds x learning rates x L2 values) take one step together, so each
numpy call serves M networks. Each member keeps what makes it an independent
fit: its own training rows, its own random stream (initialisation draws and
per-epoch shuffles, in scikit-learn's order), its own learning rate and L2, its
own stopping state; a stopped member is dropped from the stack (compaction).

Members reproduce ``mlplab.MLPRegressor`` / ``MLPClassifier`` fitted alone on
their rows (which are scikit-learn's fits): the same operations in the same
order per member, so the same numbers up to the summation order inside a few
reductions (see docs/batched.md for the measured agreement).

L-BFGS is batched through scipy's own L-BFGS-B (``mlplab.training.lbfgs``): each
member has its own L-BFGS-B state (scipy's reverse-communication ``setulb``: the
same two-loop memory, line search and stopping rules as ``scipy.optimize.minimize``),
and the function evaluations the members ask for are computed together.
"""

from __future__ import annotations

import numbers
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse

from mlplab.optimizers import SGD, Adam
from mlplab.sklearn.stack import Spec, Stack, StackResult, fit_stack

__all__ = ["MemberFits", "can_batch", "fit_alone", "fit_many", "fit_members"]

#: Parameters that may differ between the members of one stack.
MEMBER_PARAMS = ("random_state", "alpha", "learning_rate_init")
#: Parameters the engine reads (they must agree within a stack).
GROUP_PARAMS = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "batch_size",
    "learning_rate",
    "power_t",
    "max_iter",
    "shuffle",
    "tol",
    "momentum",
    "nesterovs_momentum",
    "beta_1",
    "beta_2",
    "epsilon",
    "n_iter_no_change",
    "max_fun",
    "dtype",
    "loss",
    "exact",
)
_HIDDEN_ACTS = ("identity", "logistic", "tanh", "relu")


# ----------------------------------------------------------------- eligibility
_PARAM_NAMES: dict[type, list[str]] = {}


def _params(est: Any) -> dict[str, Any]:
    """``est.get_params(deep=False)`` without re-reading the signature every call."""
    cls = type(est)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = _PARAM_NAMES[cls] = cls._get_param_names()
    return {k: getattr(est, k) for k in names}


def can_batch(est: Any) -> tuple[bool, str]:
    """(True, "") if ``est`` (unfitted) can train in a stack, else (False, why)."""
    from mlplab.sklearn.estimators import MLPClassifier, MLPRegressor

    if not isinstance(est, (MLPRegressor, MLPClassifier)):
        return False, f"{type(est).__name__} is not an mlplab MLPRegressor/MLPClassifier"
    p = _params(est)
    checks = [
        (p["warm_start"], "warm_start=True"),
        (p["early_stopping"], "early_stopping=True"),
        (p["batch_norm"], "batch_norm=True"),
        (p["initializer"] is not None, "a custom initializer"),
        (p["clip_norm"] is not None or p["clip_value"] is not None, "gradient clipping"),
        (p["record_diagnostics"], "record_diagnostics=True"),
        (p["verbose"], "verbose output"),
        (p["solver"] == "sgd" and p["learning_rate"] == "adaptive", "learning_rate='adaptive'"),
        (
            not isinstance(p["activation"], str) or p["activation"] not in _HIDDEN_ACTS,
            f"activation={p['activation']!r}",
        ),
        (p["solver"] not in ("lbfgs", "sgd", "adam"), f"solver={p['solver']!r}"),
    ]
    if isinstance(est, MLPRegressor):
        checks.append((p["loss"] != "squared_error", f"loss={p['loss']!r}"))
    else:
        checks.append((p["loss"] != "log_loss", f"loss={p['loss']!r}"))
    rs = p["random_state"]
    checks.append(
        (
            not (rs is None or isinstance(rs, (numbers.Integral, np.random.RandomState))),
            "random_state is not an int, None or a RandomState",
        )
    )
    try:
        est._validate_params()
    except (TypeError, ValueError) as exc:
        return False, f"invalid parameters: {exc}"
    for bad, why in checks:
        if bad:
            return False, why
    return True, ""


def _hidden(p: dict[str, Any]) -> tuple[int, ...]:
    h = p["hidden_layer_sizes"]
    if isinstance(h, numbers.Integral):
        return (int(h),)
    return tuple(int(s) for s in h)


# ----------------------------------------------------------------- results
class MemberFits:
    """What ``fit_members`` returns: every member's weights, iterations and losses."""

    def __init__(self, estimators, X, y, train_rows):
        self._estimators = estimators
        self._X, self._y, self._rows = X, y, train_rows
        M = len(estimators)
        self.n_iter_ = np.zeros(M, dtype=int)
        self.loss_ = np.full(M, np.nan)
        self.loss_curve_: list[list[float]] = [[] for _ in range(M)]
        self.fit_time_ = np.zeros(M)
        self._where: list[Any] = [None] * M  # (spec, theta row, t) or a fitted estimator
        self.batched_ = np.zeros(M, dtype=bool)
        #: batched members whose loss or weights became non-finite (fitted alone, the
        #: estimator raises "Solver produced non-finite parameter weights")
        self.failed_ = np.zeros(M, dtype=bool)
        #: members that met their stopping rule before max_iter (scipy's "converged" for lbfgs)
        self.converged_ = np.ones(M, dtype=bool)

    def __len__(self) -> int:
        return len(self._estimators)

    def _forward(self, m: int, X: np.ndarray) -> np.ndarray:
        spec, theta = self._where[m][:2]
        stack = Stack(spec, None, None, np.zeros(1))
        Xd = np.asarray(X, dtype=spec.dtype)[None]
        with np.errstate(over="ignore", invalid="ignore"):  # as the estimator's predict
            z = stack.forward(theta[None].astype(spec.dtype), Xd)
            return stack.output(z)[0].copy()

    def predict(self, m: int, X: Any) -> np.ndarray:
        """Member m's predictions for X (labels for a classifier)."""
        w = self._where[m]
        if not isinstance(w, tuple):
            return w.predict(X)
        spec = w[0]
        out = self._forward(m, np.asarray(X))
        if not spec.classifier:
            return out.ravel() if out.shape[1] == 1 else out
        classes = w[3]
        if out.shape[1] == 1:
            return classes[(out[:, 0] > 0.5).astype(int)]
        return classes[out.argmax(axis=1)]

    def predict_proba(self, m: int, X: Any) -> np.ndarray:
        w = self._where[m]
        if not isinstance(w, tuple):
            return w.predict_proba(X)
        out = self._forward(m, np.asarray(X))
        if out.shape[1] == 1:
            return np.hstack([1 - out, out])
        return out

    def predict_all(self, X_rows_list: list[Any]) -> list[np.ndarray]:
        """[predict(m, X_rows_list[m]) for every member]."""
        return [self.predict(m, Xm) for m, Xm in enumerate(X_rows_list)]

    def estimator(self, m: int):
        """A fitted estimator: estimators[m] as if fitted alone on its rows."""
        w = self._where[m]
        if not isinstance(w, tuple):
            return w
        from sklearn.base import clone

        est = clone(self._estimators[m])
        rows = np.asarray(self._rows[m])
        est._validate_params()
        _set_up(est, self._X[rows], self._y[rows], w[0])
        self._store_into(m, est)
        return est

    def _store_into(self, m: int, est: Any) -> None:
        """Member m's trained state into ``est``, set up for it (``_set_up``)."""
        spec, theta, t, _classes, opt_state = self._where[m]
        dtype = spec.dtype
        order = est._sklearn_order()
        est.net_.theta[order] = theta.astype(dtype)
        est.n_iter_ = int(self.n_iter_[m])
        est.loss_ = float(self.loss_[m])
        if spec.solver != "lbfgs":
            est.loss_curve_ = list(self.loss_curve_[m])
            est.t_ = int(t)
            est.best_loss_ = min(est.loss_curve_) if est.loss_curve_ else np.inf
            if opt_state is not None:
                est._optimizer = _optimizer_of(est, opt_state, order, dtype)
                est._no_improvement_count = int(opt_state["count"])
                est._sync_optimizer()
        est.history_["loss"] = list(self.loss_curve_[m])


def _set_up(est: Any, X: Any, y: Any, spec: Spec) -> np.ndarray:
    """``est`` (valid parameters) validated on its rows (X, y) and its network built for
    ``spec``, its weights to be the trained ones; returns its targets Y (n, k)."""
    _, Yv = est._validate_input(X, y, False, reset=True)
    if Yv.ndim == 1:
        Yv = Yv.reshape(-1, 1)
    Y = est._targets(Yv, spec.dtype)
    est.n_outputs_ = Y.shape[1]
    est._random_state = np.random.RandomState(0)  # draws replaced by the trained weights
    est._initialize(Y, list(spec.units), spec.dtype)
    return Y


def _optimizer_of(est: Any, state: dict[str, Any], order: np.ndarray, dtype) -> Any:
    """The single fit's optimizer after training, from a member's stacked state (the
    stack keeps parameters in scikit-learn's order; the network in its own)."""

    def in_net_order(v: np.ndarray) -> np.ndarray:
        out = np.empty(len(order), dtype=dtype)
        out[order] = v
        return out

    if est.solver == "adam":
        opt = Adam(est.learning_rate_init, est.beta_1, est.beta_2, est.epsilon)
        opt.state = {"m": in_net_order(state["m1"]), "v": in_net_order(state["v1"])}
    else:
        nesterov = bool(est.nesterovs_momentum) and est.momentum > 0
        opt = SGD(est.learning_rate_init, momentum=est.momentum, nesterov=nesterov)
        if est.momentum > 0:
            opt.state = {"velocity": in_net_order(state["m1"])}
        opt.learning_rate = float(state["lr"])
    opt.t = int(state["steps"])
    return opt


def _targets(spec_cls: bool, y: np.ndarray, classes: np.ndarray | None) -> np.ndarray:
    if not spec_cls:
        y = np.asarray(y, dtype=float)
        return y.reshape(len(y), -1)
    if len(classes) == 2:
        return (y == classes[1]).astype(float).reshape(-1, 1)
    return (y[:, None] == classes[None, :]).astype(float)


def fit_members(
    estimators: list[Any],
    X: Any,
    y: Any,
    train_rows: list[Any],
    *,
    n_jobs: int | None = None,
) -> MemberFits:
    """Fit ``estimators[m]`` on ``X[train_rows[m]], y[train_rows[m]]`` for every m,
    the batchable ones stacked by structure. See docs/batched.md."""
    if len(estimators) != len(train_rows):
        raise ValueError(
            f"`train_rows` must hold one index array per estimator: {len(estimators)} "
            f"estimators, {len(train_rows)} index arrays."
        )
    fits = MemberFits(estimators, X, y, train_rows)
    dense, Xa, ya = _dense_arrays(X, y)
    groups, specs, member_classes, singles = _group_members(estimators, Xa, ya, train_rows, dense)
    jobs = _stack_jobs(groups, specs, member_classes, estimators, Xa, ya, train_rows, n_jobs)
    if jobs:
        if n_jobs is None or n_jobs == 1 or len(jobs) == 1:
            results = [fit_stack(*args) for _, args in jobs]
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=n_jobs)(delayed(fit_stack)(*args) for _, args in jobs)
        for (members, args), res in zip(jobs, results, strict=True):
            _store_stack(fits, members, args[0], res, member_classes)
        _warn_unconverged(fits, estimators)
    for m in singles:
        _fit_single(fits, m, Xa, ya)
    return fits


def fit_alone(
    est: Any, X: Any, y: Any, observer: Callable[[np.ndarray], Any] | None = None
) -> bool | None:
    """``est`` (unfitted, valid parameters) fitted in place on all of (X, y) as a stack of
    one: whether it converged; None when the stack engine does not take it or the fit ended
    non-finite (the estimator's own fit then runs, and raises its error). An ``exact=False``
    estimator fits this way, so that a member of a fast stack equals the same estimator
    fitted alone: the stack's arithmetic per member does not depend on the other members.
    ``observer(Y)`` (lbfgs), called once ``est`` is set up (Y: its targets), returns the
    ``observe`` of :func:`mlplab.sklearn.stack.fit_stack`: what it records per iteration."""
    dense, Xa, ya = _dense_arrays(X, y)
    if not dense or Xa.ndim != 2 or ya.shape[:1] != Xa.shape[:1]:
        return None
    rows = [np.arange(Xa.shape[0])]
    groups, specs, member_classes, singles = _group_members([est], Xa, ya, rows, dense)
    if singles:
        return None
    ((members, args),) = _stack_jobs(groups, specs, member_classes, [est], Xa, ya, rows, None)
    spec = args[0]
    # the estimator set up first, on the caller's X (its feature names), as its own fit does
    Y = _set_up(est, X, y, spec)
    observe = None if observer is None or spec.solver != "lbfgs" else observer(Y)
    fits = MemberFits([est], Xa, ya, rows)
    _store_stack(fits, members, spec, fit_stack(*args, observe=observe), member_classes)
    if fits.failed_[0]:
        return None
    fits._store_into(0, est)
    return bool(fits.converged_[0])


def _dense_arrays(X: Any, y: Any) -> tuple[bool, Any, np.ndarray]:
    """(dense, X, y) as arrays; dense is False for a sparse X and for data the
    engine leaves to the estimators (non-numeric or non-finite)."""
    dense = not sparse.issparse(X)
    Xa = np.asarray(X) if dense else X
    ya = np.asarray(y)
    if dense and (
        Xa.dtype.kind not in "biuf"
        or not np.isfinite(Xa).all()
        or (ya.dtype.kind in "biuf" and not np.isfinite(ya).all())
    ):
        dense = False  # fitted one by one: each estimator raises its own clear error
    return dense, Xa, ya


def _group_members(
    estimators: list[Any], Xa: Any, ya: np.ndarray, train_rows: list[Any], dense: bool
) -> tuple[dict[Any, list[int]], dict[Any, Spec], dict[int, np.ndarray], list[int]]:
    """The stacks (members by key), each stack's spec, the classifiers' classes (those
    of their own rows) and the members fitted one by one (not batchable, or a
    classifier whose rows hold fewer than two classes)."""
    from sklearn.base import is_classifier

    groups: dict[Any, list[int]] = defaultdict(list)
    singles: list[int] = []
    specs: dict[Any, Spec] = {}
    member_classes: dict[int, np.ndarray] = {}
    for m, est in enumerate(estimators):
        ok, _why = can_batch(est) if dense and Xa.ndim == 2 else (False, "")
        rows = np.asarray(train_rows[m])
        if ok and is_classifier(est):
            ok = ya.ndim == 1
            if ok:
                member_classes[m] = np.unique(ya[rows])
                ok = len(member_classes[m]) >= 2
        if not ok:
            singles.append(m)
            continue
        key, spec = _stack_key(est, Xa, ya, len(rows), member_classes.get(m))
        specs.setdefault(key, spec)
        groups[key].append(m)
    return groups, specs, member_classes, singles


def _stack_key(
    est: Any, Xa: np.ndarray, ya: np.ndarray, n_rows: int, classes: np.ndarray | None
) -> tuple[tuple, Spec]:
    """The key of the stack a batchable member trains in (members with equal keys
    share one computation), and the spec of such a stack."""
    from sklearn.base import is_classifier

    p = _params(est)
    if p["dtype"] is not None:
        dtype = np.dtype(p["dtype"])
    else:
        dtype = Xa.dtype if Xa.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    classifier = is_classifier(est)
    k = (
        (1 if len(classes) == 2 else len(classes))
        if classifier
        else (1 if ya.ndim == 1 else ya.shape[1])
    )
    units = (Xa.shape[1], *_hidden(p), k)
    out = "identity" if not classifier else ("logistic" if k == 1 else "softmax")
    key_params = tuple((name, repr(p[name])) for name in GROUP_PARAMS)
    key = (
        classifier,
        units,
        out,
        dtype.str,
        n_rows,
        key_params,
        tuple(classes) if classifier else None,
    )
    return key, Spec(classifier, units, p["activation"], out, p["solver"], p, dtype)


def _stack_jobs(
    groups: dict[Any, list[int]],
    specs: dict[Any, Spec],
    member_classes: dict[int, np.ndarray],
    estimators: list[Any],
    Xa: np.ndarray,
    ya: np.ndarray,
    train_rows: list[Any],
    n_jobs: int | None,
) -> list[tuple[list[int], tuple]]:
    """(members, ``fit_stack`` arguments) for every stack, a stack cut into chunks
    when there are too few stacks to keep the n_jobs workers busy."""
    jobs = []
    for key, members in groups.items():
        spec = specs[key]
        rows = np.stack([np.asarray(train_rows[m]) for m in members])
        Xs = Xa[rows]  # (M, n, d)
        if Xa.ndim == 2 and Xa.flags.f_contiguous and not Xa.flags.c_contiguous:
            # column-major X (a DataFrame's array): each member's rows column-major too,
            # as its lone fit sees them (BLAS sums in another order for each layout)
            Xs = np.ascontiguousarray(Xa.T[:, rows].transpose(1, 0, 2)).transpose(0, 2, 1)
        classes = member_classes.get(members[0])
        Ys = np.stack([_targets(spec.classifier, ya[r], classes) for r in rows])
        seeds = [estimators[m].random_state for m in members]
        alpha = [estimators[m].alpha for m in members]
        lr = [estimators[m].learning_rate_init for m in members]
        for chunk in _chunks(len(members), n_jobs, len(groups)):
            jobs.append(([members[i] for i in chunk], (spec, Xs[chunk], Ys[chunk],
                         [seeds[i] for i in chunk], [alpha[i] for i in chunk],
                         [lr[i] for i in chunk])))  # fmt: skip
    # the largest first: the workers then end together, the small stacks filling the gaps
    return sorted(jobs, key=_job_size, reverse=True)


def _job_size(job: tuple[list[int], tuple]) -> int:
    """A stack's arithmetic per step: members x rows x weights."""
    spec, X = job[1][0], job[1][1]
    units = spec.units
    return X.shape[0] * X.shape[1] * sum(a * b for a, b in zip(units[:-1], units[1:], strict=True))


def _store_stack(
    fits: MemberFits,
    members: list[int],
    spec: Spec,
    res: StackResult,
    member_classes: dict[int, np.ndarray],
) -> None:
    """Each member's share of a trained stack, into ``fits``."""
    share = res.fit_time / len(members)
    opt = res.extra.get("optimizer")
    for j, m in enumerate(members):
        state = None if opt is None else {
            k: (v[j] if v is not None else None) for k, v in opt.items()
        }  # fmt: skip
        fits._where[m] = (spec, res.theta[j], res.t[j], member_classes.get(m), state)
        fits.n_iter_[m] = res.n_iter[j]
        fits.loss_[m] = res.loss[j]
        fits.loss_curve_[m] = res.loss_curves[j]
        fits.fit_time_[m] = share
        fits.batched_[m] = True
        fits.failed_[m] = res.extra["failed"][j]
        fits.converged_[m] = res.extra["converged"][j]


def _fit_single(fits: MemberFits, m: int, Xa: Any, ya: np.ndarray) -> None:
    """Member m fitted alone, by its own estimator, into ``fits``."""
    from sklearn.base import clone

    t0 = time.perf_counter()
    est = clone(fits._estimators[m])
    rows = np.asarray(fits._rows[m])
    est.fit(Xa[rows], ya[rows])
    fits._where[m] = est
    fits.n_iter_[m] = getattr(est, "n_iter_", 0)
    fits.loss_[m] = getattr(est, "loss_", np.nan)
    curve = getattr(est, "loss_curve_", None) or getattr(est, "history_", {}).get("loss", [])
    fits.loss_curve_[m] = list(curve)
    fits.fit_time_[m] = time.perf_counter() - t0


def _warn_unconverged(fits: MemberFits, estimators: list[Any]) -> None:
    """One ConvergenceWarning for the batched members that ran out of iterations
    (fitted alone, each would warn)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    late = [
        m
        for m in np.flatnonzero(fits.batched_ & ~fits.converged_ & ~fits.failed_)
        if getattr(estimators[m], "convergence_warning", True)
    ]
    if late:
        iters = sorted({int(estimators[m].max_iter) for m in late})
        shown = iters[0] if len(iters) == 1 else iters
        warnings.warn(
            f"{len(late)} of {len(estimators)} fits stopped at max_iter={shown} "
            "before converging (each would raise this warning when fitted alone). Increase "
            "max_iter, or scale the data.",
            ConvergenceWarning,
            stacklevel=3,
        )


def _chunks(size: int, n_jobs: int | None, n_groups: int) -> list[np.ndarray]:
    """Split a stack so that n_jobs workers have work when there are few stacks."""
    workers = 1
    if n_jobs is not None and n_jobs != 1:
        from joblib import effective_n_jobs

        workers = effective_n_jobs(n_jobs)
    parts = 1 if n_groups >= 2 * workers else max(1, min(size, -(-2 * workers // n_groups)))
    return [c for c in np.array_split(np.arange(size), parts) if len(c)]


# ----------------------------------------------------------------- public API
class Ensemble:
    """Members fitted together by :func:`fit_many`."""

    def __init__(self, fits: MemberFits):
        self.fits_ = fits
        self.loss_ = fits.loss_
        self.n_iter_ = fits.n_iter_
        self.loss_curve_ = fits.loss_curve_
        #: members whose fit ended non-finite (alone, each raises scikit-learn's ValueError);
        #: they hold the weights of their last finite step
        self.failed_ = fits.failed_
        self._estimators = None

    def __len__(self) -> int:
        return len(self.fits_)

    def predict(self, X: Any) -> np.ndarray:
        """(members, n) (or (members, n, outputs)) predictions of every member."""
        return np.stack([self.fits_.predict(m, X) for m in range(len(self.fits_))])

    @property
    def estimators_(self) -> list[Any]:
        if self._estimators is None:
            self._estimators = [self.fits_.estimator(m) for m in range(len(self.fits_))]
        return self._estimators


def fit_many(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    random_state: Any = None,
    param_list: list[dict[str, Any]] | None = None,
    train_rows: list[Any] | None = None,
    n_jobs: int | None = None,
) -> Ensemble:
    """Fit many variants of ``estimator`` on (X, y) as stacked computations.

    Members come from ``random_state`` (a sequence of seeds) and/or ``param_list``
    (one dict of parameter overrides per member); ``train_rows`` optionally gives
    each member its own rows. Returns an :class:`Ensemble` with ``loss_``,
    ``n_iter_``, ``predict(X)`` and ``estimators_``.

    >>> ens = fit_many(MLPRegressor((10,), solver="adam"), X, y, random_state=range(100))
    >>> ens.loss_.min(), np.median(ens.loss_)   # how much the seed matters
    """
    from sklearn.base import clone

    seeds = None
    if random_state is not None:
        if isinstance(random_state, (numbers.Integral, np.random.RandomState)):
            raise TypeError(
                "`random_state` must be a sequence of seeds, one per member (e.g. range(100)). "
                f"Received: random_state={random_state!r}."
            )
        seeds = list(random_state)
    if seeds is None and param_list is None:
        raise ValueError("Give `random_state` (a list of seeds) and/or `param_list`.")
    n = len(seeds) if seeds is not None else len(param_list)
    if n == 0:
        raise ValueError("No members: `random_state` / `param_list` is empty.")
    if param_list is not None and len(param_list) != n:
        raise ValueError(f"`param_list` has {len(param_list)} entries but `random_state` has {n}.")
    ests = []
    for i in range(n):
        est = clone(estimator)
        if param_list is not None:
            est.set_params(**param_list[i])
        if seeds is not None:
            est.set_params(random_state=seeds[i])
        ests.append(est)
    X = np.asarray(X) if not sparse.issparse(X) else X
    if train_rows is None:
        train_rows = [np.arange(X.shape[0])] * n
    ens = Ensemble(fit_members(ests, X, y, train_rows, n_jobs=n_jobs))
    if ens.failed_.any():
        import warnings

        from mlplab.sklearn.rules import NON_FINITE_WEIGHTS

        warnings.warn(
            f"{int(ens.failed_.sum())} of {n} members ended non-finite; fitted alone, each "
            f'would raise "{NON_FINITE_WEIGHTS}" They keep the weights of their last finite '
            "step; `failed_` marks them.",
            RuntimeWarning,
            stacklevel=2,
        )
    return ens
