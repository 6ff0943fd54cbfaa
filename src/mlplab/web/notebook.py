"""The playground inside a notebook: ``mlplab.playground(...)`` shows the page in a cell's output.

One server per kernel, started by the first call: the app of ``mlplab serve``
(:func:`mlplab.web.routes.create_app`, its :class:`~mlplab.web.guard.Guard`) under the same
uvicorn settings (:func:`mlplab.web.server.uvicorn_server`), on a free port of 127.0.0.1
(:func:`mlplab.web.server.bind_socket`), in a daemon thread. The page is an ``<iframe>`` whose
address is the one ``mlplab serve`` prints (``http://127.0.0.1:PORT/?token=...``) with the
configuration in its ``#config=`` hash, as the page's own "copy link" writes it.

What differs from ``mlplab serve``, and only here:

* the page may be framed (CSP ``frame-ancestors``) by loopback pages (Jupyter, JupyterLab, a
  notebook exported to HTML and served locally) and VS Code's webviews, instead of by no page;
* in Colab (``google.colab`` importable) the browser cannot reach the kernel's 127.0.0.1: the
  iframe goes through Colab's documented kernel-port proxy
  (``google.colab.kernel.proxyPort(port)``, asked once per server through
  ``google.colab.output.eval_js``), and the guard accepts exactly that proxied origin (and its
  host name), and framing by Colab's pages. Nothing else is accepted.

A second call reuses the running server (same port and token): it shows a new page, a new
session with the new configuration; earlier outputs keep working. ``Playground.stop()`` stops
the server (every page of this kernel); the next call starts a new one. The server stops when
the kernel's process exits (``atexit``; the thread is a daemon, so it never keeps the process
alive; it is stopped before the interpreter's worker pools are, see ``_stop_at_exit``).
"""

from __future__ import annotations

import atexit
import html
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

from mlplab.i18n import get_language
from mlplab.web.config import (
    ACTIVATION_NAMES,
    LANGS,
    LIMITS,
    ConfigError,
    as_choice,
    as_integer,
    default_config,
    invalid,
    validate,
)

__all__ = ["FRAME_ANCESTORS", "COLAB_FRAME_ANCESTORS", "Playground", "playground"]

#: Who may frame the page in a notebook: loopback pages (Jupyter, JupyterLab, an exported
#: notebook served locally, any port) and VS Code's notebook webviews.
FRAME_ANCESTORS = (
    "'self'",
    "http://localhost:*",
    "http://127.0.0.1:*",
    "http://[::1]:*",
    "https://localhost:*",
    "https://127.0.0.1:*",
    "https://[::1]:*",
    "vscode-webview:",
    "vscode-file:",
)
#: Added in Colab only: its notebook page and its output frames.
COLAB_FRAME_ANCESTORS = ("https://colab.research.google.com", "https://*.googleusercontent.com")
DEFAULT_HEIGHT = 1120  # the whole page at ~950 px wide (a notebook's output), no inner scroll
START_SECONDS = 15.0  # the server must answer within this (else RuntimeError)
STOP_SECONDS = 3.0  # graceful stop, then forced

_lock = threading.Lock()
_current: _Server | None = None


# ------------------------------------------------------------------ the configuration
def initial_config(
    dataset: Any, layers: Any, activation: Any, lang: Any, options: dict[str, Any]
) -> dict[str, Any]:
    """The page's initial configuration (every key), checked by :func:`config.validate`.

    Raises :class:`ConfigError` naming the argument (``TypeError`` for an unknown keyword).
    """
    defaults = default_config()
    named = ("dataset", "layers", "lang")  # arguments of their own (``options`` never has them)
    unknown = sorted(set(options) - set(defaults).difference(named))
    if unknown:
        keys = ", ".join(k for k in defaults if k not in named)
        raise TypeError(
            f"playground() got an unexpected keyword argument {unknown[0]!r}; besides dataset, "
            f"layers, activation, lang and height it takes the page's settings: {keys}"
        )
    cfg: dict[str, Any] = {**defaults, **options}
    if activation is not None:
        activation = as_choice("activation", activation, ACTIVATION_NAMES)
    if dataset is not None:
        if dataset == "csv":
            raise ConfigError(
                "dataset='csv' needs a file: choose another dataset here and upload the CSV "
                "in the page.",
                "dataset",
            )
        cfg["dataset"] = dataset
    cfg["layers"] = _layers(layers, activation, defaults["layers"])
    if lang is not None:
        cfg["lang"] = as_choice("lang", lang, LANGS)
    return validate(cfg, LIMITS)


