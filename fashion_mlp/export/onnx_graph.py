"""A Keras model as one ONNX graph: uint8 images in (any batch size), probabilities out.

The converter is jax2onnx, run on the model's inference-mode `stateless_call` with its weights
as constants, so everything the model computes (normalisation, batch norm, nested members)
lands in the graph; a softmax (and a temperature, when given) is added after logit outputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import keras
import numpy as np

from fashion_mlp import __version__
from fashion_mlp.errors import ConfigError
from fashion_mlp.export.extra import require_onnx
from fashion_mlp.export.unsupported import conversion_error
from fashion_mlp.models import model_input_shape, output_kind, require_jax

INPUT_NAME = "pixels"  # raw uint8 images (batch, *input_shape)
OUTPUT_NAME = "probabilities"  # (batch, num_classes), each row sums to 1
SMALLEST_PROBABILITY = 1e-30  # floor before the log of a probability, so a 0 is not -inf


def onnx_model(
    model: keras.Model,
    class_names: Sequence[str],
    temperature: float | None = None,
    source: str = "",
):
    """The ONNX ModelProto of `model`, with class names (and the source run) in its metadata."""
    require_jax("ONNX export")
    check_temperature(temperature)
    require_onnx()
    import jax
    import jax2onnx

    function = probabilities_function(model, len(class_names), temperature)
    shape = model_input_shape(model)
    try:
        proto = jax2onnx.to_onnx(
            function,
            inputs=[jax.ShapeDtypeStruct(("batch", *shape), np.uint8)],
            model_name=model.name,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
        )
    except Exception as error:  # jax2onnx raises many kinds for what it cannot convert
        raise conversion_error(model, function, shape, error) from error
    add_metadata(proto, class_names, temperature, source)
    return proto


def check_temperature(temperature: float | None) -> None:
    """Raise ConfigError unless the temperature is None or a positive finite number."""
    if temperature is not None and not (0 < temperature < float("inf")):
        raise ConfigError(f"temperature={temperature!r}: expected a positive number, or None")


def probabilities_function(model: keras.Model, num_classes: int, temperature: float | None):
    """uint8 images -> class probabilities: the model in inference mode, weights captured."""
    import jax
    import jax.numpy as jnp

    trainable = [np.asarray(variable.value) for variable in model.trainable_variables]
    non_trainable = [np.asarray(variable.value) for variable in model.non_trainable_variables]
    logits = output_kind(model, num_classes) == "logits"

    def probabilities(images):
        outputs = model.stateless_call(
            trainable, non_trainable, images.astype("float32"), training=False
        )[0]
        if temperature is None:
            return jax.nn.softmax(outputs) if logits else outputs
        scores = outputs if logits else jnp.log(jnp.maximum(outputs, SMALLEST_PROBABILITY))
        return jax.nn.softmax(scores / temperature)

    return probabilities


def add_metadata(proto, class_names: Sequence[str], temperature: float | None, source: str):
    """Class names, temperature and provenance as the model's metadata_props; a doc string."""
    import onnx

    values = {
        "class_names": json.dumps(list(class_names)),
        "temperature": json.dumps(temperature),
        "source_run": source,
        "producer": f"fashion-mlp {__version__}",
    }
    onnx.helper.set_model_props(proto, values)
    proto.doc_string = (
        f"{INPUT_NAME}: raw uint8 images (batch, {', '.join(map(str, proto_shape(proto)))}); "
        f"{OUTPUT_NAME}: one row per image, in the order of metadata class_names"
    )


def proto_shape(proto) -> list[int]:
    """The input's fixed dimensions after the batch."""
    dims = proto.graph.input[0].type.tensor_type.shape.dim[1:]
    return [dim.dim_value for dim in dims]
