"""A population's checkpoint is valid in one rename: a kill at any write step resumes exactly as
an uninterrupted run, and checkpoints of earlier versions (record beside the arrays) resume."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from conftest import Killed, renames_of, synthetic_dataset

import fashion_mlp  # noqa: F401  (selects the JAX backend before Keras is imported)
from fashion_mlp.training.population import train_population
from fashion_mlp.training.population.checkpoint import CHECKPOINT_ARRAYS, RECORD_ARRAY

DATA = synthetic_dataset(150, 20, seed=6)
SETTINGS = {"seeds": [1, 2], "epochs": 3, "batch_size": 16, "validation_split": 0.1}


def member(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Dense(8, activation="tanh"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
        metrics=["accuracy"],
        loss="sparse_categorical_crossentropy",
    )
    return model


def population(folder=None):
    models = [member(seed) for seed in SETTINGS["seeds"]]
    return models, train_population(models, DATA, checkpoint_dir=folder, **SETTINGS)


def assert_same(models, histories, expected_models, expected_histories):
    for model, reference in zip(models, expected_models, strict=True):
        for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
            np.testing.assert_allclose(got, want, atol=2e-5)
    for history, reference in zip(histories, expected_histories, strict=True):
        assert history["val_loss"] == pytest.approx(reference["val_loss"], rel=1e-5)


def test_a_kill_at_every_write_step_resumes_as_if_uninterrupted(tmp_path, monkeypatch):
    with monkeypatch.context() as patch:
        writes = renames_of(patch)
        expected_models, expected_histories = population(tmp_path / "uninterrupted")
    assert len(writes) == SETTINGS["epochs"]  # one rename per epoch: the checkpoint is one file
    for step in range(len(writes)):
        folder = tmp_path / f"killed-at-{step}"
        with monkeypatch.context() as patch, pytest.raises(Killed):
            renames_of(patch, kill_at=step)
            population(folder)
        assert_same(*population(folder), expected_models, expected_histories)


def test_a_checkpoint_of_an_earlier_version_resumes(tmp_path):
    """Earlier versions wrote the record to state.json beside arrays without it."""
    expected_models, expected_histories = population()

    def stop_after_first_epoch(epoch, logs):
        if epoch == 0:
            raise Killed

    with pytest.raises(Killed):
        train_population(
            [member(seed) for seed in SETTINGS["seeds"]],
            DATA,
            checkpoint_dir=tmp_path,
            on_epoch_end=stop_after_first_epoch,
            **SETTINGS,
        )
    with np.load(tmp_path / CHECKPOINT_ARRAYS) as arrays:
        record = json.loads(arrays[RECORD_ARRAY].tobytes().decode())
        old = {name: arrays[name] for name in arrays.files if name != RECORD_ARRAY}
    np.savez(tmp_path / CHECKPOINT_ARRAYS, **old)
    (tmp_path / "state.json").write_text(json.dumps(record))
    assert_same(*population(tmp_path), expected_models, expected_histories)
    assert not (tmp_path / "state.json").exists()  # the new checkpoint holds its record
