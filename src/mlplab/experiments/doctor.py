"""``doctor`` (lecture section 5): :func:`mlplab.diagnose` on four networks as initialised:
a deep logistic net with small weights (vanishing), a ReLU net with every weight 1.5
(exploding), a ReLU net whose large negative biases silence every unit (dead) and a
ReLU net with He initialisation (healthy).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.diagnostics import diagnose
from mlplab.diagnostics.doctor import KIND_PT
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.layers import Dense
from mlplab.network import Sequential

#: The four patients: (key, expected finding, description en, description pt).
DOCTOR_CASES = (
    (
        "logistic-small-init",
        "vanishing",
        "10 layers, 9 hidden logistic layers of 16 nodes, weights N(0, 0.1²)",
        "10 camadas, 9 camadas ocultas logísticas de 16 nós, pesos N(0; 0,1²)",
    ),
    (
        "relu-constant-1.5",
        "exploding",
        "ReLU, 5 hidden layers of 8 nodes, every weight 1.5",
        "ReLU, 5 camadas ocultas de 8 nós, todos os pesos iguais a 1,5",
    ),
    (
        "relu-bias-minus-10",
        "dead",
        "ReLU, 4 hidden layers of 16 nodes, He weights, every bias -10",
        "ReLU, 4 camadas ocultas de 16 nós, pesos de He, todos os vieses -10",
    ),
    (
        "relu-he",
        "healthy",
        "ReLU, 4 hidden layers of 16 nodes, He initialisation, zero biases",
        "ReLU, 4 camadas ocultas de 16 nós, inicialização de He, vieses nulos",
    ),
)


def _doctor_net(key: str, n_inputs: int, seed: int) -> Sequential:
    if key == "logistic-small-init":
        layers = [Dense(16, activation="logistic") for _ in range(9)] + [Dense(1)]
        return Sequential(layers, n_inputs, init={"name": "normal", "scale": 0.1}, seed=seed)
    if key == "relu-constant-1.5":
        layers = [Dense(8, activation="relu") for _ in range(5)] + [Dense(1)]
        return Sequential(layers, n_inputs, init={"name": "constant", "value": 1.5}, seed=seed)
    if key == "relu-bias-minus-10":
        bias = {"name": "constant", "value": -10.0}
        layers = [Dense(16, activation="relu", bias_init=bias) for _ in range(4)] + [Dense(1)]
        return Sequential(layers, n_inputs, init="he_normal", seed=seed)
    layers = [Dense(16, activation="relu") for _ in range(4)] + [Dense(1)]
    return Sequential(layers, n_inputs, init="he_normal", seed=seed)


def compute(*, seed: int, quick: bool, lang: str, samples: int) -> Result:
    """The four patients diagnosed (see :func:`run`); ``data["report"]``: the lines of
    ``doctor.txt``, each diagnosis in ``lang``."""
    t = T(lang)
    n = 128 if quick else int(samples)
    if n < 2:
        raise ValueError(f"samples must be at least 2. Received {samples!r}.")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 8))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    results: dict[str, Any] = {}
    report = []
    for key, expected, desc_en, desc_pt in DOCTOR_CASES:
        net = _doctor_net(key, X.shape[1], seed)
        diag = diagnose(net, X, y, loss="mse", lang=lang)
        stats = diag.stats
        index = {s["layer"]: k for k, s in enumerate(stats)}
        flagged = sorted(
            {index[f.layer] for f in diag.findings if f.layer is not None and f.kind != "healthy"}
        )
        rms = [s["grad_rms_W"] for s in stats]
        results[key] = {
            "description": t(desc_en, desc_pt),
            "expected": expected,
            "findings": sorted(diag.kinds()),
            "loss": diag.loss,
            "global_norm": diag.global_norm,
            "layers": [s["name"] for s in stats],
            "grad_norm_W": [s["grad_norm_W"] for s in stats],
            "grad_rms_W": rms,
            "mean_abs_fprime": [s["mean_abs_fprime"] for s in stats],
            "dead_fraction": [s["dead_fraction"] for s in stats],
            "flagged_layers": flagged,
            "first_to_last_rms": rms[0] / rms[-1] if rms[-1] > 0 else None,
        }
        bar = "=" * 78
        report += [bar, f"{key}: {t(desc_en, desc_pt)}", bar, str(diag), ""]
    metrics = {
        "samples": n,
        "findings": {k: v["findings"] for k, v in results.items()},
        "expected": {k: v["expected"] for k, v in results.items()},
        "cases": results,
    }
    return Result(metrics, {"report": report})


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``doctor.txt`` (the doctor's reports) and ``doctor.png``."""
    (out_dir / "doctor.txt").write_text("\n".join(result.data["report"]), encoding="utf-8")
    _plot_doctor(result.metrics["cases"], t, out_dir / "doctor.png")


