"""The checks that make four arrays one data set: as many labels as images, labels within
the classes, image sizes that agree, no split without images or pixels."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_idx, write_idx_dataset
from dataset_sources import SMALL, own_checksum_cache

from fashion_mlp.datasets import load_dataset
from fashion_mlp.errors import DatasetError


@pytest.fixture(autouse=True)
def checksum_cache(tmp_path, monkeypatch):
    """Every test gets its own empty checksum cache, never the user's."""
    return own_checksum_cache(tmp_path, monkeypatch)


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
