"""``dying-relu`` (lecture section 2): units that stop learning, and the variants that
keep them alive.

ReLU units die (a large Adam step; a negative bias
initialisation) while leaky ReLU, PReLU, ELU and GELU, trained from the same
initial weights, keep theirs alive. Measured: the dead fraction per layer and
epoch, and the final loss and accuracy per activation.

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

The networks are twins (see :mod:`mlplab.experiments._deep`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_float, check_int
from mlplab.diagnostics import GradientFlow
from mlplab.experiments._common import dense_layers
from mlplab.experiments._deep import accuracy, bce, count_option, deep, fit_recorded, spirals, twin
from mlplab.experiments._registry import Result, register, save_figure
from mlplab.i18n import T
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.training.callbacks import Callback

#: A unit is "dead" (dying-relu) when |f'(z)| < this for every training sample.
DEAD_DERIVATIVE = 1e-3
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
        return np.abs(act.derivative_with(z, layer.params["alpha"]))
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
            hidden = dense_layers(net)[:-1]
            self.dead.append(
                [float(np.mean((_derivative(h) < DEAD_DERIVATIVE).all(axis=0))) for h in hidden]
            )
            self.negative.append([float(np.mean((h.z <= 0).all(axis=0))) for h in hidden])

    def on_train_begin(self, state, net):
        self._measure(net)

    def on_epoch_end(self, state, net):
        self._measure(net)


def _dying_run(act, X, y, *, depth, width, seed, bias, optimizer, lr, epochs) -> dict[str, Any]:
    net = deep(
        act,
        "he_normal",
        depth=depth,
        width=width,
        seed=seed,
        bias_init={"name": "constant", "value": bias},
    )
    dead, flow = _DeadUnits(X), GradientFlow()
    hist, rec = fit_recorded(
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
        "loss": bce(net, X, y),
        "accuracy": accuracy(net, X, y),
        **rec,
    }


def compute(
    *,
    seed: int,
    quick: bool,
    depth: int,
    width: int,
    samples: int | None,
    epochs: int | None,
    repeats: int | None,
    learning_rate: float,
    bias: float,
    bias_learning_rate: float,
) -> Result:
    """Both settings trained for every activation (see :func:`run`)."""
    depth = check_int("depth", depth, minimum=1)
    width = check_int("width", width, minimum=1)
    n = count_option("samples", samples, 20, (600, 2000), quick)
    n_epochs = count_option("epochs", epochs, 1, (6, 20), quick)
    reps = count_option("repeats", repeats, 1, (1, 3), quick)
    lr = check_float("learning_rate", learning_rate, minimum=0.0, strict_min=True)
    bias = check_float("bias", bias)
    lr_b = check_float("bias_learning_rate", bias_learning_rate, minimum=0.0, strict_min=True)
    X, y = spirals(n, seed)
    common = {"depth": depth, "width": width, "optimizer": "adam", "epochs": n_epochs}

    large: dict[str, list[dict[str, Any]]] = {a: [] for a in DYING_ACTIVATIONS}
    for r in range(reps):
        for act in DYING_ACTIVATIONS:
            large[act].append(_dying_run(act, X, y, seed=seed + r, bias=0.0, lr=lr, **common))
    # twins: every activation starts from the same weights (checked on fresh networks)
    twins = all(
        twin(
            deep(a, "he_normal", depth=depth, width=width, seed=seed),
            deep("relu", "he_normal", depth=depth, width=width, seed=seed),
        )
        == "identical"
        for a in DYING_ACTIVATIONS
    )
    neg = {
        a: _dying_run(a, X, y, seed=seed, bias=bias, lr=lr_b, **common) for a in DYING_ACTIVATIONS
    }

    setting = {
        "data": f"two spirals, {n} points, standardised",
        "network": f"{depth} hidden layers x {width} nodes, He (normal) initialisation",
        "optimizer": "Adam, batch 64, binary cross-entropy",
        "epochs": n_epochs,
        "large_step": f"learning_rate={lr:g}, zero biases, seeds {seed}..{seed + reps - 1}",
        "negative_bias": f"bias_init={bias:g}, learning_rate={lr_b:g}, seed {seed}",
        "dead_unit": f"|f'(z)| < {DEAD_DERIVATIVE:g} for every training sample",
    }
    metrics = {"setting": setting, "twins": twins, **_metrics(large, neg)}
    data = {"large": large, "neg": neg, "lr": lr, "bias": bias, "lr_b": lr_b}
    return Result(metrics, data)


def _metrics(large: dict[str, list[dict[str, Any]]], neg: dict[str, dict[str, Any]]) -> dict:
    """The dead fractions, losses and accuracies per activation: setting A (``large``,
    the mean over the seeds unless said) and setting B (``neg``, prefixed negative_bias_)."""

    def mean_dead(runs, i):
        return float(np.mean([run["dead"][i].mean() for run in runs]))

    acts = DYING_ACTIVATIONS
    return {
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


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``dying_relu.png``: dead units per epoch in both settings, per layer for ReLU, and
    the final accuracies."""
    import matplotlib.pyplot as plt

    d = result.data
    large, neg = d["large"], d["neg"]
    fig, axes = plt.subplots(2, 2, figsize=(14, 10))
    (ax_a, ax_layers), (ax_b, ax_acc) = axes
    _dead_panels(ax_a, ax_b, large, neg, t, d["lr"], d["bias"], d["lr_b"])
    _relu_layers_panel(ax_layers, large["relu"][0], t)
    _accuracy_panel(ax_acc, large, neg, t)
    fig.tight_layout()
    save_figure(fig, out_dir / "dying_relu.png")


def _dead_panels(ax_a, ax_b, large, neg, t: T, lr, bias, lr_b) -> None:
    """The dead fraction per epoch: (A) the large step, (B) the negative bias."""
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
            f"Passo grande (Adam, taxa = {t.num(lr, 'g')}): unidades mortas",
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
            f"Viés negativo (b = {t.num(bias, 'g')}, Adam, taxa = {t.num(lr_b, 'g')}): "
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


def _relu_layers_panel(ax_layers, relu: dict[str, Any], t: T) -> None:
    """ReLU, large step, first seed: the dead fraction per layer (whole training set
    and GradientFlow's per-batch count)."""
    import matplotlib.pyplot as plt

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


def _accuracy_panel(ax_acc, large, neg, t: T) -> None:
    """The final training accuracy per activation in both settings."""
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
        ax_acc.text(i - 0.2, a + 0.01, t.num(a, ".1%"), ha="center", fontsize=7.5)
        ax_acc.text(i + 0.2, b + 0.01, t.num(b, ".1%"), ha="center", fontsize=7.5)
    ax_acc.set_xticks(x, [_ACT_NAMES[a] for a in acts])
    ax_acc.set_ylim(0, 1.1)
    ax_acc.axhline(0.5, color="k", lw=0.8, ls=":")
    ax_acc.set_ylabel(t("final training accuracy", "acurácia final de treino"))
    ax_acc.set_title(t("What the dead units cost", "O que as unidades mortas custam"))
    ax_acc.legend(fontsize=8, loc="lower right")


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
def run(
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
    result = compute(
        seed=seed,
        quick=quick,
        depth=depth,
        width=width,
        samples=samples,
        epochs=epochs,
        repeats=repeats,
        learning_rate=learning_rate,
        bias=bias,
        bias_learning_rate=bias_learning_rate,
    )
    draw(result, t, out_dir)
    return result.metrics
