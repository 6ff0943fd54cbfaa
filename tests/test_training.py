"""End-to-end training: convergence, reproducibility, the loop's hooks and guards."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import mlplab
from mlplab import ActivationLayer, BatchNorm, Callback, Dense, Sequential, TrainingDivergedError
from mlplab.optimizers import SGD, Adam

SRC = Path(__file__).resolve().parents[1] / "src"
# numpy's own floating-point warnings (not the engine's messages)
NUMPY_FP_WARNING = r"(overflow|invalid value|divide by zero|underflow) encountered"

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def xor_net(seed: int, dtype: str = "float64") -> Sequential:
    return Sequential(
        [Dense(2, activation="logistic"), Dense(1, activation="logistic")],
        n_inputs=2,
        seed=seed,
        dtype=dtype,
    )


def accuracy01(net: Sequential, X: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a one-output probability network, computed from forward()."""
    p = net.forward(X)[:, 0]
    return float(np.mean((p > 0.5) == (np.asarray(y) > 0.5)))


def twin(net: Sequential) -> Sequential:
    """A separate network with the same architecture and the same current weights."""
    other = Sequential.from_config(net.get_config())
    other.load_state_dict(net.state_dict())
    return other


# --------------------------------------------------------------------------
# convergence on the lecture's problems
# --------------------------------------------------------------------------


def test_xor_adam_reaches_100_percent():
    # Seed 0 is documented to solve XOR with 2 logistic hidden nodes (adam, lr 0.05, 2000
    # full-batch epochs). Some other seeds (3, 4, 6) end in XOR's well-known local minima
    # (75 % or 50 %): that is real XOR behaviour, not a bug, so one known-good seed is pinned.
    net = xor_net(seed=0)
    assert accuracy01(net, XOR_X, XOR_Y) < 1.0  # untrained: not already solved
    hist = net.fit(
        XOR_X, XOR_Y, loss="bce", optimizer="adam", learning_rate=0.05, epochs=2000, batch_size=None
    )
    assert accuracy01(net, XOR_X, XOR_Y) == 1.0
    assert hist["loss"][-1] < 0.01
    p = net.forward(XOR_X)[:, 0]
    assert np.all(np.abs(p - XOR_Y) < 0.1)


def test_xor_several_seeds_mostly_solve_it():
    solved = 0
    for seed in range(5):
        net = xor_net(seed)
        net.fit(
            XOR_X,
            XOR_Y,
            loss="bce",
            optimizer="adam",
            learning_rate=0.05,
            epochs=1500,
            batch_size=None,
        )
        solved += accuracy01(net, XOR_X, XOR_Y) == 1.0
    assert solved >= 2


def test_xor_lbfgs_reaches_100_percent():
    net = xor_net(seed=0)
    hist = net.fit(XOR_X, XOR_Y, loss="bce", optimizer="lbfgs", epochs=500)
    assert accuracy01(net, XOR_X, XOR_Y) == 1.0
    assert hist["loss"][-1] < 1e-3


def test_xor_noisy_dataset_generalises_to_corners():
    X, y = mlplab.datasets.logic_gate("xor", n_samples=400, noise=0.1, seed=0)
    net = xor_net(seed=0)
    net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.05, epochs=150, batch_size=32)
    assert accuracy01(net, XOR_X, XOR_Y) == 1.0


def test_noisy_and_single_node_no_hidden_layer():
    # AND is linearly separable: one logistic node (a perceptron with a smooth step) suffices.
    X, y = mlplab.datasets.logic_gate("and", n_samples=10_000, noise=0.1, seed=0)
    net = Sequential([Dense(1, activation="logistic")], n_inputs=2, seed=0)
    assert net.n_params == 3
    net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.05, epochs=5)
    assert accuracy01(net, X, y) >= 0.97
    X_test, y_test = mlplab.datasets.logic_gate("and", n_samples=2000, noise=0.1, seed=1)
    assert accuracy01(net, X_test, y_test) >= 0.97
    assert accuracy01(net, XOR_X, np.array([0, 0, 0, 1])) == 1.0


# --------------------------------------------------------------------------
# reproducibility
# --------------------------------------------------------------------------

DETERMINISM_SCRIPT = """
import hashlib
import json
import numpy as np
import mlplab

def train(seed):
    X, y = mlplab.datasets.logic_gate("xor", n_samples=300, noise=0.2, seed=5)
    net = mlplab.Sequential(
        [mlplab.Dense(16, activation="tanh"), mlplab.Dense(8, activation="relu"),
         mlplab.Dense(1, activation="logistic")],
        n_inputs=2, seed=seed,
    )
    net.fit(X, y, loss="bce", optimizer="adam", learning_rate=0.01, epochs=8, batch_size=16,
            l2=1e-4, clip_norm=5.0)
    return net.theta

def estimator_weights(Est, random_state):
    # shuffled mini-batches and early stopping's random validation split both use the seed
    X, y = mlplab.datasets.logic_gate("xor", n_samples=300, noise=0.2, seed=5)
    target = y if Est is mlplab.MLPClassifier else y + 0.1 * X[:, 0]
    est = Est(hidden_layer_sizes=(8,), max_iter=8, batch_size=32, early_stopping=True,
              n_iter_no_change=100, convergence_warning=False, random_state=random_state)
    est.fit(X, target)
    return np.concatenate([w.ravel() for w in est.coefs_ + est.intercepts_])

def weights(seed):
    return {
        "Sequential.fit": train(seed),
        "MLPClassifier": estimator_weights(mlplab.MLPClassifier, seed),
        "MLPRegressor": estimator_weights(mlplab.MLPRegressor, seed),
    }

def digests(seed):
    return {k: hashlib.sha256(np.ascontiguousarray(w).tobytes()).hexdigest()
            for k, w in weights(seed).items()}

if __name__ == "__main__":
    print(json.dumps(digests(123)))
"""


