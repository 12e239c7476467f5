"""Small trained models for the inspection tests, each trained once per session on the
synthetic data: the notebook's MLP in the three styles, a batch-norm ReLU MLP, an ensemble;
and a finished run folder on the same data written to disk."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import keras
import numpy as np
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.config import MLPSpec, build_config
from fashion_mlp.ensembles import ensemble_model
from fashion_mlp.experiment import run_experiment
from fashion_mlp.inspection.network import Network
from fashion_mlp.models import build_model
from fashion_mlp.runs import RunDir

NOTEBOOK = MLPSpec(hidden=(64, 32), activation="tanh")
BATCH_NORM = MLPSpec(hidden=(32, 16), activation="relu", batch_norm=True, dropout=0.1)


@cache
def data():
    return synthetic_dataset(600, 200)


@cache
def trained(spec: MLPSpec = NOTEBOOK, style: str = "sequential") -> keras.Model:
    """`spec` built in `style`, trained 3 epochs on the synthetic data (seed 0)."""
    keras.utils.set_random_seed(0)
    model = build_model(spec, style=style, data=data())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data().x_train, data().y_train, epochs=3, batch_size=32, verbose=0)
    return model


@cache
def network(spec: MLPSpec = NOTEBOOK, style: str = "sequential") -> Network:
    return Network(trained(spec, style), data().class_names)


@cache
def ensemble_network() -> Network:
    members = [trained(NOTEBOOK, "sequential"), trained(NOTEBOOK, "functional")]
    return Network(ensemble_model(members), data().class_names)


def images(count: int = 8) -> np.ndarray:
    return data().x_test[:count]


def finished_run(folder: Path, hidden=(16, 8)) -> RunDir:
    """A run trained by `run_experiment` (2 epochs) on the synthetic data written as IDX files."""
    data_folder = write_idx_dataset(folder / "data", data())
    (data_folder / "class_names.txt").write_text("\n".join(data().class_names) + "\n")
    config = build_config(
        {
            "name": "inspected",
            "data": {"name": str(data_folder)},
            "model": {"hidden": list(hidden)},
            "training": {"epochs": 2, "batch_size": 32},
        }
    )
    return RunDir(run_experiment(config, folder / "runs").run_dir)
