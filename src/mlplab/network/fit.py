"""``Sequential.fit``: a user's training options turned into the one training step.

One epoch: shuffle -> for each mini-batch the step of :mod:`mlplab.training.step`
(forward, loss, backward (chain rule) -> guard against NaN/inf -> ``on_gradients``
callbacks -> clip -> optimizer step, w <- w - alpha dJ/dw for plain gradient
descent). At the end of the epoch: validation loss and metrics, history, callbacks
(early stopping), the learning-rate schedule.

``optimizer="lbfgs"`` runs L-BFGS-B (:mod:`mlplab.training.lbfgs`) on the full
batch instead; each of its iterations counts as one epoch (``epochs`` is the
iteration limit).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab._blas import small_net_threads
from mlplab._checks import (
    check_choice,
    check_float,
    check_int,
    check_sample_weight,
)
from mlplab.clipping import global_norm
from mlplab.diagnostics import GradientWarnings
from mlplab.display import progress_bar
from mlplab.losses import LOSSES, Loss, get_loss
from mlplab.optimizers import SOLVER_NAMES, Constant, Optimizer, get_optimizer, get_schedule
from mlplab.training.callbacks import Callback, EarlyStopping
from mlplab.training.checkpoint import ModelCheckpoint, describe_run, read_checkpoint
from mlplab.training.lbfgs import minimize_lbfgs
from mlplab.training.state import History, TrainingDivergedError, TrainState
from mlplab.training.step import EpochResult, Trainer, generator_batches, run_epoch

if TYPE_CHECKING:  # pragma: no cover
    from mlplab.network import Sequential

__all__ = ["History", "TrainState", "fit", "first_nonfinite", "METRICS", "TrainingDivergedError"]

METRICS = ("accuracy", "mae", "mse")


# ------------------------------------------------------------------ metrics
def _scores(net: Sequential, X: np.ndarray, loss: Loss) -> np.ndarray:
    """Network outputs in the loss's space (logits for the fused cross-entropies)."""
    out = net.forward_unchecked(X, False)
    return net.layers[-1].z if net.output_fusion(loss) else out


def _metric(name: str, scores: np.ndarray, Y: np.ndarray, loss: Loss, fused: bool) -> float:
    if name == "accuracy":
        if loss.name == "cce":
            return float(np.mean(scores.argmax(axis=1) == Y.argmax(axis=1)))
        # bce scores are logits (threshold 0); mse outputs are values (threshold 0.5)
        threshold = 0.0 if loss.name == "bce" else 0.5
        return float(np.mean((scores > threshold) == (Y > 0.5)))
    r = scores - Y
    if name == "mae":
        return float(np.mean(np.abs(r)))
    return float(np.mean(r * r))  # mse


# --------------------------------------------------------------- the loop
def first_nonfinite(net: Sequential) -> str:
    """Name the first layer whose forward output or gradient is non-finite."""
    for i, layer in enumerate(net.layers):
        a = getattr(layer, "a", None)
        if isinstance(a, np.ndarray) and not np.isfinite(a).all():
            return f"layer {i} ({type(layer).__name__}) outputs"
    for name, g in net.named_gradients():
        if not np.isfinite(g).all():
            return f"gradient of {name}"
    return "the loss itself"


def _resolve_batch_size(batch_size: Any, n: int, solver: str) -> int:
    if batch_size is None or solver in ("gd", "lbfgs"):
        return n
    if batch_size == "auto":
        return min(32, n)
    return min(check_int("batch_size", batch_size, minimum=1), n)


