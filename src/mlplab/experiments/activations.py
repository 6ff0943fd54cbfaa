"""Activation functions and their derivatives (lecture section 2).

Every elementwise activation of :data:`mlplab.activations.ACTIVATIONS` is drawn
beside its derivative, as in the slides, and the derivatives are *measured* on a
fine grid: the maximum of each f' and where it occurs, the logistic's
saturation (f'(±10) ≈ 0) and the value mlplab chose for f'(0) where the
derivative does not exist (ReLU, leaky ReLU, PReLU, ELU; the step function's is
undefined and is drawn as 0 elsewhere).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab.activations import ACTIVATIONS, Activation
from mlplab.experiments._common import legend_below_figure
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T

#: Activations with a kink at z = 0: f'(0) is a choice, not a derivative.
KINKED = ("relu", "leaky_relu", "prelu", "elu")
#: Grid of the measurements: z = k / 1000 for k = -10000..10000 (0 and ±10 exactly).
GRID_STEP = 1e-3
GRID_HALF_WIDTH = 10.0

#: The activations' names in the plots' titles (others: their mlplab name).
_NAMES = {
    "identity": ("identity", "identidade"),
    "step": ("step", "degrau"),
    "logistic": ("logistic", "logística"),
    "tanh": ("hyperbolic tangent", "tangente hiperbólica"),
    "relu": ("ReLU", "ReLU"),
    "leaky_relu": ("leaky ReLU", "leaky ReLU"),
    "prelu": ("PReLU", "PReLU"),
    "gelu": ("GELU", "GELU"),
    "silu": ("SiLU", "SiLU"),
    "softplus": ("softplus", "softplus"),
    "elu": ("ELU", "ELU"),
}


def _elementwise() -> list[str]:
    return [name for name, cls in ACTIVATIONS.items() if cls.elementwise]


def _f_and_df(act: Activation, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = act.forward(z)
    return a, act.derivative(z, a)


def _display_name(name: str, t: T) -> str:
    return t.lookup(_NAMES, name, name)


def _maximum(z: np.ndarray, d: np.ndarray) -> tuple[float, float, list[float]]:
    """Maximum of d on the grid, its first location and the range where it is attained."""
    m = float(d.max())
    at = np.flatnonzero(d >= m - 1e-12 * max(1.0, abs(m)))
    return m, float(z[at[0]]), [float(z[at[0]]), float(z[at[-1]])]


def _finite_difference_error(act: Activation, name: str, z: np.ndarray, d: np.ndarray) -> float:
    """Largest |f'(z) - (f(z+h) - f(z-h)) / 2h| on the grid, away from any kink."""
    h = 1e-5
    fd = (act.forward(z + h) - act.forward(z - h)) / (2 * h)
    keep = np.abs(z) > 10 * h if name in KINKED or name == "step" else np.ones_like(z, bool)
    return float(np.max(np.abs(fd[keep] - d[keep])))


