"""The part of a data set a run uses: the validation split held out as Keras holds it out
(the last fraction, unshuffled), and integer labels."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_mlp.errors import ConfigError
from fashion_mlp.subsets import integer_labels, split_validation


def test_validation_split_is_the_last_fraction_unshuffled():
    x = np.arange(105)
    x_train, _, x_val, y_val = split_validation(x, x * 2, 0.1)
    assert x_train.tolist() == list(range(94))  # floor(105 * 0.9) = 94, as Keras
    assert x_val.tolist() == list(range(94, 105))
    assert (y_val == x_val * 2).all()


def test_no_validation_split():
    x = np.arange(10)
    x_train, _, x_val, y_val = split_validation(x, x, 0.0)
    assert len(x_train) == 10 and x_val is None and y_val is None


def test_validation_split_that_empties_a_set():
    with pytest.raises(ConfigError, match="leaves an empty training set"):
        split_validation(np.arange(1), np.arange(1), 0.5)


def test_one_hot_labels_become_integers():
    one_hot = keras.utils.to_categorical([3, 0, 9], 10)
    assert integer_labels(one_hot).tolist() == [3, 0, 9]
    assert integer_labels(np.array([1, 2], np.uint8)).dtype == np.int32
