"""Tracking: `train --mlflow` and `sweep --mlflow` read back from a real MLflow SQLite store
(one run; a parent with nested trials; every epoch at its step), `runs --to-mlflow` without
duplicates, an unreachable store refused before training, the runs found in `mlflow ui` by
Chromium, TensorBoard event files read back. The MLflow tests skip without the mlflow extra, the
TensorBoard ones without tensorboardX, the browser one without Chromium."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import synthetic_dataset, write_idx_dataset
from page_browser import chromium, only_loopback, require_browser, screenshot

from fashion_mlp.cli import main
from fashion_mlp.errors import ConfigError
from fashion_mlp.runs import RunDir
from fashion_mlp.tracking.live import RunTracker
from fashion_mlp.tracking.run_values import data_checksum, flat_params, history_steps

# one worker: the trained runs are shared; slow: MLflow stores and trainings per test
pytestmark = [pytest.mark.xdist_group("tracking"), pytest.mark.slow]


def test_configs_flatten_into_dotted_string_params():
    table = {"name": "smoke", "model": {"hidden": [64, 32], "dropout": 0.0}, "data": {"x": None}}
    assert flat_params(table) == {
        "name": "smoke",
        "model.hidden": "64,32",
        "model.dropout": "0.0",
        "data.x": "None",
    }


def test_the_data_checksum_depends_on_every_file_hash():
    files = [{"role": "train_images", "sha256": "aa"}, {"role": "test_images", "sha256": "bb"}]
    checksum = data_checksum({"data": {"files": files}})
    assert len(checksum) == 64
    assert checksum != data_checksum({"data": {"files": [files[0] | {"sha256": "ab"}, files[1]]}})
    assert data_checksum({}) is None


def test_history_steps_count_epochs_from_one_and_drop_missing_values():
    steps = history_steps({"loss": [0.9, 0.5], "val_loss": [1.0], "seconds": [3.0, float("nan")]})
    assert steps == [(1, {"loss": 0.9, "val_loss": 1.0, "seconds": 3.0}), (2, {"loss": 0.5})]


class BrokenStore:
    """A store whose server goes away after the run starts."""

    uri = "http://gone"

    def __init__(self):
        self.calls = []

    def start(self, name, tags, parent=None):
        self.calls.append("start")
        return "run-1"

    def log_epoch(self, run_id, step, values):
        self.calls.append(f"epoch {step}")
        raise ConnectionError("server went away")


def test_a_store_failing_mid_training_is_kept_once_and_not_called_again(tmp_path):
    tracker = RunTracker(BrokenStore())
    tracker.start(tmp_path / "20261207-000000-smoke")
    tracker.log_epoch(1, {"loss": 1.0})
    tracker.log_epoch(2, {"loss": 0.5})
    assert isinstance(tracker.problem, ConnectionError)
    assert tracker.store.calls == ["start", "epoch 1"]


# Through the CLI, on a small synthetic data set


@pytest.fixture(scope="module", autouse=True)
def scratch_folder(tmp_path_factory):
    """The tests' working folder: MLflow puts a local store's artifacts in ./mlruns."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("cwd"))
        yield


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory) -> Path:
    return write_idx_dataset(tmp_path_factory.mktemp("data"), synthetic_dataset(300, 100))


def smoke(data_folder: Path, runs_dir: Path, *flags: str) -> int:
    folders = ["--data", str(data_folder), "--runs-dir", str(runs_dir)]
    return main(["train", "--preset", "smoke", *folders, *flags])


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_server_is_refused_before_training(data_folder, tmp_path, capsys):
    pytest.importorskip("mlflow")
    url = f"http://127.0.0.1:{free_port()}"
    assert smoke(data_folder, tmp_path / "runs", "--mlflow", url) == 2
    assert "cannot be used" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before the run folder was made
    assert smoke(data_folder, tmp_path / "runs", "--mlflow", url, "--mlflow-optional") == 0
    assert "going on without MLflow" in capsys.readouterr().out
    assert len(list((tmp_path / "runs").iterdir())) == 1


