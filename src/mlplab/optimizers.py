"""Gradient-descent optimizers acting in place on the flat parameter vector.

Every optimizer has ``step(theta, grad)``: a handful of numpy operations on
two flat arrays, whatever the depth of the network. State (velocity, moments,
step count) is allocated on the first step and can be saved and restored
(``state_dict`` / ``load_state_dict``). The update rule is in each docstring.

The member axis: ``theta`` is (P,) for one network or (M, P) for a stack of M
same-shaped networks trained together (:mod:`mlplab.sklearn.batched`). For a
stack, ``learning_rate`` may be one rate per member (an (M,) array) and the step
count ``t`` one count per member (Adam's bias correction uses it); the state
arrays are (M, P) and ``select(keep)`` drops the members that stopped. The
arithmetic per member is the same as for one network, bit for bit.

Learning-rate schedules map the epoch number to a learning rate; the training
loop sets ``optimizer.learning_rate`` from them at the start of every epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mlplab._checks import build_from_spec, check_float, check_int, resolve_spec

__all__ = [
    "AdaGrad",
    "Adam",
    "OPTIMIZERS",
    "Optimizer",
    "RMSProp",
    "SGD",
    "SCHEDULES",
    "get_optimizer",
    "get_schedule",
]


def check_rate(learning_rate: Any) -> float | np.ndarray:
    """A learning rate > 0: a float, or one per member of a stack (a 1-D float64 array)."""
    if np.ndim(learning_rate) == 0:
        return check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    rates = np.array(learning_rate, dtype=np.float64)
    if rates.ndim != 1 or not (np.isfinite(rates).all() and (rates > 0).all()):
        raise ValueError(
            "`learning_rate` must be a number > 0 or one such number per member (1-D). "
            f"Received: {learning_rate!r}."
        )
    return rates


def per_member(scale: float | np.ndarray, theta: np.ndarray) -> Any:
    """``scale`` ready to multiply ``theta``: a float as it is (numpy casts it to theta's
    dtype), per-member values as a (M, 1) column of theta's dtype (the same rounding)."""
    if type(scale) is float or not isinstance(scale, np.ndarray) or scale.ndim == 0:
        return scale
    return scale.astype(theta.dtype)[:, None]


