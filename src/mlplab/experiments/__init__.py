"""The lecture's experiments, one module each: its ``compute()`` measures (metrics and
arrays, no matplotlib), its ``draw()`` makes the figures from that result, and its
registered ``run()`` wires the two; each is runnable as ``mlplab run NAME`` and
collected by ``mlplab tour``. What several experiments share lives in the modules
with a leading underscore (``_common``, ``_depth``, ``_deep``, ``_logic``,
``_approximation``); the en/pt texts and numbers go through :mod:`mlplab.i18n`.

Every experiment writes ``DIR/NAME/metrics.json`` (its measured figures, the
seed and the library versions) and its PNG figures; the tour then writes
``DIR/index.html`` and ``DIR/README.md``.
"""

from mlplab.experiments import (  # noqa: F401  (each module registers its experiment)
    activations,
    and_gate,
    backprop_by_hand,
    chain_rule,
    circles,
    doctor,
    dying_relu,
    exploding_gradient,
    failure_lab,
    lab7,
    mitigations,
    recurrent_dynamics,
    recurrent_memory,
    regression,
    universal_approximation,
    vanishing_gradient,
    vital_signs,
    xor,
)
from mlplab.experiments._registry import (
    EXPERIMENTS,
    LANGS,
    Experiment,
    T,
    register,
    run_experiment,
    tour_order,
)

__all__ = ["EXPERIMENTS", "LANGS", "Experiment", "T", "register", "run_experiment", "tour_order"]
