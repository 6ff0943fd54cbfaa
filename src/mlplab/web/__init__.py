"""The mlplab playground: a local web app that trains small networks while you watch.

``mlplab serve`` starts it (see docs/playground.md). The training logic lives in
:mod:`mlplab.web.session` (no web code, importable without FastAPI); the web
server in :mod:`mlplab.web.server`. ``create_app`` and ``serve`` are imported
from the server lazily, on first use, so ``import mlplab.web.session`` never
needs FastAPI or uvicorn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from mlplab.web import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
