"""Leaving mlplab: a trained model as a PyTorch module or an ONNX file, and back from PyTorch.

    module = mlplab.to_torch(net_or_fitted_estimator)   # torch.nn.Module, eval mode
    net = mlplab.from_torch(module)                     # an mlplab Sequential
    mlplab.to_onnx(net_or_fitted_estimator, "model.onnx")

PyTorch and ONNX are optional (``pip install "mlplab[torch]"``, ``"mlplab[onnx]"``): this
package imports them only when one of these functions is called. The layer mapping is
written once (:mod:`mlplab.export.plan`); :mod:`mlplab.export.pytorch` and
:mod:`mlplab.export.onnx_graph` turn its steps into modules and graph nodes.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["from_torch", "require", "to_onnx", "to_torch"]

_HINTS = {
    "torch": (
        'pip install "mlplab[torch]" (on a machine without a GPU, the CPU build first: '
        "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu)"
    ),
    "onnx": 'pip install "mlplab[onnx]"',
}


def require(package: str, extra: str, feature: str) -> ModuleType:
    """Import an optional dependency, or raise an ImportError that says which extra to
    install."""
    try:
        return importlib.import_module(package)
    except ImportError as exc:
        raise ImportError(
            f"{feature} needs the optional package {package!r}, which is not installed: "
            f"{_HINTS[extra]}."
        ) from exc


def to_torch(model: Any) -> Any:
    """An mlplab ``Sequential`` or fitted estimator as a ``torch.nn.Module`` (eval mode).

    See :func:`mlplab.export.pytorch.to_torch`.
    """
    from mlplab.export import pytorch

    return pytorch.to_torch(model)


def from_torch(module: Any, *, n_inputs: int | None = None) -> Any:
    """A ``torch.nn.Module`` (the subset ``to_torch`` writes) as an mlplab ``Sequential``.

    See :func:`mlplab.export.pytorch.from_torch`.
    """
    from mlplab.export import pytorch

    return pytorch.from_torch(module, n_inputs=n_inputs)


def to_onnx(model: Any, path: Any, *, opset: int = 17) -> None:
    """Write an mlplab ``Sequential`` or fitted estimator as an ONNX file (atomically).

    See :func:`mlplab.export.onnx_graph.to_onnx`.
    """
    from mlplab.export import onnx_graph

    onnx_graph.to_onnx(model, path, opset=opset)
