"""Predictor: its fast paths match `model.predict`; it loads run directories and says clearly
what is wrong with a broken one."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset

import fashion_mlp.inference.forward as forward_module
from fashion_mlp.config import MLPSpec
from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.inference.forward import numpy_forward
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.models import build_model

DATA = synthetic_dataset(300, 50, seed=4)
TOLERANCE = 1e-5


def trained_model(style="sequential", **spec_fields):
    """A small MLP of `style` with every weight off its initial value, as after training, and
    BatchNorm statistics far from the defaults (mean 0, variance 1): what a fast path could
    get wrong. Set directly: one epoch of `fit` cost seconds of compiling and moved them less."""
    keras.utils.set_random_seed(0)
    spec = MLPSpec(**{"hidden": (16, 8), **spec_fields})
    model = build_model(spec, style=style, data=DATA)
    rng = np.random.default_rng(0)
    for weight in model.trainable_weights:
        weight.assign(weight.numpy() + rng.normal(0.0, 0.1, weight.shape))
    for weight in model.non_trainable_weights:
        if weight.name == "moving_mean":
            weight.assign(rng.normal(0.0, 0.5, weight.shape))
        elif weight.name == "moving_variance":
            weight.assign(rng.uniform(0.3, 3.0, weight.shape))
    return model


def assert_matches_predict(predictor, model, images=DATA.x_test):
    expected = model.predict(images, verbose=0)
    np.testing.assert_allclose(predictor.predict_proba(images), expected, atol=TOLERANCE)


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_matches_model_predict_in_every_style(style):
    model = trained_model(style, batch_norm=True, dropout=0.3)
    assert_matches_predict(Predictor(model, DATA.class_names), model)


def test_layer_chains_take_the_numpy_path_and_subclassed_models_do_not():
    assert numpy_forward(trained_model("functional", batch_norm=True, dropout=0.3)) is not None
    assert numpy_forward(trained_model("subclassed")) is None


@pytest.mark.parametrize("activation", sorted(forward_module.NUMPY_ACTIVATIONS))
def test_numpy_activations_match_keras(activation):
    model = trained_model(activation=activation)
    assert numpy_forward(model) is not None
    assert_matches_predict(Predictor(model, DATA.class_names), model)


def test_an_unsupported_layer_falls_back_to_the_jitted_call():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.LayerNormalization(),  # no NumPy version
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    assert numpy_forward(model) is None
    assert_matches_predict(Predictor(model, DATA.class_names), model)


def test_jitted_call_handles_batches_beyond_its_largest_bucket(monkeypatch):
    monkeypatch.setattr(forward_module, "BATCH_BUCKETS", (1, 4, 8))
    model = trained_model("subclassed")
    predictor = Predictor(model, DATA.class_names)
    for count in (1, 3, 8, 21):
        assert_matches_predict(predictor, model, DATA.x_test[:count])


def test_one_image_gives_one_row_and_a_wrong_shape_is_a_clear_error():
    predictor = Predictor(trained_model(), DATA.class_names)
    probabilities = predictor.predict_proba(DATA.x_test[0])
    assert probabilities.shape == (1, len(DATA.class_names))
    batch = predictor.predict_proba(DATA.x_test[:2])
    np.testing.assert_allclose(probabilities[0], batch[0], atol=TOLERANCE)
    with pytest.raises(ConfigError, match=r"images of shape \(3, 28\)"):
        predictor.predict_proba(np.zeros((3, 28), dtype=np.uint8))


def test_top_k_lists_the_most_probable_classes_in_order():
    predictor = Predictor(trained_model(), DATA.class_names)
    probabilities = predictor.predict_proba(DATA.x_test[:4])
    tops = predictor.top_k(DATA.x_test[:4], k=3)

    assert len(tops) == 4
    for row, top in zip(probabilities, tops, strict=True):
        assert top[0][0] == DATA.class_names[int(np.argmax(row))]
        assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        assert [p for _, p in top] == pytest.approx(sorted(row, reverse=True)[:3])
    with pytest.raises(ConfigError, match="k=11"):
        predictor.top_k(DATA.x_test[:1], k=11)


def test_a_model_that_outputs_logits_still_gives_probabilities():
    keras.utils.set_random_seed(0)
    layers = [keras.layers.Flatten(), keras.layers.Rescaling(1 / 255), keras.layers.Dense(10)]
    model = keras.Sequential([keras.Input((28, 28)), *layers])
    probabilities = Predictor(model, DATA.class_names).predict_proba(DATA.x_test)
    expected = keras.ops.convert_to_numpy(keras.activations.softmax(model.predict(DATA.x_test)))
    np.testing.assert_allclose(probabilities, expected, atol=TOLERANCE)


def write_run(run_dir, model, class_names=DATA.class_names):
    run_dir.mkdir()
    model.save(run_dir / "model.keras")
    (run_dir / "metrics.json").write_text(json.dumps({"class_names": list(class_names)}))
    return run_dir


def test_load_reads_the_model_and_class_names_of_a_run(tmp_path):
    model = trained_model("functional", batch_norm=True)
    names = [f"class {index}" for index in range(10)]
    predictor = Predictor.load(write_run(tmp_path / "run", model, names))

    assert predictor.class_names == tuple(names)
    assert_matches_predict(predictor, model)


def test_load_of_a_missing_run_names_the_missing_file(tmp_path):
    with pytest.raises(
        RunError, match=r"nowhere does not exist; `fashion-mlp runs` lists the runs"
    ):
        Predictor.load(tmp_path / "nowhere")


def test_load_of_a_corrupt_model_names_the_file_and_the_fix(tmp_path):
    run_dir = write_run(tmp_path / "run", trained_model())
    (run_dir / "model.keras").write_bytes(b"not a zip file")
    with pytest.raises(RunError, match=r"model\.keras could not be loaded.*train the run again"):
        Predictor.load(run_dir)


def test_load_without_class_names_is_a_clear_error(tmp_path):
    run_dir = write_run(tmp_path / "run", trained_model())
    (run_dir / "metrics.json").write_text(json.dumps({"test_accuracy": 0.5}))
    with pytest.raises(RunError, match="no class_names"):
        Predictor.load(run_dir)


def fail_if_called(model):
    raise AssertionError("the NumPy pass was expected, not a slower fallback")


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_a_predictor_loaded_from_a_run_folder_uses_the_numpy_pass(tmp_path, monkeypatch, style):
    # A loaded Sequential once fell back to the jitted call: its layers' `input` tensors come
    # from a graph Keras rebuilds while loading, so the chain check failed.
    model = trained_model(style, batch_norm=True, dropout=0.3)
    run_dir = write_run(tmp_path / "run", model)
    monkeypatch.setattr(forward_module, "jax_forward", fail_if_called)
    monkeypatch.setattr(forward_module, "keras_forward", fail_if_called)
    predictor = Predictor.load(run_dir)
    assert_matches_predict(predictor, model)
