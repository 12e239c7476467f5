"""First-layer weight images: folded onto raw pixels (through the normalisation and batch norm)
they give the unit's pre-activation exactly; ranked by outgoing weight norm x activation spread."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from inspection_models import BATCH_NORM, NOTEBOOK, ensemble_network, images, network, trained

from fashion_mlp.inspection.activations import activations
from fashion_mlp.inspection.network import InspectionError, Network
from fashion_mlp.inspection.weights import first_layer_weights


def pre_activation(model: keras.Model, layer: str, pixels: np.ndarray) -> np.ndarray:
    """What the named layer outputs for raw pixels (a functional sub-model)."""
    return keras.Model(model.inputs, model.get_layer(layer).output).predict(pixels, verbose=0)


def folded_response(weights, pixels: np.ndarray) -> np.ndarray:
    flat = weights.images.reshape(len(weights.images), -1)
    return pixels.reshape(len(pixels), -1).astype(np.float64) @ flat.T + weights.bias


def test_folded_images_are_each_raw_pixels_weight_on_the_unit():
    weights = first_layer_weights(network(NOTEBOOK, "functional"), folded=True)
    assert weights.images.shape == (64, 28, 28) and weights.folded
    model = trained(NOTEBOOK, "functional")
    dense = pre_activation(model, "dense_1", images())  # tanh(pre-activation)
    np.testing.assert_allclose(np.tanh(folded_response(weights, images())), dense, atol=1e-4)


@pytest.mark.slow  # trains a batch-norm model
def test_batch_norm_is_folded_in_too():
    weights = first_layer_weights(network(BATCH_NORM, "functional"), folded=True)
    model = trained(BATCH_NORM, "functional")
    normalised = pre_activation(model, "batch_norm_1", images())
    np.testing.assert_allclose(folded_response(weights, images()), normalised, atol=1e-3)


def test_by_default_images_are_the_kernel_as_stored():
    weights = first_layer_weights(network())
    assert not weights.folded
    kernel = trained().get_layer("dense_1").get_weights()[0]
    np.testing.assert_allclose(weights.images.reshape(64, -1), kernel.T, rtol=1e-6)


def test_units_are_ranked_by_outgoing_norm_times_spread():
    net = network()
    weights = first_layer_weights(net, images(100))
    outgoing = np.linalg.norm(trained().get_layer("dense_2").get_weights()[0], axis=1)
    spread = activations(net, images(100))["dense_1"].std(axis=0)
    np.testing.assert_allclose(weights.importance, outgoing * spread, rtol=1e-4)
    assert np.all(np.diff(weights.importance[weights.order]) <= 0)
    assert "spread" not in first_layer_weights(net).ranking  # without images: the norm alone
    assert "std" in weights.ranking


def test_a_model_without_hidden_layers_keeps_its_units_in_order():
    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")]
    )
    weights = first_layer_weights(Network(model, [str(i) for i in range(10)]))
    np.testing.assert_array_equal(weights.order, np.arange(10))


def test_an_ensemble_is_refused_with_the_reason():
    with pytest.raises(InspectionError, match="not a chain of layers"):
        first_layer_weights(ensemble_network())


def test_a_layer_that_cannot_be_folded_is_named():
    inputs = keras.Input((28, 28))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.UnitNormalization(name="unit_norm")(x)
    x = keras.layers.Dense(4, activation="tanh")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    network_ = Network(model, [str(i) for i in range(10)])
    with pytest.raises(InspectionError, match="layer 'unit_norm' \\(UnitNormalization\\)"):
        first_layer_weights(network_, folded=True)
    assert first_layer_weights(network_).images.shape == (4, 28, 28)


def test_flat_inputs_give_flat_images():
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(8), keras.layers.Dense(10)])
    weights = first_layer_weights(Network(model, [str(i) for i in range(10)]))
    assert weights.images.shape == (8, 784)
