"""The MLP: one validated spec built as a Sequential, functional or subclassed Keras model.

Every style puts the notebook's StandardScaler inside the model (a `Normalization` layer adapted
on the training split), so a saved model takes raw uint8 pixels. Also loads a user's own Keras
model from `file.py:function`, tells whether a model outputs probabilities or logits, and
refuses, in one message, what needs Keras's JAX backend on another (`require_jax`).
"""

from __future__ import annotations

import importlib.util
import inspect
import math
from pathlib import Path

import keras
import numpy as np
from sklearn.preprocessing import StandardScaler

import fashion_mlp.losses  # noqa: F401  (registers the losses saved models may name)
from fashion_mlp.augmentation import RandomShiftFlip
from fashion_mlp.config import STYLES, MLPSpec, ModelConfig
from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import ConfigError, FashionMLPError, RunError

ADAPT_CHUNK = 8192  # images per StandardScaler.partial_fit call when adapting the input layer
PROBE_BATCH = 8  # images in the probe batch that reveals a model's output shape and kind
PROBABILITY_TOLERANCE = 1e-3  # float32 softmax rows sum to 1 within ~1e-6; logits rarely do


def check_keras_names(spec: MLPSpec) -> None:
    """Raise ConfigError unless Keras knows the spec's activation and initializer names."""
    _check_keras_name("activation", spec.activation, keras.activations.get, "relu, gelu")
    _check_keras_name(
        "kernel_initializer", spec.kernel_initializer, keras.initializers.get, "he_normal"
    )


