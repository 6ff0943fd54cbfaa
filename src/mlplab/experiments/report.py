"""The tour's report: ``DIR/index.html`` (self-contained: figures embedded as
data URIs, no network access, no JavaScript) and ``DIR/README.md``, in the
lecture's order.

The page opens with the run's facts (seed, versions, total time) and a table of
contents linking to every lecture section and experiment; each experiment
gives the claim, its headline table (the lecture says / measured here /
holds?), its figures with captions that say what to look at, every measured
number in a collapsed labelled table, and the command to rerun it.
"""

from __future__ import annotations

import base64
import html
import os
import struct
from pathlib import Path
from typing import Any

from mlplab.experiments._registry import EXPERIMENTS
from mlplab.i18n import LANGS, T
from mlplab.io import atomic_write

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

# The page may load nothing but its own inline style and data: images.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;
margin:0 auto;padding:1.5em 1em 3em;color:#222;background:#fff;line-height:1.5}
h1{margin:.2em 0 .3em;font-size:1.9em;line-height:1.2}
h2{margin:2.2em 0 .6em;padding-bottom:.2em;border-bottom:2px solid #3b6ea5;font-size:1.45em}
h3{margin:1.6em 0 .5em;font-size:1.15em}
a{color:#2a5d94}a:hover{color:#16406e}
header{border-bottom:1px solid #ccc;padding-bottom:.8em}
header p{margin:.4em 0}
.facts{color:#555;font-size:.92em}
.facts span+span::before{content:" · ";color:#999}
nav.toc{background:#f7f8fa;border:1px solid #e1e4e8;border-radius:6px;padding:.6em 1.2em;
margin:1.2em 0}
nav.toc h2{margin:.3em 0 .4em;border:0;font-size:1.1em}
nav.toc ol{margin:.2em 0;padding-left:0;list-style:none}
nav.toc ol ol{padding-left:1.4em;list-style:disc;color:#666}
nav.toc li{margin:.15em 0}
section.experiment{margin-bottom:2em}
.claim{background:#f3f6fa;border-left:4px solid #3b6ea5;padding:.6em 1em;margin:.6em 0}
figure{margin:1em 0;text-align:center}
figure img{display:block;margin:0 auto;max-width:100%;height:auto;border:1px solid #ddd}
figcaption{color:#555;font-size:.9em;margin-top:.35em}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:.25em .7em;text-align:left;vertical-align:top;
font-variant-numeric:tabular-nums}
th{background:#f4f5f7}tr:nth-child(even) td{background:#fafbfc}
td:first-child{white-space:nowrap}td+td{overflow-wrap:anywhere}
table.headline td:first-child{white-space:normal}
td.yes{color:#1a7f37;font-weight:bold;text-align:center}td.no{color:#cf222e;font-weight:bold;
text-align:center}td.na{color:#888;text-align:center}
details{margin:.6em 0}summary{cursor:pointer;color:#2a5d94}
code{background:#f4f4f4;padding:.1em .3em;border-radius:3px;overflow-wrap:anywhere}
.meta{color:#666;font-size:.9em}
.top{font-size:.6em;font-weight:normal;margin-left:.5em;text-decoration:none}
@media (max-width:600px){body{padding:1em .6em 2em}h1{font-size:1.5em}h2{font-size:1.25em}}
"""


def _fmt(v: Any, t: T) -> str:
    """A measured value in full, as the report's language writes numbers (4 significant
    digits); lists in full, never cut."""
    if isinstance(v, bool) or v is None:
        return t("yes", "sim") if v is True else t("no", "não") if v is False else "—"
    if isinstance(v, float):
        return t.num(v, ".4g")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple)):
        inner = [_fmt(x, t) for x in v]
        nested = any(isinstance(x, (list, tuple, dict)) for x in v)
        # Portuguese writes a decimal comma: its list items are separated by "; "
        return " ".join(f"[{x}]" for x in inner) if nested else t(", ", "; ").join(inner)
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_fmt(x, t)}" for k, x in v.items())
    return str(v)


def human(key: str) -> str:
    """A metric's key as words when the experiment gives it no label:
    ``final_dead_fraction`` is "final dead fraction"."""
    return key.replace("_", " ").strip()


def detail_rows(
    metrics: dict[str, Any], labels: dict[str, tuple[str, str]], t: T
) -> list[tuple[str, str]]:
    """Every measured number with a label for people: the experiment's own label for a
    metric (else its key as words), nested dictionaries as "label › key" rows."""
    rows: list[tuple[str, str]] = []

    def walk(label: str, v: Any) -> None:
        if isinstance(v, dict) and v:
            for k, x in v.items():
                walk(f"{label} › {t.lookup(labels, k, human(str(k)))}", x)
        elif isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v, 1):  # a list of records: one group of rows each
                walk(f"{label} › {i}", x)
        else:
            rows.append((label, _fmt(v, t)))

    for k, v in metrics.items():
        walk(t.lookup(labels, k, human(k)), v)
    return rows


def _sections(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        grouped.setdefault(r["lecture_section"].split(".")[0], []).append(r)
    return sorted(grouped.items(), key=lambda kv: int(kv[0]))


def _png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if ``data`` is not a PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _distinct(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _facts(records: list[dict[str, Any]], t: T) -> list[str]:
    """The run's facts for the header: seed, experiments, total time, mode, versions."""
    if not records:
        return []
    seeds = _distinct([r["seed"] for r in records])
    n = len(records)
    total = sum(r["seconds"] for r in records)
    facts = [
        t("seed", "semente") + " " + ", ".join(str(s) for s in seeds),
        t(f"{n} experiment{'s' * (n != 1)}", f"{n} experimento{'s' * (n != 1)}"),
        t(f"total time {total:.1f} s", f"tempo total {total:.1f} s"),
    ]
    if any(r.get("quick") for r in records):
        facts.append(t("quick run (--quick)", "execução rápida (--quick)"))
    versions: dict[str, list[str]] = {}
    for r in records:
        for k, v in r.get("versions", {}).items():
            versions.setdefault(k, [])
            if v not in versions[k]:
                versions[k].append(v)
    names = {"mlplab": "mlplab", "numpy": "NumPy", "python": "Python"}
    facts += [f"{names.get(k, k)} {'/'.join(v)}" for k, v in versions.items()]
    return facts


def _part_id(sec: str) -> str:
    return f"part-{sec}"


def write_report(
    out: str | Path,
    records: list[dict[str, Any]],
    *,
    lang: str = "en",
    dest: str | Path | None = None,
) -> Path:
    """Write index.html and README.md for the experiments' records, whose files are under
    ``out/NAME/``, into ``dest`` (default ``out``; ``mlplab run NAME`` writes one
    experiment's page into ``out/NAME``); return index.html's path."""
    if lang not in LANGS:
        raise ValueError(f"Unknown lang {lang!r}. Expected one of: {', '.join(LANGS)}.")
    t = T(lang)
    out = Path(out)
    dest = out if dest is None else Path(dest)
    esc = html.escape
    title = t("mlplab: the lecture, measured", "mlplab: a aula, medida")
    intro = t(
        "Every claim of the lecture “Artificial Neural Networks, Part II”, run on a real "
        "network. Each experiment gives the claim, a table of what the lecture says against what "
        "was measured here, its figures with what to look at, every measured number and the "
        "command to rerun it.",
        "Cada afirmação da aula “Redes Neurais Artificiais, Parte II”, executada numa rede real. "
        "Cada experimento traz a afirmação, uma tabela do que a aula diz contra o que foi medido "
        "aqui, as figuras com o que observar nelas, todos os números medidos e o comando para "
        "reproduzi-lo.",
    )
    contents = t("Contents", "Sumário")
    facts = _facts(records, t)
    parts = []
    for sec, recs in _sections(records):
        name = t.lookup(SECTIONS, sec, (f"Section {sec}", f"Seção {sec}"))
        parts.append((sec, f"§{sec} {name}", recs))

    h = [
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>",
        f'<header id="top">\n<h1>{esc(title)}</h1>\n<p>{esc(intro)}</p>',
    ]
    if facts:
        h.append('<p class="facts">' + "".join(f"<span>{esc(f)}</span>" for f in facts) + "</p>")
    h.append("</header>")
    md = [f"# {title}", "", intro, ""]
    if facts:
        md += [" · ".join(facts), ""]

    if parts:
        h.append(f'<nav class="toc" aria-label="{esc(contents)}">\n<h2>{esc(contents)}</h2>\n<ol>')
        for sec, head, recs in parts:
            h.append(f'<li><a href="#{_part_id(sec)}">{esc(head)}</a><ol>')
            h += [f'<li><a href="#{esc(r["experiment"])}">{esc(r["title"])}</a></li>' for r in recs]
            h.append("</ol></li>")
        h.append("</ol>\n</nav>")

    n_fig = 0
    for sec, head, recs in parts:
        h.append(
            f'<section class="part" id="{_part_id(sec)}">\n<h2>{esc(head)}'
            f'<a class="top" href="#top" title="{esc(contents)}">↑</a></h2>'
        )
        md += [f"## {head}", ""]
        for r in recs:
            n_fig = _experiment(out, dest, r, t, n_fig, h, md)
        h.append("</section>")
    h.append("</body>\n</html>\n")
    index = dest / "index.html"
    atomic_write(str(index), "\n".join(h).encode("utf-8"))
    atomic_write(str(dest / "README.md"), "\n".join(md).encode("utf-8"))
    return index


HOLDS = {True: "✓", False: "✗", None: "—"}


def _headline_table(r: dict[str, Any], t: T, h: list[str], md: list[str]) -> None:
    """The table under the claim: what the lecture says, what was measured, whether it holds."""
    rows = r.get("headline") or []
    if not rows:
        return
    esc = html.escape
    heads = (
        t("", ""),
        t("the lecture says", "a aula diz"),
        t("measured here", "medido aqui"),
        t("holds?", "confere?"),
    )
    h.append('<div class="scroll"><table class="headline">\n<tr>')
    h += [f"<th>{esc(x)}</th>" for x in heads]
    h.append("</tr>")
    for row in rows:
        mark = HOLDS[row["holds"]]
        cls = {True: "yes", False: "no", None: "na"}[row["holds"]]
        h.append(
            f"<tr><td>{esc(row['what'])}</td><td>{esc(row['lecture'])}</td>"
            f'<td>{esc(row["measured"])}</td><td class="{cls}">{mark}</td></tr>'
        )
    h.append("</table></div>")
    md += ["| " + " | ".join(heads) + " |", "|---|---|---|:-:|"]
    md += [
        "| "
        + " | ".join(_md_cell(row[k]) for k in ("what", "lecture", "measured"))
        + f" | {HOLDS[row['holds']]} |"
        for row in rows
    ]
    md.append("")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _experiment(
    out: Path, base: Path, r: dict[str, Any], t: T, n_fig: int, h: list[str], md: list[str]
) -> int:
    """Append one experiment's section (files under ``out/NAME``) to the page ``h`` and
    the Markdown ``md`` (whose figure links are relative to ``base``): its claim, the
    headline table, the captioned figures (numbered from ``n_fig`` + 1), every measured
    number in a collapsed table and the command to rerun it; return the number of the
    last figure."""
    esc = html.escape
    name = r["experiment"]
    h.append(f'<section class="experiment" id="{esc(name)}">\n<h3>{esc(r["title"])}</h3>')
    h.append(f'<p class="claim"><b>{t("Claim", "Afirmação")}:</b> {esc(r["claim"])}</p>')
    md += [f"### {r['title']}", "", f"> **{t('Claim', 'Afirmação')}:** {r['claim']}", ""]
    _headline_table(r, t, h, md)
    captions = r.get("captions") or {}
    for fig in r["figures"]:
        n_fig += 1
        path = out / name / fig
        data = path.read_bytes()
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        size = _png_size(data)
        dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
        number = t(f"Figure {n_fig}", f"Figura {n_fig}")
        text = captions.get(fig, fig)
        h.append(
            f'<figure>\n<img alt="{esc(text)}"{dims} src="{uri}">\n'
            f"<figcaption><b>{number}.</b> {esc(text)}</figcaption>\n</figure>"
        )
        link = Path(os.path.relpath(path, base)).as_posix()
        md += [f"![{_md_cell(text)}]({link})", "", f"*{number}. {_md_cell(text)}*", ""]
    exp = EXPERIMENTS.get(name)
    rows = detail_rows(r["metrics"], exp.labels if exp else {}, t)
    summary = t(f"Every measured number ({len(rows)})", f"Todos os números medidos ({len(rows)})")
    h.append(
        f'<details>\n<summary>{esc(summary)}</summary>\n<div class="scroll"><table>\n'
        f"<tr><th>{t('measured', 'medido')}</th><th>{t('value', 'valor')}</th></tr>"
    )
    h += [f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows]
    h.append("</table></div>\n</details>")
    md += [f"<details><summary>{summary}</summary>", ""]
    md += [f"| {t('measured', 'medido')} | {t('value', 'valor')} |", "|---|---|"]
    md += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in rows]
    md += ["", "</details>", ""]
    meta = t(
        f"seed {r['seed']}, {r['seconds']:.1f} s",
        f"semente {r['seed']}, {r['seconds']:.1f} s",
    )
    h.append(
        f'<p class="meta">{t("Rerun", "Reproduzir")}: <code>'
        f"{esc(r['command'])}</code> ({esc(meta)})</p>\n</section>"
    )
    md += [f"{t('Rerun', 'Reproduzir')}: `{r['command']}` ({meta})", ""]
    return n_fig


def result_line(r: dict[str, Any], t: T) -> str:
    """One line of what an experiment measured, for the console and the README's table:
    its headline rows' measured values (how many of the lecture's claims held)."""
    rows = r.get("headline") or []
    checked = [row["holds"] for row in rows if row["holds"] is not None]
    parts = [f"{row['what']}: {row['measured']} {HOLDS[row['holds']]}" for row in rows]
    if checked:
        held = sum(checked)
        parts.insert(0, t(f"{held}/{len(checked)} hold", f"{held}/{len(checked)} conferem"))
    return "; ".join(parts)


#: Where the README's tour table starts and ends (scripts/readme_tour.py writes between them).
TABLE_MARKERS = ("<!-- tour-table: begin (scripts/readme_tour.py) -->", "<!-- tour-table: end -->")


def run_summary(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the README's tour table needs of a run's records (docs/tour-run.json)."""
    keep = ("experiment", "lecture_section", "seed", "quick", "seconds", "versions", "headline")
    return [{k: r[k] for k in keep} for r in records]


def tour_table(records: list[dict[str, Any]]) -> str:
    """The README's tour table: every experiment, its lecture section and what the run
    measured (its headline, in English), then the run's total time."""
    t = T("en")
    seeds = ", ".join(str(s) for s in _distinct([r["seed"] for r in records]))
    mode = "quick run (--quick)" if any(r["quick"] for r in records) else "full run"
    lines = [
        f"| experiment | lecture | what the {mode} measured (seed {seeds}; ✓ the lecture's "
        "claim holds) |",
        "|---|---|---|",
    ]
    for r in records:
        line = _md_cell(result_line(r, t))
        lines.append(f"| `{r['experiment']}` | §{r['lecture_section']} | {line} |")
    total = sum(r["seconds"] for r in records)
    versions = records[0]["versions"] if records else {}
    held = [row["holds"] for r in records for row in r["headline"] if row["holds"] is not None]
    lines += [
        "",
        f"The {mode} of `mlplab tour` ({len(records)} experiments) took {total:.0f} s of "
        f"compute on a 2-core machine (mlplab {versions.get('mlplab', '?')}, NumPy "
        f"{versions.get('numpy', '?')}); {sum(held)} of the {len(held)} checks of the "
        "lecture's claims held.",
    ]
    return "\n".join(lines)


def replace_table(readme: str, table: str) -> str:
    """``readme`` with the text between :data:`TABLE_MARKERS` replaced by ``table``."""
    begin, end = TABLE_MARKERS
    if readme.count(begin) != 1 or readme.count(end) != 1:
        raise ValueError(f"the README must hold the markers {begin!r} and {end!r} once each")
    head, rest = readme.split(begin)
    _, tail = rest.split(end)
    return f"{head}{begin}\n{table}\n{end}{tail}"
