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


def _random_estimator(draw, st):
    """A fitted estimator of a random kind and architecture, with its data."""
    kind = draw(st.sampled_from(["classifier", "regressor", "rnn-classifier", "rnn-regressor"]))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    n, d = 24, draw(st.integers(1, 4))
    if kind.startswith("rnn"):
        X = rng.standard_normal((n, draw(st.integers(1, 5)), d))
        est_cls = mlplab.RNNClassifier if kind == "rnn-classifier" else mlplab.RNNRegressor
        est = est_cls(
            cell=draw(st.sampled_from(["rnn", "lstm", "gru"])),
            units=draw(st.integers(1, 4)),
            max_iter=2,
            dtype=dtype,
            random_state=seed,
            convergence_warning=False,
        )
    else:
        import pandas as pd

        X = pd.DataFrame(rng.standard_normal((n, d)), columns=[f"x{i}" for i in range(d)])
        est_cls = mlplab.MLPClassifier if kind == "classifier" else mlplab.MLPRegressor
        est = est_cls(
            hidden_layer_sizes=tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))),
            activation=draw(st.sampled_from(["identity", "logistic", "tanh", "relu"])),
            solver=draw(st.sampled_from(["adam", "sgd", "lbfgs"])),
            batch_norm=draw(st.booleans()),
            max_iter=2,
            dtype=dtype,
            random_state=seed,
            convergence_warning=False,
        )
    if kind.endswith("classifier"):
        labels = draw(st.sampled_from([["a", "b"], [3, 7, 9], [0.0, 1.0]]))
        y = np.array(labels)[np.arange(n) % len(labels)]
    else:
        y = rng.standard_normal((n, draw(st.integers(1, 2)))).squeeze()
    return est.fit(X, y), X


def test_random_estimators_round_trip(tmp_path_factory):
    """RELIABILITY 14: random fitted estimators (both MLPs and both RNN estimators, float32
    and float64, label kinds, pandas feature names): the bytes are deterministic, and the
    loaded model has the same weights, predictions, classes_, n_features_in_,
    feature_names_in_ and dtype; an unfitted estimator is refused by name."""
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        mlplab.save(mlplab.MLPClassifier(), tmp_path_factory.mktemp("u") / "m.mlplab")

    @settings(max_examples=50, deadline=None, database=None)
    @given(st.data())
    def check(data):
        seen.append(1)
        with threadpool_limits(1):
            est, X = _random_estimator(data.draw, st)
        path = tmp_path_factory.mktemp("m") / "m.mlplab"
        mlplab.save(est, path)
        first = path.read_bytes()
        mlplab.save(est, path)
        assert path.read_bytes() == first
        back = mlplab.load(path)
        assert type(back) is type(est) and back.get_params() == est.get_params()
        assert np.array_equal(back.net_.theta, est.net_.theta)
        assert back.net_.theta.dtype == est.net_.theta.dtype
        assert np.array_equal(back.predict(X), est.predict(X))
        for name in ("classes_", "n_features_in_", "feature_names_in_"):
            assert hasattr(back, name) == hasattr(est, name), name
            if hasattr(est, name):
                assert np.array_equal(getattr(back, name), getattr(est, name)), name
        if hasattr(est, "predict_proba"):
            assert np.array_equal(back.predict_proba(X), est.predict_proba(X))

    seen: list[int] = []
    check()
    assert len(seen) >= 50  # the 50 random models of the goal
