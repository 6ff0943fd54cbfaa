"""Checkpoints of a training run: ``ModelCheckpoint`` writes them, ``fit(resume_from=)``
continues from one, bit for bit.

A checkpoint is an mlplab model file: :func:`mlplab.load` returns the network (with
its weights, BatchNorm statistics and optimizer). Beside the network, in the file's
resume section (``mlplab.io.save(..., resume=)``, JSON and arrays under the same
digests; never pickle), it holds what the next epoch reads:

- the optimizer's state exactly as it steps: its slot arrays (Adam's moments,
  momentum's velocity) bit for bit and the step count ``t`` (the network's part of
  the file: ``Optimizer.state_dict(exact=True)``), the current and initial
  learning rates;
- the run's random generator (``bit_generator.state``): the next epoch's shuffle;
- the position: the last completed epoch, the step count, the batch cursor (a
  checkpoint is written at the end of an epoch: every batch of it is done), whether
  training had stopped and why; the schedule's position is the epoch;
- the weights before the last update (where a non-finite loss in the next batch
  sends ``fit`` back: ``on_nan``);
- the history so far and the callbacks' state (``Callback.checkpoint_state``:
  early stopping's best value, its epoch, the patience count and the best weights);
- ``run``: what the resumed ``fit`` must match — the architecture, the shapes and
  SHA-256 digests of the training and validation data, and every option that the
  arithmetic depends on (``epochs`` may differ: more epochs train further).

Numbers are kept with their type (a float32 loss stays a float32) so that a resumed
run compares and rounds exactly as the uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab._checks import check_int
from mlplab.io import ModelFormatError, from_json_tree, json_tree, load_with_resume, save
from mlplab.training.callbacks import Callback

if TYPE_CHECKING:  # pragma: no cover
    from mlplab.network import Sequential
    from mlplab.training.state import TrainState

__all__ = ["Checkpoint", "ModelCheckpoint", "describe_run", "read_checkpoint"]

FORMAT = 1  # the layout of the resume section written here


class ModelCheckpoint(Callback):
    """Write the training run to ``path`` every ``every`` epochs, atomically.

    Each write replaces the file whole (a temporary file in the same directory,
    fsync'ed, renamed over ``path``, the directory fsync'ed: ``mlplab.save``), so a
    crash at any moment leaves the previous checkpoint intact and loadable. The
    last epoch of the run (or the one where it stopped) is written too.
    ``net.fit(..., resume_from=path)`` with the same arguments continues to the
    final weights and history of the uninterrupted run, bit for bit;
    ``mlplab.load(path)`` returns the network.

    Checkpointing needs a gradient-descent optimizer (not "lbfgs"). Kept for
    callbacks: what their ``checkpoint_state`` returns (``EarlyStopping``, and
    ``fit(patience=)``'s); a callback without it starts afresh on resume.
    """

    def __init__(self, path: str | os.PathLike[str], every: int = 1) -> None:
        self.path = os.fsdecode(path)
        self.every = check_int("every", every, minimum=1)

    def on_train_begin(self, state, net):
        self.written: tuple[int, bool] | None = None  # (step, stop) of the last write

    def on_epoch_end(self, state, net):
        done = state.epoch + 1
        if done % self.every == 0 or done == state.epochs or state.stop:
            self._write(state, net)

    def on_train_end(self, state, net):
        # The fit's end check found the last update's outputs non-finite after this
        # epoch's write and undid it: the file must not keep those weights. (A divergence
        # in a later epoch leaves the last good checkpoint as it is.)
        if self.written == (state.step, False) and state.stop:
            self._write(state, net)

    def _write(self, state, net):
        try:
            write_checkpoint(self.path, state, net)
        except OSError as exc:
            exc.add_note(
                f"ModelCheckpoint could not write {self.path!r} after epoch {state.epoch + 1}; "
                "the checkpoint there before (if any) is intact."
            )
            raise
        self.written = (state.step, state.stop)


def write_checkpoint(path: str, state: TrainState, net: Sequential) -> None:
    """Save ``net`` with the run's resume state (see the module docstring)."""
    if state.run is None:
        raise RuntimeError(
            "ModelCheckpoint saves a run of Sequential.fit with a gradient-descent "
            "optimizer; this training loop does not provide one."
        )
    opt = net.optimizer
    config: dict[str, Any] = {
        "format": FORMAT,
        "run": state.run,
        "epoch": state.epoch,
        "step": state.step,
        "batch": state.n_batches,  # the cursor: every batch of the epoch is done
        "stop": state.stop,
        "stop_reason": state.stop_reason,
        "history": {k: json_tree(list(vs), typed=True) for k, vs in state.history.items()},
        "rng": None if state.rng is None else state.rng.bit_generator.state,
        "optimizer": {  # its slots and step count: the network's part of the file
            "learning_rate": json_tree(opt.learning_rate, typed=True),
            "initial_learning_rate": json_tree(opt.initial_learning_rate, typed=True),
        },
        "callbacks": [],
    }
    arrays: dict[str, np.ndarray] = {}
    trainer = state.trainer
    if trainer is not None and trainer.steps:  # what a divergence in the next batch goes back to
        config["undo"], arrays["undo"] = trainer.steps, trainer.backup
    for i, cb in enumerate(_stateful(state.callbacks)):
        kept = cb.checkpoint_state()
        entry: dict[str, Any] = {"class": type(cb).__name__, "config": None}
        if kept is not None:
            entry["config"] = json_tree(dict(kept[0]), typed=True)
            arrays.update({f"callbacks.{i}.{k}": v for k, v in kept[1].items()})
        config["callbacks"].append(entry)
    save(net, path, resume=(config, arrays))


def _stateful(callbacks: list[Callback]) -> list[Callback]:
    """The callbacks whose state a checkpoint keeps: those that define
    ``checkpoint_state`` (the others, checkpoint writers included, may come and go)."""
    base = Callback.checkpoint_state
    return [cb for cb in callbacks if getattr(type(cb), "checkpoint_state", base) is not base]


def describe_run(
    net: Sequential, data: dict[str, np.ndarray | None], options: dict[str, Any]
) -> dict[str, Any]:
    """What a resumed run must share with the checkpointed one: the architecture,
    the data (shape, dtype, SHA-256) and the options the arithmetic depends on."""
    config = net.get_config()
    described: dict[str, Any] = {}
    for name, arr in data.items():
        if arr is None:
            described[name] = None
            continue
        arr = np.ascontiguousarray(arr)
        digest = hashlib.sha256(arr.view(np.uint8).reshape(-1)).hexdigest()
        described[name] = {"shape": list(arr.shape), "dtype": arr.dtype.name, "sha256": digest}
    network = {k: config[k] for k in ("n_inputs", "dtype", "layers")}
    # as the file will hold it (tuples become lists), to compare with a checkpoint's
    return json.loads(json.dumps({"network": network, "data": described, "options": options}))


class Checkpoint:
    """A checkpoint read and checked against the run about to resume from it."""

    def __init__(self, path: str, loaded: Any, config: dict[str, Any], arrays: dict) -> None:
        self.path, self.loaded, self.config, self.arrays = path, loaded, config, arrays

    def restore(self, state: TrainState, net: Sequential, callbacks: list[Callback]) -> int:
        """Put the checkpoint's state into this run (after ``on_train_begin``); return
        the first epoch to train."""
        try:
            return self._restore(state, net, callbacks)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(
                f"cannot resume from {self.path!r}: its resume state is invalid "
                f"({type(exc).__name__}: {exc})"
            ) from exc

    def _restore(self, state: TrainState, net: Sequential, callbacks: list[Callback]) -> int:
        c, arrays = self.config, self.arrays
        net.load_state_dict(self.loaded.state_dict())  # weights and BatchNorm statistics
        opt = net.optimizer
        opt.load_state_dict(self.loaded.optimizer.state_dict(exact=True))  # bit for bit
        for name, arr in opt.state.items():
            if arr.shape != net.theta.shape or arr.dtype != net.theta.dtype:
                raise ValueError(f"optimizer slot {name!r} does not match the parameters")
        o = from_json_tree(c["optimizer"])
        opt.learning_rate, opt.initial_learning_rate = (
            o["learning_rate"],
            o["initial_learning_rate"],
        )
        if c["rng"] is not None:
            state.rng.bit_generator.state = c["rng"]
        if "undo" in c:
            np.copyto(state.trainer.backup, arrays["undo"], casting="no")
            state.trainer.steps = int(c["undo"])
        if set(c["history"]) != set(state.history):
            raise ValueError(f"history {sorted(c['history'])}, expected {sorted(state.history)}")
        for key, values in c["history"].items():
            state.history[key][:] = from_json_tree(values)
        for i, (cb, entry) in enumerate(zip(_stateful(callbacks), c["callbacks"], strict=True)):
            if entry["config"] is not None:
                prefix = f"callbacks.{i}."
                kept = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                config = from_json_tree(entry["config"])
                cb.restore_checkpoint_state(config, kept)
        state.step = int(c["step"])
        state.stop, state.stop_reason = bool(c["stop"]), str(c["stop_reason"])
        state.epoch = int(c["epoch"])
        return state.epochs if state.stop else state.epoch + 1


def read_checkpoint(
    path: str | os.PathLike[str], run: dict[str, Any], callbacks: list[Callback]
) -> Checkpoint:
    """Read the checkpoint at ``path`` and check that this run can continue it: a
    ``ValueError`` names what differs (architecture, data, an option, callbacks)."""
    path_str = os.fsdecode(path)
    loaded, config, arrays = load_with_resume(path_str)  # FileNotFoundError, ModelFormatError
    if not (isinstance(config.get("run"), dict) and config.get("format") == FORMAT):
        raise ModelFormatError(
            f"cannot resume from {path_str!r}: its resume state is not one this "
            f"version of mlplab writes (format {config.get('format')!r})"
        )
    problem = _malformed(config, arrays)
    if problem:
        raise ModelFormatError(f"cannot resume from {path_str!r}: its resume state is invalid: "
                               f"{problem}")  # fmt: skip
    where = _first_difference(config["run"], run)
    if where is not None:
        key, saved, now = where
        what = f"the checkpoint's run has {saved!r}, this one {now!r}"
        if key.endswith(".sha256"):
            key, what = key[: -len(".sha256")], "same shape, other values (SHA-256)"
            if run["options"].get("validation_split") and run["options"].get("seed") is None:
                what += "; a validation_split without a seed differs every run: pass seed="
        raise ValueError(
            f"cannot resume from {path_str!r}: {key} differs — {what}. Resume with the "
            "same network, data and fit arguments (only `epochs` may change)."
        )
    saved = [entry["class"] for entry in config["callbacks"]]
    now = [type(cb).__name__ for cb in _stateful(callbacks)]
    if saved != now:
        raise ValueError(
            f"cannot resume from {path_str!r}: the callbacks with a state to resume differ "
            f"— the checkpoint's run had {saved}, this one has {now}."
        )
    return Checkpoint(path_str, loaded, config, arrays)


def _malformed(c: dict[str, Any], arrays: dict[str, np.ndarray]) -> str:
    """What is wrong with a resume state's layout ("" if nothing), checked before
    this fit changes anything; what it says about this run is compared afterwards."""
    counts = [c.get(k) for k in ("epoch", "step", "batch")]
    if not all(type(v) is int and v >= 0 for v in counts):
        return f"epoch, step and batch must be counts, not {counts}"
    history = c.get("history")
    if not (isinstance(history, dict) and all(isinstance(v, list) for v in history.values())):
        return "the history is not a map of lists"
    o = c.get("optimizer")
    if not (isinstance(o, dict) and {"learning_rate", "initial_learning_rate"} <= set(o)):
        return "the optimizer entry has no learning rates"
    entries = c.get("callbacks")
    if not (isinstance(entries, list) and all(isinstance(e, dict) and "class" in e
                                              for e in entries)):  # fmt: skip
        return "the callbacks entry is not a list of {class, config}"
    if c.get("rng") is not None:
        try:
            np.random.PCG64().state = c["rng"]  # fit's generator: default_rng's PCG64
        except (TypeError, ValueError, KeyError) as exc:
            return f"the random generator state is not a PCG64 state ({exc})"
    return ""


def _first_difference(saved: Any, now: Any, key: str = "") -> tuple[str, Any, Any] | None:
    """The first (key path, saved value, current value) where two JSON trees differ."""
    if isinstance(saved, dict) and isinstance(now, dict):
        # a kind ("name", "class") first, a digest last (after the shape it covers)
        order = sorted(
            set(saved) | set(now), key=lambda k: (k not in ("name", "class"), k == "sha256", k)
        )
        for k in order:
            found = _first_difference(saved.get(k), now.get(k), f"{key}.{k}" if key else k)
            if found is not None:
                return found
        return None
    if isinstance(saved, list) and isinstance(now, list) and len(saved) == len(now):
        for i, (a, b) in enumerate(zip(saved, now, strict=True)):
            found = _first_difference(a, b, f"{key}[{i}]")
            if found is not None:
                return found
        return None
    return None if saved == now else (key, saved, now)
