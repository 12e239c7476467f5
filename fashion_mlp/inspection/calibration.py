"""Calibrated probabilities: temperature scaling (one scalar T > 0 dividing the logits) fitted
by minimising the negative log-likelihood on images held out from training (the validation
split; never the test set), and the record a run keeps of it in calibration.json."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar  # scipy comes with scikit-learn (pyproject)
from scipy.special import log_softmax

from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import CalibrationError
from fashion_mlp.metrics import (
    CALIBRATION_BINS,
    calibration_scores,
    checked_predictions,
    log_probabilities,
    reliability,
    temperature_scaled,
)
from fashion_mlp.subsets import integer_labels, split_validation

MIN_IMAGES = 100  # fewer leave most of the 15 confidence bins near empty and T noisy
# Wide for an MLP, and bounded: held-out images all classified right would drive T to 0.
TEMPERATURE_RANGE = (0.1, 10.0)  # searched on log T
METHOD = "temperature scaling: softmax(log p / T), T minimising the NLL on the held-out images"
NO_HELD_OUT_IMAGES = (
    "trained without a validation split (validation_split 0) and the test set is never used to "
    "calibrate: fit on the last 10 % of its training images with `fashion-mlp calibrate RUN "
    "--split 0.1` (optimistic: the model trained on them, so T comes out too close to 1), or "
    "train it with --validation-split 0.1"
)


def fit_temperature(y_true: np.ndarray, probabilities: np.ndarray) -> float:
    """The T > 0 minimising the NLL of softmax(log p / T) on these images: a bounded search on
    log T. log p stands for the logits: it differs from them by a constant per row."""
    labels, probabilities = checked_predictions(y_true, probabilities)
    logits = log_probabilities(probabilities)
    rows = np.arange(len(labels))

    def nll(log_temperature: float) -> float:
        scaled = log_softmax(logits / np.exp(log_temperature), axis=1)
        return float(-np.mean(scaled[rows, labels]))

    found = minimize_scalar(nll, bounds=np.log(TEMPERATURE_RANGE), method="bounded")
    return float(np.exp(found.x))


@dataclass(frozen=True)
class HeldOut:
    """The images a temperature is fitted on: the run's validation split, or the last part of
    its training images (optimistic: the model trained on them)."""

    images: np.ndarray
    labels: np.ndarray
    split: str  # "validation" or "training"
    fraction: float  # of the training images, the last ones

    def as_dict(self) -> dict:
        return {
            "split": self.split,
            "fraction": self.fraction,
            "images": len(self.labels),
            "optimistic": self.split == "training",
        }


def held_out(data: Dataset, validation_split: float, split: float = 0.0) -> HeldOut:
    """The run's validation split, or with `split` > 0 the last `split` of the training images
    of a run trained without one.

    Raises:
        CalibrationError: no validation split and no `split`, both, or fewer than MIN_IMAGES.
    """
    if not 0 <= split < 1:
        raise CalibrationError(
            f"split {split:g}: expected the fraction of the training images to hold out, "
            "between 0 and 1 (e.g. 0.1)"
        )
    if split and validation_split:
        raise CalibrationError(
            f"the run has a validation split ({validation_split:g}) and calibration is fitted on "
            "it: leave --split out"
        )
    if not split and not validation_split:
        raise CalibrationError(NO_HELD_OUT_IMAGES)
    fraction = split or validation_split
    _, _, images, labels = split_validation(data.x_train, integer_labels(data.y_train), fraction)
    if len(labels) < MIN_IMAGES:
        raise CalibrationError(
            f"{len(labels)} images held out ({fraction:g} of {len(data.x_train)} training "
            f"images) are too few to calibrate on; at least {MIN_IMAGES} are needed: hold out a "
            "larger fraction"
        )
    return HeldOut(images, labels, "training" if split else "validation", fraction)


def calibration_record(
    fitted_on: HeldOut, held_out_probabilities: np.ndarray, y_test, test_probabilities
) -> dict:
    """calibration.json: the temperature fitted on the held-out images' raw probabilities,
    ECE and NLL raw and calibrated on them and on the test set, and the test set's reliability
    diagram raw and calibrated."""
    temperature = fit_temperature(fitted_on.labels, held_out_probabilities)
    calibrated_test = temperature_scaled(test_probabilities, temperature)
    return {
        "temperature": temperature,
        "method": METHOD,
        "fitted_on": fitted_on.as_dict(),
        "bins": CALIBRATION_BINS,
        "scores": {
            fitted_on.split: before_after(fitted_on.labels, held_out_probabilities, temperature),
            "test": before_after(y_test, test_probabilities, temperature),
        },
        "reliability_test": {
            "raw": reliability(y_test, test_probabilities).as_dict(),
            "calibrated": reliability(y_test, calibrated_test).as_dict(),
        },
    }


def before_after(y_true, probabilities: np.ndarray, temperature: float) -> dict:
    """ECE, NLL, accuracy and mean confidence of the raw and the calibrated probabilities."""
    return {
        "raw": calibration_scores(y_true, probabilities),
        "calibrated": calibration_scores(y_true, temperature_scaled(probabilities, temperature)),
    }


def metrics_entry(record: dict) -> dict:
    """metrics.json's "calibration": the temperature, where it was fitted and the test ECE."""
    test = record["scores"]["test"]
    return {
        "status": "calibrated",
        "temperature": record["temperature"],
        "fitted_on": record["fitted_on"]["split"],
        "test_ece_raw": test["raw"]["ece"],
        "test_ece_calibrated": test["calibrated"]["ece"],
    }


def uncalibrated_entry(reason: str) -> dict:
    """metrics.json's "calibration" of a run left uncalibrated, saying why and how to fix it."""
    return {"status": "uncalibrated", "temperature": 1.0, "how": reason}
