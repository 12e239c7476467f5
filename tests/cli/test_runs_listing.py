"""`fashion-mlp runs` lists each run as what it is: sweep trials under their sweep, unfinished runs
with the epochs done of those planned, ensembles with their members' architecture, epochs and
seconds; statuses are never cut; an ensemble's report lists its members."""

from __future__ import annotations

import copy

import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir, list_runs

pytestmark = pytest.mark.xdist_group("runs-listing")  # the module's trained runs, once


def fake_run(runs_dir, name: str, metrics: dict | None, epochs: int = 2) -> RunDir:
    run = RunDir.create(runs_dir, name)
    run.write_config(build_config(preset("smoke"), {"training": {"epochs": epochs}}))
    if metrics is not None:
        run.write_metrics({"test_accuracy": 0.8, "epochs_run": epochs} | metrics)
    return run


def printed_runs(runs_dir, capsys, monkeypatch) -> list[str]:
    monkeypatch.setenv("COLUMNS", "80")
    capsys.readouterr()
    assert main(["runs", "--runs-dir", str(runs_dir)]) == 0
    return capsys.readouterr().out.splitlines()


def test_trials_are_listed_under_their_sweep_and_statuses_are_whole(tmp_path, capsys, monkeypatch):
    runs_dir = tmp_path / "runs"
    fake_run(runs_dir, "alone", {"timings": {"train_seconds": 3.0}})
    sweep = {"population": {"sweep": str(tmp_path / "sweeps" / "20260101-000000-lr")}}
    trials = [fake_run(runs_dir, f"lr-00{index}", sweep) for index in range(3)]
    stopped = fake_run(runs_dir, "stopped", None, epochs=10)
    (stopped.path / "checkpoints").mkdir()
    (stopped.path / "checkpoints" / "state.json").write_text(
        '{"epoch": 3, "model": "checkpoints/epoch-003.keras", "history": {}}', encoding="utf-8"
    )
    lines = printed_runs(runs_dir, capsys, monkeypatch)
    assert max(map(len, lines)) <= 80
    header = next(index for index, line in enumerate(lines) if "sweep 20260101-000000-lr" in line)
    assert "3 trials" in lines[header]
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == [
        trial.name for trial in trials
    ]
    assert all(line.startswith("  ") for line in lines[header + 1 : header + 4])
    assert sum(line.rstrip().endswith(" finished") for line in lines) == 4
    (stopped_line,) = [line for line in lines if stopped.name in line]
    assert " 3/10 " in stopped_line and stopped_line.rstrip().endswith(" unfinished")
    (row,) = [row for row in list_runs(runs_dir) if row["name"] == stopped.name]
    assert (row["epochs"], row["epochs_planned"], row["status"]) == (3, 10, "unfinished")


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    from fashion_mlp.ensembles import build_ensemble
    from fashion_mlp.experiment import run_experiment

    folder = tmp_path_factory.mktemp("ensemble")
    data = write_idx_dataset(folder / "data", synthetic_dataset(300, 100))
    layer = {"data": {"name": str(data), "train_limit": 0, "test_limit": 0}}
    layer |= {"training": {"epochs": 1}}
    members = [
        run_experiment(
            build_config(preset("smoke"), layer, {"training": {"seed": seed}}),
            folder / "runs",
            figures=False,
        )
        for seed in (0, 1)
    ]
    result = build_ensemble([m.run_dir for m in members], folder / "runs", name="pair")
    return RunDir(result.run_dir), [m.metrics for m in members]


def test_an_ensemble_is_listed_with_its_members_architecture_epochs_and_seconds(ensemble_run):
    run, members = ensemble_run
    row = run.row()
    assert row["architecture"] == "2x in-32-out tanh"
    assert row["epochs"] == 1
    seconds = sum(m["timings"]["train_seconds"] for m in members)
    assert row["train_seconds"] == pytest.approx(seconds) and seconds > 0
    assert run.read_metrics()["epochs_run"] == 1


def test_an_older_ensemble_says_why_its_epochs_are_unknown(ensemble_run, tmp_path):
    run, _ = ensemble_run
    old = RunDir(tmp_path / "old-ensemble")
    old.path.mkdir()
    (old.path / RunDir.CONFIG).write_bytes((run.path / RunDir.CONFIG).read_bytes())
    metrics = copy.deepcopy(run.read_metrics()) | {"epochs_run": 0}
    for member in metrics["ensemble"]["members"]:
        for key in ("architecture", "epochs", "train_seconds"):
            member.pop(key)
    old.write_metrics(metrics)
    row = old.row()
    assert (row["architecture"], row["epochs"], row["train_seconds"]) == (
        "ensemble of 2",
        None,
        None,
    )
    assert "not recorded" in row["note"]


def test_an_ensemble_report_lists_its_members(ensemble_run):
    run, _ = ensemble_run
    page = run.report_path.read_text(encoding="utf-8")
    assert "<h2>Members</h2>" in page and "history.csv not found" not in page
    for member in run.read_metrics()["ensemble"]["members"]:
        assert f'href="../{member["run"]}/report.html"' in page
