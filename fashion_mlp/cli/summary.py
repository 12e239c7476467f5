"""`fashion-mlp summary`: print a model's layers, trainable parameters and saved size.

The model is built without data (its input normalisation un-adapted), so no data set is needed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fashion_mlp.cli.model_options import add_model_arguments, model_overrides
from fashion_mlp.config import PRESETS, build_config, preset, read_toml
from fashion_mlp.models import build_model, count_trainable_parameters, load_user_model


def register(subparsers) -> None:
    """Add the `summary` subcommand."""
    parser = subparsers.add_parser(
        "summary",
        help="print a model's layers, trainable parameters and size",
        description="Print the Keras summary of the model the flags describe, its number of "
        "trainable parameters and the size of its saved .keras file. Needs no data set.",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="seed",
                        help="starting configuration (default: seed, the notebook's)")  # fmt: skip
    parser.add_argument("--config", type=Path, metavar="FILE.toml", default=None,
                        help="TOML config applied over the preset (default: none)")  # fmt: skip
    add_model_arguments(parser)
    parser.set_defaults(handler=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    """Build the model of preset, config file and flags; print its summary; returns 0."""
    file_layer = read_toml(args.config) if args.config else {}
    config = build_config(preset(args.preset), file_layer, {"model": model_overrides(args)})
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
