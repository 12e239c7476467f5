"""Run folders: `RunDir` owns every file name of a run and reads and writes each file.

Layout: config.toml, model.keras, history.csv, metrics.json, summary.txt, calibration.json
(when calibrated), labels.json (a title and tags given to it), checkpoints/ (epoch-NNN.keras +
state.json, for --resume), figures (*.png), report.html, and an ensemble's ensemble.json (its
members). Every write is atomic (`files`: temporary file, then rename), so a crash never leaves
half a file; a new folder is filled in a hidden one, renamed into place (`RunDir.creating`), so
it never appears empty. Finishing a run
writes an `unfinished` marker first and removes it last; `RunDir.lock()` keeps a second
process out while one trains or finishes it. Keras-free: a model is saved through its own
`save` method, and loaded by `models.load_saved_model(run.model_path)`.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fashion_mlp.config import ExperimentConfig, build_config, is_number, write_toml
from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.files import (
    TEMPORARY_NAME,
    DiskFullError,
    atomic_path,
    current_umask,
    file_sha256,
    folder_names,
    lock_is_stale,
    naming_disk_full,
    publish_folder,
    read_lock,
    remove_stale_staged_folders,
    run_lock,
    staged_folder,
    write_json,
    write_text,
)
from fashion_mlp.history import history_csv, parse_history_csv
from fashion_mlp.run_labels import checked_labels

RUN_COLUMNS = ("name", "date", "architecture", "epochs", "test_accuracy", "train_seconds")
NUMBER_COLUMNS = {"epochs": "epochs_run", "test_accuracy": "test_accuracy"}  # metrics.json keys
NUMBER_KEYS = ("epochs", "test_accuracy", "train_seconds")  # the row's number columns


@dataclass(frozen=True)
class Checkpoint:
    """The last finished epoch of an unfinished run: its number, model file and history."""

    epoch: int
    model_file: str  # relative to the run folder, e.g. "checkpoints/epoch-003.keras"
    history: dict[str, list[float]]
    sha256: str | None = None  # the model file's, as written; None in earlier versions' runs


class RunDir:
    """One run folder: its file names, and reading and writing each of its files.

    Examples:
        >>> run = RunDir.create("runs", "notebook")       # runs/20261129-203000-notebook
        >>> run.write_config(config); run.read_config() == config
        True
    """

    CONFIG = "config.toml"
    MODEL = "model.keras"
    HISTORY = "history.csv"
    METRICS = "metrics.json"
    SUMMARY = "summary.txt"
    CALIBRATION = "calibration.json"  # the temperature Predictor applies; absent = T = 1
    LABELS = "labels.json"  # a title and tags a person gave the run; absent = none
    REPORT = "report.html"
    CHECKPOINT_STATE = "checkpoints/state.json"
    UNFINISHED = "unfinished"  # present while the run is being finished, removed last
    LOCK = ".lock"  # pid and host of the process training or finishing the run
    ENSEMBLE = "ensemble.json"  # an ensemble run's members, there from the folder's creation

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @classmethod
    def create(cls, runs_dir: str | os.PathLike, name: str) -> RunDir:
        """A fresh `runs_dir/<YYYYmmdd-HHMMSS>-<name>` folder (suffixed -2, -3... if taken)."""
        runs_dir = Path(runs_dir)
        runs_dir.mkdir(parents=True, exist_ok=True)
        for candidate in folder_names(runs_dir, name):
            try:
                candidate.mkdir()
                return cls(candidate)
            except FileExistsError:
                continue
        raise RunError(f"could not create a new run folder under {runs_dir}")

    @classmethod
    @contextmanager
    def creating(cls, runs_dir: str | os.PathLike, name: str) -> Iterator[RunDir]:
        """A new run folder (named as by `create`) that appears with every file the block wrote,
        or not at all: the block writes into a hidden folder, renamed into place at its end."""
        runs_dir = Path(runs_dir)
        with naming_disk_full(f"a new folder in {runs_dir}"):
            runs_dir.mkdir(parents=True, exist_ok=True)
            remove_stale_staged_folders(runs_dir)
            staged = staged_folder(runs_dir)
        try:
            os.chmod(staged, 0o777 & ~current_umask())  # mkdtemp's 0700 would hide the run
            run = cls(staged)
            try:
                yield run
            except DiskFullError as error:
                target = f"{Path(error.target).name} of a new folder in {runs_dir}"
                raise DiskFullError(target) from error.__cause__
            run.path = publish_folder(staged, runs_dir, name)
        finally:
            shutil.rmtree(staged, ignore_errors=True)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def model_path(self) -> Path:
        return self.path / self.MODEL

    @property
    def report_path(self) -> Path:
        return self.path / self.REPORT

    @property
    def is_finished(self) -> bool:
        """metrics.json is there and the `unfinished` marker is not (older runs never had one)."""
        return (self.path / self.METRICS).exists() and not (self.path / self.UNFINISHED).exists()

    def require(self, name: str, what: str) -> Path:
        """path/name, or a RunError saying the run is missing, incomplete or damaged."""
        if not self.path.is_dir():
            raise RunError(f"run {self.path} does not exist; `fashion-mlp runs` lists the runs")
        path = self.path / name
        if path.exists() and not path.is_file():
            raise RunError(f"{path} is a folder, expected a file ({what}); the run is damaged")
        if not path.is_file():
            raise RunError(f"run {self.path} has no {name} ({what}); it is incomplete or not a run")
        return path

    def read_json(self, name: str, what: str) -> Any:
        """A JSON file of the run, with a RunError when it is missing or corrupt."""
        path = self.require(name, what)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError) as error:
            raise RunError(f"{path} is corrupt ({error}); the run is damaged") from None

    # config.toml
    def write_config(self, config: ExperimentConfig) -> Path:
        return write_text(self.path / self.CONFIG, write_toml(config))

    def read_config_table(self) -> dict[str, Any]:
        """config.toml as it is written (plain tables), for showing and comparing."""
        path = self.require(self.CONFIG, "its config")
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as error:
            raise RunError(
                f"{path} is not valid TOML ({error}); expected the config train wrote"
            ) from None

    def read_config(self) -> ExperimentConfig:
        """config.toml as a validated ExperimentConfig."""
        try:
            return build_config(self.read_config_table())
        except ConfigError as error:
            raise RunError(f"{self.path / self.CONFIG}: {error}") from None

    # model.keras
    def save_model(self, model, name: str = MODEL) -> Path:
        """Save a Keras model into the run atomically (model.keras unless `name` says else)."""
        with atomic_path(self.path / name) as temporary:
            model.save(temporary)
        return self.path / name

    # metrics.json
    def write_metrics(self, metrics: dict) -> Path:
        return write_json(self.path / self.METRICS, metrics)

    def read_metrics(self) -> dict[str, Any]:
        metrics = self.read_json(self.METRICS, "its test metrics")
        if not isinstance(metrics, dict):
            raise RunError(f"{self.path / self.METRICS} is not a JSON object; the run is damaged")
        return metrics

    def class_names(self) -> list[str]:
        """The class names stored in metrics.json, in label order."""
        names = self.read_metrics().get("class_names")
        if names is None:
            raise RunError(
                f"{self.path / self.METRICS} has no class_names; it was not written by "
                "`fashion-mlp train`: train the run again"
            )
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise RunError(
                f"{self.path / self.METRICS}: class_names must be a list of strings, found "
                f"{names!r}; re-run `fashion-mlp evaluate` or train the run again"
            )
        return names

    # calibration.json
    def write_calibration(self, record: dict) -> Path:
        return write_json(self.path / self.CALIBRATION, record)

    def read_calibration(self) -> dict[str, Any] | None:
        """calibration.json, its temperature checked; None for a run never calibrated."""
        path = self.path / self.CALIBRATION
        if not path.exists():
            return None
        fix = (
            f"fit it again with `fashion-mlp calibrate {self.path}`, or delete it to use the "
            "model's own probabilities"
        )
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError) as error:
            raise RunError(f"{path} is corrupt ({error}); {fix}") from None
        temperature = record.get("temperature") if isinstance(record, dict) else None
        if not is_number(temperature) or not 0 < temperature < float("inf"):
            raise RunError(f"{path} has temperature {temperature!r}, expected a number > 0; {fix}")
        return record

    # history.csv
    def write_history(self, history: dict[str, list[float]]) -> Path:
        return write_text(self.path / self.HISTORY, history_csv(history))

    def read_history(self) -> dict[str, list[float]]:
        """history.csv as columns per epoch ({} when the run has none)."""
        path = self.path / self.HISTORY
        if not path.exists():
            return {}
        path = self.require(self.HISTORY, "its history")
        try:
            return parse_history_csv(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError, OSError) as error:
            raise RunError(f"{path} is corrupt ({error}); the run is damaged") from None

    # summary.txt
    def write_summary(self, text: str) -> Path:
        return write_text(self.path / self.SUMMARY, text.rstrip("\n") + "\n")

    def read_summary(self) -> str | None:
        path = self.path / self.SUMMARY
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else None

    # labels.json
    def read_labels(self) -> dict[str, Any]:
        """The run's title (None: its folder name stands) and tags, from labels.json."""
        path = self.path / self.LABELS
        if not path.exists():
            return {"title": None, "tags": []}
        labels = self.read_json(self.LABELS, "its title and tags")
        try:
            return checked_labels(labels.get("title"), labels.get("tags", []))
        except (AttributeError, ConfigError) as error:
            raise RunError(f"{path}: {error}; correct it or delete it") from None

    def write_labels(self, title: str | None, tags: list[str]) -> Path:
        """Give the run a title (None: none) and tags, checked, in labels.json."""
        return write_json(self.path / self.LABELS, checked_labels(title, tags))

    # figures and report.html
    def figure_paths(self) -> dict[str, Path]:
        """The run's figures by file name."""
        return {path.name: path for path in sorted(self.path.glob("*.png")) if path.is_file()}

    def write_report(self, page: str) -> Path:
        return write_text(self.report_path, page)

    # checkpoints/
    def read_checkpoint(self) -> Checkpoint | None:
        """The last checkpoint, or None when the run has none yet."""
        if not (self.path / self.CHECKPOINT_STATE).exists():
            return None
        state = self.read_json(self.CHECKPOINT_STATE, "the last checkpoint")
        try:
            epoch, model, history = int(state["epoch"]), str(state["model"]), state["history"]
            return Checkpoint(epoch, model, dict(history), state.get("sha256"))
        except (TypeError, KeyError, ValueError, AttributeError):
            raise RunError(
                f"{self.path / self.CHECKPOINT_STATE} is damaged (expected epoch, model and "
                "history); the run cannot be resumed: start it again with `fashion-mlp train`"
            ) from None

    def checkpoint_model(self, checkpoint: Checkpoint) -> Path:
        """The checkpoint's model file, checked against the SHA-256 state.json recorded for it:
        a RunError names a file that is missing or changed since it was written."""
        path = self.path / checkpoint.model_file
        start_over = (
            f"the run cannot go on from epoch {checkpoint.epoch}: remove "
            f"{self.path / 'checkpoints'} and `fashion-mlp train --resume {self.path}` trains it "
            "again from epoch 0"
        )
        if not path.is_file():
            raise RunError(
                f"{path} is missing, though {self.CHECKPOINT_STATE} names it; {start_over}"
            )
        if checkpoint.sha256 is not None and file_sha256(path) != checkpoint.sha256:
            raise RunError(
                f"{path} is not the file {self.CHECKPOINT_STATE} recorded (its SHA-256 differs: "
                f"damaged or changed since it was written); {start_over}"
            )
        return path

    def write_checkpoint(self, model, epoch: int, history: dict, replaces: str | None) -> str:
        """Checkpoint `model` after `epoch` (1-based); returns the file name it wrote.

        The model goes to checkpoints/epoch-NNN.keras first, then state.json names it with its
        SHA-256 (the manifest, valid once renamed into place), and the file it `replaces` is
        removed last: a crash at any point leaves a usable checkpoint.
        """
        name = f"checkpoints/epoch-{epoch:03d}.keras"
        path = self.save_model(model, name)
        state = {"epoch": epoch, "model": name, "history": history, "sha256": file_sha256(path)}
        write_json(self.path / self.CHECKPOINT_STATE, state)
        if replaces and replaces != name:
            (self.path / replaces).unlink(missing_ok=True)
        return name

    # ensemble.json
    @property
    def is_ensemble(self) -> bool:
        return (self.path / self.ENSEMBLE).is_file()

    def write_ensemble(self, members: list[str], mirror: bool) -> Path:
        return write_json(self.path / self.ENSEMBLE, {"members": members, "mirror": mirror})

    def read_ensemble(self) -> tuple[list[str], bool]:
        """The member run folders and the mirror setting of an ensemble run."""
        ensemble = self.read_json(self.ENSEMBLE, "its members")
        members = ensemble.get("members") if isinstance(ensemble, dict) else None
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise RunError(
                f"{self.path / self.ENSEMBLE}: expected members, a list of run folders; the "
                "ensemble is damaged: build it again with `fashion-mlp ensemble`"
            )
        return members, bool(ensemble.get("mirror"))

    # finishing
    def mark_unfinished(self) -> None:
        """Write the `unfinished` marker: the run does not count as finished until it goes."""
        if not (self.path / self.UNFINISHED).is_file():
            hint = f"not finished yet: fashion-mlp train --resume {self.path}\n"
            write_text(self.path / self.UNFINISHED, hint)

    def mark_finished(self) -> None:
        """Remove the `unfinished` marker, last, once every file of the run is written."""
        (self.path / self.UNFINISHED).unlink(missing_ok=True)

    def remove_leftovers(self) -> list[Path]:
        """Remove what interrupted writes left: atomic_path's temporary files in the run folder
        and checkpoints/, and checkpoint models that state.json no longer names. Call it only
        while holding `lock()`, so that no other process is writing them. Returns the paths."""
        folders = (self.path, self.path / "checkpoints")
        leftovers = [
            path
            for folder in folders
            if folder.is_dir()
            for path in folder.iterdir()
            if TEMPORARY_NAME.fullmatch(path.name) and path.is_file()
        ]
        try:
            checkpoint = self.read_checkpoint()
        except RunError:
            checkpoint = None  # damaged: keep its models, the user may still want them
        if checkpoint is not None:
            named = self.path / checkpoint.model_file
            leftovers += [p for p in folders[1].glob("epoch-*.keras") if p != named]
        for path in leftovers:
            path.unlink(missing_ok=True)
        return leftovers

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run for the block, so that no other process trains or finishes it meanwhile.

        Raises:
            RunError: naming the process (pid, host) that holds it and how to clear a stale
                lock. A lock whose process is dead on this host is taken over. Re-entrant within
                one thread.
        """
        with run_lock(self.path / self.LOCK):
            yield

    def delete(self) -> None:
        """Remove the run folder, holding its lock: never while another process trains it."""
        with self.lock():
            shutil.rmtree(self.path)

    def lock_owner(self) -> dict[str, Any] | None:
        """Who holds the run's lock, when a live process does (a stale lock counts as none)."""
        owner = read_lock(self.path / self.LOCK)
        return None if owner is None or lock_is_stale(self.path / self.LOCK, owner) else owner

    # listing
    def row(self) -> dict[str, Any] | None:
        """The run's line in `fashion-mlp runs`, or None when the folder is not a run."""
        if not (self.path / self.CONFIG).exists():
            return None
        row = {
            "name": self.name,
            "date": datetime.fromtimestamp((self.path / self.CONFIG).stat().st_mtime).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "architecture": "",
            "epochs": None,
            "test_accuracy": None,
            "train_seconds": None,
            "status": "finished",
        }
        try:
            config = self.read_config()
            row["architecture"] = architecture(config.to_dict()["model"])
            row |= self._progress(config.training.epochs)
        except RunError as error:
            row |= {"status": "damaged", "problem": str(error)}
        return row

    def _progress(self, planned: int) -> dict[str, Any]:
        """The row's epochs, scores and status, from metrics.json or the last checkpoint (with
        the epochs `planned`), and the sweep a trial belongs to."""
        if not self.is_finished:
            checkpoint = self.read_checkpoint()
            status = "running" if self.lock_owner() else "unfinished"
            done = checkpoint.epoch if checkpoint else 0
            return {"epochs": done, "epochs_planned": planned, "status": status}
        metrics = self.read_metrics()
        timings = metrics.get("timings")
        values = {
            "train_seconds": timings.get("train_seconds") if isinstance(timings, dict) else None
        }
        values |= {column: metrics.get(key) for column, key in NUMBER_COLUMNS.items()}
        if isinstance(metrics.get("ensemble"), dict):
            values |= ensemble_facts(metrics["ensemble"])
        self._check_numbers({key: values[key] for key in NUMBER_KEYS})
        population = metrics.get("population")
        if isinstance(population, dict) and population.get("sweep"):
            values["sweep"] = Path(str(population["sweep"])).name
        return values

    def _check_numbers(self, values: dict[str, Any]) -> None:
        """RunError naming the first of the row's number columns that holds something else."""
        for column, value in values.items():
            if value is not None and not is_number(value):
                raise RunError(
                    f"{self.path / self.METRICS}: {column} is {value!r}, expected a number; "
                    "the run is damaged: re-run `fashion-mlp evaluate` or train it again"
                )


