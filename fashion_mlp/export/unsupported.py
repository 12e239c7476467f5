"""Why a model could not be converted to ONNX, naming the layer at fault.

jax2onnx names the JAX operation it has no converter for; Keras traces each layer's call
under the layer's name, so the traced program tells which layer used that operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import keras
import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.models import brief

UNSUPPORTED = re.compile(r"primitive '(?P<name>[^']+)'")  # jax2onnx's "no plugins ... 'name'"


def conversion_error(model: keras.Model, function, shape: tuple, error: Exception) -> ConfigError:
    """A ConfigError naming the layer that uses an operation ONNX export lacks, or the cause."""
    found = UNSUPPORTED.search(str(error))
    if found is None:
        return ConfigError(f"model {model.name!r} could not be exported to ONNX: {brief(error)}")
    operation = found["name"]
    layers = layers_using(function, shape, operation)
    where = ", ".join(repr(layer) for layer in layers) or "(no layer: the model's own call)"
    return ConfigError(
        f"layer {where} of model {model.name!r} uses the JAX operation {operation!r}, which "
        "the ONNX converter (jax2onnx) cannot express; rewrite that layer with keras.ops, or "
        "serve the model with the default runtime instead of ONNX"
    )


def layers_using(function, shape: tuple, operation: str) -> list[str]:
    """The name paths (outer/inner) of the layers whose traced call uses `operation`."""
    import jax

    traced = jax.make_jaxpr(function)(jax.ShapeDtypeStruct((1, *shape), np.uint8))
    paths = [path for primitive, path in operations(traced.jaxpr, "") if primitive == operation]
    return list(dict.fromkeys(paths))


def operations(jaxpr, prefix: str) -> Iterator[tuple[str, str]]:
    """(primitive name, layer path) of every operation, nested programs included."""
    for equation in jaxpr.eqns:
        path = "/".join(filter(None, (prefix, str(equation.source_info.name_stack))))
        yield equation.primitive.name, path
        for inner in sub_programs(equation.params.values()):
            yield from operations(inner, path)


def sub_programs(values) -> Iterator:
    """The jaxprs among an operation's parameters (jit bodies, branches)."""
    for value in values:
        if hasattr(value, "jaxpr") and hasattr(value.jaxpr, "eqns"):  # a ClosedJaxpr
            yield value.jaxpr
        elif hasattr(value, "eqns"):  # an open Jaxpr
            yield value
        elif isinstance(value, tuple | list):
            yield from sub_programs(value)