def fit(
    net: Sequential,
    X: Any,
    y: Any,
    *,
    loss: str | dict[str, Any] | Loss = "mse",
    optimizer: str | dict[str, Any] | Optimizer = "adam",
    learning_rate: float | None = None,
    epochs: int = 100,
    batch_size: int | str | None = "auto",
    shuffle: bool = True,
    l2: float = 0.0,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    lr_schedule: Any = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float = 0.0,
    patience: int | None = None,
    min_delta: float = 0.0,
    metrics: Sequence[str] = (),
    sample_weight: Any = None,
    callbacks: Sequence[Callback] = (),
    on_nan: str = "stop",
    diagnostics: bool = True,
    tol: float = 1e-5,
    max_fun: int = 15000,
    seed: int | None = None,
    verbose: int = 0,
    resume_from: str | os.PathLike[str] | None = None,
) -> History:
    """Train ``net`` on (X, y) and return the History.

    Parameters
    ----------
    loss : "mse", "bce" or "cce" (or a Loss)
    optimizer : "gd" (full-batch gradient descent), "sgd", "momentum", "nesterov",
        "adagrad", "rmsprop", "adam", "lbfgs", or an Optimizer instance (its
        state carries over, e.g. ``optimizer=net.optimizer`` to resume).
    learning_rate : float, optional
        Initial step size (default: the optimizer's own).
    epochs : int
        Passes over the data (for "lbfgs": the maximum number of iterations).
    batch_size : int, None or "auto"
        Mini-batch size; None = full batch; "auto" = min(32, n). "gd" and
        "lbfgs" always use the full batch.
    shuffle : bool
        Reshuffle the samples every epoch (seeded by ``seed``, else the network's seed).
    l2 : float
        L2 penalty (l2/2) * sum ||W||^2 on weight matrices.
    clip_norm, clip_value : float, optional
        Gradient clipping by global norm / by value, before every update.
    lr_schedule : "constant", "invscaling", "step", a dict or a Schedule
        Learning rate per epoch.
    validation_data : (X_val, y_val), optional
    validation_split : float
        Fraction of the samples held out (at random, seeded) for validation.
    patience : int, optional
        Early stopping: stop after ``patience`` epochs without an improvement
        of ``min_delta`` in val_loss (loss without validation data); the best
        weights are restored.
    metrics : sequence of "accuracy", "mae", "mse"
        Recorded per epoch on the training data (and validation data).
    sample_weight : array (n,), optional
    callbacks : sequence of Callback
    diagnostics : bool
        Warn (``mlplab.diagnostics.GradientWarning``) when the gradient vanishes,
        explodes or ReLU units die in the first epochs, with the lecture's remedy;
        once per finding. False turns it off.
    on_nan : "stop" or "raise"
        When a batch gives a non-finite loss or gradient, or the loss on the
        training data at the final weights is not finite (checked once after the
        last update): stop with a RuntimeWarning (the history's loss ends with the
        non-finite value), or raise TrainingDivergedError naming the epoch and
        batch. Either way the weights are those of the last finite step.
    tol, max_fun : float, int
        "lbfgs" only: gradient tolerance and the limit on loss evaluations.
    seed : int, optional
        Seed of shuffling and of the validation split.
    verbose : int
        0 silent; 1 a progress bar (tqdm.auto: a widget in Jupyter, text on a terminal;
        one line per epoch when stderr is neither); 2 one line per epoch.
    resume_from : path, optional
        A checkpoint written by ``mlplab.ModelCheckpoint``: continue that run
        (weights, optimizer state, shuffling, history, early stopping) to the
        final weights and history of the uninterrupted run, bit for bit. The
        network, data and arguments must be the run's (a ValueError names what
        differs); ``epochs`` may be larger, to train further.
    """
    solver_name = optimizer if isinstance(optimizer, str) else None
    if solver_name is not None:
        check_choice("optimizer", solver_name, SOLVER_NAMES)
    loss_obj = get_loss(loss)
    X = net.check_input(X)
    Y = net.prepare_targets(y, loss_obj, X)
    sw = check_sample_weight(sample_weight, X.shape[0], net.dtype)
    fused = net.output_fusion(loss_obj)
    epochs = check_int("epochs", epochs, minimum=1)
    l2 = check_float("l2", l2, minimum=0.0)
    if clip_norm is not None:
        clip_norm = check_float("clip_norm", clip_norm, minimum=0.0, strict_min=True)
    if clip_value is not None:
        clip_value = check_float("clip_value", clip_value, minimum=0.0, strict_min=True)
    if learning_rate is not None:
        learning_rate = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    check_choice("on_nan", on_nan, ("stop", "raise"))
    metrics = list(metrics)
    for m in metrics:
        check_choice("metric", m, METRICS)
    validation_split = check_float(
        "validation_split", validation_split, minimum=0.0, maximum=1.0, strict_max=True
    )
    if seed is None:
        seed = net.seed
    rng = np.random.default_rng(seed)

    X, Y, sw, Xv, Yv = _validation(net, X, Y, sw, loss_obj, validation_data, validation_split, rng)
    callbacks = _all_callbacks(
        callbacks, diagnostics and solver_name != "lbfgs", patience, min_delta, Xv is not None
    )
    state = _new_state(epochs, metrics, Xv is not None)
    data = _Data(X, Y, sw, loss_obj, fused, l2, metrics, Xv, Yv, net.sequence_output)
    if solver_name == "lbfgs":
        _checkpointed_run(net, data, None, rng, state, callbacks, resume_from, {})  # refused
        _fit_lbfgs(net, data, epochs, tol, max_fun, state, callbacks, verbose, on_nan)
        return History(state)
    bs = _resolve_batch_size(batch_size, X.shape[0], solver_name or "")
    schedule = get_schedule(lr_schedule)
    opt = get_optimizer(optimizer, learning_rate)
    if solver_name is None and learning_rate is not None:
        opt.learning_rate = opt.initial_learning_rate = learning_rate
    resume = _checkpointed_run(net, data, opt, rng, state, callbacks, resume_from, dict(
        batch_size=bs, shuffle=bool(shuffle), clip_norm=clip_norm, clip_value=clip_value,
        lr_schedule=schedule.config(), seed=seed, validation_split=validation_split))  # fmt: skip
    net.optimizer = opt  # every argument is valid: from here on this fit owns the optimizer
    _fit_epochs(net, data, opt, (clip_norm, clip_value), bs, rng if shuffle else None,
                schedule, state, callbacks, on_nan, verbose, resume)  # fmt: skip
    return History(state)


