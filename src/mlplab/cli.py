"""The ``mlplab`` command: ``list``, ``run NAME``, ``tour``, ``serve``, ``info FILE``.

Usage errors exit with status 2 and a one-line message; other failures exit 1
with a one-line message (the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlplab._version import __version__


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line of usage, one line of error, exit 2
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _option(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is JSON when it parses (3, 0.5, true, [4, 2]), else text."""
    key, sep, value = text.partition("=")
    if not sep or not key.isidentifier():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 0..65535 (0: any free port), got {value}")
    return value


def _directory(text: str) -> str:
    if not text or "\x00" in text:  # the OS would refuse it later, with no argument named
        raise argparse.ArgumentTypeError(f"expected a directory path, got {text!r}")
    return text


def _file(text: str) -> str:
    if not text or "\x00" in text:
        raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    from mlplab.experiments import EXPERIMENTS, LANGS

    # --debug, defined once, is accepted before and after the subcommand: SUPPRESS keeps a
    # subcommand's parser from resetting a `mlplab --debug ...` to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    p = _Parser(
        prog="mlplab",
        description="mlplab: the multilayer perceptron from first principles; every claim of "
        "the lecture as a measured experiment with its figure.",
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"mlplab {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    sub.add_parser("list", help="list the experiments, one line each", parents=[common])
    run = sub.add_parser("run", help="run one experiment", parents=[common])
    run.add_argument(
        "name", choices=sorted(EXPERIMENTS), metavar="NAME", help="experiment (see `mlplab list`)"
    )
    run.add_argument(
        "--set",
        dest="options",
        action="append",
        type=_option,
        default=[],
        metavar="KEY=VALUE",
        help="an experiment option, e.g. --set hidden=3 (repeatable; `mlplab list -v` shows them)",
    )
    tour = sub.add_parser(
        "tour",
        help="run every experiment in the lecture's order, write the report",
        parents=[common],
    )
    for sp in (run, tour):
        sp.add_argument(
            "--out",
            type=_directory,
            default="mlplab-report",
            help="output directory (default: %(default)s)",
        )
        sp.add_argument("--seed", type=_seed, default=0, help="random seed (default: %(default)s)")
        sp.add_argument("--quick", action="store_true", help="smaller runs, for a fast look")
        sp.add_argument("--lang", choices=LANGS, default="en", help="report language (default: en)")
    _serve_arguments(
        sub.add_parser(
            "serve",
            help="start the playground: a local web app that trains networks as you watch",
            parents=[common],
        ),
        LANGS,
    )
    info = sub.add_parser(
        "info",
        help="describe a model file written by mlplab.save (never runs code from it)",
        parents=[common],
    )
    info.add_argument("path", type=_file, metavar="FILE", help="an .mlplab model file")
    lst = sub.choices["list"]
    lst.add_argument("-v", "--verbose", action="store_true", help="show each experiment's options")
    return p


