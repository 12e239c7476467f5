"""A forward pass on onnxruntime: the model exported in memory, run by an InferenceSession."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.export.extra import require_onnx
from fashion_mlp.export.onnx_graph import INPUT_NAME, onnx_model


def onnx_forward(
    model: keras.Model, class_names: Sequence[str], temperature: float | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A function of raw images (n, ...) returning the exported model's probabilities."""
    require_onnx("the onnx runtime")
    import onnxruntime

    proto = onnx_model(model, class_names, temperature, source=model.name)
    session = onnxruntime.InferenceSession(
        proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )

    def forward(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {INPUT_NAME: as_pixels(batch)})[0]

    return forward


def as_pixels(batch: np.ndarray) -> np.ndarray:
    """The batch as uint8, or a ConfigError when its values are not whole numbers 0-255."""
    if batch.dtype == np.uint8:
        return batch
    pixels = batch.astype(np.uint8)
    if not np.array_equal(pixels, batch):
        raise ConfigError(
            f"images of dtype {batch.dtype} with values other than whole numbers 0-255: the "
            "ONNX runtime takes raw uint8 pixels; use the default runtime for other values"
        )
    return pixels
