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
from mlplab.experiments._common import legend_below_figure
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
from mlplab.experiments._registry import Result, Row, register, save_figure
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
    _mitigations_figure(d["runs"], labels, t, d["target"], path)
    _gradient_figure(d["runs"], labels, t, d["depth"], out_dir / "gradient_norms.png")


def _ratio_text(v: float | None, t: T) -> str:
    if v is None:
        return " —"
    return " 0" if v == 0 else " " + t.num(v, ".2g")


def _mitigations_figure(runs, labels, t: T, target: float, path: Path) -> None:
    """Loss and accuracy per epoch side by side, their legend below them, and the
    first/last-layer gradient ratio of every configuration underneath, full width."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10.4, 11.5))
    grid = fig.add_gridspec(3, 2, height_ratios=(4.2, 1.1, 5.4), hspace=0.3, wspace=0.28)
    ax_loss, ax_acc = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    ax_key, ax_bar = fig.add_subplot(grid[1, :]), fig.add_subplot(grid[2, :])
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
    ax_acc.set_xlabel(t("epoch", "época"))
    ax_acc.set_ylabel(t("training accuracy", "acurácia de treino"))
    ax_acc.set_ylim(0.4, 1.04)
    ax_acc.set_title(
        t(
            f"Accuracy per epoch (dashed: target {target:.0%})",
            f"Acurácia por época (tracejada: meta {target:.0%})",
        )
    )
    ax_acc.grid(alpha=0.3)
    ax_key.axis("off")
    handles, names = ax_loss.get_legend_handles_labels()
    ax_key.legend(handles, names, loc="center", ncol=3, fontsize=10, frameon=False)
    _ratio_panel(ax_bar, runs, labels, t)
    save_figure(fig, path)


def _ratio_panel(ax, runs, labels, t: T) -> None:
    """Horizontal bars: the first/last-layer gradient ratio at epoch 1 and at the last."""
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
        ax.barh(ypos + off, [v or floor for v in ratios], height=0.4, color=colors, **extra)
        for i, v in enumerate(ratios):
            ax.text(v or floor, i + off, _ratio_text(v, t), va="center", fontsize=9)
    ax.set_xscale("log")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_yticks(ypos, [labels[k] for k in keys])
    ax.invert_yaxis()
    ax.set_xlabel(t("‖dL/dW‖ first layer / last layer", "‖dL/dW‖ primeira camada / última"))
    ax.set_title(
        t(
            "Gradient reaching the first layer\n(1: as large as the last layer's)",
            "Gradiente que chega à 1ª camada\n(1: tão grande quanto o da última)",
        ),
        loc="left",
    )
    ax.grid(alpha=0.3, axis="x", which="both")
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 30)
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, frameon=False)


def _gradient_figure(runs, labels, t: T, depth: int, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.8), sharey=True)
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
        ax.set_title(t("‖dL/dW‖ per layer,\n", "‖dL/dW‖ por camada,\n") + title, fontsize=11)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(
        t("gradient norm (mean over the epoch)", "norma do gradiente (média na época)")
    )
    handles, names = axes[0].get_legend_handles_labels()
    fig.tight_layout()
    legend_below_figure(fig, handles, names, ncol=3, fontsize=10, frameon=False)
    save_figure(fig, path)


#: The lecture's mitigations (tanh with Glorot aside): ReLU and its variants with He.
RELU_FAMILY = ("relu_he", "leaky_relu_he", "elu_he", "gelu_he", "silu_he")
#: Every configuration the lecture says keeps the gradient flowing.
MITIGATED = (*RELU_FAMILY, "tanh_glorot", "relu_he_bn", "relu_he_high_lr_clip")


def _pct(t: T, a: float) -> str:
    return f"{t.num(100 * a, '.1f')} %"


def _reached(m: dict[str, Any], keys: tuple[str, ...], t: T) -> str:
    """The final accuracies of ``keys`` (a range for several) and when each reached the
    target ("never" if one did not)."""
    acc = [m["final_accuracy"][k] for k in keys]
    hit = [m["epochs_to_target"][k] for k in keys]
    shown = _pct(t, acc[0]) if len(keys) == 1 else f"{_pct(t, min(acc))} – {_pct(t, max(acc))}"
    n = m["task"]["epochs"]
    if all(isinstance(e, int) for e in hit):
        return shown + t(
            f", target reached by epoch {max(hit)}", f", meta atingida até a época {max(hit)}"
        )
    missed = sum(not isinstance(e, int) for e in hit)
    return shown + t(
        f" after {n} epochs; {missed} of {len(keys)} below the target",
        f" após {n} épocas; {missed} de {len(keys)} abaixo da meta",
    )


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The problem (vanishing, no learning) against the mitigations (the gradient flows,
    the network learns), each row a check."""
    return _gradient_rows(m, t) + _learning_rows(m, t)


