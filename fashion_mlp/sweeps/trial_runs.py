"""One population of a sweep trained into its trials' run folders: the one training path of
every backend (the local backend calls it in its own process, each Ray trial on a worker)."""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np

from fashion_mlp.datasets import Dataset
from fashion_mlp.distillation import distillation_targets
from fashion_mlp.experiment import (
    finish_run,
    model_summary,
    resume_point,
    save_trained,
)
from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps.folder import SweepDir
from fashion_mlp.sweeps.spec import SweepSpec, Trial
from fashion_mlp.training.population import train_population
from fashion_mlp.training.population.train import EpochHook


def train_runs(
    folder: SweepDir,
    number: int,
    trials: list[Trial],
    runs: list[RunDir],
    data: Dataset,
    spec: SweepSpec,
    *,
    on_epoch_end: EpochHook | None = None,
    stopped_early: dict | None = None,
) -> list[dict]:
    """Train population `number` (these trials, continuing from its checkpoint if there is
    one) and finish each trial's run folder; returns each run's metrics. The population's
    checkpoints are deleted once its runs are finished (a retry then trains nothing and
    returns the metrics as they are). Every run is locked until it is finished, so a second
    process (a resumed sweep while a worker of the killed one lingers) gets an error naming
    the holder instead of training the same population alongside; a worker killed later
    leaves no lock on its finished runs.

    stopped_early: {"by": scheduler, "epoch": N} for a population a scheduler stopped after
    epoch N: nothing more is trained, its runs are finished from the checkpoint with their
    partial history, and metrics.json says so under "stopped_early".
    """
    with ExitStack() as every_lock:
        locks = [every_lock.enter_context(ExitStack()) for _ in runs]
        for run, lock in zip(runs, locks, strict=True):
            lock.enter_context(run.lock())
        if not all(run.is_finished for run in runs):  # else: a retry after they were finished
            _train_locked_runs(
                folder, number, trials, runs, locks, data, spec, on_epoch_end, stopped_early
            )
    folder.remove_checkpoints(number)  # a population's checkpoints can reach gigabytes
    return [run.read_metrics() for run in runs]


def _train_locked_runs(
    folder, number, trials, runs, locks, data, spec, on_epoch_end, stopped_early
):
    """Train the population, then finish each run and release its lock (`locks`: one
    ExitStack holding each run's). Every member's model is saved before the first run is
    finished, so a kill while finishing leaves each run trained: a resume finishes those
    (their model.keras and history) and trains only the others."""
    training = trials[0].config.training
    left = [index for index, run in enumerate(runs) if not run.model_path.is_file()]
    # a saved member's model and history, or a new seeded model (runs keep no checkpoints)
    pairs = zip(runs, trials, strict=True)
    points = [resume_point(run, trial.config, data) for run, trial in pairs]
    models = [model for model, _, _ in points]
    histories = [history for _, _, history in points]
    if left:
        for index in left:
            runs[index].write_summary(model_summary(models[index]))
        new_histories = train_population(
            [models[index] for index in left],
            data,
            seeds=[trials[index].config.training.seed for index in left],
            epochs=stopped_early["epoch"] if stopped_early else training.epochs,
            batch_size=training.batch_size,
            validation_split=training.validation_split,
            early_stopping_patience=training.early_stopping_patience,
            restore_best_weights=training.restore_best_weights,
            members_per_program=spec.sweep.members_per_population or None,
            checkpoint_dir=folder.checkpoint_dir(number, [trials[index] for index in left]),
            on_epoch_end=on_epoch_end,
            targets=distillation_targets(trials[0].config, data),  # the teacher is shared
        )
        for index, history in zip(left, new_histories, strict=True):
            histories[index] = history
            save_trained(runs[index], models[index], history)
    for trial, model, run, lock, history in zip(
        trials, models, runs, locks, histories, strict=True
    ):
        extra = {
            "engine": "population",
            "population": {"sweep": str(folder.path), "number": number, "members": len(trials)},
            "validation": final_validation(history, training),
        }
        if stopped_early:
            extra["stopped_early"] = stopped_early | {"of": training.epochs}
        finish_run(
            run, model, data, trial.config, history, figures=False, saved=True, extra_metrics=extra
        )
        lock.close()  # at once: a finished run keeps no lock if this process is killed next


def epoch_scores(logs: list[dict | None]) -> tuple[int, float | None]:
    """One epoch of a population: its active members, and their best validation accuracy
    (training accuracy without a validation split; None when no member was active)."""
    scores = [member.get("val_accuracy", member.get("accuracy")) for member in logs if member]
    return len(scores), max(scores, default=None)


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
        "epoch": index + 1,
        "loss": float(history[f"{prefix}loss"][index]),
        "accuracy": float(history[f"{prefix}accuracy"][index]),
        "on": "validation" if prefix else "training (no validation split)",
    }
