"""The flags that describe an experiment (preset, config file, data, model, optimizer, training)
and their translation into an ExperimentConfig: preset, then file, then flags."""

from __future__ import annotations

import argparse
from pathlib import Path

from fashion_mlp.cli.data import add_data_arguments
from fashion_mlp.cli.model_options import (
    add_model_arguments,
    add_optimizer_arguments,
    model_overrides,
    optimizer_overrides,
)
from fashion_mlp.config import PRESETS, ExperimentConfig, build_config, preset, read_toml
from fashion_mlp.training import ENGINES

TRAINING_FLAGS = (
    "epochs", "batch_size", "validation_split", "seed", "engine", "early_stopping_patience",
    "restore_best_weights",
)  # fmt: skip
DATA_FLAGS = {"data_name": "name", "data_dir": "data_dir", "train_limit": "train_limit",
              "test_limit": "test_limit"}  # fmt: skip


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """Every flag of an experiment; all default to None, meaning "from the preset or file"."""
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="seed",
        help="starting configuration: seed = the notebook's experiment, smoke = seconds-long "
        "pipeline check (default: seed)",
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, metavar="FILE.toml", default=None,
        help="TOML config applied over the preset (a run's config.toml re-runs it; default: none)",
    )  # fmt: skip
    add_data_arguments(parser)
    group = parser.add_argument_group("data subset")
    group.add_argument("--train-limit", type=int, metavar="N", default=None,
                       help="train on the first N images only (default: 0 = all)")  # fmt: skip
    group.add_argument("--test-limit", type=int, metavar="N", default=None,
                       help="evaluate on the first N test images (default: 0 = all)")  # fmt: skip
    add_model_arguments(parser)
    add_optimizer_arguments(parser)
    group = parser.add_argument_group("training")
    group.add_argument(
        "--epochs", type=int, default=None, help="passes over the data (default: 10)"
    )
    group.add_argument("--batch-size", type=int, default=None,
                       help="images per gradient step (default: 16)")  # fmt: skip
    group.add_argument(
        "--validation-split", type=float, default=None, metavar="FRACTION",
        help="fraction of the training set held out for validation, taken from its END, "
        "unshuffled, as Keras does (default: 0.1; 0 = none)",
    )  # fmt: skip
    group.add_argument("--seed", type=int, default=None,
                       help="seed of weights, shuffling and dropout (default: 0)")  # fmt: skip
    group.add_argument(
        "--engine", choices=ENGINES, default=None,
        help="training engine: compiled = JAX-compiled epochs, keras = model.fit, auto = "
        "compiled on the JAX backend, else keras (default: auto)",
    )  # fmt: skip
    group.add_argument(
        "--early-stopping", dest="early_stopping_patience", type=int, metavar="PATIENCE",
        default=None, help="stop after PATIENCE epochs without val_loss improvement "
        "(default: -1 = disable)",
    )  # fmt: skip
    group.add_argument(
        "--restore-best", dest="restore_best_weights", action=argparse.BooleanOptionalAction,
        default=None, help="on early stopping, keep the best epoch's weights (default: on)",
    )  # fmt: skip


def flag_overrides(args: argparse.Namespace) -> dict:
    """The config values given as flags, as a layer for build_config."""
    layer: dict = {}
    data = {
        key: getattr(args, flag)
        for flag, key in DATA_FLAGS.items()
        if getattr(args, flag, None) is not None
    }
    if "data_dir" in data:
        data["data_dir"] = str(data["data_dir"])
    training = {
        key: getattr(args, key) for key in TRAINING_FLAGS if getattr(args, key, None) is not None
    }
    for name, values in (
        ("data", data), ("model", model_overrides(args)),
        ("optimizer", optimizer_overrides(args)), ("training", training),
    ):  # fmt: skip
        if values:
            layer[name] = values
    return layer


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """preset, then --config file, then flags."""
    file_layer = read_toml(args.config) if args.config else {}
    return build_config(preset(args.preset), file_layer, flag_overrides(args))
