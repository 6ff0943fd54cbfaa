"""``failure-lab`` (lecture section 5): break it, let the gradient doctor diagnose it,
fix it.

Five broken trainings, each diagnosed by the gradient doctor
(:func:`mlplab.diagnose`) and fixed with the remedy it names, with numbers
before and after; the doctor's reports go to ``failure_lab.txt``.
"""

from __future__ import annotations

import math
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

from mlplab._checks import check_int
from mlplab.diagnostics.doctor import KIND_PT
from mlplab.experiments._deep import (
    Doc,
    accuracy,
    count_option,
    deep,
    diagnose_both,
    finite,
    fit_recorded,
    spirals,
)
from mlplab.experiments._registry import Result, Row, register, save_figure
from mlplab.i18n import T
from mlplab.io import atomic_write
from mlplab.layers import Dense
from mlplab.network import Sequential
from mlplab.sklearn.estimators import MLPClassifier

#: XOR accuracy below this counts as "stuck" (a local minimum, typically 75 %).
XOR_STUCK = 0.8


def _r2(pred: np.ndarray, y: np.ndarray) -> float:
    """Coefficient of determination; non-finite predictions give -inf (reported as None)."""
    if not np.isfinite(pred).all():
        return -math.inf
    return float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean()) ** 2))


def _net_r2(net: Sequential, X, y) -> float:
    """R² of the network's predictions (which may have overflowed: no warnings)."""
    with np.errstate(all="ignore"):
        return _r2(net.forward(X)[:, 0], y)


def _classify(net, X, y, **fit_kw) -> tuple[float, Doc, dict[str, Any]]:
    _, rec = fit_recorded(net, X, y, loss="bce", seed=net.seed, **fit_kw)
    return accuracy(net, X, y), diagnose_both(net, X, y, loss="bce"), rec


def _outcome(metric: str, broken, fixed, diag: Doc, diag_fixed: Doc) -> dict[str, Any]:
    """A preset's scores (``metric``) and diagnoses before and after its remedy."""
    return {
        "metric": metric,
        "broken": broken,
        "fixed": fixed,
        "diag": diag,
        "diag_fixed": diag_fixed,
    }


