"""One L-BFGS-B driver, for one network or a stack of same-shaped networks.

scipy's L-BFGS-B (the solver behind ``scipy.optimize.minimize(method="L-BFGS-B")``)
is a reverse-communication routine, ``scipy.optimize._lbfgsb.setulb``: every call
returns with a task code, "evaluate f and g at x" (FG), "x is a new iterate"
(NEW_X) or a final one. :func:`minimize_lbfgs` keeps one such state per member and
computes the evaluations the members ask for together, in one call of ``fun``: M
networks train as one stacked computation, yet each member takes exactly the steps
``scipy.optimize.minimize`` takes for it alone. Per member this is
``scipy.optimize._lbfgsb_py._minimize_lbfgsb`` (scipy >= 1.15) step for step:

- x0 becomes float64 and is evaluated once before the first ``setulb`` call
  (scipy's ``ScalarFunction`` does so when it is built: nfev starts at 1);
- a point equal (``np.array_equal``) to the last one evaluated is not evaluated
  again nor counted (``ScalarFunction``'s memo);
- each NEW_X counts an iteration and runs the callback; then ``nit >= maxiter``
  stops (task 504), else ``nfev > maxfun`` stops (502): the limits are looked at
  only between iterations, so nfev may pass maxfun;
- the result's ``fun`` is the last value handed to ``setulb`` (scipy passes f by
  value: a line search that gives up restores x and g, not f);
- status 0 on CONVERGENCE, 1 when a limit was reached, else 2 (an abnormal line
  search); the message is scipy's ``"<STATUS>: <TASK>"``; but a member its callback
  stopped gets ``minimize``'s status 99, "`callback` raised `StopIteration`.".

``setulb`` is private and its signature changed in scipy 1.15. :func:`native_available`
checks it once, by solving a small problem both ways; when the answers differ (or the
call fails) every member runs through the public ``scipy.optimize.minimize`` instead,
one member at a time: the same results, unbatched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize

__all__ = [
    "FTOL",
    "RESULT_FIELDS",
    "minimize_lbfgs",
    "minimize_lbfgs_vectorised",
    "native_available",
]

#: scipy's default ``ftol`` for L-BFGS-B (``factr = ftol / eps``, about 1e7).
FTOL = 2.2204460492503131e-09

# setulb's task codes (task[0]) and the details (task[1]) the driver sets itself
_NEW_X, _FG, _CONVERGENCE, _STOP = 1, 3, 4, 5
_MAXFUN, _MAXITER, _HALT = 502, 504, 505
#: what a member's result holds (scipy's OptimizeResult for L-BFGS-B, less hess_inv)
RESULT_FIELDS = ("x", "fun", "jac", "nit", "nfev", "njev", "status", "success", "message")

Fun = Callable[[np.ndarray, np.ndarray], tuple[Any, Any]]
IterationCallback = Callable[[np.ndarray, np.ndarray, np.ndarray], Any]


def minimize_lbfgs(
    fun: Fun,
    x0: Any,
    *,
    maxiter: int = 15000,
    maxfun: int = 15000,
    gtol: float = 1e-5,
    ftol: float = FTOL,
    maxcor: int = 10,
    maxls: int = 20,
    callback: IterationCallback | None = None,
) -> scipy.optimize.OptimizeResult:
    """L-BFGS-B on one parameter vector, or on M of them at once, each on its own.

    Parameters
    ----------
    fun : callable ``fun(X, members) -> (values, grads)``
        ``X`` (m, P) float64: the points of the members ``members`` (m,) (indices
        into x0's rows) that want an evaluation, fresh arrays ``fun`` may keep;
        returns their losses (m,) and gradients (m, P), computed together.
    x0 : array (P,) for one problem, (M, P) for a stack (converted to float64).
    maxiter, maxfun, gtol, ftol, maxcor, maxls
        As ``scipy.optimize.minimize(method="L-BFGS-B")``'s options, per member.
    callback : callable ``callback(members, X, F)``, optional
        Runs once per accepted iteration of the members ``members`` (k,), with
        copies of their iterates ``X`` (k, P) and losses ``F`` (k,). It stops
        members by returning True (all k), a boolean array (k,), or by raising
        StopIteration (all k): as a callback raising StopIteration in scipy
        (status 99, even when the iteration limit is reached at the same time).

    Returns
    -------
    scipy.optimize.OptimizeResult
        x, fun, jac, nit, nfev, njev, status, success, message as
        ``scipy.optimize.minimize`` gives them; for a stack, arrays with one entry
        per member (x and jac (M, P), message a list).
    """
    x0 = np.asarray(x0)
    if x0.ndim not in (1, 2):
        raise ValueError(f"x0 must be (P,) or (M, P); received shape {x0.shape}.")
    if not maxls > 0:
        raise ValueError("maxls must be positive.")
    X0 = np.array(np.atleast_2d(x0), dtype=np.float64)
    opts = {"maxiter": maxiter, "maxfun": maxfun, "gtol": gtol, "ftol": ftol}
    opts.update(maxcor=maxcor, maxls=maxls)
    if native_available():
        results = _run_native(fun, X0, callback, opts)
    else:
        results = _one_by_one(fun, X0, callback, opts)
    if x0.ndim == 1:
        return results[0]
    stacked = {k: np.array([r[k] for r in results]) for k in RESULT_FIELDS if k != "message"}
    return scipy.optimize.OptimizeResult(**stacked, message=[r.message for r in results])


@functools.cache
def native_available() -> bool:
    """Whether scipy's private reverse-communication L-BFGS-B works as this module
    drives it (scipy >= 1.15): checked once, on Rosenbrock's function solved here and
    by ``scipy.optimize.minimize``, which must agree to the bit and be right (a changed
    ``setulb`` would also change what ``minimize`` answers)."""
    x0 = np.array([-1.2, 1.0, 0.8])
    opts = {"maxiter": 15000, "maxfun": 15000, "gtol": 1e-5, "ftol": FTOL}  # scipy's defaults
    opts.update(maxcor=10, maxls=20)

    def rosen(x):
        return scipy.optimize.rosen(x), scipy.optimize.rosen_der(x)

    try:
        mine = _run_native(lambda X, _: rosen(X[0]), x0[None], None, opts)[0]
        ref = scipy.optimize.minimize(rosen, x0, jac=True, method="L-BFGS-B")
    except Exception:  # a signature or module scipy no longer has
        return False
    return bool(
        mine.status == 0
        and np.allclose(mine.x, 1.0, atol=1e-4)  # Rosenbrock's minimum
        and np.array_equal(mine.x, ref.x)
        and (mine.fun, mine.nit, mine.nfev, mine.message)
        == (ref.fun, ref.nit, ref.nfev, ref.message)
    )


class _Member:
    """One member's L-BFGS-B state: the arrays ``setulb`` works in, scipy's counters
    and its memo of the last point evaluated."""

    def __init__(self, x0: np.ndarray, maxcor: int) -> None:
        n, m = x0.size, maxcor
        self.x, self.f, self.g = x0.copy(), 0.0, np.zeros(n)
        self.wa = np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m)
        self.iwa = np.zeros(3 * n, np.int32)
        self.task, self.ln_task = np.zeros(2, np.int32), np.zeros(2, np.int32)
        self.lsave, self.isave = np.zeros(4, np.int32), np.zeros(44, np.int32)
        self.dsave = np.zeros(29)
        self.nit = self.nfev = 0
        self.halted = False  # the callback stopped it
        self.seen: tuple[np.ndarray | None, float, np.ndarray | None] = (None, 0.0, None)

    def advance(self, setulb: Callable[..., Any], opts: dict[str, Any]) -> int:
        """Call ``setulb`` until it wants a point evaluated that was not the last one
        (FG), accepts an iterate (NEW_X) or stops; returns that task code."""
        bounds, nbd = _unbounded(self.x.size)
        while True:
            setulb(
                opts["maxcor"], self.x, bounds, bounds, nbd,
                self.f, self.g, opts["factr"], opts["gtol"], self.wa, self.iwa, self.task,
                self.lsave, self.isave, self.dsave, opts["maxls"], self.ln_task,
            )  # fmt: skip
            code = int(self.task[0])
            if code != _FG or not self._at_last_point():
                return code
            self.take()  # the memo: not evaluated again, not counted

    def _at_last_point(self) -> bool:
        """np.array_equal(x, the last point evaluated), without its checks."""
        last = self.seen[0]
        return last is not None and bool(np.equal(self.x, last).all())

    def evaluated(self, f: float, g: np.ndarray) -> None:
        self.seen = (self.x.copy(), f, g)
        self.nfev += 1

    def take(self) -> None:
        """Hand the last evaluation to ``setulb`` (a copy: it may restore g in place)."""
        self.f, self.g = self.seen[1], self.seen[2].copy()

    def result(self, opts: dict[str, Any]) -> scipy.optimize.OptimizeResult:
        """``_minimize_lbfgsb``'s warnflag, message and result."""
        from scipy.optimize import _lbfgsb_py

        code, detail = int(self.task[0]), int(self.task[1])
        if code == _CONVERGENCE:
            status = 0
        elif self.nfev > opts["maxfun"] or self.nit >= opts["maxiter"]:
            status = 1
        else:
            status = 2
        message = _lbfgsb_py.status_messages[code] + ": " + _lbfgsb_py.task_messages[detail]
        if self.halted:  # scipy.optimize.minimize's verdict on a StopIteration
            status, message = 99, "`callback` raised `StopIteration`."
        return scipy.optimize.OptimizeResult(
            x=self.x, fun=self.f, jac=self.g, nit=self.nit, nfev=self.nfev, njev=self.nfev,
            status=status, success=status == 0, message=message,
        )  # fmt: skip


def _run_native(
    fun: Fun, X0: np.ndarray, callback: IterationCallback | None, opts: dict[str, Any]
) -> list[scipy.optimize.OptimizeResult]:
    """Every member's own ``setulb`` loop, their evaluations computed together.

    Rounds: each member waiting on ``setulb`` is advanced until it wants an
    evaluation or stops; members that accepted an iterate meanwhile go through
    the callback and the limits, then back to ``setulb``; the evaluations wanted
    are computed in one call of ``fun``.
    """
    from scipy.optimize._lbfgsb import setulb

    opts = {**opts, "factr": opts["ftol"] / np.finfo(float).eps}  # as scipy computes it
    members = [_Member(x, opts["maxcor"]) for x in X0]
    _evaluate(fun, members, list(range(len(members))))  # x0, as ScalarFunction does
    ready = list(range(len(members)))
    while ready:
        want = []
        while ready:
            accepted = []
            for i in ready:
                code = members[i].advance(setulb, opts)
                if code == _FG:
                    want.append(i)
                elif code == _NEW_X:
                    accepted.append(i)
            _accept(members, accepted, callback, opts)
            ready = accepted  # back to setulb: it searches from the new iterate
        want.sort()
        _evaluate(fun, members, want)
        for i in want:
            members[i].take()
        ready = want
    return [m.result(opts) for m in members]


@functools.cache
def _unbounded(n: int) -> tuple[np.ndarray, np.ndarray]:
    """setulb's bounds l = u and their kinds nbd for n unbounded variables (all 0: l and u
    are not read; setulb writes none of them, so one pair serves every member)."""
    return np.zeros(n), np.zeros(n, np.int32)


def _evaluate(fun: Fun, members: list[_Member], idx: list[int]) -> None:
    if not idx:
        return
    values, grads = _eval(fun, np.stack([members[i].x for i in idx]), np.asarray(idx))
    for j, i in enumerate(idx):
        members[i].evaluated(float(values[j]), grads[j])


def _accept(
    members: list[_Member],
    idx: list[int],
    callback: IterationCallback | None,
    opts: dict[str, Any],
) -> None:
    """scipy's NEW_X branch: count the iteration, run the callback, apply the limits."""
    if not idx:
        return
    for i in idx:
        members[i].nit += 1
    stop = np.zeros(len(idx), dtype=bool)
    if callback is not None:
        X = np.stack([members[i].x for i in idx])
        F = np.array([members[i].f for i in idx])
        stop = _asks_to_stop(callback, np.asarray(idx), X, F)
    for j, i in enumerate(idx):
        m = members[i]
        if stop[j]:
            m.task[:] = _STOP, _HALT
            m.halted = True
        if m.nit >= opts["maxiter"]:
            m.task[:] = _STOP, _MAXITER
        elif m.nfev > opts["maxfun"]:
            m.task[:] = _STOP, _MAXFUN


def _asks_to_stop(
    callback: IterationCallback, idx: np.ndarray, X: np.ndarray, F: np.ndarray
) -> np.ndarray:
    """The callback's answer as one flag per member (StopIteration: all of them)."""
    try:
        answer = callback(idx, X, F)
    except StopIteration:
        answer = True
    if answer is None:
        answer = False
    return np.broadcast_to(np.asarray(answer, dtype=bool), idx.shape)


def _one_by_one(
    fun: Fun, X0: np.ndarray, callback: IterationCallback | None, opts: dict[str, Any]
) -> list[scipy.optimize.OptimizeResult]:
    """Without a usable ``setulb``: the public ``scipy.optimize.minimize``, per member."""
    return [_alone(fun, x0, i, callback, opts) for i, x0 in enumerate(X0)]


def _alone(
    fun: Fun, x0: np.ndarray, i: int, callback: IterationCallback | None, opts: dict[str, Any]
) -> scipy.optimize.OptimizeResult:
    idx = np.array([i])

    def one(x: np.ndarray) -> tuple[float, np.ndarray]:
        values, grads = fun(x[None], idx)
        return float(np.asarray(values).reshape(1)[0]), np.array(grads, np.float64).ravel()

    def halt(intermediate_result: Any) -> None:  # this name: scipy passes the result
        X, F = intermediate_result.x[None].copy(), np.array([intermediate_result.fun])
        if _asks_to_stop(callback, idx, X, F)[0]:  # type: ignore[arg-type]
            raise StopIteration

    res = scipy.optimize.minimize(
        one, x0, jac=True, method="L-BFGS-B", callback=None if callback is None else halt,
        options=opts,
    )  # fmt: skip
    return scipy.optimize.OptimizeResult({k: res[k] for k in RESULT_FIELDS})


# ----------------------------------------------------------------- vectorised (exact=False)
#: the line search's sufficient-decrease and curvature constants (scipy's dcsrch: ftol
#: 1e-3, gtol 0.9), its largest step and its growth factor when a step is too short
_C1, _C2, _STPMAX, _EXTRAPOLATE = 1e-3, 0.9, 1e10, 4.0


def minimize_lbfgs_vectorised(
    fun: Fun,
    x0: Any,
    *,
    maxiter: int = 15000,
    maxfun: int = 15000,
    gtol: float = 1e-5,
    ftol: float = FTOL,
    maxcor: int = 10,
    maxls: int = 20,
    callback: IterationCallback | None = None,
) -> scipy.optimize.OptimizeResult:
    """L-BFGS for a stack of M problems, every member's bookkeeping in array operations.

    The estimators' ``exact=False``: scipy's L-BFGS-B algorithm and stopping rules on
    unbounded problems, per member, without a Python loop over members: per-member
    histories (M, maxcor, P) and a vectorised two-loop recursion (initial matrix
    s·y / y·y, a pair kept only when s·y > eps (-g·s), as L-BFGS-B), a per-member strong
    Wolfe line search (sufficient decrease 1e-3, curvature 0.9, first step 1/|d| then 1,
    at most ``maxls`` evaluations; a search that fails drops the member's history and
    retries along -g, and fails the member when it has none), and scipy's stopping rules:
    ``nit >= maxiter`` or ``nfev > maxfun`` (status 1, checked first, between
    iterations), max|g| <= gtol or (f_old - f) <= ftol max(|f_old|, |f|, 1) (status 0).
    Each round evaluates every running member once, in one call of ``fun``. Results equal
    :func:`minimize_lbfgs`'s to float tolerance on well-conditioned problems, not to the
    bit (the line search is not scipy's Moré–Thuente step for step).
    ``fun``, ``x0``, ``callback`` and the result as :func:`minimize_lbfgs`'s (x0 (P,) or
    (M, P); the result's ``jac`` is the last gradient, ``message`` one string per member).
    """
    # a member whose loss or gradient is not finite fails its line search and stops with
    # its last finite iterate (the caller sees the failure): no floating-point warning
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        res = _vectorised(fun, x0, maxiter, maxfun, gtol, ftol, maxcor, maxls, callback)
    if np.ndim(x0) == 1:  # one problem: one member's result, as minimize_lbfgs gives it
        return scipy.optimize.OptimizeResult({k: res[k][0] for k in RESULT_FIELDS})
    return res


def _vectorised(fun, x0, maxiter, maxfun, gtol, ftol, maxcor, maxls, callback):
    X0 = np.array(np.atleast_2d(x0), dtype=np.float64)
    st = _VecState(X0, maxcor)
    F, G = _eval(fun, X0.copy(), np.arange(len(X0)))
    st.f, st.g, st.nfev[:] = F, G, 1
    st.stop(np.abs(G).max(axis=1) <= gtol, 0, "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL")
    st.new_direction(np.flatnonzero(st.running), first=True)
    while st.running.any():
        idx = np.flatnonzero(st.running)
        F, G = _eval(fun, st.xt[idx], idx)
        st.nfev[idx] += 1
        gd = np.einsum("ij,ij->i", G, st.d[idx])
        fine = np.isfinite(F) & np.isfinite(G).all(axis=1)
        armijo = fine & (F <= st.f[idx] + _C1 * st.stp[idx] * st.gd0[idx])
        accept = armijo & (np.abs(gd) <= _C2 * np.abs(st.gd0[idx]))
        st.next_step(idx[~accept], F[~accept], gd[~accept], armijo[~accept], maxls)
        acc = idx[accept]
        if len(acc):
            st.accept(acc, F[accept], G[accept], callback)
            st.stop(st.nit[acc] >= maxiter, 1, "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT", acc)
            st.stop(
                st.nfev[acc] > maxfun, 1, "STOP: TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT", acc
            )
            st.stop(np.abs(st.g[acc]).max(axis=1) <= gtol, 0,
                    "CONVERGENCE: NORM OF PROJECTED GRADIENT <= PGTOL", acc)  # fmt: skip
            fold, f = st.fold[acc], st.f[acc]
            small = fold - f <= ftol * np.maximum(np.maximum(np.abs(fold), np.abs(f)), 1.0)
            st.stop(small, 0, "CONVERGENCE: RELATIVE REDUCTION OF F <= FACTR*EPSMCH", acc)
            st.new_direction(acc[st.running[acc]], first=False)
    return st.result()


def _eval(fun: Fun, X: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fun`` at the members ``idx``, whose points are the rows of ``X`` (an array of the
    caller's own, which ``fun`` may keep): their losses (float64) and a copy of their
    gradients (``fun`` may reuse its own)."""
    values, grads = fun(X, idx)
    F = np.asarray(values, dtype=np.float64).reshape(len(idx))
    return F, np.array(grads, dtype=np.float64).reshape(X.shape)


def _cubic_min(a, fa, ga, b, fb, gb) -> np.ndarray:
    """The minimiser of the cubic with values fa, fb and slopes ga, gb at a and b (NaN
    where it has none, or a value is not finite)."""
    with np.errstate(all="ignore"):
        d1 = ga + gb - 3.0 * (fa - fb) / (a - b)
        d2 = np.sign(b - a) * np.sqrt(d1 * d1 - ga * gb)
        return b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2)


class _VecState:
    """Every member's iterate, history and line search, one row per member."""

    def __init__(self, X0: np.ndarray, maxcor: int) -> None:
        M, P = X0.shape
        self.x, self.xt, self.d = X0.copy(), X0.copy(), np.zeros((M, P))
        self.f, self.fold, self.g = np.zeros(M), np.zeros(M), np.zeros((M, P))
        self.S, self.Y = np.zeros((M, maxcor, P)), np.zeros((M, maxcor, P))
        self.rho, self.npairs = np.zeros((M, maxcor)), np.zeros(M, dtype=int)
        # the line search: step, f'(0) along d, the bracket [lo, hi] and lo's f and f'
        self.stp, self.gd0, self.nls = np.zeros(M), np.zeros(M), np.zeros(M, dtype=int)
        self.lo, self.flo, self.gdlo = np.zeros(M), np.zeros(M), np.zeros(M)
        self.hi = np.full(M, np.inf)
        self.nit, self.nfev = np.zeros(M, dtype=int), np.zeros(M, dtype=int)
        self.running = np.ones(M, dtype=bool)
        self.status = np.full(M, -1)
        self.message = [""] * M

    def stop(self, which: np.ndarray, status: int, message: str, rows=None) -> None:
        rows = np.arange(len(self.f)) if rows is None else rows
        for i in rows[which & self.running[rows]]:
            self.running[i], self.status[i], self.message[i] = False, status, message

    def new_direction(self, rows: np.ndarray, first: bool) -> None:
        """d = -H g by the two-loop recursion, for the members ``rows``; the first step."""
        if not len(rows):
            return
        every = len(rows) == len(self.f)  # rows is arange(M) here: views, not gathers
        S, Y, rho = self.S, self.Y, self.rho
        if not every:
            S, Y, rho = S[rows], Y[rows], rho[rows]
        q = self.g[rows]
        m = S.shape[1]
        a = np.zeros((len(rows), m))
        for i in range(m - 1, -1, -1):  # newest pair last
            a[:, i] = rho[:, i] * np.einsum("ij,ij->i", S[:, i], q)
            q -= a[:, i, None] * Y[:, i]
        sy, yy = (
            1.0 / np.where(rho[:, -1] > 0, rho[:, -1], 1.0),
            np.einsum("ij,ij->i", Y[:, -1], Y[:, -1]),
        )
        q *= np.where(rho[:, -1] > 0, sy / np.where(yy > 0, yy, 1.0), 1.0)[:, None]
        for i in range(m):
            b = rho[:, i] * np.einsum("ij,ij->i", Y[:, i], q)
            q += S[:, i] * (a[:, i] - b)[:, None]
        d = -q
        gd = np.einsum("ij,ij->i", d, self.g[rows])
        uphill = ~(gd < 0)  # not a descent direction: forget the history, steepest descent
        if uphill.any():
            self._forget(rows[uphill])
            d[uphill] = -self.g[rows[uphill]]
            gd[uphill] = -np.einsum("ij,ij->i", d[uphill], d[uphill])
        fresh = first | (self.npairs[rows] == 0)
        norm = np.sqrt(np.einsum("ij,ij->i", d, d))
        stp = np.where(fresh, np.minimum(1.0 / np.where(norm > 0, norm, 1.0), _STPMAX), 1.0)
        self.d[rows], self.gd0[rows], self.stp[rows] = d, gd, stp
        self.lo[rows], self.flo[rows], self.gdlo[rows] = 0.0, self.f[rows], gd
        self.hi[rows], self.nls[rows] = np.inf, 0
        self.xt[rows] = self.x[rows] + stp[:, None] * d

    def _forget(self, rows: np.ndarray) -> None:
        self.S[rows] = self.Y[rows] = 0.0
        self.rho[rows], self.npairs[rows] = 0.0, 0

    def accept(self, rows, F, G, callback) -> None:
        """The trial points of ``rows`` pass the line search: new iterates and pairs."""
        s = self.xt[rows] - self.x[rows]
        y = G - self.g[rows]
        sy = np.einsum("ij,ij->i", s, y)
        keep = sy > np.finfo(float).eps * -np.einsum("ij,ij->i", self.g[rows], s)
        k = rows[keep]
        if len(k) == len(self.f):  # every member: shift the histories in place
            for H in (self.S, self.Y, self.rho):
                H[:, :-1] = H[:, 1:].copy()
        elif len(k):
            for H in (self.S, self.Y, self.rho):
                H[k] = np.roll(H[k], -1, axis=1)
        if len(k):
            self.S[k, -1], self.Y[k, -1], self.rho[k, -1] = s[keep], y[keep], 1.0 / sy[keep]
            self.npairs[k] = np.minimum(self.npairs[k] + 1, self.S.shape[1])
        self.fold[rows] = self.f[rows]
        self.x[rows], self.f[rows], self.g[rows] = self.xt[rows], F, G
        self.nit[rows] += 1
        if callback is not None:
            stop = _asks_to_stop(callback, rows, self.x[rows].copy(), self.f[rows].copy())
            self.stop(stop, 99, "`callback` raised `StopIteration`.", rows)

    def next_step(self, rows, F, gd, armijo, maxls: int) -> None:
        """Another trial step for the members ``rows`` whose trial failed the search."""
        if not len(rows):
            return
        self.nls[rows] += 1
        stp, lo = self.stp[rows], self.lo[rows]
        # too far (no sufficient decrease, or past the minimum along d): [lo, stp] brackets
        shrink = ~armijo | (gd >= 0)
        hi = np.where(shrink, stp, self.hi[rows])
        grow = ~shrink  # too short: the new lo is stp
        lo = np.where(grow, stp, lo)
        # in a bracket: the minimiser of the cubic through the old lo's and the trial's
        # f and f' (clamped to the bracket's middle 80 %, bisection when it has none);
        # else grow the step
        width = hi - lo
        new = _cubic_min(self.lo[rows], self.flo[rows], self.gdlo[rows], stp, F, gd)
        new = np.where(np.isfinite(new), new, lo + 0.5 * width)
        inside = np.clip(new, lo + 0.1 * width, lo + 0.9 * width)
        new = np.where(np.isfinite(hi), inside, np.minimum(stp * _EXTRAPOLATE, _STPMAX))
        self.flo[rows] = np.where(grow, F, self.flo[rows])
        self.gdlo[rows] = np.where(grow, gd, self.gdlo[rows])
        self.stp[rows], self.lo[rows], self.hi[rows] = new, lo, hi
        self.xt[rows] = self.x[rows] + new[:, None] * self.d[rows]
        failed = self.nls[rows] >= maxls
        if failed.any():  # L-BFGS-B: drop the history and retry along -g; without one, stop
            f = rows[failed]
            retry = f[self.npairs[f] > 0]
            self.stop(np.isin(rows, f) & (self.npairs[rows] == 0), 2,
                      "ABNORMAL: ABNORMAL_TERMINATION_IN_LNSRCH", rows)  # fmt: skip
            self._forget(retry)
            self.new_direction(retry, first=True)

    def result(self) -> scipy.optimize.OptimizeResult:
        return scipy.optimize.OptimizeResult(
            x=self.x, fun=self.f, jac=self.g, nit=self.nit, nfev=self.nfev, njev=self.nfev,
            status=self.status, success=self.status == 0, message=self.message,
        )  # fmt: skip
