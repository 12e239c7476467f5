"""`fashion-mlp compare RUN RUN ...`: the settings that differ between runs, and their metrics."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the `compare` subcommand."""
    parser = subparsers.add_parser(
        "compare",
        help="compare runs: differing settings and metrics",
        description="Print a table of the settings that differ between the runs and each run's "
        "test accuracy, test loss, epochs and training seconds.",
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN", help="two or more run directories to compare"
    )
    parser.add_argument(
        "--html", metavar="FILE", help="also write a self-contained comparison page (default: none)"
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="also write the runs' validation curves overlaid, as PNG (default: none)",
    )
    parser.set_defaults(handler=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    """Load the runs, print the table, write the optional page and plot."""
    from rich.console import Console  # deferred: keeps `fashion-mlp --help` fast
    from rich.table import Table
    from rich.text import Text

    from fashion_mlp.compare import (
        METRIC_COLUMNS,
        comparison_html,
        differing_settings,
        load_run_summary,
        run_metrics,
        validation_curves_figure,
    )
    from fashion_mlp.figures import save_figure
    from fashion_mlp.report import format_value

    runs = [load_run_summary(run) for run in args.runs]
    settings = differing_settings(runs)
    table = Table(title=f"{len(runs)} runs compared")
    table.add_column("setting / metric")
    for run in runs:
        table.add_column(Text(run.name), justify="right")
    for key, values in settings.items():
        table.add_row(Text(key), *(Text(format_value(value)) for value in values))
    if not settings:
        table.add_row("(no setting differs)", *("" for _ in runs))
    table.add_section()
    metrics = [run_metrics(run) for run in runs]
    for column in METRIC_COLUMNS:
        table.add_row(column, *(format_value(row[column]) for row in metrics))
    console = Console()
    console.print(table)
    if args.html:
        console.print(f"comparison page: {comparison_html(runs, args.html)}")
    if args.plot:
        console.print(
            f"validation curves: {save_figure(validation_curves_figure(runs), args.plot)}"
        )
    return 0
