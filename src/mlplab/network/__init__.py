"""The feed-forward network a user builds (``Sequential``) and how it trains (``fit``)."""

from mlplab.network.fit import METRICS, first_nonfinite, fit
from mlplab.network.sequential import Sequential

__all__ = ["METRICS", "Sequential", "first_nonfinite", "fit"]
