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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from mlplab.activations import get_activation
from mlplab.layers.dense import Dense
from mlplab.optimizers import SGD, Adam
from mlplab.sklearn.losses import BinaryLogLoss, LogLoss, SquaredError, sklearn_l2
from mlplab.sklearn.rules import batch_size_of, count_no_improvement, invscaling_rate
from mlplab.training.lbfgs import minimize_lbfgs
from mlplab.training.step import Trainer, run_epoch, sklearn_batches, sklearn_shuffle

__all__ = ["MemberFits", "can_batch", "fit_many", "fit_members"]

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


# ----------------------------------------------------------------- one stack
@dataclass
class _Spec:
    """What one stack shares."""

    classifier: bool
    units: tuple[int, ...]  # layer sizes: inputs, hidden..., outputs
    activation: str
    out: str  # "identity", "logistic" or "softmax"
    solver: str
    params: dict[str, Any]
    dtype: np.dtype


@dataclass
class _StackResult:
    theta: np.ndarray  # (M, P) float64, scikit-learn's order: every W, then every b
    n_iter: np.ndarray
    loss: np.ndarray
    loss_curves: list[list[float]]
    t: np.ndarray
    fit_time: float
    extra: dict[str, Any] = field(default_factory=dict)


def _layout(units: tuple[int, ...]) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
    """Offsets of every W then every b in a member's flat vector."""
    w, b, start = [], [], 0
    for fi, fo in zip(units[:-1], units[1:], strict=True):
        w.append((start, start + fi * fo))
        start += fi * fo
    for fo in units[1:]:
        b.append((start, start + fo))
        start += fo
    return w, b, start


