"""Registry of experiments and the files they write."""

from __future__ import annotations

import io
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import check_choice
from ..io import _atomic_write


@dataclass(frozen=True)
class Experiment:
    """A named experiment: ``func(out_dir, seed=..., quick=...) -> metrics``."""

    name: str
    summary: str
    section: str  # where the lecture makes the claim
    func: Callable[..., dict[str, Any]]


EXPERIMENTS: dict[str, Experiment] = {}


def register(name: str, summary: str, section: str) -> Callable:
    """Decorator adding an experiment to the tour (in registration order)."""

    def deco(func: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        EXPERIMENTS[name] = Experiment(name, summary, section, func)
        return func

    return deco


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    _atomic_write(str(path), (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def save_figure(fig: Any, path: Path) -> None:
    """Render a matplotlib figure to PNG and write it atomically."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    _atomic_write(str(path), buf.getvalue())


def run_experiment(
    name: str, out: str | Path = "mlplab-report", *, seed: int = 0, quick: bool = False
) -> dict[str, Any]:
    """Run one experiment, write its files under ``out/name`` and return its metrics."""
    import matplotlib

    matplotlib.use("Agg")
    from .. import __version__

    check_choice("experiment", name, EXPERIMENTS)
    exp = EXPERIMENTS[name]
    out_dir = Path(out) / name
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    metrics = exp.func(out_dir, seed=seed, quick=quick)
    record = {
        "experiment": name,
        "lecture_section": exp.section,
        "seed": seed,
        "quick": quick,
        "seconds": round(time.perf_counter() - t0, 3),
        "versions": {
            "mlplab": __version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "metrics": metrics,
        "figures": sorted(p.name for p in out_dir.glob("*.png")),
    }
    write_json(out_dir / "metrics.json", record)
    return record