def _validation(net, X, Y, sw, loss, validation_data, validation_split, rng):
    """(X, Y, sw, Xv, Yv): the validation data given, or a seeded split of (X, Y)."""
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise ValueError("`validation_data` must be a pair (X_val, y_val).")
        Xv = net.check_input(validation_data[0], name="validation_data[0]")
        Yv = net.prepare_targets(validation_data[1], loss, Xv, name="validation_data[1]")
        return X, Y, sw, Xv, Yv
    if validation_split <= 0:
        return X, Y, sw, None, None
    n_val = int(round(validation_split * X.shape[0]))
    if n_val < 1 or n_val >= X.shape[0]:
        raise ValueError(
            f"`validation_split`={validation_split} leaves {n_val} validation and "
            f"{X.shape[0] - n_val} training samples; both need at least one."
        )
    perm = rng.permutation(X.shape[0])
    val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    sw = None if sw is None else sw[tr_idx]
    return X[tr_idx], Y[tr_idx], sw, X[val_idx], Y[val_idx]


def _all_callbacks(callbacks, warnings_on, patience, min_delta, validating) -> list[Callback]:
    """The user's callbacks, then the doctor's warnings and early stopping if asked for."""
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(
                f"callbacks must be mlplab Callback objects. Received: {type(cb).__name__}."
            )
    if warnings_on:
        callbacks.append(GradientWarnings())
    if patience is not None:
        callbacks.append(EarlyStopping("val_loss" if validating else "loss", patience, min_delta))
    # checkpoints last: they save what every other callback made of the epoch
    callbacks.sort(key=lambda cb: isinstance(cb, ModelCheckpoint))
    return callbacks


def _checkpointed_run(net, data, opt, rng, state, callbacks, resume_from, options):
    """With a ModelCheckpoint or ``resume_from``: describe the run for its checkpoints
    (``state.run``, ``state.rng``, ``state.callbacks``) and read the checkpoint to resume
    from, checked to be this run's before anything changes; else None."""
    if resume_from is None and not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        return None
    if opt is None:
        raise ValueError(
            "ModelCheckpoint and `resume_from` need a gradient-descent optimizer; "
            "L-BFGS's memory is not checkpointed. Received: optimizer='lbfgs'."
        )
    options = {**options, "optimizer": _optimizer_spec(opt), "loss": data.loss.config(),
               "l2": data.l2, "metrics": data.metrics}  # fmt: skip
    arrays = {"X": data.X, "y": data.Y, "sample_weight": data.sw,
              "validation X": data.Xv, "validation y": data.Yv}  # fmt: skip
    state.run, state.rng, state.callbacks = describe_run(net, arrays, options), rng, callbacks
    return None if resume_from is None else read_checkpoint(resume_from, state.run, callbacks)


