"""The course notebooks (notebooks/en, notebooks/pt): generated from one source, committed
without outputs, and executed top to bottom in a fresh kernel, checking what they compute.

Each executed notebook gets one extra cell at its end that prints, as JSON, the values the
notebook computed (the XOR network's accuracy, the vanishing-gradient ratio, ...); the test
asserts on those. Nothing is added to the committed files: students see clean notebooks.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

_spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts/make_notebooks.py")
make_notebooks = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("make_notebooks", make_notebooks)
_spec.loader.exec_module(make_notebooks)

SOURCES = make_notebooks.sources()
PAIRS = [(s.FILES[0], s.FILES[1]) for s in SOURCES]
LANGS = ("en", "pt")
FILES = [
    NOTEBOOKS / lang / f"{name}.ipynb" for p in PAIRS for lang, name in zip(LANGS, p, strict=True)
]

#: What each notebook must have computed: an expression evaluated in its kernel after the
#: last cell, and the check of its value.
PROBES = {
    "02": (
        "{'logistic_max': float(logistic_max), 'tanh_max': float(tanh_max),"
        " 'worst': float(max(worst.values()))}",
        lambda v: v["logistic_max"] == 0.25 and v["tanh_max"] == 1.0 and v["worst"] < 1e-6,
    ),
    "03": (
        "{'ratio': float(vanishing_ratio), 'by_hand': float(dJ_dw1),"
        " 'mlplab': float(grads['0.W'][0, 0]), 'exploding': bool(exploding_found),"
        " 'chain': {str(w): [float(g) for g in gs] for w, gs in first_weight_gradient.items()}}",
        lambda v: (
            v["ratio"] < 1e-3
            and abs(v["by_hand"] - v["mlplab"]) < 1e-12
            and v["exploding"]
            # the lecture's chain of M ReLU nodes of weight w: |dJ/dw1| = 2 w^(2M - 1)
            and all(
                abs(g - 2 * float(w) ** (2 * m - 1)) <= 1e-12 * 2 * float(w) ** (2 * m - 1)
                for w, gs in v["chain"].items()
                for m, g in enumerate(gs, start=1)
            )
            and len(v["chain"]) == 3
        ),
    ),
    "05": (
        "{'accuracy': [float(c.score(X, y)) for c in fitted.values()],"
        " 'ratio': [float(c.grad_norms_[0, 0] / c.grad_norms_[0, -1]) for c in fitted.values()],"
        " 'clipped_loss': float(clipped.loss_), 'epochs': EPOCHS,"
        " 'history': {k: len(h) for k, h in history.history.items()},"
        " 'val_accuracy': float(val_accuracy)}",
        lambda v: (
            # the Sequential's History: every epoch, on the training and the validation data
            all(v["history"][k] == v["epochs"] for k in ("loss", "val_loss", "val_accuracy"))
            and v["val_accuracy"] >= 0.95
            and v["accuracy"][0] < 0.7  # logistic: stuck near chance
            and min(v["accuracy"][1:]) >= 0.95  # ReLU + He, leaky ReLU + He, batch norm
            and v["ratio"][0] < 1e-3
            and min(v["ratio"][1:]) > 1e-2
            and v["clipped_loss"] < 0.05
        ),
    ),
    "06": (
        "{'mse': [float(m) for m in test_mse.values()],"
        " 'long': [float(r) for r in long_ratio.values()], 'found': list(long_findings.values())}",
        lambda v: (
            max(v["mse"][1:]) < v["mse"][0] / 5  # every cell beats the naive forecast
            and max(v["long"]) < 1e-6  # untrained, 100 steps: the gradient through time vanishes
            and all(f == ["vanishing"] for f in v["found"])
        ),
    ),
    "07": (
        "{'accuracy': [float(a) for a in accuracy.values()], 'xor': float(xor_accuracy),"
        " 'single': float(xor_single_accuracy),"
        " 'mse': [float(m) for m in validation_mse.values()]}",
        lambda v: (
            v["xor"] == 1.0
            and min(v["accuracy"]) == 1.0
            and v["single"] < 0.8
            and max(v["mse"]) < 1e-4
        ),
    ),
    "08": (
        "{'mse': {k: float(m) for k, m in validation_mse.items()}, 'cv': CV, 'seeds': N_SEEDS}",
        # the exercise's full grid, and the lecture's bounds: 1e-5 (1e-4 for sin x)
        lambda v: (
            v["cv"] == 10
            and v["seeds"] == 10
            and sorted(v["mse"]) == ["exp", "inv", "log10", "sin"]
            and all(m <= (1e-4 if k == "sin" else 1e-5) for k, m in v["mse"].items())
        ),
    ),
}


#: What each notebook shows: its figures (inline PNGs), and the rich outputs of mlplab's
#: objects that end a cell: network diagrams (SVG), the doctor's reports (HTML, each naming
#: its findings in the notebook's language) and the playground (an iframe).
SHOWN = {
    "02": {"figures": 2},
    "03": {"figures": 4, "diagrams": 1, "doctor": [{"vanishing"}, {"exploding"}]},
    "05": {"figures": 4},
    "06": {"figures": 3},
    "07": {"figures": 2, "diagrams": 1, "playgrounds": 1},
    "08": {"figures": 2},
}
#: The doctor's name of a finding, as the Portuguese report writes it.
KIND_PT = {"vanishing": "gradiente desaparecendo", "exploding": "gradiente explodindo"}
#: The playground's iframe: the page of a loopback server, with the launch token.
IFRAME = re.compile(r'<iframe src="http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{32,})[&"]')


def test_every_notebook_has_a_probe_and_a_pair():
    assert sorted(PROBES) == sorted(name[:2] for name, _ in PAIRS) == sorted(SHOWN)
    assert len(FILES) == 2 * len(PAIRS) >= 12


def test_committed_notebooks_are_what_the_generator_writes():
    """Regenerating from scripts/notebooks/*.py gives the committed bytes: EN and PT
    cannot drift apart, and nobody edits an .ipynb by hand."""
    expected = make_notebooks.targets()
    committed = sorted(NOTEBOOKS.glob("*/*.ipynb"))
    assert committed == sorted(expected)
    for path, text in expected.items():
        assert path.read_text("utf-8") == text, f"{path.relative_to(ROOT)} is out of date"


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_committed_notebook_has_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("pair", PAIRS, ids=[p[0] for p in PAIRS])
def test_english_and_portuguese_notebooks_have_the_same_cells(pair):
    en, pt = (
        nbformat.read(NOTEBOOKS / lang / f"{n}.ipynb", 4)
        for lang, n in zip(LANGS, pair, strict=True)
    )
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in pt.cells]
    assert _parameter_names(en) == _parameter_names(pt)
    assert [c.source for c in en.cells if c.cell_type == "markdown"] != [
        c.source for c in pt.cells if c.cell_type == "markdown"
    ]


