"""``vanishing-gradient`` (lecture section 3): the first layer's gradient against depth.

Depth sweep: M = 1..20 hidden layers of 32 units, for eight activations with
ONE common initialisation, LeCun normal (N(0, 1/fan_in), i.e. standard deviation
1/sqrt(fan_in); for these square layers the same variance as Glorot normal), plus
the pairing the lecture recommends, ReLU + He normal (N(0, 2/fan_in)), as its own
series. For each network: one backward pass of the MSE loss on a fixed batch
(256 samples, 32 standard-normal features, a smooth target) and the norm of every
layer's weight gradient ||dL/dW_l||, averaged over seeds geometrically (the mean
of log10: the norms span orders of magnitude).

* ``log_slope``: least-squares slope of log10 ||dL/dW_1|| against M. The lecture's
  derivative bound for the logistic, 0.25 per layer, is log10(0.25) = -0.602
  (``logistic_bound_slope``); the figure draws 0.25^M scaled to the logistic's
  M = 1 value. It bounds the product of derivatives only: the weights multiply in
  too, which is why the measured slope need not sit exactly on it.
* ``first_last_ratio``: ||dL/dW_1|| / ||dL/dW_out|| (first hidden layer over the
  output layer, the layer nearest the loss) per M, and ``first_last_ratio_M20``.
  This isolates the lecture's claim "the early layers learn far more slowly than
  the late ones" from an overall change of scale: with LeCun init, ReLU, GELU and
  SiLU shrink the forward signal (and so every layer's gradient) with depth, which
  lowers ``log_slope`` while the ratio stays near 1; logistic and softplus (whose
  derivatives are at most 0.25 and 0.5) make the ratio itself collapse.

  Measured (full run, seed 0): ``log_slope`` logistic -0.64 (the bound: -0.60),
  GELU/SiLU -0.31, softplus -0.29, ReLU/leaky ReLU -0.18 (LeCun is half He's
  variance: the signal loses a factor sqrt(2) per layer, -0.15, both ways), ELU
  -0.06, tanh -0.04, ReLU + He -0.04. ``first_last_ratio_M20``: logistic 2e-13,
  softplus 8e-7, ReLU + He 0.56, every other series 1.2-1.7; ReLU + He stays in
  [0.15, 0.57] for every M. Tanh barely vanishes here: with Var(w) = 1/fan_in and
  tanh'(0) = 1 the per-layer factor is just under 1 (the net is near the "edge of
  chaos"); the lecture's "factors < 1" shows for tanh only with smaller weights or
  saturated units. ReLU + He is not perfectly flat either (slope -0.04): at width
  32 the log of the signal's norm drifts downward layer after layer (finite-width
  fluctuations), while its mean square is preserved.
* ``layer_norms_M10``: every layer's ||dL/dW_l|| at M = 10.
* ``training``: a logistic (LeCun) and a ReLU + He net of ``train_depth`` hidden
  layers trained with plain SGD (not Adam: Adam divides by the gradient's own
  scale and would hide the effect), with :class:`~mlplab.diagnostics.GradientFlow`:
  per layer and epoch the update ratio ||dW|| / ||W|| and the relative change
  ||W(t) - W(0)|| / ||W(0)||, and the gradient doctor's warnings.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_int
from mlplab.diagnostics import GradientFlow, layer_stats
from mlplab.experiments._depth import Recorder, doctor_warnings, fit_recording, mlp
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.network import Sequential

#: The activations of the depth sweep, all with the common LeCun-normal init.
SWEEP_ACTIVATIONS = ("logistic", "tanh", "relu", "leaky_relu", "elu", "gelu", "silu", "softplus")

#: The common initialisation: N(0, 1/fan_in).
COMMON_INIT = "lecun_normal"

#: The lecture's recommended pairing, drawn as its own series.
RELU_HE = "relu_he"

QUICK_DEPTHS = (1, 2, 4, 8, 10, 14, 20)

#: The depth whose every layer is drawn (the middle of the sweep if it is shallower).
PROBE_DEPTH = 10

#: Learning rates of the per-layer training: logistic gradients are small, and ReLU + He
#: at 0.05 already diverges on this problem.
TRAIN_LR = {"logistic": 0.1, RELU_HE: 0.01}

_NAMES = {
    "logistic": ("logistic", "logística"),
    "tanh": ("tanh", "tanh"),
    "relu": ("ReLU", "ReLU"),
    "leaky_relu": ("leaky ReLU", "leaky ReLU"),
    "elu": ("ELU", "ELU"),
    "gelu": ("GELU", "GELU"),
    "silu": ("SiLU", "SiLU"),
    "softplus": ("softplus", "softplus"),
    RELU_HE: ("ReLU + He", "ReLU + He"),
}

_COLORS = {
    "logistic": "tab:red",
    "tanh": "tab:orange",
    "relu": "tab:blue",
    "leaky_relu": "tab:cyan",
    "elu": "tab:purple",
    "gelu": "tab:brown",
    "silu": "tab:pink",
    "softplus": "tab:olive",
    RELU_HE: "k",
}

#: Dashed lines for the series that overlap another one (leaky ReLU on ReLU, SiLU on GELU).
_DASHED = ("leaky_relu", "silu")


def _style(key: str) -> dict[str, Any]:
    he = key == RELU_HE
    return {
        "color": _COLORS[key],
        "lw": 2.5 if he else 1.5,
        "marker": "o" if he else ".",
        "ls": "--" if key in _DASHED else "-",
    }


def _name(key: str, t: T) -> str:
    return t.lookup(_NAMES, key)


def _series(key: str) -> tuple[str, str]:
    """(activation, init) of a series of the depth sweep."""
    return ("relu", "he_normal") if key == RELU_HE else (key, COMMON_INIT)


def _grad_norms(net: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dW_l|| of every weight layer after one backward pass of the MSE loss."""
    net.loss_and_grad(X, y, "mse")
    return np.array([s["grad_norm_W"] for s in layer_stats(net)])


