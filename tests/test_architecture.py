"""The shape of the code, kept by tools rather than by memory.

* Layers import only downward: import-linter's ``layers`` contract in pyproject.toml
  (cli > web | experiments | export > sklearn | teaching > network > diagnostics >
  training > display > recurrent > layers > the core modules).
* No module imports another module's underscore name (``from x import _y``): a name
  another module uses is public.
* Every module fits in a reader's head (at most ~800 lines), and a function longer
  than 80 lines (its docstring aside) says why in a comment on its first lines.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mlplab"
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_layers_import_only_downward():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (it is in the test extra)")
    res = subprocess.run(
        [exe, str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": str(Path(sys.executable).parent)},
    )
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "1 kept, 0 broken" in res.stdout


def _private_imports(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        ours = isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith("mlplab")
        )
        if ours:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    out.append(f"{path.relative_to(SRC)}:{node.lineno} imports {alias.name}")
    return out


def test_no_module_imports_another_modules_private_name():
    found = [hit for path in _modules() for hit in _private_imports(path)]
    assert found == []


def test_the_private_import_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from mlplab.clipping import _row_norms\nfrom .x import _y\n")
    assert len(_private_imports_at(bad)) == 2


def _private_imports_at(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            out += [a.name for a in node.names if a.name.startswith("_")]
    return out


def test_modules_fit_in_a_readers_head():
    long = {
        str(p.relative_to(SRC)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


def _long_functions(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    out = []
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            doc = node.body[0]  # a docstring documents: it does not count as code
            if isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant):
                n -= doc.end_lineno - doc.lineno + 1
            if n <= MAX_FUNCTION_LINES:
                continue
            head = "\n".join(lines[node.lineno - 1 : node.lineno + 12])
            if "long on purpose" not in head:
                out.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    return out


def test_long_functions_say_why():
    found = [hit for path in _modules() for hit in _long_functions(path)]
    assert found == []
