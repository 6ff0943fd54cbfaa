"""The playground's security middleware: a pure ASGI middleware, so it also covers the WebSocket
handshake.

* a per-launch token (``secrets.token_urlsafe(32)``, 256 bits) on every route except the page,
  its static files and the OpenAPI schema: header ``X-Mlplab-Token`` (or ``?token=`` for the
  WebSocket), compared with ``secrets.compare_digest``; missing/wrong -> 401;
* a Host allow-list (``localhost``, ``127.0.0.1``, ``[::1]``, any port) against DNS
  rebinding -> 403;
* a cross-site ``Origin`` on POST/PUT/PATCH/DELETE and on the WebSocket -> 403;
* POST/PUT/PATCH bodies must be ``application/json`` -> else 415 (blocks form CSRF);
* bodies over 1 MiB -> 413 (``Content-Length`` and the streamed bytes are both counted);
* WebSocket messages over 64 KiB -> close 1009;
* every HTTP answer carries ``Cache-Control: no-store``, a strict CSP (scripts, module scripts
  included, only from the page's own origin), ``nosniff``, ``Referrer-Policy: no-referrer``
  (the token is in the page's URL) and ``frame-ancestors``: no page may frame it, unless the
  app is made for a notebook (``frame_ancestors``, :mod:`mlplab.web.notebook`), which then
  names who may;
* ``extra_origins``: exact origins (``https://host``) accepted besides the page's own, for
  a notebook behind Colab's kernel-port proxy only; empty for ``mlplab serve``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlplab.web.encoding import dumps

__all__ = ["ALLOWED_HOSTS", "CSP", "TOKEN_HEADER", "Guard"]

TOKEN_HEADER = "X-Mlplab-Token"
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "connect-src 'self' ws: ; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
NO_FRAMING = "'none'"
ALLOWED_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
PUBLIC_PATHS = frozenset({"/", "/openapi.json", "/favicon.ico"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def security_headers(frame_ancestors: str = NO_FRAMING) -> list[tuple[bytes, bytes]]:
    """The headers of every answer; ``frame_ancestors``: the CSP's list of who may frame it."""
    if not re.fullmatch(r"[A-Za-z0-9'*:/.\[\]_ -]+", frame_ancestors):
        raise ValueError(f"frame_ancestors is not a CSP source list: {frame_ancestors!r}")
    csp = CSP.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")
    headers = [
        (b"cache-control", b"no-store"),
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]
    if frame_ancestors == NO_FRAMING:
        headers.append((b"x-frame-options", b"DENY"))
    return headers


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


class Guard:
    """Pure ASGI security middleware (see the module docstring)."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        token: str,
        allowed_hosts: frozenset[str],
        body_bytes: int,
        ws_message_bytes: int,
        frame_ancestors: str = NO_FRAMING,
        extra_origins: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.token = token.encode()
        self.allowed_hosts = allowed_hosts
        self.body_bytes = body_bytes
        self.ws_message_bytes = ws_message_bytes
        self.headers = security_headers(frame_ancestors)
        for origin in extra_origins:
            parts = urlsplit(origin)
            if parts.scheme != "https" or origin != f"https://{parts.netloc.lower()}":
                raise ValueError(f"extra origins must be https://host; got {origin!r}")
        self.extra_origins = frozenset(extra_origins)

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
                extra = [(n, v) for n, v in self.headers if n not in names]
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
            if origins and not (
                self._same_origin(origins, hosts[0], scope)
                or (len(origins) == 1 and origins[0].strip() in self.extra_origins)
            ):
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
        body = dumps({"detail": detail})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *self.headers,
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