def _log_slope(depths: list[int], values: np.ndarray) -> float:
    return float(np.polyfit(np.asarray(depths, float), np.log10(values), 1)[0])


def compute(
    *, seed: int, quick: bool, width: int, max_depth: int, seeds: int, train_depth: int, epochs: int
) -> Result:
    """The depth sweep, the per-layer norms at the probe depth and the per-layer training
    (see the module docstring)."""
    width = check_int("width", width, minimum=1)
    max_depth = check_int("max_depth", max_depth, minimum=2)
    n_seeds = check_int("seeds", seeds, minimum=1)
    train_depth = check_int("train_depth", train_depth, minimum=1)
    epochs = check_int("epochs", epochs, minimum=1)
    if quick:
        depths = sorted({d for d in QUICK_DEPTHS if d <= max_depth} | {max_depth})
        n_seeds, epochs = min(n_seeds, 2), min(epochs, 10)
    else:
        depths = list(range(1, max_depth + 1))
    probe = PROBE_DEPTH if PROBE_DEPTH in depths else depths[len(depths) // 2]

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, width))
    y = np.tanh(X[:, : min(4, width)].sum(axis=1) / 2)

    keys = [*SWEEP_ACTIVATIONS, RELU_HE]
    first, ratio, at_probe = _sweep(keys, depths, probe, X, y, width, n_seeds, seed)
    log_slope = {k: _log_slope(depths, np.array(first[k])) for k in keys}
    last_ratio = {k: ratio[k][-1] for k in keys}

    training = {
        key: _train_layers(key, X, y, width, train_depth, epochs, seed)
        for key in ("logistic", RELU_HE)
    }
    he = ratio[RELU_HE]
    metrics = {
        "depths": depths,
        "width": width,
        "n_samples": int(X.shape[0]),
        "seeds": n_seeds,
        "common_init": "lecun_normal: N(0, 1/fan_in), std 1/sqrt(fan_in)",
        "relu_he_init": "he_normal: N(0, 2/fan_in)",
        "first_layer_norm": first,
        "log_slope": log_slope,
        "logistic_bound_slope": math.log10(0.25),
        "first_last_ratio": ratio,
        f"first_last_ratio_M{depths[-1]}": last_ratio,
        "relu_he_ratio_range": [float(min(he)), float(max(he))],
        "probe_depth": probe,
        f"layer_norms_M{probe}": at_probe,
        "training": {
            k: {kk: v for kk, v in r.items() if kk != "curves"} for k, r in training.items()
        },
    }
    data = {
        "depths": depths,
        "first": first,
        "ratio": ratio,
        "log_slope": log_slope,
        "at_probe": at_probe,
        "probe": probe,
        "training": training,
    }
    return Result(metrics, data)


