"""The part of a data set a run uses: train/test limits, the validation split held out as
Keras holds it out, and integer labels."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from fashion_mlp.config import DataConfig
from fashion_mlp.datasets import Dataset, load_dataset
from fashion_mlp.errors import ConfigError


def load_run_data(config: DataConfig) -> Dataset:
    """The configured data set, cut to train_limit / test_limit images when they are set."""
    data = load_dataset(config.name, data_dir=config.data_dir, allow_modified=config.allow_modified)
    return limit_dataset(data, config.train_limit, config.test_limit)


def limit_dataset(data: Dataset, train_limit: int = 0, test_limit: int = 0) -> Dataset:
    """The first train_limit training and test_limit test images (0 = all of a split)."""
    train, test = train_limit or None, test_limit or None
    return dataclasses.replace(
        data,
        x_train=data.x_train[:train],
        y_train=data.y_train[:train],
        x_test=data.x_test[:test],
        y_test=data.y_test[:test],
    )


def integer_labels(labels: np.ndarray) -> np.ndarray:
    """Integer class labels; one-hot rows (the notebook's to_categorical) become their argmax."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.argmax(axis=1).astype(np.int32)
    return labels.astype(np.int32)


def split_validation(x: np.ndarray, y: np.ndarray, validation_split: float):
    """(x_train, y_train, x_val, y_val): the LAST fraction held out, unshuffled, as Keras does.

    x_val and y_val are None when validation_split is 0.
    """
    if not 0 <= validation_split < 1:
        raise ConfigError(f"validation_split={validation_split}: expected 0 <= x < 1")
    if validation_split == 0:
        return x, y, None, None
    split_at = math.floor(len(x) * (1.0 - validation_split))
    if split_at == 0 or split_at == len(x):
        raise ConfigError(
            f"validation_split={validation_split} of {len(x)} samples leaves an empty "
            f"{'training' if split_at == 0 else 'validation'} set; choose another fraction"
        )
    return x[:split_at], y[:split_at], x[split_at:], y[split_at:]


def training_size(num_samples: int, validation_split: float) -> int:
    """How many samples remain for training once the validation split is held out."""
    return math.floor(num_samples * (1 - validation_split))
