"""``exploding-gradient`` (lecture section 4): a deep ReLU net with weights larger than 1.

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
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_float, check_int
from mlplab.diagnostics import layer_stats
from mlplab.experiments._common import legend_below_figure
from mlplab.experiments._depth import Recorder, doctor_warnings, fit_recording, mlp
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.initializers import Constant, VarianceScaling
from mlplab.losses import get_loss
from mlplab.network import Sequential


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
    rec = Recorder()
    hist, caught = fit_recording(
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
        "doctor_warnings": doctor_warnings(caught),
        "step_loss": rec.step_loss,
    }


def compute(
    *,
    seed: int,
    quick: bool,
    depth: int,
    width: int,
    constant: float,
    gain: float,
    learning_rate: float,
    epochs: int,
    clip_norm: float,
    clip_value: float,
) -> Result:
    """Per-layer norms at initialisation and the SGD runs (see the module docstring)."""
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
        return lambda: mlp(width, width, depth, "relu", inits[name], seed)

    norms = {name: _error_signals(factory(name)(), X, y) for name in inits}
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
    setting = {
        "depth": depth,
        "width": width,
        "n_samples": int(X.shape[0]),
        "constant": constant,
        "gain": gain,
        "learning_rate": lr,
        "epochs": epochs,
        "clip_norm": clip_norm,
        "clip_value": clip_value,
        "mean_predictor_loss": float(np.var(y)),
    }
    metrics = _metrics(setting, norms, runs, constant_runs)
    data = {**setting, "norms": norms, "runs": runs, "constant_runs": constant_runs}
    return Result(metrics, data)


def _growth(norms: dict[str, dict[str, list[float]]], what: str) -> dict[str, list[float]]:
    """Per init: the ratio of ``what`` (``delta`` or ``grad_W``) of each layer to the next's."""
    return {
        name: [a / b for a, b in zip(n[what][:-1], n[what][1:], strict=True)]
        for name, n in norms.items()
    }


