"""`fashion-mlp summary`: print a model's layers, trainable parameters and saved size.

The model is built without data (its input normalisation un-adapted), so no data set is needed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fashion_mlp.cli.model_options import DEFAULT_STYLE, add_model_arguments, model_overrides
from fashion_mlp.models import MLPSpec, build_model, count_trainable_parameters, load_user_model


def register(subparsers) -> None:
    """Add the `summary` subcommand."""
    parser = subparsers.add_parser(
        "summary",
        help="print a model's layers, trainable parameters and size",
        description="Print the Keras summary of the model the flags describe, its number of "
        "trainable parameters and the size of its saved .keras file. Needs no data set.",
    )
    add_model_arguments(parser)
    parser.set_defaults(handler=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    """Build the model from the flags and print its summary; returns the exit status."""
    overrides = model_overrides(args)
    style = overrides.pop("style", DEFAULT_STYLE)
    user_model = overrides.pop("user_model", None)
    spec = MLPSpec.from_dict(overrides)
    if user_model is None:
        model = build_model(spec, style)
    else:
        model = load_user_model(user_model, spec.input_shape, spec.num_classes)
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
