"""One stack: M members of one layer structure trained together on the member axis.

Its layers are :class:`mlplab.layers.Dense` on (M, ...) arrays, its loss and L2
the estimators' (:mod:`mlplab.sklearn.losses`), its sgd/adam the one training step
(:class:`mlplab.training.step.Trainer`) with scikit-learn's rules per member
(:mod:`mlplab.sklearn.rules`), its lbfgs the one L-BFGS driver
(:mod:`mlplab.training.lbfgs`). What is batched-specific lives here: the stack's
parameter layout (scikit-learn's: every W, then every b), per-member rows and
initialisation streams, and dropping the members that stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.activations import get_activation
from mlplab.layers.dense import Dense
from mlplab.optimizers import SGD, Adam
from mlplab.sklearn.fused import HIDDEN, FusedStack
from mlplab.sklearn.losses import BinaryLogLoss, LogLoss, SquaredError, sklearn_l2
from mlplab.sklearn.rules import batch_size_of, count_no_improvement, invscaling_rate
from mlplab.training.lbfgs import minimize_lbfgs, minimize_lbfgs_vectorised
from mlplab.training.step import Trainer, run_epoch, sklearn_batches

__all__ = ["Spec", "Stack", "StackResult", "fit_stack", "layout"]

#: exact mode: members per evaluation chunk so that one (members, samples, units) work
#: array holds about this many values (512 KiB in float64: the passes stay in the cache)
_CHUNK_ELEMENTS = 1 << 16


# ----------------------------------------------------------------- one stack
@dataclass
class Spec:
    """What one stack shares."""

    classifier: bool
    units: tuple[int, ...]  # layer sizes: inputs, hidden..., outputs
    activation: str
    out: str  # "identity", "logistic" or "softmax"
    solver: str
    params: dict[str, Any]
    dtype: np.dtype


@dataclass
class StackResult:
    theta: np.ndarray  # (M, P) float64, scikit-learn's order: every W, then every b
    n_iter: np.ndarray
    loss: np.ndarray
    loss_curves: list[list[float]]
    t: np.ndarray
    fit_time: float
    extra: dict[str, Any] = field(default_factory=dict)


def layout(units: tuple[int, ...]) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
    """Offsets of every W then every b in a member's flat vector."""
    w, b, start = [], [], 0
    for fi, fo in zip(units[:-1], units[1:], strict=True):
        w.append((start, start + fi * fo))
        start += fi * fo
    for fo in units[1:]:
        b.append((start, start + fo))
        start += fo
    return w, b, start


