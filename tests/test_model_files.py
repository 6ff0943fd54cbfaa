"""Model files written by an earlier mlplab still load, and predict the same.

The files in tests/fixtures/models/ were written by tests/fixtures/make_model_files.py
run with the released code (the version before the engine refactor); next to each
``<name>.mlplab`` is ``<name>.npz`` with the inputs and the outputs that version
computed. Here the current code loads each file and must give the same outputs to
the bit (float64 and float32 alike), keep the saved optimizer state, and go on
training where the API allows it (``partial_fit``, ``fit`` with the loaded
optimizer, ``warm_start``).

If a change to the format or the numerics makes one of these fail, the files of
the users of the released version are affected: do not regenerate the fixtures to
make the test pass.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from sklearn.exceptions import ConvergenceWarning

import mlplab

# the files of earlier versions must load under the dependency floors too
pytestmark = pytest.mark.floor_smoke

MODELS = Path(__file__).resolve().parent / "fixtures" / "models"
SEQUENTIALS = ["sequential_dense", "sequential_float32_bn_prelu", "sequential_lstm"]
ALL = [*SEQUENTIALS, "mlp_classifier", "mlp_regressor", "rnn_regressor"]


def load(name: str):
    """(the loaded model, the stored inputs and outputs, the file's raw arrays)."""
    path = MODELS / f"{name}.mlplab"
    with np.load(MODELS / f"{name}.npz", allow_pickle=False) as npz:
        stored = {k: npz[k] for k in npz.files}
    return mlplab.load(path), stored, safetensors.numpy.load_file(str(path))


def assert_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    """Same dtype, shape and bytes: equal to the last bit (signed zeros included)."""
    actual = np.asarray(actual)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    if actual.tobytes() != expected.tobytes():
        diff = np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
        raise AssertionError(f"outputs differ from the stored ones (max abs diff {diff:.3g})")


def check_optimizer_state(net: mlplab.Sequential, raw: dict[str, np.ndarray], prefix: str) -> int:
    """The loaded optimizer is the saved Adam with its moments and step count; return t."""
    assert net.optimizer is not None, "the saved optimizer state was lost"
    assert net.optimizer.name == "adam"
    state = net.optimizer.state_dict()
    assert set(state) == {"m", "v", "t"}
    t = int(raw[f"{prefix}optimizer.t"])
    assert t > 0 and int(state["t"]) == t
    for key in ("m", "v"):
        saved = raw[f"{prefix}optimizer.{key}"]
        assert state[key].dtype == net.theta.dtype == saved.dtype
        assert state[key].shape == net.theta.shape
        # Adam keeps its moments rescaled internally (m / (1 - beta_1)), so the round
        # trip through load_state_dict/state_dict may change the last bit.
        rtol = 1e-6 if saved.dtype == np.float32 else 1e-14
        np.testing.assert_allclose(state[key], saved, rtol=rtol, atol=0)
    assert np.any(state["m"] != 0) and np.all(state["v"] >= 0)
    return t


def test_every_fixture_is_here_and_small() -> None:
    for name in ALL:
        for ext in ("mlplab", "npz"):
            path = MODELS / f"{name}.{ext}"
            assert path.is_file(), f"{path} is missing; see tests/fixtures/make_model_files.py"
            assert path.stat().st_size < 8192, path


@pytest.mark.parametrize("name", SEQUENTIALS)
def test_sequential_loads_with_its_outputs_and_optimizer_state(name: str) -> None:
    net, stored, raw = load(name)
    assert type(net) is mlplab.Sequential
    assert net.theta.dtype == stored["X"].dtype
    # the parameters and buffers are the file's, bit for bit
    state = net.state_dict()
    assert set(state) == {k for k in raw if not k.startswith("optimizer.")}
    for key, value in state.items():
        assert_bits(value, raw[key])
    assert_bits(net.forward(stored["X"]), stored["forward"])
    assert_bits(net(stored["X"]), stored["forward"])
    check_optimizer_state(net, raw, prefix="")


@pytest.mark.parametrize("name", SEQUENTIALS)
def test_sequential_resumes_training_with_the_loaded_optimizer(name: str) -> None:
    net, stored, raw = load(name)
    optimizer = net.optimizer
    t = int(raw["optimizer.t"])
    before = net.theta.copy()
    net.fit(
        stored["X_train"],
        stored["y_train"],
        loss="mse",
        optimizer=optimizer,
        epochs=1,
        batch_size=4,
        shuffle=False,
    )
    steps = -(-len(stored["X_train"]) // 4)
    assert net.optimizer is optimizer and optimizer.t == t + steps  # continued, not restarted
    assert not np.array_equal(net.theta, before)
    assert np.all(np.isfinite(net.forward(stored["X"])))


def test_mlp_classifier_loads_and_partial_fits() -> None:
    clf, stored, raw = load("mlp_classifier")
    assert type(clf) is mlplab.MLPClassifier
    assert clf.solver == "adam"
    assert_bits(clf.classes_, np.array([0, 1, 2]))
    assert_bits(clf.predict(stored["X"]), stored["predict"])
    assert_bits(clf.predict_proba(stored["X"]), stored["predict_proba"])
    t = check_optimizer_state(clf.net_, raw, prefix="net.")
    before = clf.predict_proba(stored["X"])
    clf.partial_fit(stored["X_train"], stored["y_train"])  # classes_ come from the file
    assert clf.net_.optimizer.t > t  # the saved Adam state carried on
    after = clf.predict_proba(stored["X"])
    assert not np.array_equal(after, before) and np.all(np.isfinite(after))
    np.testing.assert_allclose(after.sum(axis=1), 1.0)


def test_mlp_regressor_loads_and_warm_starts() -> None:
    reg, stored, _ = load("mlp_regressor")
    assert type(reg) is mlplab.MLPRegressor
    assert reg.solver == "lbfgs"
    assert_bits(reg.predict(stored["X"]), stored["predict"])
    assert not hasattr(reg, "partial_fit")  # lbfgs: no partial_fit, as in scikit-learn
    loss = reg.loss_
    reg.set_params(warm_start=True, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(stored["X_train"], stored["y_train"])
    assert reg.loss_ <= loss  # L-BFGS continued from the loaded weights
    assert np.all(np.isfinite(reg.predict(stored["X"])))


def test_rnn_regressor_loads_and_partial_fits() -> None:
    reg, stored, raw = load("rnn_regressor")
    assert type(reg) is mlplab.RNNRegressor
    assert reg.cell == "gru"
    assert_bits(reg.predict(stored["X"]), stored["predict"])
    t = check_optimizer_state(reg.net_, raw, prefix="net.")
    before = reg.predict(stored["X"])
    reg.partial_fit(stored["X_train"], stored["y_train"])
    assert reg.net_.optimizer.t > t
    after = reg.predict(stored["X"])
    assert not np.array_equal(after, before) and np.all(np.isfinite(after))
