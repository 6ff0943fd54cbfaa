"""scikit-learn's own estimator contract, run on mlplab's estimators.

``parametrize_with_checks`` generates one test per check (fit/predict
contracts, input validation, clone, pickling, dtype handling, sample weights,
partial_fit, ...). No check is expected to fail. The checks fit small problems
with the estimator's own ``max_iter``, so ConvergenceWarnings are expected and
ignored; any other warning is an error (pyproject's ``filterwarnings = error``).
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import mlplab

# a non-default configuration: per-layer activations, two hidden layers, BatchNorm
# (learning_rate_init=0.01: with the default 0.001 a network this small, with or
# without BatchNorm, reaches R² ~0.35 in 200 epochs, below check_regressors_train's 0.5)
EXTRAS = dict(
    hidden_layer_sizes=(8, 6),
    activation=["tanh", "gelu"],
    batch_norm=True,
    solver="adam",
    learning_rate_init=0.01,
)

ESTIMATORS = [
    mlplab.MLPClassifier(),
    mlplab.MLPRegressor(),
    mlplab.MLPClassifier(**EXTRAS),
    mlplab.MLPRegressor(**EXTRAS),
    # L-BFGS with an mlplab initializer and activation
    mlplab.MLPRegressor(
        hidden_layer_sizes=(10,), activation="silu", solver="lbfgs", initializer="he_normal"
    ),
    # exact=False (fast numerics): lbfgs fits alone as a stack of one, the fast logistic
    mlplab.MLPClassifier(activation="logistic", solver="lbfgs", exact=False),
    mlplab.MLPRegressor(activation="logistic", solver="lbfgs", exact=False),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
