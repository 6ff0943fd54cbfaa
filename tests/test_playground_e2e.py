"""The playground end to end: the real server (``create_app`` + uvicorn on a free port) and the
page (``static/index.html`` and its ES modules) driven in a real headless Chromium.

Debian's Chromium (/usr/bin/chromium) through the Python ``playwright`` package, like
tests/test_report.py; the module is skipped only when one of the two (or fastapi/uvicorn) is
missing. The page runs under the server's CSP (``script-src 'self'``, no eval), so waits poll
from Python (``page.evaluate`` is not subject to the page's CSP) instead of
``page.wait_for_function``. Screenshots go to ``$MLPLAB_ARTIFACTS`` (or a pytest temp dir).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TOKEN = "e2e-playground-token-0123456789abcdef"

if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the Python package playwright is missing (pip install it)"
)
uvicorn = pytest.importorskip("uvicorn")
pytest.importorskip("fastapi")

from mlplab.web.server import create_app  # noqa: E402

# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server_url(served) -> Iterator[str]:
    """The real playground app with its default limits."""
    with served(create_app(TOKEN, lang="en")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("MLPLAB_ARTIFACTS")
    out = Path(env) if env else tmp_path_factory.mktemp("playground-e2e")
    out.mkdir(parents=True, exist_ok=True)
    print(f"\nplayground screenshots: {out}")
    return out


class Playground:
    """The page opened in Chromium, with its console errors and failed requests."""

    def __init__(
        self,
        browser: Any,
        url: str,
        query: str = "",
        hash_: str = "",
        *,
        address: str | None = None,
        viewport: tuple[int, int] = (1440, 1200),
    ) -> None:
        """The page at ``url/?token=...{query}{hash_}``, or at ``address`` as it is."""
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        self.page.set_default_timeout(10_000)
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.requests: list[str] = []
        self.origin = url
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.on("pageerror", lambda exc: self.console_errors.append(str(exc)))
        self.page.on("requestfailed", lambda req: self.failed.append(req.url))
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.goto(address or f"{url}/?token={TOKEN}{query}{hash_}", wait_until="load")
        self.wait(lambda: self.js("window.mlplabPlayground && window.mlplabPlayground.frame"))
        self.wait(lambda: self.text("#step-count") != "–")

    # -- reading the page
    def js(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def text(self, selector: str) -> str:
        return (self.page.text_content(selector) or "").strip()

    def config(self) -> dict[str, Any]:
        return self.js("window.mlplabPlayground.config")

    def frame(self) -> dict[str, Any]:
        return self.js("window.mlplabPlayground.frame")

    def step(self) -> int:
        return int(self.text("#step-count"))

    def test_metric(self) -> float:
        text = self.text("#test-metric")
        return float(text) if text not in ("", "–") else float("nan")

    def norms(self) -> list[float]:
        return json.loads(self.page.get_attribute("#grad-values", "data-norms") or "[]")

    def heatmap_pixels(self) -> str:
        return self.js("document.querySelector('#heatmap').toDataURL()")

    # -- waiting (polling from Python: the page's CSP forbids wait_for_function's eval)
    @staticmethod
    def wait(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.05)

    def settled(self) -> None:
        """Wait until the page's queued config changes (PUTs) have all answered."""
        self.js("window.mlplabPlayground.queue.then(() => true)")

    # -- editing the network through the UI
    def n_layers(self) -> int:
        return self.js("document.querySelectorAll('#layers .layer').length")

    def set_layers(self, n: int, units: int, activation: str) -> None:
        """Through the buttons: down to one hidden layer, set it up, then add copies of it."""
        while self.n_layers() > 1:
            before = self.n_layers()
            self.page.click("#remove-layer")
            self.settled()
            self.wait(lambda b=before: self.n_layers() == b - 1, what="a layer removed")
        if self.n_layers() == 0:
            self.page.click("#add-layer")
            self.settled()
            self.wait(lambda: self.n_layers() == 1, what="a layer added")
        self.page.select_option("#layers .layer >> nth=0 >> select.activation", activation)
        self.settled()
        while (current := self.config()["layers"][0]["units"]) != units:
            button = ".units-plus" if current < units else ".units-minus"
            self.page.click(f"#layers .layer >> nth=0 >> {button}")
            self.settled()
        while self.n_layers() < n:
            before = self.n_layers()
            self.page.click("#add-layer")
            self.settled()
            self.wait(lambda b=before: self.n_layers() == b + 1, what="a layer added")
        layers = self.config()["layers"]
        assert [(la["units"], la["activation"]) for la in layers] == [(units, activation)] * n
        self.wait(lambda: self.frame()["units"][1:-1] == [units] * n, what="the new network")

    def set_number(self, selector: str, value: float) -> None:
        self.page.fill(selector, str(value))
        self.page.press(selector, "Tab")  # fires "change"
        self.settled()

    def set_speed(self, steps_per_second: float | None) -> None:
        """Move the speed slider to a level (None: full speed), as a user's drag ends."""
        for index in range(int(self.page.get_attribute("#speed", "max") or 0) + 1):
            self.js(
                f"(() => {{ const el = document.querySelector('#speed'); el.value = '{index}';"
                " el.dispatchEvent(new Event('input')); })()"
            )
            label = self.text("#speed-value")
            wanted = "full speed" if steps_per_second is None else f"{steps_per_second:g} steps/s"
            if label == wanted:
                self.js("document.querySelector('#speed').dispatchEvent(new Event('change'))")
                self.settled()
                assert self.config()["steps_per_second"] == steps_per_second
                return
        raise AssertionError(f"no speed level {steps_per_second}")

    def box(self, selector: str) -> dict[str, float]:
        return self.page.locator(selector).bounding_box()

    def shot(self, artifacts: Path, name: str) -> None:
        self.page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)

    def close(self) -> None:
        assert self.failed == [], f"failed requests: {self.failed}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        ws_origin = "ws" + self.origin.removeprefix("http")
        elsewhere = [
            u
            for u in self.requests
            if not u.startswith((self.origin + "/", ws_origin + "/", "data:", "blob:"))
        ]
        assert elsewhere == [], f"requests outside the app (must work offline): {elsewhere}"
        self.page.close()


