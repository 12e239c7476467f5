"""load_dataset when no folder holds the data set: a download into the Keras cache, or one
error naming every place searched and every fix; and the real data set, verified."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import IDX_NAMES, write_idx
from dataset_sources import SMALL, isolated_sources, own_checksum_cache

from fashion_mlp import datasets
from fashion_mlp.datasets import load_dataset
from fashion_mlp.errors import DatasetError


@pytest.fixture(autouse=True)
def checksum_cache(tmp_path, monkeypatch):
    """Every test gets its own empty checksum cache, never the user's."""
    return own_checksum_cache(tmp_path, monkeypatch)


@pytest.fixture
def sources(tmp_path, monkeypatch):
    return isolated_sources(tmp_path, monkeypatch)


def test_nothing_found_lists_every_place_and_every_fix(sources):
    with pytest.raises(DatasetError) as error:
        load_dataset("fashion")
    message = str(error.value)
    for place in (sources["keras_cache"], sources["debian"]):
        assert str(place) in message
    assert "no internet" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "--data-dir" in message
    assert len(sources["downloads"]) == 1


def test_no_download_when_disabled(sources):
    with pytest.raises(DatasetError, match="download: not attempted"):
        load_dataset("fashion", download=False)
    assert sources["downloads"] == []


def test_download_lands_in_keras_cache(sources, monkeypatch):
    def fake_get_file(fname, origin, cache_dir, cache_subdir, **kwargs):
        folder = Path(cache_dir) / cache_subdir
        role = next(role for role, name in IDX_NAMES.items() if fname == f"{name}.gz")
        arrays = {"train_images": SMALL.x_train, "train_labels": SMALL.y_train}
        arrays |= {"test_images": SMALL.x_test, "test_labels": SMALL.y_test}
        folder.mkdir(parents=True, exist_ok=True)
        return str(write_idx(folder / IDX_NAMES[role], arrays[role], gz=True))

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    data = load_dataset("fashion")
    assert data.provenance.source == "download"
    assert data.provenance.location == str(sources["keras_cache"])
    assert data.provenance.verified


@pytest.mark.realdata
def test_real_fashion_mnist(real_data):
    assert real_data.x_train.shape == (60000, 28, 28) and real_data.x_train.dtype == np.uint8
    assert real_data.x_test.shape == (10000, 28, 28) and real_data.x_test.dtype == np.uint8
    assert real_data.y_train.shape == (60000,) and real_data.y_test.shape == (10000,)
    assert np.bincount(real_data.y_train).tolist() == [6000] * 10
    assert np.bincount(real_data.y_test).tolist() == [1000] * 10
    assert real_data.provenance.verified
    expected = datasets.DATASETS["fashion"].sha256
    assert {r.role: r.sha256 for r in real_data.provenance.files} == expected
