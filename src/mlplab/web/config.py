"""A session's configuration: errors, limits, choices, defaults and validation; the server's
limits (``SERVER_LIMITS``, importable without FastAPI for the CLI's defaults).

Every bad input raises :class:`ConfigError` (a ``ValueError``) whose message names the field
and the value received (``field must be ...; received ...``). The type and range checks are
those of :mod:`mlplab._checks`; only the message is the playground's own.
"""

from __future__ import annotations

import copy
import math
import numbers
from typing import Any

from mlplab._checks import check_choice, check_float, check_int
from mlplab.activations import ACTIVATIONS
from mlplab.initializers import INITIALIZERS
from mlplab.optimizers import SOLVER_NAMES

__all__ = [
    "ConfigError",
    "DATASETS",
    "DivergedError",
    "LIMITS",
    "SECONDS",
    "SERVER_LIMITS",
    "TooLargeError",
    "as_choice",
    "as_integer",
    "as_number",
    "default_config",
    "invalid",
    "meta",
    "show",
    "validate",
]


# ------------------------------------------------------------------ errors, limits, choices
class ConfigError(ValueError):
    """A bad config or input; the message names the field and the value received."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooLargeError(ConfigError):
    """The CSV text is over ``LIMITS["csv_bytes"]`` (the server answers 413)."""


class DivergedError(ConfigError):
    """``step()`` on a session whose training diverged (until apply/set_weight/reset)."""


LIMITS: dict[str, int] = {
    "hidden_layers": 8,
    "units": 32,
    "parameters": 1_000_000,
    "n_samples": 5000,
    "csv_bytes": 512 * 1024,
    "steps_per_request": 1000,
    "epochs": 100_000,
}

#: The server's own limits (routes.py enforces them with ``Hub``; ``mlplab serve`` flags change
#: the last three of: sessions, running_sessions, train_seconds, idle_seconds).
#: ``running_sessions`` is 2: training runs in the server's process, in worker threads that
#: mostly hold the GIL (a step of these small networks is Python overhead more than arithmetic),
#: so sessions training at once share one core for their steps, and the event loop (frames,
#: requests) needs the other of a 2-core laptop. Measured (2-8-8-1 tanh, 500 points, in-process,
#: on a busy 2-core machine): frames/s per session 28 / 24 / 22 / 19 / 16 with 1 / 2 / 3 / 4 / 6
#: training, and the total steps/s falls (14 000 / 9 100 / 9 100 / 7 000 / 5 500): more at
#: once buys nothing. A third is refused with 429 and a message saying what to do.
SERVER_LIMITS: dict[str, float] = {
    "sessions": 64,  # sessions alive at once -> 429
    "running_sessions": 2,  # sessions training ("playing") at once -> 429
    "train_seconds": 120,  # wall time of one run of play, then it pauses ("stopped")
    "idle_seconds": 1800,  # no request, message or training for this long: the session expires
    "body_bytes": 1024 * 1024,  # any HTTP body -> 413 above
    "ws_message_bytes": 64 * 1024,  # any WebSocket message -> close 1009 above
    "ws_clients_per_session": 8,  # more WebSockets on one session -> close 1008
}
SECONDS = ("train_seconds", "idle_seconds")  # the limits that are durations (float seconds)

#: name -> what the page needs to know about a dataset
DATASETS: dict[str, dict[str, Any]] = {
    "and": {"task": "classification", "inputs": 2, "classes": 2, "title": "AND gate"},
    "xor": {"task": "classification", "inputs": 2, "classes": 2, "title": "XOR gate"},
    "circles": {"task": "classification", "inputs": 2, "classes": 2, "title": "circles"},
    "spiral": {"task": "classification", "inputs": 2, "classes": 2, "title": "two spirals"},
    "moons": {"task": "classification", "inputs": 2, "classes": 2, "title": "two moons"},
    "blobs": {"task": "classification", "inputs": 2, "classes": 2, "title": "two blobs"},
    "multiblobs": {"task": "classification", "inputs": 2, "classes": 3, "title": "three blobs"},
    "square": {"task": "regression", "inputs": 1, "classes": 0, "title": "x² on [-1, 1]"},
    "inverse": {"task": "regression", "inputs": 1, "classes": 0, "title": "1/x on [1, 100]"},
    "sin": {"task": "regression", "inputs": 1, "classes": 0, "title": "sin x on [0, 2π]"},
    "log10": {"task": "regression", "inputs": 1, "classes": 0, "title": "log10 x on [1, 10]"},
    "expneg": {"task": "regression", "inputs": 1, "classes": 0, "title": "exp(-x) on [1, 10]"},
    "csv": {"task": "from the file", "inputs": None, "classes": None, "title": "uploaded CSV"},
}

ACTIVATION_NAMES = tuple(name for name in ACTIVATIONS if name != "step")
INITIALIZER_NAMES = tuple(INITIALIZERS)
OPTIMIZER_NAMES = tuple(name for name in SOLVER_NAMES if name not in ("lbfgs", "gd"))
LOSS_NAMES = ("auto", "bce", "cce", "mse")
LANGS = ("en", "pt")

MAX_LEARNING_RATE = 1000.0
MAX_NOISE = 2.0
MAX_L2 = 100.0
MAX_WEIGHT = 1000.0
MAX_COORD = 1e9
#: the speed of play: optimizer steps per second, or None (null) for full speed. The default
#: lets a student watch XOR's boundary form: the default network reaches 100 % accuracy after
#: about 40 steps (4 s at 10 steps/s) and a training loss of 0.05 after about 80 (8 s).
DEFAULT_STEPS_PER_SECOND = 10.0
MIN_STEPS_PER_SECOND = 0.1
MAX_STEPS_PER_SECOND = 1e6
MIN_SAMPLES = 10
MAX_CLASSES = 10
HEATMAP = 48
NODE_MAP = 16
CURVE = 200


def default_config() -> dict[str, Any]:
    """Every config key with its default (a fresh copy)."""
    return {
        "dataset": "xor",
        "noise": 0.1,
        "n_samples": 500,
        "test_fraction": 0.3,
        "layers": [
            {"units": 4, "activation": "tanh", "batch_norm": False},
            {"units": 4, "activation": "tanh", "batch_norm": False},
        ],
        "output_activation": "auto",
        "init": "glorot_uniform",
        "optimizer": "adam",
        "learning_rate": 0.03,
        "batch_size": 32,
        "l2": 0.0,
        "clip_norm": None,
        "clip_value": None,
        "loss": "auto",
        "seed": 0,
        "lang": "en",
        "steps_per_second": DEFAULT_STEPS_PER_SECOND,
    }


def meta(limits: dict[str, int] | None = None) -> dict[str, Any]:
    """The choices and limits the page offers (``GET /api/meta`` adds lang and version)."""
    return {
        "activations": list(ACTIVATION_NAMES),
        "output_activations": ["auto", *ACTIVATION_NAMES],
        "initializers": list(INITIALIZER_NAMES),
        "optimizers": list(OPTIMIZER_NAMES),
        "losses": list(LOSS_NAMES),
        "datasets": copy.deepcopy(DATASETS),
        "limits": {**LIMITS, **(limits or {})},
        "defaults": default_config(),
    }


# ------------------------------------------------------------------------------ validation
def show(value: Any) -> str:
    """``repr(value)``, cut to 80 characters (for error messages)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def invalid(field: str, what: str, value: Any) -> ConfigError:
    """The error ``field must be <what>; received <value>.`` (to raise)."""
    return ConfigError(f"{field} must be {what}; received {show(value)}.", field)


