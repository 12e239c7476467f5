"""Test-set metrics from predicted probabilities: metrics.json's accuracy, loss, confusion
matrix and per-class scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from fashion_mlp.errors import ConfigError

KERAS_EPSILON = 1e-7  # keras.config.epsilon(): the clip Keras's cross-entropy applies


def classification_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]
) -> dict:
    """Accuracy, loss, confusion matrix (rows = true class) and per-class scores, as JSON types.

    `y_true` holds integer labels (n,) or one-hot rows (n, C); `probabilities` is (n, C) in the
    order of `class_names`. Every class gets its row, column and scores, present or not.
    """
    class_names = [str(name) for name in class_names]
    probabilities = _checked_probabilities(probabilities, len(class_names))
    labels = _checked_labels(y_true, probabilities.shape[0], len(class_names))
    predicted = probabilities.argmax(axis=1)
    all_classes = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=all_classes, zero_division=0
    )
    macro = precision_recall_fscore_support(
        labels, predicted, labels=all_classes, average="macro", zero_division=0
    )
    return {
        "test_accuracy": float(accuracy_score(labels, predicted)),
        "test_loss": _cross_entropy(labels, probabilities),
        "num_test": int(labels.size),
        "class_names": class_names,
        "confusion_matrix": confusion_matrix(labels, predicted, labels=all_classes).tolist(),
        "per_class": [
            {
                "class": name,
                "precision": float(precision[index]),
                "recall": float(recall[index]),
                "f1": float(f1[index]),
                "support": int(support[index]),
            }
            for index, name in enumerate(class_names)
        ],
        "macro_avg": {
            "precision": float(macro[0]),
            "recall": float(macro[1]),
            "f1": float(macro[2]),
        },
    }


def _checked_probabilities(probabilities: np.ndarray, num_classes: int) -> np.ndarray:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] != num_classes:
        raise ConfigError(
            f"probabilities have shape {probabilities.shape}; expected (n, {num_classes}), one "
            f"column per class name; check that the model's output matches the data set's classes"
        )
    if probabilities.shape[0] == 0:
        raise ConfigError("no test samples were given; pass at least one prediction")
    if not np.all(np.isfinite(probabilities)) or probabilities.min() < 0:
        raise ConfigError(
            "probabilities contain NaN, infinite or negative values; pass the softmax output "
            "of the model (did training diverge?)"
        )
    if probabilities.sum(axis=1).min() <= 0:
        raise ConfigError("a row of probabilities is all zeros; pass the model's softmax output")
    return probabilities


def _checked_labels(y_true: np.ndarray, num_samples: int, num_classes: int) -> np.ndarray:
    """Integer labels (n,), from integer labels or one-hot rows."""
    y_true = np.asarray(y_true)
    if y_true.dtype.kind not in "biuf":
        raise ConfigError(f"labels have dtype {y_true.dtype}; expected integer class indices")
    if y_true.ndim == 2 and y_true.shape[1] == num_classes:
        y_true = y_true.argmax(axis=1)
    if y_true.ndim != 1:
        raise ConfigError(
            f"labels have shape {y_true.shape}; expected integer labels (n,) "
            f"or one-hot rows (n, {num_classes})"
        )
    if y_true.shape[0] != num_samples:
        raise ConfigError(
            f"{y_true.shape[0]} labels but {num_samples} rows of probabilities; "
            "pass one label per predicted image"
        )
    if not np.all(np.mod(y_true, 1) == 0):
        raise ConfigError("labels must be whole numbers (class indices); got fractional values")
    labels = y_true.astype(np.int64)
    outside = labels[(labels < 0) | (labels >= num_classes)]
    if outside.size:
        raise ConfigError(
            f"label {outside[0]} is outside the classes 0..{num_classes - 1}; "
            "check that the labels and class names come from the same data set"
        )
    return labels


def _cross_entropy(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean cross-entropy as Keras computes it: rows rescaled to sum 1, clipped to [eps, 1-eps].

    Written out rather than scikit-learn's log_loss so the value equals Keras's reported loss.
    """
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    chosen = np.clip(
        probabilities[np.arange(labels.size), labels], KERAS_EPSILON, 1 - KERAS_EPSILON
    )
    return float(-np.mean(np.log(chosen)))
