"""Scaffolding shared by the benchmark scripts (bench_core, bench_sklearn, bench_diagnostics).

The scripts run as ``python benchmarks/bench_X.py``, so this folder is on ``sys.path`` and
they import it as ``from _common import ...``.  It holds what was the same in all three:
the ERRORS/NOTES/DEADLINE records, the import of this checkout's mlplab, machine facts,
the statistics and Markdown helpers, atomic JSON writing and the start/end of ``main()``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

try:
    from threadpoolctl import ThreadpoolController, threadpool_info  # noqa: F401 - re-exported
except ImportError:  # pragma: no cover - threadpoolctl is a hard requirement here
    sys.exit(f"{Path(sys.argv[0]).name} needs threadpoolctl (pip install threadpoolctl)")

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"

ERRORS: list[str] = []  # mlplab failures (make the exit status 1)
NOTES: list[str] = []  # things worth knowing that are not failures
DEADLINE: list[float | None] = [None]  # perf_counter() after which rounds are cut (--quick)

#: the threadpoolctl fields kept for each BLAS library (bench_core, bench_sklearn)
BLAS_KEYS = (
    "internal_api",
    "prefix",
    "version",
    "architecture",
    "threading_layer",
    "num_threads",
    "filepath",
)


# ----------------------------------------------------------------------------------------
# mlplab from this checkout
# ----------------------------------------------------------------------------------------
def import_mlplab(check=None):
    """Import mlplab from this checkout (src layout) first; return (module, error).

    ``check(mlplab)`` may raise to say the module is not usable yet (the feature under
    test is missing); any failure gives ``(None, "ExcType: message")``.
    """
    if SRC.is_dir() and str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    try:
        import mlplab

        if check is not None:
            check(mlplab)
        return mlplab, None
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return None, f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------
def median(xs):
    return float(np.median(xs)) if len(xs) else float("nan")


def pct(xs, q):
    return float(np.percentile(xs, q)) if len(xs) else float("nan")


def summary(xs):
    xs = [float(x) for x in xs]
    return {
        "median": median(xs),
        "p25": pct(xs, 25),
        "p75": pct(xs, 75),
        "min": min(xs) if xs else float("nan"),
        "n": len(xs),
        "samples": xs,
    }


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def record_error(where, exc):
    msg = f"{where}: {type(exc).__name__}: {exc}"
    ERRORS.append(msg)
    print(f"[error] {msg}", file=sys.stderr)
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


# ----------------------------------------------------------------------------------------
# machine facts
# ----------------------------------------------------------------------------------------
def cpu_name():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu


def usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count()


def loadavg():
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def blas_libs(keys=BLAS_KEYS):
    return [{k: lib.get(k) for k in keys} for lib in threadpool_info() if lib["user_api"] == "blas"]


def machine_facts(mlplab, unusable, versions=(), blas_keys=BLAS_KEYS, with_usable=True):
    """The facts common to the benchmarks, in their JSON order.

    ``unusable`` stands in the "mlplab" field when mlplab is None; ``versions`` (pairs)
    come after numpy's version; ``with_usable`` adds the cores this process may use.
    """
    facts = {"cpu": cpu_name(), "logical_cores": os.cpu_count()}
    if with_usable:
        facts["usable_cores"] = usable_cores()
    facts.update(
        {
            "loadavg_at_start": loadavg(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        }
    )
    facts.update(dict(versions))
    facts["mlplab"] = getattr(mlplab, "__version__", "?") if mlplab else unusable
    facts["mlplab_path"] = getattr(mlplab, "__file__", None) if mlplab else None
    facts["blas"] = blas_libs(blas_keys)
    return facts


def print_facts_head(f, versions_line):
    """ "## Machine", the CPU line, ``versions_line`` and the mlplab line."""
    print("## Machine")
    la = f["loadavg_at_start"]
    usable = f" ({f['usable_cores']} usable)" if "usable_cores" in f else ""
    print(
        f"- CPU: {f['cpu']}, {f['logical_cores']} logical cores{usable}"
        + (f", load average at start {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}" if la else "")
    )
    print(f"- {f['platform']}; Python {f['python']}, {versions_line}")
    print(f"- mlplab {f['mlplab']}" + (f" from {f['mlplab_path']}" if f["mlplab_path"] else ""))


def print_blas(libs):
    """One line per BLAS library (the fields of BLAS_KEYS)."""
    for lib in libs:
        where = (
            "numpy"
            if "numpy" in (lib["filepath"] or "")
            else Path(lib["filepath"] or "?").parent.name
        )
        print(
            f"- BLAS (threadpoolctl): {lib['internal_api']} {lib['version']} "
            f"[{lib['architecture']} kernels, {lib['threading_layer']}], "
            f"{lib['num_threads']} threads by default, loaded by {where}"
        )


# ----------------------------------------------------------------------------------------
# JSON
# ----------------------------------------------------------------------------------------
def json_safe(obj):
    """Strict JSON: NaN/inf become null (json.dump would write the non-standard NaN)."""
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else None
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return json_safe(obj.item())
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def write_json_atomic(path, obj):
    obj = json_safe(obj)
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(obj, fh, indent=2, allow_nan=False, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# ----------------------------------------------------------------------------------------
# main(): start and end
# ----------------------------------------------------------------------------------------
def base_parser(doc, quick_s, only_choices, only_help):
    """The options every benchmark has: --quick, --json PATH, --only."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help=f"fewer repetitions (smoke test, < {quick_s} s)"
    )
    ap.add_argument("--json", metavar="PATH", help="also write the figures as JSON (atomically)")
    ap.add_argument("--only", choices=only_choices, help=only_help)
    return ap


def start(quick, quick_cfg, full_cfg):
    """Return (t_start, cfg); with a time budget in cfg, set DEADLINE."""
    t_start = time.perf_counter()
    cfg = dict(quick_cfg if quick else full_cfg)
    if cfg["budget_s"] is not None:
        DEADLINE[0] = t_start + cfg["budget_s"]
    return t_start, cfg


def freeze_gc():
    """Move everything imported so far out of the collector's reach: a full gc.collect()
    then costs µs (run_interleaved collects before every timed block)."""
    gc.collect()
    gc.freeze()


def finish(results, t_start, json_path, load_at_end=None):
    """Record notes, errors and wall time, print them, write the JSON; return the exit status.

    ``load_at_end``: None (not printed), "line" (a line of its own before the notes) or
    "wall" (in the closing wall-time line).
    """
    results["notes"], results["errors"] = NOTES, ERRORS
    results["wall_s"] = time.perf_counter() - t_start
    gc.unfreeze()
    if hasattr(os, "getloadavg"):
        results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    la = results["machine"].get("loadavg_at_end")
    if load_at_end == "line" and la:
        print(f"Load average at end {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}.")
    if NOTES:
        print("Notes:\n" + "\n".join(f"- {n}" for n in NOTES) + "\n")
    if ERRORS:
        print("Errors:\n" + "\n".join(f"- {e}" for e in ERRORS) + "\n")
    print(
        f"Total wall time {results['wall_s']:.1f} s"
        + (
            f"; load average at end {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}"
            if load_at_end == "wall" and la
            else ""
        )
        + "."
    )
    if json_path:
        write_json_atomic(json_path, results)
        print(f"JSON written to {json_path}")
    return 1 if ERRORS else 0
