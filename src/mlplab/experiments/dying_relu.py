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
from mlplab.experiments._registry import Result, Row, register, save_figure
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


def _dead_unit_gradient(net: Sequential, X: np.ndarray, y: np.ndarray) -> list[float]:
    """[largest |dL/dw| over the incoming weights and biases of the dead hidden units,
    number of dead units], on the whole of X with the trained weights (0 if none is dead)."""
    with np.errstate(all="ignore"):
        net.loss_and_grad(X, y, "bce")
    largest, count = 0.0, 0
    for h in dense_layers(net)[:-1]:
        dead = (_derivative(h) < DEAD_DERIVATIVE).all(axis=0)
        count += int(dead.sum())
        if dead.any():
            grads = np.concatenate([np.abs(h.dW[:, dead]).ravel(), np.abs(h.db[..., dead]).ravel()])
            largest = max(largest, float(grads.max()))
    return [largest, count]


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
        "dead_unit_gradient": _dead_unit_gradient(net, X, y),
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
        "relu_dead_unit_gradient": [
            max(run["dead_unit_gradient"][0] for run in large["relu"]),
            sum(run["dead_unit_gradient"][1] for run in large["relu"]),
        ],
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
    # 2 x 2 at the report's width; every legend below its panel (inside, it hid curves)
    fig, axes = plt.subplots(2, 2, figsize=(11, 10.5))
    (ax_a, ax_b), (ax_layers, ax_acc) = axes
    _dead_panels(ax_a, ax_b, large, neg, t, d["lr"], d["bias"], d["lr_b"])
    _relu_layers_panel(ax_layers, large["relu"][0], t)
    _accuracy_panel(ax_acc, large, neg, t)
    fig.subplots_adjust(wspace=0.28, hspace=0.75)
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
            f"(A) Large step (Adam, lr = {lr:g}):\ndead units",
            f"(A) Passo grande (Adam, taxa = {t.num(lr, 'g')}):\nunidades mortas",
        )
        + (
            t(
                f", mean of {reps} seeds (band: min–max)",
                f", média de {reps} sementes (faixa: mín.–máx.)",
            )
            if reps > 1
            else ""
        )
    )
    ax_b.set_title(
        t(
            f"(B) Negative bias (b = {bias:g}, Adam, lr = {lr_b:g}):\ndead units",
            f"(B) Viés negativo (b = {t.num(bias, 'g')}, Adam, taxa = {t.num(lr_b, 'g')}):\n"
            "unidades mortas",
        )
    )
    ax_b.plot(
        [],
        [],
        color="k",
        lw=1.2,
        ls="--",
        label=t("dashed: z ≤ 0 for\nevery sample", "tracejado: z ≤ 0\nem toda amostra"),
    )
    for ax in (ax_a, ax_b):
        ax.set_xlabel(t("epoch (0 = initial weights)", "época (0 = pesos iniciais)"))
        ax.set_ylabel(t("fraction of dead hidden units", "fração de unidades ocultas mortas"))
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.17))


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
            label=t(f"layer {j + 1}", f"camada {j + 1}"),
        )
        fd = relu["flow_dead"][:, j]
        ax_layers.plot(
            np.arange(1, len(fd) + 1),
            fd,
            color=color,
            lw=1,
            ls="--",
        )
    ax_layers.set_title(
        t(
            "ReLU, large step (A), first seed:\ndead fraction per layer",
            "ReLU, passo grande (A), primeira semente:\nfração morta por camada",
        )
    )
    ax_layers.set_xlabel(t("epoch", "época"))
    ax_layers.set_ylabel(t("fraction of dead units", "fração de unidades mortas"))
    ax_layers.set_ylim(-0.03, 1.03)
    ax_layers.grid(alpha=0.3)
    for ls, text in (
        ("-", t("solid: whole training set", "contínua: todo o treino")),
        ("--", t("dashed: GradientFlow (last batch)", "tracejada: GradientFlow (último lote)")),
    ):
        ax_layers.plot([], [], color="k", lw=1.5, ls=ls, label=text)
    ax_layers.legend(fontsize=9, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.17))


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
        ax_acc.text(i - 0.2, a + 0.01, t.num(100 * a, ".0f"), ha="center", fontsize=9)
        ax_acc.text(i + 0.2, b + 0.01, t.num(100 * b, ".0f"), ha="center", fontsize=9)
    ax_acc.set_xticks(x, [_ACT_NAMES[a] for a in acts])
    ax_acc.set_ylim(0, 1.1)
    ax_acc.axhline(0.5, color="k", lw=0.8, ls=":")
    ax_acc.set_ylabel(t("final training accuracy (%)", "acurácia final de treino (%)"))
    ax_acc.yaxis.set_major_formatter(lambda v, _: t.num(100 * v, ".0f"))
    ax_acc.set_title(
        t(
            "What the dead units cost\n(dotted: chance, 50 %)",
            "O que as unidades mortas custam\n(pontilhado: acaso, 50 %)",
        )
    )
    ax_acc.legend(fontsize=9, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.1))


