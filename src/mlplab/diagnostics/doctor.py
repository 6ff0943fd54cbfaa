"""The gradient doctor: a plain-language report per layer with the lecture's remedy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.clipping import global_norm
from mlplab.diagnostics.statistics import THRESHOLDS, layer_stats
from mlplab.display import diagnosis_html
from mlplab.i18n import localise, resolve
from mlplab.losses import get_loss

# ------------------------------------------------------------------ doctor

REMEDIES = {
    "vanishing": (
        "use ReLU-family activations (relu, leaky_relu, elu, gelu) in the hidden layers, "
        "Glorot/He initialisation, batch normalisation, or fewer layers",
        "use ativações da família ReLU (relu, leaky_relu, elu, gelu) nas camadas ocultas, "
        "inicialização de Glorot/He, normalização em lote, ou menos camadas",
    ),
    "exploding": (
        "lower the learning rate, clip the gradient (clip_norm / clip_value), use a smaller "
        "initialisation (Glorot/He instead of large constants), batch normalisation, or scale "
        "the inputs and a large regression target",
        "reduza a taxa de aprendizado, limite o gradiente (clip_norm / clip_value), use uma "
        "inicialização menor (Glorot/He em vez de constantes grandes), normalização em lote, "
        "ou escale as entradas e um alvo de regressão grande",
    ),
    "saturated": (
        "scale the inputs (standardise X), use Glorot initialisation, or ReLU-family activations",
        "escale as entradas (padronize X), use inicialização de Glorot, ou ativações da "
        "família ReLU",
    ),
    "dead": (
        "lower the learning rate, use He initialisation with zero biases, or a ReLU variant that "
        "keeps a gradient for z < 0 (leaky_relu, prelu, elu, gelu)",
        "reduza a taxa de aprendizado, use inicialização de He com vieses nulos, ou uma variante "
        "da ReLU com gradiente para z < 0 (leaky_relu, prelu, elu, gelu)",
    ),
    "vanishing_time": (
        "gating fixes the vanishing gradient through time: use LSTM or GRU instead of "
        "SimpleRNN; also an orthogonal recurrent initialisation, shorter sequences",
        "os portões resolvem o gradiente que desaparece no tempo: use LSTM ou GRU em vez de "
        "SimpleRNN; também inicialização recorrente ortogonal, sequências mais curtas",
    ),
    "vanishing_time_gated": (
        "a gated layer learns to keep its memory (forget gate f -> 1, GRU update gate u -> 1) "
        "only if training asks for it: train longer on the task, raise the forget-gate bias, "
        "or use shorter sequences",
        "uma camada com portões só aprende a guardar a memória (portão de esquecimento f -> 1, "
        "portão de atualização u -> 1) se o treino pedir: treine mais na tarefa, aumente o viés "
        "do portão de esquecimento, ou use sequências mais curtas",
    ),
    "exploding_time": (
        "clip the gradient (clip_norm), truncate backpropagation through time (truncate=k), "
        "or shrink the recurrent weights (spectral radius of W_h below 1)",
        "limite o gradiente (clip_norm), trunque a retropropagação no tempo (truncate=k) "
        "ou reduza os pesos recorrentes (raio espectral de W_h abaixo de 1)",
    ),
    "nonfinite": (
        "training diverged: lower the learning rate, clip the gradient, scale the inputs and "
        "targets",
        "o treino divergiu: reduza a taxa de aprendizado, limite o gradiente, escale entradas "
        "e alvos",
    ),
}

#: The finding kinds in Portuguese (the report's words; English is the kind itself).
KIND_PT = {
    "healthy": "saudável",
    "vanishing": "gradiente desaparecendo",
    "exploding": "gradiente explodindo",
    "saturated": "saturada",
    "dead": "unidades mortas",
    "nonfinite": "NaN/inf",
}


@dataclass
class Finding:
    """One finding of the doctor: ``kind`` in healthy / vanishing / exploding /
    saturated / dead / nonfinite, for ``layer`` (None: the whole network)."""

    kind: str
    layer: int | None
    name: str
    value: float
    detail: str
    remedy: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Diagnosis:
    """The doctor's report: ``findings`` and the per-layer ``stats`` it read."""

    findings: list[Finding]
    stats: list[dict[str, Any]]
    global_norm: float
    loss: float
    lang: str = "en"
    notes: list[str] = field(default_factory=list)
    #: training has solved the task (see :func:`converged`): no remedy is given for
    #: saturated, dead or vanishing units
    converged: bool = False

    @property
    def healthy(self) -> bool:
        return all(f.kind == "healthy" for f in self.findings)

    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}

    def __str__(self) -> str:
        pt = self.lang == "pt"
        lines = [
            ("Diagnóstico do gradiente" if pt else "Gradient doctor")
            + f" ({'perda' if pt else 'loss'} {self.loss:.4g}, ‖∇‖ {self.global_norm:.3g})"
        ]
        for s in self.stats:
            lines.append(
                f"  {s['name']:<28} ‖dW‖={s['grad_norm_W']:.3g}"
                f"  {'média' if pt else 'mean'}|f'|={s['mean_abs_fprime']:.3g}"
                f"  {'sat' if pt else 'sat'}={s['saturation']:.0%}"
                f"  {'mortas' if pt else 'dead'}={s['dead_fraction']:.0%}"
            )
        remedies: dict[str, str] = {}
        for f in self.findings:
            kind = KIND_PT.get(f.kind, f.kind) if pt else f.kind
            where = f.name if f.layer is not None else ("rede" if pt else "network")
            lines.append(f"- {where}: {kind.upper()} — {f.detail}")
            if f.remedy:
                remedies.setdefault(kind, f.remedy)
        for kind, text in remedies.items():  # the lecture's remedy, once per kind of finding
            lines.append(f"{'Remédio' if pt else 'Remedy'} ({kind}): {text}")
        lines += [f"  ({n})" for n in self.notes]
        return localise("\n".join(lines), self.lang)  # Portuguese: decimal commas

    def _repr_html_(self) -> str:
        """Jupyter's view: the findings with their severity, the remedies, the statistics."""
        return diagnosis_html(self, KIND_PT)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "converged": self.converged,
            "loss": self.loss,
            "global_norm": self.global_norm,
            "findings": [f.to_dict() for f in self.findings],
            "stats": self.stats,
        }


