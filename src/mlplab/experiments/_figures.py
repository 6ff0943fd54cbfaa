"""The experiments' figures: written as PNG, atomically, and checked for legibility.

A figure is shown in the report at most :data:`DISPLAY_WIDTH` CSS pixels wide, so a
wide figure is scaled down and its text with it. :func:`legibility_problems` says
what a reader could not read there: text smaller than :data:`MIN_POINTS` at the
report's width, or a legend drawn over the data (a line or a point under it).
:func:`save_figure` warns (:class:`FigureLegibilityWarning`) of each; the test suite
turns the warning into an error on the whole tour, in both languages.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlplab.display import localise_ticks
from mlplab.io import atomic_write

#: Pixels per inch of the PNGs.
DPI = 100
#: The report's content width in CSS pixels (report.CSS: body max-width 1100px, padding
#: 1em each side, the image's 1px border).
DISPLAY_WIDTH = 1066
#: The smallest text, in CSS points, at the width a figure is shown in the report.
MIN_POINTS = 8.0
_PAD_INCHES = 0.1  # savefig's bbox_inches="tight" margin


_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("figure_language", default="en")


@contextlib.contextmanager
def figure_language(lang: str) -> Iterator[None]:
    """Within it, :func:`save_figure` writes tick labels as ``lang`` writes numbers
    (Portuguese: "0,5"); ``run_experiment`` runs every experiment inside it."""
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


class FigureLegibilityWarning(UserWarning):
    """A figure has text too small to read in the report, or a legend over its data."""


def save_figure(fig: Any, path: Path) -> None:
    """Render a matplotlib figure to PNG and write it atomically; warn of what a reader
    could not read (see :func:`legibility_problems`)."""
    import matplotlib.pyplot as plt

    localise_ticks(fig, _LANG.get())
    for problem in legibility_problems(fig):
        warnings.warn(f"{Path(path).name}: {problem}", FigureLegibilityWarning, stacklevel=2)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=_PAD_INCHES)
    plt.close(fig)
    atomic_write(str(path), buf.getvalue())


def shown_scale(fig: Any) -> float:
    """How much the report scales the figure's PNG down (1: shown at its own size)."""
    renderer = fig.canvas.get_renderer()
    width = (fig.get_tightbbox(renderer).width + 2 * _PAD_INCHES) * DPI
    return min(1.0, DISPLAY_WIDTH / width)


def legibility_problems(fig: Any) -> list[str]:
    """What a reader of the report could not read in ``fig``, one sentence each."""
    from matplotlib.text import Text

    fig.canvas.draw()  # lay out legends and tick labels as they will be saved
    renderer = fig.canvas.get_renderer()
    scale = shown_scale(fig)
    points_per_font_point = scale * DPI / 96  # CSS: 96 px per inch
    problems = []
    small: dict[float, list[str]] = {}
    for text in fig.findobj(Text):
        label = text.get_text().strip()
        if not label or not text.get_visible():
            continue
        shown = text.get_fontsize() * points_per_font_point
        if shown < MIN_POINTS:
            small.setdefault(round(shown, 1), []).append(label)
    for shown, labels in sorted(small.items()):
        some = ", ".join(repr(x) for x in labels[:3]) + (" …" if len(labels) > 3 else "")
        problems.append(
            f"{len(labels)} text(s) shown at {shown} pt, under {MIN_POINTS:g} pt ({some}); "
            f"the figure is scaled to {scale:.0%} in the report"
        )
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_visible() and _covers_data(legend, [ax], renderer):
            problems.append(f"the legend of {_name(ax)!r} covers its data")
    for legend in fig.legends:
        if legend.get_visible() and _covers_data(legend, fig.axes, renderer):
            problems.append("the figure's legend covers data")
    return problems


def _name(ax: Any) -> str:
    return ax.get_title() or ax.get_label() or "an axes"


def _covers_data(legend: Any, axes: list[Any], renderer: Any) -> bool:
    """Whether a line, a marker or a scatter point of ``axes`` lies under ``legend``."""
    import numpy as np
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.transforms import Bbox

    box = legend.get_window_extent(renderer)
    for ax in axes:
        if ax.name != "rectilinear":  # 3-D and polar axes: projections not checked
            continue
        inside = Bbox.intersection(box, ax.bbox)
        if inside is None or inside.width <= 0 or inside.height <= 0:
            continue
        for line in ax.get_lines():
            if line.get_visible() and _line_under(line, inside):
                return True
        for coll in ax.collections:
            if not coll.get_visible():
                continue
            if isinstance(coll, PathCollection):
                offsets = coll.get_offset_transform().transform(coll.get_offsets())
                if _contains(inside, offsets[np.all(np.isfinite(offsets), axis=1)]):
                    return True
            elif isinstance(coll, LineCollection):
                for p in coll.get_paths():
                    if coll.get_transform().transform_path(p).intersects_bbox(inside, False):
                        return True
    return False


def _line_under(line: Any, box: Any) -> bool:
    """Whether a drawn segment or a marker of ``line`` lies inside ``box``."""
    import numpy as np

    path = line.get_transform().transform_path(line.get_path())
    xy = path.vertices
    finite = np.all(np.isfinite(xy), axis=1)
    drawn = line.get_linestyle() not in ("None", "none", "", " ")
    if drawn and finite.all() and len(xy) > 1:
        return bool(path.intersects_bbox(box, filled=False))
    return _contains(box, xy[finite])


def _contains(box: Any, xy: Any) -> bool:
    """Whether any point of ``xy`` (display coordinates) lies inside ``box``."""
    if len(xy) == 0:
        return False
    x, y = xy[:, 0], xy[:, 1]
    return bool(((x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)).any())