def _metrics(setting: dict[str, Any], norms, runs, constant_runs) -> dict[str, Any]:
    """The metrics of :func:`compute`: the setting, the norms and growth factors, the runs."""
    depth, width = setting["depth"], setting["width"]
    constant, gain = setting["constant"], setting["gain"]
    growth, growth_W = _growth(norms, "delta"), _growth(norms, "grad_W")
    mean_loss = setting["mean_predictor_loss"]

    def strip(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "step_loss"}

    def geo(values: list[float]) -> float:
        return float(10 ** np.mean(np.log10(values)))

    return {
        "depth": depth,
        "width": width,
        "n_samples": setting["n_samples"],
        "inits": {
            "constant": f"constant {constant:g}",
            "normal": f"N(0, gain^2 * 2/fan_in), gain {gain:g}: "
            f"std {gain * math.sqrt(2 / width):.3g}",
            "he": "he_normal: N(0, 2/fan_in)",
        },
        "optimizer": "sgd",
        "learning_rate": setting["learning_rate"],
        "batch_size": 32,
        "epochs": setting["epochs"],
        "clip_norm": setting["clip_norm"],
        "clip_value": setting["clip_value"],
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


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``exploding_layer_norms.png`` and ``exploding_training.png``."""
    d = result.data
    constant, gain = d["constant"], d["gain"]
    growth = _growth(d["norms"], "delta")
    _norms_figure(d["norms"], growth, constant, gain, t, out_dir / "exploding_layer_norms.png")
    _exploding_training_figure(
        d["runs"],
        d["constant_runs"],
        d["mean_predictor_loss"],
        constant,
        gain,
        d["learning_rate"],
        t,
        out_dir / "exploding_training.png",
    )


def _norms_figure(norms, growth, constant: float, gain: float, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    labels = {
        "constant": t(f"constant {constant:g}", f"constante {t.num(constant, 'g')}"),
        "normal": t(f"normal, {gain:g}× He's std", f"normal, desvio {t.num(gain, 'g')}× o de He"),
        "he": t("He (reference)", "He (referência)"),
    }
    colors = {"constant": "tab:red", "normal": "tab:orange", "he": "k"}
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5))
    n = len(norms["he"]["delta"])
    layers = np.arange(1, n + 1)
    for ax, what, ylabel, title in (
        (
            axes[0],
            "delta",
            "‖dL/dz‖",
            t(
                "Error signal reaching each layer:\ngrows toward the input",
                "Sinal de erro que chega a cada camada:\ncresce em direção à entrada",
            ),
        ),
        (
            axes[1],
            "grad_W",
            "‖dL/dW‖",
            t(
                "Weight gradients:\nall huge, about equal across layers",
                "Gradientes dos pesos:\ntodos enormes, quase iguais entre camadas",
            ),
        ),
    ):
        for name, rec in norms.items():
            label = labels[name]
            if what == "delta":
                g = float(10 ** np.mean(np.log10(growth[name][:-1])))
                label += t(
                    f": error signal ×{g:.3g} per layer",
                    f": sinal de erro ×{t.num(g)} por camada",
                )
            ax.semilogy(layers, rec[what], "o-", color=colors[name], label=label)
        ax.set_xticks(layers, [str(i) for i in layers[:-1]] + [t("out", "saída")])
        ax.set_xlabel(t("layer (1 = next to the input)", "camada (1 = junto à entrada)"))
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3, which="major")
    handles, names = axes[0].get_legend_handles_labels()  # one key for both panels, below
    legend_below_figure(fig, handles, names, ncol=1, frameon=False)
    fig.suptitle(
        t(
            f"ReLU net of {n - 1} hidden layers at initialisation (one backward pass)",
            f"Rede ReLU de {n - 1} camadas ocultas na inicialização (uma retropropagação)",
        )
    )
    fig.subplots_adjust(wspace=0.25, top=0.8)
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
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 5.2), sharey=True)
    fig.subplots_adjust(wspace=0.08, top=0.86)
    panels = (
        (
            axes[0],
            runs,
            t(
                f"normal init, {gain:g}× He's std",
                f"inicialização normal, {t.num(gain, 'g')}× He",
            ),
        ),
        (
            axes[1],
            constant_runs,
            t(
                f"constant init {constant:g}",
                f"inicialização constante {t.num(constant, 'g')}",
            ),
        ),
    )
    for ax, group, title in panels:
        _training_panel(ax, group, title, top, mean_loss, labels, colors, t)
    axes[0].set_ylabel(t("batch loss (MSE)", "perda do lote (MSE)"))
    # one legend for both panels, below them (the right panel has no He run)
    handles, names = axes[0].get_legend_handles_labels()
    legend_below_figure(fig, handles, names, ncol=2, fontsize=10, frameon=False)
    fig.suptitle(
        t(
            f"Training with SGD, learning rate {lr:g}: divergence and clipping",
            f"Treinamento com SGD, taxa de aprendizado {t.num(lr, 'g')}: divergência e recorte",
        )
    )
    save_figure(fig, path)


def _training_panel(ax, group, title: str, top: float, mean_loss: float, labels, colors, t: T):
    """One init's runs: the batch loss per step, the NaN guard's stop at the top edge."""
    for name, rec in group.items():
        losses = np.asarray(rec["step_loss"])
        label = labels[name]
        if name in ("clip_norm", "clip_value"):
            label += f" ({name} = {t.num(rec[name], 'g')})"
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
                xytext=(12, -34),
                textcoords="offset points",
                fontsize=9.5,
                color=colors[name],
            )
    ax.axhline(mean_loss, color="0.4", ls=":", lw=1)
    ax.text(  # under the dotted line, where no run goes early on
        1,
        mean_loss / 4,
        t(
            "dotted: loss of predicting the mean, Var(y)",
            "pontilhada: perda de prever a média, Var(y)",
        ),
        fontsize=9.5,
        color="0.3",
        va="top",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(top=top)
    ax.set_xlabel(t("SGD step (batch of 32)", "passo do SGD (lote de 32)"))
    ax.set_title(title)
    ax.grid(alpha=0.3)


def _step_text(at: dict[str, int] | None, t: T) -> str:
    if at is None:
        return t("stayed finite", "ficou finita")
    return t(
        f"NaN/inf at epoch {at['epoch']}, batch {at['batch']}; the guard kept the last finite "
        "weights",
        f"NaN/inf na época {at['epoch']}, lote {at['batch']}; a proteção manteve os últimos "
        "pesos finitos",
    )


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claim as checkable rows: the growth per layer of the error signal
    against its prediction, divergence without clipping, finite training with it."""
    return _growth_rows(m, t) + _training_rows(m, t)


def _growth_rows(m: dict[str, Any], t: T) -> list[Row]:
    width, gain = m["width"], m["predicted_growth_factor"]["normal"]
    grow, pred = m["mean_growth_factor"], m["predicted_growth_factor"]
    what = t(
        "growth of the error signal per layer toward the input, ",
        "crescimento do sinal de erro por camada em direção à entrada, ",
    )
    const = pred["constant"] / width
    return [
        Row(
            what
            + t(
                f"every weight {const:g} ({width} units a layer)",
                f"todos os pesos {t.num(const, 'g')} ({width} unidades por camada)",
            ),
            t(
                f"{const:g} × {width} = {pred['constant']:g} (within 1 %)",
                f"{t.num(const, 'g')} × {width} = {t.num(pred['constant'], 'g')} (margem de 1 %)",
            ),
            f"×{t.num(grow['constant'], '.1f')}",
            abs(grow["constant"] / pred["constant"] - 1) < 0.01,
        ),
        Row(
            what
            + t(
                f"normal init at {gain:g}× He's standard deviation",
                f"inicialização normal com {t.num(gain, 'g')}× o desvio-padrão de He",
            ),
            t(
                f"about {gain:g}, the gain (between {gain / 2:g} and {2 * gain:g})",
                f"cerca de {t.num(gain, 'g')}, o ganho (entre {t.num(gain / 2, 'g')} e "
                f"{t.num(2 * gain, 'g')})",
            ),
            f"×{t.num(grow['normal'])}",
            gain / 2 < grow["normal"] < 2 * gain,
        ),
        Row(
            what + t("He init (the reference)", "inicialização de He (a referência)"),
            t("about 1 (between 0.5 and 2)", "cerca de 1 (entre 0,5 e 2)"),
            f"×{t.num(grow['he'])}",
            0.5 < grow["he"] < 2,
        ),
        Row(
            t(
                f"SGD without clipping from the normal init (learning rate {m['learning_rate']:g})",
                f"SGD sem recorte a partir da inicialização normal (taxa "
                f"{t.num(m['learning_rate'], 'g')})",
            ),
            t("diverges: the loss overflows to NaN/inf", "diverge: a perda estoura em NaN/inf"),
            _step_text(m["diverged_at"], t),
            m["diverged_at"] is not None,
        ),
    ]


def _training_rows(m: dict[str, Any], t: T) -> list[Row]:
    rows = []
    initial = m["initial_loss"]
    for key, en, pt in (
        (
            "clip_norm",
            f"clipping by norm (max norm {m['clip_norm']:g})",
            f"recorte por norma (norma máxima {t.num(m['clip_norm'], 'g')})",
        ),
        (
            "clip_value",
            f"clipping by value (max entry {m['clip_value']:g})",
            f"recorte por valor (entrada máxima {t.num(m['clip_value'], 'g')})",
        ),
    ):
        final = m[f"final_loss_{key}"]
        rows.append(
            Row(
                t(
                    f"final loss (MSE), same SGD with {en}",
                    f"perda final (EQM), mesmo SGD com {pt}",
                ),
                t("finite, below the initial loss", "finita, abaixo da perda inicial"),
                t(
                    f"{t.num(final)} (initial {t.num(initial)})",
                    f"{t.num(final)} (inicial {t.num(initial)})",
                ),
                math.isfinite(final) and final < initial,
            )
        )
    mean, he = m["mean_predictor_loss"], m["final_loss_he"]
    rows.append(
        Row(
            t(
                "final loss (MSE) with He init, same SGD, no clipping",
                "perda final (EQM) com inicialização de He, mesmo SGD, sem recorte",
            ),
            t(
                "learns: below the loss of predicting the mean, Var(y)",
                "aprende: abaixo da perda de prever a média, Var(y)",
            ),
            f"{t.num(he)} (Var(y) = {t.num(mean)})",
            math.isfinite(he) and he < mean,
        )
    )
    return rows


_CLIPPED = ("final_loss_clip_norm", "final_loss_clip_value")


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in each figure."""
    g = m["mean_growth_factor"]
    const = m["predicted_growth_factor"]["constant"] / m["width"]
    gain = m["predicted_growth_factor"]["normal"]
    at = m["diverged_at"]
    best_const = min(r["final_loss"] for r in m["constant_runs"].values())
    mean = m["mean_predictor_loss"]
    norms = t(
        f"Left: the error signal ‖dL/dz‖ reaching each layer at initialisation (log scale). "
        f"Going from the output toward the input it grows ×{g['constant']:.3g} per layer with "
        f"every weight {const:g}, ×{g['normal']:.3g} with the normal init at {gain:g}× He's "
        f"std, and stays flat (×{g['he']:.3g}) with He. Right: the weight gradients ‖dL/dW‖ "
        "are huge but nearly equal across layers: a ReLU net is homogeneous, so what grows "
        "toward the input is the error signal (and the bias gradients), not dL/dW.",
        f"À esquerda: o sinal de erro ‖dL/dz‖ que chega a cada camada na inicialização (escala "
        f"log). Da saída para a entrada ele cresce ×{t.num(g['constant'])} por camada com todos "
        f"os pesos {t.num(const, 'g')}, ×{t.num(g['normal'])} com a inicialização normal de "
        f"{t.num(gain, 'g')}× o desvio de He, e fica plano (×{t.num(g['he'])}) com He. À "
        "direita: os gradientes dos pesos ‖dL/dW‖ são enormes mas quase iguais entre camadas: "
        "uma rede ReLU é homogênea, e o que cresce em direção à entrada é o sinal de erro (e os "
        "gradientes dos vieses), não dL/dW.",
    )
    where = (
        t(
            f" at epoch {at['epoch']}, batch {at['batch']} (the red ×)",
            f" na época {at['epoch']}, lote {at['batch']} (o × vermelho)",
        )
        if at
        else ""
    )
    ini, cn, cv = (t.num(m[k], ".3g") for k in ("initial_loss", *_CLIPPED))
    he = t.num(m["final_loss_he"])
    training = t(
        f"The batch loss per SGD step, both axes logarithmic; the dotted line is the loss of "
        f"predicting the mean, Var(y) = {t.num(mean)}. Left, normal init: without clipping the "
        f"loss overflows{where}; clipped by norm or by value it stays finite and falls from "
        f"{ini} to {cn} and {cv}, with many dead ReLU units; He's init, unclipped, ends at "
        f"{he}. Right, every weight {const:g}: the best run ends at {t.num(best_const)}: "
        "clipping bounds the steps, it does not cure the initialisation.",
        f"A perda do lote por passo do SGD, os dois eixos em escala log; a linha pontilhada é a "
        f"perda de prever a média, Var(y) = {t.num(mean)}. À esquerda, inicialização normal: sem "
        f"recorte a perda estoura{where}; com recorte por norma ou por valor ela fica finita e "
        f"cai de {ini} para {cn} e {cv}, com muitas unidades ReLU mortas; a inicialização de "
        f"He, sem recorte, termina em {he}. À direita, todos os pesos {t.num(const, 'g')}: a "
        f"melhor execução termina em {t.num(best_const)}: o recorte limita os passos, não cura "
        "a inicialização.",
    )
    return {"exploding_layer_norms.png": norms, "exploding_training.png": training}


LABELS = {
    "depth": ("hidden layers", "camadas ocultas"),
    "width": ("units per hidden layer", "unidades por camada oculta"),
    "n_samples": ("training samples", "amostras de treino"),
    "inits": ("initialisations", "inicializações"),
    "optimizer": ("optimiser", "otimizador"),
    "learning_rate": ("learning rate", "taxa de aprendizado"),
    "batch_size": ("batch size", "tamanho do lote"),
    "epochs": ("epochs", "épocas"),
    "clip_norm": ("clip by norm (max norm)", "recorte por norma (norma máxima)"),
    "clip_value": ("clip by value (max entry)", "recorte por valor (entrada máxima)"),
    "layer_norms_constant": (
        "gradient norms per layer at init, constant weights",
        "normas do gradiente por camada na inicialização, pesos constantes",
    ),
    "layer_norms_normal": (
        "gradient norms per layer at init, large normal",
        "normas do gradiente por camada na inicialização, normal grande",
    ),
    "layer_norms_he": (
        "gradient norms per layer at init, He",
        "normas do gradiente por camada na inicialização, He",
    ),
    "growth_factor": (
        "error signal growth ‖dL/dz‖, layer over the next",
        "crescimento do sinal de erro ‖dL/dz‖, camada sobre a seguinte",
    ),
    "mean_growth_factor": (
        "error signal growth per layer (geometric mean, hidden layers)",
        "crescimento do sinal de erro por camada (média geométrica, camadas ocultas)",
    ),
    "predicted_growth_factor": ("predicted growth per layer", "crescimento previsto por camada"),
    "growth_factor_W": (
        "weight gradient growth ‖dL/dW‖, layer over the next",
        "crescimento do gradiente dos pesos ‖dL/dW‖, camada sobre a seguinte",
    ),
    "mean_growth_factor_W": (
        "weight gradient growth per layer (geometric mean)",
        "crescimento do gradiente dos pesos por camada (média geométrica)",
    ),
    "initial_loss": ("initial loss (MSE)", "perda inicial (EQM)"),
    "diverged_at": ("diverged at, no clipping", "divergiu em, sem recorte"),
    "divergence_warning": ("the NaN guard's warning", "o aviso da proteção contra NaN"),
    "losses_before_divergence": (
        "batch losses before the NaN/inf step",
        "perdas dos lotes antes do passo NaN/inf",
    ),
    "final_loss_clip_norm": ("final loss, clip by norm", "perda final, recorte por norma"),
    "final_loss_clip_value": ("final loss, clip by value", "perda final, recorte por valor"),
    "final_loss_he": ("final loss, He init", "perda final, inicialização de He"),
    "mean_predictor_loss": (
        "loss of predicting the mean, Var(y)",
        "perda de prever a média, Var(y)",
    ),
    "runs": ("runs from the large normal init", "execuções a partir da normal grande"),
    "constant_runs": ("runs from the constant init", "execuções a partir da constante"),
    # nested keys
    "constant": ("constant", "constante"),
    "he": ("He", "He"),
    "no_clip": ("no clipping", "sem recorte"),
    "grad_W": ("‖dL/dW‖ per layer", "‖dL/dW‖ por camada"),
    "grad_b": ("‖dL/db‖ per layer", "‖dL/db‖ por camada"),
    "delta": ("error signal ‖dL/dz‖ per layer", "sinal de erro ‖dL/dz‖ por camada"),
    "final_loss": ("final loss", "perda final"),
    "dead_fraction": ("dead ReLU fraction", "fração de ReLU mortas"),
    "epochs_run": ("epochs run", "épocas executadas"),
    "stop_reason": ("why it stopped", "por que parou"),
    "doctor_warnings": ("gradient doctor's warnings", "avisos do médico do gradiente"),
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
    result = compute(
        seed=seed,
        quick=quick,
        depth=depth,
        width=width,
        constant=constant,
        gain=gain,
        learning_rate=learning_rate,
        epochs=epochs,
        clip_norm=clip_norm,
        clip_value=clip_value,
    )
    draw(result, t, out_dir)
    return result.metrics
