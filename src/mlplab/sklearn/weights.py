"""``coefs_`` and ``intercepts_``: lists whose arrays are the network's own weights.

Each entry is a view of a Dense layer's ``W`` (or ``b``) inside ``net_.theta``, so an
in-place edit (``clf.coefs_[0][0, 0] = 5.0``) changes the network directly. Assigning
an array (``clf.coefs_[0] = W``) or a whole list (``clf.coefs_ = [...]``) copies the
values into the network, after checking the shape, the number of arrays and that the
values are finite real numbers; they are cast to the network's dtype (float64 arrays
into a float32 model become float32). The entries stay the network's arrays, so every
later use — predict, partial_fit, a warm-start fit, ``mlplab.save`` — sees the
assigned weights, at no cost per call. (Your own array ``W`` is copied: editing it
after the assignment does not change the model.)
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

__all__ = ["LayerArrays", "layer_arrays"]


class LayerArrays(list):
    """One array per Dense layer, each a view of the network's parameters.

    Item assignment copies into the view (shape-checked, cast to its dtype); the
    length is fixed. Pickled or copied, it becomes a plain list of copies.
    """

    __slots__ = ("name",)

    def __init__(self, name: str, views: list[np.ndarray]) -> None:
        super().__init__(views)
        self.name = name

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            positions = range(len(self))[index]
            values = list(value)
            if len(values) != len(positions):
                raise ValueError(
                    f"{self.name}[{index.start}:{index.stop}] has {len(positions)} arrays; "
                    f"received {len(values)} (the number of layers is fixed)."
                )
            self.assign_at(list(positions), values)
            return
        i = operator.index(index)
        if not -len(self) <= i < len(self):
            raise IndexError(f"{self.name} has {len(self)} arrays; received index {i}.")
        self.assign_at([i % len(self)], [value])

    def assign_at(self, positions: list[int], values: list[Any]) -> None:
        """Check every value first, then copy: a bad one leaves the network unchanged."""
        checked = [self.checked(i, v) for i, v in zip(positions, values, strict=True)]
        for i, v in zip(positions, checked, strict=True):
            list.__getitem__(self, i)[...] = v

    def assign(self, values: Any) -> None:
        """``est.coefs_ = values``: a list (or tuple) with one array per layer."""
        if values is self:
            return
        if not isinstance(values, (list, tuple)):
            raise ValueError(
                f"{self.name} must be a list of {len(self)} arrays, one per layer; "
                f"received {type(values).__name__}."
            )
        if len(values) != len(self):
            raise ValueError(
                f"{self.name} must be a list of {len(self)} arrays, one per layer; "
                f"received {len(values)} arrays."
            )
        self.assign_at(list(range(len(self))), list(values))

    def checked(self, i: int, value: Any) -> np.ndarray:
        """``value`` as a new array of layer i's shape and dtype, or a ValueError."""
        target = list.__getitem__(self, i)
        where = f"{self.name}[{i}]"
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{where} must be a numeric array of shape {target.shape}; received a "
                f"{type(value).__name__} numpy cannot read as one ({exc})."
            ) from None
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                f"{where} must be a real numeric array of shape {target.shape}; received "
                f"dtype {arr.dtype} ({type(value).__name__})."
            )
        if arr.shape != target.shape:
            raise ValueError(
                f"{where} must have shape {target.shape} (the layer's); received shape {arr.shape}."
            )
        with np.errstate(over="ignore", invalid="ignore"):
            out = arr.astype(target.dtype)  # a copy: the caller's array is not kept
        if not np.isfinite(out).all():
            raise ValueError(
                f"{where} contains NaN or inf"
                + (f" (after casting to {target.dtype})" if arr.dtype != target.dtype else "")
                + "; weights must be finite."
            )
        return out

    def _fixed(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(
            f"{self.name} has one array per layer ({len(self)}); its length cannot change. "
            f"Assign arrays of the same shapes instead ({self.name}[i] = array)."
        )

    append = extend = insert = pop = remove = clear = sort = reverse = _fixed
    __delitem__ = __iadd__ = __imul__ = _fixed

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))


def layer_arrays(name: str) -> property:
    """The ``coefs_``/``intercepts_`` property: reads the LayerArrays kept in
    ``_<name>``; assignment copies into it (see :class:`LayerArrays`)."""
    slot = "_" + name.rstrip("_")

    def get(est: Any) -> LayerArrays:
        try:
            return est.__dict__[slot]
        except KeyError:
            raise AttributeError(
                f"'{type(est).__name__}' object has no attribute '{name}'"
            ) from None

    def set_(est: Any, values: Any) -> None:
        current = est.__dict__.get(slot)
        if current is None:
            raise NotFittedError(
                f"{name} can be assigned once the model is fitted (the network gives its "
                "shapes): call fit or partial_fit first."
            )
        current.assign(values)

    return property(get, set_, doc=f"One array per layer, the network's own ({name}).")