def _determinism(name: str):
    ns: dict = {"__name__": "determinism"}
    exec(DETERMINISM_SCRIPT, ns)
    return ns[name]


def _determinism_train(seed: int) -> np.ndarray:
    return _determinism("train")(seed)


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def test_same_seed_bit_identical_in_process():
    with threadpool_limits(1):
        a = _determinism("weights")(123)
        b = _determinism("weights")(123)
    assert sorted(a) == ["MLPClassifier", "MLPRegressor", "Sequential.fit"]
    for name in a:
        assert a[name] is not b[name]
        assert _sha(a[name]) == _sha(b[name]), name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_same_seed_bit_identical_in_two_fresh_subprocesses():
    """Same seed, same thread count: the same weight sha256 here and in two new processes."""
    with threadpool_limits(1):
        here = _determinism("digests")(123)
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(SRC) + os.pathsep + env.get("PYTHONPATH", ""),
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    for hashseed in ("0", "1"):  # nothing may depend on str hashing (set/dict order)
        proc = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            env={**env, "PYTHONHASHSEED": hashseed},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == here


def test_random_state_none_gives_a_different_result():
    """``random_state=None`` (estimators) / ``seed=None`` (Sequential): fresh randomness."""
    with threadpool_limits(1):
        a = _determinism("weights")(None)
        b = _determinism("weights")(None)
        seeded = _determinism("weights")(123)
    for name in a:
        assert not np.array_equal(a[name], b[name]), name
        assert not np.array_equal(a[name], seeded[name]), name


def _blas_threads() -> int:
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=0)


def test_one_and_two_blas_threads_agree():
    """Across 1 and 2 BLAS threads (a product large enough to be split): weights agree to
    rtol 1e-6 after one epoch, and the final accuracy within 0.5 percentage points."""
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=1000, n_features=40, n_informative=20, n_classes=3, random_state=0
    )
    params = dict(hidden_layer_sizes=(256,), batch_size=1000, random_state=0)
    results = {}
    for threads in (1, 2):
        with threadpool_limits(threads):
            if _blas_threads() != threads:
                pytest.skip(f"the BLAS does not run {threads} threads here")
            one = mlplab.MLPClassifier(max_iter=1, convergence_warning=False, **params).fit(X, y)
            final = mlplab.MLPClassifier(max_iter=15, convergence_warning=False, **params)
            final.fit(X, y)
        results[threads] = (one.coefs_ + one.intercepts_, final.score(X, y))
    (w1, acc1), (w2, acc2) = results[1], results[2]
    for a, b in zip(w1, w2, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=0)
    assert abs(acc1 - acc2) <= 0.005, (acc1, acc2)


def test_different_seeds_give_different_weights():
    init_a = xor_net(seed=1).theta
    init_b = xor_net(seed=2).theta
    assert not np.array_equal(init_a, init_b)
    with threadpool_limits(1):
        a = _determinism_train(1)
        b = _determinism_train(2)
    assert not np.array_equal(a, b)
    # a network built twice with the same seed starts from the same weights
    np.testing.assert_array_equal(xor_net(seed=1).theta, init_a)


def test_fit_seed_changes_only_the_shuffling():
    X, y = mlplab.datasets.logic_gate("xor", n_samples=64, noise=0.2, seed=0)
    nets = [xor_net(seed=0) for _ in range(3)]
    nets[0].fit(X, y, loss="bce", epochs=3, batch_size=8, seed=10)
    nets[1].fit(X, y, loss="bce", epochs=3, batch_size=8, seed=10)
    nets[2].fit(X, y, loss="bce", epochs=3, batch_size=8, seed=11)
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)
    assert not np.array_equal(nets[0].theta, nets[2].theta)


# --------------------------------------------------------------------------
# validation, early stopping, metrics, history
# --------------------------------------------------------------------------


def _overfit_problem():
    rng = np.random.default_rng(7)
    X = rng.uniform(-1, 1, (20, 1))
    y = np.sin(3 * X[:, 0]) + 0.3 * rng.standard_normal(20)
    Xv = rng.uniform(-1, 1, (200, 1))
    yv = np.sin(3 * Xv[:, 0]) + 0.3 * rng.standard_normal(200)
    return X, y, Xv, yv


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y, Xv, yv = _overfit_problem()
    net = Sequential([Dense(64, "tanh"), Dense(64, "tanh"), Dense(1)], n_inputs=1, seed=0)
    epochs, patience = 2000, 10
    hist = net.fit(
        X,
        y,
        optimizer="adam",
        learning_rate=0.02,
        epochs=epochs,
        batch_size=None,
        validation_data=(Xv, yv),
        patience=patience,
    )
    val = np.asarray(hist["val_loss"])
    assert len(val) < epochs, "early stopping never triggered"
    best = int(np.argmin(val))
    assert len(val) - 1 - best == patience  # stopped exactly `patience` epochs after the best
    assert val[-1] > val[best]  # so restoring actually changes the weights
    assert hist.best_epoch == best
    # the weights now in the net are those of the best epoch
    assert net.loss(Xv, yv) == pytest.approx(val[best], rel=1e-12, abs=1e-15)
    assert net.loss(Xv, yv) != pytest.approx(val[-1], rel=1e-9)


