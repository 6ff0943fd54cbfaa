"""The lecture's experiments: each a Python function returning its measured
results, also runnable as ``mlplab run NAME`` and collected by ``mlplab tour``.

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