def find_problems(
    stats: list[dict[str, Any]],
    global_norm: float,
    lang: str,
    thresholds: dict[str, float],
    loss: float = 0.0,
) -> list[Finding]:
    """The doctor's findings for one backward pass, from the per-layer ``stats``.

    A non-finite gradient, activation or loss is the only finding when present;
    otherwise the gradient's scale (exploding, else vanishing layers), then each
    hidden layer's saturation and dead units; "healthy" when nothing is found.
    """
    pt = lang == "pt"
    if not (math.isfinite(global_norm) and math.isfinite(loss)) or any(
        s["nonfinite"] for s in stats
    ):
        return [_nonfinite_finding(stats, global_norm, pt)]
    found = _gradient_scale_findings(stats, global_norm, pt, thresholds)
    for s in stats[:-1]:  # hidden layers
        found += _hidden_layer_findings(s, pt, thresholds)
    if not found:
        detail = "nada a relatar" if pt else "nothing to report"
        found.append(Finding("healthy", None, "", global_norm, detail, ""))
    return _localised(found, lang)


def _localised(findings: list[Finding], lang: str) -> list[Finding]:
    """The findings' details with ``lang``'s decimal separator (Portuguese: 9,37e-06)."""
    for f in findings:
        f.detail = localise(f.detail, lang)
    return findings


def _remedy(kind: str, pt: bool) -> str:
    return REMEDIES[kind][1 if pt else 0]


def _nonfinite_finding(stats: list[dict[str, Any]], global_norm: float, pt: bool) -> Finding:
    """Where the gradient or the activations first stopped being finite."""
    first = next((s for s in stats if s.get("nonfinite_act")), None) or next(
        (s for s in stats if s["nonfinite"]), None
    )
    detail = "gradiente ou ativações não finitos" if pt else "non-finite gradient or activations"
    if first is not None:
        detail += f" a partir de {first['name']}" if pt else f" from {first['name']} on"
    return Finding(
        "nonfinite",
        None if first is None else first["layer"],
        "" if first is None else first["name"],
        global_norm,
        detail,
        _remedy("nonfinite", pt),
    )


