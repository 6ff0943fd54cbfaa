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


@pytest.fixture(scope="module")
def tour_en(quick_tour) -> Path:
    return quick_tour("en").out


@pytest.fixture(scope="module")
def tour_pt(quick_tour) -> Path:
    return quick_tour("pt").out


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


# ---------------------------------------------------------------- what the report says


def test_each_claim_is_followed_by_its_headline_table(loaded_en):
    shown = loaded_en.js(
        "Array.from(document.querySelectorAll('section.experiment'), s => {"
        " const c = s.querySelector('p.claim'); const t = s.querySelector('table.headline');"
        " return {id: s.id, follows: !!(c && t && c.nextElementSibling.contains(t)),"
        " heads: t ? Array.from(t.rows[0].cells, x => x.textContent) : [],"
        " rows: t ? Array.from(t.rows).slice(1).map(r => Array.from(r.cells, x => x.textContent))"
        " : []}; })"
    )
    records = {r["experiment"]: r for r in _records(loaded_en.index.parent)}
    for s in shown:
        headline = records[s["id"]]["headline"]
        assert s["follows"], s["id"]
        assert s["heads"][1:] == ["the lecture says", "measured here", "holds?"]
        marks = {True: "✓", False: "✗", None: "—"}
        assert s["rows"] == [
            [r["what"], r["lecture"], r["measured"], marks[r["holds"]]] for r in headline
        ]


def test_every_measured_number_is_in_a_collapsed_labelled_table(loaded_en):
    blocks = loaded_en.js(
        "Array.from(document.querySelectorAll('section.experiment'), s => {"
        " const d = s.querySelector('details');"
        " return {id: s.id, open: d ? d.open : null, shown: d ?"
        " d.querySelector('table').checkVisibility() : null,"
        " labels: d ? Array.from(d.querySelectorAll('tr td:first-child'), x => x.textContent)"
        " : [], values: d ? Array.from(d.querySelectorAll('tr td+td'), x => x.textContent)"
        " : []}; })"
    )
    for b in blocks:
        assert b["open"] is False, b["id"]  # collapsed: the page reads like the lecture
        assert b["shown"] is False, b["id"]
        assert b["labels"], b["id"]
        assert not [x for x in b["labels"] if "_" in x.split(" › ")[0]], b["id"]
        assert not [v for v in b["values"] if v.endswith("...") or v.endswith("…")], b["id"]


def test_figure_captions_say_what_to_look_at_not_a_file_name(loaded_en):
    captions = loaded_en.js(
        "Array.from(document.querySelectorAll('figcaption'), c => c.textContent)"
    )
    assert captions and all(".png" not in c for c in captions)
    assert all(re.match(r"Figure \d+\. \S", c) for c in captions), captions[:3]


def test_run_writes_the_same_page_for_one_experiment(browser, tmp_path, capsys):
    assert main(["run", "and", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    page = tmp_path / "and" / "index.html"
    assert f"page: {page}" in out
    html = page.read_text("utf-8")
    assert 'section class="experiment" id="and"' in html and 'class="headline"' in html
    assert "<details>" in html and "data:image/png;base64," in html
    opened = browser.new_page()
    try:
        opened.goto(page.as_uri(), wait_until="load")
        assert opened.evaluate("document.querySelectorAll('section.experiment').length") == 1
        assert opened.evaluate("Array.from(document.images).every(i => i.naturalWidth > 0)")
    finally:
        opened.close()
    readme = (tmp_path / "and" / "README.md").read_text("utf-8")
    for target in re.findall(r"\]\(([^)]*\.png)\)", readme):
        assert (tmp_path / "and" / target).is_file(), target


def test_console_lines_report_results_not_settings(quick_tour, capsys):
    from mlplab.experiments.report import result_line
    from mlplab.i18n import T

    record = quick_tour("en").record("xor")
    line = "[xor] " + result_line(record, T("en"))  # what `mlplab tour` and `run` print
    assert line.startswith("[xor] ") and "accuracy" in line.lower()
    assert "n_samples=" not in line and "nodes=" not in line
    assert re.search(r"\d+/\d+ hold", line)


# ---------------------------------------------------------------- the README's tour table

ROOT = Path(__file__).resolve().parents[1]


def _readme_tour():
    import importlib.util

    spec = importlib.util.spec_from_file_location("readme_tour", ROOT / "scripts/readme_tour.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tour_table_is_the_one_written_from_the_recorded_run():
    from mlplab.experiments.report import replace_table, tour_table

    runs = json.loads((ROOT / "docs" / "tour-run.json").read_text("utf-8"))
    assert [r["experiment"] for r in runs] == [e.name for e in tour_order()]
    assert not any(r["quick"] for r in runs)  # the README shows the full run
    readme = (ROOT / "README.md").read_text("utf-8")
    assert replace_table(readme, tour_table(runs)) == readme


def test_readme_tour_script_on_the_quick_run(tour_en, tmp_path, capsys):
    script = _readme_tour()
    readme, summary = tmp_path / "README.md", tmp_path / "tour-run.json"
    readme.write_text((ROOT / "README.md").read_text("utf-8"), "utf-8")
    args = [str(tour_en), "--readme", str(readme), "--summary", str(summary)]
    with pytest.raises(SystemExit):  # a quick run is refused without --allow-quick
        script.main(args)
    assert script.main([*args, "--allow-quick", "--check"]) == 1  # the README has the full run
    assert script.main([*args, "--allow-quick"]) == 0
    assert script.main([*args, "--allow-quick", "--check"]) == 0
    text = readme.read_text("utf-8")
    for r in _records(tour_en):
        row = next(x for x in text.splitlines() if x.startswith(f"| `{r['experiment']}` |"))
        for h in r["headline"]:
            assert h["measured"].replace("|", "\\|") in row, (r["experiment"], h)
    assert json.loads(summary.read_text("utf-8"))[0]["headline"] == _records(tour_en)[0]["headline"]
    capsys.readouterr()
