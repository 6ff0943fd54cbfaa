"""What the report says of every experiment, in both languages: the headline table
("the lecture says / measured here / holds?"), a caption for every figure that says what
to look at, a label for people for every metric, and figures a reader can read at the
report's width (no text under 8 pt, no legend over data: FigureLegibilityWarning).

The checks read the session's quick tours (one per language, run once through the CLI) and
are parametrised by experiment, so a failing experiment is named.
"""

from __future__ import annotations

import re

import pytest

from mlplab.experiments import EXPERIMENTS, tour_order
from mlplab.experiments._registry import HEADLINE_ROWS

NAMES = [e.name for e in tour_order()]
DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.\d")  # "0.25": Portuguese writes "0,25"


@pytest.fixture(scope="module", params=NAMES)
def runs(request, quick_tour):
    """``{lang: (record, legibility problems)}`` of one experiment, from the session's tours."""
    return {
        lang: (quick_tour(lang).record(request.param), quick_tour(lang).problems[request.param])
        for lang in ("en", "pt")
    }


def test_headline_rows_say_what_the_lecture_says_and_what_was_measured(runs):
    lo, hi = HEADLINE_ROWS
    holds = {}
    for lang, (record, _) in runs.items():
        rows = record["headline"]
        assert lo <= len(rows) <= hi, (lang, rows)
        for row in rows:
            assert row["what"].strip() and row["lecture"].strip() and row["measured"].strip()
            assert row["holds"] in (True, False, None), row
            assert "_" not in row["what"], f"a key, not a plain name: {row['what']!r}"
        assert any(row["holds"] is not None for row in rows), "nothing is checked"
        holds[lang] = [row["holds"] for row in rows]
    assert holds["en"] == holds["pt"]  # one measurement, two languages


def test_every_figure_has_a_caption_that_says_what_to_look_at(runs):
    for lang, (record, _) in runs.items():
        assert record["figures"], "the experiment drew no figure"
        assert sorted(record["captions"]) == sorted(record["figures"])
        for fig, text in record["captions"].items():
            assert ".png" not in text and len(text.split()) >= 8, (lang, fig, text)


def test_every_metric_has_a_label_in_both_languages(runs):
    record, _ = runs["en"]
    labels = EXPERIMENTS[record["experiment"]].labels
    missing = sorted(set(record["metrics"]) - set(labels))
    assert not missing, f"metrics without a label: {missing}"
    for key, (en, pt) in labels.items():
        assert en.strip() and pt.strip() and "_" not in en + pt, (key, en, pt)


def test_portuguese_texts_write_a_decimal_comma(runs):
    record, _ = runs["pt"]
    texts = [r[k] for r in record["headline"] for k in ("lecture", "measured")]
    texts += list(record["captions"].values())
    wrong = [t for t in texts if DECIMAL_POINT.search(t)]
    assert not wrong, wrong


def test_figures_are_legible_at_the_reports_width(runs):
    for lang, (_, problems) in runs.items():
        assert not problems, f"{lang}: " + "\n".join(problems)
