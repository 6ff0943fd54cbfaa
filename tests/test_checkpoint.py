"""Checkpoint and resume (issue 13 item 3; RELIABILITY 16-17): ModelCheckpoint writes
atomically, and fit(resume_from=) continues to the uninterrupted run's final weights
and history, bit for bit — also after SIGKILL at any point, mid-write included."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mlplab
from mlplab.io import ModelFormatError, load_with_resume

N_EPOCHS = 8
SRC = str(Path(mlplab.__file__).resolve().parents[1])


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    Xv = rng.standard_normal((12, 3))
    return X, (X[:, 0] * X[:, 1] > 0) * 1.0, Xv, (Xv[:, 0] * Xv[:, 1] > 0) * 1.0


def _net(units=5, dtype="float64"):
    layers = [mlplab.Dense(units, activation="tanh"), mlplab.BatchNorm(), mlplab.Dense(1)]
    return mlplab.Sequential(layers, n_inputs=3, seed=1, dtype=dtype)


def _kw(optimizer="adam", **extra):
    X, y, Xv, yv = _data()
    kw = dict(loss="bce", optimizer=optimizer, learning_rate=0.05, batch_size=16, seed=3,
              validation_data=(Xv, yv), metrics=["accuracy"],
              lr_schedule={"name": "step", "every": 3, "factor": 0.5})  # fmt: skip
    return X, y, {**kw, **extra}


def _fit(net, epochs=N_EPOCHS, callbacks=(), optimizer="adam", **extra):
    X, y, kw = _kw(optimizer, **extra)
    with threadpool_limits(1):
        return net.fit(X, y, epochs=epochs, callbacks=list(callbacks), **kw)


def _assert_same_run(net_a, hist_a, net_b, hist_b):
    assert np.array_equal(net_a.theta, net_b.theta)
    for (name, a), (_, b) in zip(
        net_a.state_dict().items(), net_b.state_dict().items(), strict=True
    ):
        assert np.array_equal(a, b, equal_nan=True), name  # BatchNorm's statistics too
    assert hist_a.history.keys() == hist_b.history.keys()
    for key in hist_a.history:
        assert np.array_equal(hist_a[key], hist_b[key], equal_nan=True), key
    assert hist_a.stop_reason == hist_b.stop_reason
    assert hist_a.best_epoch == hist_b.best_epoch


class _CopyAt(mlplab.Callback):
    """Keep the checkpoint written after epoch ``k`` (0-based) and the weights then."""

    def __init__(self, src, dst, k):
        self.src, self.dst, self.k = src, dst, k

    def on_epoch_begin(self, state, net):  # after the previous epoch's checkpoint
        if state.epoch == self.k + 1:
            shutil.copy(self.src, self.dst)
            self.theta = net.theta.copy()


# ----------------------------------------------------------------- in process
@pytest.mark.parametrize(
    "optimizer, dtype, extra",
    [
        ("sgd", "float64", {}),
        ("momentum", "float64", {}),
        ("adam", "float64", {}),
        ("rmsprop", "float32", {}),
        ("adam", "float32", {"patience": 2, "min_delta": 1e-3}),
        ("nesterov", "float64", {"clip_norm": 0.5, "l2": 1e-3, "patience": 2, "min_delta": 1e-2}),
    ],
)
def test_resume_from_epoch_k_is_bitwise_the_uninterrupted_run(tmp_path, optimizer, dtype, extra):
    ref = _net(dtype=dtype)
    hist_ref = _fit(ref, optimizer=optimizer, **extra)
    ckpt, at_k = tmp_path / "run.mlplab", tmp_path / "epoch2.mlplab"
    copier = _CopyAt(ckpt, at_k, 2)
    checked = _net(dtype=dtype)
    hist = _fit(checked, callbacks=[mlplab.ModelCheckpoint(ckpt), copier],
                optimizer=optimizer, **extra)  # fmt: skip
    _assert_same_run(ref, hist_ref, checked, hist)  # checkpointing changes nothing
    assert np.array_equal(mlplab.load(at_k).theta, copier.theta)  # a normal model file
    resumed = _net(dtype=dtype)
    hist_resumed = _fit(resumed, optimizer=optimizer, resume_from=at_k, **extra)
    _assert_same_run(ref, hist_ref, resumed, hist_resumed)
    if "patience" in extra:
        assert hist_ref.stop_reason.startswith("early stopping")  # the case is exercised
        assert hist_ref.epochs < N_EPOCHS
        # the last checkpoint is the stopped epoch's: resuming it trains no further
        again = _net(dtype=dtype)
        hist_again = _fit(again, optimizer=optimizer, resume_from=ckpt, **extra)
        _assert_same_run(ref, hist_ref, again, hist_again)


class _PoisonAt(mlplab.Callback):
    """Make the first batch of epoch ``k`` diverge (a NaN weight): fit goes back to the
    weights before the last update, the previous epoch's last batch's."""

    def __init__(self, k):
        self.k = k

    def on_batch_begin(self, state, net):
        if (state.epoch, state.batch) == (self.k, 0):
            net.theta[0] = np.nan


def test_divergence_right_after_a_resume_goes_back_as_the_uninterrupted_run(tmp_path):
    ref = _net()
    with pytest.warns(RuntimeWarning, match="diverged at epoch 4, batch 1"):
        hist_ref = _fit(ref, callbacks=[_PoisonAt(3)])
    _fit(_net(), epochs=3, callbacks=[mlplab.ModelCheckpoint(tmp_path / "c.mlplab")])
    resumed = _net()
    with pytest.warns(RuntimeWarning, match="diverged at epoch 4, batch 1"):
        hist = _fit(resumed, callbacks=[_PoisonAt(3)], resume_from=tmp_path / "c.mlplab")
    assert np.isfinite(resumed.theta).all()
    _assert_same_run(ref, hist_ref, resumed, hist)


def test_a_checkpoint_at_the_end_trains_further_like_a_longer_run(tmp_path):
    ref = _net()
    hist_ref = _fit(ref, epochs=7)
    _fit(_net(), epochs=4, callbacks=[mlplab.ModelCheckpoint(tmp_path / "c.mlplab", every=3)])
    _, config, _ = load_with_resume(tmp_path / "c.mlplab")
    assert config["epoch"] == 3  # written at epoch 3 (every=3) and at the run's last epoch
    resumed = _net()
    hist = _fit(resumed, epochs=7, resume_from=tmp_path / "c.mlplab")
    _assert_same_run(ref, hist_ref, resumed, hist)


class _Last(mlplab.Callback):
    def on_train_end(self, state, net):  # before early stopping puts the best weights back
        self.theta = net.theta.copy()


def test_checkpoint_holds_the_resume_state(tmp_path):
    net, last = _net(), _Last()
    _fit(net, epochs=3, callbacks=[mlplab.ModelCheckpoint(tmp_path / "c.mlplab"), last],
         patience=5)  # fmt: skip
    loaded, config, arrays = load_with_resume(tmp_path / "c.mlplab")
    assert isinstance(loaded, mlplab.Sequential) and np.array_equal(loaded.theta, last.theta)
    assert config["epoch"] == 2 and config["batch"] == 3 and config["step"] == 9
    assert loaded.optimizer.t == 9 == net.optimizer.t
    for slot in ("m", "v"):  # Adam's moments as it steps, bit for bit
        assert np.array_equal(loaded.optimizer.state[slot], net.optimizer.state[slot])
    rng = np.random.default_rng(3)
    for _ in range(3):
        rng.permutation(40)
    assert config["rng"] == rng.bit_generator.state  # the next epoch's shuffle
    assert [c["class"] for c in config["callbacks"]] == ["EarlyStopping"]
    assert set(config["callbacks"][0]["config"]) == {"best", "best_epoch", "wait"}
    assert len(config["history"]["val_loss"]) == 3


class _Counter(mlplab.Callback):
    """A user's callback with a state to resume (the protocol ModelCheckpoint reads)."""

    def on_train_begin(self, state, net):
        self.epochs, self.low, self.note, self.seen = 0, np.inf, "", np.zeros(2, np.float32)

    def on_epoch_end(self, state, net):
        self.epochs += 1
        self.low = min(self.low, np.float32(state.history["loss"][-1]))
        self.note, self.seen = f"epoch {state.epoch}", self.seen + 1

    def checkpoint_state(self):
        return {"epochs": self.epochs, "low": self.low, "note": self.note}, {"seen": self.seen}

    def restore_checkpoint_state(self, config, arrays):
        self.epochs, self.low, self.note = config["epochs"], config["low"], config["note"]
        self.seen = arrays["seen"]


