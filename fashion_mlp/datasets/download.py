"""Downloading a known data set into the Keras cache, through Keras's `get_file`."""

from __future__ import annotations

from pathlib import Path

from fashion_mlp.backend import keras_home
from fashion_mlp.datasets.registry import DATASETS, DOWNLOAD_BASE, IDX_FILES
from fashion_mlp.errors import DatasetError


def download_dataset(name: str, force: bool = False) -> Path:
    """Download a known data set into the Keras cache (again when `force`); returns the folder."""
    import keras  # deferred: only downloads need it, and importing Keras takes seconds

    spec = DATASETS[name]
    if spec.npz:
        fname, file_hash, subdir = spec.npz[0], spec.npz[1], "datasets"
        names = [(fname, file_hash)]
    else:
        subdir = f"datasets/{spec.cache_subdir}"
        names = [(f"{name}.gz", None) for name in IDX_FILES.values()]
    paths = []
    for fname, file_hash in names:
        try:
            paths.append(
                keras.utils.get_file(
                    fname,
                    origin=DOWNLOAD_BASE + fname,
                    file_hash=file_hash,
                    cache_dir=str(keras_home()),
                    cache_subdir=subdir,
                    force_download=force,
                )
            )
        except Exception as error:  # get_file raises plain Exception for network failures
            raise DatasetError(f"could not download {DOWNLOAD_BASE + fname}: {error}") from None
    return Path(paths[0]).parent
