"""Integrated Gradients and gradient x input: completeness, shapes, the explained class, the
baseline, errors; on the notebook's MLP, a batch-norm MLP and an ensemble."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from inspection_models import BATCH_NORM, NOTEBOOK, ensemble_network, images, network

from fashion_mlp.inspection.attributions import gradient_x_input, integrated_gradients
from fashion_mlp.inspection.network import InspectionError

COMPLETENESS = 0.01  # the bound: sum within 1 % of F(image) - F(baseline)


@pytest.mark.parametrize(
    ("spec", "style"),
    [(NOTEBOOK, "sequential"), (NOTEBOOK, "subclassed"), (BATCH_NORM, "functional")],
    ids=["notebook", "subclassed", "batch-norm"],
)
def test_attributions_sum_to_the_change_of_the_log_probability(spec, style):
    explained = integrated_gradients(network(spec, style), images(16))
    assert explained.values.shape == (16, 28, 28)
    assert explained.values.dtype == np.float32
    assert np.abs(explained.target - explained.baseline_target).max() > 1  # not a trivial case
    assert explained.completeness_error.max() <= COMPLETENESS


def test_completeness_error_is_measured_against_the_change():
    explained = integrated_gradients(network(), images(4), steps=1)  # one interval: far off
    change = explained.target - explained.baseline_target
    total = explained.values.sum(axis=(1, 2))
    expected = np.abs(total - change) / np.maximum(np.abs(change), 1)
    np.testing.assert_allclose(explained.completeness_error, expected, rtol=1e-6)
    assert explained.completeness_error.max() > COMPLETENESS


def test_the_predicted_class_is_explained_by_default():
    net = network()
    explained = integrated_gradients(net, images())
    log_probabilities = net.forward(images())[0]
    np.testing.assert_array_equal(explained.classes, log_probabilities.argmax(axis=1))
    np.testing.assert_allclose(explained.target, log_probabilities.max(axis=1), atol=1e-5)


@pytest.mark.parametrize("chosen", [3, "Dress", "dress", np.int64(3)])
def test_a_class_is_chosen_by_number_or_name(chosen):
    explained = integrated_gradients(network(), images(), chosen)
    np.testing.assert_array_equal(explained.classes, [3] * 8)


def test_each_image_may_have_its_own_class():
    explained = integrated_gradients(network(), images(3), [0, "Bag", 9])
    np.testing.assert_array_equal(explained.classes, [0, 8, 9])


def test_one_image_gives_a_batch_of_one():
    explained = integrated_gradients(network(), images(1)[0])
    assert explained.values.shape == (1, 28, 28)


def test_black_is_the_default_baseline_and_attributions_vanish_where_image_equals_it():
    image = images(1)[0].copy()
    image[:, :14] = 0
    explained = integrated_gradients(network(), image)
    assert not explained.baseline.any()
    assert not explained.values[0][:, :14].any()


def test_another_baseline_is_used_and_stated():
    grey = integrated_gradients(network(), images(4), baseline=128.0)
    assert (grey.baseline == 128).all()
    assert grey.completeness_error.max() <= COMPLETENESS
    black = integrated_gradients(network(), images(4))
    assert not np.allclose(grey.baseline_target, black.baseline_target)


def test_gradient_x_input_is_the_gradient_at_the_image_times_the_image():
    net, image, chosen = network(), images(1)[0].astype(np.float32), 4

    def explained(pixels):
        return net.call(net.params, pixels[None])[0][0, chosen]

    instant = gradient_x_input(net, image, chosen)
    assert (instant.method, instant.steps) == ("gradient_x_input", 1)
    expected = np.asarray(jax.grad(explained)(image)) * image
    np.testing.assert_allclose(instant.values[0], expected, rtol=1e-4, atol=1e-7)


def test_the_same_batch_gives_the_same_attributions_alone_or_in_a_larger_batch():
    net = network()
    together = integrated_gradients(net, images(9)).values
    alone = integrated_gradients(net, images(9)[4]).values[0]
    np.testing.assert_allclose(alone, together[4], rtol=1e-4, atol=1e-6)


def test_an_ensemble_is_explained_through_its_averaged_probabilities():
    explained = integrated_gradients(ensemble_network(), images(4))
    assert explained.completeness_error.max() <= COMPLETENESS


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"classes": 10}, "class 10: expected a number from 0 to 9"),
        ({"classes": "Hat"}, "class 'Hat'"),
        ({"classes": [1, 2]}, "2 classes for 8 images"),
        ({"baseline": np.zeros((3, 3))}, "baseline of shape (3, 3)"),
        ({"steps": 0}, "steps=0"),
    ],
)
def test_bad_arguments_are_one_clear_error(arguments, message):
    with pytest.raises(InspectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        integrated_gradients(network(), images(), **arguments)


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 28, 27)), np.zeros((0, 28, 28)), np.full((28, 28), np.nan)]
)
def test_bad_images_are_one_clear_error(bad):
    with pytest.raises(InspectionError, match="images|pixels"):
        integrated_gradients(network(), bad)
