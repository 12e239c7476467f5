"""The experiment end to end on synthetic data: train, evaluate, predict, runs, resume."""

from __future__ import annotations

import json
import tomllib

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset
from PIL import Image

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.experiment import resume_experiment, run_experiment
from fashion_mlp.history import time_to_accuracy
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir, list_runs

RUN_FILES = ("config.toml", "model.keras", "history.csv", "metrics.json", "summary.txt")


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    """A synthetic data set as an IDX folder, as a user would pass with --data."""
    return write_idx_dataset(tmp_path_factory.mktemp("data") / "synthetic", synthetic_dataset())


def smoke_config(idx_data, model=None, **training):
    layer = {"data": {"name": str(idx_data)}, "training": {"epochs": 3, **training}}
    return build_config(preset("smoke"), layer, {"model": model or {}})


FINISHED_RUN = pytest.mark.xdist_group("experiment-finished-run")  # its tests share one run


@pytest.fixture(scope="module")
def finished_run(idx_data, tmp_path_factory):
    """One finished smoke run, for the tests that only read it or must leave it unchanged."""
    return run_experiment(smoke_config(idx_data), tmp_path_factory.mktemp("runs"))


def only_run(runs_dir):
    (run_dir,) = [path for path in runs_dir.iterdir() if path.is_dir()]
    return run_dir