def test_early_stopping_on_training_loss_restores_epoch_weights():
    class Snap(Callback):
        def __init__(self):
            self.thetas = []

        def on_epoch_end(self, state, net):
            self.thetas.append(net.theta.copy())

    X, y, _, _ = _overfit_problem()
    net = Sequential([Dense(8, "tanh"), Dense(1)], n_inputs=1, seed=0)
    snap = Snap()
    # min_delta so large that only the first epoch counts as an improvement
    hist = net.fit(
        X,
        y,
        optimizer="sgd",
        learning_rate=0.01,
        epochs=50,
        batch_size=None,
        patience=3,
        min_delta=1e9,
        callbacks=[snap],
    )
    assert len(hist["loss"]) == 4 == len(snap.thetas)
    assert not np.array_equal(snap.thetas[0], snap.thetas[-1])
    np.testing.assert_array_equal(net.theta, snap.thetas[0])


class _BatchCounter(Callback):
    def __init__(self):
        self.per_epoch: list[int] = []
        self.n_batches: list[int] = []

    def on_epoch_begin(self, state, net):
        self.per_epoch.append(0)

    def on_batch_end(self, state, net):
        self.per_epoch[-1] += 1
        self.n_batches.append(state.n_batches)


def test_validation_split_holds_out_samples_and_records_val_loss(rng):
    X = rng.standard_normal((100, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=3, seed=0)
    counter = _BatchCounter()
    hist = net.fit(X, y, epochs=5, batch_size=10, validation_split=0.2, callbacks=[counter])
    # 80 training samples in batches of 10
    assert counter.per_epoch == [8] * 5
    assert set(counter.n_batches) == {8}
    val = hist["val_loss"]
    assert len(val) == 5 and all(math.isfinite(v) and v >= 0 for v in val)
    assert val != hist["loss"]
    # the validation loss is the loss on 20 of the 100 samples: no subset of 20 has a
    # loss above the max over single samples, nor below the min
    per_sample = (net.forward(X)[:, 0] - y) ** 2
    assert per_sample.min() <= val[-1] <= per_sample.max()


def test_validation_data_records_val_loss_and_val_metrics(rng):
    X = rng.standard_normal((60, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    Xv = rng.standard_normal((30, 2))
    yv = (Xv[:, 0] + Xv[:, 1] > 0).astype(int)
    net = Sequential([Dense(3, "tanh"), Dense(1, "logistic")], n_inputs=2, seed=0)
    hist = net.fit(X, y, loss="bce", epochs=7, validation_data=(Xv, yv), metrics=["accuracy"])
    for key in ("loss", "val_loss", "accuracy", "val_accuracy", "grad_norm"):
        assert len(hist[key]) == 7, key
    assert hist["val_loss"][-1] == pytest.approx(net.loss(Xv, yv, loss="bce"), rel=1e-12)
    assert hist["val_accuracy"][-1] == accuracy01(net, Xv, yv)
    assert hist["accuracy"][-1] == accuracy01(net, X, y)


@pytest.mark.parametrize("loss", sorted(mlplab.LOSSES))
def test_accuracy_metric_matches_forward(loss, rng):
    X = rng.standard_normal((50, 2))
    if loss == "cce":
        y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
        net = Sequential([Dense(5, "tanh"), Dense(3, "softmax")], n_inputs=2, seed=0)
    else:
        y = (X[:, 0] - X[:, 1] > 0).astype(float)
        last = "logistic" if loss == "bce" else "identity"
        net = Sequential([Dense(5, "tanh"), Dense(1, last)], n_inputs=2, seed=0)
    hist = net.fit(X, y, loss=loss, epochs=6, metrics=["accuracy", "mae", "mse"])
    out = net.forward(X)
    if loss == "cce":
        acc = np.mean(out.argmax(axis=1) == y)
    else:
        acc = np.mean((out[:, 0] > 0.5) == (y > 0.5))
    assert len(hist["accuracy"]) == 6
    assert hist["accuracy"][-1] == pytest.approx(acc, abs=1e-12)
    if loss == "mse":
        assert hist["mae"][-1] == pytest.approx(np.mean(np.abs(out[:, 0] - y)), rel=1e-12)
        assert hist["mse"][-1] == pytest.approx(np.mean((out[:, 0] - y) ** 2), rel=1e-12)


def test_history_first_full_batch_epoch_matches_loss_and_grad(rng):
    X = rng.standard_normal((40, 3))
    y = np.tanh(X @ np.array([1.0, 2.0, -1.0]))
    net = Sequential([Dense(5, "tanh"), Dense(1)], n_inputs=3, seed=0)
    ref = twin(net)
    loss0, grad0 = ref.loss_and_grad(X, y)
    hist = net.fit(X, y, optimizer="sgd", learning_rate=0.1, epochs=4, batch_size=None)
    assert len(hist["loss"]) == len(hist["grad_norm"]) == 4 == hist.epochs
    assert hist["loss"][0] == pytest.approx(loss0, rel=1e-12)  # loss before the first step
    assert hist["grad_norm"][0] == pytest.approx(np.linalg.norm(grad0), rel=1e-12)
    assert hist["loss"][-1] < hist["loss"][0]


def test_history_epoch_values_are_means_over_batches(rng):
    class Rec(Callback):
        def __init__(self):
            self.batch = []

        def on_gradients(self, state, net):
            self.batch.append((state.epoch, state.batch, state.loss, state.grad_norm))

    n, bs, epochs = 50, 16, 3
    sizes = [16, 16, 16, 2]
    X = rng.standard_normal((n, 2))
    y = X[:, 0] * X[:, 1]
    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=2, seed=0)
    rec = Rec()
    hist = net.fit(X, y, epochs=epochs, batch_size=bs, callbacks=[rec])
    assert len(rec.batch) == epochs * len(sizes)
    for e in range(epochs):
        rows = [r for r in rec.batch if r[0] == e]
        assert [r[1] for r in rows] == list(range(len(sizes)))
        mean_loss = sum(r[2] * s for r, s in zip(rows, sizes, strict=True)) / n
        mean_norm = sum(r[3] for r in rows) / len(sizes)
        assert hist["loss"][e] == pytest.approx(mean_loss, rel=1e-12)
        assert hist["grad_norm"][e] == pytest.approx(mean_norm, rel=1e-12)
        assert hist["grad_norm"][e] > 0


# --------------------------------------------------------------------------
# callbacks
# --------------------------------------------------------------------------

HOOKS = [
    "on_train_begin",
    "on_epoch_begin",
    "on_batch_begin",
    "on_gradients",
    "on_batch_end",
    "on_epoch_end",
    "on_train_end",
]


class Recorder(Callback):
    def __init__(self):
        self.events: list[tuple[str, int, int]] = []

    def __getattribute__(self, name):
        if name in HOOKS:

            def hook(state, net, _name=name):
                self.events.append((_name, state.epoch, state.batch))

            return hook
        return super().__getattribute__(name)


@pytest.mark.parametrize("lr", [0.5, 100.0])  # 100: diverges at epoch 57, batch 1
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_epochs_nothing_looks_into_train_as_watched_ones(optimizer, lr):
    """Full-batch epochs that no callback looks into (after the doctor's first 8) run in
    one loop: the same history, weights, stop reason and warnings as epochs a callback
    watches, up to and including a divergence."""

    class Watch(Callback):
        def on_epoch_end(self, state, net):
            self.last = state.epoch

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    runs = []
    for callbacks in ([], [Watch()]):
        net = Sequential([Dense(2, "tanh"), Dense(1)], n_inputs=2, seed=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            hist = net.fit(X, y, optimizer=optimizer, learning_rate=lr, epochs=120,
                           batch_size=None, shuffle=False, callbacks=callbacks)  # fmt: skip
        runs.append((hist, net.theta.copy(), [str(w.message) for w in caught]))
    (quiet, theta_q, warned_q), (watched, theta_w, warned_w) = runs
    assert quiet.history.keys() == watched.history.keys()
    for key in quiet.history:
        np.testing.assert_array_equal(quiet[key], watched[key])
    np.testing.assert_array_equal(theta_q, theta_w)
    assert quiet.stop_reason == watched.stop_reason and warned_q == warned_w
    assert len(quiet["loss"]) == (120 if lr < 1 or optimizer == "adam" else 57)


def test_callback_hooks_order_and_counts(rng):
    X = rng.standard_normal((10, 2))
    y = X.sum(axis=1)
    net = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    rec = Recorder()
    epochs, n_batches = 2, 3  # 10 samples in batches of 4: 4, 4, 2
    net.fit(X, y, epochs=epochs, batch_size=4, callbacks=[rec])
    expected = ["on_train_begin"]
    for _ in range(epochs):
        expected.append("on_epoch_begin")
        expected += ["on_batch_begin", "on_gradients", "on_batch_end"] * n_batches
        expected.append("on_epoch_end")
    expected.append("on_train_end")
    assert [e[0] for e in rec.events] == expected
    batches = [(ep, b) for name, ep, b in rec.events if name == "on_gradients"]
    assert batches == [(e, b) for e in range(epochs) for b in range(n_batches)]


@pytest.mark.parametrize("batch_size", [4, None])
def test_gradient_epochs_limits_on_gradients_to_the_first_epochs(rng, batch_size):
    """A callback with ``gradient_epochs = k`` gets on_gradients in epochs 0..k-1 only (its
    other hooks every epoch; a callback without it every step); the doctor's warnings, on
    by default, ask for the first 8 epochs, the ones they check."""

    class FirstTwo(Callback):
        gradient_epochs = 2

        def __init__(self):
            self.seen: list[tuple[int, int]] = []
            self.ends = 0

        def on_gradients(self, state, net):
            self.seen.append((state.epoch, state.batch))

        def on_epoch_end(self, state, net):
            self.ends += 1

    X = rng.standard_normal((10, 2))
    y = X.sum(axis=1)
    net = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    first, every = FirstTwo(), Recorder()
    net.fit(X, y, epochs=5, batch_size=batch_size, callbacks=[first, every])
    n_batches = 3 if batch_size else 1
    assert first.seen == [(e, b) for e in range(2) for b in range(n_batches)]
    assert first.ends == 5
    assert [e[1:] for e in every.events if e[0] == "on_gradients"] == [
        (e, b) for e in range(5) for b in range(n_batches)
    ]
    assert mlplab.diagnostics.GradientWarnings.gradient_epochs == 8


def test_on_gradients_sees_the_batch_gradient(rng):
    class Check(Callback):
        def __init__(self, ref, X, y, bs):
            self.ref, self.X, self.y, self.bs = ref, X, y, bs
            self.checked = 0
            self.steps = []

        def on_gradients(self, state, net):
            sl = slice(state.batch * self.bs, (state.batch + 1) * self.bs)
            self.ref.theta[...] = net.theta
            loss, g = self.ref.loss_and_grad(self.X[sl], self.y[sl])
            assert net.grad.shape == net.theta.shape
            np.testing.assert_allclose(net.grad, g, rtol=1e-12, atol=1e-15)
            assert state.loss == pytest.approx(loss, rel=1e-12)
            self.checked += 1
            self._theta, self._grad = net.theta.copy(), net.grad.copy()

        def on_batch_end(self, state, net):
            # the optimizer (plain SGD, lr 0.1) used exactly that gradient
            np.testing.assert_allclose(
                net.theta, self._theta - 0.1 * self._grad, rtol=1e-13, atol=1e-16
            )

    X = rng.standard_normal((12, 2))
    y = np.sin(X[:, 0])
    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=2, seed=0)
    cb = Check(twin(net), X, y, 5)
    net.fit(
        X,
        y,
        optimizer="sgd",
        learning_rate=0.1,
        epochs=2,
        batch_size=5,
        shuffle=False,
        callbacks=[cb],
    )
    assert cb.checked == 2 * 3


@pytest.mark.parametrize("hook", ["on_gradients", "on_batch_end"])
def test_state_stop_from_a_batch_hook_stops_after_that_batch(hook, rng):
    class Stopper(Callback):
        pass

    def stop_at(self, state, net):
        if state.epoch == 1 and state.batch == 1:
            state.stop = True

    setattr(Stopper, hook, stop_at)
    counter = _BatchCounter()
    X = rng.standard_normal((12, 2))
    y = X[:, 0]
    net = Sequential([Dense(1)], n_inputs=2, seed=0)
    hist = net.fit(X, y, optimizer="adam", epochs=10, batch_size=4, callbacks=[Stopper(), counter])
    assert counter.per_epoch == [3, 2]
    assert net.optimizer.t == 5
    assert len(hist["loss"]) == 2


def test_state_stop_from_on_epoch_end(rng):
    class Stopper(Callback):
        def on_epoch_end(self, state, net):
            if state.epoch == 2:
                state.stop = True

    X = rng.standard_normal((12, 2))
    y = X[:, 0]
    net = Sequential([Dense(1)], n_inputs=2, seed=0)
    hist = net.fit(X, y, epochs=10, batch_size=4, callbacks=[Stopper()])
    assert len(hist["loss"]) == 3
    assert net.optimizer.t == 9


def test_callbacks_must_be_callback_objects():
    net = Sequential([Dense(1)], n_inputs=1, seed=0)
    with pytest.raises(TypeError, match="Callback"):
        net.fit(np.ones((3, 1)), np.ones(3), epochs=1, callbacks=[lambda s, n: None])


# --------------------------------------------------------------------------
# clipping inside fit
# --------------------------------------------------------------------------


class _StepRecorder(Callback):
    def __init__(self, ref=None, X=None, y=None):
        self.ref, self.X, self.y = ref, X, y
        self.pre_norms, self.grad_norms, self.deltas, self.unclipped = [], [], [], []

    def on_gradients(self, state, net):  # the raw gradient: clipping comes after
        self.pre_norms.append(state.grad_norm)
        self._theta, self._grad = net.theta.copy(), net.grad.copy()
        if self.ref is not None:  # the unclipped full-batch gradient, computed independently
            self.ref.theta[...] = net.theta
            _, g = self.ref.loss_and_grad(self.X, self.y)
            self.unclipped.append(g.copy())

    def on_batch_end(self, state, net):  # net.grad now holds the clipped gradient the step used
        self.grad_norms.append(float(np.linalg.norm(net.grad)))
        self.deltas.append(float(np.linalg.norm(net.theta - self._theta)))


def test_clip_norm_bounds_the_sgd_update_and_reports_pre_clip_norm(rng):
    X = rng.standard_normal((30, 3))
    y = 100 * X @ np.array([1.0, -2.0, 3.0])  # large targets: large gradients
    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=3, seed=0)
    lr, clip = 0.1, 0.5
    rec = _StepRecorder(twin(net), X, y)
    net.fit(
        X,
        y,
        optimizer="sgd",
        learning_rate=lr,
        epochs=15,
        batch_size=None,
        clip_norm=clip,
        callbacks=[rec],
    )
    assert len(rec.deltas) == 15
    assert max(rec.pre_norms) > 10 * clip  # clipping was active
    for pre, post, delta, g in zip(
        rec.pre_norms, rec.grad_norms, rec.deltas, rec.unclipped, strict=True
    ):
        assert delta <= lr * clip * (1 + 1e-12)
        assert post <= clip * (1 + 1e-12)
        assert pre == pytest.approx(np.linalg.norm(g), rel=1e-12)  # state.grad_norm: pre-clip
        if pre > clip:
            assert delta == pytest.approx(lr * clip, rel=1e-9)


def test_clip_norm_keeps_direction_in_fit(rng):
    class Dir(Callback):
        def __init__(self, ref, X, y):
            self.ref, self.X, self.y, self.n = ref, X, y, 0

        def on_gradients(self, state, net):
            # callbacks see the raw gradient (diagnostics record it); clipping comes after
            self.ref.theta[...] = net.theta
            _, g = self.ref.loss_and_grad(self.X, self.y)
            np.testing.assert_allclose(net.grad, g, rtol=1e-12)
            assert state.grad_norm == pytest.approx(np.linalg.norm(g), rel=1e-12)
            self.expected = net.theta - 0.01 * g * (0.5 / np.linalg.norm(g))
            self.n += 1

        def on_batch_end(self, state, net):
            # the update used the clipped gradient: same direction, norm 0.5
            np.testing.assert_allclose(net.theta, self.expected, rtol=1e-10)

    X = rng.standard_normal((30, 3))
    y = 100 * X[:, 0]
    net = Sequential([Dense(1)], n_inputs=3, seed=0)
    cb = Dir(twin(net), X, y)
    net.fit(
        X,
        y,
        optimizer="sgd",
        learning_rate=0.01,
        epochs=3,
        batch_size=None,
        clip_norm=0.5,
        callbacks=[cb],
    )
    assert cb.n == 3


def test_clip_value_caps_every_entry(rng):
    X = rng.standard_normal((30, 3))
    y = 100 * X[:, 0]
    net = Sequential([Dense(4, "tanh"), Dense(1)], n_inputs=3, seed=0)
    rec = _StepRecorder()

    class Cap(Callback):
        def on_batch_end(self, state, net):  # after clipping (on_gradients sees the raw one)
            assert np.abs(net.grad).max() <= 0.01

    net.fit(
        X, y, optimizer="sgd", epochs=3, batch_size=None, clip_value=0.01, callbacks=[rec, Cap()]
    )
    assert max(rec.pre_norms) > 0.1


# --------------------------------------------------------------------------
# NaN / inf guard
# --------------------------------------------------------------------------


def keras_nan_net() -> Sequential:
    """Keras' TerminateOnNaN recipe: 5 ReLU Dense layers with every weight 1e5.

    float32 (Keras' precision): the activations grow like 1e5 per layer and the
    squared error overflows in the very first batch. (In float64 the same net
    does not diverge: the first SGD step drives every ReLU negative.)
    """
    return Sequential(
        [Dense(2, "relu") for _ in range(4)] + [Dense(1, "relu")],
        n_inputs=3,
        init={"name": "constant", "value": 1e5},
        seed=0,
        dtype="float32",
    )


def _keras_data():
    rng = np.random.default_rng(1337)
    return rng.uniform(0.5, 1.0, (20, 3)), rng.uniform(0, 1, 20)


class _LastGood(Callback):
    """Remembers theta at every step whose loss and gradient were finite."""

    def on_train_begin(self, state, net):
        self.theta = net.theta.copy()
        self.n = 0

    def on_gradients(self, state, net):
        assert math.isfinite(state.loss)
        self.theta = net.theta.copy()
        self.n += 1


def test_nan_guard_raise_without_numpy_warnings():
    """on_nan="raise" must surface as TrainingDivergedError under this project's
    own warning policy (filterwarnings = error): the numpy overflow warnings the
    guard exists to handle must not escape first."""
    X, y = _keras_data()
    net = keras_nan_net()
    with pytest.raises(TrainingDivergedError):
        net.fit(X, y, loss="mse", optimizer="sgd", epochs=5, batch_size=5, on_nan="raise")


@pytest.mark.filterwarnings(f"ignore:{NUMPY_FP_WARNING}:RuntimeWarning")
def test_nan_guard_raise_names_epoch_batch_and_layer():
    X, y = _keras_data()
    net = keras_nan_net()
    theta0 = net.theta.copy()
    with pytest.raises(TrainingDivergedError) as exc:
        net.fit(X, y, loss="mse", optimizer="sgd", epochs=5, batch_size=5, on_nan="raise")
    assert isinstance(exc.value, FloatingPointError)
    msg = str(exc.value)
    assert "epoch 1," in msg  # within the first epoch
    assert "batch " in msg
    import re

    assert re.search(r"batch \d+", msg)
    assert re.search(r"layer \d+|gradient of \d+\.\w+", msg), msg
    assert np.isfinite(net.theta).all()
    np.testing.assert_array_equal(net.theta, theta0)  # diverged before any step


def test_nan_guard_stop_warns_and_keeps_finite_weights():
    X, y = _keras_data()
    net = keras_nan_net()
    last = _LastGood()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=NUMPY_FP_WARNING, category=RuntimeWarning)
        with pytest.warns(RuntimeWarning, match=r"Training diverged at epoch 1"):
            hist = net.fit(
                X,
                y,
                loss="mse",
                optimizer="sgd",
                epochs=5,
                batch_size=5,
                on_nan="stop",
                callbacks=[last],
            )
    assert np.isfinite(net.theta).all()
    np.testing.assert_array_equal(net.theta, last.theta)
    assert not math.isfinite(hist["loss"][-1])
    assert len(hist["loss"]) == 1
    assert hist.stop_reason.startswith("Training diverged")


