"""The tour's report: ``DIR/index.html`` (self-contained: figures embedded as
data URIs, no network access) and ``DIR/README.md``, in the lecture's order."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from ..io import _atomic_write
from ._registry import LANGS, T

SECTIONS = {
    "1": ("The multilayer perceptron", "O perceptron multicamadas"),
    "2": ("Activation functions and their derivatives", "Funções de ativação e suas derivadas"),
    "3": ("The vanishing gradient", "O desaparecimento do gradiente"),
    "4": ("The exploding gradient", "A explosão do gradiente"),
    "5": ("Mitigations", "Mitigações"),
    "6": (
        "Acyclic and cyclic connections: networks with memory",
        "Conexões acíclicas e cíclicas: redes com memória",
    ),
    "7": ("Universal function approximation", "Aproximação universal de funções"),
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #aaa}
.claim{background:#f3f6fa;border-left:4px solid #3b6ea5;padding:.6em 1em}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;
text-align:left;font-variant-numeric:tabular-nums}code{background:#f4f4f4;padding:.1em .3em}
.meta{color:#666;font-size:.9em}
"""


def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (int, str)):
        return str(v)
    text = json.dumps(v)
    return text if len(text) <= 120 else text[:117] + "..."


def _rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for k, v in metrics.items():
        if isinstance(v, dict) and all(not isinstance(x, (dict, list)) for x in v.values()):
            rows += [(f"{k}.{kk}", _fmt(vv)) for kk, vv in v.items()]
        else:
            rows.append((k, _fmt(v)))
    return rows


def _sections(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        grouped.setdefault(r["lecture_section"].split(".")[0], []).append(r)
    return sorted(grouped.items(), key=lambda kv: int(kv[0]))


def write_report(out: str | Path, records: list[dict[str, Any]], *, lang: str = "en") -> Path:
    """Write index.html and README.md for the experiments' records; return index.html's path."""
    if lang not in LANGS:
        raise ValueError(f"Unknown lang {lang!r}. Expected one of: {', '.join(LANGS)}.")
    t = T(lang)
    out = Path(out)
    title = t("mlplab: the lecture, measured", "mlplab: a aula, medida")
    intro = t(
        "Every claim of the lecture “Artificial Neural Networks, Part II”, run on a real "
        "network. Each section gives the claim, the figure, the measured numbers and the "
        "command to rerun it.",
        "Cada afirmação da aula “Redes Neurais Artificiais, Parte II”, executada numa rede real. "
        "Cada seção traz a afirmação, a figura, os números medidos e o comando para reproduzi-la.",
    )
    h = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>",
    ]
    md = [f"# {title}", "", intro, ""]
    for sec, recs in _sections(records):
        en, pt = SECTIONS.get(sec, (f"Section {sec}", f"Seção {sec}"))
        head = f"§{sec} {t(en, pt)}"
        h.append(f"<h2>{html.escape(head)}</h2>")
        md += [f"## {head}", ""]
        for r in recs:
            name = r["experiment"]
            h.append(f'<section id="{html.escape(name)}"><h3>{html.escape(r["title"])}</h3>')
            h.append(
                f'<p class="claim"><b>{t("Claim", "Afirmação")}:</b> {html.escape(r["claim"])}</p>'
            )
            md += [f"### {r['title']}", "", f"> **{t('Claim', 'Afirmação')}:** {r['claim']}", ""]
            for fig in r["figures"]:
                data = (out / name / fig).read_bytes()
                uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
                h.append(f'<img alt="{html.escape(name)}: {html.escape(fig)}" src="{uri}">')
                md += [f"![{name}: {fig}]({name}/{fig})", ""]
            rows = _rows(r["metrics"])
            h.append(
                f"<table><tr><th>{t('measured', 'medido')}</th><th>{t('value', 'valor')}</th></tr>"
            )
            h += [f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows]
            h.append("</table>")
            md += [f"| {t('measured', 'medido')} | {t('value', 'valor')} |", "|---|---|"]
            md += [f"| {k} | {v.replace('|', '/')} |" for k, v in rows]
            md.append("")
            meta = t(
                f"seed {r['seed']}, {r['seconds']:.1f} s",
                f"semente {r['seed']}, {r['seconds']:.1f} s",
            )
            h.append(
                f'<p class="meta">{t("Rerun", "Reproduzir")}: <code>'
                f"{html.escape(r['command'])}</code> ({html.escape(meta)})</p></section>"
            )
            md += [f"{t('Rerun', 'Reproduzir')}: `{r['command']}` ({meta})", ""]
    h.append("</body></html>")
    index = out / "index.html"
    _atomic_write(str(index), "\n".join(h).encode("utf-8"))
    _atomic_write(str(out / "README.md"), "\n".join(md).encode("utf-8"))
    return index
