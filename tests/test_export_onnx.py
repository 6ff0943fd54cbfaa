"""mlplab.to_onnx: onnxruntime runs the file with mlplab's outputs (1e-6 in float32, 1e-12
in float64) for every layer type and both estimator kinds; dynamic batch; clear errors."""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import mlplab
from mlplab import GRU, LSTM, ActivationLayer, BatchNorm, Dense, PReLU, Sequential, SimpleRNN

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"float64": (0.0, 1e-12), "float32": (1e-6, 1e-6)}  # (rtol, atol)
ACTIVATIONS = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    {"name": "leaky_relu", "slope": 0.3},
    {"name": "elu", "alpha": 0.6},
    {"name": "gelu", "approximate": True},
    "silu",
    "softplus",
    "softmax",
]


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def run(path, X):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": np.ascontiguousarray(X)})[0]


def exported(model, tmp_path, name="model.onnx"):
    path = tmp_path / name
    mlplab.to_onnx(model, path)
    return path


def randomise(net, rng, scale=0.5):
    net.theta[...] = rng.normal(scale=scale, size=net.theta.shape)
    for layer in net.layers:
        if isinstance(layer, BatchNorm):
            layer.running_mean[...] = rng.normal(size=layer.running_mean.shape)
            layer.running_var[...] = rng.uniform(0.5, 2.0, size=layer.running_var.shape)
    return net


def assert_close(a, b, dtype):
    assert a.shape == b.shape and a.dtype == np.dtype(dtype)
    rtol, atol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --------------------------------------------------------------- Sequential
@pytest.mark.parametrize(
    "act, dtype",
    [(a, d) for d in ("float64", "float32") for a in ACTIVATIONS] + [("gelu", "float32")],
    ids=str,
)  # exact GELU in float64: test_errors_name_the_layer
def test_dense_with_each_activation(act, dtype, tmp_path):
    for seed, (n_in, width) in enumerate([(3, 5), (1, 2), (6, 4)]):
        rng = np.random.default_rng(seed)
        net = Sequential(
            [Dense(width, activation=act), Dense(3, activation=act)],
            n_inputs=n_in, seed=seed, dtype=dtype,
        )  # fmt: skip
        randomise(net, rng, scale=1.5)
        X = rng.normal(scale=3.0, size=(17, n_in)).astype(dtype)
        assert_close(run(exported(net, tmp_path), X), net.forward(X), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batchnorm_before_and_after_activation_and_prelu(dtype, tmp_path):
    rng = np.random.default_rng(3)
    net = Sequential(
        [
            Dense(6), BatchNorm(momentum=0.3, eps=1e-3), ActivationLayer("tanh"), PReLU(),
            Dense(4, activation="prelu"), BatchNorm(), Dense(2, activation="softmax"),
        ],
        n_inputs=3, seed=0, dtype=dtype,
    )  # fmt: skip
    randomise(net, rng)
    path = exported(net, tmp_path)
    for n in (1, 7, 40):  # one file, any batch size
        X = rng.normal(size=(n, 3)).astype(dtype)
        assert_close(run(path, X), net.forward(X), dtype)  # inference: running statistics
    graph_input = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in graph_input] == ["batch", 3]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", ["rnn_tanh", "rnn_relu", "lstm", "gru"])
def test_recurrent_layers(cell, return_sequences, dtype, tmp_path):
    """float32: ONNX's RNN/LSTM/GRU operators; float64: a Scan over the cell's equations."""
    make = {
        "rnn_tanh": lambda rs: SimpleRNN(4, return_sequences=rs),
        "rnn_relu": lambda rs: SimpleRNN(4, activation="relu", return_sequences=rs),
        "lstm": lambda rs: LSTM(4, return_sequences=rs),
        "gru": lambda rs: GRU(4, return_sequences=rs),
    }[cell]
    rng = np.random.default_rng(4)
    net = Sequential(
        [make(True), make(return_sequences), Dense(3), BatchNorm(), PReLU(), Dense(2)],
        n_inputs=2, seed=0, dtype=dtype,
    )  # fmt: skip
    randomise(net, rng)
    path = exported(net, tmp_path)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert ("Scan" in ops) == (dtype == "float64")
    for n, T in [(3, 5), (1, 1), (4, 9)]:  # batch and time are dynamic
        X = rng.normal(size=(n, T, 2)).astype(dtype)
        assert_close(run(path, X), net.forward(X), dtype)