def _exploding_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 3))
    y = X @ np.array([1.0, 2.0, 3.0])
    return X, y


@pytest.mark.parametrize("on_nan", ["stop", "raise"])
def test_nan_guard_restores_last_good_weights_after_many_steps(on_nan):
    # SGD with lr 3 on a linear least-squares problem: the iterates grow geometrically
    # until the squared error overflows (weights still finite, loss inf).
    X, y = _exploding_problem()
    net = Sequential([Dense(1)], n_inputs=3, seed=0)
    last = _LastGood()
    kwargs = dict(
        loss="mse",
        optimizer="sgd",
        learning_rate=3.0,
        epochs=20,
        batch_size=10,
        on_nan=on_nan,
        callbacks=[last],
        diagnostics=False,  # the doctor would (rightly) warn "exploding" first
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=NUMPY_FP_WARNING, category=RuntimeWarning)
        if on_nan == "raise":
            with pytest.raises(TrainingDivergedError, match=r"epoch \d+, batch \d+"):
                net.fit(X, y, **kwargs)
        else:
            with pytest.warns(RuntimeWarning, match="Training diverged"):
                hist = net.fit(X, y, **kwargs)
            assert not math.isfinite(hist["loss"][-1])
    assert last.n > 10  # many good steps before the divergence
    assert np.isfinite(net.theta).all()
    assert np.abs(net.theta).max() > 1e6  # the weights had grown: this is a real restore
    np.testing.assert_array_equal(net.theta, last.theta)


