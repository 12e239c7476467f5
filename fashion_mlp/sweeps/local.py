"""Run a sweep on this machine: its populations one after another in this process, each trial
an ordinary run folder, and the sweep folder (sweep.toml, trials.json, results.csv, figures,
report.html).

A killed sweep resumes with `resume_sweep(folder)`: finished runs are kept, each unfinished
population continues from its after-epoch checkpoint (populations/<id>/), the rest start.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fashion_mlp.config import DataConfig
from fashion_mlp.datasets import Dataset, load_dataset
from fashion_mlp.distillation import checked_teacher
from fashion_mlp.files import resume_hint
from fashion_mlp.subsets import limit_dataset, load_run_data
from fashion_mlp.sweeps.folder import SweepDir, create_runs, new_sweep, unfinished_populations
from fashion_mlp.sweeps.results import SweepResult, write_sweep_outputs
from fashion_mlp.sweeps.spec import SweepSpec, Trial
from fashion_mlp.sweeps.trial_runs import epoch_scores, train_runs

Event = Callable[..., None]  # on_event(kind, **details); kinds: start, population, epoch, trial,
# ensemble (the CLI's SweepProgress shows them)
LOCAL = {"name": "local"}  # trials.json's backend of a local sweep


def run_sweep(
    spec: SweepSpec,
    sweeps_dir: str | os.PathLike = "sweeps",
    runs_dir: str | os.PathLike = "runs",
    on_event: Event | None = None,
) -> SweepResult:
    """Train every trial of `spec` as populations; write each run and the sweep folder."""
    checked = check_data(spec.trials())
    folder, state = new_sweep(spec, sweeps_dir, runs_dir, LOCAL)
    with resume_hint(f"fashion-mlp sweep --resume {folder.path}"):
        return _run(folder, spec, spec.trials(), state, on_event, checked)


def resume_sweep(sweep_dir: str | os.PathLike, on_event: Event | None = None) -> SweepResult:
    """Finish a killed sweep: finished trials are kept, the others trained (from checkpoints)."""
    folder = SweepDir(sweep_dir)
    spec, state = folder.read_spec(), folder.read_state()
    state["backend"] = LOCAL  # a Ray sweep resumed here goes on here next time too
    with resume_hint(f"fashion-mlp sweep --resume {folder.path}"):
        folder.write_state(state)
        return _run(folder, spec, spec.trials(), state, on_event)


def data_source(config: DataConfig) -> tuple:
    """What decides which files a data config reads (not its limits)."""
    return config.name, config.data_dir, config.allow_modified


def check_data(trials: list[Trial]) -> dict[tuple, Dataset]:
    """Every data set the trials name, read and validated (its files, their contents and
    checksums), and every teacher checked against its data set, before the first population
    trains: a data.name axis naming a missing or damaged folder, or a teacher that cannot
    teach, fails now, not once the populations before it trained. Returns the data sets by
    `data_source`, for the populations to use without reading them again."""
    sources = {data_source(trial.config.data) for trial in trials}
    datasets = {
        source: load_dataset(source[0], data_dir=source[1], allow_modified=source[2])
        for source in sorted(sources, key=str)
    }
    taught = {(data_source(t.config.data), t.config.distill.teacher): t for t in trials}
    for (source, _), trial in taught.items():
        checked_teacher(trial.config, datasets[source])
    return datasets


def population_data(config: DataConfig, checked: dict[tuple, Dataset]) -> Dataset:
    """A population's data: its checked data set cut to its limits, else read now."""
    data = checked.get(data_source(config))
    if data is None:
        return load_run_data(config)
    return limit_dataset(data, config.train_limit, config.test_limit)


def _run(
    folder: SweepDir,
    spec: SweepSpec,
    trials: list[Trial],
    state: dict,
    on_event,
    checked: dict[tuple, Dataset] | None = None,
):
    emit = on_event or (lambda kind, **details: None)
    left = unfinished_populations(trials, state)
    emit_start(emit, folder, trials, left)
    data_cache: dict[DataConfig, Dataset] = {}
    for number, todo in left.items():
        runs = create_runs(folder, todo, state)
        config = todo[0].config.data
        if config not in data_cache:
            data_cache[config] = population_data(config, checked or {})
        data = data_cache[config]
        emit("population", number=number, members=len(todo))
        results = train_runs(
            folder, number, todo, runs, data, spec, on_epoch_end=epoch_events(emit)
        )
        for trial, run, metrics in zip(todo, runs, results, strict=True):
            emit_trial(emit, trial, run.path, metrics)
    return write_sweep_outputs(folder, spec, trials, state, emit)


def emit_start(emit: Event, folder: SweepDir, trials: list[Trial], left: dict) -> None:
    """The start event: the sweep folder, its trials, how many are finished and the
    member-epochs left to train."""
    todo = [trial for members in left.values() for trial in members]
    emit(
        "start",
        folder=folder.path,
        trials=len(trials),
        finished=len(trials) - len(todo),
        member_epochs=sum(trial.config.training.epochs for trial in todo),
    )


def epoch_events(emit: Event):
    """on_epoch_end for train_runs that emits an epoch event (member-epochs, best score)."""

    def on_epoch_end(epoch, logs):
        members, best = epoch_scores(logs)
        emit("epoch", member_epochs=members, best=best)

    return on_epoch_end


def emit_trial(emit: Event, trial: Trial, run, metrics: dict) -> None:
    emit(
        "trial",
        trial=trial,
        run=run,
        metrics=metrics,
        remaining_epochs=trial.config.training.epochs - metrics["epochs_run"],
    )