def _serve_arguments(serve: argparse.ArgumentParser, langs: Sequence[str]) -> None:
    """The options of ``mlplab serve`` (the time limits' defaults are the server's own)."""
    from mlplab.web.config import SERVER_LIMITS

    serve.add_argument(
        "--port", type=_port, default=8000, help="port (default: %(default)s; 0: any free port)"
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: %(default)s, this machine only; "
        "anything else is reachable from the network and logs a warning)",
    )
    serve.add_argument("--open", action="store_true", help="open the page in the web browser")
    serve.add_argument("--lang", choices=langs, default="en", help="page language (default: en)")
    serve.add_argument(
        "--max-train-seconds",
        type=_seconds,
        default=float(SERVER_LIMITS["train_seconds"]),
        metavar="S",
        help="one run of play pauses after S seconds of training (default: %(default)g)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=float(SERVER_LIMITS["idle_seconds"]),
        metavar="S",
        help="a session with no activity for S seconds is deleted (default: %(default)g)",
    )
    serve.add_argument(
        "--max-training",
        type=_count,
        default=int(SERVER_LIMITS["running_sessions"]),
        metavar="N",
        help="at most N sessions train at once (default: %(default)s)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mlplab`` console script."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("mlplab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line unless --debug
        if getattr(args, "debug", False):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"mlplab: error: {message}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "info":
        print(describe_file(args.path))
        return 0
    from mlplab.experiments import run_experiment, tour_order
    from mlplab.experiments.report import write_report

    if args.command == "list":
        exps = tour_order()
        width = max(len(e.name) for e in exps)
        for exp in exps:
            print(f"{exp.name:<{width}}  §{exp.section}  {exp.title['en']}")
            if args.verbose and exp.options:
                opts = ", ".join(f"{k}={json.dumps(v)}" for k, v in exp.options.items())
                print(f"{'':<{width}}      options: {opts}")
        return 0
    if args.command == "run":
        record = run_experiment(
            args.name,
            args.out,
            seed=args.seed,
            quick=args.quick,
            lang=args.lang,
            **dict(args.options),
        )
        _print_record(record, args.out)
        page = write_report(args.out, [record], lang=args.lang, dest=Path(args.out) / args.name)
        print(f"page: {page}")
        return 0
    records = []
    exps = tour_order()
    bar = _progress(len(exps))
    for exp in exps:
        if bar is not None:
            bar.set_description(exp.name)
        record = run_experiment(
            exp.name, args.out, seed=args.seed, quick=args.quick, lang=args.lang
        )
        records.append(record)
        if bar is not None:
            bar.update(1)
        _print_record(record, args.out)
    if bar is not None:
        bar.close()
    index = write_report(args.out, records, lang=args.lang)
    print(f"report: {index}")
    return 0


def describe_file(path: str) -> str:
    """What ``mlplab info`` prints: the object in a model file, checked and loaded by
    ``mlplab.load`` (a pickle, a joblib dump or a damaged file is refused, one line)."""
    from mlplab.io import ModelFormatError, load, load_with_resume

    obj = load(path)
    lines = [f"{path}: {type(obj).__module__.split('.')[0]}.{type(obj).__name__}"]
    net = getattr(obj, "net_", obj)
    if hasattr(obj, "get_params"):
        default = type(obj)().get_params()
        changed = {k: v for k, v in obj.get_params().items() if repr(v) != repr(default[k])}
        lines.append(f"  parameters: {changed or 'the defaults'}")
        for name in ("n_features_in_", "classes_", "n_iter_", "loss_"):
            if hasattr(obj, name):
                value = getattr(obj, name)
                lines.append(f"  {name}: {value.tolist() if name == 'classes_' else value}")
    if hasattr(net, "summary"):
        lines += ["  " + line for line in net.summary().splitlines()]
    if getattr(net, "optimizer", None) is not None:
        lines.append(f"  optimizer: {net.optimizer!r}, step {net.optimizer.t}")
    try:
        _, resume, _ = load_with_resume(path)
    except ModelFormatError:  # a plain model file: no resume state
        resume = None
    if resume is not None:
        lines.append(
            f"  checkpoint: {resume.get('epoch', -1) + 1} epochs done; "
            "continue with fit(..., resume_from=FILE)"
        )
    return "\n".join(lines)


def _serve(args: argparse.Namespace) -> int:
    try:  # lazy: `mlplab list` and friends never import FastAPI
        from mlplab.web import server
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"the playground needs FastAPI and uvicorn ({exc}); pip install fastapi uvicorn"
        ) from exc
    limits = {
        "train_seconds": args.max_train_seconds,
        "idle_seconds": args.idle_timeout,
        "running_sessions": args.max_training,
    }
    server.serve(
        host=args.host, port=args.port, open_browser=args.open, lang=args.lang, limits=limits
    )
    return 0


def _progress(total: int):
    from mlplab.display import progress_bar

    return progress_bar(total, "experiment")


def _print_record(record: dict[str, Any], out: str) -> None:
    """One line of what the experiment measured (its headline), its time and its files."""
    from mlplab.experiments.report import result_line
    from mlplab.i18n import T

    name = record["experiment"]
    text = result_line(record, T(record["lang"]))
    print(f"[{name}] {text}  ({record['seconds']:.1f} s) -> {out}/{name}/")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
