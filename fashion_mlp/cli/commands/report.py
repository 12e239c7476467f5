"""`fashion-mlp report RUN`: rebuild a run's self-contained report.html (and its figures)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    """Write the report and print where it is."""
    if args.figures:
        from fashion_mlp.experiment import draw_figures

        draw_figures(args.run)
    from fashion_mlp.reports.run_page import write_run_page
    from fashion_mlp.runs import RunDir

    run = RunDir(args.run)
    with run.lock():
        print(write_run_page(run))
    return 0