def test_a_users_callback_state_is_resumed_with_its_types(tmp_path):
    ref, resumed = _Counter(), _Counter()
    _fit(_net(), callbacks=[ref])
    _fit(_net(), epochs=3, callbacks=[_Counter(), mlplab.ModelCheckpoint(tmp_path / "c.mlplab")])
    _fit(_net(), callbacks=[resumed], resume_from=tmp_path / "c.mlplab")
    assert (resumed.epochs, resumed.note) == (ref.epochs, ref.note) == (N_EPOCHS, "epoch 7")
    assert type(resumed.low) is np.float32 and resumed.low == ref.low
    assert np.array_equal(resumed.seen, ref.seen) and resumed.seen.dtype == np.float32


def test_mismatched_resume_is_refused_naming_what_differs(tmp_path):
    path = tmp_path / "c.mlplab"
    _fit(_net(), epochs=2, callbacks=[mlplab.ModelCheckpoint(path)])
    X, y, kw = _kw()
    cases = [
        (_net(units=6), {}, X, r"network\.layers\[0\]\.units"),
        (_net(), {"optimizer": "sgd"}, X, r"optimizer\.name"),
        (_net(), {"batch_size": 8}, X, r"options\.batch_size"),
        (_net(), {"seed": 4}, X, r"options\.seed"),
        (_net(), {"patience": 3}, X, r"callbacks"),
        (_net(), {}, X[:30], r"data\.X\.shape"),
        (_net(), {}, X + 1.0, r"data\.X differs — same shape, other values"),
    ]
    for net, change, data, match in cases:
        before = net.theta.copy()
        with pytest.raises(ValueError, match=match):
            net.fit(data, y[: len(data)], epochs=4, resume_from=path, **{**kw, **change})
        assert np.array_equal(net.theta, before) and net.optimizer is None  # untouched


