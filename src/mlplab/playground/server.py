"""The playground's web server: routes, WebSocket, security middleware, ``serve``.

The contract is docs/playground.md. Training runs in this process, one ``Session`` per browser
tab, kept in memory. While a session is "playing", a background task runs a chunk of training
steps plus ``Session.frame()`` in a worker thread (so the event loop stays responsive) and sends
the frame to the session's WebSocket(s); the chunk size adapts so a chunk takes ~35 ms.

Security (``_Guard``, a pure ASGI middleware, so it also covers the WebSocket handshake):

* a per-launch token (``secrets.token_urlsafe(32)``, 256 bits) on every route except the page,
  its static files and the OpenAPI schema: header ``X-Mlplab-Token`` (or ``?token=`` for the
  WebSocket), compared with ``secrets.compare_digest``; missing/wrong -> 401;
* a Host allow-list (``localhost``, ``127.0.0.1``, ``[::1]``, any port) against DNS
  rebinding -> 403;
* a cross-site ``Origin`` on POST/PUT/PATCH/DELETE and on the WebSocket -> 403;
* POST/PUT/PATCH bodies must be ``application/json`` -> else 415 (blocks form CSRF);
* bodies over 1 MiB -> 413 (``Content-Length`` and the streamed bytes are both counted);
* WebSocket messages over 64 KiB -> close 1009;
* every HTTP answer carries ``Cache-Control: no-store``, a strict CSP, ``nosniff``,
  ``Referrer-Policy: no-referrer`` (the token is in the page's URL) and ``frame-ancestors``.

No route takes a file path: exports stream bytes, uploads are JSON text, session ids must match
``[A-Za-z0-9_-]{1,64}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import math
import re
import secrets
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Security, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.routing import Match, Route

from mlplab._version import __version__
from mlplab.playground import session as _session

__all__ = ["create_app", "serve", "DEFAULT_LIMITS", "SERVER_LIMITS", "TOKEN_HEADER"]

log = logging.getLogger("mlplab.playground")

TOKEN_HEADER = "X-Mlplab-Token"
STATIC_DIR = FsPath(__file__).parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: ; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
ALLOWED_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
PUBLIC_PATHS = frozenset({"/", "/openapi.json", "/favicon.ico"})
SESSION_ID = r"^[A-Za-z0-9_-]{1,64}$"
CHUNK_SECONDS = 0.035  # target duration of one training chunk (steps + frame): ~28 frames/s
SEND_TIMEOUT = 5.0  # a WebSocket client that does not read for this long is dropped

# Caps. ``session.LIMITS`` (layers, units, parameters, samples, CSV bytes, steps per request,
# epochs, sessions, running_sessions) plus the server's own; ``create_app(limits=...)`` may
# override any of them (the Session ones are passed on to every Session).
SERVER_LIMITS: dict[str, int] = {
    "sessions": 64,  # sessions alive at once -> 429
    "running_sessions": 32,  # sessions training ("playing") at once -> 429
    "body_bytes": 1024 * 1024,  # any HTTP body -> 413 above
    "ws_message_bytes": 64 * 1024,  # any WebSocket message -> close 1009 above
    "ws_clients_per_session": 8,  # more WebSockets on one session -> close 1008
}
DEFAULT_LIMITS: dict[str, int] = {**SERVER_LIMITS, **_session.LIMITS}


def _limits(overrides: dict[str, int] | None) -> tuple[dict[str, int], dict[str, int]]:
    """(all limits, the overrides to pass to Session)."""
    limits = dict(DEFAULT_LIMITS)
    for key, value in (overrides or {}).items():
        if key not in limits:
            raise ValueError(f"unknown limit {key!r}; known: {', '.join(limits)}")
        limits[key] = int(value)
    for_session = {k: int(v) for k, v in (overrides or {}).items() if k in _session.LIMITS}
    return limits, for_session


# --------------------------------------------------------------------------- JSON helpers


def _clean(obj: Any) -> Any:
    """JSON-able copy: numpy scalars/arrays to Python, NaN/inf to None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy array or scalar
        return _clean(obj.tolist())
    return obj


def _dumps(obj: Any) -> bytes:
    try:
        text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(_clean(obj), allow_nan=False, separators=(",", ":"))
    return text.encode()


def _json(obj: Any, status_code: int = 200) -> Response:
    return Response(_dumps(obj), status_code=status_code, media_type="application/json")


