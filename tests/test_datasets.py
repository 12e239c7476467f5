"""load_dataset: sources in order, checksums, validation of the whole data set, clear errors."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import keras
import numpy as np
import pytest
from conftest import IDX_NAMES, idx_bytes, synthetic_dataset, write_idx, write_idx_dataset

from fashion_mlp import datasets
from fashion_mlp.datasets import FASHION_CLASSES, load_dataset
from fashion_mlp.errors import DatasetError

SMALL = synthetic_dataset(100, 30, seed=5)


def sha256_of(array):
    return hashlib.sha256(idx_bytes(array)).hexdigest()


SMALL_SHA256 = {
    "train_images": sha256_of(SMALL.x_train),
    "train_labels": sha256_of(SMALL.y_train),
    "test_images": sha256_of(SMALL.x_test),
    "test_labels": sha256_of(SMALL.y_test),
}


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """Every source isolated under tmp_path; "fashion" checksums are those of SMALL; no network."""
    keras_home = tmp_path / "keras_home"
    debian = tmp_path / "debian"
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv(datasets.DATA_ENV, raising=False)
    spec = dataclasses.replace(datasets.DATASETS["fashion"], sha256=SMALL_SHA256, debian_dir=debian)
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


def test_nothing_found_lists_every_place_and_every_fix(sources, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV, str(sources["env"]))
    with pytest.raises(DatasetError) as error:
        load_dataset("fashion")
    message = str(error.value)
    for place in (sources["env"], sources["keras_cache"], sources["debian"]):
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
        folder = datasets.Path(cache_dir) / cache_subdir
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


def test_checksum_mismatch_names_file_and_fix(sources):
    other = synthetic_dataset(100, 30, seed=6)
    write_idx_dataset(sources["keras_cache"], other)
    with pytest.raises(DatasetError, match="checksum mismatch") as error:
        load_dataset("fashion")
    assert "train-images-idx3-ubyte.gz" in str(error.value)
    assert "so that it downloads again" in str(error.value)


def test_missing_explicit_data_dir(sources, tmp_path):
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset("fashion", data_dir=tmp_path / "nope")


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


def test_counts_that_disagree(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    write_idx(folder / "train-labels-idx1-ubyte", SMALL.y_train[:-1], gz=True)
    with pytest.raises(DatasetError, match="holds 100 images but .* holds 99 labels"):
        load_dataset(folder)


def test_label_outside_class_range(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    labels = SMALL.y_test.copy()
    labels[3] = 10
    write_idx(folder / "t10k-labels-idx1-ubyte", labels, gz=True)
    with pytest.raises(DatasetError, match="label 10 is outside the 10 classes 0..9"):
        load_dataset(folder)


def test_image_sizes_that_disagree(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    write_idx(folder / "t10k-images-idx3-ubyte", SMALL.x_test[:, :20, :20], gz=True)
    with pytest.raises(DatasetError, match="training images are .* but test images are"):
        load_dataset(folder)


def test_mnist_from_keras_npz(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    np.savez(buffer, x_train=SMALL.x_train, y_train=SMALL.y_train, x_test=SMALL.x_test,
             y_test=SMALL.y_test)  # fmt: skip
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
