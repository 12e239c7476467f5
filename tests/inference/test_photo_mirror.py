"""The user's photos may face the other way from the data set's items: a photo is averaged with
its mirror image where that scores higher on validation images seen either way round, and the
data set's own images are never mirrored."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fashion_mlp.inference.mirror import mirror_check, photo_probabilities
from fashion_mlp.inference.predictor import Predictor


def left_or_right_model() -> keras.Model:
    """Class 0 when the left half is brighter, class 1 when the right half is: a model that
    knows one orientation only, as a model of left-facing shoes does."""
    inputs = keras.Input((2, 4))
    flat = keras.layers.Flatten()(inputs)
    left_minus_right = np.array([1, 1, -1, -1, 1, 1, -1, -1], dtype="float32")[:, None]
    dense = keras.layers.Dense(2, activation="softmax")
    outputs = dense(flat)
    dense.set_weights([np.hstack([left_minus_right, -left_minus_right]), np.zeros(2)])
    return keras.Model(inputs, outputs)


@pytest.fixture
def predictor():
    return Predictor(left_or_right_model(), ["left", "right"])


def images(bright_side: str, count: int) -> np.ndarray:
    batch = np.zeros((count, 2, 4), dtype=np.uint8)
    columns = slice(0, 2) if bright_side == "left" else slice(2, 4)
    batch[:, :, columns] = 200
    return batch


def test_a_photo_is_averaged_with_its_mirror_and_a_test_image_is_not(predictor):
    batch = images("left", 2)
    plain = predictor.predict_proba(batch)
    mixed = photo_probabilities(predictor, batch, [False, True], average=True)
    np.testing.assert_allclose(mixed[0], plain[0])  # a test image: as it is
    np.testing.assert_allclose(mixed[1], [0.5, 0.5], atol=1e-6)  # a photo: with its mirror
    np.testing.assert_allclose(photo_probabilities(predictor, batch, [True, True], False), plain)


def test_averaging_is_not_chosen_when_it_does_not_help(predictor):
    # images facing the model's way: all right plain, all wrong mirrored (a mean of 50 %);
    # averaged, each is a tie, which argmax breaks to class 0: also 50 %, not higher
    x_val = np.concatenate([images("left", 5), images("right", 5)])
    y_val = np.array([0] * 5 + [1] * 5)
    check = mirror_check(predictor, x_val, y_val)
    assert check["validation_plain"] == pytest.approx(0.5)
    assert check["validation_averaged"] == pytest.approx(0.5)
    assert check["average_photos"] is False
    assert mirror_check(predictor, None, None) == {}


class TwoViews:
    """A predictor that gives set probabilities to images as they are and to their mirrors."""

    input_shape = (1, 2)

    def __init__(self, plain, mirrored):
        self.views = {0: np.array(plain), 1: np.array(mirrored)}

    def predict_proba(self, images):
        return self.views[int(images[0, 0, 0] == 9)].copy()  # the mirror has the 9 on the left


def test_averaging_is_chosen_where_it_scores_higher_on_validation():
    x_val = np.array([[[9, 0]], [[9, 0]]], dtype=np.uint8)
    # plain right on one image, mirrored on the other (50 %); averaged right on both (100 %)
    predictor = TwoViews(plain=[[0.4, 0.6], [0.6, 0.4]], mirrored=[[0.9, 0.1], [0.4, 0.6]])
    check = mirror_check(predictor, x_val[:, :, ::-1], np.array([0, 0]))
    assert (check["validation_plain"], check["validation_averaged"]) == (0.5, 1.0)
    assert check["average_photos"] is True


@pytest.mark.parametrize("chosen", [True, False])
def test_predict_averages_the_users_photos_as_the_run_chose(tmp_path, chosen):
    from conftest import synthetic_dataset, write_idx_dataset
    from PIL import Image

    from fashion_mlp.config import MLPSpec, build_config
    from fashion_mlp.inference.predict_inputs import predict_inputs
    from fashion_mlp.models import build_model
    from fashion_mlp.runs import RunDir

    data = synthetic_dataset(100, 20)
    run = RunDir.create(tmp_path / "runs", "run")
    folder = write_idx_dataset(tmp_path / "data", data)
    run.write_config(build_config({"data": {"name": str(folder)}, "model": {"hidden": [8]}}))
    model = build_model(MLPSpec(hidden=(8,)), data=data)
    run.save_model(model)
    names = list(data.class_names)
    run.write_metrics({"class_names": names, "mirror": {"average_photos": chosen}})
    Image.fromarray(data.x_test[0]).save(tmp_path / "photo.png")
    _, (test, photo) = predict_inputs(run.path, [0], [tmp_path / "photo.png"])
    plain = Predictor(model, names)
    np.testing.assert_allclose(
        test.probabilities, plain.predict_proba(data.x_test[0])[0], atol=1e-6
    )
    expected = photo_probabilities(plain, photo.pixels[None], [True], average=chosen)[0]
    np.testing.assert_allclose(photo.probabilities, expected, atol=1e-6)
    assert chosen == (not np.allclose(photo.probabilities, plain.predict_proba(photo.pixels)[0]))