# --------------------------------------------------------------------------- middleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _security_headers() -> list[tuple[bytes, bytes]]:
    return [
        (b"cache-control", b"no-store"),
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]


def _split_host(value: str) -> tuple[str, int | None] | None:
    """``host[:port]`` -> (lower-case host, port or None); None when malformed."""
    value = value.strip().lower()
    m = re.fullmatch(r"(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::([0-9]{1,5}))?", value)
    if m is None:
        return None
    port = int(m.group(2)) if m.group(2) else None
    if port is not None and not 0 < port < 65536:
        return None
    return m.group(1), port


class _Guard:
    """Pure ASGI security middleware (see the module docstring)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        token: str,
        allowed_hosts: frozenset[str],
        body_bytes: int,
        ws_message_bytes: int,
    ) -> None:
        self.app = app
        self.token = token.encode()
        self.allowed_hosts = allowed_hosts
        self.body_bytes = body_bytes
        self.ws_message_bytes = ws_message_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[str, list[str]] = {}
        for raw_name, raw_value in scope.get("headers", []):
            headers.setdefault(raw_name.decode("latin-1").lower(), []).append(
                raw_value.decode("latin-1")
            )
        method = scope.get("method", "GET").upper() if kind == "http" else "GET"
        path = scope.get("path", "")

        problem = self._check(kind, method, path, scope, headers)
        if problem is not None:
            await self._deny(kind, scope, receive, send, *problem)
            return
        if kind == "websocket":
            await self._websocket(scope, receive, send)
            return

        # Read the body here (bounded), then replay it to the app.
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.body_bytes:
                await self._deny(kind, scope, receive, send, 413, self._too_large())
                return
            if not message.get("more_body", False):
                break
        if body and method in WITH_BODY and not self._json_type(headers):
            await self._deny(kind, scope, receive, send, 415, "the body must be application/json")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in _security_headers() if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, replay, send_with_headers)

    def _too_large(self) -> str:
        return f"request body too large (limit {self.body_bytes} bytes)"

    @staticmethod
    def _json_type(headers: dict[str, list[str]]) -> bool:
        values = headers.get("content-type", [])
        if len(values) != 1:
            return False
        media = values[0].split(";", 1)[0].strip().lower()
        return media == "application/json"

    def _check(
        self, kind: str, method: str, path: str, scope: Scope, headers: dict[str, list[str]]
    ) -> tuple[int, str] | None:
        # 1. Host allow-list (DNS rebinding).
        hosts = headers.get("host", [])
        parsed = _split_host(hosts[0]) if len(hosts) == 1 else None
        if parsed is None or parsed[0] not in self.allowed_hosts:
            return 403, "host not allowed (open the playground via localhost or 127.0.0.1)"
        # 2. The token, on everything but the page, its static files and the schema.
        public = kind == "http" and (path in PUBLIC_PATHS or path.startswith("/static/"))
        if not public:
            supplied = headers.get(TOKEN_HEADER.lower(), [])
            if kind == "websocket" and not supplied:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                supplied = query.get("token", [])
            if len(supplied) != 1 or not secrets.compare_digest(
                supplied[0].encode("utf-8", "surrogateescape"), self.token
            ):
                return 401, "missing or wrong token (use the URL printed by `mlplab serve`)"
        # 3. Cross-site Origin on state-changing requests and on the WebSocket.
        if kind == "websocket" or method in STATE_CHANGING:
            origins = headers.get("origin", [])
            if origins and not self._same_origin(origins, hosts[0], scope):
                return 403, "cross-site request refused"
        # 4. Content-Length (the streamed bytes are counted later too).
        if kind == "http":
            lengths = headers.get("content-length", [])
            if lengths:
                if len(lengths) != 1 or not lengths[0].strip().isdigit():
                    return 400, "malformed Content-Length"
                if int(lengths[0]) > self.body_bytes:
                    return 413, self._too_large()
                if int(lengths[0]) > 0 and method in WITH_BODY and not self._json_type(headers):
                    return 415, "the body must be application/json"
            elif method in WITH_BODY and "transfer-encoding" in headers:
                if not self._json_type(headers):
                    return 415, "the body must be application/json"
        return None

    @staticmethod
    def _same_origin(origins: list[str], host: str, scope: Scope) -> bool:
        if len(origins) != 1:
            return False
        try:
            origin = urlsplit(origins[0].strip())
            origin_port = origin.port
        except ValueError:
            return False
        if origin.scheme not in ("http", "https") or not origin.hostname:
            return False  # also "null" (sandboxed frames, file://)
        secure = scope.get("scheme") in ("https", "wss")
        if origin.scheme != ("https" if secure else "http"):
            return False
        parsed = _split_host(host)
        if parsed is None:
            return False
        default = 443 if secure else 80
        origin_host = origin.hostname.lower()
        if ":" in origin_host:
            origin_host = f"[{origin_host}]"
        return (origin_host, origin_port or default) == (parsed[0], parsed[1] or default)

    async def _deny(
        self, kind: str, scope: Scope, receive: Receive, send: Send, status: int, detail: str
    ) -> None:
        body = _dumps({"detail": detail})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *_security_headers(),
        ]
        if kind == "http":
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        # WebSocket handshake: an HTTP answer when the server supports it, else a close.
        if "websocket.http.response" in scope.get("extensions", {}):
            await send(
                {"type": "websocket.http.response.start", "status": status, "headers": headers}
            )
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False

        async def guarded_send(message: Message) -> None:
            if closed:
                return  # we already closed the socket (1009); drop what the app sends after
            await send(message)

        async def guarded_receive() -> Message:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive":
                text, data = message.get("text"), message.get("bytes")
                size = len(text.encode("utf-8", "surrogatepass")) if text is not None else 0
                size += len(data) if data is not None else 0
                if size > self.ws_message_bytes:
                    if not closed:
                        closed = True
                        await send(
                            {"type": "websocket.close", "code": 1009, "reason": "message too big"}
                        )
                    return {"type": "websocket.disconnect", "code": 1009}
            return message

        await self.app(scope, guarded_receive, guarded_send)


# --------------------------------------------------------------------------- models


def _choices(names: Any) -> Any:
    return Literal.__getitem__(tuple(str(n) for n in names))


Activation = _choices(_session.ACTIVATION_NAMES)
OutputActivation = _choices(("auto", *_session.ACTIVATION_NAMES))
DatasetName = _choices(_session.DATASETS)
InitName = _choices(_session.INITIALIZER_NAMES)
OptimizerName = _choices(_session.OPTIMIZER_NAMES)
LossName = _choices(_session.LOSS_NAMES)
Lang = _choices(_session.LANGS)
Finite = Annotated[float, Field(allow_inf_nan=False)]


def _integral(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer: accept it (strict mode would not)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Int = Annotated[int, BeforeValidator(_integral)]


def _drop_null_defaults(schema: dict[str, Any]) -> None:
    """Optional keys of a partial update have no default: absent means unchanged."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


