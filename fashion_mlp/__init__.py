"""fashion-mlp: the course notebook "The Multilayer Perceptron" as real software.

Importing the package selects Keras's JAX backend unless `KERAS_BACKEND` (or Keras's config
file) already chose one, and gives JAX one CPU device per core (for populations). The public
API is imported lazily so that `fashion-mlp --help` is fast.
"""

from __future__ import annotations

import importlib

from fashion_mlp.backend import select_default_backend, use_cpu_cores_as_devices

select_default_backend()
use_cpu_cores_as_devices()

__version__ = "0.1.0"

_PUBLIC_API = {
    "Dataset": "fashion_mlp.datasets",
    "load_dataset": "fashion_mlp.datasets",
    "MLPSpec": "fashion_mlp.config",
    "ExperimentConfig": "fashion_mlp.config",
    "OptimizerConfig": "fashion_mlp.config",
    "build_config": "fashion_mlp.config",
    "preset": "fashion_mlp.presets",
    "build_model": "fashion_mlp.models",
    "load_user_model": "fashion_mlp.models",
    "compile_model": "fashion_mlp.training",
    "fit": "fashion_mlp.training",
    "train_population": "fashion_mlp.training.population",
    "evaluate": "fashion_mlp.inference",
    "evaluate_run": "fashion_mlp.inference",
    "Predictor": "fashion_mlp.inference",
    "predict": "fashion_mlp.notebook",
    "plot_history": "fashion_mlp.notebook",
    "plot_confusion": "fashion_mlp.notebook",
    "run_experiment": "fashion_mlp.experiment",
    "resume_experiment": "fashion_mlp.experiment",
    "RunDir": "fashion_mlp.runs",
    "list_runs": "fashion_mlp.runs",
    "load_image": "fashion_mlp.images",
    "FashionMLPError": "fashion_mlp.errors",
    "DatasetError": "fashion_mlp.errors",
    "ConfigError": "fashion_mlp.errors",
    "RunError": "fashion_mlp.errors",
}


def __getattr__(name: str):
    if name in _PUBLIC_API:
        return getattr(importlib.import_module(_PUBLIC_API[name]), name)
    raise AttributeError(f"module 'fashion_mlp' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PUBLIC_API])