def test_smoke_cli_end_to_end(idx_data, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    args = ["train", "--preset", "smoke", "--data", str(idx_data), "--runs-dir", str(runs_dir)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Trainable params" in out and "test accuracy" in out
    run_dir = only_run(runs_dir)
    for name in RUN_FILES:
        assert (run_dir / name).stat().st_size > 0, name
    assert (run_dir / "checkpoints" / "state.json").exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.5  # synthetic bands are easy to learn
    assert metrics["epochs_run"] == 2 and metrics["parameters"] == 784 * 32 + 32 + 32 * 10 + 10
    history = RunDir(run_dir).read_history()
    assert len(history["loss"]) == 2
    expected = time_to_accuracy(history)  # the smoke preset validates on 10 %; csv: 6 digits
    reached = metrics["time_to_accuracy"]
    assert [(e["val_accuracy"], e["epoch"]) for e in reached] == [
        (e["val_accuracy"], e["epoch"]) for e in expected
    ]
    assert [e["seconds"] for e in reached] == pytest.approx(
        [e["seconds"] for e in expected],
        rel=1e-5,  # the csv keeps 6 significant digits
    )

    assert main(["evaluate", str(run_dir), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["test_accuracy"] == metrics["test_accuracy"]

    image = tmp_path / "item.png"
    pixels = np.zeros((40, 30), np.uint8)
    pixels[5:35, 8:22] = 220  # a light object on a dark background
    Image.fromarray(pixels).save(image)
    assert main(["predict", str(run_dir), str(image), "--test-index", "0", "3", "--json"]) == 0
    predictions = json.loads(capsys.readouterr().out)
    assert [p["input"] for p in predictions] == ["test[0]", "test[3]", str(image)]
    assert all(len(p["top"]) == 3 for p in predictions)

    assert main(["runs", "--runs-dir", str(runs_dir), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["test_accuracy"] == metrics["test_accuracy"] and row["status"] == "finished"


@pytest.mark.slow  # trains the run again
@FINISHED_RUN
def test_config_toml_reruns_the_same_experiment(finished_run, tmp_path):
    first = finished_run
    saved = tomllib.loads((first.run_dir / "config.toml").read_text())
    second = run_experiment(build_config(saved), tmp_path / "b")
    assert second.metrics["test_accuracy"] == first.metrics["test_accuracy"]
    assert second.history["loss"] == first.history["loss"]


@pytest.mark.slow  # two trainings per engine
@pytest.mark.parametrize("engine", ["keras", "compiled"])
def test_same_seed_same_results(idx_data, tmp_path, engine):
    config = smoke_config(idx_data, engine=engine)
    first = run_experiment(config, tmp_path / "a")
    second = run_experiment(config, tmp_path / "b")
    assert first.metrics["test_loss"] == second.metrics["test_loss"]
    assert first.metrics["confusion_matrix"] == second.metrics["confusion_matrix"]
    assert first.history["val_loss"] == second.history["val_loss"]


class InterruptAfter(keras.callbacks.Callback):
    """Stands in for Ctrl-C once epoch `epoch` (counting from 1) has finished."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["keras", "compiled"])
def test_resume_equals_uninterrupted(idx_data, tmp_path, engine):
    config = smoke_config(idx_data, model={"dropout": 0.3}, engine=engine)  # random masks too
    uninterrupted = run_experiment(config, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run_experiment(config, tmp_path / "cut", callbacks=[InterruptAfter(1)])
    run_dir = only_run(tmp_path / "cut")
    assert not (run_dir / "metrics.json").exists()
    assert list_runs(tmp_path / "cut")[0]["status"] == "unfinished"
    resumed = resume_experiment(run_dir)
    assert resumed.metrics["test_loss"] == pytest.approx(
        uninterrupted.metrics["test_loss"], abs=1e-6
    )
    assert resumed.metrics["confusion_matrix"] == uninterrupted.metrics["confusion_matrix"]
    np.testing.assert_allclose(resumed.history["loss"], uninterrupted.history["loss"], rtol=1e-5)
    assert len(list((run_dir / "checkpoints").glob("*.keras"))) == 1  # older ones removed


@FINISHED_RUN
def test_resume_of_finished_or_missing_run(finished_run, tmp_path, capsys):
    assert main(["train", "--resume", str(finished_run.run_dir)]) == 2
    assert "already finished" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err


@FINISHED_RUN
def test_metrics_confusion_rows_sum_to_class_counts(finished_run):
    result = finished_run
    data = synthetic_dataset()
    rows = np.array(result.metrics["confusion_matrix"]).sum(axis=1)
    assert rows.tolist() == np.bincount(data.y_test, minlength=10).tolist()
    assert result.metrics["data"]["source"] == "path"


@FINISHED_RUN
def test_a_finished_run_records_its_mirror_scores(finished_run):
    """metrics.json["mirror"]: validation accuracy of images either way round, plain and averaged
    with their mirror, and the choice photos follow (issue 26), as computed by hand here."""
    run = RunDir(finished_run.run_dir)
    mirror = run.read_metrics()["mirror"]
    data = synthetic_dataset()
    x_val, y_val = data.x_train[-60:], data.y_train[-60:]  # the smoke preset's last 10 %
    predictor = Predictor.load(run)
    plain, flipped = (predictor.predict_proba(x, raw=True) for x in (x_val, x_val[..., ::-1]))
    either_way = np.mean([np.mean(p.argmax(axis=1) == y_val) for p in (plain, flipped)])
    averaged = np.mean(((plain + flipped) / 2).argmax(axis=1) == y_val)
    assert mirror["validation_plain"] == pytest.approx(either_way)
    assert mirror["validation_averaged"] == pytest.approx(averaged)
    assert mirror["average_photos"] is bool(averaged > either_way)


@FINISHED_RUN
def test_predict_missing_run_and_bad_files(finished_run, tmp_path, capsys):
    assert main(["predict", str(tmp_path / "nope"), "--test-index", "0"]) == 2
    assert "nope does not exist" in capsys.readouterr().err
    run_dir = finished_run.run_dir
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    assert main(["predict", str(run_dir), str(text), "--test-index", "1", "999"]) == 1
    out = capsys.readouterr().out
    assert "test[1]" in out and "notes.txt" in out and "out of range" in out


def test_bad_flag_value_is_a_clear_error(idx_data, tmp_path, capsys):
    args = ["train", "--preset", "smoke", "--data", str(idx_data), "--epochs", "0"]
    assert main([*args, "--runs-dir", str(tmp_path)]) == 2
    assert "epochs = 0: expected an integer >= 1" in capsys.readouterr().err
