"""Bad inputs give clear mlplab errors; good inputs are never modified."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlplab
from mlplab import ACTIVATIONS, INITIALIZERS, LOSSES, OPTIMIZERS, Dense, Sequential

MLPLAB_DIR = Path(mlplab.__file__).resolve().parent


def make_net(n_outputs: int = 1, last: str = "identity", dtype: str = "float64") -> Sequential:
    return Sequential([Dense(3, "tanh"), Dense(n_outputs, last)], n_inputs=2, seed=0, dtype=dtype)


def good_xy(n: int = 6):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 2))
    return X, (X[:, 0] > 0).astype(float)


ENTRY_POINTS = {
    "forward": lambda net, X, y: net.forward(X),
    "loss_and_grad": lambda net, X, y: net.loss_and_grad(X, y),
    "loss": lambda net, X, y: net.loss(X, y),
    "fit": lambda net, X, y: net.fit(X, y, epochs=1),
}


def raised_in_mlplab(excinfo) -> bool:
    """True if the exception was raised by mlplab's own code (not deep inside numpy)."""
    return Path(str(excinfo.traceback[-1].path)).resolve().is_relative_to(MLPLAB_DIR)


def assert_clear_error(excinfo, *needles: str) -> None:
    assert excinfo.type in (ValueError, TypeError) or issubclass(
        excinfo.type, (ValueError, TypeError)
    )
    assert raised_in_mlplab(excinfo), f"raised outside mlplab: {excinfo.traceback[-1]}"
    msg = str(excinfo.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in message: {msg}"


# --------------------------------------------------------------------------
# bad X
# --------------------------------------------------------------------------

_X_GOOD, _Y_GOOD = good_xy()


def _with(value, i=0, j=1):
    X = _X_GOOD.copy()
    X[i, j] = value
    return X


BAD_X = {
    "nan": (_with(np.nan), ["`X`", "NaN"]),
    "inf": (_with(np.inf), ["`X`", "inf"]),
    "-inf": (_with(-np.inf), ["`X`", "inf"]),
    "1-D": (_X_GOOD[:, 0].copy(), ["`X`", "2-D", "(6,)"]),
    "3-D": (_X_GOOD.reshape(6, 2, 1), ["`X`", "2-D", "(6, 2, 1)"]),
    "0-D": (np.float64(1.0), ["`X`", "2-D", "()"]),
    "wrong features": (np.ones((6, 3)), ["`X`", "3 features", "2"]),
    "empty": (np.empty((0, 2)), ["`X`", "empty", "(0, 2)"]),
    "strings": (np.array([["a", "b"]] * 6), ["`X`", "numeric", "<U1"]),
    "object": (np.array([[1.0, None]] * 6, dtype=object), ["`X`", "numeric", "object"]),
    "complex": (_X_GOOD + 1j, ["`X`", "complex"]),
    "ragged list": ([[1.0, 2.0], [3.0]] * 3, ["`X`"]),
    "None": (None, ["`X`"]),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("case", sorted(BAD_X))
def test_bad_X(case, entry):
    X, needles = BAD_X[case]
    y = _Y_GOOD
    net = make_net()
    theta0 = net.theta.copy()
    with pytest.raises((ValueError, TypeError)) as exc:
        ENTRY_POINTS[entry](net, X, y)
    assert_clear_error(exc, *needles)
    np.testing.assert_array_equal(net.theta, theta0)  # nothing trained on bad data


@pytest.mark.parametrize("entry", ["forward", "fit"])
def test_X_too_large_for_float32(entry):
    """1e300 is finite in float64 but not in a float32 net: a clear ValueError naming X
    (the message anticipates the case), with no numpy overflow warning on the way."""
    net = make_net(dtype="float32")
    X = _with(1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError)) as exc:
            ENTRY_POINTS[entry](net, X, _Y_GOOD)
    assert_clear_error(exc, "`X`", "float32")


# --------------------------------------------------------------------------
# bad y
# --------------------------------------------------------------------------

Y_ENTRY_POINTS = {k: v for k, v in ENTRY_POINTS.items() if k != "forward"}

BAD_Y = {
    "nan": (np.array([0.0, np.nan, 1, 0, 1, 0]), ["`y`", "NaN"]),
    "inf": (np.array([0.0, np.inf, 1, 0, 1, 0]), ["`y`", "inf"]),
    "-inf": (np.array([0.0, -np.inf, 1, 0, 1, 0]), ["`y`", "inf"]),
    "too short": (np.zeros(5), ["`X`", "`y`", "6", "5"]),
    "too long": (np.zeros(7), ["`X`", "`y`", "6", "7"]),
    "empty": (np.zeros(0), ["`y`", "empty"]),
    "2 columns": (np.zeros((6, 2)), ["`y`", "(6, 2)"]),
    "strings": (np.array(list("abcdef")), ["`y`", "numeric"]),
    "complex": (np.zeros(6) + 1j, ["`y`", "complex"]),
    "None": (None, ["`y`"]),
}


@pytest.mark.parametrize("entry", sorted(Y_ENTRY_POINTS))
@pytest.mark.parametrize("case", sorted(BAD_Y))
def test_bad_y(case, entry):
    y, needles = BAD_Y[case]
    net = make_net()
    with pytest.raises((ValueError, TypeError)) as exc:
        Y_ENTRY_POINTS[entry](net, _X_GOOD, y)
    assert_clear_error(exc, *needles)


@pytest.mark.parametrize("bad", [[0, 2, 1, 0, 1, 0], [0, -0.5, 1, 0, 1, 0]])
@pytest.mark.parametrize("entry", ["loss_and_grad", "fit", "loss"])
def test_bce_targets_outside_0_1(bad, entry):
    net = make_net(last="logistic")
    call = {
        "loss_and_grad": lambda: net.loss_and_grad(_X_GOOD, bad, loss="bce"),
        "fit": lambda: net.fit(_X_GOOD, bad, loss="bce", epochs=1),
        "loss": lambda: net.loss(_X_GOOD, bad, loss="bce"),
    }[entry]
    with pytest.raises(ValueError) as exc:
        call()
    assert_clear_error(exc, "`y`", "bce", f"{min(bad):g}" if min(bad) < 0 else f"{max(bad):g}")


@pytest.mark.parametrize("labels", [[0, 1, 3, 0, 1, 2], [0, -1, 2, 0, 1, 2]])
@pytest.mark.parametrize("entry", ["loss_and_grad", "fit", "loss"])
def test_cce_integer_labels_out_of_range(labels, entry):
    net = make_net(n_outputs=3, last="softmax")
    y = np.array(labels)
    call = {
        "loss_and_grad": lambda: net.loss_and_grad(_X_GOOD, y, loss="cce"),
        "fit": lambda: net.fit(_X_GOOD, y, loss="cce", epochs=1),
        "loss": lambda: net.loss(_X_GOOD, y, loss="cce"),
    }[entry]
    with pytest.raises(ValueError) as exc:
        call()
    bad = str(max(labels)) if max(labels) > 2 else str(min(labels))
    assert_clear_error(exc, "`y`", "0..2", bad)


def test_cce_integer_labels_match_one_hot():
    net = make_net(n_outputs=3, last="softmax")
    labels = np.array([0, 2, 1, 1, 0, 2])
    onehot = np.eye(3)[labels]
    assert net.loss(_X_GOOD, labels, loss="cce") == net.loss(_X_GOOD, onehot, loss="cce")


def test_cce_boolean_labels():
    """CCE.prepare_targets takes 1-D label arrays of kind "iub": boolean labels are meant
    to be accepted as class 0/1 (or rejected with a clear error), not crash in numpy."""
    net = make_net(n_outputs=2, last="softmax")
    yb = np.array([True, False, True, True, False, False])
    try:
        got = net.loss(_X_GOOD, yb, loss="cce")
    except (ValueError, TypeError) as err:  # a clear refusal is acceptable too
        assert "`y`" in str(err)
        assert err.__traceback__ is not None
        return
    assert got == pytest.approx(net.loss(_X_GOOD, yb.astype(int), loss="cce"), rel=1e-15)


def test_loss_activation_mismatch():
    net = make_net(last="relu")
    with pytest.raises(ValueError) as exc:
        net.loss_and_grad(_X_GOOD, _Y_GOOD, loss="bce")
    assert_clear_error(exc, "bce", "relu", "logistic")


# --------------------------------------------------------------------------
# unknown names (message lists the valid ones)
# --------------------------------------------------------------------------


def _lists_all(msg: str, names) -> None:
    for name in names:
        assert repr(name) in msg, f"{name!r} missing from: {msg}"


def test_unknown_activation():
    with pytest.raises(ValueError) as exc:
        Dense(2, activation="rectifier")
    assert_clear_error(exc, "activation", "rectifier")
    _lists_all(str(exc.value), ACTIVATIONS)
    with pytest.raises(ValueError) as exc:
        Dense(2, activation={"name": "nope"})
    assert_clear_error(exc, "activation", "nope")


@pytest.mark.parametrize("where", ["fit", "loss_and_grad", "loss"])
def test_unknown_loss(where):
    net = make_net()
    call = {
        "fit": lambda: net.fit(_X_GOOD, _Y_GOOD, loss="hinge", epochs=1),
        "loss_and_grad": lambda: net.loss_and_grad(_X_GOOD, _Y_GOOD, loss="hinge"),
        "loss": lambda: net.loss(_X_GOOD, _Y_GOOD, loss="hinge"),
    }[where]
    with pytest.raises(ValueError) as exc:
        call()
    assert_clear_error(exc, "loss", "hinge")
    _lists_all(str(exc.value), LOSSES)


def test_unknown_optimizer_in_fit():
    net = make_net()
    with pytest.raises(ValueError) as exc:
        net.fit(_X_GOOD, _Y_GOOD, optimizer="adamw", epochs=1)
    assert_clear_error(exc, "optimizer", "adamw")
    _lists_all(str(exc.value), [*OPTIMIZERS, "lbfgs"])


@pytest.mark.parametrize("where", ["network", "layer"])
def test_unknown_initializer(where):
    with pytest.raises(ValueError) as exc:
        if where == "network":
            Sequential([Dense(2)], n_inputs=2, init="xavier_gaussian")
        else:
            Dense(2, init="xavier_gaussian")
    assert_clear_error(exc, "initializer", "xavier_gaussian")
    _lists_all(str(exc.value), INITIALIZERS)


def test_unknown_metric():
    net = make_net()
    with pytest.raises(ValueError) as exc:
        net.fit(_X_GOOD, _Y_GOOD, epochs=1, metrics=["f1"])
    assert_clear_error(exc, "metric", "f1", "'accuracy'")


# --------------------------------------------------------------------------
# invalid hyperparameters
# --------------------------------------------------------------------------

FIT_BAD = [
    ("epochs", 0, ValueError),
    ("epochs", -3, ValueError),
    ("epochs", 2.5, TypeError),
    ("epochs", "10", TypeError),
    ("epochs", True, TypeError),
    ("batch_size", 0, ValueError),
    ("batch_size", -1, ValueError),
    ("batch_size", 1.5, TypeError),
    ("learning_rate", -1, ValueError),
    ("learning_rate", 0, ValueError),
    ("learning_rate", float("inf"), ValueError),
    ("learning_rate", "0.1", TypeError),
    ("l2", -1, ValueError),
    ("validation_split", 1.5, ValueError),
    ("validation_split", 1.0, ValueError),
    ("validation_split", -0.1, ValueError),
    ("clip_norm", 0, ValueError),
    ("clip_value", -1, ValueError),
]


@pytest.mark.parametrize(("arg", "value", "exc_type"), FIT_BAD, ids=lambda v: repr(v))
def test_fit_invalid_hyperparameters(arg, value, exc_type):
    net = make_net()
    theta0 = net.theta.copy()
    kwargs = {"epochs": 1, arg: value}
    with pytest.raises(exc_type) as exc:
        net.fit(_X_GOOD, _Y_GOOD, **kwargs)
    assert_clear_error(exc, arg, repr(value))
    np.testing.assert_array_equal(net.theta, theta0)


@pytest.mark.parametrize(
    ("arg", "value"), [("batch_size", 0), ("epochs", 0), ("learning_rate", -1), ("l2", -1)]
)
def test_rejected_fit_keeps_the_previous_optimizer(arg, value):
    """A fit that is rejected for a bad argument must not touch the network: the
    optimizer of the previous fit (whose state resumes training) stays in place."""
    net = make_net()
    net.fit(_X_GOOD, _Y_GOOD, epochs=2, optimizer="adam")
    opt, theta0 = net.optimizer, net.theta.copy()
    kwargs = {"epochs": 1, "optimizer": "sgd", arg: value}
    with pytest.raises((ValueError, TypeError)):
        net.fit(_X_GOOD, _Y_GOOD, **kwargs)
    assert net.optimizer is opt
    np.testing.assert_array_equal(net.theta, theta0)


def test_validation_split_too_small_for_the_data():
    net = make_net()
    with pytest.raises(ValueError) as exc:
        net.fit(_X_GOOD, _Y_GOOD, epochs=1, validation_split=0.01)
    assert_clear_error(exc, "validation_split", "0.01")


def test_loss_and_grad_negative_l2():
    net = make_net()
    with pytest.raises(ValueError) as exc:
        net.loss_and_grad(_X_GOOD, _Y_GOOD, l2=-1)
    assert_clear_error(exc, "l2", "-1")


@pytest.mark.parametrize(
    ("build", "arg", "received"),
    [
        (lambda: Dense(0), "units", "0"),
        (lambda: Dense(-2), "units", "-2"),
        (lambda: Dense(2.0), "units", "2.0"),
        (lambda: Sequential([Dense(1)], n_inputs=0), "n_inputs", "0"),
        (lambda: Sequential([Dense(1)], n_inputs=1.5), "n_inputs", "1.5"),
        (lambda: Sequential([Dense(1)], n_inputs=2, dtype="int8"), "dtype", "int8"),
        (lambda: Sequential([Dense(1)], n_inputs=2, dtype="float16"), "dtype", "float16"),
        (lambda: Sequential([Dense(1)], n_inputs=2, dtype=np.complex128), "dtype", "complex"),
        (lambda: Sequential([Dense(1)], n_inputs=2, seed=-1), "seed", "-1"),
        (lambda: Sequential([], n_inputs=2), "layers", "empty"),
        (lambda: Sequential(["dense"], n_inputs=2), "layers[0]", "str"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_construction(build, arg, received):
    with pytest.raises((ValueError, TypeError)) as exc:
        build()
    assert_clear_error(exc, arg, received)


def test_same_layer_twice_is_rejected():
    layer = Dense(2)
    with pytest.raises(ValueError) as exc:
        Sequential([layer, layer], n_inputs=2)
    assert_clear_error(exc, "layers[1]")


# --------------------------------------------------------------------------
# inputs are never modified; read-only inputs work
# --------------------------------------------------------------------------


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
        h.update(str((a.dtype, a.shape)).encode())
    return h.hexdigest()


FIT_VARIANTS = {
    "default": dict(),
    "full batch no shuffle": dict(batch_size=None, shuffle=False),
    "validation_split": dict(validation_split=0.25, metrics=["accuracy"]),
    "l2 clip": dict(l2=0.1, clip_norm=0.1, optimizer="momentum"),
    "lbfgs": dict(optimizer="lbfgs"),
    "sample_weight": dict(sample_weight=np.linspace(0.5, 1.5, 8)),
}


@pytest.mark.parametrize("variant", sorted(FIT_VARIANTS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inputs_are_not_mutated(variant, dtype):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 2)).astype(dtype)
    y = (X[:, 0] > 0).astype(dtype)
    Xv, yv = X[:3].copy(), y[:3].copy()
    kwargs = dict(FIT_VARIANTS[variant])
    sw = kwargs.get("sample_weight")
    before = _digest(X, y, Xv, yv, *([sw] if sw is not None else []))
    net = make_net(last="logistic", dtype=dtype)
    if variant != "validation_split":
        kwargs["validation_data"] = (Xv, yv)
    net.fit(X, y, loss="bce", epochs=3, **kwargs)
    net.forward(X)
    net.loss_and_grad(X, y, loss="bce")
    assert _digest(X, y, Xv, yv, *([sw] if sw is not None else [])) == before


def test_integer_labels_not_mutated_cce():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 2))
    y = np.array([0, 1, 2] * 3)
    before = _digest(X, y)
    net = make_net(n_outputs=3, last="softmax")
    net.fit(X, y, loss="cce", epochs=2, batch_size=4)
    assert _digest(X, y) == before


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", sorted(FIT_VARIANTS))
def test_read_only_inputs_work(variant, dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 2)).astype(dtype)
    y = (X[:, 0] > 0).astype(dtype)
    kwargs = dict(FIT_VARIANTS[variant])
    arrays = [X, y] + ([kwargs["sample_weight"]] if "sample_weight" in kwargs else [])
    for a in arrays:
        a.setflags(write=False)
    net = make_net(last="logistic", dtype=dtype)
    theta0 = net.theta.copy()
    hist = net.fit(X, y, loss="bce", epochs=2, **kwargs)
    assert not np.array_equal(net.theta, theta0)
    assert np.isfinite(hist["loss"]).all()
    out = net.forward(X)
    assert out.shape == (8, 1)
    loss, g = net.loss_and_grad(X, y, loss="bce")
    assert np.isfinite(loss) and np.isfinite(g).all()
    assert not X.flags.writeable  # we did not flip the flag back


def test_list_inputs_are_accepted():
    net = make_net()
    X = [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]
    out_list = net.forward(X)
    out_arr = net.forward(np.array(X))
    np.testing.assert_array_equal(out_list, out_arr)
    net.fit(X, [0.0, 1.0, 0.5], epochs=1)