class _BeforeUpdate(Callback):
    """theta as every update found it (on_gradients runs after the guard, before the update)."""

    def on_gradients(self, state, net):
        self.theta = net.theta.copy()


@pytest.mark.parametrize("batch_size", [60, 7])
@pytest.mark.parametrize("on_nan", ["stop", "raise"])
def test_fit_checks_the_weights_after_the_last_update(on_nan, batch_size):
    """#13 item 4: the guard checks each batch's loss before its update, so the last update
    was never checked: one of 1e300 leaves |w| ~ 1e300 and every output inf or NaN. The fit
    checks the training loss at the final weights once: on_nan applies to it, naming the
    epoch and batch, and the update is undone (the weights before it, with finite outputs)."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(60, 2), rng.rand(60)
    net = Sequential([Dense(100, "relu"), Dense(1)], n_inputs=2, seed=0)
    before = _BeforeUpdate()
    kwargs = dict(optimizer="sgd", learning_rate=1e300, epochs=1, batch_size=batch_size,
                  on_nan=on_nan, callbacks=[before], diagnostics=False)  # fmt: skip
    where = r"epoch 1, batch 1 \(the last update\)"
    if batch_size != 60:  # 9 batches, 2 epochs: only the very last update is huge

        class LastUpdateHuge(_BeforeUpdate):
            def on_batch_begin(self, state, net):
                last = state.epoch == 1 and state.batch == 8
                net.optimizer.learning_rate = 1e300 if last else 0.01

        before = LastUpdateHuge()
        kwargs.update(epochs=2, callbacks=[before])
        where = r"epoch 2, batch 9 \(the last update\)"
    if on_nan == "raise":
        with pytest.raises(TrainingDivergedError, match=where):
            net.fit(X, y, **kwargs)
    else:
        with pytest.warns(RuntimeWarning, match=where):
            hist = net.fit(X, y, **kwargs)
        assert not math.isfinite(hist["loss"][-1])
    np.testing.assert_array_equal(net.theta, before.theta)
    assert np.isfinite(net.forward(X)).all()


@pytest.mark.parametrize("on_nan", ["stop", "raise"])
def test_lbfgs_without_a_finite_point_applies_on_nan(on_nan):
    """L-BFGS backs off from non-finite points; when even the first is one (y of 1e300),
    fit says so under on_nan instead of returning silently (and numpy says nothing)."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 2), rng.rand(30)
    y[5] = 1e300
    net = Sequential([Dense(5, "relu"), Dense(1)], n_inputs=2, seed=0)
    theta0 = net.theta.copy()
    kwargs = dict(optimizer="lbfgs", epochs=5, on_nan=on_nan)
    if on_nan == "raise":
        with pytest.raises(TrainingDivergedError, match="L-BFGS found no weights"):
            net.fit(X, y, **kwargs)
    else:
        with pytest.warns(RuntimeWarning, match="L-BFGS found no weights"):
            hist = net.fit(X, y, **kwargs)
        assert not math.isfinite(hist["loss"][-1])
    np.testing.assert_array_equal(net.theta, theta0)


