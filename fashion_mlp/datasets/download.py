"""Downloading a known data set into the Keras cache, through Keras's `get_file`: every file goes
to a temporary folder and is verified there, then renamed into place, so a failed or corrupt
download never touches a cached file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from fashion_mlp.backend import keras_home
from fashion_mlp.datasets.registry import DATASETS, DOWNLOAD_BASE, IDX_FILES, DatasetSpec
from fashion_mlp.errors import DatasetError
from fashion_mlp.idx import read_idx


def download_dataset(name: str, force: bool = False) -> Path:
    """Download a known data set into the Keras cache (again when `force`); returns the folder."""
    spec = DATASETS[name]
    if spec.npz:
        folder, names = keras_home() / "datasets", {spec.npz[0]: None}
    else:
        folder = keras_home() / "datasets" / spec.cache_subdir
        names = {f"{file}.gz": role for role, file in IDX_FILES.items()}
    wanted = [fname for fname in names if force or not (folder / fname).is_file()]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as staging:
        for fname in wanted:
            verify(spec, names[fname], fetch(spec, fname, Path(staging)))
        for fname in wanted:  # every file verified: only now is the cache changed
            os.replace(Path(staging) / fname, folder / fname)
    return folder


def fetch(spec: DatasetSpec, fname: str, staging: Path) -> Path:
    """One file downloaded into `staging` (an npz checked against its SHA-256 by Keras)."""
    import keras  # deferred: only downloads need it, and importing Keras takes seconds

    origin = DOWNLOAD_BASE + fname
    try:
        return Path(
            keras.utils.get_file(
                fname,
                origin=origin,
                file_hash=spec.npz[1] if spec.npz else None,
                cache_dir=str(staging),
                cache_subdir=".",
                force_download=True,
            )
        )
    except Exception as error:  # get_file raises plain Exception for network failures
        raise DatasetError(
            f"could not download {origin}: {error}; the cached files are untouched"
        ) from None


def verify(spec: DatasetSpec, role: str | None, path: Path) -> None:
    """Raise unless a downloaded IDX file parses and has the published SHA-256."""
    if role is None:
        return  # the npz: get_file checked its hash
    fix = "The cached files are untouched; download again later, or use --data-dir."
    digest = read_idx(path, 3 if role.endswith("images") else 1, fix).sha256
    if digest != spec.sha256[role]:
        raise DatasetError(
            f"the downloaded {path.name} is not {spec.name}'s (SHA-256 of its content {digest}, "
            f"expected {spec.sha256[role]}); {fix}"
        )
