"""The ``mlplab`` command: ``list``, ``run NAME``, ``tour``.

Usage errors exit with status 2 and a one-line message; other failures exit 1
with a one-line message (the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__


def _parser() -> argparse.ArgumentParser:
    from .experiments import EXPERIMENTS

    p = argparse.ArgumentParser(
        prog="mlplab",
        description="mlplab: the multilayer perceptron from first principles, "
        "every claim of the lecture as a measured experiment.",
    )
    p.add_argument("--version", action="version", version=f"mlplab {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the experiments, one line each")
    run = sub.add_parser("run", help="run one experiment")
    run.add_argument(
        "name",
        choices=sorted(EXPERIMENTS),
        metavar="NAME",
        help="experiment name (see `mlplab list`)",
    )
    tour = sub.add_parser("tour", help="run every experiment, in the lecture's order")
    for sp in (run, tour):
        sp.add_argument(
            "--out", default="mlplab-report", help="output directory (default: %(default)s)"
        )
        sp.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
        sp.add_argument("--quick", action="store_true", help="smaller data, for a fast look")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlplab`` console script."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("mlplab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line unless --debug
        if args.debug:
            raise
        print(f"mlplab: error: {exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from .experiments import EXPERIMENTS, run_experiment

    if args.command == "list":
        width = max(map(len, EXPERIMENTS))
        for exp in EXPERIMENTS.values():
            print(f"{exp.name:<{width}}  {exp.summary}")
        return 0
    names = [args.name] if args.command == "run" else list(EXPERIMENTS)
    if args.seed < 0:
        print("mlplab: error: --seed must be >= 0", file=sys.stderr)
        return 2
    for name in names:
        record = run_experiment(name, args.out, seed=args.seed, quick=args.quick)
        shown = {k: v for k, v in record["metrics"].items() if isinstance(v, (int, float))}
        text = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items()
        )
        print(f"[{name}] {text}  ({record['seconds']:.1f} s) -> {args.out}/{name}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
