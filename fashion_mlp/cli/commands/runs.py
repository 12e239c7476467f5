"""`fashion-mlp runs`: the runs in a runs folder as a sortable table (or JSON)."""

from __future__ import annotations

import argparse
import json

from fashion_mlp.cli.tables import console, runs_table
from fashion_mlp.runs import list_runs


def run(args: argparse.Namespace) -> int:
    if args.to_mlflow is not None:
        return to_mlflow(args)
    rows = list_runs(args.runs_dir, args.sort, args.descending)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    out = console()
    if not rows:
        out.print(f"no runs in {args.runs_dir}; start one with `fashion-mlp train`")
        return 0
    out.print(runs_table(rows, f"runs in {args.runs_dir}"))
    for row in rows:
        if row["status"] == "damaged":
            out.print(f"damaged: {row['name']}: {row['problem']}", soft_wrap=True)
        elif row.get("note"):
            out.print(f"{row['name']}: {row['note']}", soft_wrap=True)
    return 0


def to_mlflow(args: argparse.Namespace) -> int:
    """Log the finished runs that MLflow does not hold yet; say how many were skipped."""
    from fashion_mlp.tracking import export_runs, open_store

    store = open_store(args.to_mlflow or None)
    logged, skipped = export_runs(store, args.runs_dir)
    for name in logged:
        print(f"logged {name}")
    print(
        f"{len(logged)} runs logged to {store.uri} (experiment 'fashion-mlp'), {len(skipped)} "
        "skipped (already logged or unfinished)"
    )
    return 0