def _gradient_scale_findings(
    stats: list[dict[str, Any]], global_norm: float, pt: bool, thresholds: dict[str, float]
) -> list[Finding]:
    """An exploding gradient (large norm, or a large spread of the layers' RMS of
    dL/dW with the largest above 1), else each hidden layer whose RMS is a small
    fraction of the largest layer's (vanishing)."""
    rms = np.array([s["grad_rms_W"] for s in stats])
    top = float(rms.max()) if rms.size else 0.0
    low = float(rms.min()) if rms.size else 0.0
    if global_norm > thresholds["exploding_norm"] or (
        low > 0 and top / low > thresholds["exploding_ratio"] and top > 1.0
    ):
        biggest = stats[int(rms.argmax())]
        detail = (
            f"norma global do gradiente {global_norm:.3g}; RMS de dL/dW até {top:.3g}"
            if pt
            else f"global gradient norm {global_norm:.3g}; RMS of dL/dW up to {top:.3g}"
        )
        return [
            Finding(
                "exploding",
                biggest["layer"],
                biggest["name"],
                global_norm,
                detail,
                _remedy("exploding", pt),
            )
        ]
    if top <= 0:
        return []
    return [
        Finding(
            "vanishing",
            s["layer"],
            s["name"],
            float(r / top),
            _vanishing_text(r, top, pt),
            _remedy("vanishing", pt),
        )
        for s, r in zip(stats[:-1], rms[:-1], strict=False)
        if r < thresholds["vanishing_ratio"] * top
    ]


def _hidden_layer_findings(
    s: dict[str, Any], pt: bool, thresholds: dict[str, float]
) -> list[Finding]:
    """A hidden layer's saturated outputs and dead ReLU units, when above the thresholds."""
    found = []
    if s["saturation"] > thresholds["saturated_fraction"]:
        detail = (
            f"{s['saturation']:.0%} das saídas perto de uma assíntota; mean|f'| = "
            f"{s['mean_abs_fprime']:.3g}"
            if pt
            else f"{s['saturation']:.0%} of outputs near an asymptote; mean|f'| = "
            f"{s['mean_abs_fprime']:.3g}"
        )
        found.append(
            Finding(
                "saturated",
                s["layer"],
                s["name"],
                s["saturation"],
                detail,
                _remedy("saturated", pt),
            )
        )
    if s["dead_fraction"] > thresholds["dead_fraction"]:
        detail = (
            f"{s['dead_fraction']:.0%} das unidades ReLU dão 0 para todas as amostras"
            if pt
            else f"{s['dead_fraction']:.0%} of the ReLU units output 0 for every sample"
        )
        found.append(
            Finding("dead", s["layer"], s["name"], s["dead_fraction"], detail, _remedy("dead", pt))
        )
    return found


def _vanishing_text(r: float, top: float, pt: bool) -> str:
    times = top / max(r, 1e-300)
    if pt:
        return f"RMS de dL/dW = {r:.3g}, {times:.3g}× menor que a maior camada"
    return f"RMS of dL/dW = {r:.3g}, {times:.3g}× smaller than the largest layer's"


def _network_of(model: Any) -> Any:
    """The network inside ``model``: a Sequential itself, or a fitted estimator's ``net_``."""
    net = getattr(model, "net_", model)
    if not (hasattr(net, "layers") and hasattr(net, "loss_and_grad") and hasattr(net, "theta")):
        raise TypeError(
            "diagnose() takes an mlplab.Sequential or a fitted mlplab MLPClassifier/"
            f"MLPRegressor. Received: {type(model).__name__}."
        )
    return net


