"""Nothing lost or stranded: a failed or corrupt download leaves the cached files as they were;
a full disk names the file and the next step and leaves no empty or half-made folder; an
ensemble's folder is an ensemble from its start and resumes as one; ensembles refuse duplicate
or unfinished members."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import shutil
from pathlib import Path

import pytest
from conftest import IDX_NAMES, idx_bytes, synthetic_dataset, write_idx_dataset

from fashion_mlp import datasets
from fashion_mlp.cli import main
from fashion_mlp.config import build_config, write_toml
from fashion_mlp.datasets import download_dataset, load_dataset
from fashion_mlp.ensembles import build_ensemble
from fashion_mlp.errors import DatasetError, RunError
from fashion_mlp.experiment import resume_experiment, run_experiment
from fashion_mlp.files import DiskFullError
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir, list_runs
from fashion_mlp.sweeps.local import run_sweep
from fashion_mlp.sweeps.spec import sweep_spec

GOOD = synthetic_dataset(60, 20, seed=3)
ARRAYS = {"train_images": GOOD.x_train, "train_labels": GOOD.y_train}
ARRAYS |= {"test_images": GOOD.x_test, "test_labels": GOOD.y_test}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A Keras cache holding a good copy of a small "fashion" (its checksums published)."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    published = {
        role: hashlib.sha256(idx_bytes(array)).hexdigest() for role, array in ARRAYS.items()
    }
    spec = dataclasses.replace(datasets.DATASETS["fashion"], sha256=published, shapes={})
    monkeypatch.setitem(datasets.DATASETS, "fashion", spec)
    return write_idx_dataset(tmp_path / "keras" / "datasets" / "fashion-mnist", GOOD)


def mirror(monkeypatch, url: str) -> None:
    monkeypatch.setattr(datasets.download, "DOWNLOAD_BASE", url)


def contents(folder) -> dict:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_failed_download_leaves_the_cached_files_as_they_were(cache, tmp_path, monkeypatch):
    before = contents(cache)
    mirror(monkeypatch, f"file://{tmp_path}/offline/")
    with pytest.raises(DatasetError, match="could not download") as error:
        download_dataset("fashion", force=True)
    assert contents(cache) == before
    assert "the cached files are untouched" in str(error.value)


def test_a_corrupt_download_is_refused_before_it_replaces_anything(cache, tmp_path, monkeypatch):
    before = contents(cache)
    other = write_idx_dataset(tmp_path / "mirror", synthetic_dataset(60, 20, seed=9))
    mirror(monkeypatch, f"file://{other}/")
    with pytest.raises(DatasetError, match=f"downloaded {IDX_NAMES['train_images']}.gz is not"):
        download_dataset("fashion", force=True)
    assert contents(cache) == before


def test_a_good_download_replaces_the_cached_files(cache, tmp_path, monkeypatch):
    good = write_idx_dataset(tmp_path / "mirror", GOOD)
    for path in cache.iterdir():
        path.write_bytes(b"damaged")
    mirror(monkeypatch, f"file://{good}/")
    assert download_dataset("fashion", force=True) == cache
    assert contents(cache) == contents(good)
    assert load_dataset("fashion").provenance.verified


# A full disk: errors name the file and the next step, and leave nothing half made
@pytest.fixture(scope="module")
def idx_data(tmp_path_factory):
    return write_idx_dataset(
        tmp_path_factory.mktemp("data") / "synthetic", synthetic_dataset(300, 100)
    )


def smoke(idx_data, seed: int = 0):
    layer = {"data": {"name": str(idx_data)}, "training": {"epochs": 2, "seed": seed}}
    return build_config(preset("smoke"), layer)


def full_disk(monkeypatch, refused) -> None:
    """Writes of text files for which `refused(path)` is true fail as on a full disk."""
    write = Path.write_text

    def write_text(self, *args, **kwargs):
        if refused(self):
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


def named(name: str):
    """Whether a path is an atomic write's temporary file for `name` (".stem.xxxxxxxx.suffix")."""
    stem, suffix = os.path.splitext(name)
    return lambda path: path.name.startswith(f".{stem}.") and path.name.endswith(suffix)


def test_a_full_disk_at_the_start_names_the_file_and_leaves_no_run_folder(
    idx_data, tmp_path, monkeypatch, capsys
):
    config_file = tmp_path / "config.toml"
    config_file.write_text(write_toml(smoke(idx_data)))
    runs = tmp_path / "runs"
    full_disk(monkeypatch, lambda path: runs in path.parents)
    assert main(["train", "--config", str(config_file), "--runs-dir", str(runs)]) == 2
    error = capsys.readouterr().err
    assert f"to write config.toml of a new folder in {runs}" in error
    assert "free some space, then run the command again" in error
    assert list(runs.iterdir()) == []


