"""Distillation's targets: the teacher's answers for every training image (mirror-averaged for a
student that mirrors), one-hot labels beside them, teachers that cannot teach refused with the
fix, and a student that follows its teacher where the teacher and the labels disagree."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.config import DataConfig, DistillConfig, build_config
from fashion_mlp.distillation import distillation_targets, teacher_facts, teacher_run
from fashion_mlp.errors import RunError
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir
from fashion_mlp.subsets import load_run_data
from fashion_mlp.training import compile_model, fit

FOLDER_DATA = {}  # the synthetic data set as its IDX folder loads it (class names 0-9)

# one worker trains the module's teacher once, instead of one per worker
pytestmark = pytest.mark.xdist_group("distillation")


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    """A finished smoke run on a synthetic data set's IDX folder (the run's folder)."""
    folder = tmp_path_factory.mktemp("distillation")
    data = write_idx_dataset(folder / "data", synthetic_dataset(400, 100, seed=4))
    FOLDER_DATA["data"] = load_run_data(DataConfig(name=str(data)))
    train = ["train", "--preset", "smoke", "--data", str(data), "--train-limit", "0"]
    train += ["--test-limit", "0", "--runs-dir", str(folder / "runs"), "--name", "teacher"]
    assert main(train) == 0
    (run,) = (folder / "runs").iterdir()
    return run


@pytest.fixture
def data(teacher):
    return FOLDER_DATA["data"]


def config_for(teacher, **model):
    return build_config(
        preset("smoke"), {"model": model, "distill": {"teacher": str(teacher), "alpha": 0.3}}
    )


def test_the_targets_are_one_hot_labels_beside_the_teachers_answers(teacher, data):
    targets = distillation_targets(config_for(teacher), data)
    assert targets.shape == (400, 20)
    np.testing.assert_array_equal(targets[:, :10].argmax(axis=1), data.y_train)
    assert set(np.unique(targets[:, :10])) == {0.0, 1.0}
    answers = Predictor.load(teacher).predict_proba(data.x_train, raw=True)
    np.testing.assert_allclose(targets[:, 10:], answers, atol=1e-6)


def test_a_student_that_mirrors_learns_the_mean_answer_for_both_views(teacher, data):
    targets = distillation_targets(config_for(teacher, flip=True), data)
    predictor = Predictor.load(teacher)
    plain = predictor.predict_proba(data.x_train, raw=True)
    mirrored = predictor.predict_proba(data.x_train[:, :, ::-1], raw=True)
    assert np.abs(plain - mirrored).max() > 1e-3  # the views differ: the mean is not either
    np.testing.assert_allclose(targets[:, 10:], (plain + mirrored) / 2, atol=1e-6)


def test_a_run_without_a_teacher_has_no_targets(data):
    assert distillation_targets(build_config(preset("smoke")), data) is None


def test_teachers_that_cannot_teach_are_refused_with_the_fix(teacher, data, tmp_path):
    with pytest.raises(RunError, match="no such run folder"):
        teacher_run(tmp_path / "nowhere")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    with pytest.raises(RunError, match="not finished.*--resume"):
        teacher_run(unfinished)
    letters = dataclasses.replace(data, class_names=tuple("abcdefghij"))
    with pytest.raises(RunError, match="same classes"):
        distillation_targets(config_for(teacher), letters)


def test_the_facts_name_the_teacher_its_accuracy_and_settings(teacher):
    facts = teacher_facts(config_for(teacher).distill)
    assert facts["run"] == teacher.name
    assert facts["test_accuracy"] == RunDir(teacher).read_metrics()["test_accuracy"]
    assert (facts["temperature"], facts["alpha"]) == (2.0, 0.3)


def test_a_student_taught_by_the_teacher_alone_follows_it_against_the_labels():
    """alpha = 1 ignores the labels: a teacher that names the next class is followed."""
    images = synthetic_dataset(400, 100, seed=4)
    shifted = (images.y_train + 1) % 10
    targets = np.concatenate([np.eye(10)[images.y_train], np.eye(10)[shifted]], axis=1)
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    compile_model(
        model, "adam", learning_rate=0.01, distill=DistillConfig("teacher", 1.0, alpha=1.0)
    )
    history = fit(model, images, epochs=15, batch_size=32, targets=targets.astype(np.float32))
    predicted = model.predict(images.x_test, verbose=0).argmax(axis=1)
    assert np.mean(predicted == (images.y_test + 1) % 10) > 0.9
    assert history.history["val_accuracy"][-1] < 0.1  # measured against the true labels