def _plot_doctor(results: dict[str, Any], t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(11, 9), sharey=True)
    kind_text = {
        "vanishing": t("vanishing", "desaparecendo"),
        "exploding": t("exploding", "explodindo"),
        "dead": t("dead units", "unidades mortas"),
        "healthy": t("healthy", "saudável"),
        "saturated": t("saturated", "saturada"),
        "nonfinite": "NaN/inf",
    }
    every = np.concatenate([np.asarray(r["grad_norm_W"], dtype=float) for r in results.values()])
    positive = every[(every > 0) & np.isfinite(every)]
    lo = 10.0 ** (math.floor(math.log10(positive.min())) - 1) if positive.size else 1e-3
    hi = 10.0 ** (math.ceil(math.log10(positive.max())) + 1) if positive.size else 1e3
    for ax, (key, _, desc_en, desc_pt) in zip(axes.ravel(), DOCTOR_CASES, strict=True):
        res = results[key]
        norms = np.asarray(res["grad_norm_W"], dtype=float)
        flagged = set(res["flagged_layers"])
        colors = ["tab:red" if i in flagged else "tab:blue" for i in range(len(norms))]
        xs = np.arange(1, len(norms) + 1)
        ax.bar(xs, np.where(norms > 0, norms, np.nan), color=colors, bottom=lo)
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.axhspan(0.1, 10, color="tab:green", alpha=0.15, lw=0)
        for xi, n, c in zip(xs, norms, colors, strict=True):
            if n == 0:
                ax.text(xi, lo * 3, "0", ha="center", va="bottom", fontsize=12, color=c)
        ax.set_xticks(xs)
        ax.set_xlim(0.4, len(norms) + 0.6)
        ax.set_xlabel(
            t(
                "layer (1 = first hidden, last = output)",
                "camada (1 = primeira oculta, última = saída)",
            )
        )
        if ax.get_subplotspec().is_first_col():
            ax.set_ylabel(t("‖∂J/∂W‖ (log scale)", "‖∂J/∂W‖ (escala log)"))
        found = ", ".join(kind_text.get(k, k) for k in res["findings"])
        ax.set_title(
            textwrap.fill(t(desc_en, desc_pt), 52)
            + "\n"
            + t("diagnosis: ", "diagnóstico: ")
            + found,
            fontsize=10,
        )
        ax.grid(axis="y", alpha=0.3, which="both")
    fig.suptitle(
        t(
            "The gradient doctor: gradient norm per layer, as initialised\n"
            "(red: layers flagged; green band: 0.1 to 10)",
            "O médico do gradiente: norma do gradiente por camada, na inicialização\n"
            "(vermelho: camadas apontadas; faixa verde: de 0,1 a 10)",
        )
    )
    fig.subplots_adjust(hspace=0.5, wspace=0.12, top=0.86)
    save_figure(fig, path)


def _kind(k: str, t: T) -> str:
    return t(k, KIND_PT.get(k, k))


