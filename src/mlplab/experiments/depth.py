"""Vanishing and exploding gradients (lecture sections 3 and 4), measured.

``vanishing-gradient``
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

``exploding-gradient``
    A ReLU net of 10 hidden layers of 16 units initialised with weights larger than
    1: the constant 1.5, and a large normal N(0, gain^2 * 2/fan_in) with gain = 3
    (standard deviation 1.06 for fan_in = 16: three times He's), beside He itself.

    * ``layer_norms_<init>``: per layer (input side first, the output layer last)
      ``grad_W`` = ||dL/dW_l||, ``grad_b`` = ||dL/db_l|| and ``delta`` = ||dL/dz_l||,
      the error signal backpropagated to layer l, at initialisation.
    * ``growth_factor[init]``: ||dL/dz_l|| / ||dL/dz_{l+1}||, l = 1..10: the factor by
      which the error signal grows per layer toward the input (the chain rule
      multiplies it by W_{l+1}^T and f'(z_l)). Predicted (``predicted_growth_factor``):
      1.5 * 16 = 24 exactly for the constant (every unit identical and active, except
      into the single output unit: 1.5 * sqrt(16) = 6), about ``gain`` for the normal
      (in mean square), about 1 for He. ``mean_growth_factor``: the geometric mean over
      the hidden-to-hidden steps (l = 1..9), leaving out the step from the output unit.
    * ``growth_factor_W``: the same ratio for the weight gradients. Measured: about 1
      in every init. A ReLU net is positively homogeneous, so dL/dW_l = a_{l-1}^T dL/dz_l
      multiplies an activation that grew by the same factor going forward as the error
      signal grows going backward: the weight gradients are all huge (~gain^(2L) times
      He's) but of similar size in every layer. What grows toward the input is the
      error signal dL/dz (and with it the bias gradients dL/db).
    * Training (SGD, ``learning_rate``, batch 32), each from the same weights:
      without clipping the loss overflows to NaN/inf, the NaN guard (``on_nan="stop"``)
      keeps the last finite weights and warns ("Training diverged at epoch e, batch b");
      ``diverged_at`` = {"epoch", "batch"} of that batch. With ``clip_norm`` and with
      ``clip_value`` training stays finite and the loss falls by orders of magnitude
      (``final_loss_clip_norm``, ``final_loss_clip_value`` against ``initial_loss``).
      Clipping treats the symptom, not the cause: the clipped nets end near
      ``mean_predictor_loss`` (Var(y), the loss of predicting the mean) with many dead
      ReLU units (``dead_fraction``), while the same net with He init
      (``final_loss_he``) learns. The constant init is trained too (``constant_runs``):
      with this learning rate its first huge step kills the ReLU units (nine layers of
      ten dead) rather than overflowing, and only the output bias learns, down to the
      mean: the lecture's "ineffective training" rather than divergence.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_float, check_int
from mlplab.diagnostics import GradientFlow, GradientWarning, layer_stats
from mlplab.experiments._registry import T, register, save_figure
from mlplab.initializers import Constant, VarianceScaling
from mlplab.layers import Dense
from mlplab.losses import get_loss
from mlplab.network import Sequential
from mlplab.training.callbacks import Callback

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
    en, pt = _NAMES[key]
    return t(en, pt)


def _num(x: float, t: T, fmt: str = ".3g") -> str:
    """A number as the language writes it (Portuguese: decimal comma)."""
    text = format(x, fmt)
    return t(text, text.replace(".", ","))


def _dense(net: Sequential) -> list[Dense]:
    return [layer for layer in net.layers if isinstance(layer, Dense)]


def _mlp(
    n_inputs: int, width: int, depth: int, activation: str, init: Any, seed: int
) -> Sequential:
    """``depth`` hidden Dense layers of ``width`` units and one linear output unit."""
    layers = [Dense(width, activation=activation) for _ in range(depth)] + [Dense(1)]
    return Sequential(layers, n_inputs=n_inputs, init=init, seed=seed)


def _series(key: str) -> tuple[str, str]:
    """(activation, init) of a series of the depth sweep."""
    return ("relu", "he_normal") if key == RELU_HE else (key, COMMON_INIT)


def _grad_norms(net: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dW_l|| of every weight layer after one backward pass of the MSE loss."""
    net.loss_and_grad(X, y, "mse")
    return np.array([s["grad_norm_W"] for s in layer_stats(net)])


def _log_slope(depths: list[int], values: np.ndarray) -> float:
    return float(np.polyfit(np.asarray(depths, float), np.log10(values), 1)[0])


