"""Small things a new user meets everywhere: whole model summaries, whole setting names in
`compare`, the true class of a test image in `predict --plot`, every preset in `preset`'s help."""

from __future__ import annotations

import pytest
from conftest import synthetic_dataset, write_idx_dataset

import fashion_mlp as fm
from fashion_mlp.cli import main
from fashion_mlp.config import MLPSpec, build_config
from fashion_mlp.experiment import model_summary
from fashion_mlp.models import build_model
from fashion_mlp.presets import PRESETS, preset
from fashion_mlp.runs import RunDir

TABLE_EDGES = "┓┃┩┤│┘"  # the right-hand border of Keras's summary table


@pytest.mark.parametrize("style", ["sequential", "functional"])
def test_a_model_summary_keeps_its_param_column(style, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    text = model_summary(build_model(MLPSpec(hidden=(256, 128)), style))
    assert "Param #" in text and "235,146" in text
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│├└"]
    assert table and all(line.rstrip()[-1] in TABLE_EDGES for line in table)


def fake_run(runs_dir, name: str, layer: dict) -> RunDir:
    run = RunDir.create(runs_dir, name)
    run.write_config(build_config(preset("smoke"), layer))
    run.write_metrics({"test_accuracy": 0.8, "test_loss": 0.5, "epochs_run": 2})
    return run


def test_compare_never_breaks_a_setting_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    layer = {"optimizer": {"optimizer": "adam", "learning_rate": 0.001}}
    runs = [
        fake_run(tmp_path, "a-long-run-name-of-a-notebook", {}),
        fake_run(tmp_path, "another-long-run-name-of-adam", layer),
        fake_run(tmp_path, "a-third-long-run-name-of-relu", {"model": {"activation": "relu"}}),
    ]
    capsys.readouterr()
    assert main(["compare", *map(str, (run.path for run in runs))]) == 0
    out = capsys.readouterr().out
    for key in ("optimizer.learning_rate", "optimizer.optimizer", "model.activation"):
        assert key in out
    assert max(map(len, out.splitlines())) <= 80


@pytest.fixture
def untrained_run(tmp_path):
    data = synthetic_dataset(100, 20)
    folder = write_idx_dataset(tmp_path / "data", data)
    run = RunDir.create(tmp_path / "runs", "untrained")
    run.write_config(build_config({"data": {"name": str(folder)}, "model": {"hidden": [8]}}))
    run.save_model(build_model(MLPSpec(hidden=(8,)), data=data))
    run.write_metrics({"class_names": list(data.class_names)})
    return run, data


def test_predict_plot_shows_a_test_images_true_class_beside_a_photo(untrained_run, monkeypatch):
    from fashion_mlp.reports import figures

    run, data = untrained_run
    photo = run.path.parent / "photo.png"
    from PIL import Image

    Image.fromarray(data.x_test[3]).save(photo)
    drawn = {}
    original = figures.prediction_figure

    def recording(*args, **kwargs):
        drawn.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(figures, "prediction_figure", recording)
    plot = run.path.parent / "predictions.png"
    assert (
        main(["predict", str(run.path), str(photo), "--test-index", "0", "--plot", str(plot)]) == 0
    )
    assert plot.is_file()
    assert drawn["true_labels"] == [int(data.y_test[0]), None]


def test_prediction_figure_names_the_true_class_in_the_title():
    from fashion_mlp.reports.figures import prediction_figure

    images, labels = synthetic_dataset(20, 4).x_test[:2], ["a", "b", "c"]
    fig = prediction_figure(images, [[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]], labels, [2, None])
    assert "true: c" in fig.axes[0].get_title()
    assert "true" not in fig.axes[2].get_title()


def test_presets_help_names_every_preset():
    assert all(name in fm.preset.__doc__ for name in PRESETS)
