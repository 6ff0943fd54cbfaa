"""``mitigations`` (lecture section 5): the mitigations of the vanishing and exploding
gradient side by side.

One deep task (a 10-hidden-layer net, 32 nodes per layer, on
two interleaved spirals) trained with each of the lecture's mitigations:
logistic + small random initialisation (the problem), tanh/logistic + Glorot,
ReLU + He, ReLU + He + batch normalisation, a too-high learning rate with and
without gradient clipping, and the ReLU variants + He. Measured: the final
loss, the epochs to reach the target accuracy, and the first/last-layer
gradient-norm ratio (``GradientFlow``).

The networks are twins (see :mod:`mlplab.experiments._deep`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_float, check_int
from mlplab.diagnostics import GradientFlow
from mlplab.experiments._deep import (
    accuracy,
    bce,
    count_option,
    deep,
    finite,
    fit_recorded,
    spirals,
    twin,
)
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T
from mlplab.network import Sequential

#: Training accuracy counted as "reached" by ``mitigations``.
TARGET_ACCURACY = 0.95

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


def _epochs_to(acc: list[float], target: float) -> int | str:
    hit = np.flatnonzero(np.asarray(acc, dtype=float) >= target)
    return int(hit[0]) + 1 if hit.size else "never"


def _ratio(g: np.ndarray) -> float | None:
    """First layer's gradient norm over the last layer's (None if undefined)."""
    if g.size == 0 or not (np.isfinite(g[0]) and np.isfinite(g[-1])) or g[-1] == 0:
        return None
    return float(g[0] / g[-1])


def compute(
    *,
    seed: int,
    quick: bool,
    depth: int,
    width: int,
    samples: int | None,
    epochs: int | None,
    learning_rate: float,
    high_learning_rate: float,
    clip_norm: float,
    target_accuracy: float,
) -> Result:
    """Every configuration trained on the spirals (see :func:`run`)."""
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    n = count_option("samples", samples, 20, (600, 2000), quick)
    n_epochs = count_option("epochs", epochs, 1, (8, 30), quick)
    lr = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    high = check_float("high_learning_rate", high_learning_rate, minimum=0.0, strict_min=True)
    clip = check_float("clip_norm", clip_norm, minimum=0.0, strict_min=True)
    target = check_float("target_accuracy", target_accuracy, minimum=0.0, maximum=1.0)
    X, y = spirals(n, seed)

    runs = _train_all(
        X,
        y,
        depth=depth,
        width=width,
        seed=seed,
        n_epochs=n_epochs,
        lr=lr,
        high=high,
        clip=clip,
        target=target,
    )
    keys = list(CONFIGS)
    metrics = {
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
    data = {"runs": runs, "depth": depth, "epochs": n_epochs, "target": target}
    return Result(metrics, data)


def _train_all(
    X,
    y,
    *,
    depth: int,
    width: int,
    seed: int,
    n_epochs: int,
    lr: float,
    high: float,
    clip: float,
    target: float,
) -> dict[str, dict[str, Any]]:
    """One deep net per configuration of :data:`CONFIGS`, trained from twin weights."""
    runs: dict[str, dict[str, Any]] = {}
    ref: Sequential | None = None
    for key, (_, _, act, init, bn, is_high, clipped) in CONFIGS.items():
        net = deep(act, init, depth=depth, width=width, seed=seed, batch_norm=bn)
        if ref is None:
            ref = deep("relu", "he_normal", depth=depth, width=width, seed=seed)
        initial = twin(net, ref)
        flow = GradientFlow()
        t0 = time.perf_counter()
        hist, rec = fit_recorded(
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
            "loss_curve": [finite(v) for v in hist["loss"]],
            "accuracy_curve": list(hist["accuracy"]),
            "grad_norm_W": g,
            "final_loss": bce(net, X, y),
            "final_accuracy": accuracy(net, X, y),
            "epochs_to_target": _epochs_to(hist["accuracy"], target),
            "ratio_first": _ratio(g[0]) if len(g) else None,
            "ratio_last": _ratio(g[-1]) if len(g) else None,
            "twin": initial,
            "seconds": time.perf_counter() - t0,
            **rec,
        }
    return runs


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``mitigations.png`` (loss, accuracy, first/last gradient ratio) and
    ``gradient_norms.png`` (the gradient norm per layer, first and last epoch)."""
    d = result.data
    labels = {k: t(v[0], v[1]) for k, v in CONFIGS.items()}
    path = out_dir / "mitigations.png"
    _mitigations_figure(d["runs"], labels, t, d["epochs"], d["target"], path)
    _gradient_figure(d["runs"], labels, t, d["depth"], out_dir / "gradient_norms.png")


def _ratio_text(v: float | None, t: T) -> str:
    if v is None:
        return " —"
    return " 0" if v == 0 else " " + t.num(v, ".1e")


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
def run(
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
    result = compute(
        seed=seed,
        quick=quick,
        depth=depth,
        width=width,
        samples=samples,
        epochs=epochs,
        learning_rate=learning_rate,
        high_learning_rate=high_learning_rate,
        clip_norm=clip_norm,
        target_accuracy=target_accuracy,
    )
    draw(result, t, out_dir)
    return result.metrics