@pytest.fixture
def open_page(browser, server_url) -> Iterator[Callable[..., Playground]]:
    pages: list[Playground] = []

    def opener(query: str = "", hash_: str = "", **kwargs: Any) -> Playground:
        pages.append(Playground(browser, server_url, query, hash_, **kwargs))
        return pages[-1]

    yield opener
    for pg in pages:
        if not pg.page.is_closed():
            pg.close()


# ---------------------------------------------------------------- scenarios


def test_xor_with_two_logistic_units_is_learned_live(open_page, artifacts):
    pg = open_page("&lang=en")
    assert pg.js("document.documentElement.lang") == "en"
    assert pg.page.title().strip()
    pg.page.select_option("#dataset", "xor")
    pg.settled()
    assert pg.config()["dataset"] == "xor"
    pg.set_layers(1, units=2, activation="logistic")
    pg.set_number("#learning-rate", 0.1)
    assert pg.config()["learning_rate"] == pytest.approx(0.1)
    assert pg.frame()["task"] == "classification"
    pg.wait(lambda: pg.js("document.querySelector('#network polygon.hit') !== null"))
    # 2-2-1: 4 + 2 weights drawn, the output bias shown explicitly
    assert pg.js("document.querySelectorAll('#network polygon.hit').length") == 6
    assert pg.text("#output-bias-0").startswith("b = ")

    pg.set_speed(None)  # full speed: 2 logistic units take thousands of steps
    before = pg.heatmap_pixels()
    pg.page.click("#play")
    pg.wait(lambda: pg.page.get_attribute("#play", "data-running") == "true", what="playing")
    pg.wait(lambda: pg.step() > 0, what="training steps")
    time.sleep(0.3)
    during = pg.heatmap_pixels()
    pg.wait(lambda: pg.test_metric() >= 0.99, timeout=30, what="test accuracy >= 0.99")
    pg.page.click("#play")  # pause
    pg.wait(lambda: pg.page.get_attribute("#play", "data-running") == "false", what="paused")
    after = pg.heatmap_pixels()
    assert before != during or during != after, "the decision region never changed"
    assert before != after

    assert pg.page.get_attribute("#grad-chart", "data-populated") == "true"
    assert pg.page.get_attribute("#loss-chart", "data-populated") == "true"
    norms = pg.norms()
    assert len(norms) == 2 and all(n is not None and n >= 0 for n in norms)
    assert len(pg.frame()["history"]["grad_norms"]) > 1
    assert pg.test_metric() >= 0.99
    # each hidden node drawn as a small heatmap
    assert pg.js("document.querySelectorAll('#node-maps canvas.node-map').length") == 2
    pg.shot(artifacts, "01-xor-2-logistic-trained")


