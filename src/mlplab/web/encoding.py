"""JSON out of the server: strict (no NaN), compact, numpy values made plain."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import Response

__all__ = ["clean", "dumps", "json_response"]


def clean(obj: Any) -> Any:
    """JSON-able copy: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy array or scalar
        return clean(obj.tolist())
    return obj


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; anything json cannot take as it is goes through :func:`clean`."""
    try:
        text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(clean(obj), allow_nan=False, separators=(",", ":"))
    return text.encode()


def json_response(obj: Any, status_code: int = 200) -> Response:
    return Response(dumps(obj), status_code=status_code, media_type="application/json")