def test_a_missing_extra_names_the_pip_install_line(monkeypatch):
    from fashion_mlp.tracking import open_store
    from fashion_mlp.tracking.tensorboard import require_tensorboard

    monkeypatch.setitem(__import__("sys").modules, "mlflow", None)
    with pytest.raises(ConfigError, match=r"pip install 'fashion-mlp\[mlflow\]'"):
        open_store("sqlite:///never.db")
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *rest: None)
    with pytest.raises(ConfigError, match=r"pip install 'fashion-mlp\[tensorboard\]'"):
        require_tensorboard()


@pytest.fixture(scope="module")
def tracked(data_folder, tmp_path_factory):
    """One training and one 2-seed sweep logged into a fresh SQLite store and TensorBoard."""
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("tensorboardX")
    root = tmp_path_factory.mktemp("tracked")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    runs, board = root / "runs", root / "board"
    flags = ["--mlflow", uri, "--tensorboard", str(board)]
    assert smoke(data_folder, runs, *flags) == 0
    sweep = ["sweep", "--preset", "smoke", "--data", str(data_folder), "--seeds", "0-1"]
    folders = ["--runs-dir", str(runs), "--sweeps-dir", str(root / "sweeps")]
    assert main(sweep + folders + flags) == 0
    return {"uri": uri, "runs": runs, "board": board, "mlflow": mlflow, "root": root}


def search(tracked, query: str = ""):
    mlflow = tracked["mlflow"]
    mlflow.set_tracking_uri(tracked["uri"])
    return mlflow.search_runs(experiment_names=["fashion-mlp"], filter_string=query)


def test_a_training_is_one_mlflow_run_with_params_epochs_tags_and_artifacts(tracked):
    found = search(tracked, "tags.preset = 'smoke'")
    trainings = found[
        found["tags.mlflow.parentRunId"].isna() & found["tags.fashion_mlp.sweep"].isna()
    ]
    assert len(trainings) == 1
    row = trainings.iloc[0]
    run = RunDir(tracked["runs"] / row["tags.mlflow.runName"])
    assert row["status"] == "FINISHED"
    assert row["params.model.hidden"] == "32" and row["params.training.epochs"] == "2"
    assert row["metrics.test_accuracy"] == pytest.approx(run.read_metrics()["test_accuracy"])
    assert row["tags.fashion_mlp.run_folder"] == str(run.path.resolve())
    assert row["tags.data.sha256"] == data_checksum(run.read_metrics())
    client = tracked["mlflow"].MlflowClient(tracked["uri"])
    history = client.get_metric_history(row["run_id"], "val_accuracy")
    assert [point.step for point in history] == [1, 2]
    assert [point.value for point in history] == pytest.approx(run.read_history()["val_accuracy"])
    artifacts = {item.path for item in client.list_artifacts(row["run_id"])}
    assert {"report.html", "config.toml", "curves.png"} <= artifacts
    assert "model.keras" not in artifacts  # only with --mlflow-model


def test_a_sweep_is_a_parent_run_with_one_nested_run_per_trial(tracked):
    parents = search(tracked, "tags.`fashion_mlp.sweep` != ''")
    assert len(parents) == 1
    parent = parents.iloc[0]
    trials = search(tracked, f"tags.`mlflow.parentRunId` = '{parent['run_id']}'")
    assert len(trials) == 2 and set(trials["params.training.seed"]) == {"0", "1"}
    assert set(trials["tags.preset"]) == {"smoke"}
    assert set(trials["status"]) == {"FINISHED"} and parent["status"] == "FINISHED"
    client = tracked["mlflow"].MlflowClient(tracked["uri"])
    for run_id in trials["run_id"]:
        assert [point.step for point in client.get_metric_history(run_id, "loss")] == [1, 2]
    assert "results.csv" in {item.path for item in client.list_artifacts(parent["run_id"])}


