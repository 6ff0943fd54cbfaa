"""``doctor`` (lecture section 5): :func:`mlplab.diagnose` on four networks as initialised:
a deep logistic net with small weights (vanishing), a ReLU net with every weight 1.5
(exploding), a ReLU net whose large negative biases silence every unit (dead) and a
ReLU net with He initialisation (healthy).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.diagnostics import diagnose
from mlplab.experiments._registry import Result, register, save_figure
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

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), sharey=True)
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
        ax.axhspan(0.1, 10, color="tab:green", alpha=0.08, lw=0)
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
        ax.set_ylabel(t("‖∂J/∂W‖ (log scale)", "‖∂J/∂W‖ (escala log)"))
        found = ", ".join(kind_text.get(k, k) for k in res["findings"])
        ax.set_title(
            f"{t(desc_en, desc_pt)}\n" + t("diagnosis: ", "diagnóstico: ") + found,
            fontsize=9.5,
        )
        ax.grid(axis="y", alpha=0.3, which="both")
    fig.suptitle(
        t(
            "The gradient doctor: gradient norm per layer, as initialised "
            "(red: layers flagged; green band: 0.1 to 10)",
            "O médico do gradiente: norma do gradiente por camada, na inicialização "
            "(vermelho: camadas apontadas; faixa verde: de 0,1 a 10)",
        )
    )
    fig.subplots_adjust(hspace=0.45, wspace=0.25, top=0.9)
    save_figure(fig, path)


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
