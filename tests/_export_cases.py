"""The models both export tests (to_torch, to_onnx) compare against: one set of cases,
so a layer type or estimator kind added here is checked by both."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

import mlplab
from mlplab import GRU, LSTM, BatchNorm, Dense, PReLU, Sequential, SimpleRNN

DTYPES = ["float64", "float32"]
ACTIVATIONS = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    {"name": "leaky_relu", "slope": 0.3},
    {"name": "elu", "alpha": 0.6},
    "gelu",
    {"name": "gelu", "approximate": True},
    "silu",
    "softplus",
    "softmax",
]
CLASSIFIER_KINDS = ["binary", "multiclass", "multilabel", "batch_norm"]
REGRESSOR_KINDS = ["single", "multi", "poisson"]
RECURRENT_CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def assert_close(a, b, tol):
    """tol: (rtol, atol); the shapes must agree too."""
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol[0], atol=tol[1])


def randomise(net, rng, scale=0.5):
    """Every parameter random (biases, gammas, slopes too), not the initialiser's zeros,
    and BatchNorm's running statistics away from 0 and 1."""
    net.theta[...] = rng.normal(scale=scale, size=net.theta.shape)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            layer.running_mean[...] = rng.normal(size=layer.running_mean.shape)
            layer.running_var[...] = rng.uniform(0.5, 2.0, size=layer.running_var.shape)
    return net


def dense_cases(act, dtype):
    """Two Dense layers with activation `act` and random weights, with inputs in their
    tails (scale 3), for three sizes: [(net, X), ...]."""
    cases = []
    for seed, (n_in, width) in enumerate([(3, 5), (1, 2), (6, 4)]):
        rng = np.random.default_rng(seed)
        net = Sequential(
            [Dense(width, activation=act), Dense(3, activation=act)],
            n_inputs=n_in, seed=seed, dtype=dtype,
        )  # fmt: skip
        randomise(net, rng, scale=1.5)
        cases.append((net, rng.normal(scale=3.0, size=(17, n_in)).astype(dtype)))
    return cases


def recurrent_layer(cell, return_sequences):
    return {
        "rnn_tanh": lambda rs: SimpleRNN(4, return_sequences=rs),
        "rnn_relu": lambda rs: SimpleRNN(4, activation="relu", return_sequences=rs),
        "lstm": lambda rs: LSTM(4, return_sequences=rs),
        "gru": lambda rs: GRU(4, return_sequences=rs),
    }[cell](return_sequences)


def recurrent_net(cell, return_sequences, dtype, seed):
    """Two stacked recurrent layers, then Dense, BatchNorm and PReLU per step or on the last
    step: every layer type after a recurrent one."""
    head = [Dense(3), BatchNorm(), PReLU(), Dense(2, activation="tanh")]
    layers = [recurrent_layer(cell, True), recurrent_layer(cell, return_sequences), *head]
    net = Sequential(layers, n_inputs=2, seed=seed, dtype=dtype)
    return randomise(net, np.random.default_rng(seed))


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def fitted_classifier(kind, dtype):
    """A fitted MLPClassifier of each kind and its X (float64, as a user passes it)."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 4))
    y = {
        "binary": (X[:, 0] > 0).astype(int),
        "multiclass": np.digitize(X[:, 0], [-0.5, 0.5]),
        "multilabel": (X[:, :3] > 0).astype(int),
        "batch_norm": np.digitize(X[:, 1], [0.0]),
    }[kind]
    est = mlplab.MLPClassifier(
        hidden_layer_sizes=(5, 3), max_iter=30, random_state=0, dtype=dtype,
        batch_norm=kind == "batch_norm", solver="adam" if kind == "batch_norm" else "lbfgs",
    )  # fmt: skip
    return quiet_fit(est, X, y), X


def fitted_regressor(kind, dtype):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50, 3))
    y = X @ rng.normal(size=(3, 2)) if kind == "multi" else np.abs(X[:, 0]) + X[:, 1] ** 2
    loss = "poisson" if kind == "poisson" else "squared_error"
    est = mlplab.MLPRegressor(
        hidden_layer_sizes=(6,), max_iter=40, random_state=0, dtype=dtype, loss=loss
    )
    return quiet_fit(est, X, y), X


def fitted_recurrent_estimators(cell, dtype):
    """A binary and a 3-class RNNClassifier and an RNNRegressor with a Dense layer, fitted
    for 3 epochs: [(estimator, X, what the exported model must output), ...]."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 6, 2)).astype(dtype)
    out = []
    for est, y in [
        (mlplab.RNNClassifier(cell=cell), (X[:, -1, 0] > 0).astype(int)),
        (mlplab.RNNClassifier(cell=cell), np.digitize(X[:, -1, 0], [-0.5, 0.5])),
        (mlplab.RNNRegressor(cell=cell, dense_layers=(3,)), X[:, :, 0].sum(axis=1)),
    ]:
        est.set_params(units=4, max_iter=3, random_state=0, dtype=dtype)
        est.set_params(convergence_warning=False)
        quiet_fit(est, X, y)
        expected = est.predict_proba(X) if hasattr(est, "classes_") else est.predict(X)[:, None]
        out.append((est, X, expected))
    return out
