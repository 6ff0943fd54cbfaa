"""What a network, a training run and the doctor look like in a notebook.

* :func:`network_svg` — the network as the lecture draws it: a column of nodes per layer
  (inputs, hidden, outputs), a bias input "+1" (x0 = 1) feeding every Dense layer, and each
  weight an edge coloured by its sign and as wide as its size — the playground's picture and
  colours (positive blue, negative orange; width 0.4 + 6 |w| / max(1, max |w|)). Large layers
  are summarised: at most ``max_nodes`` nodes a column (the first and the last, with "⋮"
  between) and at most ``max_edges`` edges (each layer an equal share, its largest |w|; at
  least one a layer), so the SVG stays small.
  Recurrent layers (SimpleRNN, LSTM, GRU) are a labelled box around their hidden units,
  with the loop h(t−1) → h(t). ``Sequential._repr_html_`` and the fitted estimators use it.
* :func:`diagnosis_html` — the gradient doctor's report as an HTML table.
* :func:`plot_history`, :func:`plot_gradient_flow` — matplotlib figures of a training run
  (``History.plot``, ``GradientFlow.plot``); matplotlib is imported only when one is drawn.
* :func:`progress_bar` — the one progress bar of every long loop (``fit``, the RNN
  estimators, ``mlplab tour``): tqdm.auto, a widget in Jupyter, text on a terminal, none
  when ``verbose`` is 0.

Every text that goes into the HTML or SVG is escaped (:func:`html.escape`).
"""

from __future__ import annotations

import math
import sys
from html import escape
from typing import Any

import numpy as np

from mlplab.i18n import T, localise, resolve
from mlplab.layers import Dense

__all__ = [
    "COLORS",
    "diagnosis_html",
    "in_notebook",
    "localise_ticks",
    "network_html",
    "network_svg",
    "plot_gradient_flow",
    "plot_history",
    "progress_bar",
]

#: The playground's colours (static/colors.js): a positive weight blue, a negative one orange.
COLORS = {"pos": "#2166ac", "neg": "#e08214", "none": "#999999"}

_R = 10  # node radius (px)
_PITCH = 28  # vertical distance between nodes
_COL = 140  # distance between columns
_TOP = 60  # room for the title and the column titles


# ------------------------------------------------------------------ network
class _Column:
    """One column of the picture: a layer's outputs (or the inputs)."""

    def __init__(self, title: str, units: int, kind: str, max_nodes: int) -> None:
        self.title, self.units, self.kind = title, units, kind
        self.notes: list[str] = []
        self.params = 0
        if units <= max_nodes:
            self.shown, self.gap = list(range(units)), None
        else:  # the first and the last units, "⋮" in the slot between them
            head = max_nodes // 2
            tail = max_nodes - 1 - head
            self.shown, self.gap = [*range(head), *range(units - tail, units)], head
        self.slots = len(self.shown) + (self.gap is not None)
        self.x = 0.0
        self.y: dict[int, float] = {}
        self.bias_y = 0.0


def _layer_params(layer: Any) -> int:
    return int(sum(np.asarray(v).size for v in getattr(layer, "params", {}).values()))


def _columns(net: Any, max_nodes: int, t: T) -> tuple[list[_Column], list[Any]]:
    """The columns (inputs, then one per Dense or recurrent layer) and, between each pair,
    the layer that links them; elementwise layers (BatchNorm, PReLU, an activation) are
    notes of the column they act on."""
    cols = [_Column(t("input", "entrada"), net.n_inputs, "input", max_nodes)]
    links: list[Any] = []
    for layer in net.layers:
        if isinstance(layer, Dense) or getattr(layer, "recurrent", False):
            recurrent = not isinstance(layer, Dense)
            col = _Column("", layer.units, "recurrent" if recurrent else "dense", max_nodes)
            act = layer.activation_fn if recurrent else layer.activation
            col.notes.append(f"{type(layer).__name__} · {act.name}" if recurrent else act.name)
            col.params = _layer_params(layer)
            cols.append(col)
            links.append(layer)
        else:
            name = getattr(getattr(layer, "activation", None), "name", None)
            n = _layer_params(layer)
            note = type(layer).__name__ if name is None else name
            cols[-1].notes.append(note + (f" ({n})" if n else ""))
            cols[-1].params += n
    hidden = len(cols) - 2
    for k, col in enumerate(cols[1:], start=1):
        if k == len(cols) - 1:
            col.title = t("output", "saída")
        else:
            col.title = t("hidden", "oculta") + (f" {k}" if hidden > 1 else "")
    return cols, links


