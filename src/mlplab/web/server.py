"""The playground's web server: ``serve`` binds a socket and runs the app under uvicorn.

The contract is docs/playground.md. The app is split by concern:

* :mod:`mlplab.web.routes`: ``create_app``, the HTTP routes and the WebSocket;
* :mod:`mlplab.web.guard`: the security middleware (token, Host and Origin checks,
  415/413, WebSocket close 1009, security headers);
* :mod:`mlplab.web.schemas`: the request and response bodies;
* :mod:`mlplab.web.hub`: the sessions, their locks, clients and play loops.

``create_app``, ``serve``, ``SESSION_ID``, ``STATIC_DIR``, ``TOKEN_HEADER`` and the limits are
importable from here.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import secrets
import socket
import sys
import threading
import webbrowser
from typing import Any

from mlplab.web.guard import TOKEN_HEADER
from mlplab.web.routes import DEFAULT_LIMITS, SERVER_LIMITS, STATIC_DIR, create_app
from mlplab.web.schemas import SESSION_ID

__all__ = [
    "DEFAULT_LIMITS",
    "SERVER_LIMITS",
    "SESSION_ID",
    "STATIC_DIR",
    "TOKEN_HEADER",
    "bind_socket",
    "create_app",
    "serve",
    "uvicorn_server",
]

log = logging.getLogger("mlplab.web")

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


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port); a clear error if taken."""
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
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(
                exc.errno,
                f"port {port} on {host} is already in use (another mlplab serve, or another "
                "program); choose another with --port N, or --port 0 for any free port",
            ) from None
        raise
    except BaseException:
        sock.close()
        raise
    return sock


def uvicorn_server(app: Any) -> Any:
    """The ``uvicorn.Server`` that runs ``app`` (``serve``'s, and the notebook's in a thread)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,  # the WebSocket URL carries the token
        proxy_headers=False,
        server_header=False,
        ws_max_size=app.state.limits["ws_message_bytes"],
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    return uvicorn.Server(config)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    lang: str = "en",
    limits: dict[str, float] | None = None,
) -> None:
    """Run the playground until interrupted (binds ``host``, loopback by default).

    ``limits``: overrides of :data:`DEFAULT_LIMITS` (``mlplab serve --max-train-seconds``,
    ``--idle-timeout`` and ``--max-training`` set ``train_seconds``, ``idle_seconds`` and
    ``running_sessions``). A fresh token (``secrets.token_urlsafe(32)``) is made per launch
    and printed once, inside the URL to open. Binding a non-loopback address logs a warning:
    anyone who can reach it and has the token controls the sessions (CPU time), and the Host
    allow-list still applies.
    """
    token = secrets.token_urlsafe(32)
    if not _is_loopback(host):
        message = (
            f"warning: binding {host}, not loopback: the playground is reachable from other "
            "machines (the token is still required)"
        )
        log.warning(message)
        print(f"mlplab: {message}", file=sys.stderr, flush=True)
    shown = _url_host(host)
    app = create_app(token, lang=lang, allowed_hosts={shown}, limits=limits)
    sock = bind_socket(host, port)
    url = f"http://{shown}:{sock.getsockname()[1]}/?token={token}"
    print(f"mlplab playground: {url}", flush=True)
    print("(Ctrl+C to stop)", flush=True)
    server = uvicorn_server(app)
    if open_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
