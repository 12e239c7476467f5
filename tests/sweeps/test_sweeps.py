"""Sweeps: sweep files and flags become trials, trials group into populations, a sweep writes
run folders and its sweep folder, and a killed sweep resumes only what was left."""

from __future__ import annotations

import csv
import json
import socket
import subprocess

import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.cli.sweep_options import sweep_table
from fashion_mlp.config import build_config
from fashion_mlp.errors import ConfigError
from fashion_mlp.history import time_to_accuracy
from fashion_mlp.runs import RunDir, list_runs
from fashion_mlp.sweeps.folder import SweepDir
from fashion_mlp.sweeps.grouping import group_trials, population_key
from fashion_mlp.sweeps.spec import parse_seeds, read_sweep_file, sweep_spec


def test_a_sweep_file_gives_the_grid_and_random_draws(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'name = "wd"\npreset = "smoke"\n[base]\ntraining.epochs = 1\n'
        "[axes]\noptimizer.weight_decay = { log = [1e-5, 1e-3], num = 3 }\n"
        '"training.seed" = { range = [0, 1] }\n',
        encoding="utf-8",
    )
    trials = read_sweep_file(path).trials()
    assert len(trials) == 6
    assert [t.settings["optimizer.weight_decay"] for t in trials[::2]] == pytest.approx(
        [1e-5, 1e-4, 1e-3]
    )
    assert trials[0].config.training.epochs == 1 and trials[5].config.name == "wd-005"
    drawn = read_sweep_file(path, {"sweep": {"samples": 4, "sample_seed": 1}}).trials()
    assert len(drawn) == 4
    assert all(1e-5 <= t.settings["optimizer.weight_decay"] <= 1e-3 for t in drawn)
    assert (
        drawn[0].settings
        == read_sweep_file(path, {"sweep": {"samples": 4, "sample_seed": 1}}).trials()[0].settings
    )


def test_bad_sweeps_are_errors_that_name_the_problem():
    with pytest.raises(ConfigError, match="no axes"):
        sweep_spec({"preset": "smoke"})
    with pytest.raises(ConfigError, match=r"trial 1 \(optimizer.learning_rate = -1"):
        sweep_spec({"axes": {"optimizer.learning_rate": [0.1, -1]}})
    with pytest.raises(ConfigError, match="num = N"):
        sweep_spec({"axes": {"optimizer.weight_decay": {"log": [1e-5, 1e-3]}}}).trials()
    with pytest.raises(ConfigError, match="range 0-4"):
        parse_seeds("a-b")


def test_numpy_numbers_on_axes_become_python_numbers_that_the_sweep_files_hold(tmp_path):
    axes = {
        "optimizer.learning_rate": [np.float32(0.5), np.float64(0.1)],
        "training.seed": {"range": [np.int64(0), np.int64(1)]},
        "model.hidden": [[np.int64(32), np.int64(16)]],
    }
    spec = sweep_spec({"preset": "smoke", "axes": axes})
    settings = [trial.settings for trial in spec.trials()]
    assert settings[0] == {
        "optimizer.learning_rate": 0.5,
        "training.seed": 0,
        "model.hidden": (32, 16),
    }
    assert {type(value) for setting in settings for value in setting.values()} == {
        float,
        int,
        tuple,
    }
    assert json.loads(json.dumps(settings))  # trials.json
    path = tmp_path / "sweep.toml"
    path.write_text(spec.to_toml(), encoding="utf-8")
    assert [trial.settings for trial in read_sweep_file(path).trials()] == settings


def test_a_sweep_on_a_preset_without_validation_split_asks_for_one():
    best_seeds = {"preset": "best", "axes": {"training.seed": [0, 1]}}
    with pytest.raises(ConfigError, match="ranks its trials by validation.*--validation-split 0.1"):
        sweep_spec(best_seeds).trials()
    args = build_parser().parse_args(
        ["sweep", "--preset", "best", "--seeds", "0-1", "--validation-split", "0.1"]
    )
    trials = sweep_spec(sweep_table(args)).trials()
    assert [trial.config.training.validation_split for trial in trials] == [0.1, 0.1]


