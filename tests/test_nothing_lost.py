"""Nothing lost or stranded: a failed or corrupt download leaves the cached files as they were."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from conftest import IDX_NAMES, idx_bytes, synthetic_dataset, write_idx_dataset

from fashion_mlp import datasets
from fashion_mlp.datasets import download_dataset, load_dataset
from fashion_mlp.errors import DatasetError

GOOD = synthetic_dataset(60, 20, seed=3)
ARRAYS = {"train_images": GOOD.x_train, "train_labels": GOOD.y_train}
ARRAYS |= {"test_images": GOOD.x_test, "test_labels": GOOD.y_test}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A Keras cache holding a good copy of a small "fashion" (its checksums published)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    published = {
        role: hashlib.sha256(idx_bytes(array)).hexdigest() for role, array in ARRAYS.items()
    }
    spec = dataclasses.replace(datasets.DATASETS["fashion"], sha256=published, shapes={})
    monkeypatch.setitem(datasets.DATASETS, "fashion", spec)
    return write_idx_dataset(tmp_path / "keras" / "datasets" / "fashion-mnist", GOOD)


def mirror(monkeypatch, url: str) -> None:
    monkeypatch.setattr(datasets.download, "DOWNLOAD_BASE", url)


def contents(folder) -> dict:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_failed_download_leaves_the_cached_files_as_they_were(cache, tmp_path, monkeypatch):
    before = contents(cache)
    mirror(monkeypatch, f"file://{tmp_path}/offline/")
    with pytest.raises(DatasetError, match="could not download") as error:
        download_dataset("fashion", force=True)
    assert contents(cache) == before
    assert "the cached files are untouched" in str(error.value)


def test_a_corrupt_download_is_refused_before_it_replaces_anything(cache, tmp_path, monkeypatch):
    before = contents(cache)
    other = write_idx_dataset(tmp_path / "mirror", synthetic_dataset(60, 20, seed=9))
    mirror(monkeypatch, f"file://{other}/")
    with pytest.raises(DatasetError, match=f"downloaded {IDX_NAMES['train_images']}.gz is not"):
        download_dataset("fashion", force=True)
    assert contents(cache) == before


def test_a_good_download_replaces_the_cached_files(cache, tmp_path, monkeypatch):
    good = write_idx_dataset(tmp_path / "mirror", GOOD)
    for path in cache.iterdir():
        path.write_bytes(b"damaged")
    mirror(monkeypatch, f"file://{good}/")
    assert download_dataset("fashion", force=True) == cache
    assert contents(cache) == contents(good)
    assert load_dataset("fashion").provenance.verified
