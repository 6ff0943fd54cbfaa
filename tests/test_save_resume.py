"""Saving a trained network keeps everything needed to resume it exactly."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import mlplab
from mlplab.activations import ACTIVATIONS


def _data(n=64, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    return X, y


@pytest.mark.floor_smoke
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_resume_after_load_is_bitwise_equal_to_continuing(tmp_path, optimizer):
    X, y = _data()
    kw = dict(loss="bce", learning_rate=0.01, batch_size=16, seed=3)
    with threadpool_limits(1):
        net = mlplab.Sequential(
            [mlplab.Dense(5, activation="tanh"), mlplab.BatchNorm(), mlplab.Dense(1)],
            n_inputs=3,
            seed=1,
        )
        net.fit(X, y, epochs=3, optimizer=optimizer, **kw)
        mlplab.save(net, tmp_path / "m.mlplab")
        loaded = mlplab.load(tmp_path / "m.mlplab")
        assert type(loaded.optimizer) is type(net.optimizer)
        assert loaded.optimizer.t == net.optimizer.t > 0
        # continue both: the loaded optimizer carries its moments and step count
        net.fit(X, y, epochs=2, optimizer=net.optimizer, **kw)
        loaded.fit(X, y, epochs=2, optimizer=loaded.optimizer, **kw)
    assert np.array_equal(net.theta, loaded.theta)
    assert np.array_equal(net.layers[1].running_mean, loaded.layers[1].running_mean)


def test_resume_without_optimizer_state_differs(tmp_path):
    """Control for the test above: a fresh Adam does not reproduce the continued run."""
    X, y = _data()
    kw = dict(loss="bce", learning_rate=0.01, batch_size=16, seed=3)
    net = mlplab.Sequential(
        [mlplab.Dense(4, activation="tanh"), mlplab.Dense(1)], n_inputs=3, seed=1
    )
    net.fit(X, y, epochs=3, optimizer="adam", **kw)
    mlplab.save(net, tmp_path / "m.mlplab")
    loaded = mlplab.load(tmp_path / "m.mlplab")
    net.fit(X, y, epochs=1, optimizer=net.optimizer, **kw)
    loaded.fit(X, y, epochs=1, optimizer="adam", **kw)
    assert not np.array_equal(net.theta, loaded.theta)


ACTS = sorted(set(ACTIVATIONS) - {"softmax"})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(6))
def test_random_architectures_round_trip(tmp_path, dtype, seed):
    rng = np.random.default_rng(seed)
    layers = []
    for _ in range(rng.integers(1, 4)):
        layers.append(
            mlplab.Dense(int(rng.integers(1, 6)), activation=ACTS[rng.integers(len(ACTS))])
        )
        if rng.random() < 0.3:
            layers.append(mlplab.BatchNorm(momentum=0.2))
        if rng.random() < 0.2:
            layers.append(mlplab.PReLU(alpha_init=0.1))
    layers.append(mlplab.Dense(2, activation="identity"))
    net = mlplab.Sequential(layers, n_inputs=3, seed=seed, dtype=dtype, init="he_normal")
    net.layers[0].params["b"][...] = rng.standard_normal(net.layers[0].params["b"].shape)
    X = rng.standard_normal((9, 3))
    path = tmp_path / "net.mlplab"
    mlplab.save(net, path)
    first = path.read_bytes()
    mlplab.save(net, path)
    assert path.read_bytes() == first  # deterministic serialisation
    back = mlplab.load(path)
    assert back.dtype == net.dtype and back.theta.dtype == net.theta.dtype
    assert np.array_equal(back.theta, net.theta)
    assert back.get_config() == net.get_config()
    assert np.array_equal(back.forward(X), net.forward(X))
    for (n1, v1), (n2, _) in zip(back.named_parameters(), net.named_parameters(), strict=True):
        assert n1 == n2 and np.shares_memory(v1, back.theta)
