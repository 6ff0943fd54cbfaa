"""Mitigations of the vanishing and exploding gradient, dying ReLU, and the failure lab
(lecture sections 2 and 5).

* ``mitigations``: one deep task (a 10-hidden-layer net, 32 nodes per layer, on
  two interleaved spirals) trained with each of the lecture's mitigations:
  logistic + small random initialisation (the problem), tanh/logistic + Glorot,
  ReLU + He, ReLU + He + batch normalisation, a too-high learning rate with and
  without gradient clipping, and the ReLU variants + He. Measured: the final
  loss, the epochs to reach the target accuracy, and the first/last-layer
  gradient-norm ratio (``GradientFlow``).
* ``dying-relu``: ReLU units die (a large Adam step; a negative bias
  initialisation) while leaky ReLU, PReLU, ELU and GELU, trained from the same
  initial weights, keep theirs alive. Measured: the dead fraction per layer and
  epoch, and the final loss and accuracy per activation.
* ``failure-lab``: five broken trainings, each diagnosed by the gradient doctor
  (:func:`mlplab.diagnose`) and fixed with the remedy it names, with numbers
  before and after; the doctor's reports go to ``failure_lab.txt``.

Twins. All the networks of one comparison are built with the same ``seed`` and
normal initialisers (``normal``, ``glorot_normal``, ``he_normal``), so they
consume the same standard-normal draws: the weights of two configurations with
the same initialiser are identical, and with different initialisers they are the
same draw rescaled per layer. Training uses the same ``seed`` too, so every
configuration sees the same mini-batches in the same order. The experiments
check this on the built networks and report it (``twins``).

Dead units. ``GradientFlow``'s ``dead_fraction`` counts ReLU units that output 0
for every sample of a mini-batch, and is 0 by definition for the other
activations. To compare activations on one scale, ``dying-relu`` also measures,
on the whole training set after every epoch, the fraction of hidden units whose
derivative |f'(z)| is below ``DEAD_DERIVATIVE`` for every sample: such a unit
passes (almost) no gradient and barely learns. For ReLU this is exactly "outputs
0 for every sample"; leaky ReLU (slope 0.01) can never reach it; ELU and GELU
can, since their derivative also tends to 0 as z -> -inf (ELU's is e^z): with
half the batch size (32) at the same rate, ELU lost as many units as ReLU in
some seeds. Their units are harder to kill, not immortal.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mlplab._checks import check_float, check_int
from mlplab.diagnostics import Diagnosis, GradientFlow, GradientWarning, diagnose
from mlplab.experiments._registry import T, register, save_figure
from mlplab.layers import ActivationLayer, BatchNorm, Dense
from mlplab.network import Sequential
from mlplab.sklearn.estimators import MLPClassifier
from mlplab.training.callbacks import Callback

#: A unit is "dead" (dying-relu) when |f'(z)| < this for every training sample.
DEAD_DERIVATIVE = 1e-3
#: Training accuracy counted as "reached" by ``mitigations``.
TARGET_ACCURACY = 0.95
#: XOR accuracy below this counts as "stuck" (a local minimum, typically 75 %).
XOR_STUCK = 0.8

_DIVERGED = re.compile(r"Training diverged")
_GW_KIND = re.compile(r": (\w+) gradient flow")


# ------------------------------------------------------------------- shared
def _spirals(n: int, seed: int, noise: float = 0.1, turns: float = 1.25):
    """Two interleaved spirals (``turns`` turns each) plus Gaussian noise, standardised.

    A non-linear boundary that a deep net must bend several times.
    """
    rng = np.random.default_rng(seed)
    half = n // 2
    cls = np.r_[np.zeros(half, dtype=np.int64), np.ones(n - half, dtype=np.int64)]
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * turns * 2 * np.pi  # uniform density in the plane
    angle = t + np.pi * cls
    r = t / (turns * np.pi)
    X = np.c_[r * np.cos(angle), r * np.sin(angle)] + noise * rng.standard_normal((n, 2))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    perm = rng.permutation(n)
    return X[perm], cls[perm]


def _deep(
    activation: str,
    init: Any,
    *,
    depth: int,
    width: int,
    seed: int,
    n_inputs: int = 2,
    batch_norm: bool = False,
    bias_init: Any = "zeros",
) -> Sequential:
    """``depth`` hidden layers of ``width`` nodes and one identity output (logit)."""
    layers: list[Any] = []
    for _ in range(depth):
        if batch_norm:  # z = xW + b -> standardise, shift and scale -> f
            layers += [Dense(width, init=init), BatchNorm(), ActivationLayer(activation)]
        else:
            layers.append(Dense(width, activation, init=init, bias_init=bias_init))
    layers.append(Dense(1))
    return Sequential(layers, n_inputs=n_inputs, init=init, seed=seed)


def _fit(net: Sequential, X, y, **kwargs) -> tuple[Any, dict[str, Any]]:
    """``net.fit`` with the expected warnings caught and recorded (not shown).

    GradientWarning (the doctor during training) and RuntimeWarning "Training
    diverged" are the results some runs exist to show; any other warning is left
    to the caller's filters.
    """
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=GradientWarning)
        warnings.filterwarnings("always", message="Training diverged", category=RuntimeWarning)
        with threadpool_limits(limits=1):  # small matrices: one BLAS thread is fastest
            hist = net.fit(X, y, **kwargs)
    kinds: list[str] = []
    diverged = ""
    for w in caught:
        text = str(w.message)
        if issubclass(w.category, GradientWarning):
            m = _GW_KIND.search(text)
            kind = m.group(1) if m else "other"
            if kind not in kinds:
                kinds.append(kind)
        elif _DIVERGED.search(text):
            diverged = text
        else:  # not ours: back to the caller's filters
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return hist, {"gradient_warnings": kinds, "diverged": bool(diverged), "diverged_msg": diverged}


class _Doc(NamedTuple):
    """The doctor's diagnosis (findings in English) and its report in both languages."""

    diagnosis: Diagnosis
    texts: dict[str, str]


def _diagnose(model: Any, X, y, loss: Any = None) -> _Doc:
    """The doctor, with numpy's overflow warnings off (a diverged net overflows on purpose)."""
    with np.errstate(all="ignore"):
        en = diagnose(model, X, y, loss=loss, lang="en")
        pt = diagnose(model, X, y, loss=loss, lang="pt")
    return _Doc(en, {"en": str(en), "pt": str(pt)})


def _accuracy(net: Sequential, X, y) -> float:
    """Training accuracy of a logit-output net; a non-finite output counts as wrong."""
    with np.errstate(all="ignore"):
        z = net.forward(X)[:, 0]
    ok = np.isfinite(z) & ((z > 0) == (y == 1))
    return float(np.mean(ok))


