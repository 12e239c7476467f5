"""ONNX export: onnxruntime's probabilities match the Keras model's for each kind of model the
project makes; the graph takes raw uint8 images of any batch size; class names travel in its
metadata, and a calibrated run's temperature in the graph; a layer that cannot be converted is
named and leaves no file. Skipped without the onnx extra (real-data parity: the _realdata
module)."""

from __future__ import annotations

import json

import jax
import keras
import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("jax2onnx")

from fashion_mlp.cli import main  # noqa: E402  (after the skips: these need the extra)
from fashion_mlp.cli.parser import SERVE_RUNTIMES  # noqa: E402
from fashion_mlp.config import MLPSpec, build_config  # noqa: E402
from fashion_mlp.ensembles import ensemble_model  # noqa: E402
from fashion_mlp.errors import ConfigError  # noqa: E402
from fashion_mlp.experiment import run_experiment  # noqa: E402
from fashion_mlp.export import export_onnx, export_run, require_onnx  # noqa: E402
from fashion_mlp.inference.predictor import RUNTIMES, Predictor  # noqa: E402
from fashion_mlp.models import build_model  # noqa: E402
from fashion_mlp.presets import preset  # noqa: E402
from fashion_mlp.runs import RunDir  # noqa: E402

pytestmark = pytest.mark.slow  # jax2onnx takes tens of seconds to import

DATA = synthetic_dataset(300, 120, seed=7)
TOLERANCE = 1e-5  # max abs difference of probabilities, ONNX against Keras
NAMES = list(DATA.class_names)


def trained(style="functional", **spec_fields) -> keras.Model:
    """A small MLP trained a few epochs, so batch-norm statistics are not their defaults."""
    keras.utils.set_random_seed(0)
    spec = MLPSpec(**{"hidden": (32, 16), "activation": "tanh", **spec_fields})
    model = build_model(spec, style=style, data=DATA)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(DATA.x_train, DATA.y_train, batch_size=32, epochs=3, verbose=0)
    return model


def session(path) -> onnxruntime.InferenceSession:
    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run_onnx(path, images: np.ndarray) -> np.ndarray:
    return session(path).run(None, {"pixels": images})[0]


def accuracy(probabilities: np.ndarray) -> float:
    return float(np.mean(probabilities.argmax(axis=1) == DATA.y_test))


MODELS = {
    "notebook": lambda: trained(),
    "batch-norm": lambda: trained("sequential", batch_norm=True, dropout=0.3, activation="relu"),
    "subclassed": lambda: trained("subclassed", dropout=0.2),
    "ensemble": lambda: ensemble_model([trained(), trained("subclassed")], mirror=True),
}


@pytest.mark.parametrize("kind", MODELS)
def test_onnxruntime_matches_keras_with_the_same_accuracy(kind, tmp_path):
    model = MODELS[kind]()
    path = export_onnx(model, NAMES, tmp_path / "model.onnx")
    expected = model.predict(DATA.x_test, verbose=0)
    got = run_onnx(path, DATA.x_test)
    assert np.abs(got - expected).max() <= TOLERANCE
    assert accuracy(got) == accuracy(expected)
    assert accuracy(got) > 0.3  # the models learned something: parity of real predictions


def test_the_graph_takes_uint8_images_of_any_batch_size_and_names_its_classes(tmp_path):
    model = trained()
    path = export_onnx(model, NAMES, tmp_path / "model.onnx", source="a-run")
    onnx_session = session(path)
    (pixels,) = onnx_session.get_inputs()
    assert pixels.type == "tensor(uint8)" and pixels.shape[1:] == [28, 28]
    assert isinstance(pixels.shape[0], str)  # a symbolic, dynamic batch dimension
    assert [output.name for output in onnx_session.get_outputs()] == ["probabilities"]
    metadata = onnx_session.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["class_names"]) == NAMES
    assert metadata["source_run"] == "a-run"
    for count in (1, 7):
        rows = onnx_session.run(None, {"pixels": DATA.x_test[:count]})[0]
        np.testing.assert_allclose(rows.sum(axis=1), 1, atol=TOLERANCE)
        assert rows.shape == (count, len(NAMES))


def logit_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    layers = [keras.layers.Flatten(), keras.layers.Rescaling(1 / 255), keras.layers.Dense(10)]
    return keras.Sequential([keras.Input((28, 28)), *layers])


def test_logits_get_a_softmax_and_a_temperature_divides_them(tmp_path):
    model = logit_model()
    logits = model.predict(DATA.x_test, verbose=0)
    plain = run_onnx(export_onnx(model, NAMES, tmp_path / "plain.onnx"), DATA.x_test)
    np.testing.assert_allclose(plain, jax.nn.softmax(logits), atol=TOLERANCE)
    warm = run_onnx(export_onnx(model, NAMES, tmp_path / "t2.onnx", temperature=2.0), DATA.x_test)
    np.testing.assert_allclose(warm, jax.nn.softmax(logits / 2), atol=TOLERANCE)


def test_a_temperature_of_one_keeps_a_softmax_models_probabilities(tmp_path):
    model = trained()
    path = export_onnx(model, NAMES, tmp_path / "model.onnx", temperature=1.0)
    np.testing.assert_allclose(
        run_onnx(path, DATA.x_test), model.predict(DATA.x_test, verbose=0), atol=TOLERANCE
    )
    assert json.loads(session(path).get_modelmeta().custom_metadata_map["temperature"]) == 1.0
    with pytest.raises(ConfigError, match="temperature=0"):
        export_onnx(model, NAMES, tmp_path / "bad.onnx", temperature=0)