#: "Many" dead ReLU units (the lecture's claim) and "alive" (the variants): the report's checks.
MANY_DEAD, ALIVE = 0.10, 0.05
_VARIANTS = DYING_ACTIVATIONS[1:]


def _pct(t: T, x: float, fmt: str = ".1f") -> str:
    return t.num(100 * x, fmt) + " %"


def _per_act(m: dict[str, float], t: T, acts=DYING_ACTIVATIONS) -> str:
    return ", ".join(f"{_ACT_NAMES[a]} {_pct(t, m[a])}" for a in acts)


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claims on dying ReLU units, checked in both settings."""
    epochs = m["setting"]["epochs"]
    grad, n_dead = m["relu_dead_unit_gradient"]
    dead_a, dead_b = m["final_dead_fraction"], m["negative_bias_final_dead_fraction"]
    many = t(
        f"kills many ReLU units (here: at least {_pct(t, MANY_DEAD, '.0f')} of them)",
        f"mata muitas unidades ReLU (aqui: ao menos {_pct(t, MANY_DEAD, '.0f')} delas)",
    )
    return [
        Row(
            t(
                "dead ReLU units after a large step (Adam)",
                "unidades ReLU mortas após um passo grande (Adam)",
            ),
            t("a large learning rate ", "uma taxa de aprendizado grande ") + many,
            t(
                f"{_pct(t, dead_a['relu'])} after {epochs} epochs "
                f"({_pct(t, m['initial_dead_fraction']['relu'])} at the start)",
                f"{_pct(t, dead_a['relu'])} após {epochs} épocas "
                f"({_pct(t, m['initial_dead_fraction']['relu'])} no início)",
            ),
            dead_a["relu"] >= MANY_DEAD and dead_a["relu"] > m["initial_dead_fraction"]["relu"],
        ),
        Row(
            t("dead ReLU units with a negative bias", "unidades ReLU mortas com viés negativo"),
            t("a negative bias ", "um viés negativo ") + many,
            t(
                f"{_pct(t, m['negative_bias_initial_dead_fraction']['relu'])} at the start, "
                f"{_pct(t, dead_b['relu'])} after {epochs} epochs",
                f"{_pct(t, m['negative_bias_initial_dead_fraction']['relu'])} no início, "
                f"{_pct(t, dead_b['relu'])} após {epochs} épocas",
            ),
            dead_b["relu"] >= MANY_DEAD,
        ),
        Row(
            t(
                "gradient reaching the weights of dead ReLU units (large step, end of training)",
                "gradiente que chega aos pesos das unidades ReLU mortas (passo grande, fim do "
                "treino)",
            ),
            t(
                "zero: a dead unit never updates again",
                "zero: uma unidade morta nunca mais se atualiza",
            ),
            t(
                f"largest |∂L/∂w| = {t.num(grad, 'g')} over {n_dead} dead units",
                f"maior |∂L/∂w| = {t.num(grad, 'g')} em {n_dead} unidades mortas",
            ),
            n_dead > 0 and grad == 0.0,
        ),
    ] + _variant_rows(m, t)


def _variant_rows(m: dict[str, Any], t: T) -> list[Row]:
    """The variants stay alive; what the dead units cost; the twins."""
    dead_a, dead_b = m["final_dead_fraction"], m["negative_bias_final_dead_fraction"]
    acc_a, acc_b = m["final_accuracy"], m["negative_bias_final_accuracy"]
    alive = t(
        f"keep their units alive (here: at most {_pct(t, ALIVE, '.0f')} dead)",
        f"mantêm suas unidades vivas (aqui: no máximo {_pct(t, ALIVE, '.0f')} mortas)",
    )
    return [
        Row(
            t(
                "dead units of the variants, large step",
                "unidades mortas das variantes, passo grande",
            ),
            t("leaky ReLU, PReLU, ELU and GELU ", "leaky ReLU, PReLU, ELU e GELU ") + alive,
            _per_act(dead_a, t, _VARIANTS),
            max(dead_a[a] for a in _VARIANTS) <= ALIVE,
        ),
        Row(
            t(
                "dead units of the variants, negative bias",
                "unidades mortas das variantes, viés negativo",
            ),
            t("leaky ReLU, PReLU, ELU and GELU ", "leaky ReLU, PReLU, ELU e GELU ") + alive,
            _per_act(dead_b, t, _VARIANTS),
            max(dead_b[a] for a in _VARIANTS) <= ALIVE,
        ),
        Row(
            t("final training accuracy, large step", "acurácia final de treino, passo grande"),
            t(
                "dead units no longer learn (the lecture gives no number)",
                "unidades mortas não aprendem mais (a aula não dá um número)",
            ),
            _per_act(acc_a, t),
            None,
        ),
        Row(
            t("final training accuracy, negative bias", "acurácia final de treino, viés negativo"),
            t(
                "dead units no longer learn (the lecture gives no number)",
                "unidades mortas não aprendem mais (a aula não dá um número)",
            ),
            _per_act(acc_b, t),
            None,
        ),
        Row(
            t("initial weights of the five networks", "pesos iniciais das cinco redes"),
            t("the same setting for every activation", "o mesmo cenário para toda ativação"),
            t("identical", "idênticos") if m["twins"] else t("different", "diferentes"),
            bool(m["twins"]),
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in the figure."""
    relu_a = _pct(t, m["final_dead_fraction"]["relu"])
    relu_b = _pct(t, m["negative_bias_final_dead_fraction"]["relu"])
    return {
        "dying_relu.png": t(
            "Top left and right: the fraction of dead hidden units per epoch. The red ReLU curve "
            f"climbs to {relu_a} with a large step and stays near {relu_b} with a negative bias, "
            "while leaky ReLU, PReLU, ELU and GELU stay at the bottom, where their curves "
            "overlap (dashed: units whose z is "
            "negative for every sample — asleep, yet only ReLU's get no gradient). Bottom left: "
            "ReLU's dead units layer by layer. Bottom right: what they cost in training accuracy "
            "(dotted line: chance, 50 %).",
            "Em cima, à esquerda e à direita: a fração de unidades ocultas mortas por época. A "
            f"curva vermelha da ReLU sobe até {relu_a} com um passo grande e fica perto de "
            f"{relu_b} com viés negativo, enquanto leaky ReLU, PReLU, ELU e GELU ficam embaixo, "
            "sobrepostas "
            "(tracejado: unidades cujo z é negativo em toda amostra — adormecidas, mas só as da "
            "ReLU ficam sem gradiente). Embaixo à esquerda: as unidades mortas da ReLU camada a "
            "camada. Embaixo à direita: o que custam em acurácia de treino (pontilhado: acaso, "
            "50 %).",
        ),
    }


