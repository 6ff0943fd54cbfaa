"""Validation at the library's boundary.

Every error names the argument and shows what was received, so that a user sees
*what* is wrong without reading a numpy traceback.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def format_choices(choices: Iterable[str]) -> str:
    """Return the sorted choices as ``'a', 'b', 'c'``."""
    return ", ".join(repr(c) for c in sorted(choices))


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Unknown {name} {value!r}. Expected one of: {format_choices(choices)}.")
    return value


def resolve_spec(
    kind: str,
    spec: Any,
    table: dict[str, Any],
    aliases: dict[str, str] | None = None,
    extra_names: Iterable[str] = (),
) -> tuple[str, dict[str, Any]]:
    """Split a name or ``{"name": ..., **params}`` spec into (canonical name, params).

    Raises a ValueError naming ``kind`` and listing the valid names.
    """
    params: dict[str, Any] = {}
    if isinstance(spec, dict):
        params = dict(spec)
        name = params.pop("name", None)
    else:
        name = spec
    if isinstance(name, str) and aliases:
        name = aliases.get(name, name)
    if not isinstance(name, str) or name not in table:
        valid = format_choices([*table, *(aliases or {}), *extra_names])
        raise ValueError(f"Unknown {kind} {name!r}. Expected one of: {valid}.")
    return name, params


def build_from_spec(kind: str, name: str, cls: Any, params: dict[str, Any]) -> Any:
    """Instantiate ``cls(**params)``; a wrong parameter becomes a ValueError naming it."""
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"Invalid parameters for {kind} {name!r}: {exc}") from None


def check_dtype(dtype: Any) -> np.dtype:
    """Return the numpy dtype for 'float32'/'float64' (or the numpy types)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64'. Received: dtype={dtype!r}.")
    return dt


def check_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    """Return ``value`` as int; it must be an integer (not bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer. Received: {name}={value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}. Received: {name}={value!r}.")
    return int(value)


def check_sizes(name: str, value: Any) -> list[int]:
    """Layer sizes: an int or a sequence of positive ints (not bools), as a list."""
    single = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    sizes = [value] if single else value
    try:
        sizes = list(sizes)
    except TypeError:
        raise TypeError(
            f"`{name}` must be an int or a sequence of ints. Received: {name}={value!r}."
        ) from None
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
        raise ValueError(
            f"`{name}` must contain positive integers ({name} must be > 0). "
            f"Received: {name}={value!r}."
        )
    return [int(s) for s in sizes]


def check_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    strict_max: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number. Received: {name}={value!r}.")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"`{name}` must be finite. Received: {name}={value!r}.")
    if minimum is not None and (v <= minimum if strict_min else v < minimum):
        op = ">" if strict_min else ">="
        raise ValueError(f"`{name}` must be {op} {minimum}. Received: {name}={value!r}.")
    if maximum is not None and (v >= maximum if strict_max else v > maximum):
        op = "<" if strict_max else "<="
        raise ValueError(f"`{name}` must be {op} {maximum}. Received: {name}={value!r}.")
    return v


def as_float_array(name: str, value: Any, dtype: np.dtype) -> np.ndarray:
    """Convert to a float array of ``dtype``; reject non-numeric, complex and non-finite data."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"`{name}` could not be converted to a numeric array: {exc}") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise ValueError(f"`{name}` must be real-valued; received complex data.")
    if kind not in "biuf":
        raise ValueError(f"`{name}` must be numeric; received an array of dtype {arr.dtype}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); at least one sample is needed.")
    with np.errstate(over="ignore", invalid="ignore"):  # too large for dtype -> inf, reported below
        out = arr.astype(dtype, copy=False)
    if out.size < 65536:
        finite = bool(np.isfinite(out).all())
    else:  # min and max propagate NaN and show inf: two passes, no large temporary
        finite = bool(np.isfinite(out.min()) and np.isfinite(out.max()))
    if not finite:
        bad = "NaN" if np.isnan(out).any() else "inf"
        raise ValueError(
            f"`{name}` contains {bad} values (or values too large for {np.dtype(dtype).name}); "
            "remove or impute them before training."
        )
    return out


def check_X(X: Any, n_features: int, dtype: np.dtype, name: str = "X") -> np.ndarray:
    """Return X as a C-contiguous (n_samples, n_features) array of ``dtype``."""
    arr = as_float_array(name, X, dtype)
    if arr.ndim != 2:
        hint = " Use X.reshape(-1, 1) for a single feature." if arr.ndim == 1 else ""
        raise ValueError(
            f"`{name}` must be 2-D (n_samples, n_features). Received shape {arr.shape}.{hint}"
        )
    if arr.shape[1] != n_features:
        raise ValueError(
            f"`{name}` has {arr.shape[1]} features, but the network expects "
            f"{n_features} (n_inputs={n_features}). Received shape {arr.shape}."
        )
    return np.ascontiguousarray(arr)


def check_sample_weight(sample_weight: Any, n: int, dtype: np.dtype) -> np.ndarray | None:
    """Return a 1-D non-negative weight vector of length n (or None)."""
    if sample_weight is None:
        return None
    w = as_float_array("sample_weight", sample_weight, dtype)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"`sample_weight` must have shape ({n},), one weight per sample. "
            f"Received shape {w.shape}."
        )
    if (w < 0).any():
        raise ValueError("`sample_weight` must be non-negative.")
    if w.sum() <= 0:
        raise ValueError("`sample_weight` sums to 0; at least one sample needs weight.")
    return w


def check_lengths(X: np.ndarray, y: np.ndarray) -> None:
    """Raise if X and y do not hold the same number of samples."""
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"`X` and `y` have different numbers of samples: "
            f"X has {X.shape[0]}, y has {y.shape[0]}."
        )