class HostSort(keras.layers.Layer):
    """A user's layer that leaves JAX for NumPy: no ONNX operator can express it."""

    def call(self, inputs):
        shape = jax.ShapeDtypeStruct(inputs.shape, inputs.dtype)
        return jax.pure_callback(lambda values: np.sort(values, axis=-1), shape, inputs)


def user_model() -> keras.Model:
    inputs = keras.Input((28, 28))
    hidden = HostSort(name="host_sort")(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden), name="mine")


def test_an_unconvertible_layer_is_named_and_no_file_is_left(tmp_path):
    with pytest.raises(
        ConfigError, match=r"layer 'host_sort' of model 'mine' uses .*pure_callback"
    ):
        export_onnx(user_model(), NAMES, tmp_path / "model.onnx")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


def test_an_unconvertible_layer_inside_an_ensemble_is_named_by_its_path(tmp_path):
    ensemble = ensemble_model([trained(), user_model()])
    with pytest.raises(ConfigError, match=r"layer 'member_1/mine/host_sort'"):
        export_onnx(ensemble, NAMES, tmp_path / "model.onnx")


def test_a_missing_extra_names_the_pip_install_line(monkeypatch):
    real_find_spec = __import__("importlib").util.find_spec
    monkeypatch.setattr(
        "importlib.util.find_spec",
        lambda name, *rest: None if name == "jax2onnx" else real_find_spec(name, *rest),
    )
    with pytest.raises(ConfigError, match=r"needs jax2onnx.*pip install 'fashion-mlp\[onnx\]'"):
        require_onnx()


def write_run(folder, model):
    folder.mkdir()
    model.save(folder / "model.keras")
    (folder / "metrics.json").write_text(json.dumps({"class_names": NAMES}))
    return folder


def test_the_cli_writes_model_onnx_into_the_run_or_to_output(tmp_path, capsys):
    model = trained("sequential", batch_norm=True)
    run = write_run(tmp_path / "run", model)
    assert main(["export", str(run), "--format", "onnx"]) == 0
    assert "model.onnx" in capsys.readouterr().out
    expected = model.predict(DATA.x_test, verbose=0)
    assert np.abs(run_onnx(run / "model.onnx", DATA.x_test) - expected).max() <= TOLERANCE
    assert export_run(run, tmp_path / "elsewhere" / "m.onnx").is_file()


def calibrated_run(runs_dir) -> RunDir:
    """A smoke run on synthetic IDX files, calibrated in training on its 200 validation images."""
    data = write_idx_dataset(runs_dir / "data", synthetic_dataset(1000, 120, seed=7))
    overrides = {"data": {"name": str(data)}, "training": {"validation_split": 0.2}}
    config = build_config(preset("smoke"), overrides)
    return RunDir(run_experiment(config, runs_dir, figures=False).run_dir)


def test_the_export_of_a_calibrated_run_applies_its_temperature_in_the_graph(tmp_path):
    run = calibrated_run(tmp_path)
    temperature = run.read_calibration()["temperature"]
    assert main(["export", str(run.path), "--format", "onnx"]) == 0
    onnx_session = session(run.path / "model.onnx")
    got = onnx_session.run(None, {"pixels": DATA.x_test})[0]
    predictor = Predictor.load(run)
    assert np.abs(got - predictor.predict_proba(DATA.x_test)).max() <= TOLERANCE
    raw = predictor.predict_proba(DATA.x_test, raw=True)
    assert np.abs(got - raw).max() > 100 * TOLERANCE  # the temperature changes them
    metadata = onnx_session.get_modelmeta().custom_metadata_map
    assert json.loads(metadata["temperature"]) == temperature


def test_the_cli_export_of_an_unfinished_run_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    assert main(["export", str(tmp_path / "run")]) == 2
    assert "metrics.json" in capsys.readouterr().err
    assert not (tmp_path / "run" / "model.onnx").exists()


def test_predictor_on_onnxruntime_matches_the_default_runtime():
    model = trained("subclassed", batch_norm=True)
    onnx_predictor = Predictor(model, NAMES, runtime="onnx")
    expected = Predictor(model, NAMES).predict_proba(DATA.x_test)
    assert np.abs(onnx_predictor.predict_proba(DATA.x_test) - expected).max() <= TOLERANCE
    assert onnx_predictor.top_k(DATA.x_test[0], k=1)[0][0][0] == NAMES[int(expected[0].argmax())]
    floats = DATA.x_test[:2].astype(np.float32)
    np.testing.assert_allclose(onnx_predictor.predict_proba(floats), expected[:2], atol=TOLERANCE)
    with pytest.raises(ConfigError, match="whole numbers 0-255"):
        onnx_predictor.predict_proba(floats + 0.5)
    with pytest.raises(ConfigError, match="runtime='tpu'"):
        Predictor(model, NAMES, runtime="tpu")


def test_the_serve_flag_offers_the_predictors_runtimes():
    assert SERVE_RUNTIMES == RUNTIMES


def test_serve_on_onnxruntime_answers_the_default_runtimes_probabilities(tmp_path):
    from fastapi.testclient import TestClient
    from serve_fixtures import make_run, serve_dataset

    from fashion_mlp.serve import ServeSettings, create_app

    data_folder = serve_dataset(tmp_path / "data")
    run = make_run(tmp_path / "runs", data_folder, "first")
    settings = ServeSettings(runs_dir=tmp_path / "runs", runtime="onnx")
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8000")
    images = DATA.x_test[:5]
    response = client.post("/api/runs/first/predict/pixels", json={"images": images.tolist()})
    assert response.status_code == 200, response.text
    got = [item["probabilities"] for item in response.json()["results"]]
    expected = Predictor.load(run).predict_proba(images)
    assert np.abs(np.asarray(got) - expected).max() <= TOLERANCE
    warm = client.app.state.context.warm.loaded_predictor(run)
    assert warm.runtime == "onnx"
