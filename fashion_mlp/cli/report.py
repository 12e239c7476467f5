"""`fashion-mlp report RUN`: rebuild a run's self-contained report.html from the files in it."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add the `report` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="rebuild a run's report.html",
        description="Rebuild RUN/report.html from the run's config, metrics, history, summary "
        "and figures (nothing else is regenerated) and print its path.",
    )
    parser.add_argument("run", metavar="RUN", help="run directory, e.g. runs/<timestamp>-<name>")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    """Write the report and print where it is."""
    from fashion_mlp.report import build_report  # deferred: keeps `fashion-mlp --help` fast

    print(build_report(args.run))
    return 0