def _sweep(keys, depths, probe, X, y, width, n_seeds, seed):
    """Per series and depth M: the first layer's ||dL/dW_1|| and its ratio to the output
    layer's (geometric means over the seeds), and every layer's norm at M = ``probe``."""
    first: dict[str, list[float]] = {}
    ratio: dict[str, list[float]] = {}
    at_probe: dict[str, list[float]] = {}
    for key in keys:
        activation, init = _series(key)
        first[key], ratio[key] = [], []
        for M in depths:
            logs = np.log10(
                [
                    _grad_norms(mlp(width, width, M, activation, init, seed + s), X, y)
                    for s in range(n_seeds)
                ]
            )  # (seeds, M + 1)
            mean = 10.0 ** logs.mean(axis=0)  # geometric mean over the seeds
            first[key].append(float(mean[0]))
            ratio[key].append(float(10.0 ** (logs[:, 0] - logs[:, -1]).mean()))
            if M == probe:
                at_probe[key] = mean.tolist()
    return first, ratio, at_probe


def _train_layers(
    key: str, X: np.ndarray, y: np.ndarray, width: int, depth: int, epochs: int, seed: int
) -> dict[str, Any]:
    """Train a deep net with SGD, recording each layer's update ratio and weight change."""
    activation, init = _series(key)
    net = mlp(X.shape[1], width, depth, activation, init, seed)
    flow, rec = GradientFlow(), Recorder()
    lr = TRAIN_LR[key]
    hist, caught = fit_recording(
        net,
        X,
        y,
        loss="mse",
        optimizer="sgd",
        learning_rate=lr,
        epochs=epochs,
        batch_size=32,
        callbacks=[flow, rec],
    )
    ur = flow.history["update_ratio"]  # (epochs, layers)
    rc = np.asarray(rec.relative_change)
    mean_ur = ur.mean(axis=0)
    return {
        "activation": activation,
        "init": init,
        "depth": depth,
        "optimizer": "sgd",
        "learning_rate": lr,
        "epochs": int(hist.epochs),
        "loss_first_epoch": float(hist["loss"][0]),
        "loss_last_epoch": float(hist["loss"][-1]),
        "update_ratio_mean": mean_ur.tolist(),
        "relative_change_final": rc[-1].tolist(),
        "first_last_update_ratio": float(mean_ur[0] / mean_ur[-1]),
        "first_last_relative_change": float(rc[-1, 0] / rc[-1, -1]),
        "doctor_warnings": doctor_warnings(caught),
        "curves": {"update_ratio": ur, "relative_change": rc},
    }


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``vanishing_depth_sweep.png``, ``vanishing_layer_norms.png`` and
    ``vanishing_learning_curves.png``."""
    d = result.data
    path = out_dir / "vanishing_depth_sweep.png"
    _sweep_figure(d["depths"], d["first"], d["ratio"], d["log_slope"], t, path)
    _probe_figure(d["at_probe"], d["probe"], t, out_dir / "vanishing_layer_norms.png")
    _training_figure(d["training"], t, out_dir / "vanishing_learning_curves.png")


def _sweep_figure(depths, first, ratio, log_slope, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # stacked, legends on the right: at the report's width the legends stay readable
    fig, axes = plt.subplots(2, 1, figsize=(10.5, 10), sharex=True)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax = axes[0]
    for key, values in first.items():
        ax.semilogy(
            depths,
            values,
            **_style(key),
            label=f"{_name(key, t)} ({t('slope', 'inclinação')} {t.num(log_slope[key], '+.2f')})",
        )
    m = np.asarray(depths, float)
    ax.semilogy(
        m,
        first["logistic"][0] * 0.25 ** (m - depths[0]),
        "--",
        color="tab:red",
        lw=1,
        label=t("0.25^M (logistic derivative bound)", "0,25^M (limite da derivada logística)"),
    )
    ax.set_ylabel(t("first layer: ||dL/dW_1||", "primeira camada: ||dL/dW_1||"))
    ax.set_title(
        t(
            "First-layer gradient against depth (log scale; slope: log10 per layer)",
            "Gradiente da primeira camada contra a profundidade "
            "(escala log; inclinação: log10 por camada)",
        )
    )
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1))
    ax = axes[1]
    ax.axhspan(0.1, 10, color="0.9", lw=0)
    for key, values in ratio.items():
        ax.semilogy(depths, values, **_style(key), label=_name(key, t))
    ax.set_xlabel(t("hidden layers M", "camadas ocultas M"))
    ax.set_ylabel("||dL/dW_1|| / ||dL/dW_out||")
    ax.set_title(
        t(
            "First layer over output layer (grey: within a factor 10)",
            "Primeira camada sobre a camada de saída (cinza: dentro de um fator 10)",
        )
    )
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(
        t(
            "One backward pass per network; common init N(0, 1/fan_in), ReLU + He: N(0, 2/fan_in)",
            "Uma retropropagação por rede; inicialização comum N(0, 1/fan_in), "
            "ReLU + He: N(0, 2/fan_in)",
        )
    )
    fig.subplots_adjust(hspace=0.15, top=0.93)
    save_figure(fig, path)


def _probe_figure(at_probe, probe: int, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    for key, values in at_probe.items():
        ax.semilogy(range(1, len(values) + 1), values, **_style(key), label=_name(key, t))
    n = probe + 1
    ticks = list(range(1, n + 1))
    ax.set_xticks(ticks, [str(i) for i in ticks[:-1]] + [t("out", "saída")])
    ax.set_xlabel(t("layer (1 = next to the input)", "camada (1 = junto à entrada)"))
    ax.set_ylabel("||dL/dW_l||")
    ax.set_title(
        t(
            f"Weight-gradient norm of every layer, M = {probe} hidden layers",
            f"Norma do gradiente dos pesos de cada camada, M = {probe} camadas ocultas",
        )
    )
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8, ncol=3)
    save_figure(fig, path)


def _training_figure(training: dict[str, dict], t: T, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig, axes = plt.subplots(2, 2, figsize=(14, 9), sharex=True)
    fig.subplots_adjust(hspace=0.25, wspace=0.25, top=0.91)
    cmap = plt.get_cmap("viridis")
    for row, (key, rec) in enumerate(training.items()):
        n = rec["depth"] + 1
        norm = Normalize(1, n)
        lr = t.num(rec["learning_rate"], "g")
        for col, (what, ylabel) in enumerate(
            (
                ("update_ratio", t("update ratio ||ΔW|| / ||W||", "razão ||ΔW|| / ||W||")),
                (
                    "relative_change",
                    t("change from init ||W − W0|| / ||W0||", "variação ||W − W0|| / ||W0||"),
                ),
            )
        ):
            ax = axes[row, col]
            curves = np.asarray(rec["curves"][what])
            epochs = np.arange(1, curves.shape[0] + 1)
            for j in range(n):
                ax.semilogy(epochs, curves[:, j], color=cmap(norm(j + 1)), lw=1.5)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3, which="major")
            ax.set_title(
                t(
                    f"{_name(key, t)}, {rec['depth']} hidden layers, SGD (lr {lr})",
                    f"{_name(key, t)}, {rec['depth']} camadas ocultas, SGD (taxa {lr})",
                )
            )
            if row == 1:
                ax.set_xlabel(t("epoch", "época"))
        fig.colorbar(
            ScalarMappable(norm=norm, cmap=cmap),
            ax=list(axes[row]),
            label=t("layer (1 = input side)", "camada (1 = lado da entrada)"),
        )
    fig.suptitle(
        t(
            "Per-layer learning: with the logistic the layers near the input barely move",
            "Aprendizado por camada: com a logística as camadas junto à entrada quase não mudam",
        )
    )
    save_figure(fig, path)


#: The report's criteria: "shrinks exponentially" (more than a factor 2 per layer),
#: "far more slowly" (below 1/100) and "the same size" (within a factor 10).
SHRINKS, FAR_SMALLER, SAME_SIZE = math.log10(0.5), 1e-2, 10.0


def _last_ratio(m: dict[str, Any]) -> tuple[int, dict[str, float]]:
    M = m["depths"][-1]
    return M, m[f"first_last_ratio_M{M}"]


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claims on the vanishing gradient, checked on the depth sweep and the
    per-layer training."""
    slope, first = m["log_slope"], m["first_layer_norm"]
    M, ratio = _last_ratio(m)
    logistic = slope["logistic"]
    lg_change = first["logistic"][-1] / first["logistic"][0]
    steepest = min(slope, key=slope.get)
    others = sorted((k for k in slope if k != steepest), key=lambda k: slope[k])
    far = _far(t)
    return [
        Row(
            t(
                "logistic: first layer's gradient ‖∂L/∂W₁‖ against the number of layers M",
                "logística: gradiente da primeira camada ‖∂L/∂W₁‖ contra o número de camadas M",
            ),
            t(
                "shrinks exponentially (here: by more than ×0.5 per layer); f′ ≤ 0.25 alone "
                "gives ×0.25",
                "encolhe exponencialmente (aqui: mais que ×0,5 por camada); só f′ ≤ 0,25 dá ×0,25",
            ),
            t(
                f"×{t.num(10**logistic, '.2f')} per layer (log10 slope {t.num(logistic, '+.2f')}); "
                f"×{t.num(lg_change, '.1e')} from M = {m['depths'][0]} to {M}",
                f"×{t.num(10**logistic, '.2f')} por camada (inclinação log10 "
                f"{t.num(logistic, '+.2f')}); ×{t.num(lg_change, '.1e')} de M = "
                f"{m['depths'][0]} a {M}",
            ),
            logistic < SHRINKS,
        ),
        Row(
            t(
                f"logistic: first layer's gradient over the output layer's, M = {M}",
                f"logística: gradiente da primeira camada sobre o da camada de saída, M = {M}",
            ),
            far,
            t.num(ratio["logistic"], ".1e"),
            ratio["logistic"] < FAR_SMALLER,
        ),
        Row(
            t(
                "which activation loses its gradient fastest with depth (log10 slope per layer)",
                "qual ativação perde o gradiente mais rápido com a profundidade (inclinação log10 "
                "por camada)",
            ),
            t(
                "the logistic, whose derivative is the smallest (f′ ≤ 0.25)",
                "a logística, cuja derivada é a menor (f′ ≤ 0,25)",
            ),
            f"{_name(steepest, t)} {t.num(slope[steepest], '+.2f')}; "
            + t("then ", "depois ")
            + ", ".join(f"{_name(k, t)} {t.num(slope[k], '+.2f')}" for k in others),
            steepest == "logistic",
        ),
    ] + _relu_he_rows(m, t)


