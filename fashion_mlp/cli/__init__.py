"""The `fashion-mlp` command: parses flags into library calls; no logic of its own.

Each subcommand is a module in this package with `register(subparsers)`, which adds its parser
and sets `handler(args) -> int` as the parser's default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from fashion_mlp import __version__
from fashion_mlp.errors import FashionMLPError

COMMANDS = (  # module names under fashion_mlp.cli, in --help order
    "data", "summary", "train", "evaluate", "predict", "runs", "report", "compare",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="fashion-mlp",
        description="Train, evaluate, explain and serve MLP classifiers on Fashion-MNIST.",
    )
    parser.add_argument("--version", action="version", version=f"fashion-mlp {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show full tracebacks on errors (default: off)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"fashion_mlp.cli.{name}").register(subparsers)
    for subparser in subparsers.choices.values():  # --debug also after the command's name
        subparser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                               help="show full tracebacks on errors (default: off)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a command that stopped reading (e.g. head)
        sys.stderr.close()
        return 0
    except (FashionMLPError, OSError) as error:
        if args.debug:
            traceback.print_exc()
        else:
            print(f"error: {error}", file=sys.stderr)
            print("(run with --debug for the full traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