class Stack:
    """M members of one structure: Dense layers on the member axis, scikit-learn's loss."""

    def __init__(self, spec: Spec, X: np.ndarray, Y: np.ndarray, alpha: np.ndarray):
        self.spec = spec
        self.X, self.Y = X, Y  # (M, n, d), (M, n, k): each member's own rows
        self.alpha = alpha  # (M,)
        self.wsl, self.bsl, self.P = layout(spec.units)
        u = spec.units
        act = get_activation(spec.activation, exact=spec.params.get("exact", True))
        self.layers = [Dense(fo, act) for fo in u[1:-1]]
        self.layers.append(Dense(u[-1], "identity"))  # the output link is the loss's
        self.exact = spec.params.get("exact", True)
        self.loss = {"identity": SquaredError, "logistic": BinaryLogLoss, "softmax": LogLoss}[
            spec.out
        ]()
        #: exact=False: the chunked, fused kernel (mlplab.sklearn.fused) instead of the layers
        self.fused = None
        if not self.exact and spec.activation in HIDDEN:
            self.fused = FusedStack(u, spec.activation, self.loss, (self.wsl, self.bsl))
        # one input: the first layer's z = [x 1] [W; b] in one product (Dense.forward_members_
        # with_ones), from the members' rows with a column of ones, made once
        self.X1 = None
        if self.exact and X is not None and X.shape[2] == 1:
            self.X1 = np.concatenate([X, np.ones_like(X)], axis=2)

    def select(self, keep: np.ndarray) -> None:
        """Keep only the members ``keep`` (their rows, targets and L2)."""
        self.X, self.Y, self.alpha = self.X[keep], self.Y[keep], self.alpha[keep]
        if self.X1 is not None:
            self.X1 = self.X1[keep]

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

    def forward(self, theta: np.ndarray, X: np.ndarray, X1: np.ndarray | None = None) -> np.ndarray:
        """The output layer's z (before the output link) for X (M, n, d); a work array.
        X1: X with a column of ones (one input), for the first layer's one product."""
        if self.fused is not None:
            return self.fused.forward(theta, X)
        self.bind(theta, None)
        last = len(self.layers) - 1
        if X1 is None:
            a = X
        else:
            a = self.layers[0].forward_members_with_ones(X, X1, logits=last == 0)
            if last == 0:
                return a
        for layer in self.layers[1 if X1 is not None else 0 : -1]:
            a = layer.forward(a)
        return self.layers[-1].forward_logits(a)

    def output(self, z: np.ndarray) -> np.ndarray:
        """The output link applied to the last layer's z (what predict_proba gives)."""
        return get_activation(self.spec.out).forward(z)

    def loss_and_grad(self, theta, X, Y, need_grad=True, members=None, *, alpha=None):
        """Per-member loss (M,) and gradient (M, P), as scikit-learn's MLP computes them;
        ``members`` (M,): the rows of X and Y that theta's rows are (default: all);
        ``alpha``: theta's rows' L2 (default the stack's)."""
        alpha = self.alpha if alpha is None else alpha
        if self.fused is not None:
            return self.fused.loss_and_grad(theta, X, Y, alpha, need_grad, members)
        if members is not None:
            X, Y = X[members], Y[members]
        n = X.shape[1]
        if not need_grad:
            value = self.loss.value_and_gradient(self.forward(theta, X), Y)[0]
            weights = [layer.W for layer in self.layers]
            return sklearn_l2(value, weights, (), None, alpha, n), None
        grad = np.empty((X.shape[0], self.P), dtype=theta.dtype)
        value = self._data_loss_and_grad(theta, X, Y, grad)
        return self._l2(theta, grad, value, alpha, n)

    def _data_loss_and_grad(self, theta, X, Y, grad, X1=None) -> np.ndarray:
        """The loss before the L2 term (M,), its gradient written into ``grad`` (M, P)."""
        z = self.forward(theta, X, X1)
        value, delta = self.loss.value_and_gradient(z, Y)
        self.bind(theta, grad)
        d = self.layers[-1].backward_from_z(delta, len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            d = self.layers[i].backward(d, i > 0)
        return value

    def _l2(self, theta, grad, value, alpha, n):
        """scikit-learn's L2 term and scaling on the data loss and its gradient."""
        self.bind(theta, grad)
        weights = [layer.W for layer in self.layers]
        w_grads = [layer.dW for layer in self.layers]
        return sklearn_l2(value, weights, w_grads, grad, alpha, n), grad

    def rows_loss_and_grad(self, theta: np.ndarray, rows: np.ndarray):
        """loss_and_grad of the members ``rows`` (sorted indices into the stack's X, Y and
        alpha) at their points theta (len(rows), P).

        Exact mode takes the members a few at a time, so that each pass over the work
        arrays stays in the core's cache (a stack's (M, n, units) arrays do not fit): a
        member's arithmetic does not depend on the others, so the bits are the same."""
        if not self.exact:  # the fused kernel chunks its own way, reading the rows in place
            every = len(rows) == len(self.X)
            return self.loss_and_grad(
                theta, self.X, self.Y, members=None if every else rows, alpha=self.alpha[rows]
            )
        M, n = len(rows), self.X.shape[1]
        every = M == len(self.X)  # sorted and unique: rows == arange(M), slices are views
        size = max(1, _CHUNK_ELEMENTS // (n * max(self.spec.units)))
        size = -(-M // -(-M // size))  # equal chunks
        grad = np.empty((M, self.P), dtype=theta.dtype)
        values = []
        for s in range(0, M, size):
            r = slice(s, s + size) if every else rows[s : s + size]
            X1 = None if self.X1 is None else self.X1[r]
            chunk = theta[s : s + size], self.X[r], self.Y[r], grad[s : s + size], X1
            values.append(self._data_loss_and_grad(*chunk))
        return self._l2(theta, grad, np.concatenate(values), self.alpha[rows], n)


def _init_theta(spec: Spec, rstates: list[np.random.RandomState]) -> np.ndarray:
    """scikit-learn's initialisation per member, from each member's own stream."""
    wsl, bsl, P = layout(spec.units)
    theta = np.empty((len(rstates), P))
    factor = 2.0 if spec.activation == "logistic" else 6.0
    u = spec.units
    for m, rs in enumerate(rstates):
        for i, (fi, fo) in enumerate(zip(u[:-1], u[1:], strict=True)):
            bound = np.sqrt(factor / (fi + fo))
            theta[m, wsl[i][0] : wsl[i][1]] = rs.uniform(-bound, bound, (fi, fo)).ravel()
            theta[m, bsl[i][0] : bsl[i][1]] = rs.uniform(-bound, bound, fo)
    return theta


def fit_stack(
    spec: Spec, X: np.ndarray, Y: np.ndarray, seeds: list, alpha, lr, observe=None
) -> StackResult:
    """Train one stack; X (M, n, d), Y (M, n, k) are the members' own rows. ``observe``
    (lbfgs, a stack of one): ``observe(z, grad)`` after every iteration, with the output
    layer's z (n, k) and the gradient (P,) (scikit-learn's order) at the accepted weights."""
    t0 = time.perf_counter()
    from sklearn.utils import check_random_state

    rstates = [check_random_state(s) for s in seeds]
    theta = _init_theta(spec, rstates).astype(spec.dtype)
    X = X.astype(spec.dtype, copy=False)
    Y = Y.astype(spec.dtype, copy=False)
    stack = Stack(spec, X, Y, np.asarray(alpha, dtype=float))
    from mlplab._blas import one_blas_thread

    # small products: threads do not help them, and on a busy machine they can make
    # them orders of magnitude slower (the estimators make the same choice)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), one_blas_thread():
        if spec.solver == "lbfgs":
            res = _lbfgs(stack, theta.astype(np.float64), observe)
        else:
            res = _stochastic(stack, theta, rstates, np.asarray(lr, dtype=float))
    res.fit_time = time.perf_counter() - t0
    return res


# ----------------------------------------------------------------- sgd / adam
def _stochastic(stack: Stack, theta, rstates, lr0) -> StackResult:
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
    rows = _Rows(stack)
    for _epoch in range(max_iter):
        if p["shuffle"]:
            _shuffle_rows(sample_idx, rstates, run.active)
        batches = (
            (count, rows.take(idx)) for idx, count in sklearn_batches(sample_idx, bs, True)
        )
        epoch_loss = run_epoch(trainer, batches, on_step).total / n
        active = run.active
        run.n_iter[active] += 1
        run.t_samples[active] += n
        run.loss[active] = epoch_loss
        run.record(epoch_loss)
        run.count[active], run.best[active] = count_no_improvement(
            run.count[active], run.best[active], epoch_loss, tol
        )
        if invscaling:
            opt.learning_rate = invscaling_rate(lr0[active], run.t_samples[active], p["power_t"])
        run.converged[active] = run.count[active] > n_no_change
        _check_ends(run, stack, trainer, run.converged[active])
        done = run.converged[active] | run.failed[active]
        if done.any():
            run.save(trainer, done, keep_theta=~run.failed[active])
            keep = ~done
            trainer.select(keep)
            stack.select(keep)
            sample_idx = sample_idx[keep]
            rows = _Rows(stack)
            run.active = active[keep]
            if not len(run.active):
                break
    if len(run.active):
        last = np.ones(len(run.active), dtype=bool)
        _check_ends(run, stack, trainer, last)
        run.save(trainer, last, keep_theta=~run.failed[run.active])
    return run.result(-(-n // bs))


def _shuffle_rows(sample_idx: np.ndarray, rstates: list, active: np.ndarray) -> None:
    """Each member's order (row j of ``sample_idx``, member ``active[j]``) shuffled in
    place by its own RandomState: ``rs.shuffle`` makes the same swaps whatever the array
    holds, so this equals ``sklearn_shuffle`` (which permutes an ``arange`` and indexes
    with it) to the bit, without the index array and the copy."""
    for j, m in enumerate(active):
        rstates[m].shuffle(sample_idx[j])


class _Rows:
    """The batch rows of every member: ``take(idx)`` is ``(X[r, idx], Y[r, idx])`` with
    r the stack's rows, gathered as flat ``np.take``s (advanced indexing over two axes
    costs several times more); the same values and layout."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        X, Y = stack.X, stack.Y
        self.flat = X.flags.c_contiguous and Y.flags.c_contiguous
        if self.flat:  # F-ordered members (a DataFrame's X) keep advanced indexing
            M, n = X.shape[:2]
            self.Xf, self.Yf = X.reshape(M * n, X.shape[2]), Y.reshape(M * n, Y.shape[2])
            self.base = np.arange(0, M * n, n)[:, None]
        else:
            self.rows = np.arange(len(X))[:, None]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.flat:
            return self.stack.X[self.rows, idx], self.stack.Y[self.rows, idx]
        flat = idx + self.base
        return self.Xf.take(flat, axis=0), self.Yf.take(flat, axis=0)


def _check_ends(run: _Run, stack: Stack, trainer: Trainer, ending: np.ndarray) -> None:
    """The members ``ending`` (stack rows) stop here: as the estimator's end-of-fit check,
    one whose loss on its training rows at its final weights is not finite (its predictions
    would be inf or NaN) fails, with the weights from before its last update."""
    rows = ending & ~run.failed[run.active]
    if not rows.any():
        return
    theta = trainer.theta[rows]
    value = stack.loss.value_and_gradient(stack.forward(theta, stack.X[rows]), stack.Y[rows])[0]
    bad = ~(np.isfinite(value) & np.isfinite(theta).all(axis=1))
    if bad.any():
        where = np.flatnonzero(rows)[bad]
        run.failed[run.active[where]] = True
        run.out_theta[run.active[where]] = trainer.backup[where]


def _optimizer(spec: Spec, lr0: np.ndarray) -> SGD | Adam:
    """The estimators' optimizer for the stack, one learning rate per member."""
    p = spec.params
    if spec.solver == "adam":
        return Adam(lr0.copy(), p["beta_1"], p["beta_2"], p["epsilon"])
    nesterov = bool(p["nesterovs_momentum"]) and p["momentum"] > 0
    return SGD(lr0.copy(), momentum=p["momentum"], nesterov=nesterov)


class _Run:
    """What a stochastic stack records per member (rows: all M members; ``active``
    maps the stack's current rows to them)."""

    def __init__(self, M: int, theta: np.ndarray, stack: Stack) -> None:
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
        self.epochs: list[tuple[np.ndarray, np.ndarray]] = []  # (active, loss) per epoch
        self.t_samples = np.zeros(M, dtype=np.int64)
        self.failed = np.zeros(M, dtype=bool)  # non-finite loss or gradient: the estimator raises
        self.converged = np.zeros(M, dtype=bool)

    def record(self, epoch_loss: np.ndarray) -> None:
        """The epoch's loss of every active member (their loss curves, built at the end)."""
        self.epochs.append((self.active, epoch_loss))

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

    def curves(self) -> list[list[float]]:
        """Every member's loss curve (Python floats, epoch by epoch)."""
        curves: list[list[float]] = [[] for _ in range(len(self.n_iter))]
        for active, loss in self.epochs:
            for m, value in zip(active.tolist(), loss.tolist(), strict=True):
                curves[m].append(value)
        return curves

    def result(self, n_batches: int) -> StackResult:
        optimizer = {
            "m1": self.out_m1, "v1": self.out_v1, "lr": self.out_lr,
            "steps": self.n_iter * n_batches, "count": self.count, "best": self.best,
        }  # fmt: skip
        return StackResult(
            self.out_theta.astype(np.float64), self.n_iter, self.loss, self.curves(),
            self.t_samples, 0.0,
            {"failed": self.failed, "converged": self.converged, "optimizer": optimizer},
        )  # fmt: skip


# ----------------------------------------------------------------- L-BFGS
def _lbfgs(stack: Stack, theta: np.ndarray, observe=None) -> StackResult:
    """scipy's L-BFGS-B per member (mlplab.training.lbfgs), the members' evaluations
    computed together; ``observe``: see ``fit_stack``."""
    p, dtype = stack.spec.params, stack.spec.dtype
    M = theta.shape[0]
    if observe is not None and M != 1:
        raise ValueError(f"observe needs a stack of one; this stack has {M} members.")
    curves: list[list[float]] = [[] for _ in range(M)]
    last: list[np.ndarray] = []  # observe: the last point evaluated and its gradient

    def fun(xs: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = stack.rows_loss_and_grad(xs.astype(dtype, copy=False), members)
        if observe is not None:
            last[:] = [xs[0].copy(), grad[0]]
        return value, grad

    def record(members: np.ndarray, xs: np.ndarray, fs: np.ndarray) -> None:
        for m, f in zip(members, fs, strict=True):
            curves[m].append(float(f))
        if observe is not None:
            if not np.array_equal(last[0], xs[0]):  # not the last point evaluated
                fun(xs, members)  # its z and gradient
            z = stack.forward(xs.astype(dtype, copy=False), stack.X)  # the fused kernel keeps no z
            observe(z[0], last[1])

    # exact=False: every member's L-BFGS bookkeeping in array operations, not scipy's per member
    minimize = minimize_lbfgs if p.get("exact", True) else minimize_lbfgs_vectorised
    res = minimize(
        fun, theta, maxiter=p["max_iter"], maxfun=p["max_fun"], gtol=p["tol"], callback=record
    )
    n_iter = np.minimum(res.nit, p["max_iter"])
    # the estimator raises on non-finite weights, or a non-finite loss at them
    failed = ~np.isfinite(res.x).all(axis=1) | ~np.isfinite(res.fun)
    return StackResult(
        res.x, n_iter, res.fun, curves, np.zeros(M, np.int64), 0.0,
        {"failed": failed, "converged": res.status == 0},  # scipy's warnflag 0
    )  # fmt: skip