_FMAX = float(np.finfo(np.float64).max)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize(
    "value", [1e300, -1e300, _FMAX, -_FMAX], ids=["1e300", "-1e300", "max", "-max"]
)
def test_huge_input_gives_on_nans_error_only(value, where, optimizer):
    """#13 item 5 for Sequential.fit: a value near the float range in X or y either trains
    to finite outputs or raises TrainingDivergedError (on_nan="raise"); no numpy
    RuntimeWarning escapes first (the suite runs with filterwarnings=error)."""
    rng = np.random.RandomState(0)
    X, y = rng.rand(30, 2), rng.rand(30)
    (X if where == "X" else y)[(3, 1) if where == "X" else 5] = value
    net = Sequential([Dense(5, "relu"), Dense(1)], n_inputs=2, seed=0)
    kwargs = dict(optimizer=optimizer, epochs=3, batch_size=8, on_nan="raise",
                  validation_split=0.2, metrics=["mse"], diagnostics=False)  # fmt: skip
    try:
        net.fit(X, y, **kwargs)
    except TrainingDivergedError:
        assert np.isfinite(net.theta).all()
        return
    assert np.isfinite(net.forward(X)).all()


def test_nan_guard_rejects_unknown_mode():
    net = Sequential([Dense(1)], n_inputs=1, seed=0)
    with pytest.raises(ValueError, match="on_nan"):
        net.fit(np.ones((3, 1)), np.ones(3), epochs=1, on_nan="ignore")


