"""``mlplab.playground(...)``: the playground inside a notebook (src/mlplab/web/notebook.py).

Unit tests of the function and its handle (the configuration checked before any server starts,
the server reused and stopped, the guard's token/Host/Origin rules unchanged, framing allowed
only to loopback pages, Colab's proxied origin accepted only with a fake ``google.colab``), a
subprocess that must exit promptly with its port closed, and the issue's end-to-end check: a
notebook executed by nbclient with its kernel kept alive, converted to HTML by nbconvert, opened
in headless Chromium, the page in the iframe training; the kernel stopped, the server gone.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import mlplab  # noqa: E402
from mlplab.web import notebook  # noqa: E402
from mlplab.web.config import default_config  # noqa: E402
from mlplab.web.server import TOKEN_HEADER, create_app  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def token_of(url: str) -> str:
    """The launch token in a page's address (its query's ``token``)."""
    return parse_qs(urlsplit(url).query)["token"][0]


@pytest.fixture
def shown() -> Iterator[list[Any]]:
    """Handles to stop after the test (each test leaves no server behind)."""
    handles: list[Any] = []
    yield handles
    for handle in handles:
        handle.stop()


def request(
    url: str, method: str = "GET", *, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    """(status, JSON body) of one HTTP request (4xx/5xx answers too)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:
            raw, status, header = answer.read(), answer.status, answer.headers
    except urllib.error.HTTPError as err:
        raw, status, header = err.read(), err.code, err.headers
    is_json = header.get("content-type", "").startswith("application/json")
    return status, json.loads(raw) if is_json else header


def raw_request(port: int, lines: list[str], *, close: bool = True) -> int:
    """The status of a hand-written HTTP/1.1 request (urllib cannot send a foreign Host); a
    POST sends the body ``{}``; ``close=False``: the lines say how (a WebSocket upgrade)."""
    body = "{}" if lines[0].startswith("POST") else ""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        end = ["Connection: close"] if close else []
        sock.sendall(("\r\n".join([*lines, *end, "", body])).encode())
        reply = b""
        while b"\r\n" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def page_config(url: str) -> dict[str, Any]:
    return json.loads(unquote(urlsplit(url).fragment.removeprefix("config=")))


# ---------------------------------------------------------------- the function


def test_importing_mlplab_does_not_import_the_web_server():
    code = "import json, sys, mlplab; print(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "mlplab" in loaded
    assert not {m.split(".")[0] for m in loaded} & {"fastapi", "uvicorn", "starlette"}
    assert "mlplab.web" not in loaded  # loaded on first use of mlplab.playground
    assert mlplab.playground is notebook.playground
    assert "playground" in mlplab.__all__ and "playground" in dir(mlplab)


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"layers": [0]}, ValueError, "layers[0] must be an integer in 1..32; received 0"),
        ({"layers": [True]}, ValueError, "layers[0] must be an integer"),
        ({"layers": 3}, ValueError, "layers must be a list of hidden layer sizes"),
        ({"layers": [4] * 9}, ValueError, "layers: at most 8 hidden layers; received 9"),
        ({"activation": "sigmoid"}, ValueError, "activation must be one of"),
        ({"dataset": "xr"}, ValueError, "dataset must be one of"),
        ({"dataset": "csv"}, ValueError, "dataset='csv' needs a file"),
        ({"learning_rate": -1}, ValueError, "learning_rate must be a number in (0, 1000]"),
        ({"steps_per_second": 0}, ValueError, "steps_per_second must be a number"),
        ({"lang": "fr"}, ValueError, "lang must be one of 'en', 'pt'; received 'fr'"),
        ({"height": 10}, ValueError, "height must be an integer in 200..10000; received 10"),
        ({"learnig_rate": 0.1}, TypeError, "unexpected keyword argument 'learnig_rate'"),
        ({"config": {}}, TypeError, "unexpected keyword argument 'config'"),
    ],
)
def test_bad_arguments_are_refused_by_name_before_any_server_starts(
    kwargs, error, names, monkeypatch
):
    started: list[bool] = []
    monkeypatch.setattr(notebook, "_Server", lambda: started.append(True))
    with pytest.raises(error) as caught:
        mlplab.playground(**kwargs)
    assert names in str(caught.value)
    assert started == []