def test_missing_or_corrupt_checkpoint_is_a_clear_error(tmp_path):
    X, y, kw = _kw()
    with pytest.raises(FileNotFoundError, match="nope.mlplab"):
        _net().fit(X, y, epochs=2, resume_from=tmp_path / "nope.mlplab", **kw)
    path = tmp_path / "c.mlplab"
    _fit(_net(), epochs=2, callbacks=[mlplab.ModelCheckpoint(path)])
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ModelFormatError, match="c.mlplab"):
        _net().fit(X, y, epochs=2, resume_from=path, **kw)
    _fit(_net(), epochs=2, callbacks=[mlplab.ModelCheckpoint(path)])
    loaded, config, arrays = load_with_resume(path)
    forged = [({"rng": {"bit_generator": "PCG64", "state": "x"}}, "random generator state"),
              ({"epoch": "1"}, "counts"), ({"optimizer": {"t": 4}}, "learning rates")]  # fmt: skip
    for change, match in forged:  # well-formed files (digests recomputed) saying nonsense
        mlplab.save(loaded, path, resume=({**config, **change}, arrays))
        net = _net()
        with pytest.raises(ModelFormatError, match=match):
            net.fit(X, y, epochs=2, resume_from=path, **kw)
        assert net.optimizer is None  # refused before anything changed
    mlplab.save(_net(), path)  # a model file, not a checkpoint
    with pytest.raises(ModelFormatError, match="no training state to resume"):
        _net().fit(X, y, epochs=2, resume_from=path, **kw)
    with pytest.raises(ValueError, match="lbfgs"):
        _net().fit(X, y, optimizer="lbfgs", callbacks=[mlplab.ModelCheckpoint(path)])