LABELS = {
    "setting": ("setting", "cenário"),
    "data": ("data", "dados"),
    "network": ("network", "rede"),
    "optimizer": ("optimizer", "otimizador"),
    "epochs": ("epochs", "épocas"),
    "large_step": ("setting A: large step", "cenário A: passo grande"),
    "negative_bias": ("setting B: negative bias", "cenário B: viés negativo"),
    "dead_unit": ("a unit is dead when", "uma unidade está morta quando"),
    "twins": (
        "every activation started from the same weights",
        "toda ativação partiu dos mesmos pesos",
    ),
    "initial_dead_fraction": (
        "A: dead fraction before training (mean of layers and seeds)",
        "A: fração morta antes do treino (média das camadas e sementes)",
    ),
    "final_dead_fraction": (
        "A: dead fraction after training (mean of layers and seeds)",
        "A: fração morta após o treino (média das camadas e sementes)",
    ),
    "final_dead_fraction_per_layer": (
        "A: dead fraction after training, layer 1 to last",
        "A: fração morta após o treino, da camada 1 à última",
    ),
    "final_negative_fraction": (
        "A: fraction of units with z ≤ 0 for every sample, after training",
        "A: fração de unidades com z ≤ 0 em toda amostra, após o treino",
    ),
    "gradientflow_dead_fraction_final": (
        "A: GradientFlow's dead ReLU fraction (last batch), layer 1 to last",
        "A: fração de ReLU mortas do GradientFlow (último lote), da camada 1 à última",
    ),
    "relu_dead_unit_gradient": (
        "A: ReLU, largest |∂L/∂w| into a dead unit (whole training set, end), dead units (all "
        "seeds)",
        "A: ReLU, maior |∂L/∂w| que chega a uma unidade morta (todo o treino, fim), unidades "
        "mortas (todas as sementes)",
    ),
    "relu_dead_fraction_per_epoch": (
        "A: ReLU dead fraction per epoch [layer 1 to last], first seed",
        "A: fração morta da ReLU por época [camada 1 à última], primeira semente",
    ),
    "final_loss": (
        "A: final training loss (cross-entropy)",
        "A: perda final de treino (entropia cruzada)",
    ),
    "final_accuracy": ("A: final training accuracy", "A: acurácia final de treino"),
    "negative_bias_initial_dead_fraction": (
        "B: dead fraction before training",
        "B: fração morta antes do treino",
    ),
    "negative_bias_final_dead_fraction": (
        "B: dead fraction after training",
        "B: fração morta após o treino",
    ),
    "negative_bias_initial_negative_fraction": (
        "B: fraction with z ≤ 0 for every sample, before training",
        "B: fração com z ≤ 0 em toda amostra, antes do treino",
    ),
    "negative_bias_final_negative_fraction": (
        "B: fraction with z ≤ 0 for every sample, after training",
        "B: fração com z ≤ 0 em toda amostra, após o treino",
    ),
    "negative_bias_final_loss": ("B: final training loss", "B: perda final de treino"),
    "negative_bias_final_accuracy": ("B: final training accuracy", "B: acurácia final de treino"),
    "gradient_warnings": (
        "A: the gradient doctor's warnings",
        "A: avisos do doutor de gradientes",
    ),
    **{a: (name, name) for a, name in _ACT_NAMES.items()},
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
    (first seed, per layer); ``relu_dead_unit_gradient`` ([largest |dL/dw| into a dead
    ReLU unit on the whole training set after training, the number of dead units], all
    seeds: the gradient is exactly 0, yet Adam's momentum can still move a unit that
    has just died, and a few come back); the same with a ``negative_bias_`` prefix for
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