def _gradient_rows(m: dict[str, Any], t: T) -> list[Row]:
    """The gradient reaching the first layer without and with the mitigations, and what
    the problem's network learns."""
    acc, ratio = m["final_accuracy"], m["grad_ratio_first_last_epoch1"]
    flowing = [ratio[k] for k in MITIGATED]
    small = ratio["logistic_small"]
    return [
        Row(
            t(
                "gradient reaching the first layer, logistic + small init (first / last "
                "layer, epoch 1)",
                "gradiente que chega à primeira camada, logística + init. pequena "
                "(primeira / última camada, época 1)",
            ),
            t("vanishes: below 0.001", "desaparece: abaixo de 0,001"),
            t.num(small, ".2g") if small is not None else "—",
            small is not None and small < 1e-3,
        ),
        Row(
            t(
                "final training accuracy, logistic + small init (two spirals)",
                "acurácia de treino final, logística + init. pequena (duas espirais)",
            ),
            t(
                "does not learn: stays at chance, 50 % (below 60 %)",
                "não aprende: fica no acaso, 50 % (abaixo de 60 %)",
            ),
            _pct(t, acc["logistic_small"]),
            acc["logistic_small"] < 0.6,
        ),
        Row(
            t(
                f"gradient reaching the first layer with the {len(MITIGATED)} mitigations "
                "(first / last layer, epoch 1)",
                f"gradiente que chega à primeira camada com as {len(MITIGATED)} mitigações "
                "(primeira / última camada, época 1)",
            ),
            t("flows: between 0.1 and 10", "flui: entre 0,1 e 10"),
            t(
                f"{t.num(min(flowing), '.2g')} to {t.num(max(flowing), '.2g')}",
                f"de {t.num(min(flowing), '.2g')} a {t.num(max(flowing), '.2g')}",
            )
            if None not in flowing
            else "—",
            None not in flowing and all(0.1 <= v <= 10 for v in flowing),
        ),
    ]


