"""Training-time augmentation (shifts, mirrors, input dropout), weight averaging (EMA) and the
plain cross-entropy tracked beside a smoothed loss."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_mlp.augmentation import RandomShiftFlip
from fashion_mlp.config import MLPSpec
from fashion_mlp.errors import ConfigError
from fashion_mlp.history import history_csv
from fashion_mlp.inference.forward import numpy_forward
from fashion_mlp.models import build_model, load_saved_model
from fashion_mlp.runs import RunDir
from fashion_mlp.training import compile_model, fit

IMAGES = np.random.default_rng(0).integers(0, 256, size=(64, 28, 28)).astype(np.float32)


def test_flip_mirrors_about_half_the_images_and_nothing_else():
    out = np.asarray(RandomShiftFlip(flip=True, seed=3)(IMAGES, training=True))
    mirrored = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, IMAGES, strict=True)]
    kept = [np.array_equal(o, i) for o, i in zip(out, IMAGES, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 16 <= sum(mirrored) <= 48


def shifted(image: np.ndarray, rows: int, columns: int, most: int = 2) -> np.ndarray:
    """image moved down `rows` and right `columns` pixels, zeros filling in."""
    padded = np.pad(image, most)
    height, width = image.shape
    return padded[most - rows : most - rows + height, most - columns : most - columns + width]


def test_shift_moves_each_image_by_at_most_the_shift():
    out = np.asarray(RandomShiftFlip(shift=2, seed=5)(IMAGES, training=True))
    offsets = set()
    for moved, image in zip(out, IMAGES, strict=True):
        match = [
            (rows, columns)
            for rows in range(-2, 3)
            for columns in range(-2, 3)
            if np.array_equal(moved, shifted(image, rows, columns))
        ]
        assert match, "not a shift of at most 2 pixels"
        offsets.add(match[0])
    assert len(offsets) > 5  # each image draws its own offset


def test_augmentation_is_off_at_inference_and_in_the_numpy_pass():
    spec = MLPSpec(hidden=(16,), shift=2, flip=True, input_dropout=0.2)
    model = build_model(spec, "sequential", x_train=IMAGES)
    assert model.get_layer("augmentation") and model.get_layer("input_dropout")
    expected = model.predict(IMAGES, verbose=0)
    np.testing.assert_allclose(np.asarray(model(IMAGES, training=False)), expected, rtol=1e-5)
    forward = numpy_forward(model)
    assert forward is not None
    np.testing.assert_allclose(forward(IMAGES), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_augmentation_is_saved_with_the_model(style, tmp_path):
    model = build_model(MLPSpec(hidden=(8,), shift=1, flip=True), style, x_train=IMAGES)
    RunDir(tmp_path).save_model(model)
    loaded = load_saved_model(tmp_path / "model.keras")
    layer = next(layer for layer in loaded._flatten_layers() if isinstance(layer, RandomShiftFlip))
    assert (layer.shift, layer.flip) == (1, True)


@pytest.mark.parametrize(
    ("field", "value"), [("shift", -1), ("shift", 9), ("flip", "yes"), ("input_dropout", 1.0)]
)
def test_bad_augmentation_settings_are_named(field, value):
    with pytest.raises(ConfigError, match=f"^{field} = "):
        MLPSpec(**{field: value})


def test_augmentation_of_flat_inputs_is_refused():
    with pytest.raises(ConfigError, match="augmentation needs 2-D images"):
        build_model(MLPSpec(input_shape=(784,), shift=1))


def trained(small_data, engine: str, **settings):
    keras.utils.set_random_seed(0)
    model = build_model(MLPSpec(hidden=(16,), shift=1, flip=True), data=small_data)
    compile_model(model, "adam", learning_rate=0.01, **settings)
    raw = {}

    class LastRawWeights(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raw["weights"] = [keras.ops.convert_to_numpy(v) for v in self.model.trainable_variables]

    history = fit(
        model, small_data, epochs=2, batch_size=32, engine=engine, callbacks=[LastRawWeights()]
    )
    return model, raw["weights"], history


@pytest.fixture(scope="module")
def small_data():
    from conftest import synthetic_dataset

    return synthetic_dataset(320, 64)


@pytest.mark.slow  # two trainings per engine
@pytest.mark.parametrize("engine", ["compiled", "keras"])
def test_same_seed_same_augmented_training(small_data, engine):
    first, _, _ = trained(small_data, engine)
    second, _, _ = trained(small_data, engine)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("engine", ["compiled", "keras"])
def test_ema_weights_are_the_ones_kept(small_data, engine):
    model, raw, _ = trained(small_data, engine, ema=0.9)
    averages = model.optimizer._model_variables_moving_average  # Keras's EMA slots
    final = [keras.ops.convert_to_numpy(v) for v in model.trainable_variables]
    for kept, average, last in zip(final, averages, raw, strict=True):
        np.testing.assert_allclose(kept, keras.ops.convert_to_numpy(average), rtol=1e-6)
        assert not np.allclose(kept, last)  # not the last step's weights


def test_smoothed_loss_comes_with_the_plain_cross_entropy(small_data):
    _, _, history = trained(small_data, "compiled", label_smoothing=0.1)
    logs = history.history
    assert {"cross_entropy", "val_cross_entropy"} <= set(logs)
    assert logs["loss"][-1] > logs["cross_entropy"][-1]  # smoothing raises the loss
    assert "val_cross_entropy" in history_csv(logs).splitlines()[0]
    assert "cross_entropy" not in history_csv({"loss": [1.0]}).splitlines()[0]
