"""Gradient-flow diagnostics: see the gradient vanish, explode, saturate and die.

The lecture's argument, made measurable: the gradient reaching layer l is a
product of the activation derivatives f'(z) (and weights) of every layer above
it. mlplab owns its backward pass, so every layer's gradient, its activations
and its derivatives are there to read after each backward pass.

* :func:`layer_stats` (``statistics``) — one snapshot of every layer (after a forward/backward).
* :class:`GradientFlow` (``flow``) — a training callback recording those per epoch (and,
  optionally, per step). Recording off costs nothing: it is a callback.
* :func:`diagnose` (``doctor``) — the gradient doctor: a plain-language report per layer
  with the lecture's remedy for each finding.
* :class:`GradientWarnings` (``flow``) — the doctor's findings as warnings during
  training, once each (``fit(..., diagnostics=False)`` turns them off).

Thresholds (``THRESHOLDS``) are heuristics, documented as such: a layer is
"vanishing" when the RMS of its weight gradient is below 1e-3 × the largest
layer's (three orders of magnitude: the first layers learn a thousand times
slower), "exploding" when the global gradient norm exceeds 1e3 or a layer's RMS
gradient exceeds 1e3 × the smallest's, "saturated" when more than half of a
logistic/tanh layer's outputs sit within 1 % of an asymptote, "dead" when more
than half of a ReLU layer's units output 0 for every sample. ``diagnose`` reads
the training state too: on a converged network (``doctor.converged``: the loss
below 1 % of the loss at chance, or 100 % training accuracy with ||grad|| below
1e-3 x the loss at chance) saturated, dead and vanishing units are reported as
healthy, "but converged: no action needed".

Recurrent layers (lecture §6) are judged through time: the doctor reads
||dJ/dh_t|| per step (``layer.hidden_grad_norms``) and reports "vanishing" when
the first step's is below 1e-3 × the largest step's (the start of the sequence
no longer teaches the network), "exploding" when it is above 1e3 × the last step's.
"""

from __future__ import annotations

from mlplab.diagnostics.doctor import REMEDIES, Diagnosis, Finding, diagnose, find_problems
from mlplab.diagnostics.flow import GradientFlow, GradientWarnings
from mlplab.diagnostics.statistics import (
    RECORDED,
    THRESHOLDS,
    GradientWarning,
    layer_stats,
    weight_units,
)

__all__ = [
    "RECORDED",
    "REMEDIES",
    "THRESHOLDS",
    "Diagnosis",
    "Finding",
    "GradientFlow",
    "GradientWarning",
    "GradientWarnings",
    "diagnose",
    "find_problems",
    "layer_stats",
    "weight_units",
]
