"""Resuming a run folder, or distilling from one, never imports the code its config names
unless the user passes a model (--model FILE.py:FUNCTION) or --trust-run-code; the refusal
says both ways."""

from __future__ import annotations

import textwrap

import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir

USER_MODEL = """
from pathlib import Path

import keras

Path(__file__).with_name("imported").touch()  # what a hostile file would do instead


def build(input_shape, num_classes):
    return keras.Sequential(
        [keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(num_classes)]
    )
"""


@pytest.fixture
def untrusted_run(tmp_path, monkeypatch):
    """A run folder, stopped before its first epoch, whose config names user code."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.py").write_text(textwrap.dedent(USER_MODEL))
    data = write_idx_dataset(tmp_path / "data", synthetic_dataset(120, 40))
    config = build_config(
        preset("smoke"),
        {"data": {"name": str(data)}, "model": {"user_model": f"{tmp_path / 'net.py'}:build"}},
        {"training": {"epochs": 1}},
    )
    run = RunDir.create(tmp_path / "runs", "downloaded")
    run.write_config(config)
    return run.path


def test_resume_refuses_to_import_the_runs_code_and_says_how_to_allow_it(untrusted_run, capsys):
    assert main(["train", "--resume", str(untrusted_run)]) == 2
    error = capsys.readouterr().err
    assert "model.user_model" in error and str(untrusted_run.parent.parent / "net.py") in error
    assert f"--resume {untrusted_run} --model" in error and "--trust-run-code" in error
    assert not (untrusted_run.parent.parent / "imported").exists()


def test_another_model_file_is_refused_too(untrusted_run, capsys):
    (untrusted_run.parent.parent / "other.py").write_text("raise SystemExit('imported')\n")
    assert main(["train", "--resume", str(untrusted_run), "--model", "other.py:build"]) == 2
    assert "is not the model run" in capsys.readouterr().err


@pytest.mark.slow  # resumes a training
@pytest.mark.parametrize("allow", [["--model", "net.py:build"], ["--trust-run-code"]])
def test_passing_the_model_again_or_trusting_the_run_resumes_it(untrusted_run, allow):
    assert main(["train", "--resume", str(untrusted_run), *allow]) == 0
    assert (untrusted_run.parent.parent / "imported").exists()
    assert RunDir(untrusted_run).is_finished


@pytest.fixture
def untrusted_sweep(untrusted_run, tmp_path):
    """A sweep folder, killed before its first population, whose sweep.toml names user code."""
    from fashion_mlp.sweeps.folder import new_sweep
    from fashion_mlp.sweeps.local import LOCAL
    from fashion_mlp.sweeps.spec import sweep_spec

    config = RunDir(untrusted_run).read_config_table()
    spec = sweep_spec({"base": config, "axes": {"training.seed": [0, 1]}}, base_dir=tmp_path)
    folder, _ = new_sweep(spec, tmp_path / "sweeps", tmp_path / "runs", LOCAL)
    return folder.path


def test_a_sweeps_resume_refuses_its_code_too(untrusted_sweep, capsys):
    assert main(["sweep", "--resume", str(untrusted_sweep)]) == 2
    error = capsys.readouterr().err
    assert "model.user_model" in error and "--trust-run-code" in error
    assert f"sweep {untrusted_sweep} names code" in error
    assert not (untrusted_sweep.parent.parent / "imported").exists()


@pytest.mark.slow  # trains the sweep's two trials
def test_trusting_the_sweep_resumes_it(untrusted_sweep):
    assert main(["sweep", "--resume", str(untrusted_sweep), "--trust-run-code"]) == 0
    assert (untrusted_sweep.parent.parent / "imported").exists()


@pytest.fixture
def untrusted_teacher(untrusted_run):
    """A finished run, as a teacher, whose config names user code."""
    (untrusted_run / "metrics.json").write_text('{"test_accuracy": 0.5}')
    RunDir(untrusted_run).mark_finished()
    return untrusted_run


def test_a_student_of_a_teachers_recipe_refuses_its_code(untrusted_teacher, capsys):
    assert main(["distill", str(untrusted_teacher)]) == 2
    error = capsys.readouterr().err
    assert "model.user_model" in error and "--trust-run-code" in error
    assert f"teacher {untrusted_teacher} names code" in error
    assert not (untrusted_teacher.parent.parent / "imported").exists()


@pytest.mark.parametrize("allow", [["--trust-run-code"], ["--model", "net.py:build"]])
def test_trusting_the_teacher_or_choosing_the_model_builds_the_student(
    untrusted_teacher, allow, monkeypatch
):
    from fashion_mlp.cli.commands import distill, train

    started = []
    monkeypatch.setattr(train, "run", lambda args, config: started.append(config) or 0)
    assert main(["distill", str(untrusted_teacher), *allow]) == 0
    assert started[0].model.user_model.endswith("net.py:build")
    assert started[0].distill.teacher == str(untrusted_teacher.resolve())
    assert started[0].name == distill.STUDENT_NAME
