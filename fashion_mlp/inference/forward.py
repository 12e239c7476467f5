"""Forward passes of a trained model for inference, fastest first.

Plain NumPy for a chain of Flatten, Rescaling, Normalization, Dense, BatchNormalization,
Activation and Dropout layers (weights extracted once); a jitted `stateless_call` padded to a
few fixed batch sizes (any model, JAX backend); `model.predict` on other backends.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from fashion_mlp.augmentation import RandomShiftFlip
from fashion_mlp.chains import layer_chain

Forward = Callable[[np.ndarray], np.ndarray]

BATCH_BUCKETS = (1, 16, 256, 4096)  # jitted batch sizes: pad to the next, so only 4 compilations


def fastest_forward(model: keras.Model) -> Forward:
    """The fastest forward pass that can run `model` (NumPy, then jitted JAX, then Keras)."""
    return numpy_forward(model) or jax_forward(model) or keras_forward(model)


def keras_forward(model: keras.Model) -> Forward:
    """`model.predict`: works on every backend."""
    return lambda batch: model.predict(batch, verbose=0)


def jax_forward(model: keras.Model) -> Forward | None:
    """A jitted inference-mode `stateless_call`, padded to BATCH_BUCKETS; None off JAX."""
    if keras.backend.backend() != "jax":
        return None
    import jax

    # Copies: Keras's fit may later donate (delete) the variables' own buffers.
    trainable = [jax.numpy.array(variable.value) for variable in model.trainable_variables]
    non_trainable = [jax.numpy.array(variable.value) for variable in model.non_trainable_variables]

    @jax.jit
    def stateless_call(trainable, non_trainable, batch):
        return model.stateless_call(trainable, non_trainable, batch, training=False)[0]

    def call(batch):
        return stateless_call(trainable, non_trainable, batch)

    def forward(batch: np.ndarray) -> np.ndarray:
        largest = BATCH_BUCKETS[-1]
        parts = []
        for start in range(0, len(batch), largest):
            part = batch[start : start + largest]
            size = next(bucket for bucket in BATCH_BUCKETS if bucket >= len(part))
            padded = np.zeros((size, *part.shape[1:]), dtype=part.dtype)
            padded[: len(part)] = part
            parts.append(np.asarray(call(padded))[: len(part)])
        return np.concatenate(parts)

    return forward


def numpy_forward(model: keras.Model) -> Forward | None:
    """A NumPy forward pass when the model is a chain of supported float32 layers, else None."""
    layers = layer_chain(model)
    if layers is None or any(layer.compute_dtype != "float32" for layer in layers):
        return None
    functions = [numpy_layer(layer) for layer in layers]
    if any(function is None for function in functions):
        return None

    def forward(batch: np.ndarray) -> np.ndarray:
        outputs = batch.astype(np.float32)
        for function in functions:
            outputs = function(outputs)
        return outputs

    return forward


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = np.exp(values - values.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


NUMPY_ACTIVATIONS: dict[str, Forward] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 0.5 * (1 + np.tanh(x / 2)),  # the logistic function, without overflow
    "softmax": softmax,
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.logaddexp(x, np.float32(0)),
    "silu": lambda x: x * 0.5 * (1 + np.tanh(x / 2)),
}


def numpy_layer(layer: keras.Layer) -> Forward | None:
    """A NumPy version of one inference-mode layer, or None when it is not supported."""
    weights = [np.asarray(weight, dtype=np.float32) for weight in layer.get_weights()]
    if isinstance(layer, keras.layers.Flatten):
        return lambda x: x.reshape(len(x), -1)
    if isinstance(layer, keras.layers.Dropout | RandomShiftFlip):  # training only
        return lambda x: x
    if isinstance(layer, keras.layers.Activation):
        return NUMPY_ACTIVATIONS.get(getattr(layer.activation, "__name__", ""))
    if isinstance(layer, keras.layers.Rescaling):
        scale = np.asarray(layer.scale, dtype=np.float32)
        offset = np.asarray(layer.offset, dtype=np.float32)
        return lambda x: x * scale + offset
    if isinstance(layer, keras.layers.Normalization) and not layer.invert:
        mean = np.asarray(layer.mean, dtype=np.float32)
        std = np.maximum(
            np.sqrt(np.asarray(layer.variance, dtype=np.float32)), keras.config.epsilon()
        )
        return lambda x: (x - mean) / std
    if isinstance(layer, keras.layers.Dense):
        return dense_inference(layer, weights)
    if isinstance(layer, keras.layers.BatchNormalization):
        last_axis = len(layer.input.shape) - 1
        return batch_norm_inference(layer) if layer.axis in (-1, last_axis) else None
    return None


def dense_inference(layer: keras.layers.Dense, weights: list[np.ndarray]) -> Forward | None:
    """x @ kernel + bias, then the activation; None for a quantised or LoRA layer."""
    activation = NUMPY_ACTIVATIONS.get(getattr(layer.activation, "__name__", ""))
    if activation is None or len(weights) != (2 if layer.use_bias else 1):
        return None
    kernel, bias = weights[0], weights[1] if layer.use_bias else np.float32(0)
    return lambda x: activation(x @ kernel + bias)


def batch_norm_inference(layer: keras.layers.BatchNormalization) -> Forward:
    """BatchNormalization at inference: one affine map from its moving statistics."""
    gamma = np.asarray(layer.gamma, dtype=np.float32) if layer.scale else np.float32(1)
    beta = np.asarray(layer.beta, dtype=np.float32) if layer.center else np.float32(0)
    mean = np.asarray(layer.moving_mean, dtype=np.float32)
    variance = np.asarray(layer.moving_variance, dtype=np.float32)
    scale = gamma / np.sqrt(variance + layer.epsilon)
    shift = beta - mean * scale
    return lambda x: x * scale + shift
