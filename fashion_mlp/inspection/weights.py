"""The first Dense layer's weights of each unit as an image of the input, most important first.

As stored (the default): the Dense kernel's columns, weights on the standardised pixels, that
is each raw pixel's weight times its spread in the training images: a unit's response to a
typical change of each pixel, what its image shows best. Folded: the linear layers around the
Dense multiplied in (the input's Rescaling and Normalization, a BatchNormalization right after
it), so an image's dot product with raw pixels (0-255) plus the folded bias is exactly the
unit's pre-activation; there, pixels that are almost always black in training (the borders)
get weights many times the others, and dominate a picture while rarely mattering.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from fashion_mlp.augmentation import RandomShiftFlip
from fashion_mlp.inspection.activations import activations
from fashion_mlp.inspection.network import InspectionError, Network

IDENTITY_LAYERS = (keras.layers.InputLayer, keras.layers.Dropout, RandomShiftFlip)  # inference


@dataclass(frozen=True)
class FirstLayerWeights:
    """One weight image per unit of the first Dense layer, and the units' order of importance."""

    layer: str  # the first Dense layer's name
    images: np.ndarray  # (units, *input_shape) float32: each pixel's weight on the unit
    bias: np.ndarray  # (units,) float32, folded like the images
    folded: bool  # True: on raw grey levels, through the normalisation (see the module)
    order: np.ndarray  # unit numbers, most important first
    importance: np.ndarray  # (units,) the ranking's score of each unit
    ranking: str  # how `importance` is computed, in words


def first_layer_weights(
    network: Network, images: np.ndarray | None = None, *, folded: bool = False
) -> FirstLayerWeights:
    """The first Dense layer's weight images, ranked by how much each unit matters.

    A unit's importance is the L2 norm of its outgoing weights (its row of the next Dense's
    kernel) times the standard deviation of its value over `images` (its activation spread);
    without images, the norm alone. With no hidden layer, units keep their order.
    """
    if network.problem:
        raise InspectionError(f"first-layer weights: {network.problem}")
    first = network.chain[network.dense_positions[0]]
    kernel, bias = dense_weights(first)
    if folded:
        kernel, bias = fold_input(network, kernel, bias)
        kernel, bias = fold_batch_norm(network, kernel, bias)
    if kernel.shape[0] != int(np.prod(network.input_shape)):
        raise InspectionError(
            f"layer {first.name!r} takes {kernel.shape[0]} values per image, not the "
            f"{int(np.prod(network.input_shape))} pixels: its weights are not an image"
        )
    importance, ranking = unit_importance(network, images)
    if importance is None:
        importance, ranking = np.zeros(len(bias)), "none: the first Dense is the output layer"
    return FirstLayerWeights(
        layer=first.name,
        images=kernel.T.reshape(-1, *network.input_shape).astype(np.float32),
        bias=bias.astype(np.float32),
        folded=folded,
        order=np.argsort(-importance, kind="stable"),
        importance=importance.astype(np.float32),
        ranking=ranking,
    )


def dense_weights(layer: keras.layers.Dense) -> tuple[np.ndarray, np.ndarray]:
    """A Dense layer's kernel (inputs, units) and bias as float64 arrays."""
    kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel), dtype=np.float64)
    bias = layer.bias if layer.use_bias else np.zeros(kernel.shape[1])
    return kernel, np.asarray(keras.ops.convert_to_numpy(bias), dtype=np.float64)


def fold_input(network: Network, kernel: np.ndarray, bias: np.ndarray):
    """Kernel and bias on raw pixels: the affine layers before the first Dense multiplied in."""
    scale = np.ones(network.input_shape)
    offset = np.zeros(network.input_shape)
    for layer in network.chain[: network.dense_positions[0]]:
        if isinstance(layer, keras.layers.Flatten):
            scale, offset = scale.reshape(-1), offset.reshape(-1)
        elif isinstance(layer, keras.layers.Rescaling):
            factor, shift = (
                per_value(layer.scale, scale.shape),
                per_value(layer.offset, scale.shape),
            )
            scale, offset = scale * factor, offset * factor + shift
        elif isinstance(layer, keras.layers.Normalization) and not layer.invert:
            mean = per_value(layer.mean, scale.shape)
            std = np.maximum(
                np.sqrt(per_value(layer.variance, scale.shape)), keras.config.epsilon()
            )
            scale, offset = scale / std, (offset - mean) / std
        elif not isinstance(layer, IDENTITY_LAYERS):
            raise InspectionError(
                f"layer {layer.name!r} ({type(layer).__name__}) comes before the first Dense: "
                "the weights cannot be folded onto raw pixels; pass folded=False"
            )
    scale, offset = scale.reshape(-1), offset.reshape(-1)
    return kernel * scale[:, None], bias + offset @ kernel


def per_value(value, shape: tuple[int, ...]) -> np.ndarray:
    """A layer's constant (scalar, or with a leading batch axis of 1) broadcast to one input."""
    array = np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)
    return (
        np.broadcast_to(array, (1, *shape))[0]
        if array.ndim > len(shape)
        else array * np.ones(shape)
    )


def fold_batch_norm(network: Network, kernel: np.ndarray, bias: np.ndarray):
    """Kernel and bias through a BatchNormalization right after the first Dense, if any."""
    position = network.dense_positions[0] + 1
    layer = network.chain[position] if position < len(network.chain) else None
    if not isinstance(layer, keras.layers.BatchNormalization):
        return kernel, bias
    gamma = np.asarray(layer.gamma) if layer.scale else 1.0
    beta = np.asarray(layer.beta) if layer.center else 0.0
    scale = gamma / np.sqrt(np.asarray(layer.moving_variance) + layer.epsilon)
    return kernel * scale, (bias - np.asarray(layer.moving_mean)) * scale + beta


def unit_importance(network: Network, images) -> tuple[np.ndarray | None, str]:
    """Each first-layer unit's outgoing-weight norm (times its spread over images) and how."""
    if len(network.dense_positions) < 2:
        return None, ""
    outgoing = dense_weights(network.chain[network.dense_positions[1]])[0]
    norms = np.linalg.norm(outgoing, axis=1)
    if len(norms) != network.chain[network.dense_positions[0]].units:
        return None, ""  # a layer between them changes the shape: no unit-to-row match
    if images is None:
        return norms, "L2 norm of the unit's outgoing weights"
    spread = activations(network, images)[network.hidden_names[0]].std(axis=0)
    return norms * spread, "L2 norm of the unit's outgoing weights x its activation's std"
