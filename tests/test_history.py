"""history.py: the seconds and epoch at which a history first reached each validation accuracy."""

from __future__ import annotations

import math

import pytest

from fashion_mlp.history import ACCURACY_THRESHOLDS, time_to_accuracy

HISTORY = {  # four epochs of 2, 3, 4 and 5 s; validation accuracy crosses 0.85 then 0.88
    "loss": [0.6, 0.4, 0.35, 0.3],
    "accuracy": [0.8, 0.86, 0.89, 0.9],
    "val_accuracy": [0.84, 0.86, 0.85, 0.885],
    "seconds": [2.0, 3.0, 4.0, 5.0],
}


def test_thresholds_reached_give_the_first_epoch_and_the_seconds_summed_up_to_its_end():
    reached = time_to_accuracy(HISTORY, thresholds=(0.85, 0.86, 0.88))
    assert reached == [
        {"val_accuracy": 0.85, "epoch": 2, "seconds": 5.0},  # the dip in epoch 3 changes nothing
        {"val_accuracy": 0.86, "epoch": 2, "seconds": 5.0},  # equal counts as reached
        {"val_accuracy": 0.88, "epoch": 4, "seconds": 14.0},
    ]


def test_a_threshold_never_reached_has_no_epoch_and_no_seconds():
    (entry,) = time_to_accuracy(HISTORY, thresholds=(0.9,))
    assert entry == {"val_accuracy": 0.9, "epoch": None, "seconds": None}


def test_the_default_thresholds_are_the_module_constant_in_order():
    reached = time_to_accuracy(HISTORY)
    assert [entry["val_accuracy"] for entry in reached] == list(ACCURACY_THRESHOLDS)
    assert list(ACCURACY_THRESHOLDS) == sorted(ACCURACY_THRESHOLDS)
    assert reached[0] == {"val_accuracy": 0.85, "epoch": 2, "seconds": 5.0}
    assert reached[-1]["epoch"] is None  # 0.91 is above this history's best


@pytest.mark.parametrize("val_accuracy", [None, [], [math.nan] * 4])  # NaN: no split
def test_no_validation_gives_nothing(val_accuracy):
    history = {key: values for key, values in HISTORY.items() if key != "val_accuracy"}
    if val_accuracy is not None:
        history["val_accuracy"] = val_accuracy
    assert time_to_accuracy(history) == []


def test_missing_seconds_keep_the_epoch_but_not_the_time():
    history = HISTORY | {"seconds": [2.0]}  # only the first epoch's seconds
    (entry,) = time_to_accuracy(history, thresholds=(0.85,))
    assert entry == {"val_accuracy": 0.85, "epoch": 2, "seconds": None}
