"""Shared, generic fixtures for the mlplab test-suite."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

# Hypothesis imports its patch writer only when it reports a failing example; that import
# raises a DeprecationWarning (mypy_extensions.TypedDict), which filterwarnings=error turns
# into an INTERNALERROR hiding the failure. Imported once here, without the warning.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import hypothesis.extra._patching  # noqa: F401
    except ImportError:  # pragma: no cover - an older hypothesis
        pass

# Hypothesis profiles (docs/reliability.md): the property tests of the numerical primitives
# take their example count from the profile; tests that set max_examples keep their own.
# CI runs "ci"; MLPLAB_HYPOTHESIS_PROFILE=nightly runs the 500 examples per primitive of
# RELIABILITY.md (and the 10 000-case model-file fuzz of tests/test_io.py).
settings.register_profile("ci", max_examples=200, deadline=None, database=None)
settings.register_profile("nightly", max_examples=500, deadline=None, database=None)
HYPOTHESIS_PROFILE = os.environ.get("MLPLAB_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(HYPOTHESIS_PROFILE)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, fixed-seed generator per test (tests stay independent and reproducible)."""
    return np.random.default_rng(20240607)


@contextlib.contextmanager
def _served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a background thread on a free loopback port; yields its
    URL and stops the server on exit."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start within 15 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="session")
def served() -> Callable[[Any], contextlib.AbstractContextManager[str]]:
    """``with served(app) as url:``: a real uvicorn server (a thread) for an ASGI app."""
    pytest.importorskip("uvicorn")
    return _served


class QuickTour:
    """One ``mlplab tour --quick`` in a language, run once per session through the CLI:
    its directory, its records in the lecture's order and, per experiment, the
    FigureLegibilityWarnings its figures raised."""

    def __init__(self, out: Any, lang: str) -> None:
        import json

        from mlplab.cli import main
        from mlplab.experiments import tour_order
        from mlplab.experiments._figures import FigureLegibilityWarning

        self.out, self.lang = out, lang
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FigureLegibilityWarning)
            assert main(["tour", "--quick", "--lang", lang, "--out", str(out)]) == 0
        order = [e.name for e in tour_order()]
        records = [json.loads(p.read_text("utf-8")) for p in out.glob("*/metrics.json")]
        self.records = sorted(records, key=lambda r: order.index(r["experiment"]))
        owner = {fig: r["experiment"] for r in self.records for fig in r["figures"]}
        self.problems: dict[str, list[str]] = {name: [] for name in order}
        for w in caught:
            if issubclass(w.category, FigureLegibilityWarning):
                message = str(w.message)
                self.problems[owner.get(message.split(":")[0], "?")].append(message)

    def record(self, name: str) -> dict[str, Any]:
        return next(r for r in self.records if r["experiment"] == name)


@pytest.fixture(scope="session")
def quick_tour(tmp_path_factory) -> Callable[[str], QuickTour]:
    """``quick_tour("en")``: the session's quick tour in that language (run on first use)."""
    tours: dict[str, QuickTour] = {}

    def get(lang: str) -> QuickTour:
        if lang not in tours:
            tours[lang] = QuickTour(tmp_path_factory.mktemp(f"quick-tour-{lang}"), lang)
        return tours[lang]

    return get