def _edges(cols: list[_Column], links: list[Any], max_edges: int) -> list[tuple]:
    """(layer index, kind "w"/"b", i, j, value) of every edge drawn; when there are more
    than ``max_edges``, each layer keeps its share of the largest |value|."""
    per_layer = []
    for k, layer in enumerate(links):
        if not isinstance(layer, Dense):
            per_layer.append([])
            continue
        W, b = np.asarray(layer.params["W"]), np.asarray(layer.params["b"])
        src, dst = cols[k].shown, cols[k + 1].shown
        edges = [(k, "w", i, j, float(W[i, j])) for i in src for j in dst]
        edges += [(k, "b", -1, j, float(b[j])) for j in dst]
        per_layer.append(edges)
    total = sum(len(e) for e in per_layer)
    if total > max_edges:
        share = max(1, max_edges // max(1, sum(bool(e) for e in per_layer)))
        per_layer = [
            sorted(e, key=lambda x: -abs(x[4]) if math.isfinite(x[4]) else 0.0)[:share]
            for e in per_layer
        ]
    return [e for layer_edges in per_layer for e in layer_edges]


def _layout(cols: list[_Column], margins: tuple[float, float]) -> tuple[float, float, float]:
    """Place every node and each column's bias input (below its last node); the
    picture's (width, height, y where the notes start)."""
    slots = max(c.slots for c in cols)
    top = _TOP + (28 if any(c.kind == "recurrent" for c in cols) else 0)  # room for the loop
    left, right = margins
    bottom = 0.0
    for c, col in enumerate(cols):
        col.x = left + c * _COL
        y0 = top + (slots - col.slots) * _PITCH / 2 + _R
        slot = 0
        for n, unit in enumerate(col.shown):
            if col.gap is not None and n == col.gap:
                slot += 1
            col.y[unit] = y0 + slot * _PITCH
            slot += 1
        col.bias_y = y0 + slot * _PITCH + 8
        bottom = max(bottom, col.bias_y)
    notes = bottom + _R + 16
    height = notes + 13 * max(len(c.notes) + 1 for c in cols)
    width = left + (len(cols) - 1) * _COL + right
    return width, height, notes


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _edge_svg(edge: tuple, cols: list[_Column], scale: float) -> str:
    k, kind, i, j, w = edge
    a, b = cols[k], cols[k + 1]
    y1 = a.bias_y if kind == "b" else a.y[i]
    finite = math.isfinite(w)
    color = COLORS["none"] if not finite else COLORS["pos"] if w >= 0 else COLORS["neg"]
    width = 0.4 + 6 * abs(w) / scale if finite else 0.4
    name = (f"b{j + 1}" if kind == "b" else f"w{i + 1}→{j + 1}") + f" = {_fmt(w)}"
    return (
        f'<line class="{kind}" x1="{a.x + _R:.1f}" y1="{y1:.1f}" x2="{b.x - _R:.1f}" '
        f'y2="{b.y[j]:.1f}" stroke="{color}" stroke-width="{width:.2f}" stroke-opacity="0.75">'
        f"<title>{escape(name)}</title></line>"
    )


def _node_svg(x: float, y: float, cls: str, label: str = "", fill: str = "#fff") -> str:
    text = (
        f'<text x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle" font-size="9">'
        f"{escape(label)}</text>"
        if label
        else ""
    )
    return (
        f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="{_R}" fill="{fill}" '
        f'stroke="#555" stroke-width="1"/>{text}'
    )


_LABEL = 16  # longest node label (characters) before it is cut with "…"


def _short(text: str, n: int = _LABEL) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _margin(names: list[str]) -> float:
    """Room beside a column for its node labels (about 6.5 px a character at 11 px)."""
    return max(40.0, _R + 10 + 6.5 * max((len(_short(n)) for n in names), default=0))


def _column_svg(c: int, col: _Column, cols: list[_Column], names: dict, notes_y: float, t: T):
    """The nodes, titles and notes of one column."""
    out = [
        f'<text x="{col.x:.1f}" y="{_TOP - 12}" text-anchor="middle" font-weight="600">'
        f"{escape(col.title)} ({col.units})</text>"
    ]
    last = c == len(cols) - 1
    if col.kind == "recurrent":
        ys = list(col.y.values())
        top, bottom = min(ys) - _R - 6, max(ys) + _R + 6
        out.append(
            f'<rect class="recurrent" x="{col.x - _R - 8:.1f}" y="{top:.1f}" width="{2 * _R + 16}" '
            f'height="{bottom - top:.1f}" rx="8" fill="#f2eefa" stroke="#7b68b5"/>'
            f'<path d="M{col.x + 8:.1f},{top:.1f} C{col.x + 36:.1f},{top - 30:.1f} '
            f'{col.x - 36:.1f},{top - 30:.1f} {col.x - 8:.1f},{top - 1:.1f}" fill="none" '
            f'stroke="#7b68b5" stroke-width="1.5"><title>h(t−1) → h(t)</title></path>'
            f'<path d="M{col.x - 12:.1f},{top - 7:.1f} L{col.x - 8:.1f},{top:.1f} '
            f'L{col.x - 3:.1f},{top - 6:.1f}" fill="none" stroke="#7b68b5" stroke-width="1.5"/>'
            f'<text x="{col.x + 24:.1f}" y="{top - 12:.1f}" font-size="9" fill="#7b68b5">'
            "h(t−1)</text>"
        )
    for unit in col.shown:
        label = names["in"][unit] if c == 0 else ""
        out.append(_node_svg(col.x, col.y[unit], "node", "" if c == 0 else label))
        if c == 0 or last:
            text = names["in" if c == 0 else "out"][unit]
            anchor, dx = ("end", -_R - 4) if c == 0 else ("start", _R + 4)
            out.append(
                f'<text x="{col.x + dx:.1f}" y="{col.y[unit] + 4:.1f}" text-anchor="{anchor}">'
                f"{escape(_short(text))}<title>{escape(text)}</title></text>"
            )
    if col.gap is not None:
        y = (col.y[col.shown[col.gap - 1]] + col.y[col.shown[col.gap]]) / 2
        out.append(
            f'<text class="ellipsis" x="{col.x:.1f}" y="{y + 5:.1f}" text-anchor="middle" '
            f'font-size="16">⋮<title>{col.units - len(col.shown)} '
            f"{escape(t('more units', 'unidades a mais'))}</title></text>"
        )
    if c + 1 < len(cols) and cols[c + 1].kind == "dense":
        out.append(_node_svg(col.x, col.bias_y, "bias", "+1", "#f4f4f4"))
    lines = [*col.notes]
    if c > 0:
        lines.append(f"{col.params} {t('params', 'parâmetros')}")
    y = notes_y
    for line in lines:
        out.append(
            f'<text class="note" x="{col.x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#444">'
            f"{escape(line)}</text>"
        )
        y += 13
    return "".join(out)


def network_svg(
    net: Any,
    *,
    title: str | None = None,
    input_names: Any = None,
    output_names: Any = None,
    max_nodes: int = 12,
    max_edges: int = 600,
    lang: str | None = None,
) -> str:
    """The network ``net`` (an ``mlplab.Sequential``) as an SVG document (a string).

    ``input_names`` / ``output_names`` label the input and output nodes (default x1, x2, …
    and y1, y2, …). The title says the architecture and the parameter count
    (``net.n_params``). ``lang``: "en" or "pt" (default: ``mlplab.set_language``'s). See
    the module docstring for the picture's conventions.
    """
    t = T(resolve(lang))
    if max_nodes < 3 or max_edges < 1:
        raise ValueError(
            f"max_nodes must be >= 3 and max_edges >= 1. Received: max_nodes={max_nodes}, "
            f"max_edges={max_edges}."
        )
    cols, links = _columns(net, max_nodes, t)
    names = {
        "in": _names(input_names, net.n_inputs, "x"),
        "out": _names(output_names, cols[-1].units, "y"),
    }
    edges = _edges(cols, links, max_edges)
    arch = " → ".join(str(c.units) for c in cols)
    head = title if title is not None else type(net).__name__
    heading = f"{head}: {arch} · {net.n_params} {t('parameters', 'parâmetros')}"
    legend = t(
        "edges: blue w > 0, orange w < 0, width ∝ |w|; +1: the bias input x0 = 1",
        "arestas: azul w > 0, laranja w < 0, largura ∝ |w|; +1: a entrada de viés x0 = 1",
    )
    width, height, notes_y = _layout(cols, (_margin(names["in"]), _margin(names["out"])))
    width = max(width, 5.5 * len(legend) + 12, 7.5 * len(heading) + 12)  # the text fits
    finite = [abs(e[4]) for e in edges if math.isfinite(e[4])]
    scale = max(1.0, max(finite, default=0.0))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="mlplab-network" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="sans-serif" font-size="11" data-params="{net.n_params}">',
        f'<text class="heading" x="6" y="16" font-size="13" font-weight="600">'
        f"{escape(heading)}</text>",
        f'<text class="legend" x="6" y="31" font-size="10" fill="#555">{escape(legend)}</text>',
        '<g class="edges">',
    ]
    for k, layer in enumerate(links):
        if not isinstance(layer, Dense):  # into a recurrent box: connections, not weights
            a, b = cols[k], cols[k + 1]
            parts += [
                f'<line class="link" x1="{a.x + _R:.1f}" y1="{a.y[i]:.1f}" x2="{b.x - _R - 8:.1f}" '
                f'y2="{b.y[j]:.1f}" stroke="#bbbbbb" stroke-width="0.6"/>'
                for i in a.shown
                for j in b.shown
            ]
    parts += [_edge_svg(e, cols, scale) for e in edges]
    parts.append('</g><g class="nodes">')
    parts += [_column_svg(c, col, cols, names, notes_y, t) for c, col in enumerate(cols)]
    parts.append("</g></svg>")
    return "".join(parts)


