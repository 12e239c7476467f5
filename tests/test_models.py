"""MLPSpec validation, the three Keras styles, in-model normalisation, user models, and the one
refusal of every part that needs the JAX backend."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset
from sklearn.preprocessing import StandardScaler

from fashion_mlp.config import STYLES, MLPSpec
from fashion_mlp.errors import ConfigError
from fashion_mlp.models import (
    MLPModel,
    build_model,
    count_trainable_parameters,
    load_user_model,
    output_kind,
)

NOTEBOOK_NETWORK_PARAMETERS = 52_650  # 784*64+64 + 64*32+32 + 32*10+10, the notebook's summary


@pytest.fixture(scope="module")
def small_data():
    return synthetic_dataset(n_train=60, n_test=16, seed=3)


def predictions(model, images) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(images.astype(np.float32), training=False))


@pytest.mark.parametrize("style", STYLES)
def test_notebook_network_has_the_notebooks_trainable_parameter_count(style):
    assert count_trainable_parameters(build_model(MLPSpec(), style)) == NOTEBOOK_NETWORK_PARAMETERS


def test_three_styles_agree_given_the_same_weights(small_data):
    models = {style: build_model(MLPSpec(), style, small_data) for style in STYLES}
    reference = models["sequential"]
    expected = predictions(reference, small_data.x_test)
    for style in ("functional", "subclassed"):
        model = models[style]
        assert not np.allclose(predictions(model, small_data.x_test), expected)  # fresh weights
        model.set_weights(reference.get_weights())
        np.testing.assert_allclose(predictions(model, small_data.x_test), expected, atol=1e-6)


@pytest.mark.parametrize("style", STYLES)
def test_keras_file_round_trip_with_safe_mode(style, small_data, tmp_path):
    spec = MLPSpec(hidden=(16, 8), dropout=(0.2, 0.1), batch_norm=True, l2=1e-4)
    model = build_model(spec, style, small_data)
    path = tmp_path / f"{style}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(
        predictions(loaded, small_data.x_test), predictions(model, small_data.x_test)
    )
    if style == "subclassed":
        assert loaded.spec == spec


def test_normalisation_is_standard_scaler_fitted_on_the_training_split(small_data):
    x_train = small_data.x_train.copy()
    x_train[:, 0, 0] = 7  # a constant pixel: StandardScaler maps it to x - 7, no division by 0
    x_test = small_data.x_test.copy()
    x_test[:, 0, 0] = 200
    model = build_model(MLPSpec(), "functional", x_train=x_train)
    layer = model.get_layer("normalization")
    flat_test = x_test.reshape(len(x_test), -1).astype(np.float32)
    scaled = keras.ops.convert_to_numpy(layer(flat_test))
    expected = StandardScaler().fit(x_train.reshape(len(x_train), -1)).transform(flat_test)
    assert np.all(np.isfinite(scaled))
    np.testing.assert_allclose(scaled, expected, rtol=1e-4, atol=1e-4)


def test_without_data_the_normalisation_is_the_identity():
    model = build_model(MLPSpec(), "sequential")
    pixels = np.arange(2 * 784, dtype=np.float32).reshape(2, 784) % 256
    layer_output = keras.ops.convert_to_numpy(model.get_layer("normalization")(pixels))
    np.testing.assert_array_equal(layer_output, pixels)


def test_flat_input_shape_takes_784_vectors(small_data):
    model = build_model(MLPSpec(input_shape=(784,)), "functional", small_data)
    flat = small_data.x_test.reshape(-1, 784)
    np.testing.assert_allclose(predictions(model, flat).sum(axis=1), 1.0, atol=1e-5)


def test_subclassed_model_drops_units_only_in_training(small_data):
    model = build_model(MLPSpec(dropout=0.5), "subclassed", small_data)
    images = small_data.x_test.astype(np.float32)
    inference = predictions(model, images)
    np.testing.assert_array_equal(inference, predictions(model, images))
    training = keras.ops.convert_to_numpy(model(images, training=True))
    assert not np.allclose(training, inference)


def test_subclassed_model_config_round_trip():
    spec = MLPSpec(hidden=(12,), activation="relu", dropout=0.3)
    model = build_model(spec, "subclassed")
    rebuilt = MLPModel.from_config(model.get_config())
    assert rebuilt.spec == spec
    assert rebuilt.name == model.name


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hidden", ()),
        ("hidden", (64, 0)),
        ("hidden", (64, 2.5)),
        ("activation", ""),
        ("dropout", 1.0),
        ("dropout", -0.1),
        ("dropout", (0.1, 0.2, 0.3)),
        ("batch_norm", "yes"),
        ("kernel_initializer", ""),
        ("l2", -0.01),
        ("num_classes", 1),
        ("input_shape", (0, 28)),
        ("input_shape", ()),
    ],
)
def test_invalid_spec_field_names_the_field_and_value(field, value):
    with pytest.raises(ConfigError, match=f"^{field} = "):
        MLPSpec(**{field: value})


def test_spec_dict_round_trip_and_unknown_keys():
    spec = MLPSpec(hidden=(128, 64, 32), dropout=(0.1, 0.2, 0.3), input_shape=(784,))
    as_dict = spec.to_dict()
    assert as_dict["hidden"] == [128, 64, 32]
    assert MLPSpec.from_dict(as_dict) == spec
    assert set(as_dict) == {field.name for field in dataclasses.fields(MLPSpec)}
    with pytest.raises(ConfigError, match="hiden"):
        MLPSpec.from_dict({"hiden": [64]})


@pytest.mark.parametrize(
    ("field", "value"),
    [("activation", "nope"), ("kernel_initializer", "not_an_initializer")],
)
def test_unknown_keras_names_are_rejected_when_the_model_is_built(field, value):
    spec = MLPSpec(**{field: value})  # any name is a valid config...
    with pytest.raises(ConfigError, match=f"^{field}={value!r}"):
        build_model(spec)  # ...but Keras must know it


def test_unknown_style_is_rejected():
    with pytest.raises(ConfigError, match="style='keras2'"):
        build_model(MLPSpec(), "keras2")


def test_training_images_of_the_wrong_size_are_rejected():
    with pytest.raises(ConfigError, match="expects 784"):
        build_model(MLPSpec(), x_train=np.zeros((4, 20, 20), dtype=np.uint8))


USER_MODELS = """
import keras

