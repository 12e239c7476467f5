"""fashion-mlp: the course notebook "The Multilayer Perceptron" as real software.

Importing the package selects Keras's JAX backend unless `KERAS_BACKEND` (or Keras's config
file) already chose one. The public API is imported lazily so that `fashion-mlp --help` is fast.
"""

from __future__ import annotations

import importlib

from fashion_mlp.backend import select_default_backend

select_default_backend()

__version__ = "0.1.0"

_PUBLIC_API = {
    "Dataset": "fashion_mlp.datasets",
    "DatasetError": "fashion_mlp.datasets",
    "load_dataset": "fashion_mlp.datasets",
}


def __getattr__(name: str):
    if name in _PUBLIC_API:
        return getattr(importlib.import_module(_PUBLIC_API[name]), name)
    raise AttributeError(f"module 'fashion_mlp' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_PUBLIC_API])
