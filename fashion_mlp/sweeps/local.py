"""Run a sweep on this machine: its trials as populations, each trial an ordinary run folder,
and the sweep folder (sweep.toml, trials.json, results.csv, figures, report.html).

A killed sweep resumes with `resume_sweep(folder)`: finished runs are kept, each unfinished
population continues from its after-epoch checkpoint (populations/<id>/), the rest start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fashion_mlp.config import DataConfig, read_toml
from fashion_mlp.datasets import Dataset
from fashion_mlp.errors import RunError
from fashion_mlp.experiment import (
    build_configured_model,
    compile_configured_model,
    finish_run,
    model_summary,
)
from fashion_mlp.reports.run_page import write_run_page
from fashion_mlp.runs import RunDir, write_json, write_text
from fashion_mlp.subsets import load_run_data
from fashion_mlp.sweeps.grouping import group_trials
from fashion_mlp.sweeps.results import SweepResult, write_sweep_outputs
from fashion_mlp.sweeps.spec import SweepSpec, Trial, sweep_spec
from fashion_mlp.training.population import train_population

Event = Callable[..., None]  # on_event(kind, **details); kinds: start, epoch, trial, population


class SweepDir:
    """A sweep folder's files."""

    SPEC = "sweep.toml"
    TRIALS = "trials.json"
    RESULTS = "results.csv"
    REPORT = "report.html"
    POPULATIONS = "populations"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    @classmethod
    def create(cls, sweeps_dir: str | os.PathLike, name: str) -> SweepDir:
        return cls(RunDir.create(sweeps_dir, name).path)  # the same dated, unique names

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


def run_sweep(
    spec: SweepSpec,
    sweeps_dir: str | os.PathLike = "sweeps",
    runs_dir: str | os.PathLike = "runs",
    on_event: Event | None = None,
) -> SweepResult:
    """Train every trial of `spec` as populations; write each run and the sweep folder."""
    trials = spec.trials()
    folder = SweepDir.create(sweeps_dir, spec.name)
    write_text(folder.path / folder.SPEC, spec.to_toml())
    populations = group_trials(trials, spec.sweep.members_per_population)
    state = {
        "runs_dir": str(Path(runs_dir).resolve()),
        "trials": [
            {"index": trial.index, "settings": trial.settings, "population": number, "run": None}
            for number, members in enumerate(populations) for trial in members
        ],
    }  # fmt: skip
    state["trials"].sort(key=lambda entry: entry["index"])
    folder.write_state(state)
    return _run(folder, spec, trials, state, on_event)


def resume_sweep(sweep_dir: str | os.PathLike, on_event: Event | None = None) -> SweepResult:
    """Finish a killed sweep: finished trials are kept, the others trained (from checkpoints)."""
    folder = SweepDir(sweep_dir)
    spec = folder.read_spec()
    return _run(folder, spec, spec.trials(), folder.read_state(), on_event)


def _run(folder: SweepDir, spec: SweepSpec, trials: list[Trial], state: dict, on_event):
    emit = on_event or (lambda kind, **details: None)
    entries = state["trials"]
    finished = [_finished(entry) for entry in entries]
    left = [trial for trial, done in zip(trials, finished, strict=True) if not done]
    emit(
        "start", folder=folder.path, trials=len(entries), finished=sum(finished),
        member_epochs=sum(trial.config.training.epochs for trial in left),
    )  # fmt: skip
    data_cache: dict[DataConfig, Dataset] = {}
    for number in sorted({entry["population"] for entry in entries}):
        todo = [trial for trial, entry, done in zip(trials, entries, finished, strict=True)
                if entry["population"] == number and not done]  # fmt: skip
        if todo:
            _train(folder, number, todo, state, data_cache, spec, emit)
    return write_sweep_outputs(folder, spec, trials, state, emit)


def _finished(entry: dict) -> bool:
    return entry["run"] is not None and RunDir(entry["run"]).is_finished


def _train(folder, number, trials, state, data_cache, spec, emit) -> None:
    """One population: build its members (and their run folders), train them, finish runs."""
    config = trials[0].config
    data = data_cache.get(config.data) or data_cache.setdefault(
        config.data, load_run_data(config.data)
    )
    models, runs = [], []
    for trial in trials:
        model = build_configured_model(trial.config, data)
        compile_configured_model(model, trial.config, data)
        entry = state["trials"][trial.index]
        if entry["run"] is None:
            run = RunDir.create(state["runs_dir"], trial.config.name)
            run.write_config(trial.config)
            run.write_summary(model_summary(model))
            entry["run"] = str(run.path)
            folder.write_state(state)
        models.append(model)
        runs.append(RunDir(entry["run"]))
    emit("population", number=number, members=len(trials))
    member_set = "-".join(str(trial.index) for trial in trials)
    training = config.training
    best = {"value": None}

    def on_epoch_end(epoch, logs):
        active = [member for member in logs if member is not None]
        for member in active:
            value = member.get("val_accuracy", member.get("accuracy"))
            best["value"] = max(best["value"] or value, value)
        emit("epoch", member_epochs=len(active), best=best["value"])

    histories = train_population(
        models, data, seeds=[trial.config.training.seed for trial in trials],
        epochs=training.epochs, batch_size=training.batch_size,
        validation_split=training.validation_split,
        early_stopping_patience=training.early_stopping_patience,
        restore_best_weights=training.restore_best_weights,
        members_per_program=spec.sweep.members_per_population or None,
        checkpoint_dir=folder.path / folder.POPULATIONS / f"{number}-{_short(member_set)}",
        on_epoch_end=on_epoch_end,
    )  # fmt: skip
    for trial, model, run, history in zip(trials, models, runs, histories, strict=True):
        metrics = finish_run(run, model, data, trial.config, history, figures=False)
        metrics |= {
            "engine": "population",
            "population": {"sweep": str(folder.path), "number": number, "members": len(trials)},
            "validation": final_validation(history, training),
        }
        run.write_metrics(metrics)
        write_run_page(run)
        emit("trial", trial=trial, run=run.path, metrics=metrics,
             remaining_epochs=training.epochs - len(history.get("loss", [])))  # fmt: skip


def final_validation(history: dict, training) -> dict:
    """Validation loss and accuracy of the weights the run ended with (its best epoch's when
    early stopping restored them), with that epoch (1-based)."""
    losses = history.get("val_loss") or history.get("loss", [])
    if not losses:
        return {}
    restored = training.early_stopping_patience >= 0 and training.restore_best_weights
    index = int(np.argmin(losses)) if restored else len(losses) - 1
    prefix = "val_" if "val_loss" in history else ""
    return {
        "epoch": index + 1, "loss": float(history[f"{prefix}loss"][index]),
        "accuracy": float(history[f"{prefix}accuracy"][index]),
        "on": "validation" if prefix else "training (no validation split)",
    }  # fmt: skip


def _short(text: str) -> str:
    """A short stable name for a set of member indices (checkpoint folder of those members)."""
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:10]
