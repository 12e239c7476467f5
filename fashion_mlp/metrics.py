"""Test-set metrics from predicted probabilities: metrics.json's accuracy, loss, confusion
matrix and per-class scores; and how well calibrated the probabilities are (reliability bins,
ECE, NLL), with a temperature applied to them. Here, below inference, inspection and reports,
so that each of them can use it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax  # scipy comes with scikit-learn (pyproject)
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from fashion_mlp.errors import ConfigError

KERAS_EPSILON = 1e-7  # keras.config.epsilon(): the clip Keras's cross-entropy applies
CALIBRATION_BINS = 15  # equal-width confidence bins of ECE, as Guo et al. (2017) use
SMALLEST_PROBABILITY = float(np.finfo(np.float32).tiny)  # a float32 softmax's 0, made finite


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


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's data: per equal-width bin of top probability (confidence), its
    number of images, their mean confidence and their accuracy (both 0 in an empty bin)."""

    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean |accuracy - confidence|."""
        gaps = np.abs(self.accuracy - self.confidence)
        return float(np.sum(self.counts * gaps) / np.sum(self.counts))

    @classmethod
    def from_dict(cls, bins: dict) -> Reliability:
        """The bins `as_dict` wrote (calibration.json's)."""
        return cls(
            *(np.asarray(bins[key], dtype=float) for key in ("counts", "confidence", "accuracy"))
        )

    def as_dict(self) -> dict:
        return {
            "counts": self.counts.tolist(),
            "confidence": self.confidence.tolist(),
            "accuracy": self.accuracy.tolist(),
        }


def reliability(
    y_true: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS
) -> Reliability:
    """Bin each image by its top probability into `bins` equal-width bins (lower, upper] of
    [0, 1]; per bin, the number of images, their mean confidence and their accuracy."""
    labels, probabilities = checked_predictions(y_true, probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    filled = np.maximum(counts, 1)
    return Reliability(
        counts,
        np.bincount(which, weights=confidence, minlength=bins) / filled,
        np.bincount(which, weights=correct, minlength=bins) / filled,
    )


def calibration_scores(y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    """ECE (15 bins), NLL, accuracy and mean confidence of the probabilities, as JSON types."""
    bins = reliability(y_true, probabilities)
    images = np.sum(bins.counts)
    return {
        "ece": bins.ece,
        "nll": negative_log_likelihood(y_true, probabilities),
        "accuracy": float(np.sum(bins.counts * bins.accuracy) / images),
        "mean_confidence": float(np.sum(bins.counts * bins.confidence) / images),
    }


def negative_log_likelihood(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """Mean -log p(true class), clipped as Keras clips it: the raw model's value is its loss."""
    return _cross_entropy(*checked_predictions(y_true, probabilities))


def checked_predictions(
    y_true: np.ndarray, probabilities: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels and probabilities checked against each other, for any number of classes."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    num_classes = probabilities.shape[-1] if probabilities.ndim else 0
    probabilities = _checked_probabilities(probabilities, num_classes)
    return _checked_labels(y_true, *probabilities.shape), probabilities


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """log p in float64, a float32 softmax's underflowed zeros made finite.

    Softmax models give no logits, but log p differs from the logits by a constant per row,
    so softmax(log p / T) is exactly temperature scaling of the logits.
    """
    return np.log(np.maximum(np.asarray(probabilities, dtype=np.float64), SMALLEST_PROBABILITY))


def temperature_scaled(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), as float32: T > 1 softens the probabilities, T < 1 sharpens them;
    the most probable class stays the same."""
    scaled = log_softmax(log_probabilities(probabilities) / temperature, axis=-1)
    return np.exp(scaled).astype(np.float32)