def test_the_python_arguments_become_the_pages_initial_configuration(shown):
    pg = mlplab.playground(dataset="xor", layers=[2], activation="logistic", learning_rate=0.1)
    shown.append(pg)
    config = page_config(pg.url)
    assert config["dataset"] == "xor" and config["learning_rate"] == 0.1
    assert config["layers"] == [{"units": 2, "activation": "logistic", "batch_norm": False}]
    assert set(config) == set(default_config())  # every key, as the page's own links hold them
    pt = mlplab.playground(
        "circles", [{"units": 3, "batch_norm": True}, 2], "relu", lang="pt", steps_per_second=None
    )
    shown.append(pt)
    config = page_config(pt.url)
    assert config["layers"] == [
        {"units": 3, "activation": "relu", "batch_norm": True},
        {"units": 2, "activation": "relu", "batch_norm": False},
    ]
    assert config["lang"] == "pt" and config["steps_per_second"] is None
    assert "&lang=pt#" in pt.url
    # the page's server takes that configuration (the page POSTs it to create its session)
    status, body = request(
        f"http://127.0.0.1:{pt.port}/api/sessions",
        "POST",
        headers={TOKEN_HEADER: token_of(pt.url)},
        body={"config": config},
    )
    assert status == 201, body
    assert body["config"]["layers"] == config["layers"]


def test_the_handle_shows_an_iframe_a_second_call_reuses_the_server_and_stop_closes_it(shown):
    first = mlplab.playground(dataset="xor")
    shown.append(first)
    assert first.running
    assert first.url.startswith(f"http://127.0.0.1:{first.port}/?token=")
    html = first._repr_html_()
    caption, frame = html.split("<iframe ")  # a caption says why a saved frame is blank
    assert "stops with the kernel" in caption and "run the cell again" in caption
    assert f'height="{notebook.DEFAULT_HEIGHT}"' in frame
    assert f'src="http://127.0.0.1:{first.port}/?token=' in html
    assert repr(first).startswith("<mlplab playground (running) at http://127.0.0.1:")
    status, _ = request(first.url)
    assert status == 200
    second = mlplab.playground(dataset="circles", height=500)
    shown.append(second)
    assert second.port == first.port and 'height="500"' in second._repr_html_()
    assert page_config(second.url)["dataset"] == "circles"
    second.stop()
    assert not first.running and not second.running
    assert port_is_closed(first.port)
    assert "stopped" in first._repr_html_() and "(stopped)" in repr(first)
    third = mlplab.playground()
    shown.append(third)
    assert third.running and third.port != first.port
    assert token_of(third.url) != token_of(first.url)  # a fresh token


