"""The experiments' figure checks: text too small at the report's width, a legend over the
data, and tick labels in the report's language."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlplab.experiments._figures import (  # noqa: E402
    DISPLAY_WIDTH,
    FigureLegibilityWarning,
    figure_language,
    legibility_problems,
    save_figure,
    shown_scale,
)


def _lines(figsize=(6, 4)):
    fig, ax = plt.subplots(figsize=figsize)
    x = np.linspace(0, 1, 50)
    ax.plot(x, x, label="rising")
    ax.plot(x, 1 - x, label="falling")
    ax.set_title("two lines")
    return fig, ax


def test_a_figure_at_its_own_size_with_a_legend_in_a_free_corner_is_legible():
    fig, ax = _lines()
    ax.set_ylim(0, 2)  # the upper half is empty
    ax.legend(loc="upper center")
    assert legibility_problems(fig) == []
    plt.close(fig)


def test_a_wide_figure_scales_its_text_below_8_points():
    fig, ax = _lines(figsize=(24, 4))  # 2400 px, shown at 1066 px: 10 pt text at ~4.6 pt
    assert shown_scale(fig) < DISPLAY_WIDTH / 1800  # its tight width is still > 1800 px
    problems = legibility_problems(fig)
    assert problems and all("under 8 pt" in p for p in problems)
    assert any("'two lines'" in p for p in problems)
    plt.close(fig)


def test_a_legend_over_a_line_is_found_and_one_outside_the_axes_is_not():
    fig, ax = _lines()
    ax.legend(loc="center")  # the two lines cross at the centre
    assert legibility_problems(fig) == ["the legend of 'two lines' covers its data"]
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    assert legibility_problems(fig) == []
    plt.close(fig)


def test_a_legend_over_scatter_points_is_found():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([0.5], [0.5], label="one point")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    assert any("covers its data" in p for p in legibility_problems(fig))
    plt.close(fig)


def test_save_figure_warns_of_each_problem_and_still_writes(tmp_path):
    fig, ax = _lines(figsize=(24, 4))
    ax.legend(loc="center")
    with pytest.warns(FigureLegibilityWarning) as caught:
        save_figure(fig, tmp_path / "wide.png")
    assert {str(w.message).split(":")[0] for w in caught} == {"wide.png"}
    assert any("covers its data" in str(w.message) for w in caught)
    assert (tmp_path / "wide.png").read_bytes()[:4] == b"\x89PNG"


def test_portuguese_figures_write_tick_labels_with_a_decimal_comma(tmp_path):
    labels = {}
    for lang in ("en", "pt"):
        fig, ax = _lines()
        ax.set_ylim(0, 2)
        with figure_language(lang), warnings.catch_warnings():
            warnings.simplefilter("error", FigureLegibilityWarning)
            save_figure(fig, tmp_path / f"{lang}.png")
        labels[lang] = [t.get_text() for t in ax.get_yticklabels()]
    assert "0.50" in labels["en"] and "0,50" in labels["pt"]
    assert not any("." in x for x in labels["pt"])