def test_flags_with_several_values_become_axes():
    args = build_parser().parse_args(
        [
            "sweep",
            "--preset",
            "smoke",
            "--learning-rate",
            "0.003",
            "0.01",
            "--seeds",
            "0-2",
            "--epochs",
            "3",
            "--ensemble",
            "2",
        ]
    )
    table = sweep_table(args)
    assert table["axes"] == {"optimizer.learning_rate": [0.003, 0.01], "training.seed": [0, 1, 2]}
    assert table["base"] == {"training": {"epochs": 3}} and table["sweep"] == {"ensemble": 2}


def test_seeds_and_constant_learning_rates_share_a_population_other_settings_split():
    spec = sweep_spec(
        {
            "preset": "smoke",
            "axes": {
                "optimizer.learning_rate": [0.01, 0.1],
                "training.seed": [0, 1],
                "optimizer.label_smoothing": [0.0, 0.1, 0.2],
            },
        }
    )
    groups = group_trials(spec.trials())
    assert [len(group) for group in groups] == [4, 8]  # smoothing's value is per member
    assert len(group_trials(spec.trials(), members_per_population=3)) == 5  # 3+1, 3+3+2
    cosine = build_config({"optimizer": {"schedule": "cosine", "learning_rate": 0.1}})
    other = build_config({"optimizer": {"schedule": "cosine", "learning_rate": 0.2}})
    assert population_key(cosine) != population_key(other)  # a schedule fixes the rate
    decays = [
        build_config({"optimizer": {"optimizer": "adamw", "weight_decay": decay}})
        for decay in (0.0, 1e-4, 1e-2)
    ]
    keys = [population_key(config) for config in decays]
    assert keys[1] == keys[2] != keys[0]  # a decay's value is per member; none is another step
    momentum = [build_config({"optimizer": {"momentum": value}}) for value in (0.8, 0.9)]
    assert population_key(momentum[0]) != population_key(momentum[1])  # a constant: splits
    dropouts = [
        build_config({"model": {"hidden": [8, 8], "dropout": rates}})
        for rates in (0.2, [0.2, 0.2], [0.5, 0.1], [0.5, 0.0])
    ]
    keys = [population_key(config) for config in dropouts]
    assert keys[0] == keys[1] == keys[2] != keys[3]  # rates per member; none after a layer splits
    inputs = [build_config({"model": {"input_dropout": rate}}) for rate in (0.0, 0.1, 0.2)]
    keys = [population_key(config) for config in inputs]
    assert keys[1] == keys[2] != keys[0]


@pytest.fixture
def data_folder(tmp_path):
    return write_idx_dataset(tmp_path / "data", synthetic_dataset(300, 100, seed=2))


def sweep_args(data_folder, tmp_path, *extra):
    return [
        "sweep",
        "--preset",
        "smoke",
        "--data",
        str(data_folder),
        "--train-limit",
        "0",
        "--test-limit",
        "0",
        "--learning-rate",
        "0.01",
        "0.05",
        "--seeds",
        "0-1",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--sweeps-dir",
        str(tmp_path / "sweeps"),
        *extra,
    ]