def _layers(layers: Any, activation: str | None, default: list[dict[str, Any]]) -> list[Any]:
    """``[4, 4]`` (units; each with ``activation``) or the page's ``{units, activation, ...}``."""
    if layers is None:
        layers = default
    if isinstance(layers, (str, bytes, dict)) or not hasattr(layers, "__iter__"):
        raise invalid(
            "layers", "a list of hidden layer sizes such as [4, 4] (or of layer objects)", layers
        )
    out: list[Any] = []
    for k, spec in enumerate(layers):
        if isinstance(spec, dict):
            spec = dict(spec)
            if activation is not None and "activation" not in spec:
                spec["activation"] = activation
            out.append(spec)
        else:
            units = as_integer(f"layers[{k}]", spec, 1, LIMITS["units"])
            out.append({"units": units, "activation": activation or "tanh"})
    return out


def page_path(token: str, config: dict[str, Any], lang: str | None) -> str:
    """``/?token=...[&lang=..]#config=...``: the address ``mlplab serve`` prints, plus the hash."""
    query = f"token={quote(token, safe='')}" + (f"&lang={lang}" if lang else "")
    text = json.dumps(config, separators=(",", ":"), allow_nan=False)
    return f"/?{query}#config={quote(text, safe='')}"


# ------------------------------------------------------------------ the server of this kernel
def _colab_output() -> Any:
    """``google.colab.output`` when running in Colab, else None."""
    try:
        from google.colab import output  # type: ignore[import-not-found]
    except ImportError:
        return None
    return output


def colab_proxy(output: Any, port: int) -> str:
    """The origin Colab's kernel-port proxy serves ``port`` at (``https://host``)."""
    url = output.eval_js(f"google.colab.kernel.proxyPort({port}, {{'cache': false}})")
    parts = urlsplit(str(url))
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
        raise RuntimeError(
            f"Colab's proxyPort({port}) gave {url!r}, not an https address at the root: "
            "the playground cannot be shown through it"
        )
    return f"https://{parts.netloc.lower()}"


class _Server:
    """The playground app of this kernel, served on 127.0.0.1 in a daemon thread."""

    def __init__(self) -> None:
        from mlplab.web.server import bind_socket, create_app, uvicorn_server

        self.token = secrets.token_urlsafe(32)
        self.sock = bind_socket("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        ancestors, hosts, origins = list(FRAME_ANCESTORS), set(), set()
        try:
            colab = _colab_output()
            if colab is not None:
                self.base = colab_proxy(colab, self.port)
                hosts.add(urlsplit(self.base).hostname or "")
                origins.add(self.base)
                ancestors += COLAB_FRAME_ANCESTORS
            app = create_app(
                self.token,
                allowed_hosts=hosts,
                extra_origins=origins,
                frame_ancestors=" ".join(ancestors),
            )
            self.server = uvicorn_server(app)
        except BaseException:
            self.sock.close()
            raise
        self.thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self.sock]},
            name=f"mlplab-playground-{self.port}",
            daemon=True,
        )
        self.thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the playground's server did not start")
            time.sleep(0.01)

    @property
    def running(self) -> bool:
        return self.thread.is_alive() and not self.server.should_exit

    def stop(self) -> None:
        """Stop serving (graceful for ``STOP_SECONDS``, then forced); close the socket."""
        self.server.should_exit = True
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(STOP_SECONDS)
            if self.thread.is_alive():
                self.server.force_exit = True
                self.thread.join(STOP_SECONDS)
        self.sock.close()


def _server() -> _Server:
    """The running server of this kernel, started if there is none."""
    global _current
    with _lock:
        if _current is None or not _current.running:
            if _current is not None:
                _current.stop()
            _current = _Server()
        return _current


def _stop_at_exit() -> None:
    with _lock:
        if _current is not None:
            _current.stop()