def _check_keras_name(field: str, value: object, lookup, examples: str) -> None:
    """Raise ConfigError unless Keras's `lookup` knows the name `value`."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        lookup(value)
    except ValueError:
        raise ConfigError(
            f"{field}={value!r}: expected the name of a Keras {field.replace('_', ' ')}, "
            f"e.g. {examples}"
        ) from None


def _hidden_layers(spec: MLPSpec) -> list[keras.Layer]:
    """Dense (+ BatchNormalization + Activation) (+ Dropout) for each hidden layer."""
    regularizer = keras.regularizers.L2(spec.l2) if spec.l2 > 0 else None
    layers: list[keras.Layer] = []
    for index, (units, rate) in enumerate(zip(spec.hidden, spec.dropout_rates, strict=True), 1):
        layers.append(
            keras.layers.Dense(
                units,
                activation=None if spec.batch_norm else spec.activation,
                kernel_initializer=spec.kernel_initializer,
                kernel_regularizer=regularizer,
                name=f"dense_{index}",
            )
        )
        if spec.batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"batch_norm_{index}"))
            layers.append(keras.layers.Activation(spec.activation, name=f"activation_{index}"))
        if rate > 0:
            layers.append(keras.layers.Dropout(rate, name=f"dropout_{index}"))
    return layers


def _input_layers(spec: MLPSpec) -> list[keras.Layer]:
    """(Augmentation,) flatten, normalise (, input dropout): raw pixels to the first Dense."""
    layers: list[keras.Layer] = []
    if spec.shift or spec.flip:
        if len(spec.input_shape) != 2:
            raise ConfigError(
                f"shift={spec.shift}, flip={spec.flip}: augmentation needs 2-D images, but "
                f"input_shape={spec.input_shape}; turn them off for flat inputs"
            )
        layers.append(RandomShiftFlip(spec.shift, spec.flip, name="augmentation"))
    layers.append(keras.layers.Flatten(name="flatten"))
    layers.append(keras.layers.Normalization(axis=-1, name="normalization"))
    if spec.input_dropout > 0:
        layers.append(keras.layers.Dropout(spec.input_dropout, name="input_dropout"))
    return layers


def _layer_chain(spec: MLPSpec) -> list[keras.Layer]:
    """Every layer of the network in order: input layers, hidden layers, softmax output."""
    return [
        *_input_layers(spec),
        *_hidden_layers(spec),
        keras.layers.Dense(
            spec.num_classes,
            activation="softmax",
            kernel_initializer=spec.kernel_initializer,
            kernel_regularizer=keras.regularizers.L2(spec.l2) if spec.l2 > 0 else None,
            name="output",
        ),
    ]


@keras.saving.register_keras_serializable(package="fashion_mlp")
class MLPModel(keras.Model):
    """The MLP as a subclassed model (the notebook's third style): dropout only in training."""

    def __init__(self, spec: MLPSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self.chain = _layer_chain(spec)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layer in self.chain:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, inputs, training=False):
        outputs = inputs
        for layer in self.chain:
            outputs = layer(outputs, training=training)
        return outputs

    def get_config(self):
        return {"name": self.name, "spec": self.spec.to_dict()}

    @classmethod
    def from_config(cls, config):
        return cls(spec=MLPSpec.from_dict(config["spec"]), name=config.get("name"))


def build_model(
    spec: MLPSpec,
    style: str = ModelConfig.style,
    data: Dataset | None = None,
    *,
    x_train: np.ndarray | None = None,
) -> keras.Model:
    """The network of `spec` in `style`: the notebook's MLP in any of its three Keras styles.

    The `Normalization` layer is adapted on the training images only (`data.x_train`, or the
    `x_train` array) exactly as scikit-learn's StandardScaler (constant pixels map to 0). With
    neither, it is left un-adapted (mean 0, variance 1): use that to load saved weights.

    Args:
        spec: the network (hidden sizes, activation, dropout, ...).
        style: "sequential", "functional" or "subclassed"; all give the same model.
        data: the Dataset whose x_train adapts the input normalisation.
        x_train: or the training images themselves (not both).

    Returns:
        An uncompiled Keras model taking raw images (n, *spec.input_shape), softmax outputs.

    Raises:
        ConfigError: for an unknown style, activation or initializer name, or bad images.

    Examples:
        >>> model = build_model(MLPSpec(hidden=(64, 32)), "functional", data=data)
        >>> count_trainable_parameters(model)
        52650
    """
    check_keras_names(spec)
    if style not in STYLES:
        raise ConfigError(f"style={style!r}: expected one of {', '.join(STYLES)}")
    if data is not None and x_train is not None:
        raise ConfigError("build_model: pass data or x_train, not both")
    if data is not None:
        x_train = data.x_train
    model = _BUILDERS[style](spec)
    if x_train is not None:
        adapt_normalization(model.get_layer("normalization"), x_train, spec)
    return model


def _sequential(spec: MLPSpec) -> keras.Model:
    return keras.Sequential(
        [keras.Input(shape=spec.input_shape, name="pixels"), *_layer_chain(spec)],
        name="mlp_sequential",
    )


def _functional(spec: MLPSpec) -> keras.Model:
    inputs = keras.Input(shape=spec.input_shape, name="pixels")
    outputs = inputs
    for layer in _layer_chain(spec):
        outputs = layer(outputs)
    return keras.Model(inputs, outputs, name="mlp_functional")


def _subclassed(spec: MLPSpec) -> keras.Model:
    model = MLPModel(spec, name="mlp_subclassed")
    model.build((None, *spec.input_shape))
    return model


_BUILDERS = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


def adapt_normalization(layer: keras.layers.Normalization, x_train, spec: MLPSpec) -> None:
    """Set `layer` to standardise each pixel with the training split's mean and std."""
    images = np.asarray(x_train)
    if images.ndim == 0 or len(images) == 0:
        raise ConfigError("x_train is empty: the input normalisation needs training images")
    flat = images.reshape(len(images), -1)
    if flat.shape[1] != spec.num_features:
        raise ConfigError(
            f"training images of shape {images.shape[1:]} have {flat.shape[1]} values each, "
            f"but input_shape={spec.input_shape} expects {spec.num_features}"
        )
    scaler = StandardScaler()  # scale_ is 1 for constant pixels, so no division by 0
    for start in range(0, len(flat), ADAPT_CHUNK):  # chunks: faster, no float copy of all
        scaler.partial_fit(flat[start : start + ADAPT_CHUNK].astype(np.float32))
    layer.set_weights([scaler.mean_, scaler.scale_**2, np.asarray(len(flat))])
    layer.finalize_state()


def count_trainable_parameters(model: keras.Model) -> int:
    """Number of trainable scalars (52,650 for the notebook's 784-64-32-10 network)."""
    return sum(math.prod(weight.shape) for weight in model.trainable_weights)


def load_user_model(reference: str, input_shape, num_classes: int) -> keras.Model:
    """The Keras model returned by `function(input_shape=..., num_classes=...)` in `file.py`.

    `reference` is "path/to/file.py:function". The model's output must be (None, num_classes),
    probabilities or logits (see `output_kind`).

    Raises:
        ConfigError: one line naming the file and the problem (a syntax or import error, a
            function that raises or takes other arguments, a wrong input or output shape); the
            user's own traceback is chained to it (the CLI shows it with --debug).
    """
    path_text, separator, function_name = str(reference).rpartition(":")
    if not separator or not path_text or not function_name:
        raise ConfigError(f"--model {reference!r}: expected FILE.py:FUNCTION, e.g. my_net.py:build")
    path = Path(path_text)
    if not path.is_file():
        raise ConfigError(f"--model {reference!r}: file {path} does not exist")
    module = _import_file(path, reference)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"--model {reference!r}: {path} defines no function {function_name!r}")
    model = _call_user_function(function, reference, tuple(input_shape), num_classes)
    if not isinstance(model, keras.Model):
        raise ConfigError(
            f"--model {reference!r}: {function_name}() returned {type(model).__name__}, "
            "expected a keras.Model"
        )
    _check_user_input_shape(model, reference, tuple(input_shape))
    try:
        check_output_shape(model, num_classes)
    except ConfigError as error:
        raise ConfigError(f"--model {reference!r}: {error}") from None
    except Exception as error:  # the model's own call failed on a probe batch
        raise ConfigError(
            f"--model {reference!r}: the model fails on images: {brief(error)}"
        ) from error
    return model


