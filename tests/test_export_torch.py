"""mlplab.to_torch / from_torch: every layer type and both estimator kinds agree with
PyTorch to 1e-12 in float64 (float32: to float32 rounding), round trips, clear errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import _export_cases as cases
import mlplab
from _export_cases import ACTIVATIONS, DTYPES, randomise
from mlplab import GRU, LSTM, ActivationLayer, BatchNorm, Dense, PReLU, Sequential, SimpleRNN
from mlplab.layers import Layer

torch = pytest.importorskip("torch")
nn = torch.nn
from mlplab.export.pytorch import PerStep, RecurrentLayer  # noqa: E402

TOL = {"float64": (0.0, 1e-12), "float32": (1e-5, 1e-5)}  # (rtol, atol)


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(1):
        yield


def run(module, X, train=False):
    module.train(train)
    with torch.no_grad():
        return module(torch.from_numpy(np.ascontiguousarray(X))).numpy()


def assert_close(a, b, dtype):
    cases.assert_close(a, b, TOL[dtype])


# ----------------------------------------------------------------- to_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTIVATIONS, ids=str)
def test_dense_with_each_activation_matches_torch(act, dtype):
    for net, X in cases.dense_cases(act, dtype):
        module = mlplab.to_torch(net)
        assert next(module.parameters()).dtype == getattr(torch, dtype)
        assert_close(run(module, X), net.forward(X), dtype)


def test_softplus_matches_beyond_torchs_default_threshold():
    """PyTorch's Softplus returns x above its threshold (20 by default), 2e-9 from
    log(1 + e^x) at 20: the export moves the threshold to where the two agree."""
    net = Sequential([ActivationLayer("softplus")], n_inputs=1)
    X = np.linspace(15.0, 60.0, 91)[:, None]
    assert_close(run(mlplab.to_torch(net), X), net.forward(X), "float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm_before_and_after_activation_in_both_modes(dtype):
    rng = np.random.default_rng(3)
    net = Sequential(
        [
            Dense(6), BatchNorm(momentum=0.3, eps=1e-3), ActivationLayer("tanh"),
            Dense(4, activation="relu"), BatchNorm(), Dense(2, activation="softmax"),
        ],
        n_inputs=3, seed=0, dtype=dtype,
    )  # fmt: skip
    randomise(net, rng)
    X = rng.normal(size=(25, 3)).astype(dtype)
    module = mlplab.to_torch(net)
    assert not module.training  # eval mode: net.forward(X)
    assert_close(run(module, X), net.forward(X), dtype)
    for _ in range(2):  # training mode: batch statistics, the same running-average update
        assert_close(run(module, X, train=True), net.forward(X, training=True), dtype)
    bns = [m for m in module if isinstance(m, nn.BatchNorm1d)]
    for bn, layer in zip(bns, [net.layers[1], net.layers[4]], strict=True):
        assert_close(bn.running_mean.numpy(), layer.running_mean, dtype)
        assert_close(bn.running_var.numpy(), layer.running_var, dtype)
    assert_close(run(module, X), net.forward(X), dtype)


def test_prelu_layer_and_dense_prelu_keep_one_slope_per_node():
    rng = np.random.default_rng(4)
    net = Sequential([Dense(5, activation="prelu"), PReLU(), Dense(2)], n_inputs=3, seed=0)
    randomise(net, rng)
    X = rng.normal(size=(30, 3))
    module = mlplab.to_torch(net)
    slopes = [m.weight.detach().numpy() for m in module if isinstance(m, nn.PReLU)]
    assert [s.shape for s in slopes] == [(5,), (5,)] and len(np.unique(slopes[0])) == 5
    assert_close(run(module, X), net.forward(X), "float64")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", cases.RECURRENT_CELLS)
def test_recurrent_layers_match_torch(cell, return_sequences, dtype):
    for seed, (n, T) in enumerate([(3, 5), (1, 1), (4, 9)]):
        net = cases.recurrent_net(cell, return_sequences, dtype, seed)
        X = np.random.default_rng(seed).normal(size=(n, T, 2)).astype(dtype)
        module = mlplab.to_torch(net)
        assert isinstance(module[0], RecurrentLayer)
        assert isinstance(module[2], PerStep) == return_sequences
        assert_close(run(module, X), net.forward(X), dtype)
        if return_sequences and n * T > 1:  # per step: batch statistics over n T rows
            assert_close(run(module, X, train=True), net.forward(X, training=True), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", cases.CLASSIFIER_KINDS)
def test_classifier_module_gives_predict_proba(kind, dtype):
    est, X = cases.fitted_classifier(kind, dtype)
    out = run(mlplab.to_torch(est), X.astype(dtype))
    assert_close(out, est.predict_proba(X), dtype)
    assert out.shape[1] == (3 if kind in ("multiclass", "multilabel") else 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", cases.REGRESSOR_KINDS)
def test_regressor_module_gives_predict(kind, dtype):
    est, X = cases.fitted_regressor(kind, dtype)
    pred = est.predict(X)
    assert_close(run(mlplab.to_torch(est), X.astype(dtype)), pred.reshape(len(X), -1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_recurrent_estimators(cell, dtype):
    for est, X, expected in cases.fitted_recurrent_estimators(cell, dtype):
        assert_close(run(mlplab.to_torch(est), X), expected, dtype)


# ---------------------------------------------------------------- round trip
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_to_torch_from_torch(dtype):
    rng = np.random.default_rng(8)
    nets = [
        Sequential(
            [
                Dense(5, activation={"name": "leaky_relu", "slope": 0.2}), BatchNorm(eps=1e-4),
                ActivationLayer("gelu"), PReLU(), Dense(3, activation="softmax"),
            ],
            n_inputs=3, seed=0, dtype=dtype,
        ),
        Sequential([LSTM(4, return_sequences=True), GRU(3), Dense(2)], n_inputs=2, dtype=dtype),
        Sequential(
            [SimpleRNN(3, activation="relu", return_sequences=True), Dense(2), BatchNorm()],
            n_inputs=2, dtype=dtype,
        ),
    ]  # fmt: skip
    for net in nets:
        randomise(net, rng)
        back = mlplab.from_torch(mlplab.to_torch(net))
        assert back.dtype == net.dtype and back.n_inputs == net.n_inputs
        assert [a.config() for a in back.layers] == [a.config() for a in net.layers]
        state = back.state_dict()
        for name, value in net.state_dict().items():
            assert_close(state[name], value, dtype)
        X = rng.normal(size=(6, 4, net.n_inputs) if net.sequence_input else (6, net.n_inputs))
        X = X.astype(dtype)
        assert_close(back.forward(X), net.forward(X), dtype)


def test_round_trip_of_dense_prelu_gives_dense_and_prelu_layer():
    """Dense(activation="prelu") leaves as nn.Linear + nn.PReLU and comes back as a Dense
    and a PReLU layer: the same function, the same slopes."""
    net = randomise(
        Sequential([Dense(4, activation="prelu")], n_inputs=2), rng=np.random.default_rng(1)
    )
    back = mlplab.from_torch(mlplab.to_torch(net))
    assert [type(a) for a in back.layers] == [Dense, PReLU]
    np.testing.assert_array_equal(back.layers[1].params["alpha"], net.layers[0].params["alpha"])
    X = np.random.default_rng(2).normal(size=(9, 2))
    assert_close(back.forward(X), net.forward(X), "float64")


# ---------------------------------------------------------------- from_torch
def test_from_torch_sequential_of_torch_modules_both_modes():
    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=0.2), nn.ELU(0.5), nn.Linear(6, 5),
        nn.Softplus(threshold=40), nn.PReLU(), nn.Linear(5, 5), nn.LeakyReLU(0.1),
        nn.Sequential(nn.Linear(5, 3, bias=False), nn.SiLU()), nn.Identity(),
        nn.Linear(3, 3), nn.GELU("tanh"), nn.Linear(3, 3), nn.Softmax(dim=1),
    ).double()  # fmt: skip
    X = np.random.default_rng(9).normal(size=(20, 4))
    run(module, X, train=True)  # running statistics that are not the initial ones
    net = mlplab.from_torch(module)
    assert net.n_inputs == 4 and net.dtype == np.float64
    assert isinstance(net.layers[0], Dense) and net.layers[0].activation.name == "identity"
    assert_close(net.forward(X), run(module, X), "float64")
    assert_close(net.forward(X, training=True), run(module, X, train=True), "float64")
    assert_close(net.forward(X), run(module, X), "float64")  # the same running statistics


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True),
        lambda: nn.GRU(3, 5, batch_first=True, bias=False),
        lambda: nn.RNN(3, 4, nonlinearity="relu", batch_first=True),
        lambda: nn.RNN(3, 2, num_layers=3, batch_first=True),
    ],
    ids=["lstm2", "gru_nobias", "rnn_relu", "rnn3"],
)
def test_from_torch_single_recurrent_module_is_its_output_sequence(make, dtype):
    torch.manual_seed(1)
    rnn = make().to(dtype)
    X = np.random.default_rng(10).normal(size=(4, 7, 3))
    with torch.no_grad():
        expected = rnn(torch.from_numpy(X).to(dtype))[0].numpy()
    net = mlplab.from_torch(rnn)
    assert len(net.layers) == rnn.num_layers and net.sequence_output
    name = "float64" if dtype == torch.float64 else "float32"
    assert_close(net.forward(X.astype(name)), expected, name)


def test_from_torch_recurrent_layer_then_per_step_modules():
    torch.manual_seed(2)
    module = nn.Sequential(
        RecurrentLayer(nn.GRU(2, 4, batch_first=True), return_sequences=True),
        PerStep(nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.PReLU(3))),
        nn.Linear(3, 2), nn.Softmax(dim=-1),
    ).double()  # fmt: skip
    X = np.random.default_rng(11).normal(size=(5, 6, 2))
    run(module, X, train=True)
    net = mlplab.from_torch(module)
    assert_close(net.forward(X), run(module, X), "float64")


# -------------------------------------------------------------------- errors
class Custom(Layer):
    def forward(self, x, training=False):
        return x

    def config(self):
        return {"class": "Custom"}


@pytest.mark.parametrize(
    "layers, n_in, error, match",
    [
        ([Dense(3), Dense(1, activation="step")], 2, ValueError, r"layers\[1\].*'step'"),
        ([Dense(3), ActivationLayer("step")], 2, ValueError, r"layers\[1\] \(ActivationLayer"),
        ([Dense(2), Custom()], 2, TypeError, r"layers\[1\] \(Custom.*cannot be exported"),
        ([LSTM(2, stateful=True)], 1, ValueError, r"layers\[0\].*stateful"),
        ([LSTM(2, activation="relu")], 1, ValueError, r"layers\[0\].*activation 'tanh'"),
        ([GRU(2, recurrent_activation="tanh")], 1, ValueError, r"layers\[0\].*'logistic'"),
        ([SimpleRNN(2, activation="logistic")], 1, ValueError, r"layers\[0\].*'relu'"),
    ],
)
def test_to_torch_names_what_it_cannot_export(layers, n_in, error, match):
    with pytest.raises(error, match=match):
        mlplab.to_torch(Sequential(layers, n_inputs=n_in))


def test_to_torch_rejects_other_objects_and_unfitted_estimators():
    with pytest.raises(TypeError, match="Received: str"):
        mlplab.to_torch("net")
    with pytest.raises(ValueError, match="MLPClassifier is not fitted"):
        mlplab.to_torch(mlplab.MLPClassifier())


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Dropout()), TypeError, r"\[1\] \(Dropout\)"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Hardtanh()), TypeError, r"\[1\] \(Hardtanh"),
        (lambda: nn.LSTM(2, 3, batch_first=True, bidirectional=True), ValueError, "bidirect"),
        (lambda: nn.GRU(2, 3), ValueError, "batch_first=False"),
        (lambda: nn.LSTM(2, 3, batch_first=True, proj_size=2), ValueError, "proj_size=2"),
        (lambda: nn.RNN(2, 3, 2, batch_first=True, dropout=0.5), ValueError, "dropout=0.5"),
        (lambda: nn.Sequential(nn.LSTM(2, 3, batch_first=True)), TypeError, "RecurrentLayer"),
        (lambda: nn.Sequential(nn.Linear(2, 2), nn.Softplus(beta=2)), ValueError, "beta"),
        (lambda: nn.Sequential(nn.BatchNorm1d(2, track_running_stats=False)), ValueError, "track"),
        (lambda: nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)), ValueError, r"\[1\].*dim=0"),
        (lambda: nn.Sequential(nn.Linear(2, 3), nn.Linear(2, 1)), ValueError, r"\[1\].*takes 2"),
        (lambda: nn.Sequential(nn.Tanh()), ValueError, "pass n_inputs="),
        (lambda: nn.Sequential(nn.Linear(2, 2).half()), ValueError, "float64 or all float32"),
        (lambda: nn.Conv1d(1, 1, 1), TypeError, "nn.Sequential or an nn.RNN"),
        (
            lambda: nn.Sequential(
                RecurrentLayer(nn.GRU(2, 3, batch_first=True)), nn.BatchNorm1d(3)
            ),
            ValueError,
            r"\[1\] \(BatchNorm1d\).*PerStep",
        ),
        (
            lambda: nn.Sequential(nn.Linear(2, 2), RecurrentLayer(nn.GRU(2, 3, batch_first=True))),
            ValueError,
            r"\[1\].rnn \(GRU\) follows a feed-forward",
        ),
    ],
)
def test_from_torch_names_the_unsupported_module(make, error, match):
    with pytest.raises(error, match=match):
        mlplab.from_torch(make())


def test_from_torch_n_inputs_for_a_module_that_does_not_say():
    net = mlplab.from_torch(nn.Sequential(nn.Tanh()), n_inputs=3)
    X = np.random.default_rng(12).normal(size=(4, 3))
    assert_close(net.forward(X), np.tanh(X), "float64")


# ------------------------------------------------------- optional dependency
def test_missing_torch_says_which_extra_to_install(monkeypatch):
    import mlplab.export

    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    monkeypatch.delitem(sys.modules, "mlplab.export.pytorch", raising=False)
    monkeypatch.delattr(mlplab.export, "pytorch", raising=False)
    net = Sequential([Dense(1)], n_inputs=1)
    with pytest.raises(ImportError, match=r'pip install "mlplab\[torch\]".*cpu'):
        mlplab.to_torch(net)
    with pytest.raises(ImportError, match=r"mlplab\[torch\]"):
        mlplab.from_torch(object())


def test_import_mlplab_imports_neither_torch_nor_onnx():
    code = (
        "import sys, mlplab; mlplab.Sequential; "
        "assert not {'torch', 'onnx', 'onnxruntime', 'mlplab.export'} & set(sys.modules), "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'onnx'))[:5]; "
        "assert callable(mlplab.to_torch) and 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
