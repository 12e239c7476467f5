"""`fashion-mlp export RUN --format onnx`: a run's model as an ONNX file."""

from __future__ import annotations

import argparse

from fashion_mlp.export import export_run


def run(args: argparse.Namespace) -> int:
    path = export_run(args.run_dir, args.output)
    print(f"wrote {path} (input: uint8 images; output: class probabilities)")
    return 0