class Optimizer:
    """Base class. Subclasses define ``_slots`` (state arrays) and ``step``."""

    name: ClassVar[str] = ""
    _slots: ClassVar[tuple[str, ...]] = ()
    # the theta and the state dict last checked by _ensure_state: while a step gets these
    # same objects, the check is not repeated (an identity test instead of a shape test)
    _for_theta: np.ndarray | None = None
    _for_state: dict[str, np.ndarray] | None = None

    def __init__(self, learning_rate: float | np.ndarray) -> None:
        self.learning_rate = check_rate(learning_rate)
        #: the rate schedules start from (``learning_rate`` may have been decayed)
        self.initial_learning_rate = self.learning_rate
        self.t: int | np.ndarray = 0  # steps taken (a stack may count them per member)
        self.state: dict[str, np.ndarray] = {}

    def _ensure_state(self, theta: np.ndarray) -> None:
        """State arrays shaped as ``theta`` (new zeros, and the step count reset, if they
        are not); the steps call it when ``theta`` or ``self.state`` is another object
        than at the last call."""
        first = next(iter(self.state.values()), None)
        if first is None or first.shape != theta.shape or first.dtype != theta.dtype:
            self.state = {s: np.zeros_like(theta) for s in self._slots}
            self.t = 0
        self._for_theta, self._for_state = theta, self.state

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_for_theta", None)  # a cache of the last check: not part of the optimizer
        state.pop("_for_state", None)
        return state

    def step(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """Update ``theta`` in place from ``grad`` ((P,), or (M, P) for a stack)."""
        raise NotImplementedError

    def select(self, keep: np.ndarray) -> None:
        """Keep only the members ``keep`` (indices or a mask) of a stack's state and rates."""
        self.state = {k: v[keep] for k, v in self.state.items()}
        if np.ndim(self.t):
            self.t = self.t[keep]
        for name in ("learning_rate", "initial_learning_rate"):
            rate = getattr(self, name)
            if np.ndim(rate):
                setattr(self, name, rate[keep])

    def hyperparameters(self) -> dict[str, Any]:
        return {"learning_rate": _plain(self.learning_rate)}

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.hyperparameters()}

    def state_dict(self, exact: bool = False) -> dict[str, np.ndarray]:
        """Arrays that resume this optimizer exactly (the step count as a 0-d int64 array).

        ``exact=True``: the arrays as the optimizer keeps them, which
        ``load_state_dict`` restores bit for bit (model files store this form). It
        differs from the default only where an optimizer keeps its state rescaled
        (Adam: see its ``state_dict``).
        """
        out = {k: v.copy() for k, v in self.state.items()}  # a snapshot, not the live state
        out["t"] = np.asarray(self.t, dtype=np.int64)
        return out

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        t = np.asarray(state.get("t", 0), dtype=np.int64)
        self.t = int(t) if t.ndim == 0 else t.copy()  # one count per member of a stack
        self.state = {s: np.array(state[s]) for s in self._slots if s in state}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Gradient descent, optionally with momentum (and Nesterov's look-ahead).

    Plain:     theta <- theta - lr * g          (the lecture's w <- w - alpha dJ/dw)
    Momentum:  v <- mu v - lr g;  theta <- theta + v
    Nesterov:  v <- mu v - lr g;  theta <- theta + mu v - lr g
    (scikit-learn's formulation, so results agree with its ``solver="sgd"``.)
    Full batch or mini-batch is the training loop's ``batch_size``.
    """

    name: ClassVar[str] = "sgd"

    def __init__(
        self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False
    ) -> None:
        super().__init__(learning_rate)
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("`nesterov=True` needs a momentum > 0. Received: momentum=0.")
        self._slots = ("velocity",) if self.momentum > 0 else ()

    def step(self, theta, grad):
        lr = self.learning_rate
        if type(lr) is not float:
            lr = per_member(lr, theta)
        if self.momentum == 0:
            self.t += 1
            theta -= lr * grad
            return
        if theta is not self._for_theta or self.state is not self._for_state:
            self._ensure_state(theta)
        self.t += 1
        v = self.state["velocity"]
        v *= self.momentum
        v -= lr * grad
        if self.nesterov:
            theta += self.momentum * v - lr * grad
        else:
            theta += v

    def hyperparameters(self):
        return {
            "learning_rate": _plain(self.learning_rate),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
        }


class AdaGrad(Optimizer):
    """G <- G + g^2;  theta <- theta - lr g / (sqrt(G) + eps)  (Duchi et al. 2011)."""

    name: ClassVar[str] = "adagrad"
    _slots: ClassVar[tuple[str, ...]] = ("sum_sq",)

    def __init__(self, learning_rate: float = 0.01, epsilon: float = 1e-10) -> None:
        super().__init__(learning_rate)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, strict_min=True)

    def step(self, theta, grad):
        if theta is not self._for_theta or self.state is not self._for_state:
            self._ensure_state(theta)
        self.t += 1
        G = self.state["sum_sq"]
        G += grad * grad
        theta -= per_member(self.learning_rate, theta) * grad / (np.sqrt(G) + self.epsilon)

    def hyperparameters(self):
        return {"learning_rate": _plain(self.learning_rate), "epsilon": self.epsilon}


class RMSProp(Optimizer):
    """v <- rho v + (1 - rho) g^2;  theta <- theta - lr g / (sqrt(v) + eps)  (Hinton 2012)."""

    name: ClassVar[str] = "rmsprop"
    _slots: ClassVar[tuple[str, ...]] = ("mean_sq",)

    def __init__(
        self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.rho = check_float("rho", rho, minimum=0.0, maximum=1.0, strict_max=True)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, strict_min=True)

    def step(self, theta, grad):
        if theta is not self._for_theta or self.state is not self._for_state:
            self._ensure_state(theta)
        self.t += 1
        v = self.state["mean_sq"]
        v *= self.rho
        v += (1.0 - self.rho) * grad * grad
        theta -= per_member(self.learning_rate, theta) * grad / (np.sqrt(v) + self.epsilon)

    def hyperparameters(self):
        return {
            "learning_rate": _plain(self.learning_rate),
            "rho": self.rho,
            "epsilon": self.epsilon,
        }


class Adam(Optimizer):
    """Adam (Kingma & Ba 2014), in the paper's efficient form (as scikit-learn):

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
    theta <- theta - lr_t m / (sqrt(v) + eps)

    For speed the moments are kept rescaled, m' = m / (1 - b1) and
    v' = v / (1 - b2), so that m' <- b1 m' + g and v' <- b2 v' + g^2 take two
    and three passes over memory; the constants go into the step:
    theta <- theta - lr_t (1 - b1) / sqrt(1 - b2) * m' / (sqrt(v') + eps / sqrt(1 - b2)).
    Equal to the formula above up to rounding; ``state_dict`` reports m and v.
    """

    name: ClassVar[str] = "adam"
    _slots: ClassVar[tuple[str, ...]] = ("m", "v")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1 = check_float("beta_1", beta_1, minimum=0.0, maximum=1.0, strict_max=True)
        self.beta_2 = check_float("beta_2", beta_2, minimum=0.0, maximum=1.0, strict_max=True)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0, strict_min=True)
        self._tmp: np.ndarray | None = None

    def _ensure_state(self, theta):
        super()._ensure_state(theta)
        tmp = self._tmp
        if tmp is None or tmp.shape != theta.shape or tmp.dtype != theta.dtype:
            self._tmp = np.empty_like(theta)

    def step(self, theta, grad):
        if theta is not self._for_theta or self.state is not self._for_state:
            self._ensure_state(theta)
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        m, v = self.state["m"], self.state["v"]  # rescaled: m', v' (see the docstring)
        tmp = self._tmp
        # In place on preallocated buffers: ten passes over memory at any depth.
        m *= b1
        m += grad  # m' = b1 m' + g
        np.multiply(grad, grad, tmp)
        v *= b2
        v += tmp  # v' = b2 v' + g^2
        c2 = math.sqrt(1.0 - b2)
        t = self.t
        if type(t) is np.ndarray and t.ndim:
            # members with their own step counts: Python's float power per member, as
            # for one network (numpy's power differs from it in the last bit)
            s = np.array([math.sqrt(1.0 - b2 ** int(k)) for k in t])
            d = np.array([1.0 - b1 ** int(k) for k in t])
            lr_t = self.learning_rate * s / d
        else:
            lr_t = self.learning_rate * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        np.sqrt(v, tmp)
        tmp += self.epsilon / c2
        np.divide(m, tmp, tmp)
        scale = lr_t * (1.0 - b1) / c2
        tmp *= scale if type(scale) is float else per_member(scale, theta)
        theta -= tmp

    def state_dict(self, exact=False):
        """The textbook moments m and v; ``exact=True``: the rescaled m', v' kept
        internally, as ``m_scaled``/``v_scaled`` (m' (1 - b1) / (1 - b1) is not always
        m' in floating point, so only this form resumes bit for bit)."""
        out = super().state_dict()
        if "m" in out and exact:
            out["m_scaled"], out["v_scaled"] = out.pop("m"), out.pop("v")
        elif "m" in out:
            out["m"] *= 1.0 - self.beta_1
            out["v"] *= 1.0 - self.beta_2
        return out

    def load_state_dict(self, state):
        super().load_state_dict(state)
        if "m_scaled" in state:  # the exact form
            self.state = {"m": np.array(state["m_scaled"]), "v": np.array(state["v_scaled"])}
        elif "m" in self.state:  # textbook moments (files written before the exact form)
            self.state["m"] /= 1.0 - self.beta_1
            self.state["v"] /= 1.0 - self.beta_2

    def hyperparameters(self):
        return {
            "learning_rate": _plain(self.learning_rate),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


def _plain(rate: float | np.ndarray) -> float | list[float]:
    """A rate as JSON holds it."""
    return rate.tolist() if np.ndim(rate) else rate


OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (SGD, AdaGrad, RMSProp, Adam)}
#: Names accepted by ``fit`` besides the table: "gd" (SGD, full batch by convention),
#: "momentum", "nesterov" (SGD presets) and "lbfgs" (a solver, see training.fit_lbfgs).
SOLVER_NAMES = tuple(sorted([*OPTIMIZERS, "gd", "momentum", "nesterov", "lbfgs"]))


def get_optimizer(
    spec: str | dict[str, Any] | Optimizer, learning_rate: float | None = None
) -> Optimizer:
    """Return an Optimizer from a name, a config dict or an instance.

    ``learning_rate`` (if given) overrides the default of a name/dict spec.
    """
    if isinstance(spec, Optimizer):
        return spec
    presets = {
        "gd": {},
        "momentum": {"momentum": 0.9},
        "nesterov": {"momentum": 0.9, "nesterov": True},
    }
    table = {**OPTIMIZERS, **{k: SGD for k in presets}}
    if spec == "lbfgs":
        raise ValueError(
            "'lbfgs' is a solver, not a step-by-step optimizer: use "
            "net.fit(X, y, optimizer='lbfgs')."
        )
    name, params = resolve_spec("optimizer", spec, table)
    params = {**presets.get(name, {}), **params}
    if learning_rate is not None:
        params["learning_rate"] = learning_rate
    return build_from_spec("optimizer", name, table[name], params)


# ---------------------------------------------------------------- schedules


@dataclass(frozen=True)
class Schedule:
    """Learning rate as a function of the epoch (0-based) and the initial rate."""

    name: ClassVar[str] = ""

    def __call__(self, lr0: float, epoch: int) -> float:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **self.__dict__}


@dataclass(frozen=True)
class Constant(Schedule):
    """lr = lr0."""

    name: ClassVar[str] = "constant"

    def __call__(self, lr0, epoch):
        return lr0


@dataclass(frozen=True)
class InverseScaling(Schedule):
    """lr = lr0 / (epoch + 1)^power_t."""

    name: ClassVar[str] = "invscaling"
    power_t: float = 0.5

    def __post_init__(self):
        check_float("power_t", self.power_t, minimum=0.0)

    def __call__(self, lr0, epoch):
        return lr0 / (epoch + 1) ** self.power_t


@dataclass(frozen=True)
class StepDecay(Schedule):
    """lr = lr0 * factor^(epoch // every)."""

    name: ClassVar[str] = "step"
    factor: float = 0.5
    every: int = 10

    def __post_init__(self):
        check_float("factor", self.factor, minimum=0.0, maximum=1.0, strict_min=True)
        check_int("every", self.every, minimum=1)

    def __call__(self, lr0, epoch):
        return lr0 * self.factor ** (epoch // self.every)


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, InverseScaling, StepDecay)
}


def get_schedule(spec: str | dict[str, Any] | Schedule | None) -> Schedule:
    """Return a learning-rate schedule from a name, a config dict or an instance."""
    if spec is None:
        return Constant()
    if isinstance(spec, Schedule):
        return spec
    name, params = resolve_spec("learning-rate schedule", spec, SCHEDULES)
    return build_from_spec("learning-rate schedule", name, SCHEDULES[name], params)
