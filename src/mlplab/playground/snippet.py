"""The Python snippet that reproduces a session's run with mlplab's public API.

It runs on its own with mlplab and numpy (and scikit-learn for "moons"). With unedited weights
it repeats the session's training steps exactly: the same data (the generator's source is
copied into the snippet), split, standardisation, initialisation and mini-batch order.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from mlplab.playground.data import Data, generate_source, split_data

__all__ = ["write_snippet"]


def _q(text: str) -> str:
    """A string literal for the snippet, in double quotes."""
    return json.dumps(text)


def write_snippet(
    cfg: dict[str, Any],
    d: Data,
    epochs: int,
    *,
    loss: str,
    n_out: int,
    out_act: str,
    edited: bool,
) -> str:
    """The snippet for config ``cfg`` and data ``d``, training ``epochs`` epochs.

    ``loss`` and ``out_act``: the resolved loss name and output activation; ``n_out``: the
    number of outputs; ``edited``: weights were edited by hand (the snippet says so).
    """
    lines = [
        f'"""mlplab playground run: {cfg["dataset"]}, reproduced with mlplab\'s API.',
        "",
        "Same data, split, standardisation, network, initialisation and mini-batch order",
        "as the playground (its weights are the same after the same number of epochs).",
        '"""',
        "",
        "import numpy as np",
        "",
        "import mlplab",
        "",
        f"EPOCHS = {epochs}",
        f"SEED = {cfg['seed']}",
        "",
    ]
    if d.pristine and cfg["dataset"] != "csv":
        helpers, call = generate_source(cfg)
        for fn in [*helpers, split_data]:
            lines += ["", "", inspect.getsource(fn).rstrip("\n")]
        lines += [
            "",
            "",
            "# ---- data (original units)",
            f"X, y = {call}",
            f"X_train, y_train, X_test, y_test = split_data(X, y, {cfg['test_fraction']!r}, SEED)",
            "mean, std = X_train.mean(axis=0), X_train.std(axis=0)",
            "std[std == 0] = 1.0",
        ]
    else:
        why = "uploaded CSV" if cfg["dataset"] == "csv" else "with the points added by hand"
        ydt = "np.int64" if d.task == "classification" else "np.float64"
        lines += [
            "",
            f"# ---- data: the playground's ({why}), as it was split",
            f"X_train = np.array({d.X_train.tolist()!r}).reshape(-1, {d.n_inputs})",
            f"y_train = np.array({d.y_train.tolist()!r}, dtype={ydt})",
            f"X_test = np.array({d.X_test.tolist()!r}).reshape(-1, {d.n_inputs})",
            f"y_test = np.array({d.y_test.tolist()!r}, dtype={ydt})",
            f"mean = np.array({d.mean.tolist()!r})",
            f"std = np.array({d.std.tolist()!r})",
        ]
    lines += [
        "# inputs standardised with the training set's mean and std",
        "Xs_train, Xs_test = (X_train - mean) / std, (X_test - mean) / std",
    ]
    if d.task == "classification" and loss == "mse" and n_out > 1:
        lines.append(
            f"t_train, t_test = np.eye({n_out})[y_train], np.eye({n_out})[y_test]"
            "  # one-hot targets"
        )
    else:
        lines.append("t_train, t_test = y_train, y_test")
    lines += ["", "# ---- network", "net = mlplab.Sequential(", "    ["]
    for spec in cfg["layers"]:
        units, act = spec["units"], spec["activation"]
        if spec["batch_norm"]:
            last = "mlplab.PReLU()" if act == "prelu" else f"mlplab.ActivationLayer({_q(act)})"
            lines += [
                f'        mlplab.Dense({units}, activation="identity"),',
                "        mlplab.BatchNorm(),",
                f"        {last},",
            ]
        else:
            lines.append(f"        mlplab.Dense({units}, activation={_q(act)}),")
    lines += [
        f"        mlplab.Dense({n_out}, activation={_q(out_act)}),",
        "    ],",
        f"    n_inputs={d.n_inputs},",
        f"    init={_q(cfg['init'])},",
        "    seed=SEED,",
        ")",
        "",
        "# ---- training (one optimizer step per mini-batch, as in the playground)",
        "hist = net.fit(",
        "    Xs_train,",
        "    t_train,",
        f"    loss={_q(loss)},",
        f"    optimizer={_q(cfg['optimizer'])},",
        f"    learning_rate={cfg['learning_rate']!r},",
        "    epochs=EPOCHS,",
        f"    batch_size={cfg['batch_size']},",
        f"    l2={cfg['l2']!r},",
        f"    clip_norm={cfg['clip_norm']!r},",
        f"    clip_value={cfg['clip_value']!r},",
    ]
    if d.y_test.size:
        lines.append("    validation_data=(Xs_test, t_test),")
    if d.task == "classification":
        lines.append('    metrics=["accuracy"],')
    lines += ["    seed=SEED,", ")", ""]
    if edited:
        lines.insert(4, "Weights edited by hand in the playground are not reproduced.")
    lines.append("print(f\"epochs: {hist.epochs}, training loss: {hist['loss'][-1]:.4g}\")")
    if d.task == "classification" and d.y_test.size:
        lines.append("print(f\"test accuracy: {hist['val_accuracy'][-1]:.3f}\")")
    elif d.y_test.size:
        lines += [
            "pred = net.predict(Xs_test)[:, 0]",
            "r2 = 1 - np.sum((pred - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)",
            'print(f"test R²: {r2:.4f}")',
        ]
    return "\n".join(lines) + "\n"
