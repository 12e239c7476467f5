"""`fashion-mlp runs`: the runs in a runs folder as a sortable table (or JSON)."""

from __future__ import annotations

import argparse
import json

from fashion_mlp.cli.tables import console, runs_table
from fashion_mlp.runs import list_runs


def run(args: argparse.Namespace) -> int:
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