class _Stack:
    """M members of one structure: Dense layers on the member axis, scikit-learn's loss."""

    def __init__(self, spec: _Spec, X: np.ndarray, Y: np.ndarray, alpha: np.ndarray):
        self.spec = spec
        self.X, self.Y = X, Y  # (M, n, d), (M, n, k): each member's own rows
        self.alpha = alpha  # (M,)
        self.wsl, self.bsl, self.P = _layout(spec.units)
        u = spec.units
        self.layers = [Dense(fo, spec.activation) for fo in u[1:-1]]
        self.layers.append(Dense(u[-1], "identity"))  # the output link is the loss's
        self.loss = {"identity": SquaredError, "logistic": BinaryLogLoss, "softmax": LogLoss}[
            spec.out
        ]()

    def select(self, keep: np.ndarray) -> None:
        """Keep only the members ``keep`` (their rows, targets and L2)."""
        self.X, self.Y, self.alpha = self.X[keep], self.Y[keep], self.alpha[keep]

    def bind(self, theta: np.ndarray, grad: np.ndarray | None) -> None:
        """Seat every layer's W, b (and dW, db) on views of (M, P) arrays in scikit-learn's
        order (every W, then every b)."""
        u, M = self.spec.units, theta.shape[0]
        for i, layer in enumerate(self.layers):
            (wa, wb), (ba, bb) = self.wsl[i], self.bsl[i]
            layer.W = theta[:, wa:wb].reshape(M, u[i], u[i + 1])
            layer.b = theta[:, ba:bb]
            if grad is not None:
                layer.dW = grad[:, wa:wb].reshape(M, u[i], u[i + 1])
                layer.db = grad[:, ba:bb]

    def forward(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The output layer's z (before the output link) for X (M, n, d); a work array."""
        self.bind(theta, None)
        a = X
        for layer in self.layers[:-1]:
            a = layer.forward(a)
        return self.layers[-1].forward_logits(a)

    def output(self, z: np.ndarray) -> np.ndarray:
        """The output link applied to the last layer's z (what predict_proba gives)."""
        return get_activation(self.spec.out).forward(z)

    def loss_and_grad(self, theta, X, Y, need_grad=True):
        """Per-member loss (M,) and gradient (M, P), as scikit-learn's MLP computes them."""
        M, n = X.shape[0], X.shape[1]
        grad = np.empty((M, self.P), dtype=theta.dtype) if need_grad else None
        z = self.forward(theta, X)
        value, delta = self.loss.value_and_gradient(z, Y)
        weights = [layer.W for layer in self.layers]
        if not need_grad:
            return sklearn_l2(value, weights, (), None, self.alpha, n), None
        self.bind(theta, grad)
        d = self.layers[-1].backward_from_z(delta, len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            d = self.layers[i].backward(d, i > 0)
        w_grads = [layer.dW for layer in self.layers]
        return sklearn_l2(value, weights, w_grads, grad, self.alpha, n), grad


def _init_theta(spec: _Spec, rstates: list[np.random.RandomState]) -> np.ndarray:
    """scikit-learn's initialisation per member, from each member's own stream."""
    wsl, bsl, P = _layout(spec.units)
    theta = np.empty((len(rstates), P))
    factor = 2.0 if spec.activation == "logistic" else 6.0
    u = spec.units
    for m, rs in enumerate(rstates):
        for i, (fi, fo) in enumerate(zip(u[:-1], u[1:], strict=True)):
            bound = np.sqrt(factor / (fi + fo))
            theta[m, wsl[i][0] : wsl[i][1]] = rs.uniform(-bound, bound, (fi, fo)).ravel()
            theta[m, bsl[i][0] : bsl[i][1]] = rs.uniform(-bound, bound, fo)
    return theta


def _fit_stack(spec: _Spec, X: np.ndarray, Y: np.ndarray, seeds: list, alpha, lr) -> _StackResult:
    """Train one stack; X (M, n, d), Y (M, n, k) are the members' own rows."""
    t0 = time.perf_counter()
    from sklearn.utils import check_random_state

    rstates = [check_random_state(s) for s in seeds]
    theta = _init_theta(spec, rstates).astype(spec.dtype)
    X = X.astype(spec.dtype, copy=False)
    Y = Y.astype(spec.dtype, copy=False)
    stack = _Stack(spec, X, Y, np.asarray(alpha, dtype=float))
    from mlplab._blas import one_blas_thread

    # small products: threads do not help them, and on a busy machine they can make
    # them orders of magnitude slower (the estimators make the same choice)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        if spec.solver == "lbfgs":
            res = _lbfgs(stack, theta.astype(np.float64))
        else:
            res = _stochastic(stack, theta, rstates, np.asarray(lr, dtype=float))
    res.fit_time = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------- sgd / adam
def _stochastic(stack: _Stack, theta, rstates, lr0) -> _StackResult:
    """sgd/adam for every member: the one training step on the stack, scikit-learn's
    shuffles per member, its stopping rule per member; stopped members are dropped."""
    spec, p = stack.spec, stack.spec.params
    M, n = stack.X.shape[0], stack.X.shape[1]
    bs = batch_size_of(p["batch_size"], n)
    tol, n_no_change, max_iter = p["tol"], p["n_iter_no_change"], p["max_iter"]
    invscaling = spec.solver == "sgd" and p["learning_rate"] == "invscaling"
    opt = _optimizer(spec, lr0)
    run = _Run(M, theta, stack)

    def loss_and_grad(theta, Xb, Yb):
        value, grad = stack.loss_and_grad(theta, Xb, Yb)
        return value.astype(np.float64), grad  # the estimator adds Python floats

    trainer = Trainer(theta, loss_and_grad, opt)

    def on_step(b, value, norm, ok) -> bool:
        if not ok.all():  # as the estimator: that member stops with its last finite weights
            bad = run.active[~ok]
            run.failed[bad] = True
            run.out_theta[bad] = trainer.backup[~ok]
        return False

    sample_idx = np.tile(np.arange(n), (M, 1))
    for _epoch in range(max_iter):
        if p["shuffle"]:
            for j, m in enumerate(run.active):
                sample_idx[j] = sklearn_shuffle(sample_idx[j], rstates[m])
        rows = np.arange(len(run.active))[:, None]
        batches = (
            (count, (stack.X[rows, idx], stack.Y[rows, idx]))
            for idx, count in sklearn_batches(sample_idx, bs, True)
        )
        epoch_loss = run_epoch(trainer, batches, on_step).total / n
        active = run.active
        run.n_iter[active] += 1
        run.t_samples[active] += n
        run.loss[active] = epoch_loss
        for j, m in enumerate(active):
            run.curves[m].append(float(epoch_loss[j]))
        run.count[active], run.best[active] = count_no_improvement(
            run.count[active], run.best[active], epoch_loss, tol
        )
        if invscaling:
            opt.learning_rate = invscaling_rate(lr0[active], run.t_samples[active], p["power_t"])
        run.converged[active] = run.count[active] > n_no_change
        done = run.converged[active] | run.failed[active]
        if done.any():
            run.save(trainer, done, keep_theta=~run.failed[active])
            keep = ~done
            trainer.select(keep)
            stack.select(keep)
            sample_idx = sample_idx[keep]
            run.active = active[keep]
            if not len(run.active):
                break
    run.save(trainer, np.ones(len(run.active), dtype=bool), keep_theta=None)
    return run.result(-(-n // bs))


def _optimizer(spec: _Spec, lr0: np.ndarray) -> SGD | Adam:
    """The estimators' optimizer for the stack, one learning rate per member."""
    p = spec.params
    if spec.solver == "adam":
        return Adam(lr0.copy(), p["beta_1"], p["beta_2"], p["epsilon"])
    nesterov = bool(p["nesterovs_momentum"]) and p["momentum"] > 0
    return SGD(lr0.copy(), momentum=p["momentum"], nesterov=nesterov)


class _Run:
    """What a stochastic stack records per member (rows: all M members; ``active``
    maps the stack's current rows to them)."""

    def __init__(self, M: int, theta: np.ndarray, stack: _Stack) -> None:
        self.active = np.arange(M)
        self.out_theta = theta.copy()
        # each member's optimizer state when it stops (for fits.estimator(m).partial_fit)
        self.out_m1 = np.zeros_like(theta)
        self.out_v1 = np.zeros_like(theta)
        self.out_lr = np.zeros(M)
        self.n_iter = np.zeros(M, dtype=int)
        self.loss = np.full(M, np.nan)
        self.best = np.full(M, np.inf)
        self.count = np.zeros(M, dtype=int)
        self.curves: list[list[float]] = [[] for _ in range(M)]
        self.t_samples = np.zeros(M, dtype=np.int64)
        self.failed = np.zeros(M, dtype=bool)  # non-finite loss or gradient: the estimator raises
        self.converged = np.zeros(M, dtype=bool)

    def save(self, trainer: Trainer, rows: np.ndarray, keep_theta: np.ndarray | None) -> None:
        """Store the final state of the stack rows ``rows`` (a failed member keeps the
        last finite weights saved when it failed: ``keep_theta`` False)."""
        members = self.active[rows]
        save = rows if keep_theta is None else rows & keep_theta
        self.out_theta[self.active[save]] = trainer.theta[save]
        opt = trainer.optimizer
        moments = opt.state.get("m", opt.state.get("velocity"))
        if moments is not None:
            self.out_m1[members] = moments[rows]
        if "v" in opt.state:
            self.out_v1[members] = opt.state["v"][rows]
        rate = opt.learning_rate
        self.out_lr[members] = rate[rows] if np.ndim(rate) else rate

    def result(self, n_batches: int) -> _StackResult:
        optimizer = {
            "m1": self.out_m1, "v1": self.out_v1, "lr": self.out_lr,
            "steps": self.n_iter * n_batches, "count": self.count, "best": self.best,
        }  # fmt: skip
        return _StackResult(
            self.out_theta.astype(np.float64), self.n_iter, self.loss, self.curves,
            self.t_samples, 0.0,
            {"failed": self.failed, "converged": self.converged, "optimizer": optimizer},
        )  # fmt: skip


# ----------------------------------------------------------------- L-BFGS
def _lbfgs(stack: _Stack, theta: np.ndarray) -> _StackResult:
    """scipy's L-BFGS-B per member (mlplab.training.lbfgs), the members' evaluations
    computed together."""
    p, dtype = stack.spec.params, stack.spec.dtype
    M = theta.shape[0]
    X_all, Y_all, alpha_all = stack.X, stack.Y, stack.alpha
    curves: list[list[float]] = [[] for _ in range(M)]

    def fun(xs: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        stack.alpha = alpha_all[members]
        return stack.loss_and_grad(xs.astype(dtype), X_all[members], Y_all[members])

    def record(members: np.ndarray, _xs: np.ndarray, fs: np.ndarray) -> None:
        for m, f in zip(members, fs, strict=True):
            curves[m].append(float(f))

    res = minimize_lbfgs(
        fun, theta, maxiter=p["max_iter"], maxfun=p["max_fun"], gtol=p["tol"], callback=record
    )
    n_iter = np.minimum(res.nit, p["max_iter"])
    failed = ~np.isfinite(res.x).all(axis=1)  # the estimator raises on non-finite weights
    return _StackResult(
        res.x, n_iter, res.fun, curves, np.zeros(M, np.int64), 0.0,
        {"failed": failed, "converged": res.status == 0},  # scipy's warnflag 0
    )  # fmt: skip


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
        stack = _Stack(spec, None, None, np.zeros(1))
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

        spec, theta, t, _classes, opt_state = w
        est = clone(self._estimators[m])
        rows = np.asarray(self._rows[m])
        est._validate_params()
        _, Yv = est._validate_input(self._X[rows], self._y[rows], False, reset=True)
        if Yv.ndim == 1:
            Yv = Yv.reshape(-1, 1)
        dtype = spec.dtype
        Y = est._targets(Yv, dtype)
        est.n_outputs_ = Y.shape[1]
        est._random_state = np.random.RandomState(0)  # draws replaced by the trained weights
        est._initialize(Y, list(spec.units), dtype)
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
        est.history_ = {"loss": list(self.loss_curve_[m])}
        return est


def _optimizer_of(est: Any, state: dict[str, Any], order: np.ndarray, dtype) -> Any:
    """The single fit's optimizer after training, from a member's stacked state (the
    stack keeps parameters in scikit-learn's order; the network in its own)."""
    from mlplab.optimizers import SGD, Adam

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
            results = [_fit_stack(*args) for _, args in jobs]
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=n_jobs)(delayed(_fit_stack)(*args) for _, args in jobs)
        for (members, args), res in zip(jobs, results, strict=True):
            _store_stack(fits, members, args[0], res, member_classes)
        _warn_unconverged(fits, estimators)
    for m in singles:
        _fit_single(fits, m, Xa, ya)
    return fits


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
) -> tuple[dict[Any, list[int]], dict[Any, _Spec], dict[int, np.ndarray], list[int]]:
    """The stacks (members by key), each stack's spec, the classifiers' classes (those
    of their own rows) and the members fitted one by one (not batchable, or a
    classifier whose rows hold fewer than two classes)."""
    from sklearn.base import is_classifier

    groups: dict[Any, list[int]] = defaultdict(list)
    singles: list[int] = []
    specs: dict[Any, _Spec] = {}
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
) -> tuple[tuple, _Spec]:
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
    return key, _Spec(classifier, units, p["activation"], out, p["solver"], p, dtype)


def _stack_jobs(
    groups: dict[Any, list[int]],
    specs: dict[Any, _Spec],
    member_classes: dict[int, np.ndarray],
    estimators: list[Any],
    Xa: np.ndarray,
    ya: np.ndarray,
    train_rows: list[Any],
    n_jobs: int | None,
) -> list[tuple[list[int], tuple]]:
    """(members, ``_fit_stack`` arguments) for every stack, a stack cut into chunks
    when there are too few stacks to keep the n_jobs workers busy."""
    jobs = []
    for key, members in groups.items():
        spec = specs[key]
        rows = np.stack([np.asarray(train_rows[m]) for m in members])
        Xs = Xa[rows]  # (M, n, d)
        classes = member_classes.get(members[0])
        Ys = np.stack([_targets(spec.classifier, ya[r], classes) for r in rows])
        seeds = [estimators[m].random_state for m in members]
        alpha = [estimators[m].alpha for m in members]
        lr = [estimators[m].learning_rate_init for m in members]
        for chunk in _chunks(len(members), n_jobs, len(groups)):
            jobs.append(([members[i] for i in chunk], (spec, Xs[chunk], Ys[chunk],
                         [seeds[i] for i in chunk], [alpha[i] for i in chunk],
                         [lr[i] for i in chunk])))  # fmt: skip
    return jobs


def _store_stack(
    fits: MemberFits,
    members: list[int],
    spec: _Spec,
    res: _StackResult,
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
    return Ensemble(fit_members(ests, X, y, train_rows, n_jobs=n_jobs))
