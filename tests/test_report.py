"""The tour's report: index.html is self-contained and renders in a real browser, README.md
links only to the figures on disk.

The browser tests drive Debian's Chromium (/usr/bin/chromium) with the Python ``playwright``
package; they are skipped only when one of the two is missing (CI installs both).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlplab.cli import main
from mlplab.experiments import tour_order
from mlplab.experiments.report import SECTIONS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _tour(tmp_path_factory: pytest.TempPathFactory, lang: str) -> Path:
    out = tmp_path_factory.mktemp(f"tour-{lang}")
    assert main(["tour", "--quick", "--lang", lang, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def tour_en(tmp_path_factory) -> Path:
    return _tour(tmp_path_factory, "en")


@pytest.fixture(scope="module")
def tour_pt(tmp_path_factory) -> Path:
    return _tour(tmp_path_factory, "pt")


def _records(out: Path) -> list[dict]:
    """Every experiment's metrics.json under ``out``, in the lecture's order."""
    order = [e.name for e in tour_order()]
    records = [json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*/metrics.json")]
    assert sorted(r["experiment"] for r in records) == sorted(order)
    return sorted(records, key=lambda r: order.index(r["experiment"]))


# ---------------------------------------------------------------- without a browser


def test_index_html_references_no_remote_resources(tour_en):
    page = (tour_en / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"https?://", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert all(
        src.startswith("data:image/png;base64,") for src in re.findall(r'src="([^"]*)"', page)
    )
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', page))


def test_readme_links_only_to_existing_figures(tour_en):
    readme = (tour_en / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)]*)\)", readme)
    assert not re.search(r"https?://", readme, re.IGNORECASE)
    figures = {f"{r['experiment']}/{fig}" for r in _records(tour_en) for fig in r["figures"]}
    assert figures, "the tour wrote no figures"
    assert set(targets) == figures  # every figure linked, nothing else linked
    for target in targets:
        assert (tour_en / target).is_file(), target


# ---------------------------------------------------------------- in Chromium


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the Python package playwright is missing (pip install playwright)")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Loaded:
    """A report opened in the browser, with every request the page made."""

    def __init__(self, browser, out: Path) -> None:
        self.index = out / "index.html"
        self.page = browser.new_page()
        self.requests: list[str] = []
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("requestfailed", lambda req: self.failed.append(req.url))
        self.page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        self.page.goto(self.index.as_uri(), wait_until="load")

    def js(self, expression: str):
        return self.page.evaluate(expression)


@pytest.fixture(scope="module")
def loaded_en(browser, tour_en):
    loaded = Loaded(browser, tour_en)
    yield loaded
    loaded.page.close()


@pytest.fixture(scope="module")
def loaded_pt(browser, tour_pt):
    loaded = Loaded(browser, tour_pt)
    yield loaded
    loaded.page.close()


def test_page_loads_from_file_without_network_requests(loaded_en):
    page_url = loaded_en.index.as_uri()
    assert loaded_en.page.url == page_url
    others = [u for u in loaded_en.requests if u != page_url and not u.startswith("data:")]
    assert others == [], f"the report requested {others}"
    assert loaded_en.failed == []
    assert loaded_en.console_errors == []  # e.g. a resource blocked by the page's CSP


def test_page_has_a_title(loaded_en):
    assert loaded_en.page.title().strip()
    assert loaded_en.js("document.querySelector('h1').textContent.trim()")


def test_every_image_renders(loaded_en):
    images = loaded_en.js(
        "Array.from(document.images, i => ({src: i.src.slice(0, 22), complete: i.complete,"
        " w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width}))"
    )
    assert images, "the report has no images"
    for img in images:
        assert img["src"] == "data:image/png;base64,"
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img
        assert img["shown"] > 0, img
    n_figures = sum(len(r["figures"]) for r in _records(loaded_en.index.parent))
    assert len(images) == n_figures


def test_images_fit_a_phone_screen(browser, tour_en):
    """Responsive: at 390 px wide no figure is wider than the viewport."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto((tour_en / "index.html").as_uri(), wait_until="load")
        widths = page.evaluate("Array.from(document.images, i => i.getBoundingClientRect().right)")
        assert widths and max(widths) <= 390
        assert page.evaluate("document.querySelector('meta[name=viewport]') !== null")
    finally:
        page.close()


def test_every_experiment_is_present_in_the_lectures_order(loaded_en):
    records = _records(loaded_en.index.parent)
    shown = loaded_en.js(
        "Array.from(document.querySelectorAll('section.experiment'), s => ({id: s.id,"
        " title: s.querySelector('h3').textContent.trim(),"
        " part: s.closest('section.part').id, figures: s.querySelectorAll('img').length}))"
    )
    assert [s["id"] for s in shown] == [e.name for e in tour_order()]
    for s, r in zip(shown, records, strict=True):
        assert s["title"] == r["title"]
        assert s["part"] == "part-" + r["lecture_section"].split(".")[0]
        assert s["figures"] == len(r["figures"])
    parts = loaded_en.js("Array.from(document.querySelectorAll('section.part'), s => s.id)")
    numbers = [int(p.removeprefix("part-")) for p in parts]
    assert numbers == sorted(set(numbers))


def test_table_of_contents_links_to_every_section(loaded_en):
    links = loaded_en.js("Array.from(document.querySelectorAll('nav.toc a'), a => a.hash)")
    ids = loaded_en.js(
        "Array.from(document.querySelectorAll('section.part, section.experiment'), s => s.id)"
    )
    assert links == ["#" + i for i in ids]


def test_header_states_seed_versions_and_time(loaded_en):
    facts = loaded_en.js("document.querySelector('header .facts').textContent")
    version = _records(loaded_en.index.parent)[0]["versions"]
    assert "seed 0" in facts and "total time" in facts
    for v in version.values():
        assert v in facts


def test_portuguese_report_has_portuguese_headings(loaded_pt):
    assert loaded_pt.js("document.documentElement.lang") == "pt"
    assert loaded_pt.page.title().strip()
    records = _records(loaded_pt.index.parent)
    headings = loaded_pt.js(
        "Array.from(document.querySelectorAll('section.part > h2'), h => h.firstChild.textContent)"
    )
    sections = sorted({r["lecture_section"].split(".")[0] for r in records}, key=int)
    assert headings == [f"§{s} {SECTIONS.get(s, (None, f'Seção {s}'))[1]}" for s in sections]
    titles = loaded_pt.js(
        "Array.from(document.querySelectorAll('section.experiment h3'), h => h.textContent)"
    )
    assert titles == [r["title"] for r in records]
    assert all(r["lang"] == "pt" for r in records)
    assert loaded_pt.js("document.querySelector('nav.toc h2').textContent") == "Sumário"
    body = loaded_pt.js("document.body.innerText")
    assert "Afirmação" in body and "Reproduzir" in body and "semente" in body
    assert "Claim" not in body and "Rerun" not in body