def check_trusted_code(
    reference: str, folder, given: str | None, trust: bool, kind: str = "run"
) -> None:
    """Refuse to import the code a run's (or sweep's: `kind`) config names (model.user_model)
    unless the user vouched for it: passed the same FILE.py:FUNCTION again (`given`, a run's
    resume only), or `trust`."""
    command = "train" if kind == "run" else kind
    resume = f"fashion-mlp {command} --resume {folder}"
    if given is not None and same_reference(given, reference):
        return
    if given is not None:
        raise RunError(
            f"--model {given!r} is not the model run {folder} was trained with "
            f"({reference!r}); pass that one ({resume} --model {reference}) or --trust-run-code"
        )
    if not trust:
        path_text = str(reference).rpartition(":")[0]
        again = f"pass the model again ({resume} --model {reference}) or " if kind == "run" else ""
        raise RunError(
            f"{kind} {folder} names code to import: model.user_model = {reference!r} (file "
            f"{Path(path_text).resolve()}); resuming would run it. If you trust it, {again}add "
            "--trust-run-code"
        )


def same_reference(first: str, second: str) -> bool:
    """True when two FILE.py:FUNCTION references name the same function of the same file."""
    (path_a, _, function_a), (path_b, _, function_b) = (
        str(reference).rpartition(":") for reference in (first, second)
    )
    return function_a == function_b and Path(path_a).resolve() == Path(path_b).resolve()


