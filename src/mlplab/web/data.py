"""A session's data: the generators, the seeded split, CSV uploads.

AND, XOR, circles and the lecture functions come from :mod:`mlplab.datasets`; spiral, moons and
blobs are the playground's own. The generators are plain numpy functions: the snippet
(:mod:`mlplab.web.snippet`) copies their source, so it rebuilds exactly the same data.

* CSV: 3 columns (x1, x2, integer class label; labels are mapped to 0..k-1 in sorted
  order, 2 to 10 classes) or 2 columns (x, numeric target: regression). A header line
  is optional; delimiter comma, semicolon, tab or spaces; '#' lines are skipped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import mlplab
from mlplab.web.config import (
    DATASETS,
    LIMITS,
    MAX_CLASSES,
    MAX_COORD,
    ConfigError,
    TooLargeError,
    invalid,
    show,
)

__all__ = [
    "Data",
    "blobs",
    "domain",
    "function_data",
    "generate",
    "generate_source",
    "make_data",
    "moons",
    "parse_csv",
    "spiral",
    "split_data",
]


# ------------------------------------------------------------------------------- datasets
def spiral(n_samples, noise, seed):
    """Two interleaved spirals of 1.5 turns (radius 0.05 to 1), Gaussian noise 0.2 * noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % 2
    r = rng.uniform(0.05, 1.0, n_samples)
    t = 3 * np.pi * r + np.pi * y  # the second arm is the first one turned by 180 degrees
    X = np.c_[r * np.cos(t), r * np.sin(t)]
    X += 0.2 * noise * rng.standard_normal(X.shape)
    return X, y


def moons(n_samples, noise, seed):
    """scikit-learn's two interleaving half circles, Gaussian noise of std ``noise``."""
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X, y.astype(np.int64)


def blobs(n_samples, noise, seed, classes=2):
    """``classes`` Gaussian blobs (std 0.3 + noise) centred on a circle of radius 1.5."""
    rng = np.random.default_rng(seed)
    angles = np.pi / 4 + 2 * np.pi * np.arange(classes) / classes
    centres = 1.5 * np.c_[np.cos(angles), np.sin(angles)]
    y = np.arange(n_samples) % classes
    rng.shuffle(y)
    X = centres[y] + (0.3 + noise) * rng.standard_normal((n_samples, 2))
    return X, y


def function_data(name, n_samples, noise, seed):
    """A lecture function on its interval (linspace), targets + noise * std(y) * N(0, 1)."""
    X, y = mlplab.datasets.function(name, n_samples)
    if noise > 0:
        rng = np.random.default_rng(seed)
        y = y + noise * y.std() * rng.standard_normal(y.shape)
    return X, y


def split_data(X, y, test_fraction, seed):
    """A seeded random split: round(test_fraction * n) test samples, the rest for training."""
    n = X.shape[0]
    perm = np.random.default_rng([seed, 1]).permutation(n)
    n_test = min(int(round(test_fraction * n)), n - 1)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    return X[train], y[train], X[test], y[test]


_FUNCTIONS = {"square": "x2", "inverse": "inv", "sin": "sin", "log10": "log10", "expneg": "exp"}