def _optimizer_spec(opt: Optimizer) -> dict[str, Any]:
    """The optimizer's kind and hyperparameters, with the rate its schedule starts from."""
    spec = {**opt.config(), "initial_learning_rate": opt.initial_learning_rate}
    del spec["learning_rate"]  # the current rate: the schedule's, restored with the state
    return spec


def _new_state(epochs: int, metrics: list[str], validating: bool) -> TrainState:
    state = TrainState(epochs=epochs)
    state.history = {"loss": []}
    if validating:
        state.history["val_loss"] = []
    for m in metrics:
        state.history[m] = []
        if validating:
            state.history[f"val_{m}"] = []
    state.history["grad_norm"] = []
    return state


def _fit_epochs(net, data, opt, clip, bs, rng, schedule, state, callbacks, on_nan, verbose,
                resume=None):  # fmt: skip
    """Epochs of mini-batches through the one step; the schedule, callbacks, history
    (from the epoch after a checkpoint's when ``resume`` is one)."""
    X, Y, sw = data.X, data.Y, data.sw
    n = X.shape[0]
    lr0 = opt.initial_learning_rate  # a resumed optimizer restarts its schedule from here
    state.n_batches = n_batches = -(-n // bs)
    pbar = _progress(state.epochs, verbose)
    hooks = _StepHooks(state, net, callbacks)
    loss, l2, fused = data.loss, data.l2, data.fused

    def loss_and_grad(theta, Xb, Yb, swb):
        return net.loss_and_grad_unchecked(Xb, Yb, loss, swb, l2, fused), net.grad

    trainer = Trainer(net.theta, loss_and_grad, opt, clip_norm=clip[0], clip_value=clip[1])
    state.trainer = trainer
    weight_total = n if sw is None else float(sw.sum())

    def minibatches():
        base = state.step
        for b, (rows, count) in enumerate(generator_batches(n, bs, rng)):
            state.batch, state.step = b, base + b
            if hooks.batch_begin:
                hooks.before_step(b)
            if rows is None:
                yield weight_total, (X, Y, sw)
            else:
                swb = None if sw is None else sw[rows]
                yield (count if swb is None else float(swb.sum())), (X[rows], Y[rows], swb)

    # full batch: the same batch every epoch (state.batch stays 0), no generator per epoch
    one = [(weight_total, (X, Y, sw))] if n_batches == 1 and not hooks.batch_begin else None
    constant = type(schedule) is Constant  # the rate is lr0 in every epoch: no call per epoch
    epoch_begin, epoch_end = (_overriding(callbacks, h) for h in ("on_epoch_begin", "on_epoch_end"))

    # Overflow and NaN are caught by the step's guard, with a message that says
    # where; numpy's own floating-point warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"), small_net_threads(net, bs):
        for cb in callbacks:
            cb.on_train_begin(state, net)
        first = 0 if resume is None else resume.restore(state, net, callbacks)
        record = _Recorder(net, state, data)  # after restore: it may bring the history back
        # epochs that nothing looks into run together (_quiet_epochs) while no step hook is on
        quiet = bool(one) and constant and not (epoch_begin or epoch_end or verbose or record.more)
        epoch, diverged = first, False
        while epoch < state.epochs:
            state.epoch = epoch
            opt.learning_rate = state.learning_rate = lr0 if constant else schedule(lr0, epoch)
            for cb in epoch_begin:
                cb.on_epoch_begin(state, net)
            if epoch >= hooks.until:
                on_step = hooks.for_epoch(epoch, trainer)
            if quiet and on_step is None:  # up to the end, or to where the hooks change
                result = _quiet_epochs(trainer, one[0], state, record, hooks.until)
            else:
                base = state.step
                result = run_epoch(trainer, one or minibatches(), on_step)
                state.step = base + result.n_batches
                if result.diverged_at is None:
                    state.loss = result.total / weight_total  # the mean of the batch losses
                    record(result.norms / n_batches)
            diverged = result.diverged_at is not None
            if diverged:
                _diverged_in_epoch(net, trainer, state, result, on_nan)
                break
            for cb in epoch_end:
                cb.on_epoch_end(state, net)
            if verbose:
                _report(pbar, state, verbose)
            if state.stop:
                break
            epoch = state.epoch + 1
        if trainer.steps and not diverged:
            _check_end(net, trainer, state, data, on_nan)
    for cb in callbacks:
        cb.on_train_end(state, net)
    if pbar is not None:
        pbar.close()


def _quiet_epochs(trainer: Trainer, one: tuple, state: TrainState, record, until: float):
    """The epochs from ``state.epoch`` to ``until`` (or the last) that nothing looks into
    (one full batch, no callback at them, a constant rate, no metrics or validation,
    silent): one step each and its history row, the same values as ``run_epoch`` and
    ``_fit_epochs`` give one epoch (a tiny network's step takes microseconds: their
    per-epoch work was a tenth of it).
    Returns the EpochResult of the last epoch run (``state.epoch``), or of the one whose
    step the guard stopped."""
    weight, batch = one
    step, losses, norms = trainer.step, record.loss, record.grad_norm
    start, stop = state.epoch, int(min(state.epochs, until))
    for epoch in range(start, stop):
        value, norm, ok = step(*batch)
        if not ok:
            state.epoch, state.step = epoch, state.step + (epoch - start)
            return EpochResult(0.0, 0.0, 0, diverged_at=0, value=value)
        loss = (0.0 + value * weight) / weight  # run_epoch's total of one batch, its mean
        losses(loss)
        norms((0.0 + norm) / 1)
        state.loss = loss
    state.epoch, state.step = stop - 1, state.step + (stop - start)
    return EpochResult(0.0 + value * weight, 0.0 + norm, 1)


def _diverged_in_epoch(net, trainer: Trainer, state: TrainState, result, on_nan: str) -> None:
    """A step's guard found a non-finite loss or gradient: say where, undo, apply on_nan."""
    where = first_nonfinite(net)  # from the failed step's caches and gradient
    trainer.undo()
    _diverged(state, result.value, (
        f"Training diverged at epoch {state.epoch + 1}, batch {result.diverged_at + 1}: "
        f"non-finite {'loss' if not math.isfinite(result.value) else 'gradient'} (first "
        f"non-finite: {where}). The weights of the last finite step were kept."
    ), on_nan, depth=1)  # fmt: skip


def _check_end(net, trainer: Trainer, state: TrainState, data: _Data, on_nan: str) -> None:
    """After the last update, once: the loss on the training data at the final weights
    (in inference mode: what predictions would be). The step's guard checks each batch's
    loss before its update, never after the last; a non-finite one is a divergence of the
    last update, which is undone."""
    bounded = type(data.loss) in LOSSES.values()  # mlplab's own losses: the bound holds
    value = net.loss_at_end(data.X, data.Y, data.loss, data.sw, bounded)
    if value is None or math.isfinite(value):
        return
    trainer.undo()
    _diverged(state, value, (
        f"Training diverged at epoch {state.epoch + 1}, batch {state.batch + 1} (the last "
        f"update): the loss on the training data at the final weights is {value}, the "
        "network's outputs overflow. The weights from before that update were kept."
    ), on_nan, depth=1)  # fmt: skip


def _overriding(callbacks: list[Callback], hook: str) -> list[Callback]:
    """The callbacks that override ``hook``, in order (a no-op call costs ~0.2 us, a real
    share of a tiny network's step)."""
    base = getattr(Callback, hook)
    return [cb for cb in callbacks if getattr(getattr(cb, hook), "__func__", None) is not base]


class _StepHooks:
    """The callbacks' per-step hooks, only those a callback overrides, and
    ``on_gradients`` only in the epochs its callback asks for (``gradient_epochs``)."""

    def __init__(self, state: TrainState, net: Sequential, callbacks: list[Callback]) -> None:
        self.state, self.net = state, net
        self.batch_begin, self._on_grad, self.batch_end = (
            _overriding(callbacks, h) for h in ("on_batch_begin", "on_gradients", "on_batch_end")
        )
        self.until: float = 0  # the first epoch whose hooks are not chosen yet

    def for_epoch(self, epoch: int, trainer: Trainer) -> Any:
        """The hooks of ``epoch`` and of the epochs after it, up to ``self.until`` (where
        a callback's ``gradient_epochs`` ends): the trainer's, and ``run_epoch``'s
        ``on_step`` (returned)."""
        self.on_grad = [
            cb for cb in self._on_grad if cb.gradient_epochs is None or epoch < cb.gradient_epochs
        ]
        ends = [cb.gradient_epochs for cb in self._on_grad]
        later = [end for end in ends if end is not None and end > epoch]
        self.until = min(later) if later else math.inf
        trainer.hooks = [self.on_gradients] if self.on_grad else []
        # a per-step callback may stop training after its batch: check after every step
        return self.after_step if self.batch_begin or self.on_grad or self.batch_end else None

    def before_step(self, b: int) -> None:
        self.state.batch = b
        for cb in self.batch_begin:
            cb.on_batch_begin(self.state, self.net)

    def on_gradients(self, value: float, norm: float, batch: tuple[Any, ...]) -> None:
        state = self.state
        state.loss, state.grad_norm = value, norm
        for cb in self.on_grad:
            cb.on_gradients(state, self.net)  # the raw gradient, before clipping

    def after_step(self, b: int, value: float, norm: float, ok: bool) -> bool:
        state = self.state
        state.loss, state.grad_norm = value, norm
        state.step += 1
        for cb in self.batch_end:
            cb.on_batch_end(state, self.net)
        return state.stop


def _diverged(state: TrainState, value: float, what: str, on_nan: str, depth: int = 0) -> None:
    """The guard's policy for ``fit`` (the weights are back to the last finite step):
    record the non-finite loss, then stop with a warning or raise (``depth``: the calls
    between this and ``_fit_epochs``, for the warning to point at the user's line)."""
    msg = f"{what} Try a lower learning_rate, clip_norm, scaled inputs or another initialisation."
    state.history["loss"].append(value if not math.isfinite(value) else math.nan)
    state.stop, state.stop_reason = True, msg
    if on_nan == "raise":
        raise TrainingDivergedError(msg)
    warnings.warn(msg, RuntimeWarning, stacklevel=5 + depth)


@dataclass
class _Data:
    """What one fit trains and validates on (validated, in the network's dtype)."""

    X: np.ndarray
    Y: np.ndarray
    sw: np.ndarray | None
    loss: Loss
    fused: bool
    l2: float
    metrics: list[str]
    Xv: np.ndarray | None
    Yv: np.ndarray | None
    sequences: bool = False  # outputs (n, T, k): metrics compare every step

    def targets(self, Y: np.ndarray) -> np.ndarray:
        """Y as the network's flat outputs are laid out ((n T, k) for sequences)."""
        return Y.reshape(-1, Y.shape[-1]) if self.sequences else Y


class _Recorder:
    """An epoch's row of the history: the loss (``state.loss``), the mean gradient norm,
    then the metrics and the validation loss if asked for."""

    def __init__(self, net: Sequential, state: TrainState, data: _Data) -> None:
        self.net, self.state, self.data = net, state, data
        h = state.history
        self.loss, self.grad_norm = h["loss"].append, h["grad_norm"].append
        self.more = bool(data.metrics) or data.Xv is not None

    def __call__(self, grad_norm: float) -> None:
        self.loss(self.state.loss)
        self.grad_norm(grad_norm)
        if self.more:
            self.scores()

    def scores(self) -> None:
        net, data, h = self.net, self.data, self.state.history
        if data.metrics:
            scores = _scores(net, data.X, data.loss)
            for m in data.metrics:
                h[m].append(_metric(m, scores, data.targets(data.Y), data.loss, data.fused))
        if data.Xv is not None:
            scores = _scores(net, data.Xv, data.loss)
            Yv = data.targets(data.Yv)
            h["val_loss"].append(data.loss.value(scores, Yv))
            for m in data.metrics:
                h[f"val_{m}"].append(_metric(m, scores, Yv, data.loss, data.fused))


def _progress(epochs: int, verbose: int):
    """verbose=1: the progress bar (a widget in Jupyter, text on a terminal; elsewhere,
    e.g. a log file, one line per epoch, as verbose=2)."""
    return progress_bar(epochs, "epoch", verbose == 1)


def _report(pbar, state: TrainState, verbose: int) -> None:
    if not verbose:
        return
    last = {k: v[-1] for k, v in state.history.items() if v and k != "grad_norm"}
    if pbar is not None:
        pbar.set_postfix({k: f"{v:.4g}" for k, v in last.items()}, refresh=False)
        pbar.update(1)
    elif verbose >= 2 or verbose == 1:
        text = ", ".join(f"{k}={v:.6g}" for k, v in last.items())
        print(f"epoch {state.epoch + 1}/{state.epochs}: {text}", file=sys.stderr)


# ------------------------------------------------------------------ L-BFGS
def _lbfgs_end(net: Sequential, data: _Data, state: TrainState, on_nan: str) -> None:
    """The caches at the final weights (the best point); when even that loss is not
    finite, L-BFGS found no finite point: on_nan applies."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = net.loss_and_grad_unchecked(data.X, data.Y, data.loss, data.sw, data.l2, data.fused)
    if not math.isfinite(value):
        _diverged(state, value, (
            f"Training diverged: L-BFGS found no weights with a finite loss in "
            f"{state.n_iter} iteration(s) (the loss on the training data is {value}, the "
            "network's outputs overflow). The initial weights were kept."
        ), on_nan, depth=1)  # fmt: skip


def _fit_lbfgs(
    net: Sequential,
    data: _Data,
    max_iter: int,
    tol: float,
    max_fun: int,
    state: TrainState,
    callbacks: list[Callback],
    verbose: int,
    on_nan: str = "stop",
) -> None:
    """Full-batch L-BFGS-B (scipy's, through mlplab.training.lbfgs) on theta; one
    iteration = one epoch of history."""
    tol = check_float("tol", tol, minimum=0.0)
    max_fun = check_int("max_fun", max_fun, minimum=1)
    theta = net.theta
    best = {"value": math.inf, "theta": theta.copy()}
    last: dict[str, Any] = {"value": math.nan, "norm": math.nan, "x": None}

    def fun(X: np.ndarray, members: np.ndarray) -> tuple[list[float], np.ndarray]:
        x = X[0]  # one network: the driver's only member
        theta[...] = x  # in place: every layer sees it through its view
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value = net.loss_and_grad_unchecked(
                data.X, data.Y, data.loss, data.sw, data.l2, data.fused
            )
        g = net.grad  # the driver copies it
        last["value"], last["norm"], last["x"] = value, global_norm(net.grad), x
        if math.isfinite(value) and np.isfinite(g).all():
            if value < best["value"]:
                best["value"], best["theta"] = value, x.copy()
        else:
            value = math.inf  # makes the line search back off
            g = np.zeros_like(g)
        return [value], g[None]

    pbar = _progress(max_iter, verbose)
    for cb in callbacks:
        cb.on_train_begin(state, net)

    state.n_batches = 1  # each iteration is one full-batch "epoch"
    record = _Recorder(net, state, data)

    def callback(members: np.ndarray, X: np.ndarray, F: np.ndarray) -> bool:
        x = X[0]
        theta[...] = x
        if callbacks:
            if last["x"] is None or not np.array_equal(last["x"], x):
                fun(X, members)  # the caches and gradient of the accepted point, for callbacks
            state.batch, state.grad_norm = 0, last["norm"]
            for cb in callbacks:
                cb.on_gradients(state, net)
        state.loss = float(F[0])
        record(last["norm"])
        for cb in callbacks:
            cb.on_epoch_end(state, net)
        _report(pbar, state, verbose)
        state.epoch += 1
        state.step += 1
        return state.stop  # True: the driver stops, as scipy on a StopIteration

    # non-finite values are the driver's to handle (it backs off) and ours (below)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        with small_net_threads(net, data.X.shape[0]):
            result = minimize_lbfgs(fun, theta.astype(np.float64), maxiter=max_iter,
                                    maxfun=max_fun, gtol=tol, callback=callback)  # fmt: skip
        x = result.x if np.isfinite(result.fun) and np.isfinite(result.x).all() else best["theta"]
        theta[...] = x
    state.n_iter = int(result.nit)  # type: ignore[attr-defined]
    _lbfgs_end(net, data, state, on_nan)
    if not state.stop_reason:
        state.stop_reason = f"lbfgs: {result.message}"
    for cb in callbacks:
        cb.on_train_end(state, net)
    if pbar is not None:
        pbar.close()
    net.optimizer = None