def _import_file(path: Path, reference: str):
    module_spec = importlib.util.spec_from_file_location(f"fashion_mlp_user_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"--model {reference!r}: {path} is not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except SyntaxError as error:
        raise ConfigError(
            f"--model {reference!r}: syntax error in {error.filename or path} line {error.lineno}: "
            f"{error.msg}"
        ) from error
    except Exception as error:  # whatever the user's module raises while it is imported
        raise ConfigError(
            f"--model {reference!r}: importing {path} failed: {brief(error)}"
        ) from error
    return module


def _call_user_function(function, reference: str, input_shape: tuple, num_classes: int):
    """function(input_shape=..., num_classes=...), or a ConfigError saying why it failed."""
    arguments = {"input_shape": input_shape, "num_classes": num_classes}
    name = getattr(function, "__name__", "the function")
    try:
        signature = inspect.signature(function)
        signature.bind(**arguments)
    except TypeError:
        raise ConfigError(
            f"--model {reference!r}: {name}{signature} cannot be called with input_shape and "
            f"num_classes; define it as def {name}(input_shape, num_classes)"
        ) from None
    except ValueError:  # no signature to inspect (a builtin): just call it
        pass
    try:
        return function(**arguments)
    except Exception as error:  # the user's function failed
        raise ConfigError(f"--model {reference!r}: {name}() raised {brief(error)}") from error


def _check_user_input_shape(model: keras.Model, reference: str, input_shape: tuple) -> None:
    """Build the model on one image if needed; raise ConfigError unless it takes input_shape."""
    expected = (None, *input_shape)
    fix = "start the model with keras.Input(shape=input_shape) (and Flatten before Dense)"
    if not model.built:
        try:
            model(np.zeros((1, *input_shape), dtype=np.float32))
        except Exception as error:  # the user's layers reject the shape
            raise ConfigError(
                f"--model {reference!r}: the model cannot take images of shape {expected} "
                f"({brief(error)}); {fix}"
            ) from error
    found = model_input_shape(model)
    fits = len(found) == len(input_shape) and all(
        size in (None, wanted) for size, wanted in zip(found, input_shape, strict=True)
    )
    if not fits:
        raise ConfigError(
            f"--model {reference!r}: the model takes inputs of shape {(None, *found)}, expected "
            f"{expected}, the data set's raw images; {fix}"
        )


def brief(error: BaseException) -> str:
    """'TypeName: first line of the message', for a one-line error."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def require_jax(what: str, instead: str = "", error: type[FashionMLPError] = ConfigError) -> None:
    """Raise `error` unless Keras runs on JAX, which `what` needs; `instead` names another way,
    when there is one."""
    if keras.backend.backend() != "jax":
        other = f", or {instead}" if instead else ""
        raise error(
            f"{what} needs Keras's JAX backend, but KERAS_BACKEND is "
            f"{keras.backend.backend()!r}; unset it or set KERAS_BACKEND=jax{other}"
        )


def model_input_shape(model: keras.Model) -> tuple[int, ...]:
    """The shape of one input example, from the model's inputs or its build config."""
    inputs = getattr(model, "inputs", None)
    if inputs:
        return tuple(inputs[0].shape[1:])
    shape = (model.get_build_config() or {}).get("input_shape")
    if shape is None:
        raise ConfigError(
            f"model {model.name!r} is not built, so its input shape is unknown: "
            "call model.build((None, 28, 28)) first"
        )
    return tuple(shape[1:])


def probe_outputs(model: keras.Model) -> np.ndarray:
    """The model's outputs for a small batch of random pixel images (inference mode)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(PROBE_BATCH, *model_input_shape(model)))
    outputs = model(images.astype(np.float32), training=False)
    if not keras.ops.is_tensor(outputs) and not isinstance(outputs, np.ndarray):
        raise ConfigError(
            f"model {model.name!r} returns {type(outputs).__name__}: expected one tensor of "
            "class scores"
        )
    return keras.ops.convert_to_numpy(outputs)


def check_output_shape(model: keras.Model, num_classes: int, outputs=None) -> None:
    """Raise ConfigError unless the model outputs (None, num_classes)."""
    outputs = probe_outputs(model) if outputs is None else outputs
    found = (None, *outputs.shape[1:])
    if found != (None, num_classes):
        raise ConfigError(
            f"model {model.name!r} outputs shape {found}: expected (None, {num_classes}), one "
            f"probability or logit per class; end the model with Dense({num_classes})"
        )


def classify_outputs(outputs: np.ndarray) -> str:
    """'probabilities' when every row is in [0, 1] and sums to 1, else 'logits'."""
    in_range = np.all(outputs >= -PROBABILITY_TOLERANCE) and np.all(
        outputs <= 1 + PROBABILITY_TOLERANCE
    )
    sums_to_one = np.allclose(outputs.sum(axis=-1), 1.0, atol=PROBABILITY_TOLERANCE)
    return "probabilities" if in_range and sums_to_one else "logits"


def output_kind(model: keras.Model, num_classes: int) -> str:
    """'probabilities' (a final softmax) or 'logits', after checking the output shape."""
    outputs = probe_outputs(model)
    check_output_shape(model, num_classes, outputs)
    return classify_outputs(outputs)


def load_saved_model(path: Path) -> keras.Model:
    """Load a run's .keras file in safe mode, as a RunError when it is missing or corrupt."""
    if not path.is_file():
        raise RunError(
            f"{path} not found: the run in {path.parent} has no trained model; "
            "train again with `fashion-mlp train` (or resume it)"
        )
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a damaged zip or config
        raise RunError(
            f"{path} could not be loaded ({type(error).__name__}: {error}); the file is corrupt "
            "or from an incompatible version: train the run again with `fashion-mlp train`"
        ) from None
