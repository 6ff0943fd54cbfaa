"""Layers: each one's forward and its exact backward in one module.

``base`` holds the protocol every layer follows (build, parameters seated on
views of the network's flat ``theta``, forward caching what backward needs);
``dense``, ``activation``, ``prelu`` and ``batchnorm`` are the feed-forward
layers; the recurrent ones live in :mod:`mlplab.recurrent`.
"""

from typing import Any

from mlplab.layers.activation import ActivationLayer
from mlplab.layers.base import Layer, sum_rows
from mlplab.layers.batchnorm import BatchNorm
from mlplab.layers.dense import Dense
from mlplab.layers.prelu import PReLU

__all__ = [
    "LAYERS",
    "ActivationLayer",
    "BatchNorm",
    "Dense",
    "Layer",
    "PReLU",
    "layer_from_config",
    "sum_rows",
]

#: Every layer class by name, for ``layer_from_config`` (recurrent layers add themselves).
LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls for cls in (Dense, ActivationLayer, PReLU, BatchNorm)
}


def layer_from_config(cfg: dict[str, Any]) -> Layer:
    """Rebuild a layer from ``layer.config()``."""
    cfg = dict(cfg)
    name = cfg.pop("class", None)
    if name not in LAYERS:
        raise ValueError(f"Unknown layer class {name!r}. Expected one of: {sorted(LAYERS)}.")
    return LAYERS[name](**cfg)