def diagnose(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: Any = None,
    lang: str | None = None,
    thresholds: dict[str, float] | None = None,
) -> Diagnosis:
    """Examine one backward pass of ``model`` on (X, y) and report per layer.

    ``model`` is an ``mlplab.Sequential`` (``loss`` names its loss, default "mse")
    or a fitted ``mlplab.MLPClassifier``/``MLPRegressor``. Nothing is updated
    (the gradient is computed; batch-norm running statistics move as in one
    training step). Returns a :class:`Diagnosis`; ``print(diagnosis)`` reads it.
    """
    lang = resolve(lang)
    th = {**THRESHOLDS, **(thresholds or {})}
    net = _network_of(model)
    buffers = net.state_dict()
    with np.errstate(all="ignore"):
        if model is net:  # a Sequential: its loss, default "mse"
            value, _ = net.loss_and_grad(X, y, loss if loss is not None else "mse")
        else:  # an estimator: its own loss, L2 and scaling
            value, _ = model.loss_and_grad(X, y)
    net.load_state_dict(buffers)  # a diagnosis leaves the network as it was
    stats = layer_stats(net)
    gnorm = global_norm(net.grad)  # rescales instead of overflowing
    findings = find_problems(stats, gnorm, lang, th, float(value))
    time_findings = _time_findings(net, lang, th)
    if time_findings:
        findings = [f for f in findings if f.kind != "healthy"] + time_findings
    fraction, accuracy, chance = _training_state(model, net, X, y, loss, float(value))
    notes = []
    done = converged(fraction, accuracy, gnorm / chance if chance > 0 else math.inf, th)
    if done:
        findings = _no_action(findings, lang == "pt")
        notes.append(localise(_state_note(fraction, accuracy, lang == "pt"), lang))
    return Diagnosis(findings, stats, gnorm, float(value), lang, notes, done)


def converged(
    loss_fraction: float, accuracy: float | None, grad_fraction: float, thresholds: dict
) -> bool:
    """True when training has solved its task, so saturated, dead or vanishing units
    are no illness: a network that fits its data needs no remedy.

    ``loss_fraction`` is the loss over the loss at chance (the best constant
    prediction: the entropy of the class frequencies, the variance of a regression
    target; 1 - R² for an mlplab regressor), ``accuracy`` the training accuracy of a
    classification loss (None for regression), ``grad_fraction`` the global gradient
    norm over the loss at chance. Converged: the loss is below
    ``converged_loss_fraction`` (1 %) of chance — the loss is near its floor, and a
    saturated unit there is the sign of a confident fit (a logistic output reaches
    0 or 1 only through a large z) — or every training sample is classified right
    and the gradient is below ``converged_grad_fraction`` (1e-3) of chance: training
    sits at a minimum (e.g. an L2-regularised optimum) that solves the task. A
    saturated net that has not learned (a high loss, or a tiny gradient with wrong
    answers) is not converged and keeps its remedy.
    """
    if not (math.isfinite(loss_fraction) and math.isfinite(grad_fraction)):
        return False
    if loss_fraction <= thresholds["converged_loss_fraction"]:
        return True
    return accuracy == 1.0 and grad_fraction <= thresholds["converged_grad_fraction"]


def _training_state(
    model: Any, net: Any, X: Any, y: Any, loss: Any, value: float
) -> tuple[float, float | None, float]:
    """(loss / loss at chance, training accuracy or None, loss at chance), read after
    ``diagnose``'s backward pass (the output layer's z holds the logits)."""
    if model is not net:  # a fitted estimator: its own score
        score = float(model.score(X, y))
        if not hasattr(model, "classes_"):  # a regressor: R² = 1 - SSE / SST
            return 1.0 - score, None, 1.0
        chance = _entropy(np.asarray(y))
        return _ratio(value, chance), score, chance
    lossf = get_loss(loss if loss is not None else "mse")
    z = getattr(net.layers[-1], "z", None)
    if not isinstance(z, np.ndarray) or z.ndim != 2:
        return math.inf, None, 0.0
    Y = lossf.prepare_targets(y, z.shape[1], z.dtype).reshape(-1, z.shape[1])
    if Y.shape[0] != z.shape[0]:
        return math.inf, None, 0.0
    p = Y.mean(axis=0, keepdims=True)
    if lossf.name == "mse":  # the constant prediction: the mean target
        chance = lossf.value(np.broadcast_to(p, Y.shape), Y)
        return _ratio(value, chance), None, chance
    q = np.clip(p, 1e-12, 1 - 1e-12)
    if lossf.name == "cce":
        chance = lossf.value(np.broadcast_to(np.log(q), Y.shape), Y)
        accuracy = float(np.mean(z.argmax(axis=1) == Y.argmax(axis=1)))
    else:  # bce on logits: the constant logit log(p / (1 - p))
        chance = lossf.value(np.broadcast_to(np.log(q / (1 - q)), Y.shape), Y)
        accuracy = float(np.mean((z > 0) == (Y > 0.5)))
    return _ratio(value, chance), accuracy, chance


