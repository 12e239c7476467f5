"""`fashion-mlp summary`: print a model's layers, trainable parameters and saved size.

The model is built without data (its input normalisation un-adapted), so no data set is needed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fashion_mlp.cli.options import config_from_args
from fashion_mlp.models import build_model, count_trainable_parameters, load_user_model


def run(args: argparse.Namespace) -> int:
    """Build the model of preset, config file and flags; print its summary; returns 0."""
    config = config_from_args(args)
    spec = config.model.spec
    if config.model.user_model is None:
        model = build_model(spec, config.model.style)
    else:
        model = load_user_model(config.model.user_model, spec.input_shape, spec.num_classes)
    model.summary()
    print(f"Trainable parameters: {count_trainable_parameters(model):,}")
    print(f"Size of the saved .keras file: {saved_size(model):,} bytes")
    return 0


def saved_size(model) -> int:
    """Bytes of the model's `.keras` file (architecture, weights and metadata, zipped)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.stat().st_size
