"""Small helpers shared by experiments of several lecture sections."""

from __future__ import annotations

import numpy as np

from mlplab._blas import small_net_threads
from mlplab.layers import Dense
from mlplab.network import Sequential


def dense_layers(net: Sequential) -> list[Dense]:
    """The Dense layers of ``net``, in order."""
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def small_forward(net: Sequential, X: np.ndarray) -> np.ndarray:
    """``net.forward(X)`` with the BLAS threads a network this small runs fastest on."""
    with small_net_threads(net, X.shape[0]):
        return net.forward(X)


def legend_outside(ax, **kwargs) -> None:
    """The legend of ``ax`` to the right of it, clear of the data (``kwargs``: of
    ``ax.legend``, e.g. ``fontsize``)."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def legend_below_figure(fig, handles, labels, **kwargs) -> None:
    """One legend for the whole figure, centred below its panels, clear of the data
    (``kwargs``: of ``fig.legend``, e.g. ``ncol``, ``fontsize``, ``frameon``)."""
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), **kwargs)
