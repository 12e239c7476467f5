"""The Ray backend (`sweep --backend ray`) on a local Ray: an interrupted sweep resumes without
redoing finished trials and ends with what the local backend writes; ASHA stops a poor
population early and keeps its partial history; Ray missing and bad flags are clear errors.
(test_sweep_ray_cluster.py: two nodes, a killed worker.)"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys

import pytest
import ray
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.cli.sweep_options import chosen_backend, ray_settings
from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.files import process_alive
from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps import ray_backend
from fashion_mlp.sweeps.backends import RayConfig
from fashion_mlp.sweeps.spec import sweep_spec

pytestmark = pytest.mark.xdist_group("ray")  # one Ray at a time, in one worker


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    return write_idx_dataset(folder, synthetic_dataset(300, 100, seed=2))


def sweep_args(data_folder, root, *extra):
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
        "--runs-dir",
        str(root / "runs"),
        "--sweeps-dir",
        str(root / "sweeps"),
        *extra,
    ]


def sweep_folder(root):
    (folder,) = (root / "sweeps").iterdir()
    return folder


def read_rows(folder) -> dict[str, dict]:
    with open(folder / "results.csv", encoding="utf-8") as file:
        return {row["trial"]: row for row in csv.DictReader(file)}


def files(folder, skip=()) -> set[str]:
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.relative_to(folder).parts[0] not in skip
    }


@pytest.mark.ray
def test_a_ray_sweep_interrupted_and_resumed_writes_what_the_local_backend_writes(
    data_folder, tmp_path, monkeypatch
):
    from fashion_mlp.cli.commands import sweep as command

    grid = ["--learning-rate", "0.01", "0.05", "--seeds", "0-1", "--members-per-population", "2"]
    assert main(sweep_args(data_folder, tmp_path / "local", *grid)) == 0
    shown = []

    def interrupted_after_one_population(self, trial, run, metrics, remaining_epochs):
        shown.append(run)
        if len(shown) == 2:  # Ctrl-C once one population is finished, the other training
            raise KeyboardInterrupt

    stop, stopped = ray_backend.stop_local_workers, []

    def recorded_stop(attempts):
        stopped.extend(attempt.pid for attempt in attempts.values() if not attempt.completed)
        stop(attempts)

    monkeypatch.setattr(command.SweepProgress, "on_trial", interrupted_after_one_population)
    monkeypatch.setattr(ray_backend, "stop_local_workers", recorded_stop)
    assert main(sweep_args(data_folder, tmp_path / "ray", *grid, "--backend", "ray")) == 130
    assert not ray.is_initialized()  # the Ray it started for the sweep is gone again
    assert not any(pid and process_alive(pid) for pid in stopped)  # and its workers with it
    monkeypatch.undo()
    finished = {run: (run / "metrics.json").stat().st_mtime_ns for run in shown}
    on_ray = sweep_folder(tmp_path / "ray")
    monkeypatch.chdir(tmp_path / "ray")  # a relative sweep folder: Tune needs it absolute
    resumed = str(on_ray.relative_to(tmp_path / "ray"))
    assert main(["sweep", "--resume", resumed]) == 0  # on Ray again: trials.json says so
    assert {run: (run / "metrics.json").stat().st_mtime_ns for run in shown} == finished

    local = sweep_folder(tmp_path / "local")
    on_ray_files, local_files = files(on_ray, skip={"ray"}), files(local)  # ray/: Tune's own
    assert local_files <= on_ray_files
    # When the Ctrl-C lands between the two runs of a population being finished, the resume
    # trains the unfinished one alone, checkpointed in a folder of its own under populations/
    assert all(path.startswith("populations/") for path in on_ray_files - local_files)
    local_rows, ray_rows = read_rows(local), read_rows(on_ray)
    assert sorted(ray_rows) == ["0", "1", "2", "3"]
    for trial, row in ray_rows.items():
        expected = local_rows[trial]
        for column in ("optimizer.learning_rate", "training.seed", "epochs", "stopped_early"):
            assert row[column] == expected[column]
        for column in ("val_accuracy", "val_loss", "test_accuracy", "test_loss"):
            assert float(row[column]) == pytest.approx(float(expected[column]), abs=1e-5)
        ray_run = on_ray.parent.parent / "runs" / row["run"]
        assert RunDir(ray_run).is_finished
        environment = RunDir(ray_run).read_metrics()["environment"]
        assert environment["jax_devices"] == 1  # one JAX CPU device per CPU Ray gave the trial
        assert files(ray_run) == files(local.parent.parent / "runs" / expected["run"])
    state = json.loads((on_ray / "trials.json").read_text(encoding="utf-8"))
    assert state["backend"]["name"] == "ray"
    assert all(entry["ray"]["failures"] == 0 and entry["ray"]["nodes"] for entry in state["trials"])


@pytest.mark.ray
def test_a_population_that_fails_every_try_is_an_error_and_resumes_from_its_checkpoint(
    data_folder, tmp_path
):
    spec = sweep_spec(
        {
            "preset": "smoke",
            "axes": {"training.seed": [0, 1]},  # one population of two members
            "base": {
                "data": {"name": str(data_folder), "train_limit": 0, "test_limit": 0},
                "training": {"epochs": 4},
            },
        }
    )
    workers, epochs = [], []

    def kill_after_its_first_epoch(kind, **details):  # its checkpoint is saved by then
        if kind == "population":
            workers.append(details["pid"])
        elif kind == "epoch":
            epochs.append(details["member_epochs"])
            if len(epochs) == 1:
                os.kill(workers[-1], signal.SIGKILL)

    no_retry = RayConfig(max_failures=0)
    with pytest.raises(RunError, match=r"1 population\(s\) did not finish.*sweep --resume"):
        ray_backend.run_sweep_on_ray(
            spec,
            tmp_path / "sweeps",
            tmp_path / "runs",
            no_retry,
            on_event=kill_after_its_first_epoch,
        )
    folder = sweep_folder(tmp_path)
    state = json.loads((folder / "trials.json").read_text(encoding="utf-8"))
    assert [entry["ray"]["failures"] for entry in state["trials"]] == [1, 1]
    assert not any(RunDir(entry["run"]).is_finished for entry in state["trials"])

    resumed_epochs = []

    def count_epochs(kind, **details):
        if kind == "epoch":
            resumed_epochs.append(details["member_epochs"])

    result = ray_backend.resume_sweep_on_ray(folder, RayConfig(), on_event=count_epochs)
    assert len(result.rows) == 2
    assert 0 < len(resumed_epochs) < 4  # it went on from its checkpoint, not from epoch 0
    for entry in state["trials"]:
        run = RunDir(entry["run"])
        assert run.is_finished and len(run.read_history()["loss"]) == 4


@pytest.fixture
def local_ray():  # a Ray this process joined already: the sweep uses it and leaves it running
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.ray
def test_asha_stops_a_poor_population_early_and_keeps_its_partial_history(
    local_ray, data_folder, tmp_path
):
    args = sweep_args(
        data_folder,
        tmp_path,
        "--learning-rate",
        "0.05",
        "1e-6",
        "--seeds",
        "0",
        "--epochs",
        "3",
        "--members-per-population",
        "1",
        "--backend",
        "ray",
        "--scheduler",
        "asha",
        "--cpus-per-trial",
        "2",
    )  # one at a time, in order
    assert main(args) == 0
    assert ray.is_initialized()
    rows = read_rows(sweep_folder(tmp_path))
    assert (rows["0"]["stopped_early"], rows["0"]["epochs"]) == ("False", "3")
    assert (rows["1"]["stopped_early"], rows["1"]["epochs"]) == ("True", "1")
    stopped = RunDir(tmp_path / "runs" / rows["1"]["run"])
    assert stopped.is_finished and len(stopped.read_history()["loss"]) == 1
    assert stopped.read_metrics()["stopped_early"] == {"by": "asha", "epoch": 1, "of": 3}
    assert "stopped early" in (sweep_folder(tmp_path) / "report.html").read_text("utf-8")


def test_ray_missing_is_an_error_naming_the_extra(data_folder, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    monkeypatch.delitem(sys.modules, "fashion_mlp.sweeps.ray_backend", raising=False)
    args = sweep_args(data_folder, tmp_path, "--seeds", "0-1", "--backend", "ray")
    assert main(args) == 2
    assert "pip install 'fashion-mlp[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "sweeps").exists()


def test_backend_flags_parse_and_bad_ones_are_errors(data_folder, tmp_path, capsys):
    args = build_parser().parse_args(
        [
            "sweep",
            "--seeds",
            "0-1",
            "--backend",
            "ray",
            "--address",
            "auto",
            "--cpus-per-trial",
            "0.5",
            "--gpus-per-trial",
            "0.25",
            "--scheduler",
            "asha",
            "--grace-period",
            "2",
            "--reduction-factor",
            "3",
            "--max-failures",
            "0",
        ]
    )
    assert chosen_backend(args) == "ray"
    assert RayConfig(**ray_settings(args)) == RayConfig(
        address="auto",
        cpus_per_trial=0.5,
        gpus_per_trial=0.25,
        scheduler="asha",
        grace_period=2,
        reduction_factor=3,
        max_failures=0,
    )
    for bad, message in (
        (["--address", "auto"], "--address: for --backend ray only"),
        (["--backend", "ray", "--gpus-per-trial", "1.5"], "--gpus-per-trial 1.5"),
        (["--backend", "ray", "--cpus-per-trial", "0"], "--cpus-per-trial 0.0: expected"),
        (["--backend", "ray", "--max-failures", "-1"], "--max-failures -1"),
        (
            ["--backend", "ray", "--scheduler", "asha", "--grace-period", "3"],
            "--grace-period 3: the sweep's trials train at most 2 epochs",
        ),
    ):
        assert main(sweep_args(data_folder, tmp_path, "--seeds", "0-1", *bad)) == 2
        assert message in capsys.readouterr().err
    for bad in (["--backend", "spark"], ["--backend", "ray", "--scheduler", "hyperband"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["sweep", *bad])
    assert not (tmp_path / "sweeps").exists()
    with pytest.raises(ConfigError, match="--address ''"):
        RayConfig(address=" ")
    assert sweep_spec({"preset": "smoke", "axes": {"training.seed": [0, 1]}}).trials()


def test_a_full_disk_on_ray_says_to_resume_on_ray(data_folder, tmp_path, monkeypatch):
    from fashion_mlp.files import DiskFullError

    def full(*args, **kwargs):
        raise DiskFullError(tmp_path / "runs" / "x" / "history.csv")

    monkeypatch.setattr(ray_backend, "_run", full)  # where a population's write would fail
    base = {"data": {"name": str(data_folder)}}
    spec = sweep_spec({"preset": "smoke", "base": base, "axes": {"training.seed": [0, 1]}})
    with pytest.raises(DiskFullError) as error:
        ray_backend.run_sweep_on_ray(spec, tmp_path / "sweeps", tmp_path / "runs")
    (folder,) = (tmp_path / "sweeps").iterdir()
    assert f"continue with `fashion-mlp sweep --resume {folder} --backend ray`" in str(error.value)
    with pytest.raises(DiskFullError, match=f"--resume {folder} --backend ray"):
        ray_backend.resume_sweep_on_ray(folder, RayConfig())
