"""Shared, generic fixtures for the mlplab test-suite."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

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
