"""`fashion-mlp runs`: the runs in a runs folder as a sortable table."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fashion_mlp.runs import RUN_COLUMNS, list_runs


def register(subparsers) -> None:
    parser = subparsers.add_parser("runs", help="list the runs as a table",
                                   description="List the runs in the runs folder.")  # fmt: skip
    parser.add_argument("--runs-dir", type=Path, default=Path("runs"),
                        help="folder that holds the run folders (default: runs)")  # fmt: skip
    parser.add_argument("--sort", choices=RUN_COLUMNS, default="date",
                        help="column to sort by (default: date)")  # fmt: skip
    parser.add_argument("--descending", action="store_true",
                        help="largest first (default: smallest first)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON (default: a table)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    rows = list_runs(args.runs_dir, args.sort, args.descending)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    console = Console()
    if not rows:
        console.print(f"no runs in {args.runs_dir}; start one with `fashion-mlp train`")
        return 0
    table = Table(title=f"runs in {args.runs_dir}")
    for column in (*RUN_COLUMNS, "status"):
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        accuracy = row["test_accuracy"]
        seconds = row["train_seconds"]
        table.add_row(
            row["name"], row["date"], row["architecture"], str(row["epochs"] or ""),
            "" if accuracy is None else f"{accuracy:.2%}",
            "" if seconds is None else f"{seconds:.1f}", row["status"],
        )  # fmt: skip
    console.print(table)
    return 0
