"""Shared by the data loader's tests: a small data set standing in for Fashion-MNIST (its
checksums and shapes), every place a data set is looked for isolated under the test's folder,
and a checksum cache of its own. Each test module wraps these in its fixtures."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import keras
import pytest
from conftest import idx_bytes, synthetic_dataset

from fashion_mlp import datasets
from fashion_mlp.datasets.checksums import CHECKSUM_CACHE

SMALL = synthetic_dataset(100, 30, seed=5)


def sha256_of(array):
    return hashlib.sha256(idx_bytes(array)).hexdigest()


SMALL_SHA256 = {
    "train_images": sha256_of(SMALL.x_train),
    "train_labels": sha256_of(SMALL.y_train),
    "test_images": sha256_of(SMALL.x_test),
    "test_labels": sha256_of(SMALL.y_test),
}


SMALL_SHAPES = {
    "train_images": SMALL.x_train.shape,
    "train_labels": SMALL.y_train.shape,
    "test_images": SMALL.x_test.shape,
    "test_labels": SMALL.y_test.shape,
}


def own_checksum_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's own empty checksum cache, never the user's: the file the loader will write."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    return tmp_path / "xdg_cache" / "fashion-mlp" / CHECKSUM_CACHE


def isolated_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """Every source isolated under tmp_path; "fashion" is SMALL (checksums, shapes); no network.
    Each source's folder, and "downloads": the URLs a download was attempted from."""
    keras_home = tmp_path / "keras_home"
    debian = tmp_path / "debian"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    spec = dataclasses.replace(
        datasets.DATASETS["fashion"], sha256=SMALL_SHA256, debian_dir=debian, shapes=SMALL_SHAPES
    )
    monkeypatch.setitem(datasets.DATASETS, "fashion", spec)
    downloads = []

    def offline_get_file(fname, origin, **kwargs):
        downloads.append(origin)
        raise Exception(f"URL fetch failure on {origin}: no internet")

    monkeypatch.setattr(keras.utils, "get_file", offline_get_file)
    return {
        "data_dir": tmp_path / "explicit",
        "env": tmp_path / "env",
        "keras_cache": keras_home / "datasets" / "fashion-mnist",
        "debian": debian,
        "downloads": downloads,
    }


def one_byte_changed(folder, name="t10k-labels-idx1-ubyte", offset=-1):
    """Change one byte of a raw IDX file in place."""
    content = bytearray((folder / name).read_bytes())
    content[offset] = (content[offset] + 1) % 10
    (folder / name).write_bytes(bytes(content))
