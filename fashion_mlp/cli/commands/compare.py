"""`fashion-mlp compare RUN RUN ...`: the settings that differ between runs, and their metrics."""

from __future__ import annotations

import argparse

from rich.text import Text

from fashion_mlp.cli.tables import compact_table, console
from fashion_mlp.reports.compare import (
    METRIC_COLUMNS,
    comparison_html,
    differing_settings,
    load_compared_run,
    run_metrics,
    validation_curves_figure,
)
from fashion_mlp.reports.figures import save_figure
from fashion_mlp.reports.html import format_value


def run(args: argparse.Namespace) -> int:
    """Load the runs, print the table, write the optional page and plot."""
    runs = [load_compared_run(run_dir) for run_dir in args.runs]
    settings = differing_settings(runs)
    table = compact_table(title=f"{len(runs)} runs compared")
    keys = [*settings, *METRIC_COLUMNS, "setting / metric"]
    table.add_column("setting / metric", no_wrap=True, min_width=max(map(len, keys)))  # whole
    for compared in runs:
        table.add_column(Text(compared.name), justify="right", overflow="fold")
    for key, values in settings.items():
        table.add_row(Text(key), *(Text(format_value(value)) for value in values))
    if not settings:
        table.add_row("(no setting differs)", *("" for _ in runs))
    table.add_section()
    metrics = [run_metrics(compared) for compared in runs]
    for column in METRIC_COLUMNS:
        table.add_row(column, *(format_value(row[column]) for row in metrics))
    out = console()
    out.print(table)
    if args.html:
        out.print(f"comparison page: {comparison_html(runs, args.html)}", soft_wrap=True)
    if args.plot:
        plot = save_figure(validation_curves_figure(runs), args.plot)
        out.print(f"validation curves: {plot}", soft_wrap=True)
    return 0
