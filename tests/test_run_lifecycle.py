"""Nothing lost, nothing crashes: runs killed at any point resume to the same result, damaged
run files are clean errors naming the file, one process at a time holds a run, and leftovers
of interrupted writes are removed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.errors import RunError
from fashion_mlp.experiment import run_experiment
from fashion_mlp.presets import preset
from fashion_mlp.reports.inside_section import ATTRIBUTIONS_PNG, WEIGHTS_PNG
from fashion_mlp.reports.run_page import FIGURE_CAPTIONS
from fashion_mlp.runs import RunDir, list_runs

FIGURES_AND_REPORT = ("*.png", "report.html")
# one worker builds the module's finished run once, instead of one per worker
pytestmark = pytest.mark.xdist_group("run-lifecycle")


@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    return write_idx_dataset(tmp_path_factory.mktemp("data") / "synthetic", synthetic_dataset())


def smoke_config(idx_data, epochs: int):
    return build_config(
        preset("smoke"), {"data": {"name": str(idx_data)}, "training": {"epochs": epochs}}
    )


@pytest.fixture(scope="module")
def finished_run(idx_data, tmp_path_factory) -> Path:
    """A finished two-epoch smoke run, to copy and damage."""
    runs_dir = tmp_path_factory.mktemp("finished")
    return run_experiment(smoke_config(idx_data, epochs=2), runs_dir).run_dir


def copy_run(source: Path, tmp_path: Path, stage: str = "finished") -> Path:
    """A copy of a finished run, cut back to `stage`: "finished", "trained" (killed while
    being finished: no figures, no report) or "checkpointed" (killed after its last epoch)."""
    run_dir = tmp_path / "runs" / source.name
    shutil.copytree(source, run_dir)
    removed = {"finished": (), "trained": FIGURES_AND_REPORT}.get(
        stage, (*FIGURES_AND_REPORT, "model.keras", "metrics.json", "history.csv")
    )
    for pattern in removed:
        for path in run_dir.glob(pattern):
            path.unlink()
    if stage != "finished":
        RunDir(run_dir).mark_unfinished()
    return run_dir


def only_run(runs_dir: Path) -> Path:
    (run_dir,) = [path for path in runs_dir.iterdir() if path.is_dir()]
    return run_dir


# The completion rule
def test_a_run_is_finished_only_once_everything_is_written(finished_run, tmp_path):
    assert RunDir(finished_run).is_finished and not (finished_run / "unfinished").exists()
    assert all((finished_run / name).is_file() for name in ("report.html", "curves.png"))
    trained = copy_run(finished_run, tmp_path, "trained")
    assert (trained / "metrics.json").is_file() and not RunDir(trained).is_finished
    assert list_runs(tmp_path / "runs")[0]["status"] == "unfinished"


def test_an_old_run_without_the_marker_still_counts_as_finished(finished_run, tmp_path):
    old = copy_run(finished_run, tmp_path)  # runs written before the marker have none
    assert RunDir(old).is_finished
    assert main(["train", "--resume", str(old)]) == 2


def test_resume_of_a_half_finished_run_finishes_it_without_training(finished_run, tmp_path):
    trained = copy_run(finished_run, tmp_path, "trained")
    state_before = (trained / "checkpoints" / "state.json").read_text()
    assert main(["train", "--resume", str(trained)]) == 0
    assert RunDir(trained).is_finished
    assert (trained / "report.html").is_file() and (trained / "curves.png").is_file()
    assert (trained / "checkpoints" / "state.json").read_text() == state_before  # no epoch ran
    before = json.loads((finished_run / "metrics.json").read_text())
    after = json.loads((trained / "metrics.json").read_text())
    assert after["confusion_matrix"] == before["confusion_matrix"]
    assert after["test_loss"] == pytest.approx(before["test_loss"], abs=1e-7)


# Leftovers of interrupted writes
def test_leftovers_are_removed_and_nothing_else(finished_run, tmp_path):
    run_dir = copy_run(finished_run, tmp_path, "checkpointed")
    checkpoints = run_dir / "checkpoints"
    leftovers = [
        run_dir / ".model.k2j_4abc.keras",
        run_dir / ".samples.zzzzzzzz.png",
        checkpoints / ".epoch-003.a1b2c3d4.keras",
        checkpoints / ".state.qwertyui.json",
        checkpoints / "epoch-001.keras",  # a checkpoint state.json no longer names
    ]
    kept = [run_dir / ".keep", run_dir / "notes.txt", run_dir / ".model.keras", run_dir / ".lock.x"]
    for path in leftovers + kept:
        path.write_bytes(b"")
    removed = RunDir(run_dir).remove_leftovers()
    assert sorted(removed) == sorted(leftovers)
    assert all(path.exists() for path in kept)
    assert [path.name for path in checkpoints.glob("*.keras")] == ["epoch-002.keras"]


# The lock
HOLD_LOCK = """
import sys
from fashion_mlp.runs import RunDir
with RunDir(sys.argv[1]).lock():
    print("locked", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_cannot_take_a_held_run(finished_run, tmp_path, capsys):
    run_dir = copy_run(finished_run, tmp_path, "checkpointed")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        assert list_runs(tmp_path / "runs")[0]["status"] == "running"
        assert main(["train", "--resume", str(run_dir)]) == 2
        error = capsys.readouterr().err
        assert f"in use by process {holder.pid} on host" in error
        assert f"delete {run_dir / '.lock'}" in error
    finally:
        holder.kill()
        holder.wait()
    assert list_runs(tmp_path / "runs")[0]["status"] == "unfinished"  # a dead owner: stale
    with RunDir(run_dir).lock():  # taken over
        owner = json.loads((run_dir / ".lock").read_text())
        assert owner["pid"] == os.getpid()
    assert not (run_dir / ".lock").exists()


def test_the_lock_is_reentrant_in_one_thread_and_exclusive_across_threads(tmp_path):
    import threading

    run = RunDir.create(tmp_path, "lock")
    errors = []

    def other_thread():
        try:
            with run.lock():
                pass
        except RunError as error:
            errors.append(str(error))

    with run.lock(), run.lock():
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert errors and "another thread of this process" in errors[0]
    assert not (run.path / ".lock").exists()


# Damaged run files: clean errors naming the file, never a traceback
def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def folder_instead(path: Path) -> None:
    path.unlink()
    path.mkdir()


DAMAGES = {
    "truncated": truncated,
    "empty list": lambda path: path.write_text("[]"),
    "not TOML": lambda path: path.write_text("this is = not [ toml"),
    "binary": lambda path: path.write_bytes(bytes(range(256)) * 8),
    "folder": folder_instead,
}
# (file, damage, stage of the run, commands that must fail naming the file, listed as damaged)
DAMAGE_CASES = [
    *[
        ("checkpoints/state.json", damage, "checkpointed", ["resume"], True)
        for damage in ("truncated", "empty list", "binary", "folder")
    ],
    *[
        ("metrics.json", damage, "finished", ["evaluate", "predict", "report", "compare"], True)
        for damage in ("empty list", "truncated", "binary", "folder")
    ],
    *[
        (
            "config.toml",
            damage,
            "finished",
            ["evaluate", "predict", "report", "compare", "resume"],
            True,
        )
        for damage in ("not TOML", "binary", "folder")
    ],
    *[
        ("history.csv", damage, "finished", ["report", "compare"], False)
        for damage in ("binary", "folder", "not TOML")
    ],
    *[
        ("model.keras", damage, "trained", ["evaluate", "predict", "resume"], False)
        for damage in ("truncated", "binary", "folder")
    ],
    *[
        ("checkpoints/epoch-002.keras", damage, "checkpointed", ["resume"], False)
        for damage in ("truncated", "binary", "folder")
    ],
    ("report.html", "folder", "finished", ["report"], False),
    ("metrics.json", "folder", "trained", ["resume"], False),
]
COMMANDS = {
    "evaluate": ["evaluate", "{run}"],
    "predict": ["predict", "{run}", "--test-index", "0"],
    "report": ["report", "{run}"],
    "compare": ["compare", "{run}", "{run}"],
    "resume": ["train", "--resume", "{run}"],
}


@pytest.mark.parametrize(
    ("name", "damage", "stage", "failing", "listed"),
    DAMAGE_CASES,
    ids=[f"{case[0]}-{case[1]}-{case[2]}" for case in DAMAGE_CASES],
)
def test_a_damaged_file_is_a_clean_error_naming_it(
    finished_run, tmp_path, capsys, name, damage, stage, failing, listed
):
    run_dir = copy_run(finished_run, tmp_path, stage)
    DAMAGES[damage](run_dir / name)
    for command in failing:
        argv = [part.format(run=run_dir) for part in COMMANDS[command]]
        assert main(argv) == 2, command
        error = capsys.readouterr().err.splitlines()[0]
        assert str(run_dir / name) in error, (command, error)
        assert "Errno" not in error, (command, error)
    assert main(["runs", "--runs-dir", str(tmp_path / "runs"), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["status"] == "damaged") == listed, row
    if listed:
        assert str(run_dir / name) in row["problem"]


def test_a_checkpoint_changed_after_it_was_written_is_refused_and_the_fix_works(
    finished_run, tmp_path, capsys
):
    """A valid model file that is not the one state.json recorded (here: other weights) would
    resume silently from the wrong network; its SHA-256 gives it away. The error's fix (remove
    checkpoints/, resume) trains the run again to the uninterrupted result."""
    import keras

    run_dir = copy_run(finished_run, tmp_path, "checkpointed")
    checkpoint = run_dir / "checkpoints" / "epoch-002.keras"
    model = keras.saving.load_model(checkpoint)
    model.set_weights([weights * 0.5 for weights in model.get_weights()])
    model.save(checkpoint)
    assert main(["train", "--resume", str(run_dir)]) == 2
    error = capsys.readouterr().err
    assert f"{checkpoint} is not the file checkpoints/state.json recorded" in error
    assert f"remove {run_dir / 'checkpoints'}" in error and not RunDir(run_dir).is_finished
    shutil.rmtree(run_dir / "checkpoints")
    assert main(["train", "--resume", str(run_dir)]) == 0
    resumed, expected = RunDir(run_dir).read_metrics(), RunDir(finished_run).read_metrics()
    assert resumed["confusion_matrix"] == expected["confusion_matrix"]


def test_runs_lists_every_run_when_one_is_damaged(finished_run, tmp_path, capsys):
    copy_run(finished_run, tmp_path)
    damaged = tmp_path / "runs" / "damaged"
    shutil.copytree(finished_run, damaged)
    (damaged / "metrics.json").write_text('{"test_accuracy": "high", "epochs_run": 2}')
    assert main(["runs", "--runs-dir", str(tmp_path / "runs"), "--sort", "test_accuracy"]) == 0
    out = capsys.readouterr().out
    assert "damaged: damaged:" in out and "test_accuracy is 'high', expected a number" in out
    assert finished_run.name in out


# Killed at any point, resumed, the same result
CHILD = """
import os, signal, sys
from pathlib import Path

signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if the parent ignores it


def die(sig=signal.SIGKILL):
    os.kill(os.getpid(), sig)


{patch}
from fashion_mlp.cli import main

sys.exit(main(sys.argv[1:]))
"""
KILLS = {  # where each run is stopped, in order; each is followed by --resume
    "ctrl-c in the first epoch": """
        from fashion_mlp.training.callbacks import RunCheckpoint
        RunCheckpoint.on_epoch_begin = lambda self, epoch, logs=None: epoch == 0 and die(
            signal.SIGINT)
    """,
    "kill in the third epoch": """
        from fashion_mlp.training.callbacks import RunCheckpoint
        RunCheckpoint.on_epoch_begin = lambda self, epoch, logs=None: epoch == 2 and die()
    """,
    "kill while writing the third checkpoint": """
        import keras
        save = keras.Model.save
        def save_half_then_die(self, path, *args, **kwargs):
            save(self, path, *args, **kwargs)
            if ".epoch-003." in str(path):
                Path(path).write_bytes(Path(path).read_bytes()[:1000])
                die()
        keras.Model.save = save_half_then_die
    """,
    "kill once the third checkpoint is named, before the second is removed": """
        import fashion_mlp.runs as runs
        write_json = runs.write_json
        def write_then_die(path, value):
            write_json(path, value)
            if Path(path).name == "state.json" and value["epoch"] == 3:
                die()
        runs.write_json = write_then_die
    """,
    "kill between metrics and figures": """
        from matplotlib.figure import Figure
        Figure.savefig = lambda self, *args, **kwargs: die()
    """,
    "kill while writing the report": """
        import fashion_mlp.runs as runs
        from fashion_mlp.files import atomic_path
        write_text = runs.write_text
        def write_half_then_die(path, text):
            if Path(path).name != "report.html":
                return write_text(path, text)
            with atomic_path(path) as temporary:
                temporary.write_text(text[: len(text) // 2])
                die()
        runs.write_text = write_half_then_die
    """,
}


def run_child(patch: str, *argv: str, jit_cache: Path) -> subprocess.CompletedProcess:
    """`python -c` that applies `patch`, then runs the CLI with argv; JAX's compilations are
    shared through `jit_cache`, so each child compiles only what no earlier one did."""
    code = CHILD.format(patch=textwrap.dedent(patch))
    env = os.environ | {
        "JAX_COMPILATION_CACHE_DIR": str(jit_cache),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
    }
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=300, env=env
    )


def history_without_seconds(run_dir: Path) -> dict[str, list[float]]:
    history = RunDir(run_dir).read_history()
    history.pop("seconds")
    return history


@pytest.mark.slow
def test_killed_six_times_then_resumed_equals_uninterrupted(idx_data, tmp_path):
    config = smoke_config(idx_data, epochs=4)
    whole = run_experiment(config, tmp_path / "whole", figures=False).run_dir
    config_file = tmp_path / "config.toml"
    config_file.write_text((whole / "config.toml").read_text())
    runs_dir = tmp_path / "runs"
    argv = ["train", "--config", str(config_file), "--runs-dir", str(runs_dir)]
    for point, patch in KILLS.items():
        child = run_child(patch, *argv, jit_cache=tmp_path / "jit_cache")
        if point.startswith("ctrl-c"):
            assert child.returncode == 130, child.stderr
            run_dir = only_run(runs_dir)
            assert f"continue with\n  fashion-mlp train --resume {run_dir}" in child.stdout
            assert "no epoch had finished" in child.stdout  # no promise of a saved epoch
            assert not (run_dir / "checkpoints" / "state.json").exists()  # before the first
        else:
            assert child.returncode == -signal.SIGKILL, (point, child.stderr[-2000:])
        assert not RunDir(run_dir).is_finished, point
        assert list_runs(runs_dir)[0]["status"] == "unfinished", point
        argv = ["train", "--resume", str(run_dir)]
    assert main(argv) == 0
    run = RunDir(run_dir)
    assert run.is_finished and (run_dir / "report.html").is_file()
    inside = {ATTRIBUTIONS_PNG, WEIGHTS_PNG}  # the map is drawn once map.json exists
    assert {path.name for path in run_dir.glob("*.png")} == set(FIGURE_CAPTIONS) | inside
    leftovers = [p.name for p in [*run_dir.iterdir(), *(run_dir / "checkpoints").iterdir()]]
    assert not [name for name in leftovers if name.startswith(".")], leftovers
    assert [p.name for p in (run_dir / "checkpoints").glob("*.keras")] == ["epoch-004.keras"]
    resumed, expected = run.read_metrics(), RunDir(whole).read_metrics()
    for key in ("test_accuracy", "confusion_matrix", "epochs_run", "per_class"):
        assert resumed[key] == expected[key], key
    assert resumed["test_loss"] == pytest.approx(expected["test_loss"], abs=1e-6)
    resumed_history, expected_history = (
        history_without_seconds(run_dir),
        history_without_seconds(whole),
    )
    assert resumed_history.keys() == expected_history.keys()
    for key, values in expected_history.items():
        np.testing.assert_allclose(resumed_history[key], values, rtol=1e-5, err_msg=key)
