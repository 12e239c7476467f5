"""`fashion-mlp calibrate RUN`: fit a run's temperature and show what it changed."""

from __future__ import annotations

import argparse
import json

from fashion_mlp.cli.tables import calibration_table, console
from fashion_mlp.experiment import calibrate_run


def run(args: argparse.Namespace) -> int:
    record = calibrate_run(args.run_dir, args.split)
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    fitted_on = record["fitted_on"]
    out = console()
    out.print(calibration_table(record["temperature"], record["scores"]))
    note = " (optimistic: the model trained on them)" if fitted_on["optimistic"] else ""
    out.print(
        f"fitted on {fitted_on['images']:,} {fitted_on['split']} images{note}; "
        f"written: {args.run_dir / 'calibration.json'}",
        soft_wrap=True,
    )
    return 0
