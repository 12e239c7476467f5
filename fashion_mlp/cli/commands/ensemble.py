"""`fashion-mlp ensemble RUN...`: average finished runs into one ensemble run."""

from __future__ import annotations

import argparse

from fashion_mlp.cli.tables import compact_table, console, metrics_table
from fashion_mlp.ensembles import build_ensemble


def run(args: argparse.Namespace) -> int:
    out = console()
    result = build_ensemble(args.runs, args.runs_dir, name=args.name, mirror=args.mirror)
    metrics = result.metrics
    ensemble = metrics["ensemble"]
    members = compact_table(title="Members")
    for header in ("run", "val acc", "test acc"):
        members.add_column(header, justify="left" if header == "run" else "right")
    for member in ensemble["members"]:
        validation = member["val_accuracy"]
        members.add_row(
            member["run"],
            "" if validation is None else f"{validation:.2%}",
            f"{member['test_accuracy']:.2%}",
        )
    out.print(members)
    out.print(metrics_table(metrics))
    gain = metrics["test_accuracy"] - ensemble["mean_member_test_accuracy"]
    out.print(
        f"ensemble test accuracy {metrics['test_accuracy']:.2%}, members' mean "
        f"{ensemble['mean_member_test_accuracy']:.2%} ({gain:+.2%})"
    )
    out.print(f"run folder: {result.run_dir}", soft_wrap=True)
    return 0
