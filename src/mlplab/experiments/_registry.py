"""Registry of experiments and the files they write (the languages: :mod:`mlplab.i18n`).

An experiment is a module with three functions: ``compute(...)`` measures and
returns a :class:`Result` (metrics and the arrays its figures need, no
matplotlib), ``draw(result, t, out_dir)`` saves its PNG figures into ``out_dir``
(with :func:`save_figure`), and the registered
``run(out_dir, *, seed, quick, lang, **options)`` wires the two and returns the
measured figures as a JSON-able dict.
``run_experiment`` adds the seed, the versions and the timing and writes
``out_dir/metrics.json`` atomically. Options are the function's own keyword
arguments (``mlplab run xor --set hidden=3``).

What the report shows of an experiment is declared at registration, beside its
claim: ``headline(metrics, t)`` gives 3 to 8 :class:`Row` s, "the lecture says /
measured here / holds?"; ``captions(metrics, t)`` says, for every figure, what to
look at (the report shows the figures in this order); ``labels`` names the metrics
for people (``{"key": (en, pt)}``), for the report's collapsed table of every
measured number.
"""

from __future__ import annotations

import inspect
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_choice
from mlplab.experiments._figures import (  # save_figure: the experiments' import
    figure_language,
    save_figure,  # noqa: F401
)
from mlplab.i18n import LANGS, T  # noqa: F401  (T: re-exported by mlplab.experiments)
from mlplab.io import atomic_write


@dataclass(frozen=True)
class Row:
    """One headline row of an experiment: what is measured (a plain name, with its unit),
    what the lecture says of it, what this run measured, and whether the claim holds
    (None: the lecture gives nothing to check it against; the row only reports)."""

    what: str
    lecture: str
    measured: str
    holds: bool | None = None


#: The headline of an experiment has this many rows.
HEADLINE_ROWS = (3, 8)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment and the texts the report shows for it."""

    name: str
    section: str  # the lecture's section ("2", "7", ...); the tour runs in this order
    title: dict[str, str]
    claim: dict[str, str]  # the lecture's claim this experiment measures
    func: Callable[..., dict[str, Any]]
    order: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # keyword options and defaults
    headline: Callable[[dict[str, Any], T], list[Row]] | None = None
    captions: Callable[[dict[str, Any], T], dict[str, str]] | None = None
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    def summary(self, lang: str = "en") -> str:
        return self.title[lang]


EXPERIMENTS: dict[str, Experiment] = {}


def register(
    name: str,
    *,
    section: str,
    title: dict[str, str],
    claim: dict[str, str],
    order: int = 0,
    headline: Callable[[dict[str, Any], T], list[Row]] | None = None,
    captions: Callable[[dict[str, Any], T], dict[str, str]] | None = None,
    labels: dict[str, tuple[str, str]] | None = None,
) -> Callable:
    """Decorator adding an experiment to the tour, which runs by (section, order); see the
    module's docstring for ``headline``, ``captions`` and ``labels``."""

    def deco(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        for what, texts in (("title", title), ("claim", claim)):
            missing = set(LANGS) - set(texts)
            if missing:
                raise ValueError(f"experiment {name!r}: {what} lacks {sorted(missing)}")
        params = inspect.signature(func).parameters
        options = {
            k: p.default
            for k, p in params.items()
            if p.kind is p.KEYWORD_ONLY and k not in ("seed", "quick", "lang")
        }
        EXPERIMENTS[name] = Experiment(
            name, section, title, claim, func, order, options, headline, captions, labels or {}
        )
        return func

    return deco


def tour_order() -> list[Experiment]:
    """Experiments in the lecture's order."""

    def key(e: Experiment) -> tuple:
        major, _, minor = e.section.partition(".")
        return (int(major), int(minor or 0), e.order, e.name)

    return sorted(EXPERIMENTS.values(), key=key)


@dataclass
class Result:
    """What an experiment's ``compute`` returns: ``metrics`` (JSON-able, what ``run``
    returns and ``metrics.json`` records) and ``data`` (the arrays and values its
    ``draw`` needs for the figures; never written)."""

    metrics: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    text = json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n"
    atomic_write(str(path), text.encode())


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def run_experiment(
    name: str,
    out: str | Path = "mlplab-report",
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    **options: Any,
) -> dict[str, Any]:
    """Run one experiment, write its files under ``out/name`` and return its record."""
    import matplotlib

    matplotlib.use("Agg")
    from mlplab._version import __version__

    check_choice("experiment", name, EXPERIMENTS)
    check_choice("lang", lang, LANGS)
    exp = EXPERIMENTS[name]
    unknown = sorted(set(options) - set(exp.options))
    if unknown:
        valid = ", ".join(f"{k}={v!r}" for k, v in exp.options.items()) or "none"
        raise ValueError(
            f"experiment {name!r} has no option {', '.join(unknown)}. Its options: {valid}."
        )
    out_dir = Path(out) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with figure_language(lang):
        metrics = exp.func(out_dir, seed=seed, quick=quick, lang=lang, **options)
    written = {p.name for p in out_dir.glob("*.png")}
    captions = _captions(exp, metrics, T(lang), written)
    figures = [f for f in captions if f in written] + sorted(written - set(captions))
    record = {
        "experiment": name,
        "lecture_section": exp.section,
        "title": exp.title[lang],
        "claim": exp.claim[lang],
        "seed": seed,
        "quick": quick,
        "lang": lang,
        "options": {**exp.options, **options},
        "seconds": round(time.perf_counter() - t0, 3),
        "versions": {
            "mlplab": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "metrics": metrics,
        "headline": _headline(exp, metrics, T(lang)),
        "figures": figures,
        "captions": captions,
        "command": _command(name, seed, quick, lang, options),
    }
    write_json(out_dir / "metrics.json", record)
    return record


def _headline(exp: Experiment, metrics: dict[str, Any], t: T) -> list[dict[str, Any]]:
    """The experiment's headline rows as JSON (none if it declares no headline)."""
    if exp.headline is None:
        return []
    rows = exp.headline(metrics, t)
    lo, hi = HEADLINE_ROWS
    if not lo <= len(rows) <= hi or not all(isinstance(r, Row) for r in rows):
        raise RuntimeError(
            f"experiment {exp.name!r}: its headline must be {lo} to {hi} Rows, got {rows!r}"
        )
    return [
        {"what": r.what, "lecture": r.lecture, "measured": r.measured, "holds": r.holds}
        for r in rows
    ]


def _captions(exp: Experiment, metrics: dict[str, Any], t: T, figures: set[str]) -> dict[str, str]:
    """A caption for every figure the experiment wrote, in the order the experiment declares
    them (the report's order); none if it declares no captions."""
    if exp.captions is None:
        return {}
    captions = exp.captions(metrics, t)
    missing = sorted(figures - set(captions))
    if missing:
        raise RuntimeError(f"experiment {exp.name!r}: no caption for {', '.join(missing)}")
    return {fig: text for fig, text in captions.items() if fig in figures}


def _command(name: str, seed: int, quick: bool, lang: str, options: dict[str, Any]) -> str:
    parts = ["mlplab", "run", name, "--seed", str(seed)]
    if quick:
        parts.append("--quick")
    if lang != "en":
        parts += ["--lang", lang]
    for k, v in options.items():
        parts += ["--set", f"{k}={json.dumps(v)}"]
    return " ".join(parts)
