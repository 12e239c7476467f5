"""load_dataset: sources in order, checksums, validation of the whole data set, clear errors."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import IDX_NAMES, idx_bytes, synthetic_dataset, write_idx, write_idx_dataset

from fashion_mlp import datasets
from fashion_mlp.datasets import FASHION_CLASSES, load_dataset
from fashion_mlp.datasets.checksums import CHECKSUM_CACHE, checksum_cache_path
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


SMALL_SHAPES = {
    "train_images": SMALL.x_train.shape,
    "train_labels": SMALL.y_train.shape,
    "test_images": SMALL.x_test.shape,
    "test_labels": SMALL.y_test.shape,
}


@pytest.fixture(autouse=True)
def checksum_cache(tmp_path, monkeypatch):
    """Every test gets its own empty checksum cache, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg_cache"))
    return tmp_path / "xdg_cache" / "fashion-mlp" / CHECKSUM_CACHE


@pytest.fixture
def sources(tmp_path, monkeypatch):
    """Every source isolated under tmp_path; "fashion" is SMALL (checksums, shapes); no network."""
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


@pytest.mark.parametrize("split", ["train", "test"])
def test_empty_split_is_refused_naming_the_file(tmp_path, split):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    prefix = "train" if split == "train" else "t10k"
    write_idx(folder / f"{prefix}-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8), gz=True)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.zeros(0, np.uint8), gz=True)
    with pytest.raises(DatasetError, match=f"holds no {split} pixels") as error:
        load_dataset(folder)
    assert f"{prefix}-images-idx3-ubyte.gz" in str(error.value)


def test_images_without_pixels_are_refused(tmp_path):
    folder = write_idx_dataset(tmp_path / "idx", SMALL)
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((30, 0, 28), np.uint8), gz=True)
    with pytest.raises(DatasetError, match=r"holds no test pixels \(shape \(30, 0, 28\)\)"):
        load_dataset(folder)


def one_byte_changed(folder, name="t10k-labels-idx1-ubyte", offset=-1):
    """Change one byte of a raw IDX file in place."""
    content = bytearray((folder / name).read_bytes())
    content[offset] = (content[offset] + 1) % 10
    (folder / name).write_bytes(bytes(content))


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


@pytest.fixture
def hash_calls(monkeypatch):
    """Count SHA-256 computations of IDX content."""
    calls = []
    real = hashlib.sha256

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", counting)
    return calls


def test_second_load_of_unchanged_files_does_not_hash(sources, checksum_cache, hash_calls):
    write_idx_dataset(sources["debian"], SMALL)
    first = load_dataset("fashion")
    assert len(hash_calls) == 4 and checksum_cache.is_file()
    second = load_dataset("fashion")
    assert len(hash_calls) == 4
    assert second.provenance.as_dict() == first.provenance.as_dict()
    np.testing.assert_array_equal(second.x_train, SMALL.x_train)
    assert [p.name for p in checksum_cache.parent.iterdir()] == [checksum_cache.name]  # no temps


def test_cache_is_keyed_by_size_and_mtime(sources, hash_calls):
    folder = write_idx_dataset(sources["debian"], SMALL, gz=False)
    load_dataset("fashion")
    path = folder / "t10k-labels-idx1-ubyte"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))  # touched, same content
    load_dataset("fashion")
    assert len(hash_calls) == 5
    one_byte_changed(folder)  # same size, new mtime: hashed again and caught
    with pytest.raises(DatasetError, match="checksum mismatch"):
        load_dataset("fashion")


def test_cache_hit_still_validates_the_file(sources):
    folder = write_idx_dataset(sources["debian"], SMALL, gz=False)
    load_dataset("fashion")
    path = folder / "t10k-labels-idx1-ubyte"
    stat = path.stat()
    content = bytearray(path.read_bytes())
    content[0] = 0x12  # the magic number, same size
    path.write_bytes(bytes(content))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the old mtime: a cache hit
    with pytest.raises(DatasetError, match="not an IDX file"):
        load_dataset("fashion")


@pytest.mark.parametrize("junk", ["", "{not json", "[1, 2]", '{"version": 1, "files": 3}'])
def test_corrupt_cache_is_ignored_and_rebuilt(sources, checksum_cache, hash_calls, junk):
    write_idx_dataset(sources["debian"], SMALL)
    checksum_cache.parent.mkdir(parents=True)
    checksum_cache.write_text(junk)
    assert load_dataset("fashion").provenance.verified
    assert len(json.loads(checksum_cache.read_text())["files"]) == 4
    load_dataset("fashion")
    assert len(hash_calls) == 4


def test_cache_entry_with_an_unpublished_checksum_is_not_trusted(sources, checksum_cache):
    folder = write_idx_dataset(sources["debian"], SMALL)
    load_dataset("fashion")
    content = json.loads(checksum_cache.read_text())
    for entry in content["files"].values():
        entry["sha256"] = "0" * 64
    checksum_cache.write_text(json.dumps(content))
    assert load_dataset("fashion").provenance.verified
    assert str((folder / "train-images-idx3-ubyte.gz").resolve()) in checksum_cache.read_text()


def test_unwritable_cache_does_not_stop_loading(sources, tmp_path, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    write_idx_dataset(sources["debian"], SMALL)
    assert load_dataset("fashion").provenance.verified


def test_relative_xdg_cache_home_is_ignored(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    assert checksum_cache_path().is_absolute()


def test_folder_copy_of_known_data_set_uses_the_cache(sources, tmp_path, hash_calls):
    folder = write_idx_dataset(tmp_path / "copy", SMALL, gz=False)
    load_dataset(folder)
    assert load_dataset(folder).provenance.verified
    assert len(hash_calls) == 4


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
