"""Gradient-flow diagnostics: see the gradient vanish, explode, saturate and die.

The lecture's argument, made measurable: the gradient reaching layer l is a
product of the activation derivatives f'(z) (and weights) of every layer above
it. mlplab owns its backward pass, so every layer's gradient, its activations
and its derivatives are there to read after each backward pass.

* :func:`layer_stats` — one snapshot of every layer (after a forward/backward).
* :class:`GradientFlow` — a training callback recording those per epoch (and,
  optionally, per step). Recording off costs nothing: it is a callback.
* :func:`diagnose` — the gradient doctor: a plain-language report per layer
  with the lecture's remedy for each finding.
* :class:`GradientWarnings` — the doctor's findings as warnings during
  training, once each (``fit(..., diagnostics=False)`` turns them off).

Thresholds (``THRESHOLDS``) are heuristics, documented as such: a layer is
"vanishing" when the RMS of its weight gradient is below 1e-3 × the largest
layer's (three orders of magnitude: the first layers learn a thousand times
slower), "exploding" when the global gradient norm exceeds 1e3 or a layer's RMS
gradient exceeds 1e3 × the smallest's, "saturated" when more than half of a
logistic/tanh layer's outputs sit within 1 % of an asymptote, "dead" when more
than half of a ReLU layer's units output 0 for every sample.

Recurrent layers (lecture §6) are judged through time: the doctor reads
||dJ/dh_t|| per step (``layer.hidden_grad_norms``) and reports "vanishing" when
the first step's is below 1e-3 × the largest step's (the start of the sequence
no longer teaches the network), "exploding" when it is above 1e3 × the last step's.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .activations import ELU, GELU, Identity, LeakyReLU, Logistic, PReLU, ReLU, SiLU, Softplus, Tanh
from .callbacks import Callback
from .clipping import global_norm
from .layers import ActivationLayer, Dense
from .network import Sequential

__all__ = [
    "THRESHOLDS",
    "Diagnosis",
    "Finding",
    "GradientFlow",
    "GradientWarning",
    "GradientWarnings",
    "diagnose",
    "layer_stats",
]

#: Heuristic thresholds of the doctor (see the module docstring).
THRESHOLDS = {
    "vanishing_ratio": 1e-3,
    "exploding_ratio": 1e3,
    "exploding_norm": 1e3,
    "saturated_fraction": 0.5,
    "dead_fraction": 0.5,
}

_SATURATING = (Logistic, Tanh)
_RELU_LIKE = (ReLU,)  # units that can die: exactly 0 output and 0 derivative for z < 0
_ALIVE = (LeakyReLU, PReLU, ELU, GELU, SiLU, Softplus)


class GradientWarning(UserWarning):
    """A training-time finding of the gradient doctor."""


def _sqnorm(a: np.ndarray) -> float:
    a = a.reshape(-1)
    return float(np.dot(a, a))


def _units(net: Sequential) -> list[tuple[int, Any, Any]]:
    """(index, layer with weights, layer whose output is the activation) per weight layer."""
    out = []
    layers = net.layers
    for i, layer in enumerate(layers):
        if not isinstance(layer, Dense):
            continue
        act_layer = layer
        # Dense(identity) -> [BatchNorm] -> ActivationLayer(f): the activation is further on
        j = i + 1
        if isinstance(layer.activation, Identity):
            while j < len(layers) and not isinstance(layers[j], Dense):
                if isinstance(layers[j], ActivationLayer):
                    act_layer = layers[j]
                    break
                j += 1
        out.append((i, layer, act_layer))
    return out


def layer_stats(net: Sequential) -> list[dict[str, Any]]:
    """Statistics of every weight layer from the last forward/backward pass.

    Per layer: ``grad_norm_W``, ``grad_norm_b`` (L2 norms of dL/dW and dL/db,
    as in ``net.named_gradients()``), ``grad_rms_W``, ``weight_norm``,
    ``act_mean``, ``act_std`` (of the layer's activation output), ``mean_abs_fprime``
    (mean |f'(z)|: the factor this layer contributes to the chain rule),
    ``saturation`` (logistic/tanh: fraction of outputs within 1 % of an
    asymptote), ``dead_fraction`` (ReLU: fraction of units that output 0 for
    every sample of the batch), ``nonfinite`` (any NaN/inf in outputs or gradients).
    """
    with np.errstate(all="ignore"):  # a diverged network must not warn: its stats say so
        return [_one_layer(i, dense, act_layer) for i, dense, act_layer in _units(net)]


def _fprime(f: Any, z: np.ndarray, a: np.ndarray, layer: Any) -> np.ndarray:
    """f'(z), with a PReLU's trained slopes (not the activation's initial alpha)."""
    if f.learnable and "alpha" in getattr(layer, "params", {}):
        return np.where(z > 0, 1.0, layer.params["alpha"])
    return f.derivative(z, a)


def _one_layer(i: int, dense: Dense, act_layer: Any) -> dict[str, Any]:
    gW, gb = dense.dW, dense.db
    sqW, sqb = _sqnorm(gW), _sqnorm(gb)
    rec: dict[str, Any] = {
        "layer": i,
        "name": f"{i}:{type(dense).__name__}({act_layer.activation.name})",
        "activation": act_layer.activation.name,
        "units": dense.units,
        "grad_norm_W": math.sqrt(sqW),
        "grad_norm_b": math.sqrt(sqb),
        "grad_rms_W": math.sqrt(sqW / gW.size),
        "weight_norm": math.sqrt(_sqnorm(dense.W)),
    }
    # a sum of squares is finite iff every entry is (barring overflow past 1e154,
    # which the exact check below then settles)
    grad_bad = not (math.isfinite(sqW) and math.isfinite(sqb)) and not (
        np.isfinite(gW).all() and np.isfinite(gb).all()
    )
    a, z = act_layer.a, act_layer.z
    f = act_layer.activation
    if a is z and not isinstance(f, Identity) and isinstance(z, np.ndarray):
        a = f.forward(z)  # a fused output layer keeps only z during training
    if not (isinstance(a, np.ndarray) and isinstance(z, np.ndarray) and a.shape == z.shape):
        rec.update(
            act_mean=math.nan,
            act_std=math.nan,
            mean_abs_fprime=math.nan,
            saturation=0.0,
            dead_fraction=0.0,
            nonfinite_act=False,
            nonfinite=grad_bad,
        )
        return rec
    n = a.size
    flat = a.reshape(-1)
    s1, s2 = float(flat.sum()), float(np.dot(flat, flat))  # mean and variance from two sums
    act_bad = not math.isfinite(s1 + s2) and not np.isfinite(a).all()
    mean = s1 / n
    rec["act_mean"] = mean
    rec["act_std"] = math.sqrt(max(s2 / n - mean * mean, 0.0))
    # mean |f'(z)|: free from the sums for tanh (1 - a^2) and logistic (a - a^2)
    if isinstance(f, Identity):
        rec["mean_abs_fprime"] = 1.0
    elif isinstance(f, Tanh):
        rec["mean_abs_fprime"] = 1.0 - s2 / n
    elif isinstance(f, Logistic):
        rec["mean_abs_fprime"] = (s1 - s2) / n
    elif isinstance(f, ReLU):
        rec["mean_abs_fprime"] = np.count_nonzero(z > 0) / n
    elif f.elementwise:
        rec["mean_abs_fprime"] = float(np.abs(_fprime(f, z, a, act_layer)).mean())
    else:
        rec["mean_abs_fprime"] = math.nan  # softmax: not elementwise
    if isinstance(f, Logistic):
        rec["saturation"] = float(np.count_nonzero((a < 0.01) | (a > 0.99))) / n
    elif isinstance(f, Tanh):
        rec["saturation"] = float(np.count_nonzero(np.abs(a) > 0.99)) / n
    else:
        rec["saturation"] = 0.0
    if isinstance(f, _RELU_LIKE):
        rec["dead_fraction"] = float(np.mean(~(a > 0).any(axis=0)))
    else:
        rec["dead_fraction"] = 0.0
    rec["nonfinite_act"] = bool(act_bad)
    rec["nonfinite"] = bool(act_bad or grad_bad)
    return rec


#: The per-layer quantities GradientFlow records (each an (epochs, layers) array).
RECORDED = (
    "grad_norm_W",
    "grad_norm_b",
    "grad_rms_W",
    "weight_norm",
    "update_ratio",
    "act_mean",
    "act_std",
    "mean_abs_fprime",
    "saturation",
    "dead_fraction",
)


class GradientFlow(Callback):
    """Record, per weight layer and epoch, what the gradient does.

    Every step (cheap: one pass over the flat gradient): the norms of dL/dW and
    dL/db of each layer and the pre-clip global norm; the epoch's value is their
    mean over its batches. Once per epoch, from the epoch's last batch: the
    activations' mean and standard deviation, mean |f'(z)|, saturation and dead
    units (``layer_stats``), and the update ratio ||W_end - W_start|| / ||W_start||
    over the epoch. ``every_step=True`` also keeps the full ``layer_stats`` of every
    step in ``flow.steps`` (costly: for looking closely, not for long runs).

    After training: ``flow.history["grad_norm_W"]`` is an array (epochs, layers);
    ``flow.global_norm`` (epochs,); ``flow.layer_names``; ``flow.to_dict()`` gives
    plain lists (JSON, the playground's stream). Recording off costs nothing:
    without the callback nothing runs.
    """

    def __init__(self, every_step: bool = False) -> None:
        self.every_step = bool(every_step)

    def on_train_begin(self, state, net):
        self._units = _units(net)
        self.layer_names = [s["name"] for s in layer_stats(net)]
        offsets, start = {}, 0
        for name, view in net.named_parameters():
            offsets[name] = (start, start + view.size)
            start += view.size
        bounds = []
        for i, _, _ in self._units:
            bounds += [offsets[f"{i}.W"], offsets[f"{i}.b"]]
        self._theta_slices = [(offsets[f"{i}.W"]) for i, _, _ in self._units]
        self._grad_blocks = [net.grad[lo:hi] for lo, hi in bounds]  # W0, b0, W1, b1, ...
        self._sum = np.zeros(len(bounds) + len(self._units))
        self._norm_sum = 0.0
        self._n = 0
        self._last_stats: list[dict[str, Any]] | None = None
        self._start_W = [net.theta[lo:hi].copy() for lo, hi in self._theta_slices]
        self.history = {k: np.zeros((0, len(self._units))) for k in RECORDED}
        self.global_norm = np.zeros(0)
        self.steps: list[dict[str, Any]] = []
        self.epochs = 0

    def _block_norms(self, grad: np.ndarray) -> np.ndarray:
        """[||dW0||, ||db0||, ..., RMS(dW0), RMS(dW1), ...] of the current gradient.

        sqrt(dot(g, g)) per block: the same formula (and bits) as layer_stats and as
        np.linalg.norm of the net.named_gradients() views."""
        sq = [float(np.dot(g, g)) for g in self._grad_blocks]
        norms = [math.sqrt(v) for v in sq]
        w_blocks = self._grad_blocks[0::2]
        rms = [math.sqrt(v / g.size) for v, g in zip(sq[0::2], w_blocks, strict=True)]
        return np.array(norms + rms)

    def on_gradients(self, state, net):
        norms = self._block_norms(net.grad)
        self._sum += norms
        self._norm_sum += state.grad_norm
        self._n += 1
        last = state.batch == state.n_batches - 1
        if self.every_step or last:
            stats = layer_stats(net)  # before the update, like the gradient it describes
            self._last_stats = stats
        if self.every_step:
            self.steps.append(
                {
                    "epoch": state.epoch,
                    "batch": state.batch,
                    "global_norm": state.grad_norm,
                    **{k: [s[k] for s in stats] for k in RECORDED if k != "update_ratio"},
                }
            )

    def on_epoch_end(self, state, net):
        n = max(self._n, 1)
        norms = self._sum / n
        stats = self._last_stats or layer_stats(net)  # the epoch's last batch
        self._last_stats = None
        row = {k: [s[k] for s in stats] for k in RECORDED if k != "update_ratio"}
        n_blocks = 2 * len(self._units)
        row["grad_norm_W"] = list(norms[0:n_blocks:2])
        row["grad_norm_b"] = list(norms[1:n_blocks:2])
        row["grad_rms_W"] = list(norms[n_blocks:])
        ratios = []
        for k, (lo, hi) in enumerate(self._theta_slices):
            before, now = self._start_W[k], net.theta[lo:hi]
            d = now - before
            denom = math.sqrt(float(np.dot(before, before)))
            ratios.append(math.sqrt(float(np.dot(d, d))) / denom if denom else math.inf)
            self._start_W[k] = now.copy()
        row["update_ratio"] = ratios
        for k in RECORDED:
            self.history[k] = np.vstack([self.history[k], np.asarray(row[k], float)[None, :]])
        self.global_norm = np.append(self.global_norm, self._norm_sum / n if self._n else np.nan)
        self._sum[:] = 0.0
        self._norm_sum, self._n = 0.0, 0
        self.epochs += 1

    def to_dict(self) -> dict[str, Any]:
        """Plain lists: {"layers": [...], "global_norm": [...], metric: [[per layer] per epoch]}."""
        return {
            "layers": list(self.layer_names),
            "global_norm": self.global_norm.tolist(),
            **{k: v.tolist() for k, v in self.history.items()},
        }


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

_KIND_PT = {
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
            kind = _KIND_PT.get(f.kind, f.kind) if pt else f.kind
            where = f.name if f.layer is not None else ("rede" if pt else "network")
            lines.append(f"- {where}: {kind.upper()} — {f.detail}")
            if f.remedy:
                remedies.setdefault(kind, f.remedy)
        for kind, text in remedies.items():  # the lecture's remedy, once per kind of finding
            lines.append(f"{'Remédio' if pt else 'Remedy'} ({kind}): {text}")
        lines += [f"  ({n})" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "loss": self.loss,
            "global_norm": self.global_norm,
            "findings": [f.to_dict() for f in self.findings],
            "stats": self.stats,
        }


def _findings(
    stats: list[dict[str, Any]],
    global_norm: float,
    lang: str,
    thresholds: dict[str, float],
    loss: float = 0.0,
) -> list[Finding]:
    pt = lang == "pt"

    def remedy(kind: str) -> str:
        return REMEDIES[kind][1 if pt else 0]

    found: list[Finding] = []
    if not (math.isfinite(global_norm) and math.isfinite(loss)) or any(
        s["nonfinite"] for s in stats
    ):
        first = next((s for s in stats if s.get("nonfinite_act")), None) or next(
            (s for s in stats if s["nonfinite"]), None
        )
        found.append(
            Finding(
                "nonfinite",
                None if first is None else first["layer"],
                "" if first is None else first["name"],
                global_norm,
                (
                    "gradiente ou ativações não finitos"
                    if pt
                    else "non-finite gradient or activations"
                )
                + (
                    ""
                    if first is None
                    else (f" a partir de {first['name']}" if pt else f" from {first['name']} on")
                ),
                remedy("nonfinite"),
            )
        )
        return found
    rms = np.array([s["grad_rms_W"] for s in stats])
    top = float(rms.max()) if rms.size else 0.0
    low = float(rms.min()) if rms.size else 0.0
    if global_norm > thresholds["exploding_norm"] or (
        low > 0 and top / low > thresholds["exploding_ratio"] and top > 1.0
    ):
        biggest = stats[int(rms.argmax())]
        found.append(
            Finding(
                "exploding",
                biggest["layer"],
                biggest["name"],
                global_norm,
                (
                    f"norma global do gradiente {global_norm:.3g}; RMS de dL/dW até {top:.3g}"
                    if pt
                    else f"global gradient norm {global_norm:.3g}; RMS of dL/dW up to {top:.3g}"
                ),
                remedy("exploding"),
            )
        )
    elif top > 0:
        for s, r in zip(stats[:-1], rms[:-1], strict=False):
            if r < thresholds["vanishing_ratio"] * top:
                found.append(
                    Finding(
                        "vanishing",
                        s["layer"],
                        s["name"],
                        float(r / top),
                        _vanishing_text(r, top, pt),
                        remedy("vanishing"),
                    )
                )
    for s in stats[:-1]:  # hidden layers
        if s["saturation"] > thresholds["saturated_fraction"]:
            found.append(
                Finding(
                    "saturated",
                    s["layer"],
                    s["name"],
                    s["saturation"],
                    (
                        f"{s['saturation']:.0%} das saídas perto de uma assíntota; mean|f'| = "
                        f"{s['mean_abs_fprime']:.3g}"
                        if pt
                        else f"{s['saturation']:.0%} of outputs near an asymptote; mean|f'| = "
                        f"{s['mean_abs_fprime']:.3g}"
                    ),
                    remedy("saturated"),
                )
            )
        if s["dead_fraction"] > thresholds["dead_fraction"]:
            found.append(
                Finding(
                    "dead",
                    s["layer"],
                    s["name"],
                    s["dead_fraction"],
                    (
                        f"{s['dead_fraction']:.0%} das unidades ReLU dão 0 para todas as amostras"
                        if pt
                        else f"{s['dead_fraction']:.0%} of the ReLU units output 0 for every sample"
                    ),
                    remedy("dead"),
                )
            )
    if not found:
        found.append(
            Finding(
                "healthy",
                None,
                "",
                global_norm,
                "nada a relatar" if pt else "nothing to report",
                "",
            )
        )
    return found


def _vanishing_text(r: float, top: float, pt: bool) -> str:
    times = top / max(r, 1e-300)
    if pt:
        return f"RMS de dL/dW = {r:.3g}, {times:.3g}× menor que a maior camada"
    return f"RMS of dL/dW = {r:.3g}, {times:.3g}× smaller than the largest layer's"


def _resolve(model: Any, X: Any, y: Any, loss: Any):
    """(net, X, Y, loss object, fused) for a Sequential or a fitted mlplab estimator."""
    from .losses import get_loss

    if isinstance(model, Sequential):
        net, loss_obj = model, get_loss(loss if loss is not None else "mse")
        Xc, Y, loss_obj, _ = net._prepare(X, y, loss_obj, None)
        return net, Xc, Y, loss_obj
    net = getattr(model, "net_", None)
    if not isinstance(net, Sequential):
        raise TypeError(
            "diagnose() takes an mlplab.Sequential or a fitted mlplab MLPClassifier/"
            f"MLPRegressor. Received: {type(model).__name__}."
        )
    from sklearn.utils.validation import validate_data

    Xc = validate_data(model, X, reset=False)
    Xc = np.ascontiguousarray(Xc, dtype=net.dtype)
    Y = model._targets(model._encode(y), net.dtype)
    return net, Xc, Y, model._loss


def diagnose(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: Any = None,
    lang: str = "en",
    thresholds: dict[str, float] | None = None,
) -> Diagnosis:
    """Examine one backward pass of ``model`` on (X, y) and report per layer.

    ``model`` is an ``mlplab.Sequential`` (``loss`` names its loss, default "mse")
    or a fitted ``mlplab.MLPClassifier``/``MLPRegressor``. Nothing is updated
    (the gradient is computed; batch-norm running statistics move as in one
    training step). Returns a :class:`Diagnosis`; ``print(diagnosis)`` reads it.
    """
    th = {**THRESHOLDS, **(thresholds or {})}
    net, Xc, Y, loss_obj = _resolve(model, X, y, loss)
    buffers = net.state_dict()
    with np.errstate(all="ignore"):
        if isinstance(model, Sequential):
            value = net._loss_and_grad(Xc, Y, loss_obj, None, 0.0)
        else:
            value = model._loss_grad(Xc, Y, None)
    net.load_state_dict(buffers)  # a diagnosis leaves the network as it was
    stats = layer_stats(net)
    gnorm = global_norm(net.grad)  # rescales instead of overflowing
    findings = _findings(stats, gnorm, lang, th, float(value))
    time_findings = _time_findings(net, lang, th)
    if time_findings:
        findings = [f for f in findings if f.kind != "healthy"] + time_findings
    return Diagnosis(findings, stats, gnorm, float(value), lang)


def _time_findings(net: Sequential, lang: str, th: dict[str, float]) -> list[Finding]:
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
        out.append(Finding(kind, i, name + (" (no tempo)" if pt else " (through time)"), ratio,
                           detail, remedy))
    return out


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside mlplab (net.fit or mlplab.fit alike)."""
    import os
    import sys

    pkg = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(pkg):
        frame, level = frame.f_back, level + 1
    return level


class GradientWarnings(Callback):
    """Warn (GradientWarning) when the doctor would flag the training, once per
    finding and layer: vanishing, exploding and dead units (saturation is normal in
    a converged logistic net, so only the doctor's report shows it). Checked on the
    last batch of epochs 1, 2, 4 and 8, when these problems show, so the cost does
    not grow with the epochs."""

    def __init__(self, thresholds: dict[str, float] | None = None) -> None:
        self.thresholds = {**THRESHOLDS, **(thresholds or {})}

    def on_train_begin(self, state, net):
        self._seen: set[tuple[str, int | None]] = set()
        self._next = 1
        self._net = net

    def on_gradients(self, state, net):
        # the epoch's first batch: full-sized (the last one may be a small remainder)
        if state.epoch + 1 == self._next and state.batch == 0:
            self._next *= 2
            if self._next <= 16:
                self._check(state, net)

    def _check(self, state, net):
        stats = layer_stats(net)
        first = next((layer for layer in net.layers if isinstance(layer, Dense)), None)
        n_rows = first.x.shape[0] if first is not None and first.x is not None else 0
        kinds = ("vanishing", "exploding", "dead") if n_rows >= 16 else ("vanishing", "exploding")
        for f in _findings(stats, state.grad_norm, "en", self.thresholds):
            key = (f.kind, f.layer)
            if f.kind not in kinds or key in self._seen:
                continue
            self._seen.add(key)
            where = f.name or "network"
            warnings.warn(
                f"epoch {state.epoch + 1}: {where}: {f.kind} gradient flow — {f.detail}. "
                f"Remedy: {f.remedy}. (Off: fit(..., diagnostics=False).)",
                GradientWarning,
                stacklevel=_user_stacklevel(),
            )
