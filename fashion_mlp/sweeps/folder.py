"""A sweep folder and its state, trials.json: each trial's settings, population and run folder.
Keras-free and Ray-free. Only a sweep's driver writes trials.json, whatever the backend.

trials.json also keeps the backend the sweep ran on (so `sweep --resume` runs it the same way)
and, for Ray, the node and the retries of each trial's population.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from fashion_mlp.config import read_toml
from fashion_mlp.errors import RunError
from fashion_mlp.files import write_json, write_text
from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps.grouping import group_trials
from fashion_mlp.sweeps.spec import SweepSpec, Trial, sweep_spec


class SweepDir:
    """A sweep folder's files."""

    SPEC = "sweep.toml"
    TRIALS = "trials.json"
    RESULTS = "results.csv"
    REPORT = "report.html"
    POPULATIONS = "populations"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).absolute()  # the same folder from Ray's workers and Tune

    def read_spec(self) -> SweepSpec:
        if not (self.path / self.SPEC).is_file():
            raise RunError(
                f"{self.path} has no {self.SPEC}: it is not a sweep folder (expected the folder "
                "`fashion-mlp sweep` printed, under sweeps/)"
            )
        return sweep_spec(read_toml(self.path / self.SPEC))

    def read_state(self) -> dict:
        return json.loads((self.path / self.TRIALS).read_text(encoding="utf-8"))

    def write_state(self, state: dict) -> None:
        write_json(self.path / self.TRIALS, state)

    def checkpoint_dir(self, number: int, trials: list[Trial]) -> Path:
        """Where population `number`, trained with these members, keeps its after-epoch
        checkpoint (other members, e.g. those left on resume, start their own)."""
        members = "-".join(str(trial.index) for trial in trials)
        digest = hashlib.sha256(members.encode()).hexdigest()[:10]
        return self.path / self.POPULATIONS / f"{number}-{digest}"

    def remove_checkpoints(self, number: int) -> None:
        """Delete every checkpoint of population `number` (one per member set it trained
        with): called once all its runs are finished, which need none of them again."""
        for checkpoint in (self.path / self.POPULATIONS).glob(f"{number}-*"):
            shutil.rmtree(checkpoint, ignore_errors=True)

    def remove_empty_populations(self) -> None:
        """Remove `populations/` if no checkpoint is left in it (every population finished).
        Only an empty folder goes (rmdir refuses others); a lingering worker that writes a
        checkpoint after it creates the folder again."""
        with contextlib.suppress(OSError):
            (self.path / self.POPULATIONS).rmdir()


def new_sweep(
    spec: SweepSpec, sweeps_dir: str | os.PathLike, runs_dir: str | os.PathLike, backend: dict
) -> tuple[SweepDir, dict]:
    """A new sweep folder, which appears with both sweep.toml and trials.json (no run folder
    yet) or not at all; its state."""
    populations = group_trials(spec.trials(), spec.sweep.members_per_population)
    state = {
        "runs_dir": str(Path(runs_dir).resolve()),
        "backend": backend,
        "trials": [
            {"index": trial.index, "settings": trial.settings, "population": number, "run": None}
            for number, members in enumerate(populations)
            for trial in members
        ],
    }
    state["trials"].sort(key=lambda entry: entry["index"])
    with RunDir.creating(sweeps_dir, spec.name) as staged:  # the same dated, unique names
        folder = SweepDir(staged.path)
        write_text(folder.path / folder.SPEC, spec.to_toml())
        folder.write_state(state)
    return SweepDir(staged.path), state


def unfinished_populations(trials: list[Trial], state: dict) -> dict[int, list[Trial]]:
    """Each population that has trials left to train: its number -> those trials, in order."""
    left: dict[int, list[Trial]] = {}
    for trial, entry in zip(trials, state["trials"], strict=True):
        if not is_finished(entry):
            left.setdefault(entry["population"], []).append(trial)
    return dict(sorted(left.items()))


def is_finished(entry: dict) -> bool:
    return entry["run"] is not None and RunDir(entry["run"]).is_finished


def create_runs(folder: SweepDir, trials: list[Trial], state: dict) -> list[RunDir]:
    """Each trial's run folder: created with its config.toml and recorded in trials.json the
    first time, the same folder ever after (a resumed or retried trial continues in it)."""
    runs = []
    for trial in trials:
        entry = state["trials"][trial.index]
        if entry["run"] is None:
            with RunDir.creating(state["runs_dir"], trial.config.name) as run:
                run.write_config(trial.config)
            entry["run"] = str(run.path)
            folder.write_state(state)
        runs.append(RunDir(entry["run"]))
    return runs
