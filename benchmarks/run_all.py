"""Every benchmark in one command: core, estimators, diagnostics, recurrent, search, playground.

    python benchmarks/run_all.py            # full runs (≈ 15 minutes; scikit-learn's x² grid
                                            # alone takes ~3 of them), JSON into results/
    python benchmarks/run_all.py --quick    # smoke runs, ≈ 1 minute

Each script runs in its own process (so BLAS thread settings and imports do not leak between
them), prints its tables, and writes ``benchmarks/results/NAME.json``; at the end this prints
one line per script with its status and wall time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("core", "sklearn", "diagnostics", "recurrent", "search", "playground")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke runs of every benchmark")
    ap.add_argument("--only", choices=SCRIPTS, action="append", help="run these (repeatable)")
    args = ap.parse_args(argv)
    rows = []
    for name in args.only or SCRIPTS:
        out = HERE / "results" / f"{name}{'.quick' if args.quick else ''}.json"
        cmd = [sys.executable, str(HERE / f"bench_{name}.py"), "--json", str(out)]
        if args.quick:
            cmd.append("--quick")
        print(f"\n# bench_{name}.py{' --quick' if args.quick else ''}\n", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call(cmd)
        rows.append((name, code, time.perf_counter() - t0, out))
    print("\n| benchmark | status | wall s | JSON |\n|---|---|---|---|")
    for name, code, seconds, out in rows:
        status = "ok" if code == 0 else f"exit {code}"
        print(f"| bench_{name}.py | {status} | {seconds:.0f} | {out.relative_to(HERE.parent)} |")
    return max((code for _, code, _, _ in rows), default=0)


if __name__ == "__main__":
    raise SystemExit(main())