def _ratio(value: float, chance: float) -> float:
    """value / chance; inf when there is nothing to learn (a constant target)."""
    return value / chance if chance > 0 else math.inf


def _entropy(y: np.ndarray) -> float:
    """The log-loss of the class frequencies (summed over the columns of a label matrix)."""
    columns = [y] if y.ndim == 1 else list(y.T)
    total = 0.0
    for col in columns:
        _, counts = np.unique(col, return_counts=True)
        p = counts / counts.sum()
        total -= float(np.sum(p * np.log(p)))
    return total


def _no_action(findings: list[Finding], pt: bool) -> list[Finding]:
    """Saturated, dead and vanishing findings of a converged network, as healthy."""
    out = []
    for f in findings:
        if f.kind not in ("saturated", "dead", "vanishing"):
            out.append(f)
            continue
        kind = KIND_PT[f.kind] if pt else f.kind
        detail = (
            f"{kind}, mas convergiu: nenhuma ação necessária ({f.detail})"
            if pt
            else f"{kind}, but converged: no action needed ({f.detail})"
        )
        out.append(Finding("healthy", f.layer, f.name, f.value, detail, ""))
    return out


def _state_note(fraction: float, accuracy: float | None, pt: bool) -> str:
    acc = "" if accuracy is None else f", {'acurácia' if pt else 'accuracy'} {accuracy:.0%}"
    if pt:
        return f"convergiu: perda = {fraction:.2g} × a perda ao acaso{acc}"
    return f"converged: loss = {fraction:.2g} × the loss at chance{acc}"


def _time_findings(net: Any, lang: str, th: dict[str, float]) -> list[Finding]:
    """Vanishing/exploding gradient through time in each recurrent layer."""
    pt = lang == "pt"
    out = []
    for i, layer in enumerate(net.layers):
        norms = getattr(layer, "hidden_grad_norms", None)
        if norms is None or len(norms) < 2 or not np.isfinite(norms).all():
            continue
        name = f"{i}:{type(layer).__name__}"
        first, top, last = float(norms[0]), float(norms.max()), float(norms[-1])
        if top > 0 and first < th["vanishing_ratio"] * top:
            ratio = first / top
            detail = (
                f"||dJ/dh_1|| = {first:.3g}, {top / max(first, 1e-300):.3g}× menor que o maior "
                f"||dJ/dh_t|| em {len(norms)} passos"
                if pt
                else f"||dJ/dh_1|| = {first:.3g}, {top / max(first, 1e-300):.3g}× smaller than "
                f"the largest ||dJ/dh_t|| over {len(norms)} steps"
            )
            gated = type(layer).__name__ != "SimpleRNN"
            key = "vanishing_time_gated" if gated else "vanishing_time"
            kind, remedy = "vanishing", REMEDIES[key][1 if pt else 0]
        elif last > 0 and first > th["exploding_ratio"] * last:
            ratio = first / last
            detail = (
                f"||dJ/dh_1|| = {first:.3g}, {ratio:.3g}× o do último passo"
                if pt
                else f"||dJ/dh_1|| = {first:.3g}, {ratio:.3g}× the last step's"
            )
            kind, remedy = "exploding", REMEDIES["exploding_time"][1 if pt else 0]
        else:
            continue
        out.append(
            Finding(
                kind, i, name + (" (no tempo)" if pt else " (through time)"), ratio, detail, remedy
            )
        )
    return _localised(out, lang)