def _names(names: Any, n: int, prefix: str) -> list[str]:
    if names is None:
        return [f"{prefix}{k + 1}" for k in range(n)]
    names = [str(x) for x in names]
    if len(names) != n:
        raise ValueError(f"expected {n} names for the {prefix} nodes, received {len(names)}.")
    return names


def network_html(net: Any, **kwargs: Any) -> str:
    """:func:`network_svg` in a scrolling ``<div>`` (what ``_repr_html_`` returns)."""
    return (
        '<div class="mlplab-network-view" style="overflow-x:auto;max-width:100%">'
        # max-width:none on the svg itself: front ends' "svg {max-width: 100%}" would
        # shrink a wide diagram until its text is unreadable; it scrolls instead
        + network_svg(net, **kwargs).replace("<svg ", '<svg style="max-width:none" ', 1)
        + "</div>"
    )


# ------------------------------------------------------------------ the doctor
#: How serious each kind of finding is: (css colour, English, Portuguese).
SEVERITY = {
    "healthy": ("#1b7837", "ok", "ok"),
    "saturated": ("#b35806", "warning", "atenção"),
    "dead": ("#b35806", "warning", "atenção"),
    "vanishing": ("#b35806", "warning", "atenção"),
    "exploding": ("#b2182b", "severe", "grave"),
    "nonfinite": ("#b2182b", "severe", "grave"),
}


