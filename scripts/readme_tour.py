"""Write the README's tour table from a run of ``mlplab tour``, so that it cannot drift.

    mlplab tour --out mlplab-report            # the full run, seed 0
    python scripts/readme_tour.py mlplab-report          # rewrites README.md and docs/tour-run.json
    python scripts/readme_tour.py mlplab-report --check  # exit 1 if README.md differs

The table (between the markers in README.md) gives each experiment's headline: what it
measured and whether the lecture's claim held. ``docs/tour-run.json`` keeps the run's
headlines, so the test suite checks that the README's table is the one this script writes
from them. A quick run (``--quick``) is refused unless ``--allow-quick`` (CI uses it on
its quick run, writing to a copy of the README).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mlplab.experiments import tour_order
from mlplab.experiments.report import replace_table, run_summary, tour_table
from mlplab.io import atomic_write

ROOT = Path(__file__).resolve().parent.parent


def load_run(run_dir: Path) -> list[dict]:
    """The run's metrics.json records, in the lecture's order; every experiment present."""
    order = [e.name for e in tour_order()]
    records = {}
    for path in sorted(run_dir.glob("*/metrics.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["experiment"]] = record
    missing = [name for name in order if name not in records]
    if missing:
        raise SystemExit(f"{run_dir}: no metrics.json for {', '.join(missing)}; run mlplab tour")
    return [records[name] for name in order]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path, help="the --out directory of mlplab tour")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--summary", type=Path, default=ROOT / "docs" / "tour-run.json")
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if it differs")
    parser.add_argument("--allow-quick", action="store_true")
    args = parser.parse_args(argv)
    records = load_run(args.run_dir)
    if any(r["quick"] for r in records) and not args.allow_quick:
        parser.error(f"{args.run_dir} is a quick run (--quick); the README shows the full run")
    if any(r["lang"] != "en" for r in records):
        parser.error(f"{args.run_dir} is not in English (--lang en); the README is")
    readme = args.readme.read_text(encoding="utf-8")
    new = replace_table(readme, tour_table(run_summary(records)))
    if args.check:
        if new != readme:
            print(f"{args.readme}: the tour table differs from {args.run_dir}'s", file=sys.stderr)
            return 1
        return 0
    atomic_write(str(args.readme), new.encode("utf-8"))
    text = json.dumps(run_summary(records), indent=1, ensure_ascii=False) + "\n"
    atomic_write(str(args.summary), text.encode("utf-8"))
    print(f"wrote the tour table into {args.readme} and the run's headlines into {args.summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