def _preset_deep_sigmoid(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = ctx["spirals"]
    kw = {"depth": 8, "width": 32, "seed": ctx["seed"]}
    fit = {
        "optimizer": "momentum",
        "learning_rate": 0.02,
        "epochs": ctx["epochs"],
        "batch_size": 32,
    }
    small = {"name": "normal", "scale": 0.1}
    broken, diag, rec = _classify(deep("logistic", small, **kw), X, y, **fit)
    fixed, diag_fixed, _ = _classify(deep("relu", "he_normal", **kw), X, y, **fit)
    alt, _, _ = _classify(deep("logistic", "glorot_normal", batch_norm=True, **kw), X, y, **fit)
    return {
        "title": ("Deep sigmoid network", "Rede sigmoide profunda"),
        "setting": (
            "8 hidden logistic layers x 32, N(0, 0.1²) initialisation, SGD + momentum, lr 0.02",
            "8 camadas ocultas logísticas x 32, inicialização N(0, 0,1²), SGD + momento, taxa 0,02",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            "ReLU + He initialisation (same draw, same batches)",
            "ReLU + inicialização de He (mesmo sorteio, mesmos lotes)",
        ),
        "keyword": "ReLU",
        "alternative": (
            "logistic + Glorot + batch normalisation",
            "logística + Glorot + normalização em lote",
            alt,
        ),
        **rec,
    }


def _sine(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The lecture's sin x on [0, 2π] (n linspace points), x standardised."""
    from mlplab import datasets

    x, y = datasets.function("sin", n)
    return (x - x.mean()) / x.std(), y


def _regress(net: Sequential, X, y, **fit_kw) -> tuple[float, Doc, dict[str, Any]]:
    _, rec = fit_recorded(net, X, y, loss="mse", seed=net.seed, **fit_kw)
    return _net_r2(net, X, y), diagnose_both(net, X, y, loss="mse"), rec


def _preset_high_lr(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = _sine(ctx["n"])

    def net() -> Sequential:
        return Sequential(
            [Dense(32, "tanh"), Dense(32, "tanh"), Dense(1)],
            n_inputs=1,
            init="glorot_normal",
            seed=ctx["seed"],
        )

    fit = {"optimizer": "momentum", "epochs": ctx["epochs"], "batch_size": 32}
    broken, diag, rec = _regress(net(), X, y, learning_rate=2.0, **fit)
    fixed, diag_fixed, _ = _regress(net(), X, y, learning_rate=0.05, **fit)
    alt, _, _ = _regress(net(), X, y, learning_rate=2.0, clip_norm=1.0, **fit)
    return {
        "title": ("Learning rate too high: NaN", "Taxa de aprendizado alta demais: NaN"),
        "setting": (
            "sin x on [0, 2π], 2 hidden tanh layers x 32, Glorot, MSE, SGD + momentum 0.9, lr 2",
            "sen x em [0, 2π], 2 camadas ocultas tanh x 32, Glorot, EQM, SGD + momento 0,9, taxa 2",
        ),
        **_outcome("R²", broken, fixed, diag, diag_fixed),
        "remedy": (
            "lower the learning rate: 2 -> 0.05 (same weights, same batches)",
            "reduzir a taxa de aprendizado: 2 -> 0,05 (mesmos pesos, mesmos lotes)",
        ),
        "keyword": "lower the learning rate",
        "alternative": ("lr 2 with clip_norm = 1", "taxa 2 com clip_norm = 1", alt),
        **rec,
    }


def _preset_dying(ctx: dict[str, Any]) -> dict[str, Any]:
    X, y = ctx["spirals"]
    kw = {"depth": 4, "width": 32, "seed": ctx["seed"]}
    fit = {"optimizer": "adam", "learning_rate": 0.01, "epochs": ctx["epochs"], "batch_size": 32}
    bias = {"name": "constant", "value": -1.5}
    broken, diag, rec = _classify(deep("relu", "he_normal", bias_init=bias, **kw), X, y, **fit)
    fixed, diag_fixed, _ = _classify(
        deep("leaky_relu", "he_normal", bias_init=bias, **kw), X, y, **fit
    )
    alt, _, _ = _classify(deep("relu", "he_normal", **kw), X, y, **fit)
    return {
        "title": ("Dying ReLU", "ReLU moribunda"),
        "setting": (
            "4 hidden ReLU layers x 32, He, biases initialised to -1.5, Adam, lr 0.01",
            "4 camadas ocultas ReLU x 32, He, vieses iniciados em -1,5, Adam, taxa 0,01",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            "leaky_relu instead of relu (same weights and biases)",
            "leaky_relu em vez de relu (mesmos pesos e vieses)",
        ),
        "keyword": "leaky_relu",
        "alternative": ("ReLU + He with zero biases", "ReLU + He com vieses nulos", alt),
        **rec,
    }


def _preset_unscaled_target(ctx: dict[str, Any]) -> dict[str, Any]:
    seed = ctx["seed"]
    X, sine = _sine(ctx["n"])  # the input is standardised: only the target is not
    y = 2000.0 + 1000.0 * sine  # a target in the thousands

    def net() -> Sequential:
        return Sequential([Dense(32, "tanh"), Dense(32, "tanh"), Dense(1)], n_inputs=1, seed=seed)

    fit = {
        "loss": "mse",
        "optimizer": "adam",
        "learning_rate": 0.01,
        "batch_size": 32,
        "epochs": ctx["epochs"] * 5,
        "seed": seed,
    }
    broken_net = net()
    _, rec = fit_recorded(broken_net, X, y, **fit)
    broken = _net_r2(broken_net, X, y)
    diag = diagnose_both(broken_net, X, y, loss="mse")
    # the fix: standardise the target (sklearn's StandardScaler), train, transform back
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    ys = scaler.fit_transform(y.reshape(-1, 1))[:, 0]
    fixed_net = net()
    fit_recorded(fixed_net, X, ys, **fit)
    fixed = _r2(scaler.inverse_transform(fixed_net.forward(X))[:, 0], y)
    diag_fixed = diagnose_both(fixed_net, X, ys, loss="mse")
    alt_net = net()
    fit_recorded(alt_net, X, y, clip_norm=1.0, **fit)
    alt = _net_r2(alt_net, X, y)
    return {
        "title": ("Unscaled regression target", "Alvo de regressão sem escala"),
        "setting": (
            "y = 2000 + 1000 sin x on [0, 2π] (x standardised), 2 tanh layers x 32, MSE, Adam, "
            "lr 0.01",
            "y = 2000 + 1000 sen x em [0, 2π] (x padronizado), 2 camadas tanh x 32, EQM, Adam, "
            "taxa 0,01",
        ),
        **_outcome("R²", broken, fixed, diag, diag_fixed),
        "remedy": (
            "standardise the target (StandardScaler on y), predict, transform back",
            "padronizar o alvo (StandardScaler em y), prever e voltar à escala original",
        ),
        "keyword": "target",
        "alternative": (
            "clip_norm = 1 (the exploding remedy), y unscaled",
            "clip_norm = 1 (o remédio da explosão), y sem escala",
            alt,
        ),
        **rec,
    }


def _xor_fit(hidden: tuple[int, ...], X, y, random_state: int) -> MLPClassifier:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return MLPClassifier(
            hidden_layer_sizes=hidden,
            activation="logistic",
            solver="lbfgs",
            random_state=random_state,
            max_iter=1000,
            convergence_warning=False,
        ).fit(X, y)


def _preset_xor(ctx: dict[str, Any]) -> dict[str, Any]:
    from mlplab import datasets

    seed = ctx["seed"]
    X, y = datasets.logic_gate("xor", ctx["n"], noise=0.1, seed=seed)
    # the first random_state from `seed` on whose 2-node network gets stuck
    bad, clf = None, None
    for rs in range(seed, seed + 100):
        clf = _xor_fit((2,), X, y, rs)
        if clf.score(X, y) < XOR_STUCK:
            bad = rs
            break
    if bad is None:  # pragma: no cover - no stuck initialisation among 100
        bad = seed
        clf = _xor_fit((2,), X, y, bad)
    broken = float(clf.score(X, y))
    diag = diagnose_both(clf, X, y)
    restarts = [_xor_fit((2,), X, y, rs) for rs in range(bad + 1, bad + 1 + ctx["restarts"])]
    best = min(restarts, key=lambda c: c.loss_)
    fixed = float(best.score(X, y))
    diag_fixed = diagnose_both(best, X, y)
    alt = float(_xor_fit((3,), X, y, bad).score(X, y))
    k = ctx["restarts"]
    return {
        "title": ("XOR stuck at a local minimum", "XOR preso num mínimo local"),
        "setting": (
            f"MLPClassifier(hidden_layer_sizes=(2,), logistic, lbfgs), random_state={bad} "
            "(the first stuck one)",
            f"MLPClassifier(hidden_layer_sizes=(2,), logística, lbfgs), random_state={bad} "
            "(o primeiro que fica preso)",
        ),
        **_outcome("accuracy", broken, fixed, diag, diag_fixed),
        "remedy": (
            f"other initialisations: best of random_state {bad + 1}..{bad + k} by training loss "
            f"(random_state {best.random_state})",
            f"outras inicializações: a melhor de random_state {bad + 1}..{bad + k} pela perda de "
            f"treino (random_state {best.random_state})",
        ),
        "keyword": None,  # a local minimum: the doctor reads saturated units, not the cause
        "alternative": (
            "3 hidden nodes, the same random_state",
            "3 nós ocultos, o mesmo random_state",
            alt,
        ),
        "gradient_warnings": [],
        "diverged": False,
        "bad_random_state": bad,
    }


PRESETS = {
    "deep_sigmoid": _preset_deep_sigmoid,
    "lr_too_high": _preset_high_lr,
    "dying_relu": _preset_dying,
    "unscaled_target": _preset_unscaled_target,
    "xor_stuck": _preset_xor,
}


def _kinds(doc: Doc, t: T | None = None) -> str:
    kinds = sorted(doc.diagnosis.kinds())
    if t is not None:
        return _kinds_text(", ".join(kinds), t)
    return ", ".join(kinds)


def compute(
    *, seed: int, quick: bool, samples: int | None, epochs: int | None, restarts: int
) -> Result:
    """Every preset broken, diagnosed and fixed (see :func:`run`)."""
    n = count_option("samples", samples, 20, (400, 1000), quick)
    n_epochs = count_option("epochs", epochs, 1, (8, 20), quick)
    k = check_int("restarts", restarts, minimum=1)
    ctx = {"seed": seed, "n": n, "epochs": n_epochs, "restarts": k, "spirals": spirals(n, seed)}
    results: dict[str, dict[str, Any]] = {}
    for key, preset in PRESETS.items():
        t0 = time.perf_counter()
        results[key] = preset(ctx)
        results[key]["seconds"] = time.perf_counter() - t0

    keys = list(results)
    metrics = {
        "presets": keys,
        "metric": {k: results[k]["metric"] for k in keys},
        "broken": {k: finite(results[k]["broken"]) for k in keys},
        "fixed": {k: finite(results[k]["fixed"]) for k in keys},
        "doctor_broken": {k: _kinds(results[k]["diag"]) for k in keys},
        "doctor_fixed": {k: _kinds(results[k]["diag_fixed"]) for k in keys},
        "remedy": {k: results[k]["remedy"][0] for k in keys},
        "remedy_named_by_doctor": {
            k: bool(results[k]["keyword"])
            and results[k]["keyword"] in results[k]["diag"].texts["en"]
            for k in keys
        },
        "alternative": {k: results[k]["alternative"][0] for k in keys},
        "alternative_metric": {k: finite(results[k]["alternative"][2]) for k in keys},
        "broken_diverged": {k: results[k]["diverged"] for k in keys},
        "broken_gradient_warnings": {k: ", ".join(results[k]["gradient_warnings"]) for k in keys},
        "xor_bad_random_state": results["xor_stuck"]["bad_random_state"],
        "seconds_per_preset": {k: round(results[k]["seconds"], 3) for k in keys},
        "doctor_report": "failure_lab.txt",
    }
    return Result(metrics, {"seed": seed, "results": results})


def draw(result: Result, t: T, out_dir: Path) -> None:
    """``failure_lab.txt`` (the doctor's reports) and ``failure_lab.png``."""
    results = result.data["results"]
    text = _report(results, result.data["seed"], t)
    atomic_write(str(out_dir / "failure_lab.txt"), text.encode("utf-8"))
    _failure_figure(results, t, out_dir / "failure_lab.png")


def _report(results: dict[str, dict[str, Any]], seed: int, t: T) -> str:
    """The text of ``failure_lab.txt``: each preset's setting, the doctor's reports on the
    broken and the fixed run, and the alternative remedy."""
    lines = [
        t(
            "Failure lab: the gradient doctor's reports",
            "Laboratório de falhas: os laudos do médico do gradiente",
        ),
        t(
            f"(seed {seed}; mlplab.diagnose after training, on the training data)",
            f"(semente {seed}; mlplab.diagnose após o treino, nos dados de treino)",
        ),
        "",
    ]
    for key, r in results.items():
        pick = 1 if t.lang == "pt" else 0
        metric = t(r["metric"], "acurácia" if r["metric"] == "accuracy" else r["metric"])
        lines += [
            "=" * 78,
            f"{r['title'][pick]} [{key}]",
            t("Setting: ", "Cenário: ") + r["setting"][pick],
            "",
            t("BROKEN", "QUEBRADO")
            + f" — {metric} {_fmt_metric(r['broken'], t)}"
            + (
                t(" (training diverged: NaN)", " (o treino divergiu: NaN)") if r["diverged"] else ""
            ),
            r["diag"].texts[t.lang],
            "",
            t("Remedy applied: ", "Remédio aplicado: ") + r["remedy"][pick],
            t("FIXED", "CONSERTADO") + f" — {metric} {_fmt_metric(r['fixed'], t)}",
            r["diag_fixed"].texts[t.lang],
            "",
            t("Alternative: ", "Alternativa: ")
            + r["alternative"][pick]
            + f" — {metric} {_fmt_metric(r['alternative'][2], t)}",
            "",
        ]
    return "\n".join(lines)


def _fmt_metric(v: float, t: T) -> str:
    if v is None or not math.isfinite(v):
        return "—"
    return t.num(v, ".3f" if abs(v) < 1e4 else ".3g")


def _failure_figure(results, t: T, path: Path) -> None:
    import matplotlib.pyplot as plt

    keys = list(results)
    x = np.arange(len(keys))
    broken = [results[k]["broken"] for k in keys]
    fixed = [results[k]["fixed"] for k in keys]
    floor = -0.5
    fig, ax = plt.subplots(figsize=(10.4, 6))
    for off, vals, color, label in (
        (-0.2, broken, "tab:red", t("broken", "quebrado")),
        (0.2, fixed, "tab:green", t("fixed", "consertado")),
    ):
        shown = [max(v, floor) if math.isfinite(v) else floor for v in vals]
        cut = ["xx" if s_ <= floor else "" for s_ in shown]  # hatched: the bar goes further
        ax.bar(x + off, shown, 0.4, color=color, label=label, hatch=cut)
        for i, (v, s) in enumerate(zip(vals, shown, strict=True)):
            txt = _fmt_metric(v, t) if math.isfinite(v) else t("not\nfinite", "não\nfinito")
            ax.text(i + off, (s if s >= 0 else 0) + 0.02, txt, ha="center", fontsize=9)
    names = []
    for k in keys:
        r = results[k]
        metric = t(r["metric"], "acurácia" if r["metric"] == "accuracy" else r["metric"])
        doctor = _kinds(r["diag"], t)
        title = textwrap.fill(t(*r["title"]), 20)
        finding = textwrap.fill(f"{t('doctor', 'médico')}: {doctor}", 22)
        names.append(f"{title}\n({metric})\n{finding}")
    ax.set_xticks(x, names, fontsize=9)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylim(floor - 0.05, 1.16)
    ax.set_ylabel(
        t(
            "training accuracy or R² (below -0.5: cut)",
            "acurácia de treino ou R² (abaixo de -0,5: cortado)",
        )
    )
    ax.set_title(t("Before and after the doctor's remedy", "Antes e depois do remédio do médico"))
    ax.legend(loc="lower right", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    save_figure(fig, path)


#: A fixed run "works" when its training accuracy or R² reaches this.
WORKS = 0.9
#: Per preset: the kinds of trace the lecture names (any of them counts), and the
#: remedy, as the headline states them (en, pt).
TRACES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "deep_sigmoid": (("vanishing",), "vanishing; ReLU + He", "desaparecendo; ReLU + He"),
    "lr_too_high": (
        ("exploding", "nonfinite"),
        "exploding and NaN; a lower learning rate",
        "explosão e NaN; uma taxa menor",
    ),
    "dying_relu": (("dead",), "dead units; leaky ReLU", "unidades mortas; leaky ReLU"),
    "unscaled_target": (
        ("exploding", "saturated"),
        "exploding and saturated; the target standardised",
        "explosão e saturação; o alvo padronizado",
    ),
    "xor_stuck": (
        ("saturated",),
        "saturated units; other initialisations",
        "unidades saturadas; outras inicializações",
    ),
}
#: The doctor's findings that say a network is ill (what a fixed run must not show).
ILL = ("vanishing", "exploding", "dead", "nonfinite")


def _seen(m: dict[str, Any], key: str) -> set[str]:
    """Every kind of trace the broken run left: the doctor's findings and fit's warnings."""
    said = m["doctor_broken"][key].split(", ") + m["broken_gradient_warnings"][key].split(", ")
    return {k for k in said if k} | ({"nonfinite"} if m["broken_diverged"][key] else set())


def _kinds_text(text: str, t: T) -> str:
    kinds = [k for k in text.split(", ") if k]
    return (
        ", ".join(t("NaN/inf" if k == "nonfinite" else k, KIND_PT.get(k, k)) for k in kinds) or "—"
    )


def _score(v: float | None, t: T) -> str:
    return t("not finite", "não finito") if v is None else _fmt_metric(v, t)


def headline(m: dict[str, Any], t: T) -> list[Row]:
    """Per preset: the trace the lecture names, seen in the broken run, and the remedy
    making it work; then the doctor on the fixed runs."""
    rows = []
    for key, (kinds, en, pt) in TRACES.items():
        (trace_en, fix_en), (trace_pt, fix_pt) = en.split("; "), pt.split("; ")
        metric = m["metric"][key]
        name = t(metric, "acurácia" if metric == "accuracy" else metric)
        broken, fixed = m["broken"][key], m["fixed"][key]
        trace = all(k in _seen(m, key) for k in kinds)
        rows.append(
            Row(
                t(
                    f"{LABELS[key][0]}: the trace in the gradients; {name} broken → fixed",
                    f"{LABELS[key][1]}: o rastro nos gradientes; {name} quebrado → consertado",
                ),
                t(
                    f"trace: {trace_en}. Remedy: {fix_en}; then {name} ≥ {WORKS:g}",
                    f"rastro: {trace_pt}. Remédio: {fix_pt}; depois {name} ≥ {t.num(WORKS, 'g')}",
                ),
                f"{_kinds_text(', '.join(sorted(_seen(m, key))), t)}; "
                f"{_score(broken, t)} → {_score(fixed, t)}",
                trace and fixed is not None and fixed >= WORKS,
            )
        )
    fixed_kinds = [set(m["doctor_fixed"][k].split(", ")) for k in m["presets"]]
    ill = sum(bool(k & set(ILL)) for k in fixed_kinds)
    distinct = sorted(set().union(*fixed_kinds) - {""})
    rows.append(
        Row(
            t("the doctor on the fixed runs", "o médico nas execuções consertadas"),
            t(
                "no vanishing, exploding, dead or NaN finding",
                "nenhum gradiente desaparecendo, explodindo, unidade morta ou NaN",
            ),
            _kinds_text(", ".join(distinct), t)
            + t(f" ({ill} of {len(fixed_kinds)} ill)", f" ({ill} de {len(fixed_kinds)} doentes)"),
            ill == 0,
        )
    )
    return rows


def captions(m: dict[str, Any], t: T) -> dict[str, str]:
    """What to look at in ``failure_lab.png``."""
    fixed = [v for v in m["fixed"].values() if v is not None]
    low = _fmt_metric(min(fixed), t) if fixed else "—"
    text = t(
        "One pair of bars per classic failure: red, the broken training; green, the same "
        "network after the remedy the lecture (and the doctor) names. The height is the "
        "training accuracy for the classifiers and R² for the regressions: 1 is perfect, "
        "chance is 0.5 in accuracy, predicting the mean is 0 in R²; a bar below -0.5 is cut "
        "and hatched, and a "
        'run whose outputs overflowed says "not finite". Under each pair, the doctor\'s '
        f"finding on the broken run. The lowest green bar is {low}.",
        "Um par de barras por falha clássica: vermelha, o treino quebrado; verde, a mesma rede "
        "depois do remédio que a aula (e o médico) indica. A altura é a acurácia de treino "
        "nos classificadores e o R² nas regressões: 1 é perfeito, o acaso dá 0,5 de acurácia, "
        "prever a média dá 0 de R²; uma barra abaixo de -0,5 é cortada e hachurada, e uma "
        "execução cujas saídas "
        'estouraram diz "não finito". Sob cada par, o diagnóstico do médico na execução '
        f"quebrada. A barra verde mais baixa é {low}.",
    )
    return {"failure_lab.png": text}


LABELS: dict[str, tuple[str, str]] = {
    "presets": ("failures", "falhas"),
    "metric": ("score", "medida"),
    "broken": ("score, broken", "medida, quebrado"),
    "fixed": ("score, fixed", "medida, consertado"),
    "doctor_broken": ("the doctor on the broken run", "o médico na execução quebrada"),
    "doctor_fixed": ("the doctor on the fixed run", "o médico na execução consertada"),
    "remedy": ("remedy applied", "remédio aplicado"),
    "remedy_named_by_doctor": (
        "remedy named in the doctor's report",
        "remédio citado no laudo do médico",
    ),
    "alternative": ("another remedy", "outro remédio"),
    "alternative_metric": ("score with the other remedy", "medida com o outro remédio"),
    "broken_diverged": ("broken run diverged (NaN)", "execução quebrada divergiu (NaN)"),
    "broken_gradient_warnings": (
        "gradient warnings during the broken run",
        "avisos do gradiente na execução quebrada",
    ),
    "xor_bad_random_state": (
        "XOR: the first stuck random state",
        "XOR: o primeiro estado aleatório preso",
    ),
    "seconds_per_preset": ("seconds per failure", "segundos por falha"),
    "doctor_report": ("the doctor's reports (file)", "os laudos do médico (arquivo)"),
    # the presets (nested keys)
    "deep_sigmoid": ("Deep sigmoid network", "Rede sigmoide profunda"),
    "lr_too_high": ("Learning rate too high", "Taxa de aprendizado alta demais"),
    "dying_relu": ("Dying ReLU", "ReLU moribunda"),
    "unscaled_target": ("Unscaled regression target", "Alvo de regressão sem escala"),
    "xor_stuck": ("XOR stuck at a local minimum", "XOR preso num mínimo local"),
}


@register(
    "failure-lab",
    section="5",
    order=3,
    title={
        "en": "Failure lab: break it, let the gradient doctor diagnose it, fix it",
        "pt": "Laboratório de falhas: quebre, deixe o médico do gradiente diagnosticar, conserte",
    },
    claim={
        "en": "Each classic failure leaves a measurable trace in the gradients: vanishing in a "
        "deep sigmoid net, an exploding gradient and NaN after too large a step, dead ReLU "
        "units, an exploding gradient and saturated units with an unscaled target, saturated "
        "units at XOR's local minimum; the lecture's remedy turns the broken run into a working "
        "one.",
        "pt": "Cada falha clássica deixa um rastro mensurável nos gradientes: desaparecimento numa "
        "rede sigmoide profunda, explosão do gradiente e NaN após um passo grande demais, "
        "unidades ReLU mortas, explosão do gradiente e unidades saturadas com um alvo sem escala, "
        "unidades saturadas no mínimo local do XOR; o remédio da aula transforma a execução "
        "quebrada numa que funciona.",
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
    samples: int | None = None,
    epochs: int | None = None,
    restarts: int = 10,
) -> dict[str, Any]:
    """Run every preset of :data:`PRESETS`: broken, diagnosed, fixed; write
    ``failure_lab.txt`` (the doctor's reports) and ``failure_lab.png``.

    Metrics per preset: ``broken``/``fixed`` (training accuracy, or R² on the
    original scale; None when the network's outputs are not finite),
    ``doctor_broken``/``doctor_fixed`` (the kinds of the doctor's findings),
    ``remedy`` (what was applied), ``remedy_named_by_doctor`` (whether the doctor's
    report names it), ``alternative`` and ``alternative_metric`` (a second remedy,
    measured too, whether or not it works)."""
    t = T(lang)
    result = compute(seed=seed, quick=quick, samples=samples, epochs=epochs, restarts=restarts)
    draw(result, t, out_dir)
    return result.metrics
