"""Central finite differences of a network's loss, shared by the gradient tests."""

from __future__ import annotations

import numpy as np


def fd_grad(net, X, y, h: float = 1e-6, **kw) -> np.ndarray:
    """Central differences of the loss in every coordinate of theta (perturbed in place)."""
    theta = net.theta
    fd = np.empty(theta.size, dtype=np.float64)
    for i in range(theta.size):
        old = theta[i]
        theta[i] = old + h
        up, fp = float(theta[i]), net.loss_and_grad(X, y, **kw)[0]
        theta[i] = old - h
        down, fm = float(theta[i]), net.loss_and_grad(X, y, **kw)[0]
        theta[i] = old
        fd[i] = (fp - fm) / (up - down)
    return fd


def assert_grad_matches_fd(net, X, y, rtol=1e-6, atol=1e-8, h=1e-6, **kw) -> np.ndarray:
    """Backprop's gradient equals central differences, element by element and in norm."""
    value, grad = net.loss_and_grad(X, y, **kw)
    grad = grad.copy()  # the next call overwrites net.grad
    assert np.isfinite(value)
    assert grad.shape == net.theta.shape
    fd = fd_grad(net, X, y, h=h, **kw)
    names = [f"{name}[{j}]" for name, v in net.named_parameters() for j in range(v.size)]
    bad = ~np.isclose(grad, fd, rtol=rtol, atol=atol)
    assert not bad.any(), "gradient != finite differences at " + ", ".join(
        f"{names[i]}: {grad[i]:.10g} vs {fd[i]:.10g}" for i in np.flatnonzero(bad)[:8]
    )
    assert np.linalg.norm(grad - fd) <= rtol * np.linalg.norm(fd) + atol
    return grad


#: x in [-1e4, 1e4], dense where the functions bend, with float32's and float64's exp
#: overflow points (88.72, 709.78) on both sides (RELIABILITY 6)
X_RANGE = np.unique(
    np.concatenate(
        [
            np.linspace(-1e4, 1e4, 2001),
            np.linspace(-60.0, 60.0, 1201),
            np.array([88.7, 88.8, 89.0, 709.7, 709.8, 710.0, 745.2, 1e3]) * [[1.0], [-1.0]],
        ],
        axis=None,
    )
)
RAISE = dict(over="raise", invalid="raise", divide="raise")  # underflow to 0 is harmless
