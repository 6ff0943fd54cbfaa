"""The lecture's experiments: each a Python function returning its measured
results, also runnable as ``mlplab run NAME`` and collected by ``mlplab tour``.

Every experiment writes ``DIR/NAME/metrics.json`` (its measured figures, the
seed and the library versions) and its PNG figures.
"""

from . import logic  # noqa: F401  (registers its experiments)
from ._registry import EXPERIMENTS, Experiment, register, run_experiment

__all__ = ["EXPERIMENTS", "Experiment", "register", "run_experiment"]