# --------------------------------------------------------------------------
# L-BFGS
# --------------------------------------------------------------------------


def test_lbfgs_reduces_the_loss_one_entry_per_iteration(rng):
    X = rng.standard_normal((40, 2))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    net = Sequential([Dense(6, "tanh"), Dense(1)], n_inputs=2, seed=0)
    loss0 = net.loss(X, y)
    hist = net.fit(X, y, optimizer="lbfgs", epochs=7)
    assert len(hist["loss"]) == 7 == len(hist["grad_norm"])  # capped at `epochs` iterations
    assert hist["loss"][-1] < loss0
    losses = hist["loss"]
    assert all(losses[i + 1] <= losses[i] for i in range(len(losses) - 1))  # monotone
    assert net.loss(X, y) == pytest.approx(hist["loss"][-1], rel=1e-10)


def test_lbfgs_converges_early_on_least_squares(rng):
    """A convex problem: L-BFGS stops before the budget; one history entry per iteration
    (scipy's own count, from an independent run) and the least-squares solution."""
    import scipy.optimize

    X = rng.standard_normal((50, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(50)
    net = Sequential([Dense(1)], n_inputs=3, seed=0)
    ref = twin(net)
    theta0 = net.theta.copy()

    def fun(x):
        ref.theta[...] = x
        value, g = ref.loss_and_grad(X, y)
        return value, g.copy()

    res = scipy.optimize.minimize(
        fun, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 200, "gtol": 1e-5}
    )
    hist = net.fit(X, y, optimizer="lbfgs", epochs=200)
    assert 0 < len(hist["loss"]) < 200
    assert len(hist["loss"]) == res.nit
    assert net.optimizer is None
    A = np.c_[X, np.ones(50)]
    coef = np.linalg.lstsq(A, y, rcond=None)[0]  # theta order: W (3x1), then b
    np.testing.assert_allclose(net.theta, coef, atol=1e-4)


# --------------------------------------------------------------------------
# precision, batch norm, optimizer object
# --------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_float32_net_trains_and_stays_float32(optimizer, rng):
    X = rng.standard_normal((64, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    net = Sequential([Dense(8, "tanh"), Dense(1, "logistic")], n_inputs=2, seed=0, dtype="float32")
    theta_obj = net.theta
    loss0 = net.loss(X, y, loss="bce")
    hist = net.fit(X, y, loss="bce", optimizer=optimizer, learning_rate=0.05, epochs=20)
    assert net.theta is theta_obj and net.theta.dtype == np.float32
    assert net.grad.dtype == np.float32
    assert np.shares_memory(net.layers[0].W, net.theta)
    for Xin in (X, X.astype(np.float32)):
        out = net.forward(Xin)
        assert out.dtype == np.float32
    _, g = net.loss_and_grad(X, y, loss="bce")
    assert g.dtype == np.float32
    assert all(math.isfinite(v) for v in hist["loss"])
    assert hist["loss"][-1] < loss0


def test_batchnorm_net_trains_and_inference_uses_running_statistics(rng):
    X = 3 + 2 * rng.standard_normal((200, 2))
    y = X[:, 0] - 0.5 * X[:, 1]
    net = Sequential([Dense(4), BatchNorm(), ActivationLayer("relu"), Dense(1)], n_inputs=2, seed=0)
    bn = net.layers[1]
    loss0 = net.loss(X, y)
    hist = net.fit(X, y, optimizer="adam", learning_rate=0.02, epochs=30, batch_size=20)
    assert hist["loss"][-1] < 0.5 * loss0
    assert not np.allclose(bn.running_mean, 0) and not np.allclose(bn.running_var, 1)

    rm, rv = bn.running_mean.copy(), bn.running_var.copy()
    x0 = X[:1]
    a = net.forward(np.vstack([x0, X[10:20]]))[0]
    b = net.forward(np.vstack([x0, 100 + X[50:53]]))[0]
    c = net.forward(x0)[0]
    np.testing.assert_allclose(a, c, rtol=1e-12)
    np.testing.assert_allclose(b, c, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, rm)  # inference leaves buffers alone
    np.testing.assert_array_equal(bn.running_var, rv)

    # by hand from the parameters and the running statistics
    d0, d1 = net.layers[0], net.layers[3]
    z = x0 @ d0.W + d0.b
    h = bn.params["gamma"] * (z - rm) / np.sqrt(rv + bn.eps) + bn.params["beta"]
    manual = np.maximum(h, 0) @ d1.W + d1.b
    np.testing.assert_allclose(c, manual[0], rtol=1e-12)

    # training mode (batch statistics) does depend on the other samples
    ta = net.forward(np.vstack([x0, X[10:20]]), training=True)[0]
    tb = net.forward(np.vstack([x0, 100 + X[50:53]]), training=True)[0]
    assert not np.allclose(ta, tb)


def test_net_optimizer_after_fit_and_resuming(rng):
    X = rng.standard_normal((40, 2))
    y = X[:, 0] - X[:, 1]
    net = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    assert net.optimizer is None
    net.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=3, batch_size=10)
    opt = net.optimizer
    assert isinstance(opt, Adam)
    assert opt.learning_rate == 0.01
    assert opt.t == 3 * 4
    m_before = opt.state["m"].copy()
    net.fit(X, y, optimizer=net.optimizer, epochs=2, batch_size=10)
    assert net.optimizer is opt
    assert opt.t == 5 * 4
    assert not np.array_equal(opt.state["m"], m_before)

    # resuming == one uninterrupted run (same optimizer state, same shuffles by seed)
    a = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    b = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    a.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=2, batch_size=None)
    a.fit(X, y, optimizer=a.optimizer, epochs=2, batch_size=None)
    b.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=4, batch_size=None)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-13)

    # a fresh optimizer instead restarts the bias correction: a different trajectory
    c = Sequential([Dense(3, "tanh"), Dense(1)], n_inputs=2, seed=0)
    c.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=2, batch_size=None)
    c.fit(X, y, optimizer="adam", learning_rate=0.01, epochs=2, batch_size=None)
    assert not np.allclose(c.theta, b.theta, rtol=1e-10)


def test_optimizer_instance_is_used_as_given(rng):
    X = rng.standard_normal((16, 2))
    y = X[:, 0]
    net = Sequential([Dense(1)], n_inputs=2, seed=0)
    opt = SGD(learning_rate=0.05, momentum=0.5)
    net.fit(X, y, optimizer=opt, epochs=2, batch_size=None)
    assert net.optimizer is opt
    assert opt.learning_rate == 0.05
    assert "velocity" in opt.state and np.abs(opt.state["velocity"]).max() > 0
