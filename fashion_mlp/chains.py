"""A model's layers as a chain, when each layer feeds only the next: what inference's NumPy
forward pass and inspection's hidden layers both need to know about a model."""

from __future__ import annotations

import keras


def layer_chain(model: keras.Model) -> list[keras.Layer] | None:
    """The model's layers when each feeds only the next (Sequential or a linear functional).

    A Sequential model is a chain by definition: its `call` applies `model.layers` in order.
    Its layers' own `input`/`output` cannot tell: a Sequential rebuilds its graph each time a
    layer is added (as loading model.keras does), so `layer.input` is a first, discarded call's
    tensor, not the final graph's. A functional model is checked through those tensors.
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers or None
    inputs, outputs = getattr(model, "inputs", None), getattr(model, "outputs", None)
    if not layers or not inputs or not outputs or len(inputs) != 1 or len(outputs) != 1:
        return None
    try:
        tensors = [layer.input for layer in layers] + [outputs[0]]
        produced = [inputs[0]] + [layer.output for layer in layers]
    except (AttributeError, ValueError):  # a layer used more than once has no single input
        return None
    return layers if all(a is b for a, b in zip(tensors, produced, strict=True)) else None
