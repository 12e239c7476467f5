"""Hidden layers of every model style, their values, each class's mean pattern, and the models
or inputs the methods refuse."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from inspection_models import BATCH_NORM, NOTEBOOK, data, ensemble_network, images, network, trained

from fashion_mlp.inspection.activations import activations, class_means
from fashion_mlp.inspection.network import InspectionError, Network


@pytest.mark.parametrize("style", ["sequential", "functional", "subclassed"])
def test_every_style_has_the_notebooks_hidden_layers(style):
    values = activations(network(NOTEBOOK, style), images())
    assert {name: array.shape for name, array in values.items()} == {
        "dense_1": (8, 64),
        "dense_2": (8, 32),
    }


def test_the_last_hidden_layer_is_what_the_output_layer_reads():
    net = network()
    hidden = activations(net, images())["dense_2"]
    kernel, bias = trained().get_layer("output").get_weights()
    probabilities = np.exp(net.forward(images())[0])
    np.testing.assert_allclose(probabilities, keras.ops.softmax(hidden @ kernel + bias), atol=1e-5)


def test_batch_norm_hidden_layers_end_after_their_activation():
    values = activations(network(BATCH_NORM, "functional"), images())
    assert list(values) == ["dense_1", "dense_2"]
    assert values["dense_1"].min() >= 0  # after the ReLU (and inference-mode dropout)
    model = trained(BATCH_NORM, "functional")
    expected = keras.Model(model.inputs, model.get_layer("activation_2").output).predict(
        images(), verbose=0
    )
    np.testing.assert_allclose(values["dense_2"], expected, atol=1e-5)


def test_probabilities_match_the_model():
    log_probabilities = network(BATCH_NORM, "functional").forward(images(300))[0]
    expected = trained(BATCH_NORM, "functional").predict(images(300), verbose=0)
    np.testing.assert_allclose(np.exp(log_probabilities), expected, atol=1e-5)


def test_class_means_average_each_classes_images():
    net = network()
    x, y = data().x_test, data().y_test
    means = class_means(net, x, y)
    assert means["dense_2"].shape == (10, 32)
    values = activations(net, x[y == 7])["dense_2"]
    np.testing.assert_allclose(means["dense_2"][7], values.mean(axis=0), atol=1e-5)


def test_class_means_refuse_labels_out_of_range():
    with pytest.raises(InspectionError, match="each from 0 to 9"):
        class_means(network(), images(2), [0, 10])


def test_an_ensemble_has_no_hidden_layers_to_read():
    with pytest.raises(InspectionError, match="activations: model 'ensemble' is not a chain"):
        activations(ensemble_network(), images())


def test_a_single_dense_layer_has_no_hidden_layer():
    model = keras.Sequential(
        [keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    with pytest.raises(InspectionError, match="no hidden layer"):
        activations(Network(model, [str(i) for i in range(10)]), images())


def test_logit_outputs_become_log_probabilities():
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(5, "tanh"),
            keras.layers.Dense(10),
        ]
    )
    net = Network(model, [str(i) for i in range(10)])
    expected = keras.ops.log_softmax(model(images().astype("float32")))
    np.testing.assert_allclose(net.forward(images())[0], expected, atol=1e-5)