MIN_CLIP = 1e-8
# Bodies are validated strictly: no "3" for 3, no true for 1.0 (the schema says so too).
_STRICT = ConfigDict(extra="forbid", strict=True)
_PARTIAL = ConfigDict(extra="forbid", strict=True, json_schema_extra=_drop_null_defaults)


class LayerSpec(BaseModel):
    """One hidden layer (missing keys: 4 units, tanh, no batch norm)."""

    model_config = _PARTIAL
    units: Int = Field(None, ge=1, le=_session.LIMITS["units"])
    activation: Activation = None
    batch_norm: bool = None


class ConfigPatch(BaseModel):
    """A partial configuration: every key optional, absent = unchanged (``GET /api/meta``
    has the defaults). Only ``clip_norm`` and ``clip_value`` may be null (no clipping).

    The schema mirrors session.py's checks; what it cannot express (``dataset: "csv"``
    before an upload, a loss that does not fit the task...) the Session refuses with 422.
    """

    model_config = _PARTIAL
    dataset: DatasetName = None
    noise: Finite = Field(None, ge=0, le=_session.MAX_NOISE)
    n_samples: Int = Field(None, ge=_session.MIN_SAMPLES, le=_session.LIMITS["n_samples"])
    test_fraction: Finite = Field(None, ge=0, le=0.9)
    layers: list[LayerSpec] = Field(None, max_length=_session.LIMITS["hidden_layers"])
    output_activation: OutputActivation = None
    init: InitName = None
    optimizer: OptimizerName = None
    learning_rate: Finite = Field(None, gt=0, le=_session.MAX_LEARNING_RATE)
    batch_size: Int = Field(None, ge=1, le=_session.LIMITS["n_samples"])
    l2: Finite = Field(None, ge=0, le=_session.MAX_L2)
    # >= 1e-8 (session.py accepts any positive value): below that the clipped gradient's
    # squares underflow and mlplab.clipping.clip_ divides by a zero norm.
    clip_norm: Finite | None = Field(None, ge=MIN_CLIP, le=1e6)
    clip_value: Finite | None = Field(None, ge=MIN_CLIP, le=1e6)
    loss: LossName = None
    seed: Int = Field(None, ge=0, le=2**32 - 1)
    lang: Lang = None

    def patch(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class CreateBody(BaseModel):
    model_config = _STRICT
    config: ConfigPatch | None = None


class ControlBody(BaseModel):
    model_config = _STRICT
    action: Literal["play", "pause", "step", "reset"]
    steps: Int = Field(1, ge=1, le=_session.LIMITS["steps_per_request"])


class PointBody(BaseModel):
    model_config = _STRICT
    x: Finite = Field(ge=-_session.MAX_COORD, le=_session.MAX_COORD)
    y: Finite = Field(ge=-_session.MAX_COORD, le=_session.MAX_COORD)
    label: Finite = 0.0


class CsvBody(BaseModel):
    model_config = _STRICT
    text: str


class WeightBody(BaseModel):
    model_config = _STRICT
    layer: Int = Field(ge=0, le=64)
    i: Int = Field(ge=-1, le=4096)
    j: Int = Field(ge=0, le=4096)
    value: Finite = Field(ge=-_session.MAX_WEIGHT, le=_session.MAX_WEIGHT)


class ErrorOut(BaseModel):
    detail: str


class FrameOut(BaseModel):
    frame: dict[str, Any]


class ConfigFrameOut(BaseModel):
    config: dict[str, Any]
    frame: dict[str, Any]


class SessionOut(BaseModel):
    id: str
    config: dict[str, Any]
    running: bool
    frame: dict[str, Any]


class ControlOut(BaseModel):
    running: bool
    frame: dict[str, Any]


class MetaOut(BaseModel):
    activations: list[str]
    initializers: list[str]
    optimizers: list[str]
    losses: list[str]
    datasets: dict[str, Any]
    limits: dict[str, Any]
    lang: str
    version: str


class _WsControl(ControlBody):
    type: Literal["control"]


class _WsConfig(BaseModel):
    model_config = _STRICT
    type: Literal["config"]
    config: ConfigPatch


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut} for code in (400, 401, 403, *codes)}


