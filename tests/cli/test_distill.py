"""`fashion-mlp distill`, `train --teacher` and `sweep --teacher`: students that are ordinary runs,
start from their teacher's recipe, name their teacher, and tune temperature and alpha as one
population."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.cli import main
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.slow  # trains teachers and students


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A synthetic data set's IDX folder and a finished smoke teacher of 48 hidden units."""
    folder = tmp_path_factory.mktemp("distill")
    data = write_idx_dataset(folder / "data", synthetic_dataset(400, 100, seed=6))
    train = ["train", "--preset", "smoke", "--data", str(data), "--train-limit", "0"]
    train += ["--test-limit", "0", "--hidden", "48", "--runs-dir", str(folder / "teachers")]
    assert main([*train, "--name", "teacher"]) == 0
    return folder


def teacher_of(folder):
    (teacher,) = (folder / "teachers").iterdir()
    return teacher


def test_a_student_starts_from_its_teachers_recipe_and_names_it(folder, capsys):
    teacher = teacher_of(folder)
    runs = folder / "students"
    assert main(["distill", str(teacher), "--temperature", "3", "--runs-dir", str(runs)]) == 0
    (student,) = runs.iterdir()
    assert student.name.endswith("-student")
    run = RunDir(student)
    config = run.read_config()
    assert config.model.spec.hidden == (48,)  # the teacher's, not smoke's 32
    assert config.distill.teacher == str(teacher.resolve())
    assert (config.distill.temperature, config.distill.alpha) == (3.0, 0.5)
    facts = run.read_metrics()["distilled_from"]
    assert facts["run"] == teacher.name and facts["temperature"] == 3.0
    assert facts["test_accuracy"] == RunDir(teacher).read_metrics()["test_accuracy"]
    assert "val_accuracy" in run.read_history()  # accuracy against the labels, on validation
    page = (student / "report.html").read_text()
    assert f'Distilled from <a href="../../teachers/{teacher.name}/report.html">' in page
    capsys.readouterr()
    assert main(["predict", str(student), "--test-index", "0"]) == 0  # an ordinary run
    assert main(["evaluate", str(student), "--json"]) == 0


def test_train_teacher_with_a_preset_and_flags_overrides_the_recipe(folder):
    teacher, runs = teacher_of(folder), folder / "flags"
    data = ["--data", str(folder / "data"), "--train-limit", "0", "--test-limit", "0"]
    argv = ["train", "--preset", "smoke", *data, "--teacher", str(teacher), "--alpha", "0.7"]
    assert main([*argv, "--hidden", "16", "--runs-dir", str(runs)]) == 0
    (student,) = runs.iterdir()
    config = RunDir(student).read_config()
    assert config.model.spec.hidden == (16,) and config.distill.alpha == 0.7
    assert RunDir(student).read_metrics()["distilled_from"]["alpha"] == 0.7


def test_a_teacher_that_is_not_a_finished_run_is_an_error_naming_the_fix(folder, capsys):
    assert main(["distill", str(folder / "nowhere"), "--runs-dir", str(folder / "x")]) != 0
    assert "no such run folder" in capsys.readouterr().err
    assert not (folder / "x").exists()


def test_a_teacher_that_cannot_teach_leaves_no_run_or_sweep_behind(folder, tmp_path, capsys):
    """Checked before the first folder exists: a missing teacher, and one trained on other
    classes (its metrics.json rewritten as another data set's teacher would have them)."""
    other = tmp_path / "other-classes"
    shutil.copytree(teacher_of(folder), other)
    metrics = json.loads((other / "metrics.json").read_text())
    (other / "metrics.json").write_text(json.dumps(metrics | {"class_names": list("abcdefghij")}))
    data = ["--preset", "smoke", "--data", str(folder / "data"), "--train-limit", "0"]
    data += ["--test-limit", "0", "--runs-dir", str(tmp_path / "runs")]
    for teacher, message in [(tmp_path / "nowhere", "no such run folder"), (other, "same classes")]:
        assert main(["train", *data, "--teacher", str(teacher)]) != 0
        assert message in capsys.readouterr().err
        sweep = ["sweep", *data, "--teacher", str(teacher), "--alpha", "0.5", "1"]
        assert main([*sweep, "--sweeps-dir", str(tmp_path / "sweeps")]) != 0
        assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "sweeps").exists()


def test_a_sweep_tunes_temperature_and_alpha_in_one_population(folder, capsys):
    teacher = teacher_of(folder)
    sweep = ["sweep", "--preset", "smoke", "--data", str(folder / "data"), "--train-limit", "0"]
    sweep += ["--test-limit", "0", "--teacher", str(teacher), "--temperature", "2", "8"]
    sweep += ["--alpha", "0.5", "1", "--runs-dir", str(folder / "trials")]
    assert main([*sweep, "--sweeps-dir", str(folder / "sweeps")]) == 0
    assert "population 0: 4 members trained together" in capsys.readouterr().out
    trials = [RunDir(path).read_metrics() for path in (folder / "trials").iterdir()]
    taught = {(m["distilled_from"]["temperature"], m["distilled_from"]["alpha"]) for m in trials}
    assert taught == {(2.0, 0.5), (2.0, 1.0), (8.0, 0.5), (8.0, 1.0)}