def _said(case: dict[str, Any], t: T) -> str:
    return ", ".join(_kind(k, t) for k in case["findings"])


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """One row per patient (the doctor's finding against the lecture's), then whether the
    doctor tells the four apart."""
    cases = m["cases"]
    van, exp, dead, he = (cases[k] for k, *_ in DOCTOR_CASES)
    ratio = van["first_to_last_rms"]
    hidden_dead = dead["dead_fraction"][:-1]
    he_norms = he["grad_norm_W"]
    apart = sum(m["findings"][k] == [m["expected"][k]] for k in m["expected"])
    return [
        Row(
            t(
                "doctor's finding, deep logistic net with small weights (RMS of ∂J/∂W, first "
                "layer over the last)",
                "diagnóstico, rede logística profunda de pesos pequenos (RMS de ∂J/∂W, primeira "
                "camada sobre a última)",
            ),
            t(
                "vanishing: orders of magnitude smaller (below 0.01)",
                "gradiente desaparecendo: ordens de grandeza menor (abaixo de 0,01)",
            ),
            f"{_said(van, t)} ({t.num(ratio, '.2g') if ratio is not None else '—'})",
            "vanishing" in van["findings"] and ratio is not None and ratio < 0.01,
        ),
        Row(
            t(
                "doctor's finding, ReLU with every weight 1.5 (global gradient norm)",
                "diagnóstico, ReLU com todos os pesos 1,5 (norma global do gradiente)",
            ),
            t("exploding", "gradiente explodindo"),
            f"{_said(exp, t)} ({t.num(exp['global_norm'], '.2g')}; He: "
            f"{t.num(he['global_norm'], '.2g')})",
            "exploding" in exp["findings"],
        ),
        Row(
            t(
                "doctor's finding, ReLU with every bias -10 (hidden units that output 0 for "
                "every sample)",
                "diagnóstico, ReLU com todos os vieses -10 (unidades ocultas que dão 0 em "
                "toda amostra)",
            ),
            t("dead units: all of them", "unidades mortas: todas"),
            f"{_said(dead, t)} ({t.num(100 * min(hidden_dead), '.0f')} %)",
            "dead" in dead["findings"] and min(hidden_dead) == 1.0,
        ),
        Row(
            t(
                "doctor's finding, ReLU with He initialisation",
                "diagnóstico, ReLU com inicialização de He",
            ),
            t("healthy: none of these", "saudável: nenhum desses"),
            _said(he, t),
            he["findings"] == ["healthy"],
        ),
        Row(
            t(
                "gradient norm ‖∂J/∂W‖ per layer, ReLU with He initialisation",
                "norma do gradiente ‖∂J/∂W‖ por camada, ReLU com inicialização de He",
            ),
            t("every layer between 0.1 and 10", "toda camada entre 0,1 e 10"),
            t(
                f"{t.num(min(he_norms), '.2g')} to {t.num(max(he_norms), '.2g')}",
                f"de {t.num(min(he_norms), '.2g')} a {t.num(max(he_norms), '.2g')}",
            ),
            all(0.1 <= v <= 10 for v in he_norms),
        ),
        Row(
            t(
                "networks whose finding is the expected one, and only it",
                "redes cujo diagnóstico é o esperado, e só ele",
            ),
            t(
                "all 4: one backward pass tells them apart",
                "as 4: uma retropropagação as distingue",
            ),
            t(f"{apart} of {len(m['expected'])}", f"{apart} de {len(m['expected'])}"),
            apart == len(m["expected"]),
        ),
    ]


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in ``doctor.png``."""
    cases = m["cases"]
    van, exp, _, he = (cases[k] for k, *_ in DOCTOR_CASES)
    g = van["grad_norm_W"]
    lo, hi = t.num(min(he["grad_norm_W"]), ".2g"), t.num(max(he["grad_norm_W"]), ".2g")
    big = t.num(min(exp["grad_norm_W"]), ".1e")
    first, last = t.num(g[0], ".1e"), t.num(g[-1], ".2g")
    named = ", ".join(str(i + 1) for i in exp["flagged_layers"]) or "—"
    text = t(
        "One panel per network as initialised, one bar per weight layer: the gradient norm "
        "‖∂J/∂W‖ on a log scale; red bars are the layers the doctor flags, the green band "
        f"marks 0.1 to 10. Top left: the deep logistic net's bars rise from {first} at the "
        f"first layer to {last} at the output (vanishing). Top right: with every weight 1.5 "
        f"every bar is above {big}, far over the band; the doctor names the exploding "
        f"gradient at layer {named} (red), the largest. Bottom left: every bias -10 silences every "
        f"unit, so every gradient is 0 (dead). Bottom right: He's bars stay in the green band, "
        f"{lo} to {hi} (healthy).",
        "Um painel por rede na inicialização, uma barra por camada de pesos: a norma do "
        "gradiente ‖∂J/∂W‖ em escala log; as barras vermelhas são as camadas que o médico "
        f"aponta, a faixa verde marca de 0,1 a 10. Em cima, à esquerda: as barras da rede "
        f"logística profunda sobem de {first} na primeira camada a {last} na saída (gradiente "
        f"desaparecendo). Em cima, à direita: com todos os pesos 1,5 toda barra passa de {big}, "
        f"muito acima da faixa; o médico aponta a explosão na camada {named} (vermelha), a "
        "maior. Embaixo, à esquerda: os vieses -10 silenciam todas as unidades, e todo "
        "gradiente é 0 (unidades mortas). Embaixo, à direita: as barras de He "
        f"ficam na faixa verde, de {lo} a {hi} (saudável).",
    )
    return {"doctor.png": text}


LABELS: dict[str, tuple[str, str]] = {
    "samples": ("samples", "amostras"),
    "findings": ("the doctor's findings", "diagnósticos do médico"),
    "expected": ("expected finding", "diagnóstico esperado"),
    "cases": ("networks", "redes"),
    **{key: (en, pt) for key, _, en, pt in DOCTOR_CASES},
    "description": ("network", "rede"),
    "loss": ("loss (MSE)", "perda (EQM)"),
    "global_norm": ("global gradient norm", "norma global do gradiente"),
    "layers": ("layers", "camadas"),
    "grad_norm_W": ("‖∂J/∂W‖ per layer", "‖∂J/∂W‖ por camada"),
    "grad_rms_W": ("RMS of ∂J/∂W per layer", "RMS de ∂J/∂W por camada"),
    "mean_abs_fprime": ("mean |f′(z)| per layer", "média de |f′(z)| por camada"),
    "dead_fraction": ("dead fraction per layer", "fração de unidades mortas por camada"),
    "flagged_layers": ("flagged layers (0 = first)", "camadas apontadas (0 = primeira)"),
    "first_to_last_rms": (
        "RMS of ∂J/∂W, first layer over the last",
        "RMS de ∂J/∂W, primeira camada sobre a última",
    ),
}


@register(
    "doctor",
    section="5",
    order=1,
    title={
        "en": "The gradient doctor: vanishing, exploding, dead and healthy networks",
        "pt": "O médico do gradiente: redes com gradiente desaparecendo, explodindo, com "
        "unidades mortas e saudável",
    },
    claim={
        "en": "One backward pass read layer by layer tells the problems apart and names the "
        "lecture's remedy: a deep logistic net with small weights has first-layer gradients "
        "orders of magnitude smaller than the last layer's (vanishing); ReLU with every weight "
        "1.5 multiplies the gradient layer after layer (exploding); a large negative bias "
        "silences every ReLU unit (dead); ReLU with He initialisation shows none of these.",
        "pt": "Uma retropropagação lida camada por camada distingue os problemas e indica o "
        "remédio da aula: uma rede logística profunda com pesos pequenos tem gradientes na "
        "primeira camada ordens de grandeza menores que na última (gradiente desaparecendo); "
        "ReLU com todos os pesos iguais a 1,5 multiplica o gradiente camada após camada "
        "(gradiente explodindo); um viés muito negativo silencia todas as unidades ReLU "
        "(unidades mortas); ReLU com inicialização de He não mostra nenhum desses problemas.",
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
    samples: int = 512,
) -> dict[str, Any]:
    """``mlplab.diagnose`` on the four networks as initialised (seeded), on a regression
    y = sin(x1) + x2 x3 / 2 of 8 standard-normal features (``quick``: 128 samples).

    Writes ``doctor.txt`` (each report in ``lang``) and ``doctor.png``. Metrics:
    ``findings`` ({case: sorted finding kinds}), ``expected`` ({case: the kind the
    case demonstrates}) and ``cases`` (per case: description, loss, global_norm,
    layers, grad_norm_W, grad_rms_W, mean_abs_fprime, dead_fraction, flagged_layers,
    first_to_last_rms (RMS of ∂J/∂W, first layer over the last)).
    """
    t = T(lang)
    result = compute(seed=seed, quick=quick, lang=lang, samples=samples)
    draw(result, t, out_dir)
    return result.metrics