def as_number(
    field: str,
    value: Any,
    lo: float,
    hi: float,
    *,
    lo_open: bool = False,
    allow_none: bool = False,
) -> float | None:
    """A finite real number (not a bool) in [lo, hi] ((lo, hi] with ``lo_open``), as float."""
    if value is None and allow_none:
        return None
    bracket = "(" if lo_open else "["
    what = f"a number in {bracket}{lo:g}, {hi:g}]" + (" or null" if allow_none else "")
    try:
        return check_float(field, value, minimum=lo, maximum=hi, strict_min=lo_open)
    except (TypeError, ValueError):
        raise invalid(field, what, value) from None


def as_integer(field: str, value: Any, lo: int, hi: int) -> int:
    """An integer in lo..hi (not a bool; a float with an integral value counts), as int."""
    what = f"an integer in {lo}..{hi}"
    whole = value
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, numbers.Integral))
        and math.isfinite(float(value))
        and float(value).is_integer()
    ):
        whole = int(value)
    try:
        v = check_int(field, whole, minimum=lo)
    except (TypeError, ValueError):
        raise invalid(field, what, value) from None
    if v > hi:
        raise invalid(field, what, value)
    return v


def as_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``."""
    try:
        return check_choice(field, value, choices)
    except ValueError:
        raise invalid(field, "one of " + ", ".join(repr(c) for c in choices), value) from None


def validate(cfg: dict[str, Any], limits: dict[str, int]) -> dict[str, Any]:
    """A complete, normalised copy of ``cfg`` (every key present), or ConfigError."""
    out: dict[str, Any] = {}
    out["dataset"] = as_choice("dataset", cfg["dataset"], tuple(DATASETS))
    out["noise"] = as_number("noise", cfg["noise"], 0.0, MAX_NOISE)
    out["n_samples"] = as_integer("n_samples", cfg["n_samples"], MIN_SAMPLES, limits["n_samples"])
    out["test_fraction"] = as_number("test_fraction", cfg["test_fraction"], 0.0, 0.9)
    layers = cfg["layers"]
    if not isinstance(layers, (list, tuple)):
        raise invalid("layers", "a list of hidden layers", layers)
    if len(layers) > limits["hidden_layers"]:
        raise ConfigError(
            f"layers: at most {limits['hidden_layers']} hidden layers; received {len(layers)}.",
            "layers",
        )
    norm_layers = []
    for k, spec in enumerate(layers):
        where = f"layers[{k}]"
        if not isinstance(spec, dict):
            raise invalid(where, "an object {units, activation, batch_norm}", spec)
        extra = sorted(set(spec) - {"units", "activation", "batch_norm"})
        if extra:
            raise ConfigError(
                f"{where}: unknown key {extra[0]!r} (expected units, activation, batch_norm).",
                where,
            )
        units = as_integer(f"{where}.units", spec.get("units", 4), 1, limits["units"])
        act = as_choice(f"{where}.activation", spec.get("activation", "tanh"), ACTIVATION_NAMES)
        bn = spec.get("batch_norm", False)
        if not isinstance(bn, bool):
            raise invalid(f"{where}.batch_norm", "true or false", bn)
        norm_layers.append({"units": units, "activation": act, "batch_norm": bn})
    out["layers"] = norm_layers
    out["output_activation"] = as_choice(
        "output_activation", cfg["output_activation"], ("auto", *ACTIVATION_NAMES)
    )
    out["init"] = as_choice("init", cfg["init"], INITIALIZER_NAMES)
    out["optimizer"] = as_choice("optimizer", cfg["optimizer"], OPTIMIZER_NAMES)
    out["learning_rate"] = as_number(
        "learning_rate", cfg["learning_rate"], 0.0, MAX_LEARNING_RATE, lo_open=True
    )
    out["batch_size"] = as_integer("batch_size", cfg["batch_size"], 1, limits["n_samples"])
    out["l2"] = as_number("l2", cfg["l2"], 0.0, MAX_L2)
    out["clip_norm"] = as_number(
        "clip_norm", cfg["clip_norm"], 0.0, 1e6, lo_open=True, allow_none=True
    )
    out["clip_value"] = as_number(
        "clip_value", cfg["clip_value"], 0.0, 1e6, lo_open=True, allow_none=True
    )
    out["loss"] = as_choice("loss", cfg["loss"], LOSS_NAMES)
    out["seed"] = as_integer("seed", cfg["seed"], 0, 2**32 - 1)
    out["lang"] = as_choice("lang", cfg["lang"], LANGS)
    out["steps_per_second"] = as_number(
        "steps_per_second",
        cfg["steps_per_second"],
        MIN_STEPS_PER_SECOND,
        MAX_STEPS_PER_SECOND,
        allow_none=True,
    )
    return out
