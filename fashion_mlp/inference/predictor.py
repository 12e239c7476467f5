"""`Predictor`: class probabilities and top-k classes of raw images from one trained model.

The forward pass is the fastest that runs the model (forward.py), or onnxruntime on the model
exported to ONNX (runtime="onnx"); the weights are captured when the Predictor is made. A run's
calibration.json temperature is applied by default, on either runtime.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import keras
import numpy as np

from fashion_mlp.errors import ConfigError
from fashion_mlp.inference.forward import fastest_forward, softmax
from fashion_mlp.metrics import temperature_scaled
from fashion_mlp.models import load_saved_model, model_input_shape, output_kind
from fashion_mlp.runs import RunDir

RUNTIMES = ("auto", "onnx")  # auto: NumPy, jitted JAX or Keras, fastest first; onnx: onnxruntime


class Predictor:
    """Class probabilities and top-k predictions of one model, for raw uint8 images.

    Args:
        model: a trained Keras model taking raw images; softmax or logit outputs.
        class_names: the name of each output class, in label order.
        temperature: T dividing the logits (calibration.json's); 1 = the model's own outputs.
        runtime: "auto" (the fastest in-process pass) or "onnx" (needs the onnx extra).

    Examples:
        >>> predictor = Predictor.load("runs/20261129-203000-notebook")
        >>> predictor.top_k(data.x_test[:1], k=2)
        [[('Ankle boot', 0.97), ('Sneaker', 0.02)]]
    """

    def __init__(
        self,
        model: keras.Model,
        class_names: Sequence[str],
        temperature: float = 1.0,
        runtime: str = "auto",
    ):
        if not 0 < temperature < math.inf:
            raise ConfigError(f"temperature={temperature!r}: expected a number > 0")
        if runtime not in RUNTIMES:
            raise ConfigError(f"runtime={runtime!r}: expected one of {', '.join(RUNTIMES)}")
        self.model = model
        self.class_names = tuple(class_names)
        self.temperature = float(temperature)
        self.input_shape = model_input_shape(model)
        self.runtime = runtime
        logits = output_kind(model, len(self.class_names)) == "logits"
        self._outputs_logits = logits and runtime == "auto"  # the ONNX graph ends in a softmax
        self._forward = (
            fastest_forward(model) if runtime == "auto" else onnx_pass(model, class_names)
        )

    @classmethod
    def load(cls, run_dir: str | os.PathLike | RunDir, runtime: str = "auto") -> Predictor:
        """The Predictor of a finished run: its model.keras, metrics.json's class names and
        calibration.json's temperature (1 for a run never calibrated)."""
        run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
        class_names = run.class_names()  # first: a run without metrics.json is unfinished
        calibration = run.read_calibration() or {"temperature": 1.0}
        model = load_saved_model(run.model_path)
        return cls(model, class_names, calibration["temperature"], runtime)

    @property
    def calibrated(self) -> bool:
        """True when a temperature other than 1 changes the model's probabilities."""
        return self.temperature != 1.0

    def predict_proba(self, images, *, raw: bool = False) -> np.ndarray:
        """Class probabilities (n, num_classes) of raw images (n, 28, 28), or of one (28, 28):
        calibrated by the temperature, or the model's own with `raw`."""
        batch = self._as_batch(images)
        outputs = np.asarray(self._forward(batch), dtype=np.float32)
        probabilities = softmax(outputs) if self._outputs_logits else outputs
        return probabilities if raw else self.calibrate(probabilities)

    def calibrate(self, probabilities: np.ndarray) -> np.ndarray:
        """The model's own probabilities with the temperature applied (unchanged when T = 1)."""
        return (
            temperature_scaled(probabilities, self.temperature)
            if self.calibrated
            else probabilities
        )

    def top_k(self, images, k: int = 3, *, raw: bool = False) -> list[list[tuple[str, float]]]:
        """For each image, its k most probable (class name, probability), most probable first."""
        probabilities = self.predict_proba(images, raw=raw)
        return [top_classes(row, self.class_names, k) for row in probabilities]

    def _as_batch(self, images) -> np.ndarray:
        batch = np.asarray(images)
        if batch.shape == self.input_shape:
            batch = batch[None]
        if batch.shape[1:] != self.input_shape:
            raise ConfigError(
                f"images of shape {batch.shape}: expected {self.input_shape} for one image or "
                f"(n, {', '.join(map(str, self.input_shape))}) for a batch of raw pixels"
            )
        return batch


def onnx_pass(model: keras.Model, class_names: Sequence[str]):
    """The onnxruntime forward pass (imported here: onnx is an optional extra)."""
    from fashion_mlp.export.onnx_runtime import onnx_forward

    return onnx_forward(model, class_names)


def top_classes(probabilities, class_names, k: int) -> list[tuple[str, float]]:
    """The k most probable (class name, probability) of one probability row, most probable first."""
    if not isinstance(k, int) or not 1 <= k <= len(class_names):
        raise ConfigError(f"k={k!r}: expected an integer from 1 to {len(class_names)}")
    best = np.argsort(-np.asarray(probabilities), kind="stable")[:k]
    return [(class_names[index], float(probabilities[index])) for index in best]
