"""The training step, written once: loss and gradient -> guard -> hooks -> clip -> update.

Every gradient-descent caller in mlplab trains through :class:`Trainer`:
``Sequential.fit``, the estimators' ``sgd``/``adam``, the batched stacks and
the playground. One step on one mini-batch is::

    value, grad = loss_and_grad(theta, *batch)   # forward, loss, backward (chain rule)
    norm = ||grad||                              # before clipping: what diagnostics record
    guard: a non-finite loss or gradient stops here, theta untouched
    hooks(value, norm, batch)                    # e.g. callbacks' on_gradients
    clip grad (by value, then by global norm)
    backup <- theta;  optimizer.step(theta, grad)  # w <- w - alpha dJ/dw for plain SGD

The member axis: ``theta`` is (P,) for one network or (M, P) for a stack of
M networks; ``value`` and ``norm`` are then (M,) arrays, the guard and the
clipping act per member, and a member whose loss or gradient is not finite sits
out the update (its gradient is zeroed) and is reported in ``ok`` so that the
caller can drop it (``select``). What happens on divergence, how batches are
drawn and when training stops are the callers' policies; the step is not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlplab.clipping import clip_, norm_of
from mlplab.optimizers import Optimizer

__all__ = [
    "EpochResult",
    "Trainer",
    "generator_batches",
    "run_epoch",
    "sklearn_batches",
    "sklearn_shuffle",
]

#: loss_and_grad(theta, *batch) -> (value, grad): float and (P,), or (M,) and (M, P)
LossAndGrad = Callable[..., tuple[Any, np.ndarray]]


class Trainer:
    """One network's (or one stack's) training step; see the module docstring.

    Parameters
    ----------
    theta : array (P,) or (M, P)
        The parameters, updated in place.
    loss_and_grad : callable
        ``loss_and_grad(theta, *batch) -> (value, grad)``.
    optimizer : Optimizer
        Its ``step(theta, grad)`` is the update rule.
    clip_norm, clip_value : float, optional
        Gradient clipping (per member for a stack).
    hooks : sequence of callables
        ``hook(value, norm, batch)`` after the guard, before clipping (the raw gradient).
    backup : array, optional
        Where to keep the parameters from before each update (default: a new array).
    """

    def __init__(
        self,
        theta: np.ndarray,
        loss_and_grad: LossAndGrad,
        optimizer: Optimizer,
        *,
        clip_norm: float | None = None,
        clip_value: float | None = None,
        hooks: Iterable[Callable[[Any, Any, tuple[Any, ...]], None]] = (),
        backup: np.ndarray | None = None,
    ) -> None:
        self.theta = theta
        self.loss_and_grad = loss_and_grad
        self.optimizer = optimizer
        self.clip_norm, self.clip_value = clip_norm, clip_value
        self.hooks = list(hooks)
        self._clipping = clip_norm is not None or clip_value is not None
        self._single = theta.ndim == 1
        # the parameters before the last update (a caller may own the array: it outlives us)
        self.backup = np.empty_like(theta) if backup is None else backup
        self.steps = 0  # updates made

    def step(self, *batch: Any) -> tuple[Any, Any, Any]:
        """One update from one batch; return (value, norm, ok).

        ``ok`` is a bool (one network; False: nothing was updated) or a bool
        array per member (a stack; the members that are not ok were not updated).
        """
        theta = self.theta
        value, grad = self.loss_and_grad(theta, *batch)
        norm = norm_of(grad)
        if self._single:
            ok = math.isfinite(value) and math.isfinite(norm)
            if not ok:
                return value, norm, ok
        else:
            ok = np.isfinite(value) & np.isfinite(norm)
            if not ok.all():
                grad[~ok] = 0.0  # a diverged member sits out the update
        if self.hooks:
            for hook in self.hooks:
                hook(value, norm, batch)
        if self._clipping:
            clip_(grad, self.clip_norm, self.clip_value, norm)
        self.backup[...] = theta  # (np.copyto's copy, without its dispatch overhead)
        self.optimizer.step(theta, grad)
        self.steps += 1
        return value, norm, ok

    def undo(self) -> None:
        """Put back the parameters from before the last update (nothing before the first)."""
        if self.steps:
            self.theta[...] = self.backup

    def select(self, keep: Any) -> None:
        """Keep only the members ``keep`` of a stack (its parameters, backup, optimizer)."""
        self.theta = self.theta[keep]
        self.backup = self.backup[keep]
        self.optimizer.select(keep)


@dataclass(slots=True)
class EpochResult:
    """One pass over the batches: the weighted loss total, the sum of the gradient
    norms, the batches trained and, if the guard stopped it, where."""

    total: Any
    norms: Any
    n_batches: int
    diverged_at: int | None = None  # the batch index whose loss or gradient was not finite
    value: Any = None  # that batch's loss


def run_epoch(
    trainer: Trainer,
    batches: Iterable[tuple[Any, tuple[Any, ...]]],
    on_step: Callable[[int, Any, Any, Any], bool] | None = None,
) -> EpochResult:
    """Train on every ``(weight, batch)`` of ``batches``; ``total`` sums value * weight.

    One network stops at the first non-finite batch (``diverged_at``; nothing was
    updated by it). A stack goes on: its diverged members sat out the update and
    ``on_step(b, value, norm, ok)`` sees them (``trainer.backup`` then holds their
    last parameters). ``on_step`` returning True ends the epoch after that batch.
    """
    single = trainer.theta.ndim == 1
    total: Any = 0.0
    norms: Any = 0.0
    n_batches = 0
    step = trainer.step
    for b, (weight, batch) in enumerate(batches):
        value, norm, ok = step(*batch)
        if single and not ok:
            return EpochResult(total, norms, n_batches, diverged_at=b, value=value)
        total = total + value * weight
        norms = norms + norm
        n_batches += 1
        if on_step is not None and on_step(b, value, norm, ok):
            break
    return EpochResult(total, norms, n_batches)


def generator_batches(
    n: int, batch_size: int, rng: np.random.Generator | None
) -> Iterator[tuple[np.ndarray | slice | None, int]]:
    """mlplab's order: a fresh ``rng.permutation(n)`` per epoch when there is more than
    one batch (``rng=None``: in order); yields (rows, count), rows None for the whole set."""
    n_batches = -(-n // batch_size)
    if n_batches == 1:
        yield None, n
        return
    order = rng.permutation(n) if rng is not None else None
    for start in range(0, n, batch_size):
        if order is None:
            rows: np.ndarray | slice = slice(start, start + batch_size)
        else:
            rows = order[start : start + batch_size]
        yield rows, min(start + batch_size, n) - start


def sklearn_batches(
    sample_idx: np.ndarray, batch_size: int, shuffle: bool
) -> Iterator[tuple[np.ndarray | slice, int]]:
    """scikit-learn's order (``gen_batches`` over the current, already shuffled index);
    ``sample_idx`` is (n,), or (M, n) for members with their own orders."""
    n = sample_idx.shape[-1]
    members = sample_idx.ndim == 2
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        if not shuffle:
            rows: Any = slice(start, stop)
        else:
            rows = sample_idx[:, start:stop] if members else sample_idx[start:stop]
        yield rows, stop - start


def sklearn_shuffle(sample_idx: np.ndarray, rs: np.random.RandomState) -> np.ndarray:
    """``sklearn.utils.shuffle`` of the current order: permute it with ``rs.shuffle``."""
    perm = np.arange(sample_idx.shape[-1])
    rs.shuffle(perm)
    return sample_idx[perm]
