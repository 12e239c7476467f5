"""Calibrated runs end to end on synthetic data: trained runs calibrate themselves, Predictor,
evaluate, predict and the report use the temperature, older runs load as before, and every way
calibration can fail is one clear line that leaves the run as it was."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.ensembles import build_ensemble
from fashion_mlp.errors import RunError
from fashion_mlp.experiment import run_experiment
from fashion_mlp.inference import Predictor, evaluate_run
from fashion_mlp.metrics import temperature_scaled
from fashion_mlp.models import load_saved_model
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.xdist_group("calibrated-runs")  # the module's trained runs, once

CALIBRATION = "calibration.json"


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    """1,000 training images: a validation split of 0.2 holds out the 200 calibration needs."""
    data = synthetic_dataset(n_train=1000, n_test=200)
    return write_idx_dataset(tmp_path_factory.mktemp("data") / "synthetic", data)


def train(idx_data, runs_dir, validation_split=0.2, seed=0) -> RunDir:
    training = {"epochs": 2, "validation_split": validation_split, "seed": seed}
    config = build_config(preset("smoke"), {"data": {"name": str(idx_data)}, "training": training})
    return RunDir(run_experiment(config, runs_dir, figures=False).run_dir)


@pytest.fixture(scope="module")
def trained(idx_data, tmp_path_factory) -> RunDir:
    return train(idx_data, tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def without_validation(idx_data, tmp_path_factory) -> RunDir:
    return train(idx_data, tmp_path_factory.mktemp("runs"), validation_split=0.0)


def copied(run: RunDir, tmp_path) -> RunDir:
    return RunDir(shutil.copytree(run.path, tmp_path / run.name))


def snapshot(run: RunDir) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in run.path.iterdir() if path.is_file()}


def test_a_run_trained_with_a_validation_split_is_calibrated_on_it(trained):
    record = json.loads((trained.path / CALIBRATION).read_text())
    assert record["fitted_on"] == {
        "split": "validation",
        "fraction": 0.2,
        "images": 200,
        "optimistic": False,
    }
    assert set(record["scores"]) == {"validation", "test"}
    assert sum(record["reliability_test"]["raw"]["counts"]) == 200
    entry = trained.read_metrics()["calibration"]
    assert entry["status"] == "calibrated" and entry["temperature"] == record["temperature"] != 1


def test_predictor_load_applies_the_temperature_and_raw_gives_the_models_own(trained):
    images = synthetic_dataset(n_train=10, n_test=50, seed=5).x_test
    predictor = Predictor.load(trained)
    raw = Predictor(load_saved_model(trained.model_path), predictor.class_names)
    expected_raw = raw.predict_proba(images)
    temperature = trained.read_calibration()["temperature"]
    assert predictor.temperature == temperature and predictor.calibrated
    np.testing.assert_allclose(predictor.predict_proba(images, raw=True), expected_raw)
    calibrated = predictor.predict_proba(images)
    np.testing.assert_allclose(calibrated, temperature_scaled(expected_raw, temperature))
    assert not np.allclose(calibrated, expected_raw, atol=1e-3)
    np.testing.assert_array_equal(calibrated.argmax(axis=1), expected_raw.argmax(axis=1))


def test_evaluate_reports_both_and_calibration_leaves_accuracy_alone(trained):
    metrics = evaluate_run(trained.path)
    calibration = metrics["calibration"]
    assert calibration["status"] == "calibrated"
    assert calibration["raw"]["accuracy"] == calibration["calibrated"]["accuracy"]
    assert calibration["raw"]["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert calibration["raw"]["nll"] == pytest.approx(metrics["test_loss"])
    record = trained.read_calibration()["scores"]["test"]
    assert calibration["calibrated"]["ece"] == pytest.approx(record["calibrated"]["ece"])


def test_predict_shows_calibrated_probabilities_unless_raw(trained, capsys):
    for flags, calibrated in (([], True), (["--raw"], False)):
        assert main(["predict", str(trained.path), "--test-index", "0", "--json", *flags]) == 0
        (item,) = json.loads(capsys.readouterr().out)
        assert item["calibrated"] is calibrated


def test_calibrate_refits_and_rewrites_the_report(trained, tmp_path, capsys):
    run = copied(trained, tmp_path)
    (run.path / CALIBRATION).unlink()
    assert main(["calibrate", str(run.path), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == run.read_calibration() == trained.read_calibration()
    assert "<h2>Calibration</h2>" in run.report_path.read_text()
    assert 'alt="Reliability on the test set' in run.report_path.read_text()


def test_calibrate_prints_the_temperature_and_scores(trained, tmp_path, capsys):
    assert main(["calibrate", str(copied(trained, tmp_path).path)]) == 0
    out = capsys.readouterr().out
    assert "Calibration: temperature T = " in out and "validation" in out and "test" in out
    assert "fitted on 200 validation images" in out


def test_an_older_run_without_calibration_behaves_as_before(trained, tmp_path):
    run = copied(trained, tmp_path)
    (run.path / CALIBRATION).unlink()
    predictor = Predictor.load(run)
    images = synthetic_dataset(n_train=10, n_test=20, seed=5).x_test
    assert predictor.temperature == 1 and not predictor.calibrated
    np.testing.assert_array_equal(
        predictor.predict_proba(images), predictor.predict_proba(images, raw=True)
    )
    assert evaluate_run(run.path)["calibration"]["status"] == "uncalibrated"


def test_a_run_without_validation_split_says_how_to_calibrate(without_validation, tmp_path, capsys):
    entry = without_validation.read_metrics()["calibration"]
    assert entry["status"] == "uncalibrated" and entry["temperature"] == 1.0
    assert "--split 0.1" in entry["how"] and not (without_validation.path / CALIBRATION).exists()
    run = copied(without_validation, tmp_path)
    before = snapshot(run)
    assert main(["calibrate", str(run.path)]) == 2
    error = capsys.readouterr().err.splitlines()[0]
    assert error.startswith(f"error: run {run.path}: trained without a validation split")
    assert snapshot(run) == before


def test_a_split_of_the_training_images_calibrates_such_a_run(without_validation, tmp_path):
    run = copied(without_validation, tmp_path)
    assert main(["calibrate", str(run.path), "--split", "0.2"]) == 0
    assert run.read_calibration()["fitted_on"]["optimistic"] is True
    assert run.read_metrics()["calibration"]["fitted_on"] == "training"
    assert Predictor.load(run).calibrated


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (b"{not json", r"calibration\.json is corrupt .*fashion-mlp calibrate .*or delete it"),
        (b'{"temperature": -1}', r"temperature -1, expected a number > 0; fit it again"),
    ],
)
def test_a_damaged_calibration_file_is_one_clear_line(trained, tmp_path, capsys, damage, message):
    run = copied(trained, tmp_path)
    (run.path / CALIBRATION).write_bytes(damage)
    before = snapshot(run)
    with pytest.raises(RunError, match=message):
        Predictor.load(run)
    assert main(["predict", str(run.path), "--test-index", "0"]) == 2
    assert "calibration.json" in capsys.readouterr().err.splitlines()[0]
    assert snapshot(run) == before
    assert main(["calibrate", str(run.path)]) == 0  # the fix the message names
    assert Predictor.load(run).calibrated


def test_a_run_without_a_model_or_too_few_images_is_left_as_it_was(
    trained, without_validation, tmp_path, capsys
):
    no_model = copied(trained, tmp_path)
    no_model.model_path.unlink()
    small = copied(without_validation, tmp_path)
    for run, flags, message in (
        (no_model, [], "has no trained model"),
        (
            small,
            ["--split", "0.05"],
            "50 images held out (0.05 of 1000 training images) are too few",
        ),
    ):
        before = snapshot(run)
        assert main(["calibrate", str(run.path), *flags]) == 2
        assert message in capsys.readouterr().err.splitlines()[0]
        assert snapshot(run) == before


@pytest.mark.slow  # trains two members
def test_an_ensemble_is_calibrated_on_its_members_validation_split(idx_data, trained, tmp_path):
    other = train(idx_data, tmp_path / "runs", seed=1)
    ensemble = RunDir(build_ensemble([trained.path, other.path], tmp_path / "runs").run_dir)
    record = ensemble.read_calibration()
    assert record["fitted_on"]["images"] == 200
    assert ensemble.read_metrics()["calibration"]["status"] == "calibrated"
    assert Predictor.load(ensemble).temperature == record["temperature"]