class _Recorder(Callback):
    """Per-step batch loss and, per epoch, each layer's ||W(t) - W(0)|| / ||W(0)||."""

    def on_train_begin(self, state, net):
        self.w0 = [d.W.copy() for d in _dense(net)]
        self.step_loss: list[float] = []
        self.relative_change: list[list[float]] = []

    def on_gradients(self, state, net):
        self.step_loss.append(float(state.loss))

    def on_epoch_end(self, state, net):
        self.relative_change.append(
            [
                float(np.linalg.norm(d.W - w0) / np.linalg.norm(w0))
                for d, w0 in zip(_dense(net), self.w0, strict=True)
            ]
        )


def _fit_recording(net: Sequential, X, y, **kwargs) -> tuple[Any, list[warnings.WarningMessage]]:
    """``net.fit`` catching its RuntimeWarning (divergence) and GradientWarnings, which
    the experiment records; any other warning is passed on."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hist = net.fit(X, y, **kwargs)
    kept = []
    for w in caught:
        ours = issubclass(w.category, GradientWarning) or (
            issubclass(w.category, RuntimeWarning)
            and str(w.message).startswith("Training diverged")
        )
        if ours:
            kept.append(w)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return hist, kept


def _doctor(caught: list[warnings.WarningMessage]) -> list[str]:
    """The gradient doctor's warnings, shortened to "epoch e: layer: kind"."""
    out = []
    for w in caught:
        if issubclass(w.category, GradientWarning):
            out.append(str(w.message).split(" gradient flow")[0])
    return out