def architecture(model_table: dict) -> str:
    """'in-64-32-out tanh' for an MLP's [model] table, or the user model's reference."""
    if model_table.get("user_model"):
        return str(model_table["user_model"])
    sizes = "-".join(["in", *map(str, model_table.get("hidden", [])), "out"])
    return f"{sizes} {model_table.get('activation', '')}".strip()


def ensemble_facts(ensemble: dict) -> dict[str, Any]:
    """An ensemble's row from its members: their count, architecture ("3x in-64-32-out tanh",
    else "ensemble of 3"), epochs and summed training seconds; None and a `note` if unknown."""
    members = [member for member in ensemble.get("members", []) if isinstance(member, dict)]
    shapes = {member.get("architecture") for member in members}
    shape = shapes.pop() if len(shapes) == 1 else None
    epochs = {member.get("epochs") for member in members}
    seconds = [member.get("train_seconds") for member in members]
    facts: dict[str, Any] = {
        "members": len(members),
        "architecture": f"{len(members)}x {shape}" if shape else f"ensemble of {len(members)}",
        "epochs": epochs.pop() if len(epochs) == 1 else None,
        "train_seconds": None if None in seconds else float(sum(seconds)),
    }
    if None in seconds:
        facts["note"] = "an older ensemble: its members' epochs and seconds were not recorded"
    elif facts["epochs"] is None:
        facts["note"] = f"members trained for {', '.join(map(str, sorted(epochs)))} epochs"
    return facts


def list_runs(runs_dir: str | os.PathLike, sort_by: str = "date", descending: bool = False):
    """Every run under runs_dir as a row of RUN_COLUMNS (+ status), sorted by one column.

    A damaged run is listed with status "damaged" and its `problem`; rows missing the sort
    column come last.
    """
    if sort_by not in RUN_COLUMNS:
        raise RunError(f"cannot sort by {sort_by!r}; expected one of {', '.join(RUN_COLUMNS)}")
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    rows = [
        row
        for child in sorted(runs_dir.iterdir())
        if child.is_dir() and not child.name.startswith(".") and (row := RunDir(child).row())
    ]
    present = [row for row in rows if row[sort_by] is not None]
    missing = [row for row in rows if row[sort_by] is None]
    return sorted(present, key=lambda row: row[sort_by], reverse=descending) + missing