def _bce(net: Sequential, X, y) -> float | None:
    """Binary cross-entropy on (X, y) in inference mode; None if not finite."""
    with np.errstate(all="ignore"):
        v = float(net.loss(X, y, "bce"))
    return v if math.isfinite(v) else None


def _finite(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def _num(x: float, t: T, fmt: str = ".3g") -> str:
    text = format(x, fmt)
    return t(text, text.replace(".", ","))


def _dense(net: Sequential) -> list[Dense]:
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def _twin(net: Sequential, ref: Sequential) -> str:
    """Compare the weights of two networks of the same architecture: "identical"
    (same W and b), "rescaled" (every W is ``ref``'s times a per-layer constant: the
    same draw, another initialiser's scale) or "different"."""
    pairs = list(zip(_dense(net), _dense(ref), strict=True))
    if all(np.array_equal(a.W, b.W) and np.array_equal(a.b, b.b) for a, b in pairs):
        return "identical"
    for a, b in pairs:
        if a.W.shape != b.W.shape or not np.all(b.W):
            return "different"
        r = a.W / b.W
        if not np.allclose(r, r.flat[0], rtol=1e-9, atol=0.0):
            return "different"
    return "rescaled"


def _epochs_to(acc: list[float], target: float) -> int | str:
    hit = np.flatnonzero(np.asarray(acc, dtype=float) >= target)
    return int(hit[0]) + 1 if hit.size else "never"


def _ratio(g: np.ndarray) -> float | None:
    """First layer's gradient norm over the last layer's (None if undefined)."""
    if g.size == 0 or not (np.isfinite(g[0]) and np.isfinite(g[-1])) or g[-1] == 0:
        return None
    return float(g[0] / g[-1])


# --------------------------------------------------------------- mitigations
#: key -> (English label, Portuguese label, activation, init, batch_norm, high lr, clip)
_SMALL = {"name": "normal", "scale": 0.05}
CONFIGS: dict[str, tuple[str, str, str, Any, bool, bool, bool]] = {
    "logistic_small": (
        "logistic + small init",
        "logística + init. pequena",
        "logistic",
        _SMALL,
        False,
        False,
        False,
    ),
    "logistic_glorot": (
        "logistic + Glorot",
        "logística + Glorot",
        "logistic",
        "glorot_normal",
        False,
        False,
        False,
    ),
    "tanh_glorot": ("tanh + Glorot", "tanh + Glorot", "tanh", "glorot_normal", False, False, False),
    "relu_he": ("ReLU + He", "ReLU + He", "relu", "he_normal", False, False, False),
    "relu_he_bn": (
        "ReLU + He + batch norm",
        "ReLU + He + norm. em lote",
        "relu",
        "he_normal",
        True,
        False,
        False,
    ),
    "relu_he_high_lr": (
        "ReLU + He, high lr",
        "ReLU + He, taxa alta",
        "relu",
        "he_normal",
        False,
        True,
        False,
    ),
    "relu_he_high_lr_clip": (
        "ReLU + He, high lr + clip_norm",
        "ReLU + He, taxa alta + clip_norm",
        "relu",
        "he_normal",
        False,
        True,
        True,
    ),
    "leaky_relu_he": (
        "leaky ReLU + He",
        "leaky ReLU + He",
        "leaky_relu",
        "he_normal",
        False,
        False,
        False,
    ),
    "elu_he": ("ELU + He", "ELU + He", "elu", "he_normal", False, False, False),
    "gelu_he": ("GELU + He", "GELU + He", "gelu", "he_normal", False, False, False),
    "silu_he": ("SiLU + He", "SiLU + He", "silu", "he_normal", False, False, False),
}
_STYLE = {
    "logistic_small": ("tab:red", "-"),
    "logistic_glorot": ("tab:pink", "--"),
    "tanh_glorot": ("tab:orange", "-"),
    "relu_he": ("tab:blue", "-"),
    "relu_he_bn": ("tab:purple", "-"),
    "relu_he_high_lr": ("black", ":"),
    "relu_he_high_lr_clip": ("tab:gray", "-"),
    "leaky_relu_he": ("tab:green", "--"),
    "elu_he": ("tab:olive", "--"),
    "gelu_he": ("tab:cyan", "--"),
    "silu_he": ("tab:brown", "--"),
}


@register(
    "mitigations",
    section="5",
    order=2,
    title={
        "en": "The mitigations side by side: activations, initialisation, batch normalisation "
        "and gradient clipping on a 10-hidden-layer network",
        "pt": "As mitigações lado a lado: ativações, inicialização, normalização em lote e "
        "limitação do gradiente numa rede de 10 camadas ocultas",
    },
    claim={
        "en": "With logistic units and a small initialisation the gradient reaching the first "
        "layers of a deep network vanishes and it does not learn; ReLU and its variants with He "
        "initialisation (or tanh with Glorot), batch normalisation, and clipping against a too "
        "large step keep the gradient flowing and the network learns.",
        "pt": "Com unidades logísticas e inicialização pequena, o gradiente que chega às "
        "primeiras camadas de uma rede profunda desaparece e ela não aprende; a ReLU e suas "
        "variantes com inicialização de He (ou a tanh com Glorot), a normalização em lote e a "
        "limitação do gradiente contra um passo grande demais mantêm o gradiente fluindo, e a "
        "rede aprende.",
    },
)
def mitigations(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    depth: int = 10,
    width: int = 32,
    samples: int | None = None,
    epochs: int | None = None,
    learning_rate: float = 0.01,
    high_learning_rate: float = 0.2,
    clip_norm: float = 1.0,
    target_accuracy: float = TARGET_ACCURACY,
) -> dict[str, Any]:
    """Train one deep net per configuration of :data:`CONFIGS` on two spirals
    (SGD with momentum 0.9, mini-batches of 64, binary cross-entropy).

    Metrics, each a dict keyed by configuration: ``final_loss`` (cross-entropy on
    the whole training set after the last epoch; None if not finite),
    ``final_accuracy``, ``epochs_to_target`` (first epoch whose training accuracy
    reaches ``target_accuracy``, or "never"), ``grad_ratio_first_last_epoch1`` and
    ``grad_ratio_first_last_final`` (‖dL/dW‖ of the first weight layer over the
    output layer's, GradientFlow's mean over the epoch's batches; None if
    undefined), ``diverged``, ``gradient_warnings`` (the kinds fit warned about),
    ``initial_weights_vs_relu_he`` (identical / rescaled), ``grad_norm_W_epoch1_per_layer``
    and ``loss_curve``."""
    t = T(lang)
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    n = (
        check_int("samples", samples, minimum=20)
        if samples is not None
        else (600 if quick else 2000)
    )
    n_epochs = (
        check_int("epochs", epochs, minimum=1) if epochs is not None else (8 if quick else 30)
    )
    lr = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    high = check_float("high_learning_rate", high_learning_rate, minimum=0.0, strict_min=True)
    clip = check_float("clip_norm", clip_norm, minimum=0.0, strict_min=True)
    target = check_float("target_accuracy", target_accuracy, minimum=0.0, maximum=1.0)
    X, y = _spirals(n, seed)

    runs: dict[str, dict[str, Any]] = {}
    ref: Sequential | None = None
    for key, (_, _, act, init, bn, is_high, clipped) in CONFIGS.items():
        net = _deep(act, init, depth=depth, width=width, seed=seed, batch_norm=bn)
        if ref is None:
            ref = _deep("relu", "he_normal", depth=depth, width=width, seed=seed)
        twin = _twin(net, ref)
        flow = GradientFlow()
        t0 = time.perf_counter()
        hist, rec = _fit(
            net,
            X,
            y,
            loss="bce",
            optimizer="momentum",
            learning_rate=high if is_high else lr,
            epochs=n_epochs,
            batch_size=64,
            clip_norm=clip if clipped else None,
            callbacks=[flow],
            metrics=["accuracy"],
            seed=seed,
        )
        g = flow.history["grad_norm_W"]
        runs[key] = {
            "loss_curve": [_finite(v) for v in hist["loss"]],
            "accuracy_curve": list(hist["accuracy"]),
            "grad_norm_W": g,
            "final_loss": _bce(net, X, y),
            "final_accuracy": _accuracy(net, X, y),
            "epochs_to_target": _epochs_to(hist["accuracy"], target),
            "ratio_first": _ratio(g[0]) if len(g) else None,
            "ratio_last": _ratio(g[-1]) if len(g) else None,
            "twin": twin,
            "seconds": time.perf_counter() - t0,
            **rec,
        }

    labels = {k: t(v[0], v[1]) for k, v in CONFIGS.items()}
    _mitigations_figure(runs, labels, t, n_epochs, target, out_dir / "mitigations.png")
    _gradient_figure(runs, labels, t, depth, out_dir / "gradient_norms.png")

    keys = list(CONFIGS)
    return {
        "task": {
            "data": f"two spirals, {n} points, noise 0.1, standardised",
            "network": f"{depth} hidden layers x {width} nodes, 1 logit output",
            "optimizer": "SGD with momentum 0.9, batch 64, binary cross-entropy",
            "learning_rate": lr,
            "high_learning_rate": high,
            "clip_norm": clip,
            "epochs": n_epochs,
            "target_accuracy": target,
        },
        "final_loss": {k: runs[k]["final_loss"] for k in keys},
        "final_accuracy": {k: runs[k]["final_accuracy"] for k in keys},
        "epochs_to_target": {k: runs[k]["epochs_to_target"] for k in keys},
        "grad_ratio_first_last_epoch1": {k: runs[k]["ratio_first"] for k in keys},
        "grad_ratio_first_last_final": {k: runs[k]["ratio_last"] for k in keys},
        "diverged": {k: runs[k]["diverged"] for k in keys},
        "gradient_warnings": {k: ", ".join(runs[k]["gradient_warnings"]) for k in keys},
        "initial_weights_vs_relu_he": {k: runs[k]["twin"] for k in keys},
        "same_batch_order": True,
        "twins": [
            "relu_he, relu_he_bn, relu_he_high_lr, relu_he_high_lr_clip, leaky_relu_he, "
            "elu_he, gelu_he, silu_he: identical initial weights",
            "logistic_glorot, tanh_glorot: identical initial weights (the same draw as "
            "relu_he, rescaled); logistic_small: the same draw rescaled",
        ],
        "grad_norm_W_epoch1_per_layer": {k: runs[k]["grad_norm_W"][0].tolist() for k in keys},
        "loss_curve": {k: runs[k]["loss_curve"] for k in keys},
        "seconds_per_config": {k: round(runs[k]["seconds"], 3) for k in keys},
    }


def _ratio_text(v: float | None, t: T) -> str:
    if v is None:
        return " —"
    return " 0" if v == 0 else " " + _num(v, t, ".1e")


def _mitigations_figure(runs, labels, t: T, n_epochs, target, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(19, 6.2))
    ax_loss, ax_acc, ax_bar = axes
    for key, r in runs.items():
        color, ls = _STYLE[key]
        ep = np.arange(1, len(r["loss_curve"]) + 1)
        loss = np.array([np.nan if v is None else v for v in r["loss_curve"]])
        ax_loss.semilogy(ep, loss, color=color, ls=ls, lw=1.6, label=labels[key])
        acc = r["accuracy_curve"]
        ax_acc.plot(np.arange(1, len(acc) + 1), acc, color=color, ls=ls, lw=1.6)
    ax_loss.set_xlabel(t("epoch", "época"))
    ax_loss.set_ylabel(t("training loss (cross-entropy)", "perda de treino (entropia cruzada)"))
    ax_loss.set_title(t("Loss per epoch", "Perda por época"))
    ax_loss.grid(alpha=0.3, which="both")
    ax_acc.axhline(target, color="k", lw=0.8, ls="--")
    ax_acc.text(1, target + 0.01, t(f"target {target:.0%}", f"meta {target:.0%}"), fontsize=8)
    ax_acc.set_xlabel(t("epoch", "época"))
    ax_acc.set_ylabel(t("training accuracy", "acurácia de treino"))
    ax_acc.set_ylim(0.4, 1.02)
    ax_acc.set_title(t("Accuracy per epoch", "Acurácia por época"))
    ax_acc.grid(alpha=0.3)

    keys = list(runs)
    ypos = np.arange(len(keys))
    first = [runs[k]["ratio_first"] for k in keys]
    last = [runs[k]["ratio_last"] for k in keys]
    vals = [v for v in first + last if v]
    floor = min(vals) / 3 if vals else 1e-12  # where a bar of 0 (or undefined) stops
    colors = [_STYLE[k][0] for k in keys]
    for off, ratios, extra in (
        (-0.2, first, {"label": t("epoch 1", "época 1")}),
        (0.2, last, {"alpha": 0.45, "hatch": "//", "label": t("last epoch", "última época")}),
    ):
        ax_bar.barh(ypos + off, [v or floor for v in ratios], height=0.4, color=colors, **extra)
        for i, v in enumerate(ratios):
            ax_bar.text(v or floor, i + off, _ratio_text(v, t), va="center", fontsize=7)
    ax_bar.set_xscale("log")
    ax_bar.axvline(1.0, color="k", lw=0.8)
    ax_bar.set_yticks(ypos, [labels[k] for k in keys], fontsize=8)
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel(t("‖dL/dW‖ first layer / last layer", "‖dL/dW‖ primeira camada / última"))
    ax_bar.set_title(t("Gradient reaching the first layer", "Gradiente que chega à 1ª camada"))
    ax_bar.grid(alpha=0.3, axis="x", which="both")
    lo, hi = ax_bar.get_xlim()
    ax_bar.set_xlim(lo, hi * 100)
    ax_bar.legend(fontsize=8, loc="upper right")
    handles, names = ax_loss.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=6, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save_figure(fig, path)


def _gradient_figure(runs, labels, t: T, depth: int, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 5.2), sharey=True)
    for ax, which, title in (
        (
            axes[0],
            0,
            t("epoch 1 (from the initial weights)", "época 1 (a partir dos pesos iniciais)"),
        ),
        (axes[1], -1, t("last epoch", "última época")),
    ):
        for key, r in runs.items():
            g = r["grad_norm_W"]
            if not len(g):
                continue
            color, ls = _STYLE[key]
            row = np.where(g[which] > 0, g[which], np.nan)
            ax.semilogy(
                np.arange(1, len(row) + 1),
                row,
                color=color,
                ls=ls,
                marker="o",
                ms=3,
                lw=1.4,
                label=labels[key],
            )
        ax.set_xticks(range(1, depth + 2))
        ax.set_xlabel(
            t(
                f"weight layer (1 = first hidden, {depth + 1} = output)",
                f"camada de pesos (1 = 1ª oculta, {depth + 1} = saída)",
            )
        )
        ax.set_title(t("‖dL/dW‖ per layer, ", "‖dL/dW‖ por camada, ") + title)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(
        t("gradient norm (mean over the epoch)", "norma do gradiente (média na época)")
    )
    axes[1].legend(fontsize=7.5, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path)


