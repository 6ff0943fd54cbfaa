"""Small helpers shared by experiments of several lecture sections."""

from __future__ import annotations

from mlplab.layers import Dense
from mlplab.network import Sequential


def dense_layers(net: Sequential) -> list[Dense]:
    """The Dense layers of ``net``, in order."""
    return [layer for layer in net.layers if isinstance(layer, Dense)]
