"""The network a session's config describes: loss and output resolved, size checked, built."""

from __future__ import annotations

from typing import Any

import mlplab
from mlplab.layers import ActivationLayer, BatchNorm, Dense, PReLU
from mlplab.losses import get_loss
from mlplab.web.config import ConfigError
from mlplab.web.data import Data

__all__ = ["build_network"]


def build_network(cfg: dict[str, Any], data: Data, max_parameters: int) -> dict[str, Any]:
    """``{"net", "loss", "fused", "n_out", "out_act"}`` for a validated config and its data.

    "auto" loss and output activation are resolved for the data's task; a loss or output
    that does not fit it, or a network over ``max_parameters``, raises ConfigError.
    """
    task, k = data.task, data.classes
    loss = cfg["loss"]
    out_act = cfg["output_activation"]
    if task == "regression":
        if loss not in ("auto", "mse"):
            raise ConfigError(
                f"loss: {loss!r} is for classification; this dataset is a regression "
                "(use 'mse' or 'auto').",
                "loss",
            )
        loss = "mse"
        n_out = 1
        out_act = "identity" if out_act == "auto" else out_act
    else:
        if loss == "auto":
            loss = "cce" if k > 2 or out_act == "softmax" else "bce"
        if loss == "bce" and k > 2:
            raise ConfigError(
                f"loss: 'bce' is for 2 classes; the data have {k} (use 'cce' or 'auto').",
                "loss",
            )
        n_out = k if (loss == "cce" or (loss == "mse" and k > 2)) else 1
        if out_act == "auto":
            out_act = "softmax" if n_out > 1 else "logistic"
    if out_act == "softmax" and n_out == 1:
        raise ConfigError(
            "output_activation: 'softmax' needs one output per class; with a single "
            "output (this loss) use 'logistic' or 'identity'.",
            "output_activation",
        )
    n_params, n_in = 0, data.n_inputs  # counted before any allocation
    for units in [*(spec["units"] for spec in cfg["layers"]), n_out]:
        n_params += (n_in + 1) * units + 2 * units  # W, b (+ BN or PReLU parameters)
        n_in = units
    if n_params > max_parameters:
        raise ConfigError(
            f"layers: the network has about {n_params} parameters; the limit is {max_parameters}.",
            "layers",
        )
    layers: list[Any] = []
    for spec in cfg["layers"]:
        units, act = spec["units"], spec["activation"]
        if spec["batch_norm"]:
            layers += [Dense(units, activation="identity"), BatchNorm()]
            layers.append(PReLU() if act == "prelu" else ActivationLayer(act))
        else:
            layers.append(Dense(units, activation=act))
    layers.append(Dense(n_out, activation=out_act))
    net = mlplab.Sequential(layers, n_inputs=data.n_inputs, init=cfg["init"], seed=cfg["seed"])
    loss_obj = get_loss(loss)
    try:
        fused = net.output_fusion(loss_obj)
    except ValueError as exc:
        raise ConfigError(
            f"output_activation: {out_act!r} does not fit the loss {loss!r}: {exc}",
            "output_activation",
        ) from None
    return {"net": net, "loss": loss_obj, "fused": fused, "n_out": n_out, "out_act": out_act}
