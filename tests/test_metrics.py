"""Test-set metrics against a case worked out by hand, and the checks on their inputs."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from rich.console import Console

from fashion_mlp.cli.tables import metrics_table
from fashion_mlp.errors import ConfigError
from fashion_mlp.metrics import KERAS_EPSILON, classification_metrics

NAMES = ["shirt", "shoe", "bag"]
LABELS = np.array([0, 0, 1, 1, 2, 2])
PROBABILITIES = np.array(
    [
        [0.7, 0.2, 0.1],  # shirt -> shirt
        [0.3, 0.6, 0.1],  # shirt -> shoe
        [0.2, 0.5, 0.3],  # shoe  -> shoe
        [0.1, 0.8, 0.1],  # shoe  -> shoe
        [0.6, 0.1, 0.3],  # bag   -> shirt
        [0.1, 0.2, 0.7],  # bag   -> bag
    ]
)
# Worked out by hand from the six rows above.
PRECISION = [1 / 2, 2 / 3, 1 / 1]  # predicted shirt: rows 0, 4; shoe: 1, 2, 3; bag: 5
RECALL = [1 / 2, 2 / 2, 1 / 2]
F1 = [0.5, 0.8, 2 / 3]  # 2pr / (p + r)


@pytest.fixture
def metrics() -> dict:
    return classification_metrics(LABELS, PROBABILITIES, NAMES)


def test_hand_computed_case(metrics):
    assert metrics["test_accuracy"] == pytest.approx(4 / 6)
    assert metrics["num_test"] == 6
    assert metrics["class_names"] == NAMES
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert [row["class"] for row in metrics["per_class"]] == NAMES
    assert [row["precision"] for row in metrics["per_class"]] == pytest.approx(PRECISION)
    assert [row["recall"] for row in metrics["per_class"]] == pytest.approx(RECALL)
    assert [row["f1"] for row in metrics["per_class"]] == pytest.approx(F1)
    assert [row["support"] for row in metrics["per_class"]] == [2, 2, 2]
    assert metrics["macro_avg"] == pytest.approx(
        {"precision": np.mean(PRECISION), "recall": np.mean(RECALL), "f1": np.mean(F1)}
    )
    true_class_probabilities = [0.7, 0.3, 0.5, 0.8, 0.3, 0.7]
    assert metrics["test_loss"] == pytest.approx(-np.mean(np.log(true_class_probabilities)))


def test_result_is_plain_json(metrics):
    assert json.loads(json.dumps(metrics)) == metrics
    assert all(type(count) is int for row in metrics["confusion_matrix"] for count in row)


def test_confusion_rows_sum_to_class_counts():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 200)
    metrics = classification_metrics(labels, rng.random((200, 4)), list("abcd"))
    assert [sum(row) for row in metrics["confusion_matrix"]] == np.bincount(labels).tolist()
    assert [row["support"] for row in metrics["per_class"]] == np.bincount(labels).tolist()


def test_absent_classes_keep_their_rows_and_columns():
    labels = np.array([0, 1, 2, 0])  # class 3 is only predicted, class 4 appears nowhere
    probabilities = np.eye(5)[[0, 1, 3, 0]]
    metrics = classification_metrics(labels, probabilities, list("abcde"))
    assert metrics["confusion_matrix"] == [
        [2, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
    ]
    assert [row["class"] for row in metrics["per_class"]] == list("abcde")
    for absent in metrics["per_class"][3:]:
        assert (absent["support"], absent["precision"], absent["recall"]) == (0, 0.0, 0.0)


def test_one_hot_labels_give_the_same_metrics(metrics):
    one_hot = np.eye(3)[LABELS]
    assert classification_metrics(one_hot, PROBABILITIES, NAMES) == metrics


def test_loss_is_clipped_like_keras():
    certain_and_wrong = classification_metrics([1], [[1.0, 0.0]], ["a", "b"])
    assert certain_and_wrong["test_loss"] == pytest.approx(-math.log(KERAS_EPSILON))
    certain_and_right = classification_metrics([0], [[1.0, 0.0]], ["a", "b"])
    assert certain_and_right["test_loss"] == pytest.approx(-math.log(1 - KERAS_EPSILON))


def test_loss_equals_keras_sparse_cross_entropy():
    import keras

    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.ones(10), 50).astype(np.float32)
    probabilities[0] = np.eye(10)[3]  # certain and wrong below: exercises the clip
    probabilities[1::2] *= 3  # rows not summing to 1: Keras rescales them first
    labels = rng.integers(0, 10, 50)
    labels[0] = 7
    loss = keras.losses.SparseCategoricalCrossentropy()(labels, probabilities)
    metrics = classification_metrics(labels, probabilities, [str(c) for c in range(10)])
    assert metrics["test_loss"] == pytest.approx(float(loss), rel=1e-5)


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        (LABELS[:5], PROBABILITIES, "5 labels but 6 rows"),
        (LABELS, PROBABILITIES[:, :2], r"shape \(6, 2\); expected \(n, 3\)"),
        (LABELS, PROBABILITIES[0], r"expected \(n, 3\)"),
        (np.array([0, 0, 1, 1, 2, 3]), PROBABILITIES, "label 3 is outside the classes 0..2"),
        (np.array([0, 0, 1, 1, 2, -1]), PROBABILITIES, "label -1 is outside"),
        (np.eye(4)[[0, 0, 1, 1, 2, 2]], PROBABILITIES, r"one-hot rows \(n, 3\)"),
        (LABELS + 0.5, PROBABILITIES, "whole numbers"),
        (LABELS.astype(str), PROBABILITIES, "dtype"),
        (LABELS, PROBABILITIES * np.nan, "NaN"),
        (LABELS, -PROBABILITIES, "negative"),
        (LABELS[:0], PROBABILITIES[:0], "no test samples"),
        (LABELS, PROBABILITIES * 0, "all zeros"),
    ],
    ids=[
        "fewer_labels",
        "too_few_columns",
        "one_dimensional_probabilities",
        "label_too_big",
        "negative_label",
        "one_hot_wrong_width",
        "fractional_labels",
        "string_labels",
        "nan",
        "negative_probability",
        "empty",
        "zero_row",
    ],
)
def test_mismatched_inputs_give_config_error(labels, probabilities, message):
    with pytest.raises(ConfigError, match=message):
        classification_metrics(labels, probabilities, NAMES)


def test_report_shows_accuracy_loss_and_each_class(metrics):
    console = Console(file=io.StringIO(), width=120, record=True)
    console.print(metrics_table(metrics))
    text = console.export_text()
    assert "Test accuracy 66.67%" in text
    assert f"loss {metrics['test_loss']:.4f}" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert rows["shoe"] == [
        "0.667",
        "1.000",
        "0.800",
        "2",
    ]
    assert "macro avg" in text