# At exit the server must stop before the interpreter shuts concurrent.futures' worker pools
# (the sessions train in one, through asyncio.to_thread): those are shut by threading's own exit
# hooks, which run before atexit's, so the server's stop is one of them (run in reverse order
# of registration: before the pools'), where this Python has that hook; else atexit's.
_register = getattr(threading, "_register_atexit", None)
try:
    (_register or atexit.register)(_stop_at_exit)
except RuntimeError:  # imported while the interpreter is already exiting
    atexit.register(_stop_at_exit)


# ------------------------------------------------------------------ the handle
class Playground:
    """A playground page shown in a notebook: ``.url``, ``.stop()``, and the iframe as HTML."""

    def __init__(self, server: _Server, path: str, height: int, lang: str = "en") -> None:
        self._server = server
        self._path = path
        self.height = height
        self.lang = lang

    @property
    def url(self) -> str:
        """The page's address (with the launch token, like ``mlplab serve``'s)."""
        return self._server.base + self._path

    @property
    def port(self) -> int:
        """The server's port on 127.0.0.1."""
        return self._server.port

    @property
    def running(self) -> bool:
        return self._server.running

    def stop(self) -> None:
        """Stop the server: this page and every other playground page of this kernel."""
        with _lock:
            self._server.stop()

    def _repr_html_(self) -> str:
        pt = self.lang == "pt"
        if not self.running:
            return (
                "<p>O servidor deste playground foi parado; chame mlplab.playground() de novo.</p>"
                if pt
                else "<p>This playground's server was stopped; call mlplab.playground() again.</p>"
            )
        # A caption first: a saved or exported notebook keeps the frame but not the kernel
        # that served it, and a blank frame should say why.
        caption = (
            "playground do mlplab, servido pelo kernel deste notebook: para junto com ele; "
            "se o quadro abaixo ficar em branco, rode a célula de novo."
            if pt
            else "mlplab playground, served by this notebook's kernel: it stops with the "
            "kernel; if the frame below stays blank, run the cell again."
        )
        return (
            '<p class="mlplab-playground-caption" style="font: 12px sans-serif; color: #555; '
            f'margin: 0 0 4px">{html.escape(caption)}</p>'
            f'<iframe src="{html.escape(self.url)}" title="mlplab playground" width="100%" '
            f'height="{self.height}" style="border: 0" allow="clipboard-write"></iframe>'
        )

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<mlplab playground ({state}) at {self.url}>"


def playground(
    dataset: str | None = None,
    layers: Any = None,
    activation: str | None = None,
    *,
    lang: str | None = None,
    height: int = DEFAULT_HEIGHT,
    **options: Any,
) -> Playground:
    """Show the playground in a notebook cell (the last expression of the cell, or ``display``).

    ``mlplab.playground(dataset="xor", layers=[2], activation="logistic")`` opens the page with
    that data and network. ``layers``: hidden layer sizes (each with ``activation``; tanh when
    not given) or the page's layer objects ``{"units", "activation", "batch_norm"}``. ``lang``:
    ``"en"`` or ``"pt"`` (the page and the doctor's findings; default: the language of
    ``mlplab.set_language``). Any other setting of the page by its name: ``noise``,
    ``n_samples``, ``test_fraction``, ``output_activation``, ``init``, ``optimizer``,
    ``learning_rate``, ``batch_size``, ``l2``, ``clip_norm``, ``clip_value``, ``loss``,
    ``seed``, ``steps_per_second`` (None: full speed); docs/playground.md lists them.
    Bad values raise ``ValueError`` naming the argument, before any server starts.

    The server is ``mlplab serve``'s app on a free port of 127.0.0.1 (same token, Host and Origin
    rules), started once per kernel and reused by later calls; it stops with the kernel or with
    ``.stop()``. Needs FastAPI and uvicorn.
    """
    lang = get_language() if lang is None else lang  # checked with the other arguments
    config = initial_config(dataset, layers, activation, lang, options)
    height = as_integer("height", height, 200, 10_000)
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"the playground needs FastAPI and uvicorn ({exc}); pip install fastapi uvicorn"
        ) from None
    server = _server()
    return Playground(server, page_path(server.token, config, lang), height, lang)
