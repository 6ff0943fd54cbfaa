"""What MLPClassifier and MLPRegressor share: parameters, validation, the network,
the fit (sgd/adam through :mod:`.stochastic`, lbfgs through the L-BFGS driver),
prediction and persistence. See :mod:`mlplab.sklearn.estimators` for the contract."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from mlplab._blas import small_net_threads
from mlplab._checks import (
    check_choice,
    check_dtype,
    check_float,
    check_int,
    check_sizes,
    format_choices,
)
from mlplab.activations import ACTIVATIONS, ALIASES, Activation, get_activation
from mlplab.diagnostics import RECORDED, layer_stats
from mlplab.initializers import get_initializer
from mlplab.io import from_json_tree, json_tree, jsonable
from mlplab.layers import ActivationLayer, BatchNorm, Dense
from mlplab.losses import Loss
from mlplab.network import Sequential
from mlplab.sklearn.losses import (
    sklearn_l2,
)
from mlplab.sklearn.notebook import NetworkView
from mlplab.sklearn.resume import restore_training, training_state
from mlplab.sklearn.rules import adaptive_rate, count_no_improvement, non_finite_weights
from mlplab.sklearn.stochastic import fit_stochastic
from mlplab.sklearn.weights import LayerArrays, layer_arrays
from mlplab.training.lbfgs import minimize_lbfgs, minimize_lbfgs_vectorised

__all__ = ["STOCHASTIC", "BaseMLP", "as_dtype", "stochastic_only"]


STOCHASTIC = ("sgd", "adam")


def as_dtype(X, dtype, name: str = "X"):
    """X (an array or scipy.sparse matrix) in the network's dtype. A value too large for it
    (1e300 for float32) is scikit-learn's input error, not numpy's overflow warning."""
    if X.dtype == dtype:
        return X
    with np.errstate(over="ignore", invalid="ignore"):
        X = X.astype(dtype)
    assert_all_finite(X.data if sparse.issparse(X) else X, input_name=name)
    return X


class BaseMLP(NetworkView, BaseEstimator):
    """Shared machinery of MLPClassifier and MLPRegressor."""

    # the network's own W and b arrays; assigning copies into them (see .weights)
    coefs_ = layer_arrays("coefs_")
    intercepts_ = layer_arrays("intercepts_")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        loss=None,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        initializer=None,
        batch_norm=False,
        clip_norm=None,
        clip_value=None,
        early_stopping_monitor="score",
        convergence_warning=True,
        dtype=None,
        record_diagnostics=False,
        exact=True,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.initializer = initializer
        self.batch_norm = batch_norm
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.early_stopping_monitor = early_stopping_monitor
        self.convergence_warning = convergence_warning
        self.record_diagnostics = record_diagnostics
        self.dtype = dtype
        self.exact = exact

    # ------------------------------------------------------------ validation
    def _hidden_sizes(self) -> list[int]:
        return check_sizes("hidden_layer_sizes", self.hidden_layer_sizes)

    def _activations(self, n_hidden: int) -> list[str]:
        acts = self.activation
        names = acts if isinstance(acts, (list, tuple)) else [acts] * n_hidden
        if isinstance(acts, (list, tuple)) and len(acts) != n_hidden:
            raise ValueError(
                f"`activation` has {len(acts)} entries but there are {n_hidden} hidden layers "
                f"(hidden_layer_sizes={self.hidden_layer_sizes!r}); give one per hidden layer."
            )
        valid = [n for n in ACTIVATIONS if n != "step"]  # step has no usable derivative
        for name in names:
            if not isinstance(name, str) or ALIASES.get(name, name) not in valid:
                raise ValueError(
                    f"Unknown activation {name!r} for a hidden layer. Expected one of: "
                    f"{format_choices(valid)}."
                )
        return [ALIASES.get(n, n) for n in names]

    def _validate_params(self) -> None:
        self._hidden_sizes()
        check_choice("solver", self.solver, ("lbfgs", "sgd", "adam"))
        check_float("alpha", self.alpha, minimum=0.0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            check_int("batch_size", self.batch_size, minimum=1)
        check_choice("learning_rate", self.learning_rate, ("constant", "invscaling", "adaptive"))
        check_float("learning_rate_init", self.learning_rate_init, minimum=0.0, strict_min=True)
        check_float("power_t", self.power_t, minimum=0.0)
        check_int("max_iter", self.max_iter, minimum=1)
        check_float("tol", self.tol, minimum=0.0)
        check_float("momentum", self.momentum, minimum=0.0, maximum=1.0)
        check_float(
            "validation_fraction",
            self.validation_fraction,
            minimum=0.0,
            maximum=1.0,
            strict_max=True,
        )
        check_float("beta_1", self.beta_1, minimum=0.0, maximum=1.0, strict_max=True)
        check_float("beta_2", self.beta_2, minimum=0.0, maximum=1.0, strict_max=True)
        check_float("epsilon", self.epsilon, minimum=0.0, strict_min=True)
        if self.n_iter_no_change != np.inf:
            check_int("n_iter_no_change", self.n_iter_no_change, minimum=1)
        check_int("max_fun", self.max_fun, minimum=1)
        if self.initializer is not None:
            get_initializer(self.initializer)
        if self.clip_norm is not None:
            check_float("clip_norm", self.clip_norm, minimum=0.0, strict_min=True)
        if self.clip_value is not None:
            check_float("clip_value", self.clip_value, minimum=0.0, strict_min=True)
        check_choice("early_stopping_monitor", self.early_stopping_monitor, ("score", "loss"))
        if self.dtype is not None:
            check_dtype(self.dtype)
        for name in (
            "shuffle",
            "warm_start",
            "nesterovs_momentum",
            "early_stopping",
            "batch_norm",
            "convergence_warning",
            "record_diagnostics",
            "exact",
        ):
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"`{name}` must be True or False. Received: {name}={value!r}.")
        self._activations(len(self._hidden_sizes()))

    def _warn(self, message: str, category: type[Warning] = ConvergenceWarning) -> None:
        """A warning of the fit, held until ``_fit`` knows the fit is finite (a fit that
        fails raises its error alone); ``convergence_warning=False`` drops ConvergenceWarnings."""
        if category is not ConvergenceWarning or self.convergence_warning:
            self._held_warnings.append((message, category))

    # ---------------------------------------------------------- the network
    def _out_activation_and_loss(self) -> tuple[str, Loss]:
        raise NotImplementedError

    def _initialize(self, Y: np.ndarray, layer_units: list[int], dtype: np.dtype) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_, self._loss = self._out_activation_and_loss()
        acts = self._activations(len(layer_units) - 2)
        layers = []

        def f(name: str) -> Activation:  # exact=False: the fast form where one exists
            return get_activation(name, exact=self.exact)

        for units, act in zip(layer_units[1:-1], acts, strict=True):
            if self.batch_norm:
                layers += [Dense(units), BatchNorm(), ActivationLayer(f(act))]
            else:
                layers.append(Dense(units, activation=f(act)))
        out_act = {"identity": "identity", "exp": "identity"}.get(
            self.out_activation_, self.out_activation_
        )
        layers.append(Dense(layer_units[-1], activation=out_act))
        rs = self._random_state
        if self.initializer is None:
            net = Sequential(layers, n_inputs=layer_units[0], seed=0, dtype=dtype)
            # scikit-learn's scheme, drawn from the same RandomState in the same
            # order: per layer W then b, uniform on +-sqrt(f / (fan_in + fan_out)),
            # f = 2 for logistic, 6 otherwise.
            for i, dense in enumerate(self._dense_layers(net)):
                act = acts[min(i, len(acts) - 1)] if acts else self.activation
                factor = 2.0 if act == "logistic" else 6.0
                fan_in, fan_out = layer_units[i], layer_units[i + 1]
                bound = np.sqrt(factor / (fan_in + fan_out))
                dense.W[...] = rs.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)
                dense.b[...] = rs.uniform(-bound, bound, fan_out).astype(dtype)
        else:
            seed = int(rs.randint(np.iinfo(np.int32).max))
            net = Sequential(
                layers, n_inputs=layer_units[0], init=self.initializer, seed=seed, dtype=dtype
            )
        self.net_ = net
        self._link_parameters()
        if self.solver in STOCHASTIC:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
        self._best_theta = net.theta.copy()
        self._best_val_loss = np.inf
        self.history_ = {"loss": []}
        self.grad_norms_ = np.zeros((0, self.n_layers_ - 1))
        self._diag_rows: list[list[dict[str, Any]]] = []

    @staticmethod
    def _dense_layers(net: Sequential) -> list[Dense]:
        return [layer for layer in net.layers if isinstance(layer, Dense)]

    def _link_parameters(self) -> None:
        """coefs_[i] and intercepts_[i] are views of the network's weights."""
        dense = self._dense_layers(self.net_)
        self.__dict__["_coefs"] = LayerArrays("coefs_", [layer.W for layer in dense])
        self.__dict__["_intercepts"] = LayerArrays("intercepts_", [layer.b for layer in dense])
        self._weight_grads = [layer.dW.reshape(-1) for layer in dense]  # flat gradient views

    def _sklearn_order(self) -> np.ndarray:
        """Indices into theta: every W, then every b (scikit-learn's _pack), then the rest."""
        offsets, start = {}, 0
        for name, view in self.net_.named_parameters():
            offsets[name] = np.arange(start, start + view.size)
            start += view.size
        w = [v for k, v in offsets.items() if k.endswith(".W")]
        dense_b = {k[: -len(".W")] + ".b" for k in offsets if k.endswith(".W")}
        b = [v for k, v in offsets.items() if k in dense_b]
        rest = [v for k, v in offsets.items() if not k.endswith(".W") and k not in dense_b]
        return np.concatenate(w + b + rest)

    def _record_diagnostics(self) -> None:
        if self.record_diagnostics:
            self._diag_rows.append(layer_stats(self.net_))

    @property
    def diagnostics_(self) -> dict[str, Any]:
        """Per epoch (L-BFGS: per iteration) and weight layer, from the last batch's
        backward pass: gradient norms, activation mean/std, mean |f'(z)|, saturation,
        dead units (see ``mlplab.diagnostics.layer_stats``). Needs ``record_diagnostics=True``.
        """
        check_is_fitted(self)
        if not self.record_diagnostics:
            raise AttributeError(
                "diagnostics_ is recorded only with record_diagnostics=True "
                "(grad_norms_ is always there)."
            )
        rows = getattr(self, "_diag_rows", [])
        keys = [k for k in RECORDED if k != "update_ratio"]
        out: dict[str, Any] = {"layers": [s["name"] for s in rows[0]] if rows else []}
        for k in keys:
            out[k] = np.array([[s[k] for s in row] for row in rows], dtype=float).reshape(
                len(rows), -1
            )
        return out

    def _layer_grad_norms(self) -> np.ndarray:
        return np.array([math.sqrt(float(np.dot(g, g))) for g in self._weight_grads])

    def _record_iteration(self, scores, Y, sw, sst, weight_grads, norms) -> None:
        """One L-BFGS iteration's training score (from the output layer's ``scores`` at the
        accepted weights) into history_, and each weight layer's gradient norm into
        ``norms`` (rows of grad_norms_)."""
        stats = self._score_stats(scores, Y, sw)
        norms.append([math.sqrt(float(np.dot(g, g))) for g in weight_grads])
        self.history_.setdefault("score", []).append(self._score_from(stats, sst))

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, sample_weight=None, incremental=False, validation_data=None):
        self._validate_params()
        fast = not self.exact and self.solver == "lbfgs" and not incremental
        if fast and sample_weight is None and validation_data is None and self._fit_fast(X, y):
            return self
        hidden = self._hidden_sizes()
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        dtype = check_dtype(self.dtype) if self.dtype is not None else X.dtype
        if not first_pass:
            dtype = self.net_.dtype
        X = as_dtype(X, dtype)
        if Y.ndim == 1:
            Y = Y.reshape((-1, 1))
        Y = self._targets(Y, dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        self.n_outputs_ = Y.shape[1]
        layer_units = [X.shape[1], *hidden, self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(Y, layer_units, dtype)
        elif self.net_.n_outputs != self.n_outputs_ or self.net_.n_inputs != X.shape[1]:
            raise ValueError(
                f"warm_start/partial_fit needs the same shapes as the first fit: the network has "
                f"{self.net_.n_inputs} inputs and {self.net_.n_outputs} outputs; received "
                f"{X.shape[1]} and {self.n_outputs_}."
            )
        val = None
        if validation_data is not None:
            Xv, yv = validation_data
            Xv = validate_data(self, Xv, accept_sparse=["csr", "csc"], reset=False)
            val = (as_dtype(Xv, dtype, "validation_data[0]"), np.asarray(yv), None)
        self._held_warnings: list[tuple[str, type[Warning]]] = []
        try:
            undo = None  # what puts back the weights from before the last update
            if self.solver in STOCHASTIC:
                batch = min(200, X.shape[0]) if self.batch_size == "auto" else self.batch_size
                with small_net_threads(self.net_, min(batch, X.shape[0])):
                    undo = self._fit_stochastic(X, Y, sample_weight, incremental, val)
            else:
                with small_net_threads(self.net_, X.shape[0]):
                    self._fit_lbfgs(X, Y, sample_weight, val)
            self._check_finite_fit(X, Y, sample_weight, undo)
            held = self._held_warnings
        finally:
            del self._held_warnings
        for message, category in held:
            warnings.warn(message, category, stacklevel=3)
        return self

    def _fit_fast(self, X, y) -> bool:
        """exact=False, lbfgs: the fit as a stack of one (mlplab.sklearn.batched.fit_alone),
        so that a fast member of any stack equals this fit; per iteration it records what
        the exact path records (history_'s loss and score, grad_norms_). False when the
        stack engine does not take it (then the fit below runs, with the same fast
        arithmetic)."""
        from mlplab.sklearn.batched import fit_alone  # batched builds on these estimators

        if self.warm_start and hasattr(self, "coefs_"):
            return False
        norms: list[list[float]] = []

        def observer(Y: np.ndarray):  # once set up: Y, and the layers' sizes, are known
            sst = self._total_squares(Y, None)
            ends = np.cumsum([0] + [w.size for w in self.coefs_])  # every W first in grad

            def observe(z: np.ndarray, grad: np.ndarray) -> None:
                weight_grads = [grad[a:b] for a, b in zip(ends[:-1], ends[1:], strict=True)]
                self._record_iteration(z, Y, None, sst, weight_grads, norms)

            return observe

        converged = fit_alone(self, X, y, observer)
        if converged is None:
            return False
        if norms:
            self.grad_norms_ = np.vstack([self.grad_norms_, np.array(norms)])
        if not converged and self.convergence_warning:
            msg = f"lbfgs failed to converge after {self.n_iter_} iteration(s)."
            if self.n_iter_ == self.max_iter:
                msg += (
                    "\n\nIncrease the number of iterations to improve the convergence "
                    f"(max_iter={self.max_iter})."
                )
            warnings.warn(msg, ConvergenceWarning, stacklevel=4)  # at the caller of fit
        return True

    def _check_finite_fit(self, X, Y, sw, undo=None) -> None:
        """After the last update, once: the weights and the loss on the training data at
        them (what predictions would be) are finite, else scikit-learn's ValueError (and
        ``undo`` puts back the weights from before that update). The step's guard checks
        each batch's loss before its update, never after the last."""
        theta = self.net_.theta
        # the bound covers every loss but Poisson's (its exp link is not bounded by it)
        value = self.net_.loss_at_end(X, Y, self._loss, sw, bounded=self._loss.link != "exp")
        if value is None or math.isfinite(value):
            return
        if not np.isfinite(theta).all():
            bad = int(np.count_nonzero(~np.isfinite(theta)))
            detail = f"{bad} of {theta.size} weights are inf or NaN"
        else:
            detail = (
                f"the weights are finite (the largest |w| is {np.abs(theta).max():.3g}), but "
                f"the loss on the training data at them is {value}: the network's outputs "
                "overflow, its predictions would be inf or NaN"
            )
        if undo is not None:
            undo()
            detail += "; the weights from before the last update were kept"
        raise non_finite_weights(detail)

    def _loss_grad(self, X, Y, sw) -> float:
        """L and dL/dtheta on one batch, in scikit-learn's order of operations:
        backpropagate the raw output delta, add alpha W, divide by the sample count."""
        net = self.net_
        value = net.loss_and_grad_unchecked(X, Y, self._loss, sw, 0.0, self._fused)
        n = X.shape[0] if sw is None else sw.sum()
        return sklearn_l2(value, self.coefs_, self._weight_grads, net.grad, self.alpha, n)

    def loss_and_grad(self, X, y) -> tuple[float, np.ndarray]:
        """(L, dL/dtheta) of the fitted model on (X, y) at its current weights, as training
        computes them (scikit-learn's loss, L2 and scaling); nothing is updated. The
        gradient is ``net_.grad`` itself, aligned with ``net_.theta``."""
        check_is_fitted(self)
        net = self.net_
        Xc = validate_data(self, X, reset=False)
        Xc = np.ascontiguousarray(as_dtype(Xc, net.dtype))
        Y = self._targets(self._encode(y), net.dtype)
        return self._loss_grad(Xc, Y, None), net.grad

    @property
    def _fused(self) -> bool:
        return self._loss.link in ("logistic", "softmax")

    def _fit_lbfgs(self, X, Y, sw, val) -> None:
        net = self.net_
        theta = net.theta
        norms: list[list[float]] = []
        last = {"norms": None, "x": None}
        # scipy sees the parameters in scikit-learn's packing order (every W, then
        # every b): the same vector, so L-BFGS takes the same steps.
        order = self._sklearn_order()

        def fun(xs, members):
            x = xs[0]  # one network: the driver's only member
            theta[order] = x
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                value = self._loss_grad(X, Y, sw)
            last["x"] = x
            return [value], net.grad[order][None]

        sst = self._total_squares(Y, sw)

        def callback(members, xs, fs):
            x = xs[0]
            self.history_["loss"].append(float(fs[0]))
            # unless the accepted point was the last one evaluated (its caches are current)
            if last["x"] is None or not np.array_equal(last["x"], x):
                theta[order] = x
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    self._loss_grad(X, Y, sw)
            self._record_iteration(net.layers[-1].a, Y, sw, sst, self._weight_grads, norms)
            self._record_diagnostics()
            if val is not None:
                theta[order] = x
                self._record_validation(*val)

        # exact=False: the vectorised driver (the one a stack of fast members runs)
        minimize = minimize_lbfgs if self.exact else minimize_lbfgs_vectorised
        result = minimize(
            fun,
            theta[order].astype(np.float64),
            maxfun=self.max_fun,
            maxiter=self.max_iter,
            gtol=self.tol,
            callback=callback,
        )
        self.n_iter_ = min(result.nit, self.max_iter)
        if result.status != 0:
            msg = (
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}):\n{result.message}\n"
            )
            if self.n_iter_ == self.max_iter:
                msg += (
                    "\nIncrease the number of iterations to improve the convergence "
                    f"(max_iter={self.max_iter})."
                )
            self._warn(msg)
        self.loss_ = float(result.fun)
        theta[order] = result.x
        if norms:
            self.grad_norms_ = np.vstack([self.grad_norms_, np.array(norms)])

    def _fit_stochastic(self, X, Y, sw, incremental, val):
        return fit_stochastic(self, X, Y, sw, incremental, val)

    def _trigger_stopping(self, msg: str) -> bool:
        """scikit-learn's rule: stop, or (learning_rate="adaptive", sgd) divide the rate by 5."""
        opt = self._optimizer
        if not (self.solver == "sgd" and self.learning_rate == "adaptive"):
            if self.verbose:
                print(msg + " Stopping.")
            return True
        rate = adaptive_rate(opt.learning_rate)
        if rate is None:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        opt.learning_rate = rate
        if self.verbose:
            print(msg + f" Setting learning rate to {opt.learning_rate:f}")
        return False

    def _record_validation(self, Xv, yv, swv) -> tuple[float, float]:
        """Validation score (accuracy / R²) and loss at the current weights; both recorded."""
        out = self.net_.forward_unchecked(Xv, False)
        scores = self.net_.layers[-1].z if self._fused else out
        if np.isfinite(out).all():
            score = float(self._score_function(yv, self._from_output(out), sample_weight=swv))
            Yv = self._targets(self._encode(yv), self.net_.dtype)
            loss = self._loss.value_and_gradient(scores, Yv, swv)[0]
        else:
            score = loss = math.nan
        self.history_.setdefault("val_score", []).append(score)
        self.history_.setdefault("val_loss", []).append(loss)
        return score, loss

    def _update_no_improvement_count(self, early_stopping, val) -> None:
        if early_stopping:
            score, loss = self._record_validation(*val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if self.early_stopping_monitor == "loss":
                # lower is better: compare -loss like a score
                current, best = -loss, -self._best_val_loss
            else:
                current, best = score, self.best_validation_score_
            if current < best + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if current > best:
                if self.early_stopping_monitor == "loss":
                    self._best_val_loss = loss
                self.best_validation_score_ = (
                    max(self.best_validation_score_, score)
                    if (self.early_stopping_monitor == "loss")
                    else score
                )
                self._best_theta = self.net_.theta.copy()
        else:
            if val is not None:
                self._record_validation(*val)
            # (a model loaded from a file written before the counter was saved counts from 0)
            self._no_improvement_count, self.best_loss_ = count_no_improvement(
                getattr(self, "_no_improvement_count", 0),
                self.best_loss_,
                self.loss_curve_[-1],
                self.tol,
            )

    # -------------------------------------------------------------- predict
    def _forward(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        X = as_dtype(X, self.net_.dtype)
        if not sparse.issparse(X):
            X = np.ascontiguousarray(X)
        # An overflowing pre-activation that saturates the output (logistic(inf) = 1) is
        # the right limit, not numpy's warning; an output that is not finite is an error.
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.net_.forward_unchecked(X, False)
        if not np.isfinite(out).all():
            raise ValueError(
                "The network's outputs on X are not finite: X holds values too large for "
                f"its weights (largest |X| {abs(X).max():.3g}; the largest |weight| "
                f"{np.abs(self.net_.theta).max():.3g}). Scale X as the training data was."
            )
        return out

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_coefs", None)  # views of net_: rebuilt on unpickling
        state.pop("_intercepts", None)
        state.pop("_weight_grads", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in self.__dict__:
            self._link_parameters()

    _FITTED_SCALARS = (
        "n_iter_",
        "t_",
        "loss_",
        "best_loss_",
        "best_validation_score_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "n_features_in_",
    )
    _FITTED_LISTS = ("loss_curve_", "validation_scores_")

    def __mlplab_state__(self):
        check_is_fitted(self)
        params = {}
        for k, v in self.get_params().items():
            if isinstance(v, tuple):
                v = list(v)
            if k == "random_state" and not (v is None or isinstance(v, numbers.Integral)):
                v = None  # a RandomState object is not part of the saved model
            if k == "initializer" and v is not None and not isinstance(v, (str, dict)):
                v = get_initializer(v).config()
            if isinstance(v, np.integer):
                v = int(v)
            params[k] = v
        fitted: dict[str, Any] = {}
        for k in self._FITTED_SCALARS + self._FITTED_LISTS:
            if hasattr(self, k):
                v = getattr(self, k)
                fitted[k] = [float(x) for x in v] if isinstance(v, list) else jsonable(v)
        fitted["history_"] = {k: [float(x) for x in v] for k, v in self.history_.items()}
        fitted = json_tree(fitted)  # NaN/inf (a diverged epoch's score) tagged
        if hasattr(self, "feature_names_in_"):
            fitted["feature_names_in_"] = [str(n) for n in self.feature_names_in_]
        net_config, arrays = self.net_.__mlplab_state__()  # weights, optimizer state
        arrays = {f"net.{k}": v for k, v in arrays.items()}
        arrays["grad_norms_"] = np.asarray(self.grad_norms_, dtype=np.float64)
        config = {"params": params, "fitted": fitted, "net": net_config}
        config["training"] = training_state(self, arrays)
        config.update(self._extra_state(arrays))
        return config, arrays

    def _extra_state(self, arrays) -> dict[str, Any]:
        return {}

    def _restore_extra(self, config, arrays) -> None:
        pass

    @classmethod
    def __mlplab_restore__(cls, config, arrays):
        params = dict(config["params"])
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        est = cls(**params)
        for k, v in from_json_tree(config["fitted"]).items():
            if k == "feature_names_in_":
                v = np.asarray(v, dtype=object)
            elif k == "history_":
                v = {key: list(vals) for key, vals in v.items()}
            setattr(est, k, v)
        est.net_ = Sequential.__mlplab_restore__(
            config["net"], {k[4:]: v for k, v in arrays.items() if k.startswith("net.")}
        )
        est.grad_norms_ = arrays["grad_norms_"]
        est._link_parameters()
        restore_training(est, config, arrays)
        est._restore_extra(config, arrays)
        if est.net_.optimizer is not None and est.solver in STOCHASTIC:
            est._optimizer = est.net_.optimizer
        return est

    def _sync_optimizer(self) -> None:
        self.net_.optimizer = getattr(self, "_optimizer", None)


class stochastic_only:
    """Method decorator: the method exists only for solver "sgd"/"adam".

    As scikit-learn's ``available_if``: ``hasattr(MLPClassifier(solver="lbfgs"),
    "partial_fit")`` is False; calling it anyway raises an AttributeError that
    names the solver.
    """

    def __init__(self, fn):
        self.fn = fn
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is not None and obj.solver not in STOCHASTIC:
            raise AttributeError(
                f"{self.name} is only available for stochastic optimizers. {obj.solver} is "
                "not stochastic."
            )
        return self.fn if obj is None else self.fn.__get__(obj, owner)