def test_eight_logistic_layers_show_the_vanishing_gradient(open_page, artifacts):
    pg = open_page()
    pg.page.select_option("#dataset", "xor")
    pg.settled()
    pg.set_layers(8, units=4, activation="logistic")
    assert pg.js("document.querySelector('#add-layer').disabled")  # the limit: 8 hidden layers
    pg.set_number("#steps-per-click", 5)
    start = pg.step()
    pg.page.click("#step")
    pg.wait(lambda: pg.step() >= start + 5, what="5 steps")
    pg.wait(lambda: len(pg.norms()) == 9, what="9 gradient norms")
    norms = pg.norms()
    shown = pg.js("Array.from(document.querySelectorAll('#grad-values li .v'), e => e.textContent)")
    assert len(shown) == 9
    first, last = norms[0], norms[-1]
    assert first > 0 and last > 0
    assert first * 100 <= last, f"first {first:.3g}, last {last:.3g}: ratio {last / first:.3g}"
    assert float(shown[0]) == pytest.approx(first, rel=0.01)
    assert pg.page.get_attribute("#grad-chart", "data-populated") == "true"
    # the per-layer markers: dead and saturated fractions for every hidden layer
    assert pg.js("document.querySelectorAll('#layer-health tbody tr').length") == 8
    assert pg.js("document.querySelectorAll('#network text.marker').length") == 16
    # the gradient doctor names the vanishing gradient
    pg.wait(
        lambda: pg.js("document.querySelectorAll('#findings li[data-kind=vanishing]').length"),
        timeout=5,
        what="a 'vanishing' finding",
    )
    pg.shot(artifacts, "02-eight-logistic-layers-vanishing")


