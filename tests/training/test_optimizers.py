"""compile_model: optimizers by name, schedules, Keras 2's legacy decay, loss options."""

from __future__ import annotations

import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset

from fashion_mlp.config import OPTIMIZERS, MLPSpec
from fashion_mlp.errors import ConfigError
from fashion_mlp.models import build_model
from fashion_mlp.training.optimizers import compile_model, learning_rate_at

KERAS_CLASSES = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "nadam": keras.optimizers.Nadam,
}


@pytest.fixture(scope="module")
def small_data():
    return synthetic_dataset(n_train=64, n_test=32, seed=5)


def tiny_model(data, **spec_fields):
    return build_model(MLPSpec(hidden=(8,), **spec_fields), "functional", data)


def logits_model():
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])


@pytest.mark.parametrize("step", [0, 1, 7, 37_500, 1_000_000])
def test_legacy_decay_is_keras2_inverse_time(step, small_data):
    model = compile_model(tiny_model(small_data), learning_rate=0.01, decay=1e-6)  # notebook's
    expected = 0.01 / (1 + 1e-6 * step)
    assert learning_rate_at(model, step) == pytest.approx(expected, rel=1e-6)


def test_legacy_decay_follows_the_optimizers_update_count(small_data):
    model = compile_model(tiny_model(small_data), learning_rate=0.5, decay=0.1, momentum=0.9)
    model.fit(small_data.x_train, small_data.y_train, batch_size=16, epochs=1, verbose=0)
    updates = int(model.optimizer.iterations)
    assert updates == 4
    assert float(model.optimizer.learning_rate) == pytest.approx(0.5 / (1 + 0.1 * updates))


def test_legacy_decay_cannot_be_combined_with_another_schedule(small_data):
    with pytest.raises(ConfigError, match="decay = 0.001 with schedule = 'cosine'"):
        compile_model(tiny_model(small_data), decay=1e-3, schedule="cosine", total_steps=10)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_each_optimizer_compiles_and_trains(name, small_data):
    model = compile_model(tiny_model(small_data), optimizer=name, learning_rate=0.01)
    assert isinstance(model.optimizer, KERAS_CLASSES[name])
    before = model.get_layer("dense_1").get_weights()[0].copy()
    model.train_on_batch(small_data.x_train[:16], small_data.y_train[:16])
    assert not np.array_equal(before, model.get_layer("dense_1").get_weights()[0])


def test_sgd_settings_reach_keras(small_data):
    model = compile_model(
        tiny_model(small_data), momentum=0.9, nesterov=True, weight_decay=1e-4, learning_rate=0.05
    )
    config = model.optimizer.get_config()
    assert (config["momentum"], config["nesterov"]) == (0.9, True)
    assert config["weight_decay"] == pytest.approx(1e-4)
    assert config["learning_rate"] == pytest.approx(0.05)


def test_unknown_optimizer_lists_the_valid_names(small_data):
    with pytest.raises(ConfigError, match="sgd, adam, adamw, rmsprop"):
        compile_model(tiny_model(small_data), optimizer="adadelta9")


def test_momentum_for_an_optimizer_without_it_is_an_error(small_data):
    with pytest.raises(ConfigError, match="momentum = 0.9 with optimizer = 'adam'"):
        compile_model(tiny_model(small_data), optimizer="adam", momentum=0.9)


def test_cosine_schedule_warms_up_then_decays_to_zero(small_data):
    model = compile_model(
        tiny_model(small_data),
        schedule="cosine",
        learning_rate=0.1,
        warmup_steps=10,
        total_steps=110,
    )
    assert learning_rate_at(model, 0) == pytest.approx(0.0)
    assert learning_rate_at(model, 5) == pytest.approx(0.05)
    assert learning_rate_at(model, 10) == pytest.approx(0.1)
    assert learning_rate_at(model, 60) == pytest.approx(0.05, rel=1e-5)
    assert learning_rate_at(model, 110) == pytest.approx(0.0, abs=1e-9)


def test_cosine_schedule_needs_total_steps(small_data):
    with pytest.raises(ConfigError, match="needs total_steps"):
        compile_model(tiny_model(small_data), schedule="cosine")


def test_one_cycle_rises_from_a_25th_to_the_peak_then_anneals(small_data):
    model = compile_model(
        tiny_model(small_data), schedule="one_cycle", learning_rate=0.1, total_steps=100
    )
    assert learning_rate_at(model, 0) == pytest.approx(0.1 / 25)
    assert learning_rate_at(model, 30) == pytest.approx(0.1)
    assert learning_rate_at(model, 100) == pytest.approx(0.1 * 1e-4, rel=1e-3)


def test_from_logits_is_detected_from_the_model(small_data):
    softmax_model = compile_model(tiny_model(small_data))
    assert softmax_model.loss.get_config()["from_logits"] is False
    assert compile_model(logits_model()).loss.get_config()["from_logits"] is True


def test_label_smoothing_gives_the_smoothed_cross_entropy(small_data):
    smoothing, classes = 0.2, 10
    model = tiny_model(small_data)
    plain_loss = compile_model(model).evaluate(small_data.x_test, small_data.y_test, verbose=0)[0]
    compile_model(model, label_smoothing=smoothing)
    smoothed_loss = model.evaluate(small_data.x_test, small_data.y_test, verbose=0)[0]
    probabilities = model.predict(small_data.x_test, verbose=0)
    targets = np.full_like(probabilities, smoothing / classes)
    targets[np.arange(len(targets)), small_data.y_test] += 1 - smoothing
    expected = -(targets * np.log(probabilities)).sum(axis=1).mean()
    assert smoothed_loss != pytest.approx(plain_loss)
    assert smoothed_loss == pytest.approx(expected, rel=1e-4)


LOAD_IN_A_FRESH_PROCESS = """
import sys
from fashion_mlp.models import load_saved_model
print(load_saved_model(__import__("pathlib").Path(sys.argv[1])).loss.get_config()["label_smoothing"])
"""


@pytest.mark.slow
def test_a_model_saved_with_the_smoothed_loss_loads_where_no_training_code_was_imported(
    small_data, tmp_path
):  # as in `fashion-mlp predict` of a `best` run, which once failed on the unknown loss
    model = compile_model(tiny_model(small_data), label_smoothing=0.1)
    model.save(tmp_path / "model.keras")
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS, str(tmp_path / "model.keras")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert float(loaded.stdout) == pytest.approx(0.1)


def test_smoothed_loss_survives_a_safe_mode_round_trip(small_data, tmp_path):
    model = compile_model(tiny_model(small_data), label_smoothing=0.1)
    model.optimizer.build(model.trainable_variables)  # as after training: its slots are saved
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    assert loaded.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
    assert loaded.evaluate(small_data.x_test, small_data.y_test, verbose=0)[0] == pytest.approx(
        model.evaluate(small_data.x_test, small_data.y_test, verbose=0)[0]
    )