@pytest.mark.slow  # a sweep killed and resumed
def test_a_sweep_writes_runs_and_its_folder_and_resumes_only_what_was_left(
    data_folder, tmp_path, monkeypatch, capsys
):
    import fashion_mlp.sweeps.trial_runs as local

    finish, calls = local.finish_run, []

    def killed_after_two(*args, **kwargs):  # the kill lands while runs are being finished
        if len(calls) == 2:
            # finished runs are released at once: a SIGKILL now would leave them no stale lock
            locked = [(run.path / run.LOCK).exists() for run in (*calls, args[0])]
            assert locked == [False, False, True]
            raise KeyboardInterrupt
        calls.append(args[0])
        return finish(*args, **kwargs)

    monkeypatch.setattr(local, "finish_run", killed_after_two)
    assert main(sweep_args(data_folder, tmp_path)) == 130
    (sweep_dir,) = (tmp_path / "sweeps").iterdir()
    assert "fashion-mlp sweep --resume" in capsys.readouterr().out
    assert list((sweep_dir / "populations").iterdir())  # the unfinished population's checkpoint
    monkeypatch.setattr(local, "finish_run", finish)
    trained = []
    monkeypatch.setattr(local, "train_population", _recording(local.train_population, trained))

    assert main(["sweep", "--resume", str(sweep_dir)]) == 0
    assert trained == []  # every member was saved before the first was finished: none retrains
    runs = list_runs(tmp_path / "runs")
    assert len(runs) == 4 and {row["status"] for row in runs} == {"finished"}
    with open(sweep_dir / "results.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 4 and rows[0]["rank"] == "1"
    accuracies = [float(row["val_accuracy"]) for row in rows]
    assert accuracies == sorted(accuracies, reverse=True)
    report = (sweep_dir / "report.html").read_text(encoding="utf-8")
    assert "ranked by <b>validation</b> accuracy" in report and "data:image/png" in report
    assert (sweep_dir / "axis-optimizer.learning_rate.png").is_file()
    # every run finished: no checkpoint is kept (the killed member set's one included)
    assert not (sweep_dir / "populations").exists()

    folder = SweepDir(sweep_dir)
    trials, state = folder.read_spec().trials(), folder.read_state()
    runs = [RunDir(state["trials"][trial.index]["run"]) for trial in trials]
    trained.clear()  # a retry of a finished population (a worker lost after finishing it)
    metrics = local.train_runs(folder, 0, trials, runs, None, folder.read_spec())
    assert trained == [] and metrics == [run.read_metrics() for run in runs]


def test_a_population_whose_run_another_process_holds_is_not_trained_alongside(
    data_folder, tmp_path, monkeypatch, capsys
):
    import fashion_mlp.sweeps.trial_runs as local

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "train_population", killed)
    assert main(sweep_args(data_folder, tmp_path)) == 130  # runs created, nothing trained
    monkeypatch.undo()
    (sweep_dir,) = (tmp_path / "sweeps").iterdir()
    held = RunDir(json.loads((sweep_dir / "trials.json").read_text())["trials"][0]["run"])
    lingering = subprocess.Popen(["sleep", "60"])  # e.g. a worker of the killed sweep
    try:
        owner = {"pid": lingering.pid, "host": socket.gethostname(), "since": "now"}
        (held.path / held.LOCK).write_text(json.dumps(owner))
        before = sorted(path.name for path in held.path.iterdir())
        assert main(["sweep", "--resume", str(sweep_dir)]) == 2
        assert f"in use by process {lingering.pid}" in capsys.readouterr().err
        assert sorted(path.name for path in held.path.iterdir()) == before
        assert not (sweep_dir / "populations").exists()  # the population was not trained
    finally:
        lingering.kill()
        lingering.wait()
    assert main(["sweep", "--resume", str(sweep_dir)]) == 0  # its owner gone: the lock is stale
    assert {row["status"] for row in list_runs(tmp_path / "runs")} == {"finished"}


def test_members_saved_before_a_kill_are_finished_on_resume_and_only_the_rest_train(
    data_folder, tmp_path, monkeypatch
):
    import fashion_mlp.sweeps.trial_runs as local

    save, saved = local.save_trained, []

    def killed_after_one(run, *args):  # the kill lands while the trained members are saved
        if saved:
            raise KeyboardInterrupt
        saved.append(run)
        save(run, *args)

    monkeypatch.setattr(local, "save_trained", killed_after_one)
    assert main(sweep_args(data_folder, tmp_path, "--members-per-population", "4")) == 130
    monkeypatch.setattr(local, "save_trained", save)
    trained = []
    monkeypatch.setattr(local, "train_population", _recording(local.train_population, trained))
    (sweep_dir,) = (tmp_path / "sweeps").iterdir()
    assert main(["sweep", "--resume", str(sweep_dir)]) == 0
    assert trained == [3]  # the saved member is finished as it was; the other three train
    runs = list_runs(tmp_path / "runs")
    assert {row["status"] for row in runs} == {"finished"}
    (first,) = saved
    assert RunDir(first.path).read_metrics()["epochs_run"] == len(first.read_history()["loss"])
    for run in map(RunDir, (tmp_path / "runs").iterdir()):  # the saved member and the others
        timed, history = run.read_metrics()["time_to_accuracy"], run.read_history()
        assert [entry["epoch"] for entry in timed] == [
            e["epoch"] for e in time_to_accuracy(history)
        ]


def _recording(function, sizes):
    def record(models, *args, **kwargs):
        sizes.append(len(models))
        return function(models, *args, **kwargs)

    return record
