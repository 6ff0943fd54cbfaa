"""The playground app: ``create_app``, its HTTP routes and its WebSocket.

The contract is docs/playground.md. No route takes a file path: exports stream bytes, uploads
are JSON text, session ids must match ``[A-Za-z0-9_-]{1,64}``. The security middleware is
:class:`mlplab.web.guard.Guard`, the sessions are kept by
:class:`mlplab.web.hub.Hub`, the bodies are :mod:`mlplab.web.schemas`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path as FsPath
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Security, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import Scope

from mlplab._version import __version__
from mlplab.web.config import LANGS, SECONDS, SERVER_LIMITS
from mlplab.web.config import LIMITS as SESSION_LIMITS
from mlplab.web.config import meta as session_meta
from mlplab.web.encoding import clean, json_response
from mlplab.web.guard import ALLOWED_HOSTS, NO_FRAMING, TOKEN_HEADER, Guard
from mlplab.web.hub import Hub, UserError, user_call
from mlplab.web.schemas import (
    ConfigFrameOut,
    ConfigPatch,
    ControlBody,
    ControlOut,
    CreateBody,
    CsvBody,
    FrameOut,
    MetaOut,
    PointBody,
    SessionId,
    SessionOut,
    WeightBody,
    error_responses,
    validation_message,
)

__all__ = ["DEFAULT_LIMITS", "SERVER_LIMITS", "STATIC_DIR", "create_app"]

STATIC_DIR = FsPath(__file__).parent / "static"
JAVASCRIPT = "text/javascript; charset=utf-8"

# Caps: the Session's ``LIMITS`` plus the server's own ``SERVER_LIMITS`` (both in config.py, which
# says why); ``create_app(limits=...)`` may override any of them (the Session ones are passed on
# to every Session).
DEFAULT_LIMITS: dict[str, float] = {**SERVER_LIMITS, **SESSION_LIMITS}


def _limits(overrides: dict[str, float] | None) -> tuple[dict[str, Any], dict[str, int]]:
    """(all limits, the overrides to pass to Session)."""
    limits: dict[str, Any] = dict(DEFAULT_LIMITS)
    for key, value in (overrides or {}).items():
        if key not in limits:
            raise ValueError(f"unknown limit {key!r}; known: {', '.join(limits)}")
        limits[key] = float(value) if key in SECONDS else int(value)
        if key in SECONDS and not limits[key] > 0:  # also NaN
            raise ValueError(f"limit {key} must be a positive number of seconds; got {value!r}")
    for_session = {k: int(v) for k, v in (overrides or {}).items() if k in SESSION_LIMITS}
    return limits, for_session


async def _known_query_only(request: Request) -> None:
    """Unknown query parameters are an error (422), not silently ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    known = {param.alias for param in getattr(dependant, "query_params", [])}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(422, f"unknown query parameter {unknown[0]!r}")


class _StaticFiles(StaticFiles):
    """The page's files, its ES modules (``*.js``) always as ``text/javascript``.

    Browsers run a module script only with a JavaScript MIME type (and ``nosniff`` forbids
    guessing); the system's MIME table may say ``application/javascript`` or even
    ``text/plain`` for ``.js``, so it is not asked.
    """

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if isinstance(response, FileResponse) and os.fspath(full_path).endswith(".js"):
            response.media_type = JAVASCRIPT
            response.headers["content-type"] = JAVASCRIPT
        return response


# --------------------------------------------------------------------------- the app


def _meta(lang: str, limits: dict[str, int]) -> dict[str, Any]:
    meta = session_meta(limits)
    meta["limits"] = dict(limits)
    meta.update(lang=lang, version=__version__)
    return clean(meta)