def generate(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X, y of the generated dataset ``name`` (any key of ``DATASETS`` but "csv")."""
    if name in ("and", "xor"):
        return mlplab.datasets.logic_gate(name, n_samples=n, noise=noise, seed=seed)
    if name == "circles":
        return mlplab.datasets.circles(n_samples=n, noise=noise, factor=0.5, seed=seed)
    if name == "spiral":
        return spiral(n, noise, seed)
    if name == "moons":
        return moons(n, noise, seed)
    if name in ("blobs", "multiblobs"):
        return blobs(n, noise, seed, classes=3 if name == "multiblobs" else 2)
    return function_data(_FUNCTIONS[name], n, noise, seed)


def generate_source(cfg: dict[str, Any]) -> tuple[list[Any], str]:
    """(helper functions, the call) that rebuild ``generate``'s X, y in the snippet."""
    name, n, noise = cfg["dataset"], cfg["n_samples"], cfg["noise"]
    if name in ("and", "xor"):
        call = f'mlplab.datasets.logic_gate("{name}", n_samples={n}, noise={noise!r}, seed=SEED)'
        return [], call
    if name == "circles":
        call = f"mlplab.datasets.circles(n_samples={n}, noise={noise!r}, factor=0.5, seed=SEED)"
        return [], call
    if name in ("spiral", "moons"):
        return [spiral if name == "spiral" else moons], f"{name}({n}, {noise!r}, SEED)"
    if name in ("blobs", "multiblobs"):
        k = 3 if name == "multiblobs" else 2
        return [blobs], f"blobs({n}, {noise!r}, SEED, classes={k})"
    return [function_data], f'function_data("{_FUNCTIONS[name]}", {n}, {noise!r}, SEED)'


# ----------------------------------------------------------------------------------- CSV
def parse_csv(
    text: Any, limits: dict[str, int] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Parse CSV text into (X, y, classes): classes 0 for 2 columns (regression), else k."""
    lim = {**LIMITS, **(limits or {})}
    lines = _csv_lines(text, lim["csv_bytes"])
    lines, rows = _csv_rows(lines, lim["n_samples"])
    ncol = _csv_columns(lines, rows)
    data = _csv_numbers(lines, rows)
    if data.shape[0] < 4:
        raise ConfigError(f"csv: at least 4 data rows needed; received {data.shape[0]}.", "csv")
    X, t = data[:, :-1], data[:, -1]
    if ncol == 2:
        return np.ascontiguousarray(X), t.copy(), 0
    labels, classes = _csv_labels(lines, t)
    return np.ascontiguousarray(X), labels, classes


def _csv_lines(text: Any, max_bytes: int) -> list[tuple[int, str]]:
    """(line number, stripped line) of the text's lines that are neither blank nor '#'."""
    if not isinstance(text, str):
        raise invalid("csv", "text", text)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate: not text a file can hold
        raise ConfigError(
            f"csv: the text is not valid Unicode (character {exc.start + 1} is a lone "
            "surrogate); upload the file as UTF-8.",
            "csv",
        ) from None
    if size > max_bytes:
        raise TooLargeError(
            f"csv: the text is {size} bytes; the limit is {max_bytes} bytes "
            f"({max_bytes // 1024} KiB).",
            "csv",
        )
    lines = [
        (no, line.strip())
        for no, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        raise ConfigError("csv: no data rows (the text is empty).", "csv")
    return lines


def _cells(line: str, delim: str | None) -> list[str]:
    """A line's stripped cells (``delim`` None: split at white space)."""
    return [c.strip() for c in (line.split(delim) if delim else line.split())]


def _numeric(cells: list[str]) -> bool:
    """Whether every cell is a number for Python's float()."""
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def _csv_rows(
    lines: list[tuple[int, str]], max_rows: int
) -> tuple[list[tuple[int, str]], list[list[str]]]:
    """(the data lines, their cells): the header (a first line not all numbers) dropped.

    The delimiter is the first line's: comma, semicolon or tab, else white space.
    """
    first = lines[0][1]
    delim = next((d for d in (",", ";", "\t") if d in first), None)
    if not _numeric(_cells(first, delim)):
        lines = lines[1:]  # a header
        if not lines:
            raise ConfigError("csv: a header but no data rows.", "csv")
    if len(lines) > max_rows:
        raise ConfigError(f"csv: {len(lines)} rows; the limit is {max_rows} rows.", "csv")
    return lines, [_cells(line, delim) for _, line in lines]


def _csv_columns(lines: list[tuple[int, str]], rows: list[list[str]]) -> int:
    """The number of columns (2 or 3), the same on every row."""
    ncol = len(rows[0])
    if ncol not in (2, 3):
        raise ConfigError(
            f"csv: 2 columns (x, target) or 3 columns (x1, x2, label) expected; line "
            f"{lines[0][0]} has {ncol}: {show(lines[0][1])}.",
            "csv",
        )
    for (no, line), cs in zip(lines, rows, strict=True):
        if len(cs) != ncol:
            raise ConfigError(
                f"csv: line {no} has {len(cs)} columns, expected {ncol}: {show(line)}.", "csv"
            )
    return ncol


def _csv_numbers(lines: list[tuple[int, str]], rows: list[list[str]]) -> np.ndarray:
    """The cells as a float64 array; the first cell that is not a finite number in
    [-MAX_COORD, MAX_COORD] raises, naming its line and column."""
    try:
        data = np.array(rows, dtype=np.float64)
    except ValueError:
        data = None
    if data is None or not np.isfinite(data).all() or (np.abs(data) > MAX_COORD).any():
        for (no, _), cs in zip(lines, rows, strict=True):  # find the first bad cell
            for col, c in enumerate(cs, start=1):
                try:
                    v = float(c)
                except ValueError:
                    raise ConfigError(
                        f"csv: line {no}, column {col}: {show(c)} is not a number.", "csv"
                    ) from None
                if not math.isfinite(v) or abs(v) > MAX_COORD:
                    raise ConfigError(
                        f"csv: line {no}, column {col}: {show(c)} is not a finite number "
                        f"with |value| <= {MAX_COORD:g}.",
                        "csv",
                    )
    if data is None:  # numpy refused a spelling Python's float() accepts (e.g. "1_000")
        data = np.array([[float(c) for c in cs] for cs in rows], dtype=np.float64)
    return data


def _csv_labels(lines: list[tuple[int, str]], t: np.ndarray) -> tuple[np.ndarray, int]:
    """(labels 0..k-1 in the sorted order of the label column ``t``, k)."""
    bad = np.flatnonzero(t != np.round(t))
    if bad.size:
        no = lines[int(bad[0])][0]
        raise ConfigError(
            f"csv: with 3 columns the last one holds class labels (integers); line {no} "
            f"has {t[bad[0]]:g}.",
            "csv",
        )
    values, labels = np.unique(t, return_inverse=True)
    if not 2 <= values.size <= MAX_CLASSES:
        raise ConfigError(
            f"csv: 2 to {MAX_CLASSES} classes expected in the label column; received "
            f"{values.size} ({show([int(v) for v in values[:12]])}).",
            "csv",
        )
    return labels.astype(np.int64), int(values.size)


# --------------------------------------------------------------------- a session's data
@dataclass
class Data:
    task: str  # "classification" | "regression"
    classes: int  # 0 for regression
    X_train: np.ndarray  # original units
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    pristine: bool  # exactly what the generator (or the CSV + split) gives
    domain: tuple[float, float, float | None, float | None]

    @property
    def n_inputs(self) -> int:
        return self.X_train.shape[1]


def domain(X: np.ndarray) -> tuple[float, float, float | None, float | None]:
    """The plot's extent: the data's range plus 10 % on each side (y None for 1 input)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    if X.shape[1] == 1:
        return float(lo[0]), float(hi[0]), None, None
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def make_data(cfg: dict[str, Any], csv: tuple[np.ndarray, np.ndarray, int] | None) -> Data:
    """The data a (validated) config asks for, split; ``csv``: the parsed upload, if any."""
    name = cfg["dataset"]
    pristine = True
    if name == "csv":
        if csv is None:
            raise ConfigError(
                "dataset: 'csv' needs an uploaded CSV first (load_csv); received 'csv'.",
                "dataset",
            )
        X, y, classes = csv
    else:
        X, y = generate(name, cfg["n_samples"], cfg["noise"], cfg["seed"])
        classes = DATASETS[name]["classes"]
    X = np.ascontiguousarray(X, dtype=np.float64)
    Xtr, ytr, Xte, yte = split_data(X, y, cfg["test_fraction"], cfg["seed"])
    mean = Xtr.mean(axis=0)
    std = Xtr.std(axis=0)
    std[std == 0] = 1.0
    return Data(
        task="classification" if classes else "regression",
        classes=classes,
        X_train=Xtr,
        y_train=ytr,
        X_test=Xte,
        y_test=yte,
        mean=mean,
        std=std,
        pristine=pristine,
        domain=domain(X),
    )
