"""A trained model opened up: its layer chain cut into hidden layers (each ends just before the
next Dense), and one pure function giving every class's log-probability and each hidden layer."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from operator import itemgetter

import keras
import numpy as np

from fashion_mlp.chains import layer_chain
from fashion_mlp.errors import FashionMLPError
from fashion_mlp.models import (
    MLPModel,
    load_saved_model,
    model_input_shape,
    output_kind,
    require_jax,
)
from fashion_mlp.runs import RunDir

BUCKETS = (1, 16, 256, 4096)  # batch sizes compiled: inputs are padded to the next one
TINY = 1e-30  # floor of a probability before its log, for models that output probabilities


class InspectionError(FashionMLPError):
    """A model or an input that an inspection method cannot handle; says which layer or value."""


class Network:
    """A model seen from inside: hidden layer names, its pure call, its compiled functions.

    Args:
        model: a trained Keras model taking raw images (JAX backend).
        class_names: the name of each output class, in label order.
    """

    def __init__(self, model: keras.Model, class_names: Sequence[str]):
        require_jax("inspection", error=InspectionError)
        import jax

        self.model = model
        self.class_names = tuple(class_names)
        self.input_shape = model_input_shape(model)
        self.chain, self.problem = open_chain(model)
        dense = [i for i, layer in enumerate(self.chain) if isinstance(layer, keras.layers.Dense)]
        self.dense_positions = dense
        self.hidden_ends = [position - 1 for position in dense[1:]]
        self.hidden_names = [self.chain[position].name for position in dense[:-1]]
        self.params = (
            [jax.numpy.array(variable.value) for variable in model.trainable_variables],
            [jax.numpy.array(variable.value) for variable in model.non_trainable_variables],
        )
        self.logits_output = output_kind(model, len(self.class_names)) == "logits"
        self._compiled: dict[object, Callable] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, run_dir: str | os.PathLike | RunDir) -> Network:
        """The Network of a finished run: its model.keras and metrics.json's class names."""
        run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
        class_names = run.class_names()  # first: a run without metrics.json is unfinished
        return cls(load_saved_model(run.model_path), class_names)

    def call(self, params, images):
        """(log-probabilities (n, classes), tuple of hidden layers' values): pure, traceable."""
        trainable, non_trainable = params
        mapping = [
            *zip(self.model.trainable_variables, trainable, strict=True),
            *zip(self.model.non_trainable_variables, non_trainable, strict=True),
        ]
        with keras.StatelessScope(state_mapping=mapping):
            if not self.chain:
                return self.log_probabilities(self.model(images, training=False)), ()
            values, hidden = images, []
            for index, layer in enumerate(self.chain[:-1]):
                values = layer(values, training=False)
                if index in self.hidden_ends:
                    hidden.append(values)
            return self.last_layer_log_probabilities(values), tuple(hidden)

    def last_layer_log_probabilities(self, values):
        """The last layer's output as log-probabilities, from its logits where they are exposed."""
        layer = self.chain[-1]
        if is_softmax_dense(layer):
            kernel = keras.ops.matmul(values, layer.kernel)
            return keras.ops.log_softmax(kernel + layer.bias if layer.use_bias else kernel)
        if isinstance(layer, keras.layers.Softmax) or activation_name(layer) == "softmax":
            return keras.ops.log_softmax(values)
        return self.log_probabilities(layer(values, training=False))

    def log_probabilities(self, outputs):
        if self.logits_output:
            return keras.ops.log_softmax(outputs)
        return keras.ops.log(keras.ops.maximum(outputs, TINY))

    def compiled(self, key, build: Callable[[], Callable]) -> Callable:
        """The function `build()` returns, built once per key for this model."""
        with self._lock:
            if key not in self._compiled:
                self._compiled[key] = build()
            return self._compiled[key]

    def forward(self, images) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """Log-probabilities and hidden layers' values of raw images, in fixed-size batches."""
        import jax

        function = self.compiled("forward", lambda: jax.jit(self.call))
        return in_buckets(lambda batch: function(self.params, batch), [self.as_batch(images)])

    def as_batch(self, images) -> np.ndarray:
        """Raw images as a float32 batch (n, *input_shape); one image becomes a batch of one."""
        batch = np.asarray(images)
        if batch.shape == self.input_shape:
            batch = batch[None]
        if batch.ndim != len(self.input_shape) + 1 or batch.shape[1:] != self.input_shape:
            raise InspectionError(
                f"images of shape {batch.shape}: expected {self.input_shape} for one image or "
                f"(n, {', '.join(map(str, self.input_shape))}) for a batch of raw pixels"
            )
        if len(batch) == 0 or not np.isfinite(batch).all():
            raise InspectionError("no images, or pixels that are not finite numbers: pass 0-255")
        return batch.astype(np.float32)

    def require_hidden(self, what: str) -> None:
        """Raise InspectionError unless the model has hidden layers that `what` can read."""
        if self.problem:
            raise InspectionError(f"{what}: {self.problem}")
        if not self.hidden_names:
            raise InspectionError(
                f"{what}: model {self.model.name!r} has no hidden layer (a single Dense layer)"
            )

    def class_index(self, value: int | str) -> int:
        """A class given by number or by name (case-insensitive), as its number."""
        names = [name.lower() for name in self.class_names]
        if isinstance(value, str) and value.strip().lower() in names:
            return names.index(value.strip().lower())
        try:
            index = int(value)
        except (TypeError, ValueError):
            index = None
        if index is None or not 0 <= index < len(names):
            raise InspectionError(
                f"class {value!r}: expected a number from 0 to {len(names) - 1} or a name "
                f"({', '.join(self.class_names)})"
            )
        return index


def open_chain(model: keras.Model) -> tuple[list[keras.Layer], str | None]:
    """The model's layer chain (ending in a Dense), or [] and why its layers cannot be read."""
    chain = list(model.chain) if isinstance(model, MLPModel) else layer_chain(model)
    if not chain:
        return [], (
            f"model {model.name!r} is not a chain of layers (a layer takes several inputs or "
            "feeds several others, as an ensemble's members do); inspect a single-model run"
        )
    nested = next((layer for layer in chain if isinstance(layer, keras.Model)), None)
    if nested is not None:
        return [], f"layer {nested.name!r} is itself a model: its hidden layers cannot be read"
    if not any(isinstance(layer, keras.layers.Dense) for layer in chain):
        return [], f"model {model.name!r} has no Dense layer"
    return chain, None


def activation_name(layer: keras.Layer) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "")


def is_softmax_dense(layer: keras.Layer) -> bool:
    """A plain Dense layer with a softmax activation (not quantised, no LoRA)."""
    return (
        type(layer) is keras.layers.Dense
        and activation_name(layer) == "softmax"
        and layer.dtype_policy.quantization_mode is None
        and not layer.lora_enabled
    )


def in_buckets(function: Callable, arrays: list[np.ndarray], buckets=BUCKETS):
    """`function(*arrays)` over slices of the arrays padded to fixed sizes; outputs joined."""
    import jax

    count, largest, parts = len(arrays[0]), buckets[-1], []
    for start in range(0, count, largest):
        part = [array[start : start + largest] for array in arrays]
        used = len(part[0])
        size = next(bucket for bucket in buckets if bucket >= used)
        outputs = function(*(np.resize(array, (size, *array.shape[1:])) for array in part))
        parts.append(jax.tree.map(itemgetter(slice(0, used)), jax.tree.map(np.asarray, outputs)))
    return jax.tree.map(lambda *values: np.concatenate(values), *parts)