def diagnosis_html(diagnosis: Any, kind_names: dict[str, str] | None = None) -> str:
    """The doctor's report (a ``Diagnosis``) as HTML: its findings with their severity,
    the remedy of each kind, the per-layer statistics and notes. Every text is escaped."""
    t = T(diagnosis.lang)
    names = kind_names if diagnosis.lang == "pt" and kind_names else {}
    cell = 'style="padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"'
    head = t("Gradient doctor", "Diagnóstico do gradiente")
    out = [
        '<div class="mlplab-diagnosis" style="font-family:sans-serif;font-size:13px">',
        f"<b>{escape(head)}</b> ({escape(t('loss', 'perda'))} "
        f"{escape(t.num(diagnosis.loss, '.4g'))}, "
        f"‖∇‖ {escape(t.num(diagnosis.global_norm, '.3g'))})",
        '<table class="findings" style="border-collapse:collapse;margin:4px 0">',
        f"<tr><th {cell}>{escape(t('severity', 'gravidade'))}</th><th {cell}>"
        f"{escape(t('where', 'onde'))}</th><th {cell}>{escape(t('finding', 'achado'))}</th>"
        f"<th {cell}>{escape(t('detail', 'detalhe'))}</th></tr>",
    ]
    remedies: dict[str, str] = {}
    for f in diagnosis.findings:
        color, en, pt = SEVERITY.get(f.kind, ("#444444", f.kind, f.kind))
        where = f.name if f.layer is not None else t("network", "rede")
        kind = names.get(f.kind, f.kind)
        out.append(
            f'<tr class="finding {escape(f.kind)}"><td {cell}><span style="color:{color};'
            f'font-weight:600">{escape(t(en, pt))}</span></td><td {cell}>{escape(where)}</td>'
            f"<td {cell}>{escape(kind)}</td><td {cell}>{escape(f.detail)}</td></tr>"
        )
        if f.remedy:
            remedies.setdefault(kind, f.remedy)
    out.append("</table>")
    for kind, text in remedies.items():
        out.append(
            f'<div class="remedy"><b>{escape(t("Remedy", "Remédio"))} ({escape(kind)}):</b> '
            f"{escape(text)}</div>"
        )
    out.append(_stats_table(diagnosis.stats, t, cell))
    out += [f'<div class="note" style="color:#555">({escape(n)})</div>' for n in diagnosis.notes]
    out.append("</div>")
    return "".join(out)