def _plot_one(ax, name: str, curve: tuple[np.ndarray, ...], d0: float | None, t: T) -> None:
    """f and f' of one activation; ``d0``: the value chosen for f'(0) at a kink."""
    z, a, d = curve
    neg, pos = z < 0, z > 0
    if name == "step":
        ax.plot(z[neg], a[neg], color="tab:blue", lw=2, label="f(z)")
        ax.plot(z[pos], a[pos], color="tab:blue", lw=2)
        ax.plot([0], [1], "o", color="tab:blue", ms=5)  # f(0) = 1
        ax.plot([0], [0], "o", mfc="white", color="tab:blue", ms=5)
        ax.plot(z[neg], d[neg], "--", color="tab:red", lw=2, label="f'(z)")
        ax.plot(z[pos], d[pos], "--", color="tab:red", lw=2)
        ax.plot([0], [0], "o", mfc="white", color="tab:red", ms=6)
        ax.annotate(
            t("f'(0) undefined", "f'(0) indefinida"),
            xy=(0, 0),
            xytext=(0.3, 0.45),
            fontsize=10,
            color="tab:red",
            arrowprops={"arrowstyle": "->", "color": "tab:red"},
        )
    else:
        ax.plot(z, a, color="tab:blue", lw=2, label="f(z)")
        if name in KINKED:
            ax.plot(z[neg], d[neg], "--", color="tab:red", lw=2, label="f'(z)")
            ax.plot(z[pos], d[pos], "--", color="tab:red", lw=2)
            ax.plot([0], [1], "o", mfc="white", color="tab:red", ms=5)  # right limit
            ax.plot([0], [d0], "o", color="tab:red", ms=5)  # the chosen value
            ax.annotate(
                t(f"f'(0) := {d0:g} (chosen)", f"f'(0) := {t.num(d0, 'g')} (escolhida)"),
                xy=(0, d0),
                xytext=(-3.9, 0.55 * max(1.0, float(a.max()))),
                fontsize=10,
                color="tab:red",
            )
        else:
            ax.plot(z, d, "--", color="tab:red", lw=2, label="f'(z)")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_title(_display_name(name, t))
    ax.set_xlabel("z")
    ax.grid(alpha=0.3)


def _plot_grid(names: list[str], curves, chosen: dict[str, float], t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    ncols = 4
    nrows = -(-(len(names) + 1) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3.2 * nrows))
    axes = axes.ravel()
    for ax, name in zip(axes, names, strict=False):
        _plot_one(ax, name, curves[name], chosen.get(name), t)
    axes[0].legend(loc="upper left", fontsize=10)
    legend_ax = axes[len(names)]
    legend_ax.axis("off")
    legend_ax.text(
        0.0,
        0.95,
        t(
            "solid: f(z), the node's output\n"
            "dashed: f'(z), its derivative\n\n"
            "filled dot: the value mlplab uses\n"
            "for f'(0) where f has a kink\n"
            "(the left derivative, as PyTorch\n"
            "and scikit-learn)\n"
            "open dot: the other one-sided limit",
            "contínua: f(z), a saída do nó\n"
            "tracejada: f'(z), sua derivada\n\n"
            "ponto cheio: o valor que o mlplab\n"
            "usa para f'(0) onde f tem um bico\n"
            "(a derivada à esquerda, como no\n"
            "PyTorch e no scikit-learn)\n"
            "ponto vazio: o outro limite lateral",
        ),
        va="top",
        fontsize=10,
        family="monospace",
    )
    for ax in axes[len(names) + 1 :]:
        ax.axis("off")
    fig.suptitle(
        t("Activation functions and their derivatives", "Funções de ativação e suas derivadas"),
        fontsize=14,
    )
    fig.subplots_adjust(wspace=0.25, hspace=0.45, top=0.91)
    save_figure(fig, path)


