"""The distillation loss and its label metrics against NumPy's arithmetic: Hinton et al.'s
mixture of the labels' cross-entropy and the softened teacher's KL divergence."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)
from fashion_mlp.losses import (
    DistillationLoss,
    LabelAccuracy,
    LabelCrossEntropy,
    SparseCategoricalCrossentropyWithSmoothing,
)

RNG = np.random.default_rng(0)
LABELS = np.array([0, 3, 9, 3])
MODEL = RNG.dirichlet(np.ones(10), size=4).astype(np.float32)
TEACHER = RNG.dirichlet(np.ones(10) * 0.3, size=4).astype(np.float32)
TARGETS = np.concatenate([np.eye(10, dtype=np.float32)[LABELS], TEACHER], axis=1)


def softened(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    scaled = np.log(probabilities) / temperature
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def expected_loss(temperature: float, alpha: float, smoothing: float) -> float:
    smoothed = np.eye(10)[LABELS] * (1 - smoothing) + smoothing / 10
    hard = -(smoothed * np.log(MODEL)).sum(axis=1)
    teacher, model = softened(TEACHER, temperature), softened(MODEL, temperature)
    divergence = (teacher * (np.log(teacher) - np.log(model))).sum(axis=1)
    return float(np.mean((1 - alpha) * hard + alpha * temperature**2 * divergence))


@pytest.mark.parametrize(
    "temperature, alpha, smoothing", [(1.0, 0.5, 0.0), (4.0, 0.9, 0.1), (10.0, 1.0, 0.0)]
)
def test_the_loss_mixes_the_labels_and_the_softened_teacher(temperature, alpha, smoothing):
    loss = DistillationLoss(temperature, alpha, smoothing)
    assert float(loss(TARGETS, MODEL)) == pytest.approx(
        expected_loss(temperature, alpha, smoothing), rel=1e-4
    )


def test_without_the_teacher_it_is_the_smoothed_cross_entropy_on_the_labels():
    plain = SparseCategoricalCrossentropyWithSmoothing(0.1)(LABELS, MODEL)
    assert float(DistillationLoss(3.0, 0.0, 0.1)(TARGETS, MODEL)) == pytest.approx(float(plain))


def test_logits_and_probabilities_give_the_same_loss():
    logits = np.log(MODEL) + 1.7  # the same softmax
    from_logits = DistillationLoss(4.0, 0.7, from_logits=True)(TARGETS, logits)
    assert float(from_logits) == pytest.approx(float(DistillationLoss(4.0, 0.7)(TARGETS, MODEL)))


def test_a_student_that_matches_its_teacher_pays_only_for_the_labels():
    targets = np.concatenate([np.eye(10, dtype=np.float32)[LABELS], MODEL], axis=1)
    hard = keras.losses.categorical_crossentropy(np.eye(10)[LABELS], MODEL)
    loss = DistillationLoss(4.0, 0.5)(targets, MODEL)
    assert float(loss) == pytest.approx(0.5 * float(np.mean(hard)), rel=1e-4)


def test_the_metrics_read_the_labels_half_of_the_targets():
    accuracy = LabelAccuracy()
    accuracy.update_state(TARGETS, MODEL)
    assert float(accuracy.result()) == pytest.approx(np.mean(MODEL.argmax(axis=1) == LABELS))
    cross_entropy = LabelCrossEntropy()
    cross_entropy.update_state(TARGETS, MODEL)
    assert float(cross_entropy.result()) == pytest.approx(
        -np.mean(np.log(MODEL[np.arange(4), LABELS])), rel=1e-5
    )


def test_the_loss_and_metrics_survive_a_save(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10, activation="softmax")])
    model.compile(
        "adam", loss=DistillationLoss(2.5, 0.8, 0.1), metrics=[LabelAccuracy(), LabelCrossEntropy()]
    )
    model.optimizer.build(model.trainable_variables)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.loss.get_config() | {"name": None} == model.loss.get_config() | {"name": None}
    assert loaded.loss.temperature == 2.5 and loaded.loss.alpha == 0.8