def _far(t: T) -> str:
    return t(
        f"early layers learn far more slowly (here: below 1/{1 / FAR_SMALLER:g})",
        f"as primeiras camadas aprendem muito mais devagar (aqui: abaixo de 1/{1 / FAR_SMALLER:g})",
    )


def _relu_he_rows(m: dict[str, Any], t: T) -> list[Row]:
    """ReLU + He keeps the gradient's size across layers; the per-layer training."""
    M = m["depths"][-1]
    lo, hi = m["relu_he_ratio_range"]
    probe = m["probe_depth"]
    norms = m[f"layer_norms_M{probe}"]
    train = m["training"]

    def spread(key: str) -> float:
        return max(norms[key]) / min(norms[key])

    same = t(
        f"keeps the gradient the same size (here: within a factor {SAME_SIZE:g})",
        f"mantém o gradiente do mesmo tamanho (aqui: dentro de um fator {t.num(SAME_SIZE, 'g')})",
    )
    far = _far(t)
    return [
        Row(
            t(
                f"ReLU + He: first layer's gradient over the output layer's, M = 1 to {M}",
                f"ReLU + He: gradiente da primeira camada sobre o da camada de saída, M = 1 a {M}",
            ),
            same,
            t(
                f"between {t.num(lo, '.2f')} and {t.num(hi, '.2f')}",
                f"entre {t.num(lo, '.2f')} e {t.num(hi, '.2f')}",
            ),
            1 / SAME_SIZE <= lo and hi <= SAME_SIZE,
        ),
        Row(
            t(
                f"ReLU + He, M = {probe}: every layer's ‖∂L/∂W‖, largest over smallest",
                f"ReLU + He, M = {probe}: ‖∂L/∂W‖ de cada camada, maior sobre menor",
            ),
            same,
            t(
                f"{t.num(spread(RELU_HE), '.2g')} (logistic: {t.num(spread('logistic'), '.2g')})",
                f"{t.num(spread(RELU_HE), '.2g')} (logística: {t.num(spread('logistic'), '.2g')})",
            ),
            spread(RELU_HE) <= SAME_SIZE,
        ),
        Row(
            t(
                f"training ({train['logistic']['epochs']} epochs of SGD, "
                f"{train['logistic']['depth']} hidden layers): first layer's weight change "
                "over the output layer's",
                f"treino ({train['logistic']['epochs']} épocas de SGD, "
                f"{train['logistic']['depth']} camadas ocultas): variação dos pesos da primeira "
                "camada sobre a da camada de saída",
            ),
            far + t(" with the logistic", " com a logística"),
            t(
                f"logistic {t.num(train['logistic']['first_last_relative_change'], '.1e')}, "
                f"ReLU + He {t.num(train[RELU_HE]['first_last_relative_change'], '.2f')}",
                f"logística {t.num(train['logistic']['first_last_relative_change'], '.1e')}, "
                f"ReLU + He {t.num(train[RELU_HE]['first_last_relative_change'], '.2f')}",
            ),
            train["logistic"]["first_last_relative_change"] < FAR_SMALLER,
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in each figure."""
    slope = m["log_slope"]
    M, ratio = _last_ratio(m)
    probe = m["probe_depth"]
    return {
        "vanishing_depth_sweep.png": t(
            "Top: the first layer's gradient norm against the number of hidden layers M (log "
            "scale). The red logistic line falls with the dashed 0.25^M line (slope "
            f"{t.num(slope['logistic'], '+.2f')} per layer); the thick black ReLU + He line stays "
            f"nearly flat ({t.num(slope[RELU_HE], '+.2f')}). Bottom: the first layer's gradient "
            "over the output layer's: only the logistic and softplus leave the grey band (within "
            f"a factor 10), the logistic's down to {t.num(ratio['logistic'], '.0e')} at M = {M}.",
            "Em cima: a norma do gradiente da primeira camada contra o número de camadas ocultas "
            "M (escala log). A linha vermelha da logística cai junto da linha tracejada 0,25^M "
            f"(inclinação {t.num(slope['logistic'], '+.2f')} por camada); a linha preta grossa da "
            f"ReLU + He fica quase plana ({t.num(slope[RELU_HE], '+.2f')}). Embaixo: o gradiente "
            "da primeira camada sobre o da camada de saída: só a logística e a softplus saem da "
            "faixa cinza (dentro de um fator 10), a da logística até "
            f"{t.num(ratio['logistic'], '.0e')} em M = {M}.",
        ),
        "vanishing_layer_norms.png": t(
            f"Every layer's gradient norm in networks of M = {probe} hidden layers, from the "
            "input side (1) to the output layer (out). The red logistic line climbs by orders of "
            "magnitude towards the output: the layers near the input get the smallest "
            "gradients. The olive softplus line climbs too, less steeply; the others stay "
            "nearly level.",
            f"A norma do gradiente de cada camada em redes de M = {probe} camadas ocultas, do "
            "lado da entrada (1) até a camada de saída (saída). A linha vermelha da logística "
            "sobe ordens de grandeza em direção à saída: as camadas junto à entrada recebem os "
            "menores gradientes. A linha oliva da softplus também sobe, menos íngreme; as "
            "outras ficam quase niveladas.",
        ),
        "vanishing_learning_curves.png": t(
            "Training with plain SGD, one line per layer (dark: input side, yellow: output "
            "layer). Top, the logistic network: the layers near the input change orders of "
            "magnitude less than the output layer — they barely learn. Bottom, ReLU + He: every "
            "layer changes within about a factor 10 of the others.",
            "Treino com SGD simples, uma linha por camada (escura: lado da entrada, amarela: "
            "camada de saída). Em cima, a rede logística: as camadas junto à entrada mudam "
            "ordens de grandeza menos que a camada de saída — quase não aprendem. Embaixo, "
            "ReLU + He: cada camada muda dentro de um fator 10 das outras.",
        ),
    }


def _labels_for_depths(max_depth: int) -> dict[str, tuple[str, str]]:
    """The labels of the keys named after the sweep's deepest and probe depths."""
    return {
        f"first_last_ratio_M{max_depth}": (
            f"first layer's gradient over the output layer's at M = {max_depth}",
            f"gradiente da primeira camada sobre o da saída em M = {max_depth}",
        ),
        f"layer_norms_M{max_depth}": (
            f"every layer's ‖∂L/∂W‖ at M = {max_depth}, layer 1 to output",
            f"‖∂L/∂W‖ de cada camada em M = {max_depth}, da camada 1 à saída",
        ),
    }


LABELS = {
    "depths": ("numbers of hidden layers M swept", "números de camadas ocultas M varridos"),
    "width": ("units per hidden layer", "unidades por camada oculta"),
    "n_samples": ("samples in the batch", "amostras no lote"),
    "seeds": ("seeds per network (geometric mean)", "sementes por rede (média geométrica)"),
    "common_init": ("common initialisation", "inicialização comum"),
    "relu_he_init": ("ReLU + He initialisation", "inicialização ReLU + He"),
    "first_layer_norm": (
        "first layer's ‖∂L/∂W₁‖, per M",
        "‖∂L/∂W₁‖ da primeira camada, por M",
    ),
    "log_slope": ("log10 slope of ‖∂L/∂W₁‖ per layer", "inclinação log10 de ‖∂L/∂W₁‖ por camada"),
    "logistic_bound_slope": (
        "log10 of the logistic's bound 0.25 per layer",
        "log10 do limite 0,25 por camada da logística",
    ),
    "first_last_ratio": (
        "first layer's gradient over the output layer's, per M",
        "gradiente da primeira camada sobre o da saída, por M",
    ),
    "relu_he_ratio_range": (
        "ReLU + He: smallest and largest of that ratio",
        "ReLU + He: menor e maior valor dessa razão",
    ),
    "probe_depth": ("M of the per-layer figure", "M da figura por camada"),
    "training": ("training with SGD, per layer", "treino com SGD, por camada"),
    "activation": ("activation", "ativação"),
    "init": ("initialisation", "inicialização"),
    "depth": ("hidden layers", "camadas ocultas"),
    "optimizer": ("optimizer", "otimizador"),
    "learning_rate": ("learning rate", "taxa de aprendizado"),
    "epochs": ("epochs", "épocas"),
    "loss_first_epoch": ("loss after the first epoch", "perda após a primeira época"),
    "loss_last_epoch": ("loss after the last epoch", "perda após a última época"),
    "update_ratio_mean": (
        "mean update ratio ‖ΔW‖/‖W‖, layer 1 to output",
        "razão média ‖ΔW‖/‖W‖, da camada 1 à saída",
    ),
    "relative_change_final": (
        "change from init ‖W − W0‖/‖W0‖, layer 1 to output",
        "variação ‖W − W0‖/‖W0‖, da camada 1 à saída",
    ),
    "first_last_update_ratio": (
        "update ratio, first layer over output layer",
        "razão de atualização, primeira camada sobre a saída",
    ),
    "first_last_relative_change": (
        "change from init, first layer over output layer",
        "variação, primeira camada sobre a saída",
    ),
    "doctor_warnings": ("the gradient doctor's warnings", "avisos do doutor de gradientes"),
    **_NAMES,
    # the keys named after the deepest and the probe depth (options): any M up to 100
    **{k: v for M in range(1, 101) for k, v in _labels_for_depths(M).items()},
}


@register(
    "vanishing-gradient",
    section="3",
    order=3,
    title={
        "en": "Vanishing gradient: the first layer's gradient against depth, per activation",
        "pt": "Gradiente que desaparece: o gradiente da primeira camada contra a profundidade, "
        "por ativação",
    },
    claim={
        "en": "The gradient of a hidden layer's weights contains the product of the activation "
        "derivatives of every layer above it. With the logistic (f' ≤ 0.25) the first layer's "
        "gradient shrinks exponentially with the number of layers M and early layers learn far "
        "more slowly than late ones; ReLU (f' = 1 for z > 0) with He initialisation keeps the "
        "gradient of the same size in every layer.",
        "pt": "O gradiente dos pesos de uma camada oculta contém o produto das derivadas das "
        "ativações de todas as camadas acima dela. Com a logística (f' ≤ 0,25) o gradiente da "
        "primeira camada encolhe exponencialmente com o número de camadas M e as primeiras "
        "camadas aprendem muito mais devagar que as últimas; a ReLU (f' = 1 para z > 0) com a "
        "inicialização de He mantém o gradiente do mesmo tamanho em todas as camadas.",
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
    width: int = 32,
    max_depth: int = 20,
    seeds: int = 5,
    train_depth: int = 10,
    epochs: int = 30,
) -> dict[str, Any]:
    """Depth sweep of the first-layer gradient norm, per-layer norms at M = 10 and
    per-layer learning curves of a deep logistic net (see the module docstring)."""
    t = T(lang)
    result = compute(
        seed=seed,
        quick=quick,
        width=width,
        max_depth=max_depth,
        seeds=seeds,
        train_depth=train_depth,
        epochs=epochs,
    )
    draw(result, t, out_dir)
    return result.metrics
