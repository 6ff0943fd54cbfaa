"""The Python snippet that reproduces a session's run with mlplab's public API.

It runs on its own with mlplab and numpy (and scikit-learn for "moons"). With unedited weights
it repeats the session's training steps exactly: the same data (the generator's source is
copied into the snippet), split, standardisation, initialisation and mini-batch order, and the
same number of optimizer steps (a run stopped mid-epoch: its whole epochs, then a callback stops
``fit`` after the remaining mini-batches).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from mlplab.web.data import Data, generate_source, split_data

__all__ = ["write_snippet"]


def _q(text: str) -> str:
    """A string literal for the snippet, in double quotes."""
    return json.dumps(text)


def write_snippet(
    cfg: dict[str, Any],
    d: Data,
    epochs: int,
    *,
    steps: int | None = None,
    loss: str,
    n_out: int,
    out_act: str,
    edited: bool,
) -> str:
    """The snippet for config ``cfg`` and data ``d``, training ``epochs`` epochs.

    ``steps``: stop after this many optimizer steps, in the last of the ``epochs`` (a run
    stopped mid-epoch); None: whole epochs. ``loss`` and ``out_act``: the resolved loss name
    and output activation; ``n_out``: the number of outputs; ``edited``: weights were edited
    by hand (the snippet says so).
    """
    lines = [
        *_head_lines(cfg, epochs, steps, edited),
        *_data_lines(cfg, d),
        *_input_lines(d, loss, n_out),
        *_network_lines(cfg, d, n_out, out_act),
        *_stop_lines(steps),
        *_fit_lines(cfg, d, loss, steps),
        *_report_lines(d, steps),
    ]
    return "\n".join(lines) + "\n"


def _head_lines(cfg: dict[str, Any], epochs: int, steps: int | None, edited: bool) -> list[str]:
    """The docstring (it says when weights were edited by hand), imports and constants."""
    doc = [
        f'"""mlplab playground run: {cfg["dataset"]}, reproduced with mlplab\'s API.',
        "",
        "Same data, split, standardisation, network, initialisation and mini-batch order",
        "as the playground (its weights are the same after the same number of optimizer steps).",
    ]
    if edited:
        doc.append("Weights edited by hand in the playground are not reproduced.")
    return [
        *doc,
        '"""',
        "",
        "import numpy as np",
        "",
        "import mlplab",
        "",
        f"EPOCHS = {epochs}",
        *([] if steps is None else [f"STEPS = {steps}  # the playground stopped mid-epoch"]),
        f"SEED = {cfg['seed']}",
        "",
    ]


def _data_lines(cfg: dict[str, Any], d: Data) -> list[str]:
    """The data in original units: the generator and the split when the data are as the
    generator gave them, else the session's arrays as they were split."""
    if d.pristine and cfg["dataset"] != "csv":
        helpers, call = generate_source(cfg)
        lines = []
        for fn in [*helpers, split_data]:
            lines += ["", "", inspect.getsource(fn).rstrip("\n")]
        return [
            *lines,
            "",
            "",
            "# ---- data (original units)",
            f"X, y = {call}",
            f"X_train, y_train, X_test, y_test = split_data(X, y, {cfg['test_fraction']!r}, SEED)",
            "mean, std = X_train.mean(axis=0), X_train.std(axis=0)",
            "std[std == 0] = 1.0",
        ]
    why = "uploaded CSV" if cfg["dataset"] == "csv" else "with the points added by hand"
    ydt = "np.int64" if d.task == "classification" else "np.float64"
    return [
        "",
        f"# ---- data: the playground's ({why}), as it was split",
        f"X_train = np.array({d.X_train.tolist()!r}).reshape(-1, {d.n_inputs})",
        f"y_train = np.array({d.y_train.tolist()!r}, dtype={ydt})",
        f"X_test = np.array({d.X_test.tolist()!r}).reshape(-1, {d.n_inputs})",
        f"y_test = np.array({d.y_test.tolist()!r}, dtype={ydt})",
        f"mean = np.array({d.mean.tolist()!r})",
        f"std = np.array({d.std.tolist()!r})",
    ]


def _input_lines(d: Data, loss: str, n_out: int) -> list[str]:
    """The standardised inputs and the targets (one-hot for "mse" on several classes)."""
    lines = [
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
    return lines


def _network_lines(cfg: dict[str, Any], d: Data, n_out: int, out_act: str) -> list[str]:
    """The Sequential network (a BatchNorm layer: Dense, BatchNorm, then the activation)."""
    lines = ["", "# ---- network", "net = mlplab.Sequential(", "    ["]
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
    return [
        *lines,
        f"        mlplab.Dense({n_out}, activation={_q(out_act)}),",
        "    ],",
        f"    n_inputs={d.n_inputs},",
        f"    init={_q(cfg['init'])},",
        "    seed=SEED,",
        ")",
    ]


def _stop_lines(steps: int | None) -> list[str]:
    """A run stopped mid-epoch: the callback that stops ``fit`` after ``STEPS`` steps."""
    if steps is None:
        return []
    return [
        "",
        "",
        "class StopAfterSteps(mlplab.Callback):",
        '    """Stop training after STEPS optimizer steps (the playground stopped mid-epoch)."""',
        "",
        "    def on_batch_end(self, state, net):",
        "        if state.step >= STEPS:",
        "            state.stop = True",
        "",
    ]


def _fit_lines(cfg: dict[str, Any], d: Data, loss: str, steps: int | None) -> list[str]:
    """The call of ``net.fit``."""
    lines = [
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
    if steps is not None:
        lines.append("    callbacks=[StopAfterSteps()],")
    return [*lines, "    seed=SEED,", ")", ""]


def _report_lines(d: Data, steps: int | None) -> list[str]:
    """The prints of the training loss and the test accuracy or R²."""
    done = "epochs: {hist.epochs}" + ("" if steps is None else " (the last one partial)")
    lines = [f"print(f\"{done}, training loss: {{hist['loss'][-1]:.4g}}\")"]
    if d.task == "classification" and d.y_test.size:
        lines.append("print(f\"test accuracy: {hist['val_accuracy'][-1]:.3f}\")")
    elif d.y_test.size:
        lines += [
            "pred = net.predict(Xs_test)[:, 0]",
            "r2 = 1 - np.sum((pred - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)",
            'print(f"test R²: {r2:.4f}")',
        ]
    return lines
