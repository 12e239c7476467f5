"""`fashion-mlp evaluate RUN`: re-evaluate a saved model on its test set or another data set,
with its calibration raw and calibrated."""

from __future__ import annotations

import argparse
import json

from fashion_mlp.cli.tables import calibration_table, console, metrics_table
from fashion_mlp.inference.evaluate import evaluate_run


def run(args: argparse.Namespace) -> int:
    metrics = evaluate_run(
        args.run_dir,
        getattr(args, "data.name"),
        getattr(args, "data.data_dir"),
        allow_modified=getattr(args, "data.allow_modified"),
    )
    if args.json:
        print(json.dumps(metrics, indent=2))
        return 0
    out = console()
    out.print(metrics_table(metrics))
    calibration = metrics["calibration"]
    out.print(calibration_table(calibration["temperature"], {"test": calibration}))
    if calibration["status"] == "uncalibrated":
        out.print(f"uncalibrated: `fashion-mlp calibrate {args.run_dir}` fits a temperature")
    return 0