def softmax_net(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(hidden))

def logits_net(input_shape, num_classes):
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Flatten(), keras.layers.Dense(num_classes)]
    )

def five_outputs(input_shape, num_classes):
    return logits_net(input_shape, 5)

def not_a_model(input_shape, num_classes):
    return 42
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my_nets.py"
    path.write_text(USER_MODELS)
    return path


def test_user_model_kind_is_detected(user_file):
    softmax = load_user_model(f"{user_file}:softmax_net", (28, 28), 10)
    logits = load_user_model(f"{user_file}:logits_net", (28, 28), 10)
    assert output_kind(softmax, 10) == "probabilities"
    assert output_kind(logits, 10) == "logits"


def test_user_model_with_the_wrong_output_shape_is_rejected(user_file):
    with pytest.raises(ConfigError, match=r"outputs shape \(None, 5\).*expected \(None, 10\)"):
        load_user_model(f"{user_file}:five_outputs", (28, 28), 10)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("{file}:no_such_function", "defines no function 'no_such_function'"),
        ("{file}:not_a_model", "returned int, expected a keras.Model"),
        ("{file}", "expected FILE.py:FUNCTION"),
        ("{file}.missing:softmax_net", "does not exist"),
    ],
)
def test_bad_user_model_reference_is_explained(user_file, reference, message):
    with pytest.raises(ConfigError, match=message):
        load_user_model(reference.format(file=user_file), (28, 28), 10)


BAD_USER_MODELS = {
    "syntax": ("def net(input_shape, num_classes)\n    return None\n", r"syntax error in .*line 1"),
    "import": (
        "import fashion_mlp_no_such_module\n",
        r"importing .* failed: ModuleNotFoundError: No module named 'fashion_mlp_no_such_module'",
    ),
    "raises": (
        "def net(input_shape, num_classes):\n    raise RuntimeError('no GPU here')\n",
        r"net\(\) raised RuntimeError: no GPU here",
    ),
    "signature": (
        "def net(shape):\n    return None\n",
        r"net\(shape\) cannot be called with input_shape and num_classes; define it as",
    ),
    "flat_input": (
        "import keras\ndef net(input_shape, num_classes):\n"
        "    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(num_classes)])\n",
        r"takes inputs of shape \(None, 784\), expected \(None, 28, 28\)",
    ),
    "unbuilt_wrong_size": (
        "import keras\ndef net(input_shape, num_classes):\n"
        "    return keras.Sequential([keras.layers.Reshape((100,)), keras.layers.Dense(10)])\n",
        r"cannot take images of shape \(None, 28, 28\) \(ValueError: ",
    ),
}


@pytest.mark.parametrize("kind", BAD_USER_MODELS)
def test_a_broken_user_model_is_one_clean_config_error(kind, tmp_path):
    source, message = BAD_USER_MODELS[kind]
    path = tmp_path / f"{kind}.py"
    path.write_text(source)
    with pytest.raises(ConfigError, match=message) as raised:
        load_user_model(f"{path}:net", (28, 28), 10)
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_train_with_a_broken_user_model_creates_no_run_folder(tmp_path, capsys):
    from conftest import write_idx_dataset

    from fashion_mlp.cli import main

    data = write_idx_dataset(tmp_path / "data", synthetic_dataset(120, 40))
    path = tmp_path / "raises.py"
    path.write_text(BAD_USER_MODELS["raises"][0])
    args = ["train", "--preset", "smoke", "--data", str(data), "--model", f"{path}:net"]
    assert main([*args, "--runs-dir", str(tmp_path / "runs")]) == 2
    error, hint = capsys.readouterr().err.splitlines()
    assert error.startswith("error: --model") and "RuntimeError: no GPU here" in error
    assert "--debug" in hint
    assert not list((tmp_path / "runs").glob("*"))
    assert main(["--debug", *args, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "raise RuntimeError('no GPU here')" in capsys.readouterr().err  # the user's traceback


def test_everything_that_needs_jax_refuses_another_backend_in_one_message(monkeypatch):
    from fashion_mlp.export.onnx_graph import onnx_model
    from fashion_mlp.inspection.network import InspectionError, Network
    from fashion_mlp.training import resolve_engine

    model = build_model(MLPSpec(hidden=(4,)))
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    message = "needs Keras's JAX backend, but KERAS_BACKEND is 'torch'; unset it or set"
    with pytest.raises(ConfigError, match=f"^engine 'compiled' {message}"):
        resolve_engine("compiled")
    with pytest.raises(InspectionError, match=f"^inspection {message}"):
        Network(model, [str(label) for label in range(10)])
    with pytest.raises(ConfigError, match=f"^ONNX export {message}"):
        onnx_model(model, [str(label) for label in range(10)])
