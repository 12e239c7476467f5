"""fit: engine choice, per-epoch stats, one-hot labels train like integers."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_mlp.config import MLPSpec
from fashion_mlp.errors import ConfigError
from fashion_mlp.models import build_model
from fashion_mlp.training import fit, resolve_engine
from fashion_mlp.training.optimizers import compile_model


def test_auto_engine_is_compiled_on_jax():
    assert keras.backend.backend() == "jax"
    assert resolve_engine("auto") == "compiled"
    assert resolve_engine("keras") == "keras"


def test_the_compiled_engine_needs_jax(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    assert resolve_engine("auto") == "keras"
    with pytest.raises(ConfigError, match="engine 'compiled' needs Keras's JAX backend, but "):
        resolve_engine("compiled")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, r"^epochs = 0: expected an integer >= 1$"),
        ({"engine": "fast"}, r"^engine = 'fast': expected one of auto, keras, compiled$"),
    ],
)
def test_fit_checks_its_settings_as_a_config_file_does(tiny_data, settings, message):
    model = compile_model(build_model(MLPSpec(hidden=(8,)), data=tiny_data))
    with pytest.raises(ConfigError, match=message):
        fit(model, tiny_data, **settings)


@pytest.mark.parametrize("engine", ["keras", "compiled"])
def test_fit_records_seconds_and_learning_rate(tiny_data, engine):
    keras.utils.set_random_seed(0)
    model = build_model(MLPSpec(hidden=(8,)), data=tiny_data)
    compile_model(model, learning_rate=0.05, decay=0.01)
    history = fit(model, tiny_data, epochs=2, batch_size=32, engine=engine).history
    assert len(history["seconds"]) == 2 and all(s > 0 for s in history["seconds"])
    steps = np.ceil(540 / 32) * np.array([1, 2])  # 600 images, the last 10 % held out
    np.testing.assert_allclose(history["learning_rate"], 0.05 / (1 + 0.01 * steps), rtol=1e-5)
    assert {"val_loss", "val_accuracy"} <= set(history)


@pytest.mark.slow  # two trainings per engine
@pytest.mark.parametrize("engine", ["keras", "compiled"])
def test_one_hot_labels_train_like_integers(tiny_data, engine):
    import dataclasses

    results = []
    for labels in (tiny_data.y_train, keras.utils.to_categorical(tiny_data.y_train, 10)):
        keras.utils.set_random_seed(0)
        model = build_model(MLPSpec(hidden=(8,)), data=tiny_data)
        compile_model(model)
        data = dataclasses.replace(tiny_data, y_train=labels)
        results.append(fit(model, data, epochs=1, batch_size=32, engine=engine).history["loss"])
    assert results[0] == results[1]
