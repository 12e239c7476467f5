"""The tracking flags of `train` and `sweep`: --mlflow, --tensorboard. Imports no tracking
library (they load only when a flag is given)."""

from __future__ import annotations

import argparse
from pathlib import Path

TENSORBOARD_DIR = Path("tensorboard")  # --tensorboard's folder when none is named


def add_tracking_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tracking (optional extras)")
    group.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="also log to MLflow: flat config as params, each epoch's metrics, test metrics, "
        "tags, report, figures and config (URI: MLflow's own default, a store in the current "
        "folder, when omitted; put the flag last or write --mlflow=URI; needs pip install "
        "'fashion-mlp[mlflow]') (default: off)",
    )
    group.add_argument(
        "--mlflow-optional",
        action="store_true",
        help="an unreachable MLflow store is a warning, and training goes on (default: an "
        "error before training starts)",
    )
    group.add_argument(
        "--mlflow-model",
        action="store_true",
        help="also log model.keras to MLflow (default: off)",
    )
    group.add_argument(
        "--tensorboard",
        nargs="?",
        const=TENSORBOARD_DIR,
        type=Path,
        metavar="DIR",
        help="also write TensorBoard scalars per epoch, one folder per run (DIR: "
        f"{TENSORBOARD_DIR} when omitted; needs pip install 'fashion-mlp[tensorboard]') "
        "(default: off)",
    )
