"""`fashion-mlp evaluate RUN`: re-evaluate a saved model on its test set or another data set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from fashion_mlp.cli.data import add_data_arguments


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="re-evaluate a run's model on the test set",
        description="Load a run's model and print its test accuracy, loss and per-class scores "
        "on the run's own test set, or on another MNIST-format data set's (--data).",
    )  # fmt: skip
    parser.add_argument("run_dir", type=Path, metavar="RUN", help="the run folder")
    add_data_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from fashion_mlp.evaluation import format_report
    from fashion_mlp.experiment import evaluate_run

    metrics = evaluate_run(args.run_dir, args.data_name, args.data_dir)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        Console().print(format_report(metrics))
    return 0