def _parameter_names(nb) -> list[list[str]]:
    """The names each parameters cell sets (a student changes these), in order."""
    cells = [c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return [[line.split("=")[0].strip() for line in s.splitlines() if "=" in line] for s in cells]


def _execute(path: Path, cwd: Path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(path, as_version=4)
    probe, check = PROBES[path.stem[:2]]
    nb.cells.append(nbformat.v4.new_code_cell(f"import json\nprint(json.dumps({probe}))"))
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return nb, check


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_notebook_runs_and_computes_what_it_teaches(path, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")  # the kernel inherits it
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb, check = _execute(path, tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"the notebook wrote to stderr (a warning?): {stderr}"
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
    values = json.loads(nb.cells[-1].outputs[0].text)
    assert check(values), values
    shown = SHOWN[path.stem[:2]]
    assert len(images) == shown["figures"], f"{len(images)} figures shown inline"
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    _check_rich_outputs(html, shown, nb.metadata["mlplab"]["lang"])
    if path.stem.startswith("07"):
        _check_export_cell(nb)


def _check_rich_outputs(html: list[str], shown: dict, lang: str) -> None:
    """The diagrams, the doctor's reports and the playground that the notebook shows."""
    diagrams = [h for h in html if 'class="mlplab-network" width=' in h]
    assert len(diagrams) == shown.get("diagrams", 0)
    for svg in diagrams:  # nodes, bias inputs, weights coloured by sign, the parameter count
        assert '<circle class="bias"' in svg and '<line class="w"' in svg
        assert 'stroke="#2166ac"' in svg and 'stroke="#e08214"' in svg
        assert re.search(r'data-params="\d+"', svg)
    reports = [h for h in html if 'class="mlplab-diagnosis"' in h]
    assert len(reports) == len(shown.get("doctor", []))
    for report, kinds in zip(reports, shown.get("doctor", []), strict=True):
        found = set(re.findall(r'<tr class="finding (\w+)">', report))
        assert found == kinds, found
        for kind in kinds:  # the finding's name, as the reader's language writes it
            assert f"<td {_CELL}>{KIND_PT[kind] if lang == 'pt' else kind}</td>" in report
        assert ("Remédio" in report) == (lang == "pt") and "<details>" in report
    frames = [m for h in html for m in IFRAME.finditer(h)]
    assert len(frames) == shown.get("playgrounds", 0), html[-1][:300]
    for frame in frames:
        assert f"lang={lang}" in frame.string
        # the server lived in the kernel: it stopped when the kernel did
        port = int(frame.group(1))
        deadline = time.monotonic() + 10
        while not _port_is_closed(port):
            assert time.monotonic() < deadline, f"the playground still serves on {port}"
            time.sleep(0.1)


_CELL = 'style="padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"'


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _check_export_cell(nb) -> None:
    """§7's export cell prints the XOR network as a torch module (when torch is installed)."""
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "mlplab.to_torch(" in c.source]
    text = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    if importlib.util.find_spec("torch") is None:
        assert "pip install torch" in text
    else:
        assert "(0): Linear(in_features=2, out_features=2, bias=True)" in text
        assert "(2): Linear(in_features=2, out_features=1, bias=True)" in text