# ================================================================ vanishing
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
)
def vanishing_gradient(
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
    first: dict[str, list[float]] = {}
    ratio: dict[str, list[float]] = {}
    at_probe: dict[str, list[float]] = {}
    for key in keys:
        activation, init = _series(key)
        first[key], ratio[key] = [], []
        for M in depths:
            logs = np.log10(
                [
                    _grad_norms(_mlp(width, width, M, activation, init, seed + s), X, y)
                    for s in range(n_seeds)
                ]
            )  # (seeds, M + 1)
            mean = 10.0 ** logs.mean(axis=0)  # geometric mean over the seeds
            first[key].append(float(mean[0]))
            ratio[key].append(float(10.0 ** (logs[:, 0] - logs[:, -1]).mean()))
            if M == probe:
                at_probe[key] = mean.tolist()
    log_slope = {k: _log_slope(depths, np.array(first[k])) for k in keys}
    last_ratio = {k: ratio[k][-1] for k in keys}

    training = {
        key: _train_layers(key, X, y, width, train_depth, epochs, seed)
        for key in ("logistic", RELU_HE)
    }

    _sweep_figure(depths, first, ratio, log_slope, t, out_dir / "vanishing_depth_sweep.png")
    _probe_figure(at_probe, probe, t, out_dir / "vanishing_layer_norms.png")
    _training_figure(training, t, out_dir / "vanishing_learning_curves.png")
    he = ratio[RELU_HE]
    return {
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


def _train_layers(
    key: str, X: np.ndarray, y: np.ndarray, width: int, depth: int, epochs: int, seed: int
) -> dict[str, Any]:
    """Train a deep net with SGD, recording each layer's update ratio and weight change."""
    activation, init = _series(key)
    net = _mlp(X.shape[1], width, depth, activation, init, seed)
    flow, rec = GradientFlow(), _Recorder()
    lr = TRAIN_LR[key]
    hist, caught = _fit_recording(
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
        "doctor_warnings": _doctor(caught),
        "curves": {"update_ratio": ur, "relative_change": rc},
    }


def _sweep_figure(depths, first, ratio, log_slope, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax = axes[0]
    for key, values in first.items():
        ax.semilogy(
            depths,
            values,
            **_style(key),
            label=f"{_name(key, t)} ({t('slope', 'inclinação')} {_num(log_slope[key], t, '+.2f')})",
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
    ax.set_xlabel(t("hidden layers M", "camadas ocultas M"))
    ax.set_ylabel(t("first layer: ||dL/dW_1||", "primeira camada: ||dL/dW_1||"))
    ax.set_title(
        t(
            "First-layer gradient against depth (log scale; slope: log10 per layer)",
            "Gradiente da primeira camada contra a profundidade\n"
            "(escala log; inclinação: log10 por camada)",
        )
    )
    ax.grid(alpha=0.3, which="major")
    ax.legend(fontsize=8, loc="lower left")
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
    ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(
        t(
            "One backward pass per network; common init N(0, 1/fan_in), ReLU + He: N(0, 2/fan_in)",
            "Uma retropropagação por rede; inicialização comum N(0, 1/fan_in), "
            "ReLU + He: N(0, 2/fan_in)",
        )
    )
    fig.subplots_adjust(wspace=0.25, top=0.85)
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
        lr = _num(rec["learning_rate"], t, "g")
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


# ================================================================ exploding
def _error_signals(net: Sequential, X: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """Per weight layer at the current weights: ||dL/dW||, ||dL/db|| and ||dL/dz||.

    The gradients come from ``loss_and_grad``; the error signals dL/dz from a second
    pass of the chain rule over the same cached forward values (the layers' own
    ``backward``), reading dL/dz = dL/da * f'(z) at each layer.
    """
    loss = get_loss("mse")
    Y = y.reshape(-1, 1)
    with np.errstate(all="ignore"):
        net.loss_and_grad(X, Y, loss)
        stats = layer_stats(net)
        _, d = loss.value_and_gradient(net.layers[-1].a, Y)
        deltas = []
        for i in range(len(net.layers) - 1, -1, -1):
            layer = net.layers[i]
            dz = layer.activation.backward(layer.z, layer.a, d)
            deltas.append(float(np.linalg.norm(dz)))
            d = layer.backward(d, i > 0)
    return {
        "grad_W": [s["grad_norm_W"] for s in stats],
        "grad_b": [s["grad_norm_b"] for s in stats],
        "delta": deltas[::-1],
    }


def _diverged_at(stop_reason: str) -> dict[str, int] | None:
    match = re.search(r"diverged at epoch (\d+), batch (\d+)", stop_reason)
    return None if match is None else {"epoch": int(match[1]), "batch": int(match[2])}


def _run(net_factory, X, y, lr: float, epochs: int, **clip) -> dict[str, Any]:
    """Train a fresh copy with SGD (batch 32), recording the per-step loss and the guard."""
    net = net_factory()
    with np.errstate(all="ignore"):
        initial = float(net.loss(X, y))
    rec = _Recorder()
    hist, caught = _fit_recording(
        net,
        X,
        y,
        loss="mse",
        optimizer="sgd",
        learning_rate=lr,
        epochs=epochs,
        batch_size=32,
        callbacks=[rec],
        on_nan="stop",
        **clip,
    )
    with np.errstate(all="ignore"):
        final = float(net.loss(X, y))
        net.loss_and_grad(X, y, "mse")
        hidden = layer_stats(net)[:-1]
    guard = [
        str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)
    ]  # the NaN guard's RuntimeWarning, if it fired
    return {
        **clip,
        "initial_loss": initial,
        "final_loss": final,
        "epochs_run": int(hist.epochs),
        "diverged_at": _diverged_at(hist.stop_reason),
        "divergence_warning": guard[0] if guard else None,
        "stop_reason": hist.stop_reason,
        "dead_fraction": float(np.mean([s["dead_fraction"] for s in hidden])),
        "doctor_warnings": _doctor(caught),
        "step_loss": rec.step_loss,
    }


@register(
    "exploding-gradient",
    section="4",
    order=1,
    title={
        "en": "Exploding gradient: a deep ReLU net with weights larger than 1, and clipping",
        "pt": "Gradiente que explode: uma rede ReLU profunda com pesos maiores que 1, e o "
        "recorte do gradiente",
    },
    claim={
        "en": "With ReLU the chain rule also multiplies the weights: initialised larger than 1 "
        "they multiply into huge gradients, huge updates and divergence. Gradient clipping (by "
        "norm or by value) keeps the updates bounded and the training finite.",
        "pt": "Com a ReLU a regra da cadeia também multiplica os pesos: inicializados maiores "
        "que 1, eles se multiplicam em gradientes enormes, atualizações enormes e divergência. "
        "O recorte do gradiente (por norma ou por valor) limita as atualizações e mantém o "
        "treinamento finito.",
    },
)
def exploding_gradient(
    out_dir: Path,
    *,
    seed: int = 0,
    quick: bool = False,
    lang: str = "en",
    depth: int = 10,
    width: int = 16,
    constant: float = 1.5,
    gain: float = 3.0,
    learning_rate: float = 0.01,
    epochs: int = 200,
    clip_norm: float = 10.0,
    clip_value: float = 1.0,
) -> dict[str, Any]:
    """Per-layer gradient norms at a too-large init, divergence under SGD caught by the
    NaN guard, and the same training with clipping (see the module docstring)."""
    t = T(lang)
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    constant = check_float("constant", constant)
    gain = check_float("gain", gain, minimum=0.0, strict_min=True)
    lr = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    epochs = check_int("epochs", epochs, minimum=1)
    clip_norm = check_float("clip_norm", clip_norm, minimum=0.0, strict_min=True)
    clip_value = check_float("clip_value", clip_value, minimum=0.0, strict_min=True)
    if quick:
        epochs = min(epochs, 40)

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((256, width))
    y = np.sin(X[:, 0]) + 0.5 * X[:, min(1, width - 1)]
    inits = {
        "constant": Constant(constant),
        "normal": VarianceScaling(scale=2.0 * gain**2, mode="fan_in", distribution="normal"),
        "he": "he_normal",
    }

    def factory(name: str):
        return lambda: _mlp(width, width, depth, "relu", inits[name], seed)

    norms = {name: _error_signals(factory(name)(), X, y) for name in inits}
    growth = {
        name: [a / b for a, b in zip(n["delta"][:-1], n["delta"][1:], strict=True)]
        for name, n in norms.items()
    }
    growth_W = {
        name: [a / b for a, b in zip(n["grad_W"][:-1], n["grad_W"][1:], strict=True)]
        for name, n in norms.items()
    }

    clips = {
        "no_clip": {},
        "clip_norm": {"clip_norm": clip_norm},
        "clip_value": {"clip_value": clip_value},
    }
    runs = {c: _run(factory("normal"), X, y, lr, epochs, **kw) for c, kw in clips.items()}
    runs["he"] = _run(factory("he"), X, y, lr, epochs)
    constant_runs = {
        c: _run(factory("constant"), X, y, lr, epochs, **kw) for c, kw in clips.items()
    }
    mean_loss = float(np.var(y))

    _norms_figure(norms, growth, constant, gain, t, out_dir / "exploding_layer_norms.png")
    _exploding_training_figure(
        runs, constant_runs, mean_loss, constant, gain, lr, t, out_dir / "exploding_training.png"
    )

    def strip(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "step_loss"}

    def geo(values: list[float]) -> float:
        return float(10 ** np.mean(np.log10(values)))

    return {
        "depth": depth,
        "width": width,
        "n_samples": int(X.shape[0]),
        "inits": {
            "constant": f"constant {constant:g}",
            "normal": f"N(0, gain^2 * 2/fan_in), gain {gain:g}: "
            f"std {gain * math.sqrt(2 / width):.3g}",
            "he": "he_normal: N(0, 2/fan_in)",
        },
        "optimizer": "sgd",
        "learning_rate": lr,
        "batch_size": 32,
        "epochs": epochs,
        "clip_norm": clip_norm,
        "clip_value": clip_value,
        **{f"layer_norms_{name}": n for name, n in norms.items()},
        "growth_factor": growth,
        "mean_growth_factor": {name: geo(g[:-1]) for name, g in growth.items()},
        "predicted_growth_factor": {"constant": constant * width, "normal": gain, "he": 1.0},
        "growth_factor_W": growth_W,
        "mean_growth_factor_W": {name: geo(g[:-1]) for name, g in growth_W.items()},
        "initial_loss": runs["no_clip"]["initial_loss"],
        "diverged_at": runs["no_clip"]["diverged_at"],
        "divergence_warning": runs["no_clip"]["divergence_warning"],
        # the batch losses of the steps before the NaN/inf one
        "losses_before_divergence": (
            runs["no_clip"]["step_loss"] if runs["no_clip"]["diverged_at"] else None
        ),
        "final_loss_clip_norm": runs["clip_norm"]["final_loss"],
        "final_loss_clip_value": runs["clip_value"]["final_loss"],
        "final_loss_he": runs["he"]["final_loss"],
        "mean_predictor_loss": mean_loss,
        "runs": {c: strip(r) for c, r in runs.items()},
        "constant_runs": {c: strip(r) for c, r in constant_runs.items()},
    }


def _norms_figure(norms, growth, constant: float, gain: float, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    labels = {
        "constant": t(f"constant {constant:g}", f"constante {_num(constant, t, 'g')}"),
        "normal": t(f"normal, {gain:g}× He's std", f"normal, desvio {_num(gain, t, 'g')}× o de He"),
        "he": t("He (reference)", "He (referência)"),
    }
    colors = {"constant": "tab:red", "normal": "tab:orange", "he": "k"}
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5))
    n = len(norms["he"]["delta"])
    layers = np.arange(1, n + 1)
    for ax, what, ylabel, title in (
        (
            axes[0],
            "delta",
            "||dL/dz_l||",
            t(
                "Error signal reaching each layer: grows toward the input",
                "Sinal de erro que chega a cada camada: cresce em direção à entrada",
            ),
        ),
        (
            axes[1],
            "grad_W",
            "||dL/dW_l||",
            t(
                "Weight gradients: all huge, about equal across layers",
                "Gradientes dos pesos: todos enormes, quase iguais entre camadas",
            ),
        ),
    ):
        for name, rec in norms.items():
            label = labels[name]
            if what == "delta":
                g = float(10 ** np.mean(np.log10(growth[name][:-1])))
                label += t(f" (×{g:.3g} per layer)", f" (×{_num(g, t)} por camada)")
            ax.semilogy(layers, rec[what], "o-", color=colors[name], label=label)
        ax.set_xticks(layers, [str(i) for i in layers[:-1]] + [t("out", "saída")])
        ax.set_xlabel(t("layer (1 = next to the input)", "camada (1 = junto à entrada)"))
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=9)
    fig.suptitle(
        t(
            f"ReLU net of {n - 1} hidden layers at initialisation (one backward pass)",
            f"Rede ReLU de {n - 1} camadas ocultas na inicialização (uma retropropagação)",
        )
    )
    fig.subplots_adjust(wspace=0.25, top=0.86)
    save_figure(fig, path)


def _exploding_training_figure(
    runs, constant_runs, mean_loss: float, constant: float, gain: float, lr: float, t: T, path
) -> None:
    import matplotlib.pyplot as plt

    labels = {
        "no_clip": t("no clipping", "sem recorte"),
        "clip_norm": t("clip by norm", "recorte por norma"),
        "clip_value": t("clip by value", "recorte por valor"),
        "he": t("He init, no clipping", "inicialização de He, sem recorte"),
    }
    colors = {"no_clip": "tab:red", "clip_norm": "tab:blue", "clip_value": "tab:green", "he": "k"}
    finite = [
        max(r["step_loss"])
        for group in (runs, constant_runs)
        for r in group.values()
        if r["diverged_at"] is None and r["step_loss"]
    ]
    top = 10.0 ** (math.ceil(math.log10(max(finite))) + 4)
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.5), sharey=True)
    fig.subplots_adjust(wspace=0.08, top=0.87)
    panels = (
        (
            axes[0],
            runs,
            t(
                f"normal init, {gain:g}× He's std",
                f"inicialização normal, {_num(gain, t, 'g')}× He",
            ),
        ),
        (
            axes[1],
            constant_runs,
            t(
                f"constant init {constant:g}",
                f"inicialização constante {_num(constant, t, 'g')}",
            ),
        ),
    )
    for ax, group, title in panels:
        for name, rec in group.items():
            losses = np.asarray(rec["step_loss"])
            label = labels[name]
            if name in ("clip_norm", "clip_value"):
                label += f" ({name} = {_num(rec[name], t, 'g')})"
            ax.plot(np.arange(1, losses.size + 1), losses, color=colors[name], lw=1.2, label=label)
            at = rec["diverged_at"]
            if at is not None:  # the batch whose loss was NaN/inf: drawn at the top edge
                x = losses.size + 1
                ax.plot([x], [top], "X", color=colors[name], ms=12, clip_on=False)
                ax.annotate(
                    t(
                        f"step {x} (epoch {at['epoch']}, batch {at['batch']}): NaN/inf;\n"
                        "the guard stops and keeps the last finite weights",
                        f"passo {x} (época {at['epoch']}, lote {at['batch']}): NaN/inf;\n"
                        "a proteção para e mantém os últimos pesos finitos",
                    ),
                    xy=(x, top),
                    xytext=(12, -30),
                    textcoords="offset points",
                    fontsize=9,
                    color=colors[name],
                )
        ax.axhline(mean_loss, color="0.4", ls=":", lw=1)
        ax.text(
            1,
            mean_loss * 3,
            t("loss of predicting the mean, Var(y)", "perda de prever a média, Var(y)"),
            fontsize=8,
            color="0.3",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(top=top)
        ax.set_xlabel(t("SGD step (batch of 32)", "passo do SGD (lote de 32)"))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="center right")
    axes[0].set_ylabel(t("batch loss (MSE)", "perda do lote (MSE)"))
    fig.suptitle(
        t(
            f"Training with SGD, learning rate {lr:g}: divergence and clipping",
            f"Treinamento com SGD, taxa de aprendizado {_num(lr, t, 'g')}: divergência e recorte",
        )
    )
    save_figure(fig, path)
