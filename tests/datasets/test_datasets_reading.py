"""Reading a data set's files: checked against the published checksums, from IDX files or
Keras's npz; any folder of IDX files, recognised when it is a copy of a known data set and
refused when it is a modified one (unless allowed)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from conftest import IDX_NAMES, synthetic_dataset, write_idx, write_idx_dataset
from dataset_sources import SMALL, isolated_sources, one_byte_changed, own_checksum_cache

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


def test_checksum_mismatch_names_file_and_fix(sources):
    other = synthetic_dataset(100, 30, seed=6)
    write_idx_dataset(sources["keras_cache"], other)
    with pytest.raises(DatasetError, match="checksum mismatch") as error:
        load_dataset("fashion")
    assert "train-images-idx3-ubyte.gz" in str(error.value)
    assert "so that it downloads again" in str(error.value)


def test_folder_by_path_is_validated_not_checksummed(idx_folder):
    data = load_dataset(idx_folder)
    assert data.x_train.shape == (120, 28, 28)
    assert data.y_test.shape == (40,)
    assert data.provenance.source == "path"
    assert not data.provenance.verified
    assert data.class_names == datasets.DIGIT_CLASSES


def test_folder_copy_of_known_data_set_is_recognised(sources, tmp_path):
    folder = write_idx_dataset(tmp_path / "copy", SMALL, gz=False)
    data = load_dataset(folder)
    assert data.name == "fashion"
    assert data.provenance.verified


def test_folder_class_names_file(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    (folder / "class_names.txt").write_text("\n".join(f"c{i}" for i in range(12)))
    assert load_dataset(folder).class_names == tuple(f"c{i}" for i in range(12))


def test_folder_missing_file(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="missing train-labels-idx1-ubyte"):
        load_dataset(folder)


def test_unknown_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError, match="neither a known data set"):
        load_dataset("cifar")


def test_mnist_from_keras_npz(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    np.savez(
        buffer,
        x_train=SMALL.x_train,
        y_train=SMALL.y_train,
        x_test=SMALL.x_test,
        y_test=SMALL.y_test,
    )
    content = buffer.getvalue()
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "mnist.npz").write_bytes(content)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    spec = dataclasses.replace(
        datasets.DATASETS["mnist"], npz=("mnist.npz", hashlib.sha256(content).hexdigest())
    )
    monkeypatch.setitem(datasets.DATASETS, "mnist", spec)
    data = load_dataset("mnist", download=False)
    assert data.class_names == datasets.DIGIT_CLASSES
    assert data.provenance.verified and data.provenance.source == "keras_cache"
    np.testing.assert_array_equal(data.x_test, SMALL.x_test)

    monkeypatch.setitem(
        datasets.DATASETS, "mnist", dataclasses.replace(spec, npz=("mnist.npz", "0" * 64))
    )
    with pytest.raises(DatasetError, match="mnist.npz: checksum mismatch"):
        load_dataset("mnist", download=False)


def test_modified_copy_of_known_data_set_is_refused(sources, tmp_path):
    folder = write_idx_dataset(tmp_path / "copy", SMALL, gz=False)
    one_byte_changed(folder)
    with pytest.raises(DatasetError, match="names and shapes of the 'fashion' data set") as error:
        load_dataset(folder)
    message = str(error.value)
    assert "t10k-labels-idx1-ubyte (SHA-256" in message
    assert "train-images-idx3-ubyte" not in message  # only the file that differs is named
    assert "allow_modified=True" in message


def test_copy_with_every_file_changed_is_refused_too(sources, tmp_path):
    folder = write_idx_dataset(tmp_path / "copy", synthetic_dataset(100, 30, seed=9), gz=False)
    with pytest.raises(DatasetError, match="not its content") as error:
        load_dataset(folder)
    assert all(name in str(error.value) for name in IDX_NAMES.values())


def test_modified_copy_loads_unverified_when_allowed(sources, tmp_path):
    folder = write_idx_dataset(tmp_path / "copy", SMALL, gz=False)
    one_byte_changed(folder)
    data = load_dataset(folder, allow_modified=True)
    assert data.name == "copy" and data.class_names == datasets.DIGIT_CLASSES
    assert not data.provenance.verified
    assert not any(record.verified for record in data.provenance.files)


def test_folder_with_other_shapes_is_an_unknown_data_set(sources, tmp_path):
    folder = write_idx_dataset(tmp_path / "other", synthetic_dataset(80, 30, seed=9))
    assert load_dataset(folder).name == "other"


def test_named_data_set_with_modified_file_loads_when_allowed(sources):
    write_idx_dataset(sources["data_dir"], SMALL, gz=False)
    one_byte_changed(sources["data_dir"])
    with pytest.raises(DatasetError, match="checksum mismatch.*allow_modified=True"):
        load_dataset("fashion", data_dir=sources["data_dir"])
    data = load_dataset("fashion", data_dir=sources["data_dir"], allow_modified=True)
    assert not data.provenance.verified
    verified = {record.role: record.verified for record in data.provenance.files}
    assert verified == {
        "train_images": True,
        "train_labels": True,
        "test_images": True,
        "test_labels": False,
    }


@pytest.mark.realdata
def test_real_copy_with_one_byte_changed_is_refused(real_data, tmp_path):
    source = Path(real_data.provenance.location)
    folder = tmp_path / "fashion-copy"
    folder.mkdir()
    for record in real_data.provenance.files:
        if record.role != "test_labels":
            (folder / Path(record.path).name).symlink_to(record.path)
    write_idx(folder / "t10k-labels-idx1-ubyte", real_data.y_test, gz=False)
    one_byte_changed(folder, offset=100)
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte \\(SHA-256") as error:
        load_dataset(folder)
    assert "'fashion' data set" in str(error.value) and "train-images" not in str(error.value)
    assert load_dataset(folder, allow_modified=True).name == "fashion-copy"
    assert source.is_dir()