SessionId = Annotated[str, Path(pattern=SESSION_ID, description="session id")]


async def _known_query_only(request: Request) -> None:
    """Unknown query parameters are an error (422), not silently ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    known = {param.alias for param in getattr(dependant, "query_params", [])}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(422, f"unknown query parameter {unknown[0]!r}")


def _validation_message(errors: list[Any]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "path", "query"))
        parts.append(f"{loc}: {err.get('msg', 'invalid')}" if loc else err.get("msg", "invalid"))
    return "; ".join(parts) or "invalid request"


# --------------------------------------------------------------------------- sessions


@dataclass(eq=False)
class _Client:
    ws: WebSocket
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(eq=False)
class _Entry:
    id: str
    session: Any
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: bool = False
    task: asyncio.Task | None = None
    clients: set[_Client] = field(default_factory=set)
    chunk_steps: int = 1


class _UserError(Exception):
    """A Session refused its input (``ConfigError``): 422 (413 for ``TooLargeError``)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _user_call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a Session method; its ``ConfigError`` becomes a ``_UserError``."""
    try:
        return fn(*args)
    except _session.ConfigError as exc:
        status = 413 if isinstance(exc, _session.TooLargeError) else 422
        raise _UserError(" ".join(str(exc).split()) or "invalid input", status) from exc


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _Hub:
    """All sessions of one app, their locks and training tasks."""

    def __init__(self, limits: dict[str, int], session_limits: dict[str, int]) -> None:
        self.limits = limits
        self.session_limits = session_limits
        self.entries: dict[str, _Entry] = {}

    def get(self, sid: str) -> _Entry:
        entry = self.entries.get(sid)
        if entry is None:
            raise HTTPException(404, "no such session")
        return entry

    def running_count(self) -> int:
        return sum(1 for e in self.entries.values() if e.running)

    @staticmethod
    def frame(entry: _Entry, points: bool | None = None) -> dict[str, Any]:
        """``Session.frame()`` plus ``running`` (call it in a worker thread)."""
        frame = dict(entry.session.frame(points))
        frame["running"] = entry.running
        return frame

    async def run(self, entry: _Entry, work: Callable[[], Any]) -> Any:
        """Run ``work`` in a worker thread, under the session's lock."""
        async with entry.lock:
            return await asyncio.to_thread(work)

    async def create(self, config: dict[str, Any] | None) -> bytes:
        cap = self.limits["sessions"]
        if len(self.entries) >= cap:
            raise HTTPException(429, f"too many sessions (limit {cap}); delete one first")

        def build() -> Any:
            return _user_call(lambda: _session.Session(config, limits=self.session_limits or None))

        session = await asyncio.to_thread(build)
        if len(self.entries) >= cap:  # another request won the last place meanwhile
            raise HTTPException(429, f"too many sessions (limit {cap}); delete one first")
        entry = _Entry(id=secrets.token_urlsafe(12), session=session)
        self.entries[entry.id] = entry
        return await self.run(
            entry,
            lambda: _dumps(
                {
                    "id": entry.id,
                    "config": session.config,
                    "running": False,
                    "frame": self.frame(entry, True),
                }
            ),
        )

    async def delete(self, sid: str) -> None:
        entry = self.entries.pop(sid, None)
        if entry is None:
            raise HTTPException(404, "no such session")
        await self._stop(entry)
        for client in list(entry.clients):
            with contextlib.suppress(Exception):
                await client.ws.close(code=1000, reason="session deleted")
        entry.clients.clear()

    async def _stop(self, entry: _Entry) -> None:
        entry.running = False
        task, entry.task = entry.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def shutdown(self) -> None:
        for sid in list(self.entries):
            with contextlib.suppress(Exception):
                await self.delete(sid)

    # -- control -------------------------------------------------------------------------

    async def control(self, entry: _Entry, action: str, steps: int) -> bytes:
        """Apply an action; answer ``{"running", "frame"}`` (JSON bytes)."""
        if action == "step" and steps > self.limits["steps_per_request"]:
            raise HTTPException(
                422, f"steps: at most {self.limits['steps_per_request']} per request"
            )
        if action == "play":
            if not entry.running:
                cap = self.limits["running_sessions"]
                if self.running_count() >= cap:
                    raise HTTPException(
                        429, f"too many sessions training at once (limit {cap}); pause one"
                    )
                entry.running = True
            if entry.task is None or entry.task.done():
                entry.task = asyncio.create_task(self._train(entry))
        elif action in ("pause", "reset"):
            entry.running = False

        def work() -> bytes:
            if action == "step":
                _user_call(entry.session.step, steps)
            elif action == "reset":
                entry.session.reset()
            return _dumps({"running": entry.running, "frame": self.frame(entry)})

        try:
            return await self.run(entry, work)
        except _UserError:
            raise
        except Exception as exc:  # a crash pauses this session only
            entry.running = False
            log.warning("session %s: %s crashed", entry.id, action, exc_info=True)
            raise HTTPException(500, f"{action} failed: {_describe(exc)}") from exc

    async def _train(self, entry: _Entry) -> None:
        """The play loop: chunks of steps + a frame in a worker thread, then broadcast."""

        def chunk(k: int) -> tuple[str, float, float, str | None]:
            t0 = time.perf_counter()
            entry.session.step(k)
            t1 = time.perf_counter()
            frame = self.frame(entry)
            error = frame.get("error")
            if error:  # diverged: the session keeps its last finite weights; pause
                entry.running = False
                frame["running"] = False
            return _dumps(frame).decode(), t1 - t0, time.perf_counter() - t1, error

        try:
            while entry.running:
                k = entry.chunk_steps
                async with entry.lock:
                    if not entry.running:
                        break
                    try:
                        text, t_step, t_frame, error = await asyncio.to_thread(chunk, k)
                    except Exception as exc:  # a crash pauses this session only
                        entry.running = False
                        if isinstance(exc, _session.ConfigError):  # e.g. the epoch limit
                            detail = " ".join(str(exc).split())
                        else:
                            log.warning("session %s: training crashed", entry.id, exc_info=True)
                            detail = f"training stopped: {_describe(exc)}"
                        error_message = {"type": "error", "detail": detail, "running": False}
                        await self.broadcast(entry, error_message)
                        break
                await self.broadcast(entry, text)
                if error:
                    await self.broadcast(
                        entry, {"type": "error", "detail": str(error), "running": False}
                    )
                    break
                per_step = max(t_step / k, 1e-6)
                budget = max(CHUNK_SECONDS - t_frame, 0.25 * CHUNK_SECONDS)
                target = int(budget / per_step)
                entry.chunk_steps = max(1, min(target, 2 * k, self.limits["steps_per_request"]))
                await asyncio.sleep(0.001)  # let control messages and other sessions in
        finally:
            if entry.task is asyncio.current_task():
                entry.task = None

    async def broadcast(self, entry: _Entry, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else _dumps(message).decode()
        for client in list(entry.clients):
            try:
                await self._send(client, text)
            except Exception:  # gone or stuck: drop it
                entry.clients.discard(client)
                with contextlib.suppress(Exception):
                    await client.ws.close(code=1011)

    @staticmethod
    async def _send(client: _Client, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else _dumps(message).decode()
        async with client.lock:
            await asyncio.wait_for(client.ws.send_text(text), SEND_TIMEOUT)

    # -- the WebSocket ---------------------------------------------------------------------

    async def websocket(self, ws: WebSocket, sid: str) -> None:
        entry = self.entries.get(sid) if re.fullmatch(SESSION_ID, sid) else None
        if entry is None:
            await ws.close(code=4404, reason="no such session")
            return
        if len(entry.clients) >= self.limits["ws_clients_per_session"]:
            await ws.close(code=1008, reason="too many connections to this session")
            return
        await ws.accept()
        client = _Client(ws)
        entry.clients.add(client)
        try:
            first = await self.run(entry, lambda: _dumps(self.frame(entry, True)).decode())
            await self._send(client, first)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if message["type"] != "websocket.receive":
                    continue
                raw = message.get("text")
                if raw is None:
                    raw = (message.get("bytes") or b"").decode("utf-8", "replace")
                reply = await self._ws_message(entry, raw)
                if reply is not None:
                    await self._send(client, reply)
                if sid not in self.entries:
                    break
        except Exception:  # a broken connection must not take anything else down
            log.debug("websocket of session %s ended", sid, exc_info=True)
        finally:
            entry.clients.discard(client)

    async def _ws_message(self, entry: _Entry, raw: str) -> dict[str, Any] | None:
        """Handle one client message; answer an error for this client only, or None."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return {"type": "error", "detail": "malformed JSON"}
        kind = data.get("type") if isinstance(data, dict) else None
        try:
            if kind == "control":
                msg = _WsControl.model_validate(data)
                answer = await self.control(entry, msg.action, msg.steps)
                if msg.action != "play":  # while playing, frames flow anyway
                    await self.broadcast(entry, json.loads(answer)["frame"])
                return None
            if kind == "config":
                cfg = _WsConfig.model_validate(data)
                answer = await self.apply(entry, cfg.config.patch())
                await self.broadcast(entry, json.loads(answer)["frame"])
                return None
        except ValidationError as exc:
            return {"type": "error", "detail": _validation_message(exc.errors()), "status": 422}
        except HTTPException as exc:
            return {"type": "error", "detail": str(exc.detail), "status": exc.status_code}
        except _UserError as exc:
            return {"type": "error", "detail": str(exc), "status": exc.status}
        except Exception as exc:
            log.warning("session %s: websocket message failed", entry.id, exc_info=True)
            return {"type": "error", "detail": f"failed: {_describe(exc)}", "status": 500}
        return {"type": "error", "detail": 'unknown message type (expected "control" or "config")'}

    async def call(
        self, entry: _Entry, method: Callable[..., Any], *args: Any, config: bool = False
    ) -> bytes:
        """Call a Session method in a worker thread; answer with the frame (and the config)."""

        def work() -> bytes:
            _user_call(method, *args)
            out = {"config": entry.session.config} if config else {}
            out["frame"] = self.frame(entry)
            return _dumps(out)

        return await self.run(entry, work)

    async def apply(self, entry: _Entry, patch: dict[str, Any]) -> bytes:
        return await self.call(entry, entry.session.apply, patch, config=True)


# --------------------------------------------------------------------------- the app


def _meta(lang: str, limits: dict[str, int]) -> dict[str, Any]:
    meta = _session.meta(limits)
    meta["limits"] = dict(limits)
    meta.update(lang=lang, version=__version__)
    return _clean(meta)


def create_app(
    token: str,
    *,
    lang: str = "en",
    workspace: str | FsPath | None = None,
    limits: dict[str, int] | None = None,
    allowed_hosts: frozenset[str] | set[str] | None = None,
) -> FastAPI:
    """The playground app, guarded by ``token``.

    ``workspace``: a directory the app may use for files; no route reads or writes files (exports
    are built in memory), it is only recorded in ``app.state.workspace``. ``limits``: overrides
    of :data:`DEFAULT_LIMITS`. ``allowed_hosts``: extra Host names (``serve`` adds an explicit
    non-loopback ``--host``).
    """
    if not isinstance(token, str) or len(token) < 16:
        raise ValueError("the token must be a string of at least 16 characters")
    if lang not in _session.LANGS:
        raise ValueError(f"lang must be one of {', '.join(_session.LANGS)}; got {lang!r}")
    caps, session_caps = _limits(limits)
    hub = _Hub(caps, session_caps)
    meta = _meta(lang, caps)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await hub.shutdown()

    app = FastAPI(
        title="mlplab playground",
        version=__version__,
        description="Local API of `mlplab serve`. Every /api route needs the launch token in "
        f"the `{TOKEN_HEADER}` header (the WebSocket also accepts `?token=`).",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: not offline, not CSP
        redoc_url=None,
        redirect_slashes=False,  # answer 404, never redirect a mangled path
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.workspace = FsPath(workspace) if workspace is not None else None
    app.state.limits = caps
    app.add_middleware(
        _Guard,
        token=token,
        allowed_hosts=frozenset(ALLOWED_HOSTS | set(allowed_hosts or ())),
        body_bytes=caps["body_bytes"],
        ws_message_bytes=caps["ws_message_bytes"],
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(list(exc.errors()))}, 422)

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

    @app.exception_handler(_UserError)
    async def _refused(request: Request, exc: _UserError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, exc.status)

    # -- the page ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        index = STATIC_DIR / "index.html"
        if not index.is_file():
            raise HTTPException(404, "the playground page is not installed")
        return FileResponse(index, media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    # -- API -----------------------------------------------------------------------------

    # The token is checked by _Guard; the APIKeyHeader only documents it in the schema.
    token_scheme = APIKeyHeader(name=TOKEN_HEADER, auto_error=False, description="launch token")
    api = APIRouter(dependencies=[Depends(_known_query_only), Security(token_scheme)])

    @api.get("/api/meta", response_model=MetaOut, responses=_errors(), tags=["meta"])
    async def get_meta() -> Response:
        """Choices (activations, optimizers, datasets...), limits, language, version."""
        return _json(meta)

    @api.post(
        "/api/sessions",
        status_code=201,
        response_model=SessionOut,
        responses=_errors(413, 415, 422, 429),
        tags=["sessions"],
    )
    async def create_session(body: CreateBody | None = None) -> Response:
        """Create a session (optional initial config); answer its id, config and first frame."""
        config = body.config.patch() if body is not None and body.config is not None else None
        content = await hub.create(config)
        return Response(content, status_code=201, media_type="application/json")

    @api.get(
        "/api/sessions/{sid}",
        response_model=SessionOut,
        responses=_errors(404, 422),
        tags=["sessions"],
    )
    async def get_session(sid: SessionId) -> Response:
        entry = hub.get(sid)

        def answer() -> bytes:
            return _dumps(
                {
                    "id": entry.id,
                    "config": entry.session.config,
                    "running": entry.running,
                    "frame": hub.frame(entry, True),
                }
            )

        content = await hub.run(entry, answer)
        return Response(content, media_type="application/json")

    @api.put(
        "/api/sessions/{sid}/config",
        response_model=ConfigFrameOut,
        responses=_errors(404, 413, 415, 422),
        tags=["sessions"],
    )
    async def put_config(sid: SessionId, body: ConfigPatch) -> Response:
        """Partial config update; rebuilds data and/or network as needed."""
        entry = hub.get(sid)
        return Response(await hub.apply(entry, body.patch()), media_type="application/json")

    @api.post(
        "/api/sessions/{sid}/control",
        response_model=ControlOut,
        responses=_errors(404, 413, 415, 422, 429),
        tags=["sessions"],
    )
    async def control(sid: SessionId, body: ControlBody) -> Response:
        """play / pause / step (``steps`` optimizer steps) / reset."""
        entry = hub.get(sid)
        content = await hub.control(entry, body.action, body.steps)
        return Response(content, media_type="application/json")

    @api.post(
        "/api/sessions/{sid}/points",
        response_model=FrameOut,
        responses=_errors(404, 413, 415, 422),
        tags=["sessions"],
    )
    async def add_point(sid: SessionId, body: PointBody) -> Response:
        """Add a clicked point to the training set."""
        entry = hub.get(sid)
        content = await hub.call(entry, entry.session.add_point, body.x, body.y, body.label)
        return Response(content, media_type="application/json")

    @api.post(
        "/api/sessions/{sid}/csv",
        response_model=ConfigFrameOut,
        responses=_errors(404, 413, 415, 422),
        tags=["sessions"],
    )
    async def upload_csv(sid: SessionId, body: CsvBody) -> Response:
        """Upload a data set as CSV text (x1[,x2],label/target)."""
        entry = hub.get(sid)
        if len(body.text.encode("utf-8", "surrogatepass")) > caps["csv_bytes"]:
            raise HTTPException(413, f"CSV text too large (limit {caps['csv_bytes']} bytes)")
        content = await hub.call(entry, entry.session.load_csv, body.text, config=True)
        return Response(content, media_type="application/json")

    @api.post(
        "/api/sessions/{sid}/weights",
        response_model=FrameOut,
        responses=_errors(404, 413, 415, 422),
        tags=["sessions"],
    )
    async def set_weight(sid: SessionId, body: WeightBody) -> Response:
        """Edit one weight (``i = -1``: the bias of unit ``j``)."""
        entry = hub.get(sid)
        args = (body.layer, body.i, body.j, body.value)
        content = await hub.call(entry, entry.session.set_weight, *args)
        return Response(content, media_type="application/json")

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
            **_errors(404, 422),
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
            **_errors(404, 422),
        },
        tags=["exports"],
    )
    async def export_history(
        sid: SessionId, format: Literal["csv", "json"] = Query("csv")
    ) -> Response:
        entry = hub.get(sid)
        text = await hub.run(entry, lambda: _user_call(entry.session.export_history, format))
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
            **_errors(404, 422),
        },
        tags=["exports"],
    )
    async def export_snippet(sid: SessionId) -> Response:
        entry = hub.get(sid)
        text = await hub.run(entry, entry.session.export_snippet)
        return Response(text.encode(), media_type="text/x-python")

    @api.delete(
        "/api/sessions/{sid}",
        status_code=204,
        response_class=Response,
        responses=_errors(404, 422),
        tags=["sessions"],
    )
    async def delete_session(sid: SessionId) -> Response:
        await hub.delete(sid)
        return Response(status_code=204)

    app.include_router(api)

    @app.websocket("/api/sessions/{sid}/ws")
    async def session_ws(ws: WebSocket, sid: str) -> None:
        await hub.websocket(ws, sid)

    return app


# --------------------------------------------------------------------------- serve


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """The host part of the URL to open (and to accept in the Host header)."""
    name = host.strip("[]").lower()
    if name in ("", "localhost"):
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        return name  # a host name
    if ip.is_unspecified:  # 0.0.0.0 / :: -> open it on this machine
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _bind(host: str, port: int) -> socket.socket:
    name = host.strip("[]")
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    if name == "localhost":
        name, family = "127.0.0.1", socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((name, port))
        sock.listen(128)
        sock.set_inheritable(True)
    except BaseException:
        sock.close()
        raise
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    lang: str = "en",
) -> None:
    """Run the playground until interrupted (binds ``host``, loopback by default).

    A fresh token (``secrets.token_urlsafe(32)``) is made per launch and printed once, inside
    the URL to open. Binding a non-loopback address logs a warning: anyone who can reach it and
    has the token controls the sessions (CPU time), and the Host allow-list still applies.
    """
    import uvicorn

    token = secrets.token_urlsafe(32)
    if not _is_loopback(host):
        message = (
            f"warning: binding {host}, not loopback: the playground is reachable from other "
            "machines (the token is still required)"
        )
        log.warning(message)
        print(f"mlplab: {message}", file=sys.stderr, flush=True)
    shown = _url_host(host)
    app = create_app(token, lang=lang, allowed_hosts={shown})
    caps = app.state.limits
    sock = _bind(host, port)
    url = f"http://{shown}:{sock.getsockname()[1]}/?token={token}"
    print(f"mlplab playground: {url}", flush=True)
    print("(Ctrl+C to stop)", flush=True)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # the WebSocket URL carries the token
        proxy_headers=False,
        server_header=False,
        ws_max_size=caps["ws_message_bytes"],
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
