"""Calibration's arithmetic on synthetic probabilities: ECE against a case worked out by hand,
complete reliability bins, a known temperature recovered, and the held-out images chosen."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_dataset

from fashion_mlp.errors import CalibrationError
from fashion_mlp.inspection.calibration import fit_temperature, held_out
from fashion_mlp.metrics import (
    calibration_scores,
    negative_log_likelihood,
    reliability,
    temperature_scaled,
)

# Worked out by hand: confidences 0.9 (right), 0.9 (wrong) fall in bin 13, (0.867, 0.933];
# 0.6 (right) and 0.55 (wrong) in bin 8, (0.533, 0.6]. Gaps |0.5 - 0.9| and |0.5 - 0.575|.
HAND_PROBABILITIES = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
HAND_LABELS = np.array([0, 1, 0, 1])
HAND_ECE = (2 * 0.4 + 2 * 0.075) / 4


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def overconfident(temperature: float, n: int = 20_000, seed: int = 0):
    """Labels drawn from softmax(logits / temperature), and the probabilities softmax(logits)
    of a model that is overconfident (temperature > 1) by exactly that temperature."""
    rng = np.random.default_rng(seed)
    logits = 3 * rng.normal(size=(n, 10))
    truth = softmax(logits / temperature)
    labels = (truth.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return labels, softmax(logits)


def test_ece_of_a_case_worked_out_by_hand():
    bins = reliability(HAND_LABELS, HAND_PROBABILITIES)
    assert bins.counts.tolist() == [0] * 8 + [2] + [0] * 4 + [2, 0]
    assert bins.confidence[[8, 13]] == pytest.approx([0.575, 0.9])
    assert bins.accuracy[[8, 13]] == pytest.approx([0.5, 0.5])
    assert bins.ece == pytest.approx(HAND_ECE)
    assert calibration_scores(HAND_LABELS, HAND_PROBABILITIES)["ece"] == pytest.approx(HAND_ECE)


def test_reliability_bins_account_for_every_image():
    labels, probabilities = overconfident(2.0, n=3000)
    bins = reliability(labels, probabilities)
    assert len(bins.counts) == 15 and bins.counts.sum() == len(labels)
    assert np.sum(bins.counts * bins.confidence) == pytest.approx(probabilities.max(axis=1).sum())
    correct = np.sum(probabilities.argmax(axis=1) == labels)
    assert np.sum(bins.counts * bins.accuracy) == pytest.approx(correct)


def test_the_fitted_temperature_recovers_the_one_that_made_the_model_overconfident():
    labels, probabilities = overconfident(2.0)
    assert fit_temperature(labels, probabilities) == pytest.approx(2.0, rel=0.05)


def test_a_calibrated_model_keeps_a_temperature_near_1():
    labels, probabilities = overconfident(1.0)
    assert fit_temperature(labels, probabilities) == pytest.approx(1.0, rel=0.05)


def test_temperature_scaling_lowers_nll_and_ece_and_keeps_every_prediction():
    labels, probabilities = overconfident(2.0)
    calibrated = temperature_scaled(probabilities, fit_temperature(labels, probabilities))
    before = calibration_scores(labels, probabilities)
    after = calibration_scores(labels, calibrated)
    assert after["nll"] < before["nll"] - 0.1
    assert after["ece"] < 0.01 < 0.1 < before["ece"]
    np.testing.assert_array_equal(calibrated.argmax(axis=1), probabilities.argmax(axis=1))
    np.testing.assert_allclose(calibrated.sum(axis=1), 1, atol=1e-5)


def test_temperature_1_changes_nothing_and_zeros_stay_finite():
    probabilities = np.array([[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(temperature_scaled(probabilities, 1.0), probabilities, atol=1e-7)
    assert np.isfinite(temperature_scaled(probabilities, 3.0)).all()


def test_nll_is_the_mean_negative_log_probability_of_the_true_class():
    expected = -np.mean(np.log([0.9, 0.1, 0.6, 0.45]))
    assert negative_log_likelihood(HAND_LABELS, HAND_PROBABILITIES) == pytest.approx(expected)


DATA = synthetic_dataset(n_train=1000, n_test=100)


def test_the_validation_split_is_the_last_fraction_of_the_training_images():
    fitted_on = held_out(DATA, validation_split=0.2)
    np.testing.assert_array_equal(fitted_on.images, DATA.x_train[800:])
    assert fitted_on.as_dict() == {
        "split": "validation",
        "fraction": 0.2,
        "images": 200,
        "optimistic": False,
    }


def test_a_split_of_the_training_images_is_marked_optimistic():
    assert held_out(DATA, validation_split=0.0, split=0.15).as_dict()["optimistic"] is True


@pytest.mark.parametrize(
    ("validation_split", "split", "message"),
    [
        (0.0, 0.0, r"without a validation split .* `fashion-mlp calibrate RUN --split 0\.1`"),
        (0.1, 0.0, r"50 images held out \(0\.1 of 500 training images\) are too few .* 100"),
        (0.2, 0.1, r"has a validation split \(0\.2\) .* leave --split out"),
        (0.0, 1.5, r"split 1\.5: expected the fraction .* between 0 and 1"),
    ],
)
def test_no_usable_held_out_images_is_one_clear_line(validation_split, split, message):
    data = synthetic_dataset(n_train=500, n_test=10) if validation_split == 0.1 else DATA
    with pytest.raises(CalibrationError, match=message):
        held_out(data, validation_split, split)
