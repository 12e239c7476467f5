"""Where a data set's files are looked for: a folder the user names (data_dir, else
$FASHION_MLP_DATA) and nothing else, or the Keras cache, then Debian's folder."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_idx_dataset
from dataset_sources import SMALL, isolated_sources, own_checksum_cache

from fashion_mlp import datasets
from fashion_mlp.datasets import FASHION_CLASSES, load_dataset
from fashion_mlp.errors import DatasetError


@pytest.fixture(autouse=True)
def checksum_cache(tmp_path, monkeypatch):
    """Every test gets its own empty checksum cache, never the user's."""
    return own_checksum_cache(tmp_path, monkeypatch)


@pytest.fixture
def sources(tmp_path, monkeypatch):
    return isolated_sources(tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (["data_dir", "env", "keras_cache", "debian"], "data_dir"),
        (["env", "keras_cache", "debian"], datasets.DATA_ENV),
        (["keras_cache", "debian"], "keras_cache"),
        (["debian"], "debian"),
    ],
)
def test_source_precedence(sources, monkeypatch, present, expected):
    for name in present:
        write_idx_dataset(sources[name], SMALL, gz=name != "debian")
    if "env" in present:
        monkeypatch.setenv(datasets.DATA_ENV, str(sources["env"]))
    data_dir = sources["data_dir"] if "data_dir" in present else None
    data = load_dataset("fashion", data_dir=data_dir)
    assert data.provenance.source == expected
    assert data.provenance.verified
    assert sources["downloads"] == []
    np.testing.assert_array_equal(data.x_train, SMALL.x_train)
    np.testing.assert_array_equal(data.y_test, SMALL.y_test)
    assert data.class_names == FASHION_CLASSES


def test_incomplete_folder_is_skipped(sources):
    write_idx_dataset(sources["keras_cache"], SMALL)
    (sources["keras_cache"] / "t10k-labels-idx1-ubyte.gz").unlink()
    write_idx_dataset(sources["debian"], SMALL)
    assert load_dataset("fashion").provenance.source == "debian"


def test_missing_explicit_data_dir(sources, tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset("fashion", data_dir=tmp_path / "nope")


@pytest.mark.parametrize("how", ["data_dir", "env"])
def test_named_folder_lacking_files_is_an_error_not_a_fallback(sources, monkeypatch, how):
    write_idx_dataset(sources["keras_cache"], SMALL)  # a good copy that must not be used
    folder = write_idx_dataset(sources["data_dir"], SMALL)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte.gz").unlink()
    data_dir = folder if how == "data_dir" else None
    if how == "env":
        monkeypatch.setenv(datasets.DATA_ENV, str(folder))
    with pytest.raises(DatasetError) as error:
        load_dataset("fashion", data_dir=data_dir)
    message = str(error.value)
    assert "lacks train-images-idx3-ubyte, t10k-labels-idx1-ubyte (raw or .gz)" in message
    assert str(folder) in message
    assert ("leave it out" if how == "data_dir" else f"unset {datasets.DATA_ENV}") in message
    assert sources["downloads"] == []


def test_env_folder_that_does_not_exist_is_an_error(sources, monkeypatch):
    write_idx_dataset(sources["debian"], SMALL)
    monkeypatch.setenv(datasets.DATA_ENV, str(sources["env"]))
    with pytest.raises(DatasetError, match="FASHION_MLP_DATA=.* is not a folder"):
        load_dataset("fashion")


def test_data_dir_beats_env(sources, monkeypatch):
    write_idx_dataset(sources["data_dir"], SMALL)
    monkeypatch.setenv(datasets.DATA_ENV, str(sources["env"]))  # does not exist: not looked at
    assert load_dataset("fashion", data_dir=sources["data_dir"]).provenance.source == "data_dir"
