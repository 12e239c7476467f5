"""The Python API in a notebook: fit shows Keras's progress, a Dataset prints one line, history
and confusion matrix are one call each and show inline, predict needs no Predictor."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset
from matplotlib.figure import Figure

import fashion_mlp as fm

PNG = b"\x89PNG"


@pytest.fixture(scope="module")
def data():
    return synthetic_dataset(300, 60)


@pytest.fixture(scope="module")
def trained(data):
    model = fm.build_model(fm.MLPSpec(hidden=(8,)), data=data)
    fm.compile_model(model, "adam")
    history = fm.fit(model, data, epochs=1, batch_size=32)
    return model, history


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    idx = write_idx_dataset(folder / "data", synthetic_dataset(300, 60))
    layer = {"data": {"name": str(idx), "train_limit": 0, "test_limit": 0}}
    config = fm.build_config(fm.preset("smoke"), layer, {"training": {"epochs": 1}})
    return fm.run_experiment(config, folder / "runs", figures=False)


@pytest.mark.parametrize("engine", ["compiled", "keras"])
def test_fit_shows_keras_progress_when_verbose(data, engine, capsys):
    model = fm.build_model(fm.MLPSpec(hidden=(8,)), data=data)
    fm.compile_model(model, "adam")
    fm.fit(model, data, epochs=2, batch_size=64, engine=engine, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "val_accuracy" in out
    fm.fit(model, data, epochs=1, batch_size=64, engine=engine)
    assert capsys.readouterr().out == ""  # quiet by default, as before


def test_a_dataset_prints_one_line(data):
    text = repr(data)
    assert "\n" not in text and len(text) < 160 and "array(" not in text
    assert "300 training and 60 test images of 28x28 pixels, 10 classes" in text


def shows_inline(figure) -> bool:
    return isinstance(figure, Figure) and figure._repr_png_().startswith(PNG)


def test_plot_history_takes_a_history_a_result_or_a_run(trained, run):
    _, history = trained
    for source in (history, history.history, run, run.run_dir, str(run.run_dir)):
        figure = fm.plot_history(source)
        assert shows_inline(figure) and figure.axes


def test_plot_confusion_takes_a_model_or_a_run(trained, run, data):
    model, _ = trained
    for figure in (fm.plot_confusion(model, data), fm.plot_confusion(run)):
        assert shows_inline(figure)
    counts = fm.plot_confusion(run.run_dir, data, normalize=False)
    assert shows_inline(counts)
    with pytest.raises(TypeError, match="needs the data"):
        fm.plot_confusion(model)


def test_predict_without_a_predictor(trained, run, data):
    model, _ = trained
    probabilities = fm.predict(model, data.x_test[:4])
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    assert fm.predict(model, data.x_test[0]).shape == (10,)
    named = fm.predict(model, data.x_test[:2], data, k=2)
    assert len(named) == 2 and named[0][0][0] in data.class_names and len(named[0]) == 2
    (name, probability), *_ = fm.predict(run.run_dir, data.x_test[0])
    assert name in fm.RunDir(run.run_dir).class_names() and 0 <= probability <= 1