# ---------------------------------------------------------------- dying ReLU
DYING_ACTIVATIONS = ("relu", "leaky_relu", "prelu", "elu", "gelu")
_ACT_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "prelu": "PReLU",
    "elu": "ELU",
    "gelu": "GELU",
}
_ACT_COLORS = {
    "relu": "tab:red",
    "leaky_relu": "tab:green",
    "prelu": "tab:purple",
    "elu": "tab:olive",
    "gelu": "tab:cyan",
}


def _derivative(layer: Dense) -> np.ndarray:
    """|f'(z)| of a Dense layer on its cached forward pass (PReLU: its learned slopes)."""
    z = layer.z
    act = layer.activation
    if act.learnable:  # PReLU: f'(z) = 1 for z > 0, alpha_j otherwise (alpha is trained)
        return np.abs(np.where(z > 0, 1.0, layer.params["alpha"]))
    return np.abs(act.derivative(z, layer.a))


class _DeadUnits(Callback):
    """Per hidden layer, on the whole of X (inference mode), before training and after
    every epoch: the fraction of units with |f'(z)| < DEAD_DERIVATIVE for every sample
    (``dead``) and with z <= 0 for every sample (``negative``)."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self.dead: list[list[float]] = []
        self.negative: list[list[float]] = []

    def _measure(self, net: Sequential) -> None:
        with np.errstate(all="ignore"):
            net.forward(self.X)
            hidden = _dense(net)[:-1]
            self.dead.append(
                [float(np.mean((_derivative(h) < DEAD_DERIVATIVE).all(axis=0))) for h in hidden]
            )
            self.negative.append([float(np.mean((h.z <= 0).all(axis=0))) for h in hidden])

    def on_train_begin(self, state, net):
        self._measure(net)

    def on_epoch_end(self, state, net):
        self._measure(net)


def _dying_run(act, X, y, *, depth, width, seed, bias, optimizer, lr, epochs) -> dict[str, Any]:
    net = _deep(
        act,
        "he_normal",
        depth=depth,
        width=width,
        seed=seed,
        bias_init={"name": "constant", "value": bias},
    )
    dead, flow = _DeadUnits(X), GradientFlow()
    hist, rec = _fit(
        net,
        X,
        y,
        loss="bce",
        optimizer=optimizer,
        learning_rate=lr,
        epochs=epochs,
        batch_size=64,
        callbacks=[dead, flow],
        seed=seed,
    )
    return {
        "dead": np.array(dead.dead),  # (epochs + 1, layers)
        "negative": np.array(dead.negative),
        "flow_dead": flow.history["dead_fraction"][:, :-1],  # hidden layers
        "loss": _bce(net, X, y),
        "accuracy": _accuracy(net, X, y),
        **rec,
    }


@register(
    "dying-relu",
    section="2",
    order=5,
    title={
        "en": "Dying ReLU: units that stop learning, and the variants that keep them alive",
        "pt": "ReLU moribunda: unidades que param de aprender, e as variantes que as mantêm vivas",
    },
    claim={
        "en": "A ReLU node whose weighted sum stays negative for every input outputs 0, gets a "
        "zero gradient and never updates again; a large learning rate or a negative bias kills "
        "many of them. Leaky ReLU, PReLU, ELU and GELU keep a gradient for g < 0, so their nodes "
        "stay alive in the same setting.",
        "pt": "Um nó ReLU cuja soma ponderada fica negativa para toda entrada dá saída 0, recebe "
        "gradiente nulo e nunca mais se atualiza; uma taxa de aprendizado grande ou um viés "
        "negativo mata muitos deles. Leaky ReLU, PReLU, ELU e GELU mantêm um gradiente para "
        "g < 0, e seus nós continuam vivos no mesmo cenário.",
    },
)
def dying_relu(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    depth: int = 4,
    width: int = 32,
    samples: int | None = None,
    epochs: int | None = None,
    repeats: int | None = None,
    learning_rate: float = 0.05,
    bias: float = -1.5,
    bias_learning_rate: float = 0.01,
) -> dict[str, Any]:
    """Two settings on two spirals, Adam, batches of 64, He initialisation:
    (A) a large step (``learning_rate``, zero biases), ``repeats`` seeds;
    (B) a negative bias initialisation (``bias``) with a normal step.

    Metrics per activation (setting A, mean over the seeds unless said):
    ``initial_dead_fraction``, ``final_dead_fraction`` (hidden units with
    |f'(z)| < DEAD_DERIVATIVE for every training sample, mean over layers),
    ``final_dead_fraction_per_layer``, ``final_negative_fraction`` (units with
    z <= 0 for every sample: asleep, but only ReLU's get no gradient),
    ``gradientflow_dead_fraction_final`` (GradientFlow's per-batch ReLU count, per
    layer), ``final_loss``, ``final_accuracy``; ``relu_dead_fraction_per_epoch``
    (first seed, per layer); the same with a ``negative_bias_`` prefix for
    setting B; ``twins`` (every activation started from the same weights)."""
    t = T(lang)
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    n = (
        check_int("samples", samples, minimum=20)
        if samples is not None
        else (600 if quick else 2000)
    )
    n_epochs = (
        check_int("epochs", epochs, minimum=1) if epochs is not None else (6 if quick else 20)
    )
    reps = check_int("repeats", repeats, minimum=1) if repeats is not None else (1 if quick else 3)
    lr = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    bias = check_float("bias", bias)
    lr_b = check_float("bias_learning_rate", bias_learning_rate, minimum=0.0, strict_min=True)
    X, y = _spirals(n, seed)
    common = {"depth": depth, "width": width, "optimizer": "adam", "epochs": n_epochs}

    large: dict[str, list[dict[str, Any]]] = {a: [] for a in DYING_ACTIVATIONS}
    for r in range(reps):
        for act in DYING_ACTIVATIONS:
            large[act].append(_dying_run(act, X, y, seed=seed + r, bias=0.0, lr=lr, **common))
    # twins: every activation starts from the same weights (checked on fresh networks)
    twins = all(
        _twin(
            _deep(a, "he_normal", depth=depth, width=width, seed=seed),
            _deep("relu", "he_normal", depth=depth, width=width, seed=seed),
        )
        == "identical"
        for a in DYING_ACTIVATIONS
    )
    neg = {
        a: _dying_run(a, X, y, seed=seed, bias=bias, lr=lr_b, **common) for a in DYING_ACTIVATIONS
    }

    def mean_dead(runs, i):
        return float(np.mean([run["dead"][i].mean() for run in runs]))

    _dying_figure(large, neg, t, lr, bias, lr_b, out_dir / "dying_relu.png")
    acts = DYING_ACTIVATIONS
    return {
        "setting": {
            "data": f"two spirals, {n} points, standardised",
            "network": f"{depth} hidden layers x {width} nodes, He (normal) initialisation",
            "optimizer": "Adam, batch 64, binary cross-entropy",
            "epochs": n_epochs,
            "large_step": f"learning_rate={lr:g}, zero biases, seeds {seed}..{seed + reps - 1}",
            "negative_bias": f"bias_init={bias:g}, learning_rate={lr_b:g}, seed {seed}",
            "dead_unit": f"|f'(z)| < {DEAD_DERIVATIVE:g} for every training sample",
        },
        "twins": twins,
        "initial_dead_fraction": {a: mean_dead(large[a], 0) for a in acts},
        "final_dead_fraction": {a: mean_dead(large[a], -1) for a in acts},
        "final_dead_fraction_per_layer": {
            a: np.mean([run["dead"][-1] for run in large[a]], axis=0).tolist() for a in acts
        },
        "final_negative_fraction": {
            a: float(np.mean([run["negative"][-1].mean() for run in large[a]])) for a in acts
        },
        "gradientflow_dead_fraction_final": {
            a: np.mean([run["flow_dead"][-1] for run in large[a]], axis=0).tolist() for a in acts
        },
        "relu_dead_fraction_per_epoch": large["relu"][0]["dead"].tolist(),
        "final_loss": {
            a: float(np.mean([run["loss"] or np.nan for run in large[a]])) for a in acts
        },
        "final_accuracy": {a: float(np.mean([run["accuracy"] for run in large[a]])) for a in acts},
        "negative_bias_initial_dead_fraction": {a: float(neg[a]["dead"][0].mean()) for a in acts},
        "negative_bias_final_dead_fraction": {a: float(neg[a]["dead"][-1].mean()) for a in acts},
        "negative_bias_initial_negative_fraction": {
            a: float(neg[a]["negative"][0].mean()) for a in acts
        },
        "negative_bias_final_negative_fraction": {
            a: float(neg[a]["negative"][-1].mean()) for a in acts
        },
        "negative_bias_final_loss": {a: neg[a]["loss"] for a in acts},
        "negative_bias_final_accuracy": {a: neg[a]["accuracy"] for a in acts},
        "gradient_warnings": {
            a: ", ".join(sorted({k for run in large[a] for k in run["gradient_warnings"]}))
            for a in acts
        },
    }


def _dying_figure(large, neg, t: T, lr, bias, lr_b, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    (ax_a, ax_layers), (ax_b, ax_acc) = axes
    for act, runs in large.items():
        curves = np.array([run["dead"].mean(axis=1) for run in runs])
        ep = np.arange(curves.shape[1])
        c = _ACT_COLORS[act]
        ax_a.plot(ep, curves.mean(axis=0), color=c, lw=2, label=_ACT_NAMES[act])
        if len(runs) > 1:
            ax_a.fill_between(ep, curves.min(axis=0), curves.max(axis=0), color=c, alpha=0.15)
        d = neg[act]["dead"].mean(axis=1)
        ax_b.plot(np.arange(len(d)), d, color=c, lw=2, label=_ACT_NAMES[act])
        asleep = neg[act]["negative"].mean(axis=1)
        ax_b.plot(np.arange(len(asleep)), asleep, color=c, lw=1.2, ls="--")
    reps = len(large["relu"])
    ax_a.set_title(
        t(
            f"Large step (Adam, lr = {lr:g}): dead units",
            f"Passo grande (Adam, taxa = {_num(lr, t, 'g')}): unidades mortas",
        )
        + (
            t(
                f"\nmean of {reps} seeds, band min–max",
                f"\nmédia de {reps} sementes, faixa mín.–máx.",
            )
            if reps > 1
            else ""
        )
    )
    ax_b.set_title(
        t(
            f"Negative bias (b = {bias:g}, Adam, lr = {lr_b:g}): dead units",
            f"Viés negativo (b = {_num(bias, t, 'g')}, Adam, taxa = {_num(lr_b, t, 'g')}): "
            "unidades mortas",
        )
    )
    ax_b.plot(
        [],
        [],
        color="k",
        lw=1.2,
        ls="--",
        label=t("dashed: z ≤ 0 for every sample", "tracejado: z ≤ 0 em toda amostra"),
    )
    for ax in (ax_a, ax_b):
        ax.set_xlabel(t("epoch (0 = initial weights)", "época (0 = pesos iniciais)"))
        ax.set_ylabel(t("fraction of dead hidden units", "fração de unidades ocultas mortas"))
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)

    relu = large["relu"][0]
    layers = relu["dead"].shape[1]
    cmap = plt.get_cmap("Reds")
    for j in range(layers):
        color = cmap(0.35 + 0.65 * j / max(layers - 1, 1))
        ax_layers.plot(
            np.arange(relu["dead"].shape[0]),
            relu["dead"][:, j],
            color=color,
            lw=2,
            label=t(f"layer {j + 1}: whole training set", f"camada {j + 1}: todo o treino"),
        )
        fd = relu["flow_dead"][:, j]
        ax_layers.plot(
            np.arange(1, len(fd) + 1),
            fd,
            color=color,
            lw=1,
            ls="--",
            label=t(
                f"layer {j + 1}: GradientFlow (per batch)",
                f"camada {j + 1}: GradientFlow (por lote)",
            ),
        )
    ax_layers.set_title(
        t(
            "ReLU, large step: dead fraction per layer",
            "ReLU, passo grande: fração morta por camada",
        )
    )
    ax_layers.set_xlabel(t("epoch", "época"))
    ax_layers.set_ylabel(t("fraction of dead units", "fração de unidades mortas"))
    ax_layers.set_ylim(-0.03, 1.03)
    ax_layers.grid(alpha=0.3)
    ax_layers.legend(fontsize=7, ncol=2)

    acts = list(large)
    x = np.arange(len(acts))
    acc_large = [np.mean([run["accuracy"] for run in large[a]]) for a in acts]
    acc_neg = [neg[a]["accuracy"] for a in acts]
    ax_acc.bar(
        x - 0.2,
        acc_large,
        0.4,
        color=[_ACT_COLORS[a] for a in acts],
        label=t("large step", "passo grande"),
    )
    ax_acc.bar(
        x + 0.2,
        acc_neg,
        0.4,
        color=[_ACT_COLORS[a] for a in acts],
        alpha=0.45,
        hatch="//",
        label=t("negative bias", "viés negativo"),
    )
    for i, (a, b) in enumerate(zip(acc_large, acc_neg, strict=True)):
        ax_acc.text(i - 0.2, a + 0.01, _num(a, t, ".1%"), ha="center", fontsize=7.5)
        ax_acc.text(i + 0.2, b + 0.01, _num(b, t, ".1%"), ha="center", fontsize=7.5)
    ax_acc.set_xticks(x, [_ACT_NAMES[a] for a in acts])
    ax_acc.set_ylim(0, 1.1)
    ax_acc.axhline(0.5, color="k", lw=0.8, ls=":")
    ax_acc.set_ylabel(t("final training accuracy", "acurácia final de treino"))
    ax_acc.set_title(t("What the dead units cost", "O que as unidades mortas custam"))
    ax_acc.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path)


# --------------------------------------------------------------- failure lab
def _r2(pred: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination; non-finite predictions give -inf (reported as None)."""
    if not np.isfinite(pred).all():
        return -math.inf
    return float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))