def _plot_saturation(saturation, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for ax, name, peak, lows, note_at in (
        (axes[0], "logistic", 0.25, (0.0, 1.0), (1.2, 0.37)),
        (axes[1], "tanh", 1.0, (-1.0, 1.0), (1.5, 0.45)),
    ):
        z, a, d = saturation[name]
        ax.plot(z, a, color="tab:blue", lw=2, label="f(z)")
        ax.plot(z, d, "--", color="tab:red", lw=2, label="f'(z)")
        for lo, hi in ((-10, -5), (5, 10)):
            ax.axvspan(lo, hi, color="0.85", alpha=0.6, lw=0)
        ax.text(
            7.5,
            0.5 * (lows[0] + lows[1]) + 0.1,
            t("saturation:\nf' → 0", "saturação:\nf' → 0"),
            ha="center",
            fontsize=9,
        )
        ax.text(
            -7.5,
            0.5 * (lows[0] + lows[1]) + 0.1,
            t("saturation:\nf' → 0", "saturação:\nf' → 0"),
            ha="center",
            fontsize=9,
        )
        ax.plot([0], [peak], "o", color="tab:red")
        ax.annotate(
            t(f"max f'(z) = {peak:g} at z = 0", f"máx f'(z) = {t.num(peak, 'g')} em z = 0"),
            xy=(0, peak),
            xytext=note_at,
            arrowprops={"arrowstyle": "->"},
            fontsize=9,
        )
        for lim in lows:
            ax.axhline(lim, color="0.5", lw=0.6, ls=":")
        f10 = float(d[-1])
        ax.annotate(
            f"f'(10) = {t.num(f10, '.2g')}",
            xy=(10, f10),
            xytext=(4.2, lows[0] + 0.25 * (lows[1] - lows[0])),
            arrowprops={"arrowstyle": "->", "color": "tab:red"},
            fontsize=9,
            color="tab:red",
        )
        ax.set_xlim(-10, 10)
        ax.set_xlabel(t("z (the node's weighted sum)", "z (a soma ponderada do nó)"))
        ax.set_title(
            t(
                f"{_display_name(name, t)}: its derivative is at most {peak:g}",
                f"{_display_name(name, t)}: sua derivada vale no máximo {t.num(peak, 'g')}",
            )
        )
        ax.grid(alpha=0.3)
    # one legend for both panels, below them (inside, it would sit on the dotted limits)
    legend_below_figure(fig, *axes[0].get_legend_handles_labels(), ncol=2)
    fig.suptitle(
        t(
            "Saturation: for large |z| the output stops changing and f'(z) vanishes",
            "Saturação: para |z| grande a saída deixa de variar e f'(z) se anula",
        )
    )
    fig.subplots_adjust(wspace=0.15, top=0.85)
    save_figure(fig, path)


def compute() -> Result:
    """The derivatives measured on the grid, and f, f' on the figures' grids (see :func:`run`)."""
    names = _elementwise()
    n_half = int(round(GRID_HALF_WIDTH / GRID_STEP))
    z = np.arange(-n_half, n_half + 1) / n_half * GRID_HALF_WIDTH  # 0 and ±10 exactly
    max_d, max_at, max_range, fd_err = {}, {}, {}, {}
    for name in names:
        act = ACTIVATIONS[name]()
        _, d = _f_and_df(act, z)
        max_d[name], max_at[name], max_range[name] = _maximum(z, d)
        fd_err[name] = _finite_difference_error(act, name, z, d)
    zero = np.zeros(1)
    chosen = {}
    for name in KINKED:
        act = ACTIVATIONS[name]()
        chosen[name] = float(act.derivative(zero, act.forward(zero))[0])
    logistic = ACTIVATIONS["logistic"]()
    ends = np.array([-10.0, 10.0])
    f_end, d_end = _f_and_df(logistic, ends)
    tanh_f, tanh_d = _f_and_df(ACTIVATIONS["tanh"](), ends)

    metrics = {
        "activations": names,
        "grid": {"z_min": float(z[0]), "z_max": float(z[-1]), "spacing": GRID_STEP},
        "max_derivative": max_d,
        "max_derivative_at": max_at,
        "max_derivative_range": max_range,
        "logistic_saturation": {
            "f(-10)": float(f_end[0]),
            "f(10)": float(f_end[1]),
            "f'(-10)": float(d_end[0]),
            "f'(10)": float(d_end[1]),
        },
        "tanh_saturation": {
            "f(-10)": float(tanh_f[0]),
            "f(10)": float(tanh_f[1]),
            "f'(-10)": float(tanh_d[0]),
            "f'(10)": float(tanh_d[1]),
        },
        "derivative_at_0_chosen": chosen,
        "step_derivative_at_0": "undefined (0 everywhere else)",
        "max_error_vs_finite_difference": fd_err,
    }
    plot_z = np.linspace(-4, 4, 801)
    curves = {name: (plot_z, *_f_and_df(ACTIVATIONS[name](), plot_z)) for name in names}
    sat_z = np.linspace(-10, 10, 2001)
    saturation = {
        name: (sat_z, *_f_and_df(ACTIVATIONS[name](), sat_z)) for name in ("logistic", "tanh")
    }
    return Result(metrics, {"curves": curves, "chosen": chosen, "saturation": saturation})


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``activations_grid.png`` (every activation beside its derivative) and
    ``activations_saturation.png`` (the logistic's and tanh's saturation)."""
    d = result.data
    names = result.metrics["activations"]
    _plot_grid(names, d["curves"], d["chosen"], t, out_dir / "activations_grid.png")
    _plot_saturation(d["saturation"], t, out_dir / "activations_saturation.png")


#: Largest |f'(±10)| of a saturating activation for the report's check (the lecture: f' → 0).
SATURATED = 1e-3


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """The lecture's claims on the derivatives, checked on the grid."""
    mx, at = m["max_derivative"], m["max_derivative_at"]
    step = m["grid"]["spacing"]
    rows = [
        Row(
            t(f"largest derivative of the {name_en}", f"maior derivada da {name_pt}"),
            t(f"{peak:g} at z = 0", f"{t.num(peak, 'g')} em z = 0"),
            t(
                f"{t.num(mx[key], '.4f')} at z = {t.num(at[key], '.3f')}",
                f"{t.num(mx[key], '.4f')} em z = {t.num(at[key], '.3f')}",
            ),
            abs(mx[key] - peak) < 1e-3 and abs(at[key]) < step / 2,
        )
        for key, name_en, name_pt, peak in (
            ("logistic", "logistic", "logística", 0.25),
            ("tanh", "hyperbolic tangent", "tangente hiperbólica", 1.0),
        )
    ]
    for key, name_en, name_pt in (
        ("logistic", "logistic", "logística"),
        ("tanh", "hyperbolic tangent", "tangente hiperbólica"),
    ):
        sat = m[f"{key}_saturation"]
        left, right = sat["f'(-10)"], sat["f'(10)"]
        worst = max(abs(left), abs(right))
        rows.append(
            Row(
                t(f"derivative of the {name_en} at z = ±10", f"derivada da {name_pt} em z = ±10"),
                t(
                    f"vanishes as |z| grows (saturation): below {SATURATED:g}",
                    f"se anula quando |z| cresce (saturação): abaixo de {t.num(SATURATED, 'g')}",
                ),
                f"f′(−10) = {t.num(left, '.2g')}, f′(10) = {t.num(right, '.2g')}",
                worst < SATURATED,
            )
        )
    rows.append(
        Row(
            t("derivative of the step function", "derivada da função degrau"),
            t(
                "0 everywhere except z = 0, where it is undefined",
                "0 em todo lugar exceto z = 0, onde é indefinida",
            ),
            t(
                f"largest |f′| on the grid, z from −10 to 10: {t.num(mx['step'], 'g')}",
                f"maior |f′| na grade, z de −10 a 10: {t.num(mx['step'], 'g')}",
            ),
            mx["step"] == 0.0,
        )
    )
    chosen = m["derivative_at_0_chosen"]
    rows.append(
        Row(
            t("f′(0) at the kink of ReLU-like functions", "f′(0) no bico das funções tipo ReLU"),
            t(
                "not defined: the library must choose a value",
                "não definida: a biblioteca escolhe um valor",
            ),
            ", ".join(f"{t.lookup(_NAMES, k)} {t.num(v, 'g')}" for k, v in chosen.items()),
            None,
        )
    )
    err = max(m["max_error_vs_finite_difference"].values())
    rows.append(
        Row(
            t(
                f"every drawn f′ against a central finite difference ({len(mx)} activations)",
                f"cada f′ desenhada contra uma diferença finita central ({len(mx)} ativações)",
            ),
            t("f′ is the slope of f: equal within 1e-6", "f′ é a inclinação de f: iguais até 1e-6"),
            t(f"largest difference {t.num(err, '.1e')}", f"maior diferença {t.num(err, '.1e')}"),
            err < 1e-6,
        )
    )
    return rows


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in each figure."""
    sat = m["logistic_saturation"]["f'(10)"]
    return {
        "activations_grid.png": t(
            "Each panel draws an activation f (solid blue) beside its derivative f′ (dashed red) "
            "for z from −4 to 4. The logistic's f′ peaks at 0.25 and tanh's at 1; ReLU's jumps "
            "from 0 to 1 at z = 0, where a filled dot marks the value mlplab uses for f′(0). "
            "The step's f′ is 0 on both sides of its jump.",
            "Cada painel desenha uma ativação f (azul, contínua) ao lado de sua derivada f′ "
            "(vermelha, tracejada) para z de −4 a 4. A f′ da logística tem pico 0,25 e a da tanh "
            "1; a da ReLU salta de 0 para 1 em z = 0, onde o ponto cheio marca o valor que o "
            "mlplab usa para f′(0). A f′ do degrau é 0 dos dois lados do salto.",
        ),
        "activations_saturation.png": t(
            "The dashed curve is f′: it peaks at z = 0 (0.25 for the logistic, 1 for tanh) and "
            "vanishes in the grey bands (|z| > 5), where the output f is flat — saturation. At "
            f"z = 10 the logistic's f′ is only {t.num(sat, '.2g')}.",
            "A curva tracejada é f′: tem pico em z = 0 (0,25 na logística, 1 na tanh) e se "
            "anula nas faixas cinza (|z| > 5), onde a saída f é plana — saturação. Em z = 10 a "
            f"f′ da logística vale só {t.num(sat, '.2g')}.",
        ),
    }


LABELS = {
    "activations": ("activations drawn", "ativações desenhadas"),
    "grid": ("grid of the measurements", "grade das medidas"),
    "z_min": ("smallest z", "menor z"),
    "z_max": ("largest z", "maior z"),
    "spacing": ("spacing", "espaçamento"),
    "max_derivative": ("largest derivative f′ on the grid", "maior derivada f′ na grade"),
    "max_derivative_at": ("z where f′ is largest (first)", "z onde f′ é máxima (primeiro)"),
    "max_derivative_range": (
        "z range where f′ is at its largest",
        "intervalo de z onde f′ é máxima",
    ),
    "logistic_saturation": ("logistic at z = ±10", "logística em z = ±10"),
    "tanh_saturation": ("tanh at z = ±10", "tanh em z = ±10"),
    "derivative_at_0_chosen": ("f′(0) chosen at the kink", "f′(0) escolhida no bico"),
    "step_derivative_at_0": ("derivative of the step at 0", "derivada do degrau em 0"),
    "max_error_vs_finite_difference": (
        "largest |f′ − finite difference|",
        "maior |f′ − diferença finita|",
    ),
    **_NAMES,
}


@register(
    "activations",
    section="2",
    order=1,
    title={
        "en": "Activation functions beside their derivatives",
        "pt": "Funções de ativação ao lado de suas derivadas",
    },
    claim={
        "en": "The logistic derivative is at most 0.25 (at z = 0) and tanh's at most 1 (at z = 0); "
        "both vanish as |z| grows (saturation). The step's derivative is 0 except at 0, where it "
        "is undefined; ReLU-like functions have a kink at 0 where a library must choose f'(0).",
        "pt": "A derivada da logística vale no máximo 0,25 (em z = 0) e a da tanh no máximo 1 "
        "(em z = 0); ambas se anulam quando |z| cresce (saturação). A derivada do degrau é 0 "
        "exceto em 0, onde é indefinida; as funções do tipo ReLU têm um bico em 0, onde a "
        "biblioteca precisa escolher f'(0).",
    },
    headline=headline,
    captions=captions,
    labels=LABELS,
)
def run(out_dir: Path, *, seed: int = 0, quick: bool = False, lang: str = "en") -> dict[str, Any]:
    """Plot every elementwise activation with its derivative and measure the derivatives.

    Deterministic: ``seed`` and ``quick`` change nothing (the grid is already fast).
    """
    t = T(lang)
    result = compute()
    draw(result, t, out_dir)
    return result.metrics
