"""How many BLAS threads a computation gets: one for the small products of tiny networks."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

__all__ = ["one_blas_thread", "small_net_threads"]


def small_net_threads(net: Any, batch: int):
    """A context limiting BLAS to one thread when every matrix product is small.

    Threads do not speed up small products, and when the machine is busy a
    multithreaded BLAS can make them orders of magnitude slower (measured: a
    gradient-norm dot product at 7 ms instead of microseconds). Large products
    (e.g. 128 x 784 x 256) keep the default thread count.
    """
    largest = max(
        (batch * layer.n_in * layer.n_out for layer in net.layers if hasattr(layer, "W")),
        default=0,
    )
    if largest >= 4_000_000:
        return nullcontext()
    return one_blas_thread()


def one_blas_thread():
    """A context limiting BLAS to one thread (the controller is found once, ~1 ms)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER = None
