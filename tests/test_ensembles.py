"""Ensembles: runs averaged into one model that works as any run (evaluate, predict, report,
the `ensemble` command), and the mirrored ensemble that also averages each image's mirror."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.ensembles import ensemble_model
from fashion_mlp.errors import RunError
from fashion_mlp.models import load_saved_model
from fashion_mlp.runs import RunDir


@pytest.mark.slow  # trains its members
def test_an_ensemble_run_works_as_any_run(tmp_path, capsys):
    data_folder = write_idx_dataset(tmp_path / "data", synthetic_dataset(300, 100, seed=2))
    sweep = ["sweep", "--preset", "smoke", "--data", str(data_folder), "--train-limit", "0"]
    sweep += ["--test-limit", "0", "--learning-rate", "0.01", "0.05", "--seeds", "0-1"]
    sweep += ["--runs-dir", str(tmp_path / "runs"), "--sweeps-dir", str(tmp_path / "sweeps")]
    assert main([*sweep, "--ensemble", "3"]) == 0
    (ensemble,) = (tmp_path / "runs").glob("*ensemble")
    metrics = RunDir(ensemble).read_metrics()
    assert len(metrics["ensemble"]["members"]) == 3
    assert {"run", "test_accuracy", "val_accuracy"} <= set(metrics["ensemble"]["members"][0])
    capsys.readouterr()
    assert main(["evaluate", str(ensemble), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == pytest.approx(
        metrics["test_accuracy"]
    )
    assert main(["predict", str(ensemble), "--test-index", "0"]) == 0
    assert main(["report", str(ensemble), "--figures"]) == 0
    assert (ensemble / "confusion_counts.png").is_file()
    members = [member["path"] for member in metrics["ensemble"]["members"][:2]]
    assert main(["ensemble", *members, "--name", "pair", "--runs-dir", str(tmp_path / "r")]) == 0
    assert "members' mean" in capsys.readouterr().out
    assert main(["ensemble", *members, "--mirror", "--runs-dir", str(tmp_path / "m")]) == 0
    (mirrored,) = (tmp_path / "m").iterdir()
    assert RunDir(mirrored).read_metrics()["ensemble"]["mirror"] is True
    assert main(["evaluate", str(mirrored)]) == 0  # it loads and evaluates like any run


def test_a_mirrored_ensemble_averages_each_member_over_the_image_and_its_mirror(tmp_path):
    members = []
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        members.append(
            keras.Sequential(
                [
                    keras.Input((4, 5)),
                    keras.layers.Flatten(),
                    keras.layers.Dense(3, activation="softmax"),
                ]
            )
        )
    images = np.random.default_rng(0).random((6, 4, 5)).astype("float32")
    mirrored = images[:, :, ::-1]
    expected = np.mean(
        [m.predict(view, verbose=0) for m in members for view in (images, mirrored)], axis=0
    )
    model = ensemble_model(members, mirror=True)
    np.testing.assert_allclose(model.predict(images, verbose=0), expected, atol=1e-6)
    plain = ensemble_model(members).predict(images, verbose=0)
    assert not np.allclose(plain, expected, atol=1e-4)  # the mirror changes the prediction
    model.save(tmp_path / "mirrored.keras")
    loaded = load_saved_model(tmp_path / "mirrored.keras")  # safe_mode: registered layers only
    np.testing.assert_allclose(loaded.predict(images, verbose=0), expected, atol=1e-6)
    flat = [keras.Sequential([keras.Input((20,)), keras.layers.Dense(3)]) for _ in range(2)]
    with pytest.raises(RunError, match="mirroring needs members that take images"):
        ensemble_model(flat, mirror=True)