def test_the_guard_rules_of_mlplab_serve_hold_in_the_notebook(shown):
    pg = mlplab.playground()
    shown.append(pg)
    token = token_of(pg.url)
    meta = f"http://127.0.0.1:{pg.port}/api/meta"
    assert request(meta, headers={TOKEN_HEADER: token})[0] == 200
    assert request(meta)[0] == 401
    assert request(meta, headers={TOKEN_HEADER: token[:-1] + "x"})[0] == 401
    host = f"127.0.0.1:{pg.port}"
    get = ["GET /api/meta HTTP/1.1", f"{TOKEN_HEADER}: {token}"]
    assert raw_request(pg.port, [*get, f"Host: {host}"]) == 200
    assert raw_request(pg.port, [*get, f"Host: evil.example:{pg.port}"]) == 403
    post = [
        "POST /api/sessions HTTP/1.1",
        f"Host: {host}",
        f"{TOKEN_HEADER}: {token}",
        "Content-Type: application/json",
        "Content-Length: 2",
    ]
    assert raw_request(pg.port, [*post, f"Origin: http://{host}"]) in (200, 201)
    for origin in ("http://evil.example", "https://colab.research.google.com", "null"):
        assert raw_request(pg.port, [*post, f"Origin: {origin}"]) == 403, origin
    # the WebSocket handshake: the token and a same-site Origin, as for mlplab serve
    status, session = request(
        f"http://127.0.0.1:{pg.port}/api/sessions", "POST", headers={TOKEN_HEADER: token}, body={}
    )
    assert status == 201
    ws = [
        f"GET /api/sessions/{session['id']}/ws?token={token} HTTP/1.1",
        f"Host: {host}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    assert raw_request(pg.port, [*ws, f"Origin: http://{host}"], close=False) == 101
    assert raw_request(pg.port, [*ws, "Origin: http://evil.example"], close=False) == 403
    wrong = [ws[0].replace(token, token[:-1] + "x"), *ws[1:]]
    assert raw_request(pg.port, [*wrong, f"Origin: http://{host}"], close=False) == 401
    # the page may be framed by loopback pages (Jupyter, an exported notebook) only
    headers = request(pg.url)[1]
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*" in csp
    assert "googleusercontent" not in csp and "x-frame-options" not in headers
    # ... while mlplab serve's app still lets no page frame it
    app = create_app("t" * 32)
    guard = next(m for m in app.user_middleware if m.cls.__name__ == "Guard")
    assert guard.kwargs["frame_ancestors"] == "'none'"


@pytest.fixture
def fake_colab(monkeypatch) -> list[str]:
    """A ``google.colab`` whose ``output.eval_js`` answers ``proxyPort`` like Colab's."""
    asked: list[str] = []

    def eval_js(script: str) -> str:
        asked.append(script)
        port = script.split("(")[1].split(",")[0]
        return f"https://abc123-{port}-colab.googleusercontent.com/"

    output = types.SimpleNamespace(eval_js=eval_js)
    colab = types.ModuleType("google.colab")
    colab.output = output  # type: ignore[attr-defined]
    google = types.ModuleType("google")
    google.colab = colab  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    return asked


def test_in_colab_the_proxied_origin_and_only_it_is_accepted(fake_colab, shown):
    pg = mlplab.playground(dataset="xor")
    shown.append(pg)
    proxied = f"abc123-{pg.port}-colab.googleusercontent.com"
    assert fake_colab == [f"google.colab.kernel.proxyPort({pg.port}, {{'cache': false}})"]
    assert pg.url.startswith(f"https://{proxied}/?token=")
    assert f'src="https://{proxied}/?token=' in pg._repr_html_()
    token = token_of(pg.url)
    post = [
        "POST /api/sessions HTTP/1.1",
        f"{TOKEN_HEADER}: {token}",
        "Content-Type: application/json",
        "Content-Length: 2",
    ]
    local = f"Host: 127.0.0.1:{pg.port}"
    assert raw_request(pg.port, [*post, local, f"Origin: https://{proxied}"]) in (200, 201)
    assert raw_request(pg.port, [*post, f"Host: {proxied}", f"Origin: https://{proxied}"]) in (
        200,
        201,
    )
    for origin in (
        f"https://evil-{pg.port}-colab.googleusercontent.com",  # another proxied origin
        f"http://{proxied}",  # not https
        "https://colab.research.google.com",
    ):
        assert raw_request(pg.port, [*post, local, f"Origin: {origin}"]) == 403, origin
    evil_host = f"Host: evil-{pg.port}-colab.googleusercontent.com"
    assert raw_request(pg.port, [*post, evil_host, f"Origin: https://{proxied}"]) == 403
    assert raw_request(pg.port, [*post[1:], "POST /api/sessions HTTP/1.1"]) != 201  # no Host
    wrong_token = [post[0], f"{TOKEN_HEADER}: {token[:-1]}x", *post[2:], local]
    assert raw_request(pg.port, [*wrong_token, f"Origin: https://{proxied}"]) == 401
    csp = request(f"http://127.0.0.1:{pg.port}/")[1]["content-security-policy"]
    assert "https://colab.research.google.com https://*.googleusercontent.com" in csp


def test_outside_colab_a_colab_proxied_origin_is_refused(shown):
    pg = mlplab.playground()
    shown.append(pg)
    token = token_of(pg.url)
    proxied = f"abc123-{pg.port}-colab.googleusercontent.com"
    post = [
        "POST /api/sessions HTTP/1.1",
        f"{TOKEN_HEADER}: {token}",
        "Content-Type: application/json",
        "Content-Length: 2",
    ]
    assert raw_request(pg.port, [*post, f"Host: {proxied}"]) == 403
    local = f"Host: 127.0.0.1:{pg.port}"
    assert raw_request(pg.port, [*post, local, f"Origin: https://{proxied}"]) == 403


def test_colab_proxy_answers_that_are_not_an_https_root_are_refused():
    for answer in ("http://x-1-colab.googleusercontent.com/", "https://x.example/sub/", "", None):
        output = types.SimpleNamespace(eval_js=lambda script, a=answer: a)
        with pytest.raises(RuntimeError, match="not an https address at the root"):
            notebook.colab_proxy(output, 8000)


def test_a_process_that_shows_the_playground_exits_promptly_and_closes_the_port():
    """A kernel ending (here: a script) while a session plays stops the server (atexit)."""
    code = textwrap.dedent(
        """
        import json, time, urllib.parse, urllib.request
        import mlplab
        pg = mlplab.playground(dataset="xor", layers=[2], activation="logistic",
                               steps_per_second=None)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(pg.url).query)["token"][0]
        def post(path, body):
            req = urllib.request.Request(
                f"http://127.0.0.1:{pg.port}{path}", data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "X-Mlplab-Token": token})
            return json.load(urllib.request.urlopen(req))
        sid = post("/api/sessions", {})["id"]
        post(f"/api/sessions/{sid}/control", {"action": "play"})
        time.sleep(0.5)
        print(pg.port, flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC), "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    printed = time.monotonic()
    _, err = proc.communicate(timeout=30)
    exited_after = time.monotonic() - printed
    assert proc.returncode == 0, err.decode()
    assert err.decode().strip() == ""
    assert exited_after < 5, f"took {exited_after:.1f} s to exit"
    assert port_is_closed(port)


# ---------------------------------------------------------------- end to end in a notebook


@contextlib.contextmanager
def served_directory(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on a free loopback port (like a notebook page on localhost)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def poll(predicate: Any, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)
    return value


def playground_frame(page: Any, port: int) -> Any:
    """The iframe of the playground served on ``port``, once its page drew its first frame."""
    frame = poll(
        lambda: next((f for f in page.frames if f.url.startswith(f"http://127.0.0.1:{port}/")), 0),
        what="the playground's frame",
    )
    ready = "!!(window.mlplabPlayground && window.mlplabPlayground.frame)"
    poll(lambda: frame.evaluate(ready), what="the page's first frame")
    return frame


def step_count(frame: Any) -> int:
    text = (frame.text_content("#step-count") or "").strip()
    return int(text) if text.isdigit() else -1


def offline(route: Any) -> None:
    """Loopback requests go through; the exported page's CDN scripts are not fetched."""
    if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1")):
        route.continue_()
    else:
        route.abort()


def test_a_notebook_shows_the_playground_and_it_trains(tmp_path):
    """The issue's check: nbclient runs the cell, nbconvert makes HTML, Chromium trains."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing")
    shots = Path(os.environ.get("MLPLAB_ARTIFACTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    call = 'mlplab.playground(dataset="xor", layers=[2], activation="logistic")'
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# The playground in a notebook"),
        nbformat.v4.new_code_cell(f"import mlplab\n{call}"),
    ]
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3")
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])
    with client.setup_kernel(env={**os.environ, "PYTHONPATH": path}):  # the kernel stays alive
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        output = nb.cells[1].outputs[0]
        assert output["output_type"] == "execute_result"
        port = int(output["data"]["text/html"].split("http://127.0.0.1:")[1].split("/")[0])
        html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
        (tmp_path / "notebook.html").write_text(html, encoding="utf-8")
        with served_directory(tmp_path) as site, sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.route("**/*", offline)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{site}/notebook.html", wait_until="load")
            frame = playground_frame(page, port)
            config = frame.evaluate("window.mlplabPlayground.config")
            assert config["dataset"] == "xor"
            assert [(la["units"], la["activation"]) for la in config["layers"]] == [(2, "logistic")]
            poll(lambda: step_count(frame) == 0, what="step 0")
            page.screenshot(path=str(shots / "i16-web-notebook-before.png"), full_page=True)
            frame.click("#play")
            poll(lambda: frame.get_attribute("#play", "data-running") == "true", what="playing")
            poll(lambda: step_count(frame) >= 10, what="10 training steps")
            page.screenshot(path=str(shots / "i16-web-notebook-training.png"), full_page=True)
            frame.click("#play")
            poll(lambda: frame.get_attribute("#play", "data-running") == "false", what="paused")
            browser.close()
        assert errors == []
        assert not port_is_closed(port)
    # leaving setup_kernel shut the kernel down: its server went with it
    poll(lambda: port_is_closed(port), timeout=10, what="the port closed")


def test_the_pages_language_defaults_to_mlplabs_language(shown):
    mlplab.set_language("pt")
    try:
        pg = mlplab.playground(dataset="xor")
        shown.append(pg)
        assert "&lang=pt" in pg.url and "rode a célula de novo" in pg._repr_html_()
        english = mlplab.playground(dataset="xor", lang="en")  # its own lang wins
        shown.append(english)
        assert "&lang=en" in english.url and "run the cell again" in english._repr_html_()
        with pytest.raises(ValueError, match="lang"):
            mlplab.playground(lang="fr")
    finally:
        mlplab.set_language("en")