def _learning_rows(m: dict[str, Any], t: T) -> list[Row]:
    """Whether each mitigation's network reaches the target accuracy."""
    task, target = m["task"], m["task"]["target_accuracy"]
    acc = m["final_accuracy"]
    learns = t(
        f"learns: reaches the target, {target:.0%} training accuracy",
        f"aprende: atinge a meta, {target:.0%} de acurácia de treino",
    )

    def reach(keys: tuple[str, ...]) -> bool:
        return all(acc[k] >= target for k in keys)

    high, clip = "relu_he_high_lr", "relu_he_high_lr_clip"
    return [
        Row(
            t(
                "final training accuracy, ReLU, leaky ReLU, ELU, GELU, SiLU + He",
                "acurácia de treino final, ReLU, leaky ReLU, ELU, GELU, SiLU + He",
            ),
            learns,
            _reached(m, RELU_FAMILY, t),
            reach(RELU_FAMILY),
        ),
        Row(
            t("final training accuracy, tanh + Glorot", "acurácia de treino final, tanh + Glorot"),
            learns,
            _reached(m, ("tanh_glorot",), t),
            reach(("tanh_glorot",)),
        ),
        Row(
            t(
                "final training accuracy, ReLU + He + batch normalisation",
                "acurácia de treino final, ReLU + He + normalização em lote",
            ),
            learns,
            _reached(m, ("relu_he_bn",), t),
            reach(("relu_he_bn",)),
        ),
        Row(
            t(
                f"final training accuracy, ReLU + He at a too high learning rate "
                f"({task['high_learning_rate']:g}): without / with clipping by norm "
                f"({task['clip_norm']:g})",
                f"acurácia de treino final, ReLU + He com taxa alta demais "
                f"({t.num(task['high_learning_rate'], 'g')}): sem / com recorte por norma "
                f"({t.num(task['clip_norm'], 'g')})",
            ),
            t(
                "without: fails (below the target); with clipping: learns (reaches it)",
                "sem: falha (abaixo da meta); com recorte: aprende (atinge a meta)",
            ),
            f"{_pct(t, acc[high])} / {_pct(t, acc[clip])}",
            acc[high] < target <= acc[clip],
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in the two figures."""
    target, n = m["task"]["target_accuracy"], m["task"]["epochs"]
    glorot = m["final_accuracy"]["logistic_glorot"]
    ratio = m["grad_ratio_first_last_epoch1"]
    small, lg = (
        t.num(ratio[k], ".2g") if ratio[k] else "—" for k in ("logistic_small", "logistic_glorot")
    )
    g = m["grad_norm_W_epoch1_per_layer"]["logistic_small"]
    fall = t.num((g[-1] / g[0]) ** (1 / (len(g) - 1)), ".2g") if g[0] > 0 else "∞"
    curves = t(
        f"Top: training loss and accuracy per epoch ({n} epochs) of every configuration, from "
        f"twin initial weights. The solid red logistic + small init (hidden under the pink "
        f"dashed logistic + Glorot) stays flat at the chance loss ln 2 and 50 % accuracy; the "
        f"mitigations climb toward the dashed {target:.0%} target. Bottom: the gradient norm "
        f"of the first layer over the last's, per configuration (solid: epoch 1, hatched: the "
        f"last): {small} for logistic + small init, near the vertical line at 1 for the "
        f"mitigations. Logistic + Glorot alone: ratio {lg}, final accuracy {glorot:.1%}: "
        "Glorot sets the scale of the weights, not the logistic's derivative of at most 0.25.",
        f"Em cima: perda e acurácia de treino por época ({n} épocas) de cada configuração, a "
        f"partir de pesos iniciais gêmeos. A logística + init. pequena (vermelha contínua, "
        f"escondida sob a logística + Glorot rosa tracejada) fica parada na perda do acaso, "
        f"ln 2, e em 50 % de acurácia; as mitigações sobem em direção à meta de {target:.0%} "
        f"(tracejada). Embaixo: a norma do gradiente da primeira camada sobre a da última, por "
        f"configuração (cheia: época 1, hachurada: a última): {small} para a logística + init. "
        f"pequena, perto da linha vertical em 1 para as mitigações. A logística + Glorot "
        f"sozinha: razão {lg}, acurácia final {_pct(t, glorot)}: Glorot ajusta a escala dos "
        "pesos, não a derivada da logística, no máximo 0,25.",
    )
    dead = ("", "")
    if m["grad_ratio_first_last_final"]["relu_he_high_lr"] == 0:  # its first layers died
        dead = (
            " On the right, the dotted black line (ReLU + He at the too high learning rate) "
            "shows only near the output: toward the input its gradient is 0, its ReLU units died.",
            " À direita, a linha preta pontilhada (ReLU + He com a taxa alta demais) só aparece "
            "perto da saída: em direção à entrada seu gradiente é 0, suas unidades ReLU morreram.",
        )
    layers = t(
        "The gradient norm ‖dL/dW‖ of each weight layer, averaged over the batches of the "
        "first epoch (left) and of the last (right), log scale. The red logistic + small init "
        f"line falls by a factor of {fall} per layer on average from the output toward the "
        "input (layer 1): the vanishing gradient; the mitigations' lines stay nearly flat from "
        "the output to the first layer." + dead[0],
        "A norma do gradiente ‖dL/dW‖ de cada camada de pesos, média sobre os lotes da "
        "primeira época (à esquerda) e da última (à direita), escala log. A linha vermelha da "
        f"logística + init. pequena cai por um fator de {fall} por camada, em média, da saída "
        "para a entrada (camada 1): o gradiente que desaparece; as das mitigações ficam quase "
        "planas da saída até a primeira camada." + dead[1],
    )
    return {"mitigations.png": curves, "gradient_norms.png": layers}


LABELS: dict[str, tuple[str, str]] = {
    "task": ("task", "tarefa"),
    "final_loss": (
        "final training loss (cross-entropy)",
        "perda de treino final (entropia cruzada)",
    ),
    "final_accuracy": ("final training accuracy", "acurácia de treino final"),
    "epochs_to_target": (
        "first epoch at the target accuracy",
        "primeira época na meta de acurácia",
    ),
    "grad_ratio_first_last_epoch1": (
        "gradient norm, first layer over the last, epoch 1",
        "norma do gradiente, primeira camada sobre a última, época 1",
    ),
    "grad_ratio_first_last_final": (
        "gradient norm, first layer over the last, last epoch",
        "norma do gradiente, primeira camada sobre a última, última época",
    ),
    "diverged": ("diverged (NaN/inf)", "divergiu (NaN/inf)"),
    "gradient_warnings": ("gradient warnings during training", "avisos do gradiente no treino"),
    "initial_weights_vs_relu_he": (
        "initial weights against ReLU + He's",
        "pesos iniciais em relação aos de ReLU + He",
    ),
    "same_batch_order": ("same batches in every run", "mesmos lotes em todas as execuções"),
    "twins": ("twin networks", "redes gêmeas"),
    "grad_norm_W_epoch1_per_layer": (
        "gradient norm per layer, epoch 1",
        "norma do gradiente por camada, época 1",
    ),
    "loss_curve": ("training loss per epoch", "perda de treino por época"),
    "seconds_per_config": ("seconds per configuration", "segundos por configuração"),
    # nested: the task and the configurations
    "data": ("data", "dados"),
    "network": ("network", "rede"),
    "optimizer": ("optimiser", "otimizador"),
    "learning_rate": ("learning rate", "taxa de aprendizado"),
    "high_learning_rate": ("too high learning rate", "taxa de aprendizado alta demais"),
    "clip_norm": ("clip by norm (max norm)", "recorte por norma (norma máxima)"),
    "epochs": ("epochs", "épocas"),
    "target_accuracy": ("target accuracy", "meta de acurácia"),
    **{
        k: (en.replace("clip_norm", "clipping"), pt.replace("clip_norm", "recorte"))
        for k, (en, pt, *_) in CONFIGS.items()
    },
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
    headline=headline,
    captions=captions,
    labels=LABELS,
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
