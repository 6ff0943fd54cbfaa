"""mlplab.to_onnx: onnxruntime runs the file with mlplab's outputs (1e-6 in float32, 1e-12
in float64) for every layer type and both estimator kinds; dynamic batch; clear errors."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import _export_cases as cases
import mlplab
from _export_cases import ACTIVATIONS, DTYPES, randomise
from mlplab import LSTM, ActivationLayer, BatchNorm, Dense, PReLU, Sequential

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = {"float64": (0.0, 1e-12), "float32": (1e-6, 1e-6)}  # (rtol, atol)


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


def assert_close(a, b, dtype):
    assert a.dtype == np.dtype(dtype)
    cases.assert_close(a, b, TOL[dtype])


# --------------------------------------------------------------- Sequential
@pytest.mark.parametrize(
    "act, dtype",
    [(a, d) for d in DTYPES for a in ACTIVATIONS if (a, d) != ("gelu", "float64")],
    ids=str,
)  # exact GELU in float64: test_errors_name_the_layer
def test_dense_with_each_activation(act, dtype, tmp_path):
    for net, X in cases.dense_cases(act, dtype):
        assert_close(run(exported(net, tmp_path), X), net.forward(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", cases.RECURRENT_CELLS)
def test_recurrent_layers(cell, return_sequences, dtype, tmp_path):
    """float32: ONNX's RNN/LSTM/GRU operators; float64: a Scan over the cell's equations."""
    for seed, (n, T) in enumerate([(3, 5), (1, 1), (4, 9)]):  # batch and time are dynamic
        net = cases.recurrent_net(cell, return_sequences, dtype, seed)
        path = exported(net, tmp_path)
        ops = {node.op_type for node in onnx.load(str(path)).graph.node}
        assert ("Scan" in ops) == (dtype == "float64")
        X = np.random.default_rng(seed).normal(size=(n, T, 2)).astype(dtype)
        assert_close(run(path, X), net.forward(X), dtype)


# ------------------------------------------------------------------ estimators
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", cases.CLASSIFIER_KINDS)
def test_classifier_graph_gives_predict_proba(kind, dtype, tmp_path):
    est, X = cases.fitted_classifier(kind, dtype)
    out = run(exported(est, tmp_path), X.astype(dtype))
    assert_close(out, est.predict_proba(X), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", cases.REGRESSOR_KINDS)
def test_regressor_graph_gives_predict(kind, dtype, tmp_path):
    est, X = cases.fitted_regressor(kind, dtype)
    out = run(exported(est, tmp_path), X.astype(dtype))
    assert_close(out, est.predict(X).reshape(len(X), -1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_estimators(cell, dtype, tmp_path):
    for est, X, expected in cases.fitted_recurrent_estimators(cell, dtype):
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