def _net_r2(net: Sequential, X, y) -> float:
    """R² of the network's predictions (which may have overflowed: no warnings)."""
    with np.errstate(all="ignore"):
        return _r2(net.forward(X)[:, 0], y)


def _classify(net, X, y, **fit_kw) -> tuple[float, _Doc, dict[str, Any]]:
    _, rec = _fit(net, X, y, loss="bce", seed=net.seed, **fit_kw)
    return _accuracy(net, X, y), _diagnose(net, X, y, loss="bce"), rec


def _outcome(metric: str, broken, fixed, diag: _Doc, diag_fixed: _Doc) -> dict[str, Any]:
    """A preset's scores (``metric``) and diagnoses before and after its remedy."""
    return {
        "metric": metric,
        "broken": broken,
        "fixed": fixed,
        "diag": diag,
        "diag_fixed": diag_fixed,
    }


def _preset_deep_sigmoid(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = ctx["spirals"]
    kw = {"depth": 8, "width": 32, "seed": ctx["seed"]}
    fit = {
        "optimizer": "momentum",
        "learning_rate": 0.02,
        "epochs": ctx["epochs"],
        "batch_size": 32,
    }
    small = {"name": "normal", "scale": 0.1}
    broken, diag, rec = _classify(_deep("logistic", small, **kw), X, y, **fit)
    fixed, diag_fixed, _ = _classify(_deep("relu", "he_normal", **kw), X, y, **fit)
    alt, _, _ = _classify(_deep("logistic", "glorot_normal", batch_norm=True, **kw), X, y, **fit)
    return {
        "title": ("Deep sigmoid network", "Rede sigmoide profunda"),
        "setting": (
            "8 hidden logistic layers x 32, N(0, 0.1²) initialisation, SGD + momentum, lr 0.02",
            "8 camadas ocultas logísticas x 32, inicialização N(0, 0,1²), SGD + momento, taxa 0,02",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            "ReLU + He initialisation (same draw, same batches)",
            "ReLU + inicialização de He (mesmo sorteio, mesmos lotes)",
        ),
        "keyword": "ReLU",
        "alternative": (
            "logistic + Glorot + batch normalisation",
            "logística + Glorot + normalização em lote",
            alt,
        ),
        **rec,
    }


def _sine(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The lecture's sin x on [0, 2π] (n linspace points), x standardised."""
    from mlplab import datasets

    x, y = datasets.function("sin", n)
    return (x - x.mean()) / x.std(), y


def _regress(net: Sequential, X, y, **fit_kw) -> tuple[float, _Doc, dict[str, Any]]:
    _, rec = _fit(net, X, y, loss="mse", seed=net.seed, **fit_kw)
    return _net_r2(net, X, y), _diagnose(net, X, y, loss="mse"), rec


def _preset_high_lr(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = _sine(ctx["n"])

    def net() -> Sequential:
        return Sequential(
            [Dense(32, "tanh"), Dense(32, "tanh"), Dense(1)],
            n_inputs=1,
            init="glorot_normal",
            seed=ctx["seed"],
        )

    fit = {"optimizer": "momentum", "epochs": ctx["epochs"], "batch_size": 32}
    broken, diag, rec = _regress(net(), X, y, learning_rate=2.0, **fit)
    fixed, diag_fixed, _ = _regress(net(), X, y, learning_rate=0.05, **fit)
    alt, _, _ = _regress(net(), X, y, learning_rate=2.0, clip_norm=1.0, **fit)
    return {
        "title": ("Learning rate too high: NaN", "Taxa de aprendizado alta demais: NaN"),
        "setting": (
            "sin x on [0, 2π], 2 hidden tanh layers x 32, Glorot, MSE, SGD + momentum 0.9, lr 2",
            "sen x em [0, 2π], 2 camadas ocultas tanh x 32, Glorot, EQM, SGD + momento 0,9, taxa 2",
        ),
        **_outcome("R²", broken, fixed, diag, diag_fixed),
        "remedy": (
            "lower the learning rate: 2 -> 0.05 (same weights, same batches)",
            "reduzir a taxa de aprendizado: 2 -> 0,05 (mesmos pesos, mesmos lotes)",
        ),
        "keyword": "lower the learning rate",
        "alternative": ("lr 2 with clip_norm = 1", "taxa 2 com clip_norm = 1", alt),
        **rec,
    }


def _preset_dying(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = ctx["spirals"]
    kw = {"depth": 4, "width": 32, "seed": ctx["seed"]}
    fit = {"optimizer": "adam", "learning_rate": 0.01, "epochs": ctx["epochs"], "batch_size": 32}
    bias = {"name": "constant", "value": -1.5}
    broken, diag, rec = _classify(_deep("relu", "he_normal", bias_init=bias, **kw), X, y, **fit)
    fixed, diag_fixed, _ = _classify(
        _deep("leaky_relu", "he_normal", bias_init=bias, **kw), X, y, **fit
    )
    alt, _, _ = _classify(_deep("relu", "he_normal", **kw), X, y, **fit)
    return {
        "title": ("Dying ReLU", "ReLU moribunda"),
        "setting": (
            "4 hidden ReLU layers x 32, He, biases initialised to -1.5, Adam, lr 0.01",
            "4 camadas ocultas ReLU x 32, He, vieses iniciados em -1,5, Adam, taxa 0,01",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            "leaky_relu instead of relu (same weights and biases)",
            "leaky_relu em vez de relu (mesmos pesos e vieses)",
        ),
        "keyword": "leaky_relu",
        "alternative": ("ReLU + He with zero biases", "ReLU + He com vieses nulos", alt),
        **rec,
    }


def _preset_unscaled_target(ctx: dict[str, Any]) -> dict[str, Any]:
    seed = ctx["seed"]
    X, sine = _sine(ctx["n"])  # the input is standardised: only the target is not
    y = 2000.0 + 1000.0 * sine  # a target in the thousands

    def net() -> Sequential:
        return Sequential([Dense(32, "tanh"), Dense(32, "tanh"), Dense(1)], n_inputs=1, seed=seed)

    fit = {
        "loss": "mse",
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 32,
        "epochs": ctx["epochs"] * 5,
        "seed": seed,
    }
    broken_net = net()
    _, rec = _fit(broken_net, X, y, **fit)
    broken = _net_r2(broken_net, X, y)
    diag = _diagnose(broken_net, X, y, loss="mse")
    # the fix: standardise the target (sklearn's StandardScaler), train, transform back
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    ys = scaler.fit_transform(y.reshape(-1, 1))[:, 0]
    fixed_net = net()
    _fit(fixed_net, X, ys, **fit)
    fixed = _r2(scaler.inverse_transform(fixed_net.forward(X))[:, 0], y)
    diag_fixed = _diagnose(fixed_net, X, ys, loss="mse")
    alt_net = net()
    _fit(alt_net, X, y, clip_norm=1.0, **fit)
    alt = _net_r2(alt_net, X, y)
    return {
        "title": ("Unscaled regression target", "Alvo de regressão sem escala"),
        "setting": (
            "y = 2000 + 1000 sin x on [0, 2π] (x standardised), 2 tanh layers x 32, MSE, Adam, "
            "lr 0.01",
            "y = 2000 + 1000 sen x em [0, 2π] (x padronizado), 2 camadas tanh x 32, EQM, Adam, "
            "taxa 0,01",
        ),
        **_outcome("R²", broken, fixed, diag, diag_fixed),
        "remedy": (
            "standardise the target (StandardScaler on y), predict, transform back",
            "padronizar o alvo (StandardScaler em y), prever e voltar à escala original",
        ),
        "keyword": "target",
        "alternative": (
            "clip_norm = 1 (the exploding remedy), y unscaled",
            "clip_norm = 1 (o remédio da explosão), y sem escala",
            alt,
        ),
        **rec,
    }


def _xor_fit(hidden: tuple[int, ...], X, y, random_state: int) -> MLPClassifier:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return MLPClassifier(
            hidden_layer_sizes=hidden,
            activation="logistic",
            solver="lbfgs",
            random_state=random_state,
            max_iter=1000,
            convergence_warning=False,
        ).fit(X, y)


def _preset_xor(ctx: dict[str, Any]) -> dict[str, Any]:
    from mlplab import datasets

    seed = ctx["seed"]
    X, y = datasets.logic_gate("xor", ctx["n"], noise=0.1, seed=seed)
    # the first random_state from `seed` on whose 2-node network gets stuck
    bad, clf = None, None
    for rs in range(seed, seed + 100):
        clf = _xor_fit((2,), X, y, rs)
        if clf.score(X, y) < XOR_STUCK:
            bad = rs
            break
    if bad is None:  # pragma: no cover - no stuck initialisation among 100
        bad = seed
        clf = _xor_fit((2,), X, y, bad)
    broken = float(clf.score(X, y))
    diag = _diagnose(clf, X, y)
    restarts = [_xor_fit((2,), X, y, rs) for rs in range(bad + 1, bad + 1 + ctx["restarts"])]
    best = min(restarts, key=lambda c: c.loss_)
    fixed = float(best.score(X, y))
    diag_fixed = _diagnose(best, X, y)
    alt = float(_xor_fit((3,), X, y, bad).score(X, y))
    k = ctx["restarts"]
    return {
        "title": ("XOR stuck at 75 %", "XOR preso em 75 %"),
        "setting": (
            f"MLPClassifier(hidden_layer_sizes=(2,), logistic, lbfgs), random_state={bad} "
            "(the first stuck one)",
            f"MLPClassifier(hidden_layer_sizes=(2,), logística, lbfgs), random_state={bad} "
            "(o primeiro que fica preso)",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            f"other initialisations: best of random_state {bad + 1}..{bad + k} by training loss "
            f"(random_state {best.random_state})",
            f"outras inicializações: a melhor de random_state {bad + 1}..{bad + k} pela perda de "
            f"treino (random_state {best.random_state})",
        ),
        "keyword": None,  # a local minimum: the doctor reads saturated units, not the cause
        "alternative": (
            "3 hidden nodes, the same random_state",
            "3 nós ocultos, o mesmo random_state",
            alt,
        ),
        "gradient_warnings": [],
        "diverged": False,
        "bad_random_state": bad,
    }


PRESETS = {
    "deep_sigmoid": _preset_deep_sigmoid,
    "lr_too_high": _preset_high_lr,
    "dying_relu": _preset_dying,
    "unscaled_target": _preset_unscaled_target,
    "xor_stuck": _preset_xor,
}


_KINDS_PT = {
    "healthy": "saudável",
    "vanishing": "gradiente desaparecendo",
    "exploding": "gradiente explodindo",
    "saturated": "saturada",
    "dead": "unidades mortas",
    "nonfinite": "NaN/inf",
}


def _kinds(doc: _Doc, t: T | None = None) -> str:
    kinds = sorted(doc.diagnosis.kinds())
    if t is not None:
        kinds = [t(k, _KINDS_PT.get(k, k)) for k in kinds]
    return ", ".join(kinds)


@register(
    "failure-lab",
    section="5",
    order=3,
    title={
        "en": "Failure lab: break it, let the gradient doctor diagnose it, fix it",
        "pt": "Laboratório de falhas: quebre, deixe o médico do gradiente diagnosticar, conserte",
    },
    claim={
        "en": "Each classic failure leaves a measurable trace in the gradients: vanishing in a "
        "deep sigmoid net, an exploding gradient and NaN after too large a step, dead ReLU "
        "units, an exploding gradient and saturated units with an unscaled target, saturated "
        "units at XOR's local minimum; the lecture's remedy turns the broken run into a working "
        "one.",
        "pt": "Cada falha clássica deixa um rastro mensurável nos gradientes: desaparecimento numa "
        "rede sigmoide profunda, explosão do gradiente e NaN após um passo grande demais, "
        "unidades ReLU mortas, explosão do gradiente e unidades saturadas com um alvo sem escala, "
        "unidades saturadas no mínimo local do XOR; o remédio da aula transforma a execução "
        "quebrada numa que funciona.",
    },
)
def failure_lab(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    samples: int | None = None,
    epochs: int | None = None,
    restarts: int = 10,
) -> dict[str, Any]:
    """Run every preset of :data:`PRESETS`: broken, diagnosed, fixed; write
    ``failure_lab.txt`` (the doctor's reports) and ``failure_lab.png``.

    Metrics per preset: ``broken``/``fixed`` (training accuracy, or R² on the
    original scale; None when the network's outputs are not finite),
    ``doctor_broken``/``doctor_fixed`` (the kinds of the doctor's findings),
    ``remedy`` (what was applied), ``remedy_named_by_doctor`` (whether the doctor's
    report names it), ``alternative`` and ``alternative_metric`` (a second remedy,
    measured too, whether or not it works)."""
    t = T(lang)
    n = (
        check_int("samples", samples, minimum=20)
        if samples is not None
        else (400 if quick else 1000)
    )
    n_epochs = (
        check_int("epochs", epochs, minimum=1) if epochs is not None else (8 if quick else 20)
    )
    k = check_int("restarts", restarts, minimum=1)
    ctx = {"seed": seed, "n": n, "epochs": n_epochs, "restarts": k, "spirals": _spirals(n, seed)}
    results: dict[str, dict[str, Any]] = {}
    for key, preset in PRESETS.items():
        t0 = time.perf_counter()
        results[key] = preset(ctx)
        results[key]["seconds"] = time.perf_counter() - t0

    lines = [
        t(
            "Failure lab: the gradient doctor's reports",
            "Laboratório de falhas: os laudos do médico do gradiente",
        ),
        t(
            f"(seed {seed}; mlplab.diagnose after training, on the training data)",
            f"(semente {seed}; mlplab.diagnose após o treino, nos dados de treino)",
        ),
        "",
    ]
    for key, r in results.items():
        pick = 1 if lang == "pt" else 0
        metric = t(r["metric"], "acurácia" if r["metric"] == "accuracy" else r["metric"])
        lines += [
            "=" * 78,
            f"{r['title'][pick]} [{key}]",
            t("Setting: ", "Cenário: ") + r["setting"][pick],
            "",
            t("BROKEN", "QUEBRADO")
            + f" — {metric} {_fmt_metric(r['broken'], t)}"
            + (
                t(" (training diverged: NaN)", " (o treino divergiu: NaN)") if r["diverged"] else ""
            ),
            r["diag"].texts[lang],
            "",
            t("Remedy applied: ", "Remédio aplicado: ") + r["remedy"][pick],
            t("FIXED", "CONSERTADO") + f" — {metric} {_fmt_metric(r['fixed'], t)}",
            r["diag_fixed"].texts[lang],
            "",
            t("Alternative: ", "Alternativa: ")
            + r["alternative"][pick]
            + f" — {metric} {_fmt_metric(r['alternative'][2], t)}",
            "",
        ]
    text = "\n".join(lines)
    from mlplab.io import atomic_write

    atomic_write(str(out_dir / "failure_lab.txt"), text.encode("utf-8"))
    _failure_figure(results, t, out_dir / "failure_lab.png")

    keys = list(results)
    return {
        "presets": keys,
        "metric": {k: results[k]["metric"] for k in keys},
        "broken": {k: _finite(results[k]["broken"]) for k in keys},
        "fixed": {k: _finite(results[k]["fixed"]) for k in keys},
        "doctor_broken": {k: _kinds(results[k]["diag"]) for k in keys},
        "doctor_fixed": {k: _kinds(results[k]["diag_fixed"]) for k in keys},
        "remedy": {k: results[k]["remedy"][0] for k in keys},
        "remedy_named_by_doctor": {
            k: bool(results[k]["keyword"])
            and results[k]["keyword"] in results[k]["diag"].texts["en"]
            for k in keys
        },
        "alternative": {k: results[k]["alternative"][0] for k in keys},
        "alternative_metric": {k: _finite(results[k]["alternative"][2]) for k in keys},
        "broken_diverged": {k: results[k]["diverged"] for k in keys},
        "broken_gradient_warnings": {k: ", ".join(results[k]["gradient_warnings"]) for k in keys},
        "xor_bad_random_state": results["xor_stuck"]["bad_random_state"],
        "seconds_per_preset": {k: round(results[k]["seconds"], 3) for k in keys},
        "doctor_report": "failure_lab.txt",
    }


def _fmt_metric(v: float, t: T) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    return _num(v, t, ".3f" if abs(v) < 1e4 else ".3g")


def _failure_figure(results, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    keys = list(results)
    x = np.arange(len(keys))
    broken = [results[k]["broken"] for k in keys]
    fixed = [results[k]["fixed"] for k in keys]
    floor = -0.5
    fig, ax = plt.subplots(figsize=(13, 5.6))
    for off, vals, color, label in (
        (-0.2, broken, "tab:red", t("broken", "quebrado")),
        (0.2, fixed, "tab:green", t("fixed", "consertado")),
    ):
        shown = [max(v, floor) if math.isfinite(v) else floor for v in vals]
        cut = ["xx" if s_ <= floor else "" for s_ in shown]  # hatched: the bar goes further
        ax.bar(x + off, shown, 0.4, color=color, label=label, hatch=cut)
        for i, (v, s) in enumerate(zip(vals, shown, strict=True)):
            txt = _fmt_metric(v, t) if math.isfinite(v) else t("not finite", "não finito")
            ax.text(i + off, (s if s >= 0 else 0) + 0.02, txt, ha="center", fontsize=8)
    names = []
    for k in keys:
        r = results[k]
        metric = t(r["metric"], "acurácia" if r["metric"] == "accuracy" else r["metric"])
        doctor = _kinds(r["diag"], t)
        names.append(f"{t(*r['title'])}\n({metric})\n{t('doctor', 'médico')}: {doctor}")
    ax.set_xticks(x, names, fontsize=8)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(floor - 0.05, 1.12)
    ax.set_ylabel(
        t(
            "training accuracy or R² (below -0.5: cut)",
            "acurácia de treino ou R² (abaixo de -0,5: cortado)",
        )
    )
    ax.set_title(t("Before and after the doctor's remedy", "Antes e depois do remédio do médico"))
    ax.legend(loc="lower right", fontsize=9)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    save_figure(fig, path)
