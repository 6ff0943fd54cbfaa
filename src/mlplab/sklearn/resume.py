"""The estimators' training state beyond weights, optimizer and fitted attributes, as a
model file keeps it, so that ``mlplab.load`` then ``partial_fit`` (or a warm-start fit)
continues bit for bit as the estimator kept in memory would.

Saved with ``net_`` already: the weights, BatchNorm's running statistics and the
optimizer (moments or velocities and step count exactly, and the current learning rate,
which ``invscaling`` sets from ``t_`` and ``adaptive`` divides). Saved as fitted
attributes: ``n_iter_``, ``t_``, ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_``, ``history_``. Here: the rest that training reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.io import from_json_tree, json_tree

__all__ = ["restore_training", "training_state"]


def training_state(est: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The config section (JSON) of what training reads besides the above, adding its
    arrays to ``arrays``: the stopping count, early stopping's best validation loss and
    best weights, the diagnostics rows, and a RandomState ``random_state``'s state.

    ``_random_state`` itself is not kept: every fit takes it afresh as
    ``check_random_state(est.random_state)``, so an int seed restarts from the seed
    (nothing to keep), a RandomState object is that object (its state is saved here and
    comes back as ``random_state``), and None is numpy's global generator, which no
    file can restore.
    """
    state: dict[str, Any] = {
        "no_improvement_count": int(getattr(est, "_no_improvement_count", 0)),
        "best_val_loss": float(getattr(est, "_best_val_loss", np.inf)),
    }
    best = getattr(est, "_best_theta", None)
    # read only with early stopping; after such a fit it is theta itself (not stored)
    if est.early_stopping and best is not None and not np.array_equal(best, est.net_.theta):
        arrays["best_theta"] = best
    if est.record_diagnostics:
        state["diag_rows"] = getattr(est, "_diag_rows", [])
    if isinstance(est.random_state, np.random.RandomState):
        kind, key, pos, has_gauss, cached = est.random_state.get_state(legacy=True)
        arrays["random_state.key"] = key.astype(np.int64)  # files hold no uint32
        state["random_state"] = {
            "bit_generator": kind,
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        }
    return json_tree(state)


def restore_training(est: Any, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """The inverse of :func:`training_state`; files written before it get the defaults
    (count 0, no best validation loss, the loaded weights as the best)."""
    state = from_json_tree(config.get("training", {}))
    theta = est.net_.theta
    est._no_improvement_count = int(state.get("no_improvement_count", 0))
    est._best_val_loss = float(state.get("best_val_loss", np.inf))
    best = arrays.get("best_theta")
    if best is not None and best.shape != theta.shape:
        raise ValueError(f"best_theta has shape {best.shape}; theta has {theta.shape}")
    est._best_theta = theta.copy() if best is None else best.astype(theta.dtype)
    est._diag_rows = list(state.get("diag_rows", []))
    if "random_state" in state:
        rs = state["random_state"]
        random_state = np.random.RandomState()
        random_state.set_state(
            (
                rs["bit_generator"],
                arrays["random_state.key"].astype(np.uint32),
                int(rs["pos"]),
                int(rs["has_gauss"]),
                float(rs["cached_gaussian"]),
            )
        )
        est.random_state = random_state