def test_portuguese_points_weight_edit_exports_shared_config_csv(open_page, artifacts, tmp_path):
    pg = open_page()
    # ---- English <-> Portuguese
    assert pg.text("#data-panel h2") == "Data"
    pg.page.click("#lang-toggle")
    assert pg.js("document.documentElement.lang") == "pt"
    assert pg.text("#data-panel h2") == "Dados"
    assert pg.text("#metric-name-test") == "acurácia de teste"
    assert "lang=pt" in pg.page.url
    pg.shot(artifacts, "03-portuguese")
    pg.page.click("#lang-toggle")
    assert pg.text("#data-panel h2") == "Data"

    # ---- hover a weight: its value and gradient
    pg.page.select_option("#dataset", "xor")
    pg.settled()
    pg.set_layers(1, units=2, activation="tanh")
    pg.page.click("#step")
    pg.wait(lambda: pg.step() > 0)
    edge = '#network polygon.hit[data-layer="0"][data-i="0"][data-j="0"]'
    pg.page.hover(edge)
    pg.wait(lambda: pg.page.is_visible("#weight-tip"), what="the weight's tooltip")
    assert "∂L/∂w" in pg.text("#weight-tip")

    # ---- click the plot: a point of class 1; shift-click: class 0
    n_train = len(pg.js("window.mlplabPlayground.points.train"))
    box = pg.page.locator("#heatmap").bounding_box()
    pg.page.click("#heatmap", position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    pg.wait(lambda: len(pg.js("window.mlplabPlayground.points.train")) == n_train + 1)
    pg.page.click("#heatmap", position={"x": 5, "y": 5}, modifiers=["Shift"])
    pg.wait(lambda: len(pg.js("window.mlplabPlayground.points.train")) == n_train + 2)
    assert [p[2] for p in pg.js("window.mlplabPlayground.points.train")[-2:]] == [1, 0]

    # ---- edit a weight by hand: the frame changes
    before_pixels = pg.heatmap_pixels()
    pg.page.click(edge)
    pg.wait(lambda: pg.page.is_visible("#weight-editor"), what="the weight editor")
    pg.page.fill("#weight-input", "4.5")
    pg.page.click("#weight-ok")
    pg.wait(lambda: pg.frame()["weights"][0][0][0] == pytest.approx(4.5), what="the edited weight")
    pg.wait(lambda: float(pg.page.get_attribute(edge, "data-w") or 0) == pytest.approx(4.5))
    pg.wait(lambda: pg.heatmap_pixels() != before_pixels, what="the heatmap to change")
    assert not pg.page.is_visible("#weight-editor")
    # and the output bias (i = -1) by clicking the output node
    pg.page.click("#node-maps canvas.output-map")
    pg.wait(lambda: pg.page.is_visible("#weight-editor"))
    pg.page.fill("#weight-input", "-0.75")
    pg.page.press("#weight-input", "Enter")
    pg.wait(lambda: pg.text("#output-bias-0") == "b = -0.750", what="the edited output bias")
    pg.shot(artifacts, "04-weight-edited")

    # ---- exports
    pg.page.click("#export-snippet")
    pg.wait(lambda: pg.page.is_visible("#snippet"), what="the snippet")
    snippet = pg.page.text_content("#snippet") or ""
    assert "mlplab" in snippet and "import" in snippet
    compile(snippet, "snippet.py", "exec")  # Python text
    with pg.page.expect_download() as dl:
        pg.page.click("#export-history-csv")
    history = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "," in history.splitlines()[0] and len(history.splitlines()) > 1
    with pg.page.expect_download() as dl:
        pg.page.click("#export-model")
    assert dl.value.suggested_filename.endswith(".mlplab")
    assert Path(dl.value.path()).stat().st_size > 0

    # ---- the whole configuration is in the URL hash, and a new page starts from it
    pg.set_number("#learning-rate", 0.07)
    url = pg.page.url
    assert "#config=" in url
    shared = json.loads(unquote(url.split("#config=", 1)[1]))
    assert shared == pg.config()
    shared["dataset"] = "circles"
    shared["layers"] = [{"units": 3, "activation": "relu", "batch_norm": True}]
    other = open_page(hash_="#config=" + quote(json.dumps(shared)))
    assert other.config()["dataset"] == "circles"
    assert other.config()["learning_rate"] == pytest.approx(0.07)
    assert other.js("document.querySelector('#dataset').value") == "circles"
    assert other.n_layers() == 1
    assert other.text("#layers .layer .units-count") == "3"
    assert other.js("document.querySelector('#layers .layer .batch-norm').checked")
    assert other.js("document.querySelector('#layers .layer select.activation').value") == "relu"

    # ---- own data: a CSV file read in the page and posted as text
    csv = tmp_path / "own.csv"
    rows = [f"{x},{y},{int(x * y > 0)}" for x in (-2, -1, 1, 2) for y in (-1.5, -0.5, 0.5, 1.5)]
    csv.write_text("x1,x2,label\n" + "\n".join(rows * 3) + "\n", encoding="utf-8")
    other.page.set_input_files("#csv-file", str(csv))
    other.wait(lambda: other.config()["dataset"] == "csv", what="the CSV dataset")
    other.settled()
    assert other.js("document.querySelector('#dataset').value") == "csv"
    total = len(other.js("window.mlplabPlayground.points.train")) + len(
        other.js("window.mlplabPlayground.points.test")
    )
    assert total == 48


def test_time_limit_and_expiry_are_explained_on_the_page(browser, artifacts, served):
    """A run stopped by the wall-time cap and a session expired for idleness each leave a
    message on the page saying why (and what to do), never a silent stop."""
    limits = {"train_seconds": 0.5, "idle_seconds": 2.5}
    with served(create_app(TOKEN, lang="en", limits=limits)) as url:
        pg = Playground(browser, url)
        pg.page.click("#play")
        pg.wait(lambda: pg.step() > 0, what="training steps")
        status = pg.wait(
            lambda: "paused after" in pg.text("#status") and pg.text("#status"),
            what="the time-limit notice",
        )
        assert "0.5 s" in status and "--max-train-seconds" in status and "play" in status
        assert pg.page.get_attribute("#play", "data-running") == "false"
        pg.shot(artifacts, "04-time-limit-notice")
        time.sleep(1)  # the notice stays (not an 8-second toast)
        assert "paused after" in pg.text("#status")
        first = pg.js("window.mlplabPlayground.id")
        pg.wait(
            lambda: pg.js("window.mlplabPlayground.id") != first,
            timeout=15,
            what="a new session after the expiry",
        )
        status = pg.wait(lambda: "expired" in pg.text("#status") and pg.text("#status"))
        assert "2.5 s" in status and "--idle-timeout" in status and "new session" in status
        assert pg.frame()["step"] == 0  # the new session, drawn
        pg.shot(artifacts, "05-session-expired-notice")
        pg.close()


def test_the_speed_control_paces_play_from_slow_motion_to_full_speed(open_page):
    """The page starts at the default speed (10 steps/s, the server's default); at 2 steps/s
    play never runs ahead of 2 steps a second (a busy machine only slows it), at full speed
    it runs far ahead; the label follows the language."""
    pg = open_page("&lang=en")
    assert pg.config()["steps_per_second"] == 10 and pg.text("#speed-value") == "10 steps/s"
    pg.set_speed(2)
    start = pg.step()
    pg.page.click("#play")
    t0 = time.monotonic()
    pg.wait(lambda: pg.step() > start, what="a first paced step")
    time.sleep(1.5)
    slow = pg.step() - start
    elapsed = time.monotonic() - t0
    assert 1 <= slow <= 2 * elapsed + 2, (slow, elapsed)
    pg.set_speed(None)
    t1 = time.monotonic()
    pg.wait(lambda: pg.step() > start + slow + 1000, what="1000 steps at full speed")
    assert pg.step() - start - slow > 2 * (time.monotonic() - t1) + 100
    pg.page.click("#play")
    pg.wait(lambda: pg.page.get_attribute("#play", "data-running") == "false", what="paused")
    pg.page.click("#lang-toggle")
    assert pg.text("#speed-value") == "máxima" and pg.text(".speed > span") == "velocidade"
    assert pg.config()["steps_per_second"] is None


def test_copy_link_reopens_the_configuration_and_a_link_for_others_explains_how(
    open_page, browser, server_url
):
    """The "copy link" address holds the token: it reopens the same
    configuration. "link for others" leaves the token out; opened, the page says to run
    mlplab serve and paste its address, and then opens the configuration there. A token from
    another launch gets the same help, not a bare error."""
    pg = open_page("&lang=pt")
    pg.page.select_option("#dataset", "circles")
    pg.settled()
    pg.set_number("#learning-rate", 0.07)
    pg.page.click("#share")
    mine = pg.page.input_value("#share-url")
    assert f"token={TOKEN}" in mine and "#config=" in mine and "lang=pt" in mine
    again = open_page(address=mine)
    assert again.config()["dataset"] == "circles"
    assert again.config()["learning_rate"] == pytest.approx(0.07)
    assert again.js("document.documentElement.lang") == "pt"
    assert again.js("document.querySelector('#open-help').hidden")

    pg.page.click("#share-others")
    theirs = pg.page.input_value("#share-url")
    assert "token" not in theirs and "#config=" in theirs
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(theirs, wait_until="load")
    help_ = page.locator("#open-help")
    help_.wait_for(state="visible")
    text = help_.text_content() or ""
    assert "mlplab serve" in text and "configuração" in text  # in Portuguese, as linked
    assert page.evaluate("window.mlplabPlayground.id") is None  # no session without a token
    page.fill("#open-url", "not an address")
    page.click("#open-go")
    assert "?token=" in (page.text_content("#status") or "")
    page.fill("#open-url", f"{server_url}/?token={TOKEN}")
    page.click("#open-go")
    opened = "(window.mlplabPlayground && window.mlplabPlayground.config || {}).dataset"

    def dataset() -> str | None:
        try:
            return page.evaluate(opened)
        except sync_api.Error:  # the page navigating: its context is gone for a moment
            return None

    Playground.wait(
        lambda: dataset() == "circles",
        what="the configuration opened with the pasted address",
    )
    assert page.evaluate("window.mlplabPlayground.config.learning_rate") == pytest.approx(0.07)
    page.goto(mine.replace(TOKEN, "a-token-of-another-launch-0123456789"), wait_until="load")
    help_.wait_for(state="visible")
    assert "token" in (page.text_content("#open-help-why") or "")
    assert "mlplab serve" in (page.text_content("#open-help-how") or "")
    page.close()


@pytest.mark.parametrize("lang", ["pt", "en"])
def test_the_header_keeps_title_controls_and_language_button_on_one_line(browser, server_url, lang):
    for width in (1280, 1024):
        pg = Playground(browser, server_url, f"&lang={lang}", viewport=(width, 800))
        title, button = pg.box("h1"), pg.box("#lang-toggle")
        play, speed, counters = pg.box("#play"), pg.box("#speed"), pg.box(".counters")
        middle = title["y"] + title["height"] / 2
        for other in (button, play, speed):
            assert abs(other["y"] + other["height"] / 2 - middle) < 12, (width, lang, other)
        assert button["x"] + button["width"] <= width
        assert counters["y"] >= button["y"] + button["height"]  # the counters: the next line
        pg.close()


def test_the_loss_chart_keeps_its_last_x_tick_label_inside(open_page):
    pg = open_page("&lang=en")
    pg.set_number("#steps-per-click", 1000)
    pg.page.click("#step")
    pg.wait(lambda: pg.step() == 1000, what="1000 steps")
    pg.wait(lambda: pg.page.get_attribute("#loss-chart", "data-xticks"), what="the ticks")
    for chart in ("#loss-chart", "#grad-chart"):
        width = pg.js(f"document.querySelector('{chart}').width")
        ticks = json.loads(pg.page.get_attribute(chart, "data-xticks") or "[]")
        assert ticks[-1]["text"] == "1000"  # a tick at the right edge of the plot
        for tick in ticks:
            assert 0 <= tick["left"] and tick["right"] <= width, (chart, tick)