# ------------------------------------------------ atomic writes (RELIABILITY 16)
def _saves_until(monkeypatch, name, fail_at, action):
    """Patch ``os.<name>`` so that its call number ``fail_at`` runs ``action``."""
    real, calls = getattr(os, name), []

    def patched(*args):
        calls.append(args)
        if len(calls) == fail_at:
            return action(real, *args)
        return real(*args)

    monkeypatch.setattr(os, name, patched)
    return calls


def test_failed_replace_keeps_the_previous_checkpoint_and_surfaces(tmp_path, monkeypatch):
    def refuse(real, src, dst):
        raise OSError("simulated failure in os.replace")

    _saves_until(monkeypatch, "replace", 3, refuse)  # the third checkpoint's rename
    path = tmp_path / "c.mlplab"
    with pytest.raises(OSError, match="simulated failure in os.replace") as info:
        _fit(_net(), callbacks=[mlplab.ModelCheckpoint(path)])
    assert "could not write" in "".join(info.value.__notes__)
    _, config, _ = load_with_resume(path)
    assert config["epoch"] == 1  # the second checkpoint, intact
    assert os.listdir(tmp_path) == ["c.mlplab"]  # no temp file left


def test_checkpoint_fsyncs_the_file_then_renames_then_fsyncs_the_directory(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def spy_fsync(fd):
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def spy_replace(src, dst):
        assert os.path.dirname(src) == os.path.dirname(dst) and src.endswith(".tmp")
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    _fit(_net(), epochs=5, callbacks=[mlplab.ModelCheckpoint(tmp_path / "c.mlplab", every=2)])
    # epochs 2 and 4 (every=2) and 5 (the last)
    assert events == ["fsync-file", "replace", "fsync-dir"] * 3
    assert os.listdir(tmp_path) == ["c.mlplab"]


# ------------------------------------------------------- SIGKILL (RELIABILITY 17)
CHILD = textwrap.dedent(
    """
    import os, random, signal, sys, time
    import numpy as np
    import mlplab, mlplab.io
    sys.path.insert(0, sys.argv[2])
    from test_checkpoint import _fit, _net
    import mlplab.training.checkpoint  # noqa
    out = sys.argv[1]

    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)

    class KillAt(mlplab.Callback):
        def __init__(self, hook, epoch, batch=0):
            self.hook, self.epoch, self.batch = hook, epoch, batch
        def on_epoch_begin(self, state, net):
            if self.hook == "epoch_begin" and state.epoch == self.epoch:
                die()
        def on_batch_end(self, state, net):
            if self.hook == "batch_end" and (state.epoch, state.batch) == (self.epoch, self.batch):
                die()

    def nth_call(name, n, action):
        real, count = getattr(os, name), [0]
        def patched(*args):
            count[0] += 1
            return action(real, *args) if count[0] == n else real(*args)
        setattr(os, name, patched)

    def half_write_then_die(n):  # the n-th save writes half of its temp file, then dies
        real_open, count = open, [0]
        class Half:
            def __init__(self, fh): self.fh = fh
            def __enter__(self): return self
            def __exit__(self, *exc): return self.fh.__exit__(*exc)
            def write(self, data):
                self.fh.write(data[: len(data) // 2]); self.fh.flush(); die()
        def patched(file, *args, **kw):
            fh = real_open(file, *args, **kw)
            if isinstance(file, int):
                count[0] += 1
                if count[0] == n:
                    return Half(fh)
            return fh
        mlplab.io.open = patched

    points = {
        "mid_write": lambda: half_write_then_die(3),
        "before_rename": lambda: nth_call("replace", 3, die),
        "before_dir_fsync": lambda: nth_call("fsync", 6, die),  # file, dir per save
        "mid_epoch": lambda: None,
        "epoch_begin": lambda: None,
    }
    for i in range(int(sys.argv[3])):
        points[f"random_time_{i}"] = lambda: None
    killers = {"mid_epoch": KillAt("batch_end", 3, 1), "epoch_begin": KillAt("epoch_begin", 5)}
    for name, arm in points.items():
        path = os.path.join(out, name + ".mlplab")
        pid = os.fork()
        if pid == 0:
            arm()
            callbacks = [mlplab.ModelCheckpoint(path)]
            if name in killers:
                callbacks.append(killers[name])
            _fit(_net(), callbacks=callbacks)
            time.sleep(30)  # a late random kill still finds us
            os._exit(0)
        if name.startswith("random_time"):  # a random moment after the first checkpoint
            while not os.path.exists(path):
                time.sleep(0.0005)
            time.sleep(random.Random(name).uniform(0.0, 0.02))
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        print(name, os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX fork and SIGKILL")
def test_sigkill_at_six_points_then_resume_is_bitwise_the_uninterrupted_run(tmp_path):
    """Five chosen points (mid-write of a checkpoint, before its rename, before the
    directory fsync, mid-epoch, between epochs) and MLPLAB_RANDOM_KILLS random moments
    (default 1; a nightly run sets 5 for RELIABILITY 17's 10 points)."""
    n_random = int(os.environ.get("MLPLAB_RANDOM_KILLS", "1"))
    # one interpreter (importing mlplab is the slow part) forks a training run per point
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    here = str(Path(__file__).parent)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), here, str(n_random)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    killed = dict(line.split() for line in proc.stdout.splitlines())
    assert killed == {k: str(int(signal.SIGKILL)) for k in killed}
    assert len(killed) == 5 + n_random
    ref = _net()
    hist_ref = _fit(ref)
    # the epoch (0-based) each deterministic kill leaves in the file
    expected = {"mid_write": 1, "before_rename": 1, "before_dir_fsync": 2,
                "mid_epoch": 2, "epoch_begin": 4}  # fmt: skip
    for name in killed:
        path = tmp_path / f"{name}.mlplab"
        assert isinstance(mlplab.load(path), mlplab.Sequential)  # always loadable
        _, config, _ = load_with_resume(path)
        if name in expected:
            assert config["epoch"] == expected[name], name
        orphans = list(tmp_path.glob(f".{name}.mlplab.*.tmp"))
        if name in ("mid_write", "before_rename"):
            assert len(orphans) == 1  # the killed write's temp file...
        resumed = _net()
        hist = _fit(resumed, callbacks=[mlplab.ModelCheckpoint(path)], resume_from=path)
        assert not list(tmp_path.glob(f".{name}.mlplab.*.tmp"))  # ...gone after the next save
        _assert_same_run(ref, hist_ref, resumed, hist)


@pytest.mark.parametrize("how", ["end-check", "next-epoch"])
def test_a_divergence_never_leaves_its_weights_in_the_checkpoint(tmp_path, how):
    """RELIABILITY 8: the file keeps the last good state. A last update whose outputs
    overflow (found by the fit's end check after that epoch's write) is undone in the file
    too, and resuming from it ends as the uninterrupted run; a divergence inside a later
    epoch leaves the previous epoch's checkpoint untouched."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(60, 2), rng.rand(60)
    path = tmp_path / "c.mlplab"
    huge_at = (1, 2) if how == "end-check" else (2, 0)  # (epoch, batch) of a 1e300 rate

    class Huge(mlplab.Callback):
        def on_batch_begin(self, state, net):
            at = (state.epoch, state.batch) == huge_at
            net.optimizer.learning_rate = 1e300 if at else 0.01

    def run(**extra):
        net = mlplab.Sequential([mlplab.Dense(8, "relu"), mlplab.Dense(1)], n_inputs=2, seed=0)
        net.fit(X, y, optimizer="sgd", epochs=huge_at[0] + 1, batch_size=20, diagnostics=False,
                callbacks=[Huge(), mlplab.ModelCheckpoint(path)], **extra)  # fmt: skip
        return net

    with pytest.warns(RuntimeWarning, match="Training diverged"):
        net = run()
    saved, config, _ = load_with_resume(path)
    assert np.array_equal(saved.theta, net.theta) and np.isfinite(saved.forward(X)).all()
    assert config["epoch"] == huge_at[0] - (how == "next-epoch")
    if how == "end-check":
        resumed = run(resume_from=path)  # nothing left to train: the same end
        assert np.array_equal(resumed.theta, net.theta)
