"""Paired A/B timing of small training workloads: one workload, one process, one tree.

Compare two trees (e.g. a commit checked out with ``git worktree add``) by alternating
processes, so that both see the same moments of a noisy host::

    for round in 1 2 3 4; do for tree in /path/to/old /path/to/new; do
        PYTHONPATH=$tree/src python benchmarks/ab_workloads.py fit-xor-sgd-bce
    done; done

Prints the median of five repeats of ``process_time`` per unit (one BLAS thread).
Workloads: see ``WORKLOADS``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import mlplab  # noqa: E402

RNG = np.random.default_rng(0)
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([0, 1, 1, 0], float)


def median_time(fn, repeats: int = 5) -> float:
    """The median over ``repeats`` of process time per unit (``fn`` returns its units)."""
    out = []
    for _ in range(repeats):
        start = time.process_time()
        units = fn()
        out.append((time.process_time() - start) / units)
    return float(np.median(out))


def xor(optimizer: str, loss: str):
    def run():
        net = mlplab.Sequential(
            [mlplab.Dense(2, activation="tanh"), mlplab.Dense(1)], n_inputs=2, seed=0
        )
        net.fit(XOR_X, XOR_Y, loss=loss, optimizer=optimizer, epochs=2000, learning_rate=0.1,
                verbose=0)  # fmt: skip
        return 2000

    return run, 1e6, "us/step"


def cce_batch():
    X, y = RNG.standard_normal((512, 20)), RNG.integers(0, 5, 512)

    def run():
        net = mlplab.Sequential(
            [mlplab.Dense(32, activation="relu"), mlplab.Dense(5)], n_inputs=20, seed=0
        )
        net.fit(X, y, loss="cce", optimizer="adam", epochs=20, batch_size=32, verbose=0)
        return 20 * 16

    return run, 1e6, "us/step"


def regressor_adam():
    X = RNG.standard_normal((400, 5))

    def run():
        est = mlplab.MLPRegressor(hidden_layer_sizes=(20,), batch_size=8, max_iter=10,
                                  random_state=0)  # fmt: skip
        est.fit(X, X.sum(1))
        return 10 * 50

    return run, 1e6, "us/step"


def partial_fit():
    X = RNG.standard_normal((2000, 20))
    y = X[:, 0] > 0
    clf = mlplab.MLPClassifier((100,), random_state=0).partial_fit(X, y, classes=[False, True])

    def run():
        for _ in range(5):
            clf.partial_fit(X, y)
        return 5

    return run, 1e3, "ms/call"


def regressor_lbfgs():
    X = np.linspace(0.1, 2, 200)[:, None]

    def run():
        est = mlplab.MLPRegressor(hidden_layer_sizes=(20,), solver="lbfgs", max_iter=200,
                                  random_state=0)  # fmt: skip
        est.fit(X, 1 / X.ravel())
        return 1

    return run, 1e3, "ms/fit"


def fit_many_lbfgs():
    X = np.linspace(-2, 2, 200)[:, None]
    est = mlplab.MLPRegressor(hidden_layer_sizes=(10,), activation="tanh", solver="lbfgs",
                              max_iter=100)  # fmt: skip

    def run():
        mlplab.fit_many(est, X, np.sin(X.ravel()), random_state=list(range(60)))
        return 1

    return run, 1e3, "ms/call"


def predict():
    X = RNG.standard_normal((4, 2))
    clf = mlplab.MLPClassifier((5,), max_iter=50, random_state=0).fit(X, X[:, 0] > 0)

    def run():
        for _ in range(2000):
            clf.predict_proba(X)
        return 2000

    return run, 1e6, "us/call"


WORKLOADS = {
    "fit-xor-sgd-bce": lambda: xor("sgd", "bce"),
    "fit-xor-adam-mse": lambda: xor("adam", "mse"),
    "fit-cce-batch": cce_batch,
    "reg-adam": regressor_adam,
    "partial-fit": partial_fit,
    "reg-lbfgs": regressor_lbfgs,
    "fit-many-lbfgs": fit_many_lbfgs,
    "predict": predict,
}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in WORKLOADS:
        print(f"usage: ab_workloads.py {{{','.join(WORKLOADS)}}}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")  # convergence warnings of the short fits
    run, scale, unit = WORKLOADS[argv[0]]()
    print(f"{median_time(run) * scale:.2f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