@pytest.mark.slow  # trains, then resumes
def test_a_full_disk_while_training_names_the_file_and_the_resume_command(
    idx_data, tmp_path, monkeypatch, capsys
):
    written = []

    def second_checkpoint(path):
        written.extend([path] if named("state.json")(path) else [])
        return len(written) == 2

    full_disk(monkeypatch, second_checkpoint)
    runs = tmp_path / "runs"
    with pytest.raises(DiskFullError) as error:
        run_experiment(smoke(idx_data), runs, figures=False)
    (run_dir,) = runs.iterdir()
    assert f"to write {run_dir / 'checkpoints' / 'state.json'}" in str(error.value)
    assert f"continue with `fashion-mlp train --resume {run_dir}`" in str(error.value)
    monkeypatch.undo()  # space freed
    assert resume_experiment(run_dir, figures=False).metrics["epochs_run"] == 2


def test_a_sweep_created_on_a_full_disk_leaves_no_folder(idx_data, tmp_path, monkeypatch):
    spec = sweep_spec(
        {
            "preset": "smoke",
            "base": {"data": {"name": str(idx_data)}},
            "axes": {"training.seed": [0, 1]},
        }
    )
    full_disk(monkeypatch, named("trials.json"))
    sweeps = tmp_path / "sweeps"
    with pytest.raises(DiskFullError, match=f"trials.json of a new folder in {sweeps}"):
        run_sweep(spec, sweeps, tmp_path / "runs")
    assert list(sweeps.iterdir()) == []


def test_a_full_disk_never_leaves_an_empty_lock(tmp_path, monkeypatch):
    import fashion_mlp.files as files

    def dump(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.json, "dump", dump)
    run = RunDir.create(tmp_path, "locked")
    with pytest.raises(DiskFullError, match="to write .*/.lock"), run.lock():
        pass
    assert not (run.path / run.LOCK).exists()  # an empty lock would hold the run for good


# Ensembles
@pytest.fixture(scope="module")
def members(idx_data, tmp_path_factory) -> list[Path]:
    """Two finished runs to ensemble."""
    runs = tmp_path_factory.mktemp("members")
    return [run_experiment(smoke(idx_data, seed), runs, figures=False).run_dir for seed in (0, 1)]


@pytest.mark.slow  # trains members, resumes
def test_an_ensemble_cut_short_by_a_full_disk_is_finished_as_an_ensemble_on_resume(
    members, tmp_path, monkeypatch
):
    full_disk(monkeypatch, named("metrics.json"))
    runs = tmp_path / "runs"
    with pytest.raises(DiskFullError, match="metrics.json") as error:
        build_ensemble(members, runs)
    (ensemble,) = runs.iterdir()
    assert f"continue with `fashion-mlp train --resume {ensemble}`" in str(error.value)
    assert RunDir(ensemble).is_ensemble and not RunDir(ensemble).is_finished
    monkeypatch.undo()
    assert main(["train", "--resume", str(ensemble)]) == 0
    metrics = RunDir(ensemble).read_metrics()
    assert [member["path"] for member in metrics["ensemble"]["members"]] == [
        str(m) for m in members
    ]
    assert metrics["engine"] == "ensemble"  # finished as an ensemble, not a single model


def test_an_ensemble_refuses_a_member_given_twice(members, tmp_path, capsys):
    twice = [str(members[0]), str(members[0].parent / "." / members[0].name)]
    assert main(["ensemble", *twice, "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "is given twice" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_an_ensemble_refuses_an_unfinished_member(members, tmp_path):
    unfinished = tmp_path / members[1].name
    shutil.copytree(members[1], unfinished)
    RunDir(unfinished).mark_unfinished()  # killed while being finished
    with pytest.raises(RunError, match=f"{unfinished} is not finished.*train --resume"):
        build_ensemble([members[0], unfinished], tmp_path / "runs")


def test_a_folder_being_created_is_not_listed_and_appears_whole(tmp_path):
    with RunDir.creating(tmp_path, "new") as run:
        run.write_config(build_config(preset("smoke")))
        assert list_runs(tmp_path) == []  # its hidden folder is no run yet
    assert [row["name"] for row in list_runs(tmp_path)] == [run.path.name]
    assert [path.name for path in tmp_path.iterdir()] == [run.path.name]
