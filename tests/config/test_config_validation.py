"""Kinds of valid value: an int is taken where a float is expected, and NumPy numbers where
Python's are (kept as Python's): one `is_number`, which every package uses."""

from __future__ import annotations

import numpy as np

from fashion_mlp.config import build_config, is_number


def test_int_accepted_for_float():
    assert build_config({"optimizer": {"learning_rate": 1}}).optimizer.learning_rate == 1.0


def test_numpy_numbers_are_accepted():
    layer = {"training": {"epochs": np.int64(3)}, "optimizer": {"momentum": np.float32(0.5)}}
    config = build_config(layer)
    assert config.training.epochs == 3 and type(config.training.epochs) is int
    assert config.optimizer.momentum == 0.5


def test_is_number_takes_numpy_numbers_and_refuses_bools():
    assert all(map(is_number, [3, 0.5, np.int64(3), np.float32(0.5)]))
    assert not any(map(is_number, [True, np.bool_(True), "3", None]))