# ------------------------------------------------------------------ estimators
def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "batch_norm"])
def test_classifier_graph_gives_predict_proba(kind, dtype, tmp_path):
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
    _fit(est, X, y)
    out = run(exported(est, tmp_path), X.astype(dtype))
    assert_close(out, est.predict_proba(X), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["single", "multi", "poisson"])
def test_regressor_graph_gives_predict(kind, dtype, tmp_path):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(50, 3))
    y = X @ rng.normal(size=(3, 2)) if kind == "multi" else np.abs(X[:, 0]) + X[:, 1] ** 2
    loss = "poisson" if kind == "poisson" else "squared_error"
    est = mlplab.MLPRegressor(
        hidden_layer_sizes=(6,), max_iter=40, random_state=0, dtype=dtype, loss=loss
    )
    _fit(est, X, y)
    out = run(exported(est, tmp_path), X.astype(dtype))
    assert_close(out, est.predict(X).reshape(len(X), -1), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_recurrent_estimators(dtype, tmp_path):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 6, 2)).astype(dtype)
    for est, y in [
        (mlplab.RNNClassifier(cell="gru"), (X[:, -1, 0] > 0).astype(int)),
        (mlplab.RNNClassifier(cell="lstm"), np.digitize(X[:, -1, 0], [-0.5, 0.5])),
        (mlplab.RNNRegressor(cell="rnn", dense_layers=(3,)), X[:, :, 0].sum(axis=1)),
    ]:
        est.set_params(units=4, max_iter=3, random_state=0, dtype=dtype)
        est.set_params(convergence_warning=False)
        _fit(est, X, y)
        expected = est.predict_proba(X) if hasattr(est, "classes_") else est.predict(X)[:, None]
        assert_close(run(exported(est, tmp_path), X), expected, dtype)


# ---------------------------------------------------------------- the file
def test_written_atomically(tmp_path, monkeypatch):
    """A failed write leaves the previous file whole and no temporary file behind."""
    net = Sequential([Dense(2)], n_inputs=2, seed=0)
    path = exported(net, tmp_path)
    before = path.read_bytes()

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        mlplab.to_onnx(Sequential([Dense(3), Dense(2)], n_inputs=2, seed=1), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


@pytest.mark.parametrize(
    "layers, dtype, error, match",
    [
        ([Dense(3), Dense(1, activation="step")], "float32", ValueError, r"layers\[1\].*'step'"),
        ([Dense(3), ActivationLayer("gelu")], "float64", ValueError, r"layers\[1\].*Erf"),
        ([LSTM(3, activation="relu")], "float32", ValueError, r"layers\[0\].*'tanh'"),
    ],
)
def test_errors_name_the_layer(layers, dtype, error, match, tmp_path):
    net = Sequential(layers, n_inputs=2, dtype=dtype)
    with pytest.raises(error, match=match):
        mlplab.to_onnx(net, tmp_path / "x.onnx")
    assert not list(tmp_path.iterdir())


def test_missing_onnx_says_which_extra_to_install(monkeypatch, tmp_path):
    import mlplab.export

    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "mlplab.export.onnx_graph", raising=False)
    monkeypatch.delattr(mlplab.export, "onnx_graph", raising=False)
    with pytest.raises(ImportError, match=r'pip install "mlplab\[onnx\]"'):
        mlplab.to_onnx(Sequential([Dense(1)], n_inputs=1), tmp_path / "x.onnx")