def create_app(
    token: str,
    *,
    lang: str = "en",
    workspace: str | FsPath | None = None,
    limits: dict[str, float] | None = None,
    allowed_hosts: frozenset[str] | set[str] | None = None,
    frame_ancestors: str = NO_FRAMING,
    extra_origins: frozenset[str] | set[str] | None = None,
) -> FastAPI:
    """The playground app, guarded by ``token``.

    ``workspace``: a directory the app may use for files; no route reads or writes files (exports
    are built in memory), it is only recorded in ``app.state.workspace``. ``limits``: overrides
    of :data:`DEFAULT_LIMITS`. ``allowed_hosts``: extra Host names (``serve`` adds an explicit
    non-loopback ``--host``). ``frame_ancestors`` (who may frame the page; none by default) and
    ``extra_origins`` (exact ``https://host`` origins accepted besides the page's own) are for
    the page in a notebook (:mod:`mlplab.web.notebook`) only.
    """
    if not isinstance(token, str) or len(token) < 16:
        raise ValueError("the token must be a string of at least 16 characters")
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    caps, session_caps = _limits(limits)
    hub = Hub(caps, session_caps)
    meta = _meta(lang, caps)
    app = _new_app(hub)
    app.state.hub = hub
    app.state.workspace = FsPath(workspace) if workspace is not None else None
    app.state.limits = caps
    app.add_middleware(
        Guard,
        token=token,
        allowed_hosts=frozenset(ALLOWED_HOSTS | set(allowed_hosts or ())),
        body_bytes=caps["body_bytes"],
        ws_message_bytes=caps["ws_message_bytes"],
        frame_ancestors=frame_ancestors,
        extra_origins=frozenset(extra_origins or ()),
    )
    _error_handlers(app)
    _page_routes(app)
    # The token is checked by Guard; the APIKeyHeader only documents it in the schema.
    token_scheme = APIKeyHeader(name=TOKEN_HEADER, auto_error=False, description="launch token")
    api = APIRouter(dependencies=[Depends(_known_query_only), Security(token_scheme)])
    _meta_route(api, meta)
    _session_routes(api, hub, caps)
    _export_routes(api, hub)
    _delete_route(api, hub)
    app.include_router(api)
    _websocket_route(app, hub)
    return app


def _new_app(hub: Hub) -> FastAPI:
    """The bare app; its lifespan runs ``hub``'s reaper of idle sessions and shuts it down."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        reaper = asyncio.create_task(hub.reap())
        try:
            yield
        finally:
            reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reaper
            await hub.shutdown()

    return FastAPI(
        title="mlplab playground",
        version=__version__,
        description="Local API of `mlplab serve`. Every /api route needs the launch token in "
        f"the `{TOKEN_HEADER}` header (the WebSocket also accepts `?token=`).",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not offline, not CSP
        redoc_url=None,
        redirect_slashes=False,  # answer 404, never redirect a mangled path
        lifespan=lifespan,
    )


def _error_handlers(app: FastAPI) -> None:
    """Errors as ``{"detail": message}``: invalid requests, HTTP errors, refused calls."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(list(exc.errors()))}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # list every method of the path, not just one route's
            allowed: set[str] = set()
            for route in app.router.routes:
                if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
                    allowed |= route.methods or set()
            headers["Allow"] = ", ".join(sorted(allowed))
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code, headers=headers)

    @app.exception_handler(UserError)
    async def _refused(request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, exc.status)


# -- the page --------------------------------------------------------------------------------