def test_runs_to_mlflow_logs_each_finished_run_once(tracked, capsys):
    runs_dir = tracked["runs"]
    other = f"sqlite:///{tracked['root'] / 'other.db'}"
    for _ in range(2):
        assert main(["runs", "--runs-dir", str(runs_dir), "--to-mlflow", other]) == 0
    assert "3 runs logged" in capsys.readouterr().out
    tracked_copy = tracked | {"uri": other}
    assert sorted(search(tracked_copy)["tags.fashion_mlp.run"]) == sorted(
        path.name for path in runs_dir.iterdir()
    )
    # the runs logged while training are known to the first store: nothing to add there
    assert main(["runs", "--runs-dir", str(runs_dir), "--to-mlflow", tracked["uri"]]) == 0
    assert "0 runs logged" in capsys.readouterr().out


# the UI alone: one worker, no job runners, no telemetry to send
UI_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}


@pytest.fixture
def mlflow_ui(tracked, tmp_path):
    """`mlflow ui` over the tracked store on a free loopback port, in its own process group
    (ended with the test, also on failure); yields its URL."""
    require_browser()
    port = str(free_port())
    url = f"http://127.0.0.1:{port}"
    command = [Path(sys.executable).with_name("mlflow"), "ui", "--backend-store-uri"]
    command += [tracked["uri"], "--host", "127.0.0.1", "--port", port, "--workers", "1"]
    log = tmp_path / "mlflow-ui.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=os.environ | UI_ENV,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not answers(f"{url}/health"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow ui did not answer at {url}/health (exit code {server.poll()}):\n"
                    + log.read_text()
                )
            time.sleep(0.2)
        yield url
    finally:
        for ending in (signal.SIGTERM, signal.SIGKILL):  # the CLI and the uvicorn it started
            with suppress(ProcessLookupError):
                os.killpg(server.pid, ending)
            with suppress(subprocess.TimeoutExpired):
                server.wait(10)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.browser
def test_mlflow_ui_lists_the_training_and_the_sweep(tracked, mlflow_ui):
    from playwright.sync_api import expect

    found = search(tracked)
    top = found[found["tags.mlflow.parentRunId"].isna()]  # the training and the sweep's parent
    assert len(top) == 2
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        only_loopback(page)  # nothing waits on the internet
        page.goto(f"{mlflow_ui}/#/experiments/{top['experiment_id'].iloc[0]}/runs")
        for name in top["tags.mlflow.runName"]:
            run = page.get_by_text(name, exact=True).first
            expect(run, f"run {name} in MLflow's runs list").to_be_visible(timeout=30_000)
        screenshot(page, "mlflow-ui-runs")


def scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar of a TensorBoard event folder, read from its TFRecord framing."""
    from tensorboardX.proto.event_pb2 import Event

    values: dict[str, list[tuple[int, float]]] = {}
    for path in folder.glob("events.out.tfevents.*"):
        data, offset = path.read_bytes(), 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 12 + length + 4  # length, its CRC, the record, its CRC
            for value in event.summary.value:
                values.setdefault(value.tag, []).append((event.step, value.simple_value))
    return values


def test_tensorboard_gets_loss_accuracy_and_learning_rate_per_epoch(tracked):
    board = tracked["board"]
    folders = sorted(board.iterdir())
    training = next(path for path in folders if list(path.glob("events.out.tfevents.*")))
    found = scalars(training)
    for tag in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert [step for step, _ in found[tag]] == [1, 2], tag
    history = RunDir(tracked["runs"] / training.name).read_history()
    assert [value for _, value in found["loss"]] == pytest.approx(history["loss"], rel=1e-5)
    sweep_folder = next(path for path in folders if not list(path.glob("events.out.tfevents.*")))
    trials = sorted(sweep_folder.iterdir())
    assert len(trials) == 2 and all(scalars(trial)["val_accuracy"] for trial in trials)
