"""Write the course notebooks, English and Portuguese, from one source.

Each notebook's source is a module in ``scripts/notebooks/`` (one per lecture section and
one for Lab 7) holding its cells with the English and Portuguese prose side by side and the
code once. A code cell's text may carry ``«english || português»`` for a string that
differs between the languages (a figure's title, ``lang="pt"``); everything else in the
code is shared, so the two notebooks of a pair run the same computation.

    python scripts/make_notebooks.py           # (re)write notebooks/{en,pt}/*.ipynb
    python scripts/make_notebooks.py --check   # exit 1 if a committed notebook differs

The files are written without outputs or execution counts, with fixed cell ids and
metadata, so regenerating gives the same bytes (tests/test_notebooks.py checks it).
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
SOURCES = Path(__file__).resolve().parent / "notebooks"
OUT = ROOT / "notebooks"
LANGS = ("en", "pt")

#: ``«english || português»`` in a code cell: the text of one language.
_CHOICE = re.compile(r"«(.*?) \|\| (.*?)»", re.S)

#: The first code cell of every notebook: on Colab (or anywhere mlplab is missing) it
#: installs mlplab from the repository; where mlplab is installed it does nothing.
SETUP = (
    "# «Colab, or an environment without mlplab: install it first. || "
    "Colab, ou um ambiente sem o mlplab: instale-o primeiro.»\n"
    "# «MLPLAB_SOURCE is where pip finds mlplab: the Git URL of your copy of the || "
    "MLPLAB_SOURCE é onde o pip encontra o mlplab: a URL Git da sua cópia do»\n"
    '# «repository (set it) or a local folder such as "..". || '
    'repositório (ajuste-a) ou uma pasta local como "..".»\n'
    'MLPLAB_SOURCE = "git+https://github.com/YOUR-ACCOUNT/mlplab.git"\n'
    "\n"
    "import importlib.util\n"
    "\n"
    'if importlib.util.find_spec("mlplab") is None:\n'
    '    %pip install "{MLPLAB_SOURCE}"'
)

IMPORTS = (
    "%matplotlib inline\n"
    "import matplotlib.pyplot as plt\n"
    "import numpy as np\n"
    "\n"
    "import mlplab\n"
    "\n"
    'mlplab.set_language("«en || pt»")  # «diagrams, reports and plots in English || '
    'diagramas, relatórios e gráficos em português»\n'
    'plt.rcParams["figure.dpi"] = 90'
)

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def pick(text: str, lang: str) -> str:
    """``text`` with every ``«en || pt»`` replaced by the text of ``lang``."""
    return _CHOICE.sub(lambda m: m.group(2 if lang == "pt" else 1), text)


def load_source(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"notebook_source_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sources() -> list[ModuleType]:
    """The notebook sources, in the lecture's order (their file names sort that way)."""
    return [load_source(p) for p in sorted(SOURCES.glob("nb*.py"))]


def build(source: ModuleType, lang: str) -> nbformat.NotebookNode:
    """The notebook of ``source`` in ``lang``: its cells, outputs empty, ids fixed."""
    cells = [
        new_markdown_cell(source.TITLE[LANGS.index(lang)].strip()),
        new_code_cell(pick(SETUP, lang)),
        new_code_cell(pick(IMPORTS, lang)),
    ]
    for kind, *texts in source.CELLS:
        if kind == "md":
            cells.append(new_markdown_cell(texts[LANGS.index(lang)].strip()))
        elif kind in ("code", "params"):
            cell = new_code_cell(pick(texts[0].strip(), lang))
            if kind == "params":  # the parameters a student changes (papermill's tag)
                cell.metadata["tags"] = ["parameters"]
            cells.append(cell)
        else:
            raise ValueError(f"{source.__file__}: unknown cell kind {kind!r}")
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i:02d}"
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "mlplab": {"generated_by": "scripts/make_notebooks.py", "lang": lang},
    }
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def targets() -> dict[Path, str]:
    """Every notebook file and its text: notebooks/<lang>/<name>.ipynb."""
    out = {}
    for source in sources():
        for lang, name in zip(LANGS, source.FILES, strict=True):
            out[OUT / lang / f"{name}.ipynb"] = render(build(source, lang))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    files = targets()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text("utf-8") != text]
    extra = sorted(set(OUT.glob("*/*.ipynb")) - set(files))
    if args.check:
        for p in stale + extra:
            print(f"out of date: {p.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(files[p], "utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    for p in extra:
        print(f"not generated (remove it or add its source): {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