def _page_routes(app: FastAPI) -> None:
    """The page (``/``) and its files (``/static``), outside the schema."""

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise HTTPException(404, "the playground page is not installed")
        return FileResponse(index, media_type="text/html")

    app.mount("/static", _StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")


# -- API -------------------------------------------------------------------------------------


def _on_session(api: APIRouter, method: str, suffix: str, model: Any, *codes: int) -> Any:
    """The decorator of a JSON route on one session: ``/api/sessions/{sid}<suffix>``."""
    return api.api_route(
        "/api/sessions/{sid}" + suffix,
        methods=[method],
        response_model=model,
        responses=error_responses(*codes),
        tags=["sessions"],
    )


def _meta_route(api: APIRouter, meta: dict[str, Any]) -> None:
    """``GET /api/meta``: ``meta`` as it is."""

    @api.get("/api/meta", response_model=MetaOut, responses=error_responses(), tags=["meta"])
    async def get_meta() -> Response:
        """Choices (activations, optimizers, datasets...), limits, language, version."""
        return json_response(meta)


def _session_routes(api: APIRouter, hub: Hub, caps: dict[str, int]) -> None:
    """Create a session, read it, and change it: config, control, points, CSV, weights."""

    @api.post(
        "/api/sessions",
        status_code=201,
        response_model=SessionOut,
        responses=error_responses(413, 415, 422, 429),
        tags=["sessions"],
    )
    async def create_session(body: CreateBody | None = None) -> Response:
        """Create a session (optional initial config); answer its id, config and first frame."""
        config = body.config.patch() if body is not None and body.config is not None else None
        content = await hub.create(config)
        return Response(content, status_code=201, media_type="application/json")

    @_on_session(api, "GET", "", SessionOut, 404, 422)
    async def get_session(sid: SessionId) -> Response:
        content = await hub.describe(hub.get(sid))
        return Response(content, media_type="application/json")

    @_on_session(api, "PUT", "/config", ConfigFrameOut, 404, 413, 415, 422)
    async def put_config(sid: SessionId, body: ConfigPatch) -> Response:
        """Partial config update; rebuilds data and/or network as needed."""
        entry = hub.get(sid)
        return Response(await hub.apply(entry, body.patch()), media_type="application/json")

    @_on_session(api, "POST", "/control", ControlOut, 404, 413, 415, 422, 429)
    async def control(sid: SessionId, body: ControlBody) -> Response:
        """play / pause / step (``steps`` optimizer steps) / reset."""
        entry = hub.get(sid)
        content = await hub.control(entry, body.action, body.steps)
        return Response(content, media_type="application/json")

    @_on_session(api, "POST", "/points", FrameOut, 404, 413, 415, 422)
    async def add_point(sid: SessionId, body: PointBody) -> Response:
        """Add a clicked point to the training set."""
        entry = hub.get(sid)
        content = await hub.call(entry, entry.session.add_point, body.x, body.y, body.label)
        return Response(content, media_type="application/json")

    @_on_session(api, "POST", "/csv", ConfigFrameOut, 404, 413, 415, 422)
    async def upload_csv(sid: SessionId, body: CsvBody) -> Response:
        """Upload a data set as CSV text (x1[,x2],label/target)."""
        entry = hub.get(sid)
        if len(body.text.encode("utf-8", "surrogatepass")) > caps["csv_bytes"]:
            raise HTTPException(413, f"CSV text too large (limit {caps['csv_bytes']} bytes)")
        content = await hub.call(entry, entry.session.load_csv, body.text, config=True)
        return Response(content, media_type="application/json")

    @_on_session(api, "POST", "/weights", FrameOut, 404, 413, 415, 422)
    async def set_weight(sid: SessionId, body: WeightBody) -> Response:
        """Edit one weight (``i = -1``: the bias of unit ``j``)."""
        entry = hub.get(sid)
        args = (body.layer, body.i, body.j, body.value)
        content = await hub.call(entry, entry.session.set_weight, *args)
        return Response(content, media_type="application/json")


def _export_routes(api: APIRouter, hub: Hub) -> None:
    """A session's exports as downloads: the model, the history, the Python snippet."""

    @api.get(
        "/api/sessions/{sid}/export/model",
        response_class=Response,
        responses={
            200: {
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
                "description": "the model in mlplab.save format",
            },
            **error_responses(404, 422),
        },
        tags=["exports"],
    )
    async def export_model(sid: SessionId) -> Response:
        entry = hub.get(sid)
        data = await hub.run(entry, entry.session.export_model)
        return Response(
            data,
            media_type="application/octet-stream",
            headers={"Content-Disposition": 'attachment; filename="playground.mlplab"'},
        )

    @api.get(
        "/api/sessions/{sid}/export/history",
        response_class=Response,
        responses={
            200: {
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/json": {"schema": {}},
                },
                "description": "the training history",
            },
            **error_responses(404, 422),
        },
        tags=["exports"],
    )
    async def export_history(
        sid: SessionId, format: Literal["csv", "json"] = Query("csv")
    ) -> Response:
        entry = hub.get(sid)
        text = await hub.run(entry, lambda: user_call(entry.session.export_history, format))
        media = "text/csv" if format == "csv" else "application/json"
        return Response(
            text.encode(),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="history.{format}"'},
        )

    @api.get(
        "/api/sessions/{sid}/export/snippet",
        response_class=Response,
        responses={
            200: {
                "content": {"text/x-python": {"schema": {"type": "string"}}},
                "description": "Python code reproducing the run",
            },
            **error_responses(404, 422),
        },
        tags=["exports"],
    )
    async def export_snippet(sid: SessionId) -> Response:
        entry = hub.get(sid)
        text = await hub.run(entry, entry.session.export_snippet)
        return Response(text.encode(), media_type="text/x-python")


def _delete_route(api: APIRouter, hub: Hub) -> None:
    """``DELETE /api/sessions/{sid}``, registered after the exports (as before: same order)."""

    @api.delete(
        "/api/sessions/{sid}",
        status_code=204,
        response_class=Response,
        responses=error_responses(404, 422),
        tags=["sessions"],
    )
    async def delete_session(sid: SessionId) -> Response:
        await hub.delete(sid)
        return Response(status_code=204)


def _websocket_route(app: FastAPI, hub: Hub) -> None:
    """The WebSocket of a session: ``/api/sessions/{sid}/ws``."""

    @app.websocket("/api/sessions/{sid}/ws")
    async def session_ws(ws: WebSocket, sid: str) -> None:
        await hub.websocket(ws, sid)