def _stats_table(stats: list[dict[str, Any]], t: T, cell: str) -> str:
    rows = [
        "<details><summary>" + escape(t("per layer", "por camada")) + "</summary>",
        '<table class="stats" style="border-collapse:collapse">',
        f"<tr><th {cell}>{escape(t('layer', 'camada'))}</th><th {cell}>‖dW‖</th>"
        f"<th {cell}>{escape(t('mean', 'média'))} |f′|</th><th {cell}>sat</th>"
        f"<th {cell}>{escape(t('dead', 'mortas'))}</th></tr>",
    ]
    for s in stats:
        rows.append(
            f"<tr><td {cell}>{escape(str(s['name']))}</td>"
            f"<td {cell}>{escape(t.num(s['grad_norm_W'], '.3g'))}</td>"
            f"<td {cell}>{escape(t.num(s['mean_abs_fprime'], '.3g'))}</td>"
            f"<td {cell}>{s['saturation']:.0%}</td><td {cell}>{s['dead_fraction']:.0%}</td></tr>"
        )
    rows.append("</table></details>")
    return "".join(rows)


# ------------------------------------------------------------------ figures
def _axes(ax: Any, size: tuple[float, float] = (6.0, 3.6)) -> Any:
    """``ax``, or the Axes of a new figure (matplotlib imported here, not before)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


#: Names of a history's entries in a figure: (English, Portuguese).
HISTORY_LABELS = {
    "loss": ("training loss", "perda de treino"),
    "val_loss": ("validation loss", "perda de validação"),
    "accuracy": ("training accuracy", "acurácia de treino"),
    "val_accuracy": ("validation accuracy", "acurácia de validação"),
    "mae": ("training MAE", "MAE de treino"),
    "val_mae": ("validation MAE", "MAE de validação"),
    "mse": ("training MSE", "MSE de treino"),
    "val_mse": ("validation MSE", "MSE de validação"),
}


#: A metric's name on an axis: (English, Portuguese).
METRIC_NAMES = {"accuracy": ("accuracy", "acurácia"), "mae": ("MAE", "MAE"), "mse": ("MSE", "MSE")}


def _positive(values: Any) -> np.ndarray:
    """The values as floats, with non-finite and non-positive ones as gaps (NaN): what a
    log axis can show."""
    arr = np.asarray(values, dtype=float)
    return np.where(np.isfinite(arr) & (arr > 0), arr, np.nan)


def plot_history(
    history: dict[str, list[float]],
    ax: Any = None,
    *,
    metrics: Any = None,
    log: bool | None = None,
    lang: str | None = None,
) -> Any:
    """The loss (and validation loss) per epoch on ``ax``; the recorded metrics (accuracy,
    MAE, …) on a second y axis sharing the epochs (``ax.right_ax``). ``log=None`` puts the
    loss on a log scale when it spans more than a decade and a half. Returns ``ax``."""
    lang = resolve(lang)
    t = T(lang)
    losses = [k for k in ("loss", "val_loss") if history.get(k)]
    if not losses:
        raise ValueError(
            "History.plot: nothing to plot — the history has no loss (no epoch was trained)."
        )
    if metrics is None:
        metrics = [k for k in history if k not in ("loss", "val_loss", "grad_norm") and history[k]]
    missing = [m for m in metrics if not history.get(m)]
    if missing:
        raise ValueError(
            f"History.plot: metrics {missing} are not in this history; it holds {sorted(history)}."
        )
    ax = _axes(ax)
    for k in losses:
        y = np.asarray(history[k], dtype=float)
        ax.plot(np.arange(1, y.size + 1), y, label=t.lookup(HISTORY_LABELS, k, k),
                color="C0" if k == "loss" else "C1")  # fmt: skip
    finite = np.concatenate([_positive(history[k]) for k in losses])
    finite = finite[np.isfinite(finite)]
    if log is None:
        log = finite.size > 1 and finite.max() / finite.min() > 10**1.5
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(t("epoch", "época"))
    ax.set_ylabel(t("loss", "perda"))
    handles, labels = ax.get_legend_handles_labels()
    if metrics:
        right = ax.twinx()
        ax.right_ax = right
        for n, k in enumerate(metrics):
            y = np.asarray(history[k], dtype=float)
            right.plot(np.arange(1, y.size + 1), y, linestyle="--", color=f"C{n + 2}",
                       label=t.lookup(HISTORY_LABELS, k, k))  # fmt: skip
        bases = dict.fromkeys(k.removeprefix("val_") for k in metrics)  # in order, once each
        right.set_ylabel(", ".join(t.lookup(METRIC_NAMES, k, k) for k in bases))
        more = right.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncol=2,
              fontsize="small", frameon=False)  # fmt: skip
    ax.grid(True, alpha=0.3)
    localise_ticks(ax.figure, lang)
    return ax


def plot_gradient_flow(
    layer_names: list[str], norms: np.ndarray, ax: Any = None, *, lang: str | None = None
) -> Any:
    """One line per layer: its gradient norm ``norms[:, l]`` per epoch, on a log scale,
    the legend outside the axes (right); past ten layers the colours repeat with another
    line style, so every line stays distinct. Returns ``ax``."""
    lang = resolve(lang)
    t = T(lang)
    norms = np.asarray(norms, dtype=float)
    if norms.ndim != 2 or norms.shape[0] == 0:
        raise ValueError(
            "GradientFlow.plot: nothing recorded yet — pass the callback to "
            "fit(..., callbacks=[flow]) and train at least one epoch."
        )
    ax = _axes(ax, (7.0, 3.6))
    epochs = np.arange(1, norms.shape[0] + 1)
    for k, (name, column) in enumerate(zip(layer_names, norms.T, strict=True)):
        style = ("-", "--", ":", "-.")[(k // 10) % 4]
        ax.plot(epochs, _positive(column), label=name, color=f"C{k % 10}", linestyle=style)
    ax.set_yscale("log")
    ax.set_xlabel(t("epoch", "época"))
    ax.set_ylabel(t("‖dL/dW‖ (epoch mean)", "‖dL/dW‖ (média da época)"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", borderaxespad=0)
    ax.grid(True, which="both", alpha=0.3)
    localise_ticks(ax.figure, lang)
    return ax


def localise_ticks(fig: Any, lang: str) -> None:
    """Have every axis of ``fig`` write its tick labels (and offsets) as ``lang`` writes
    numbers; English leaves them as they are."""
    if lang == "en":
        return
    from matplotlib.ticker import Formatter

    class Localised(Formatter):
        def __init__(self, inner: Formatter) -> None:
            self.inner = inner

        def __call__(self, x: float, pos: int | None = None) -> str:
            return localise(self.inner(x, pos), lang)

        def format_ticks(self, values: Any) -> list[str]:
            return [localise(s, lang) for s in self.inner.format_ticks(values)]

        def get_offset(self) -> str:
            return localise(self.inner.get_offset(), lang)

        def set_axis(self, axis: Any) -> None:
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs: Any) -> None:
            self.inner.set_locs(locs)

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None:
                continue
            for get, put in (
                (axis.get_major_formatter, axis.set_major_formatter),
                (axis.get_minor_formatter, axis.set_minor_formatter),
            ):
                inner = get()
                if not isinstance(inner, Localised):
                    put(Localised(inner))


# ------------------------------------------------------------------ progress
def in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def progress_bar(total: int, unit: str, verbose: Any = 1, desc: str | None = None) -> Any:
    """The progress bar of a long loop (tqdm.auto): a widget in a Jupyter notebook, text on
    a terminal; None when ``verbose`` is 0/False or stderr is neither (a log file, a pipe),
    where the caller prints lines instead, if anything."""
    if not verbose or not (in_notebook() or sys.stderr.isatty()):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, desc=desc, leave=False)
