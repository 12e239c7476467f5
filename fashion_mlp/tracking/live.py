"""Tracking while a command runs: one training (`RunTracker`, epoch by epoch) or a sweep
(`SweepTracker`: a parent MLflow run, each trial nested under it once its folder is finished).

A tracker's failure never stops training or touches the run folder: the first error is kept
in `problem` and tracking stops, so the command can say so once the folder is complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from fashion_mlp.runs import RunDir
from fashion_mlp.tracking.mlflow_store import MlflowStore
from fashion_mlp.tracking.run_values import RUN_TAG, epoch_values, history_steps
from fashion_mlp.tracking.tensorboard import ScalarWriter

SWEEP_TAG = "fashion_mlp.sweep"  # the sweep folder's name, on the parent run
SWEEP_ARTIFACTS = ("results.csv", "report.html", "sweep.toml")  # with the sweep's figures


class EpochLogger(keras.callbacks.Callback):
    """Hands each epoch's numbers, at its step (epochs count from 1), to `log(step, values)`."""

    def __init__(self, log):
        super().__init__()
        self.log = log

    def on_epoch_end(self, epoch, logs=None):
        self.log(epoch + 1, epoch_values(logs or {}))


class Tracker:
    """MLflow (a store) and TensorBoard (a folder), either optional; the first error kept."""

    def __init__(
        self,
        store: MlflowStore | None = None,
        tensorboard_dir: str | os.PathLike | None = None,
        model: bool = False,
        tags: dict[str, str] | None = None,
    ):
        self.store = store
        self.tags = tags or {}  # over each run's own tags (the CLI's --preset)
        self.tensorboard_dir = None if tensorboard_dir is None else Path(tensorboard_dir)
        self.model = model  # also log model.keras as an artifact
        self.problem: Exception | None = None

    def guarded(self, action, *args):
        """action(*args), unless MLflow failed before; a failure is kept, not raised."""
        if self.store is None or self.problem is not None:
            return None
        try:
            return action(*args)
        except Exception as error:  # any failure of the store: training goes on without it
            self.problem = error
            return None


class RunTracker(Tracker):
    """One training: an MLflow run and a TensorBoard folder named after its run folder."""

    run_id: str | None = None
    writer: ScalarWriter | None = None
    logged_steps: frozenset[int] = frozenset()  # epochs logged live (a resumed run lacks some)

    def callback(self) -> keras.callbacks.Callback:
        return EpochLogger(self.log_epoch)

    def start(self, run_dir: str | os.PathLike) -> None:
        name = RunDir(run_dir).name
        self.run_id = self.guarded(lambda: self.store.start(name, {RUN_TAG: name}))
        if self.tensorboard_dir is not None:
            self.writer = ScalarWriter(self.tensorboard_dir / name)

    def log_epoch(self, step: int, values: dict[str, float]) -> None:
        if self.writer is not None:
            self.writer.log_epoch(step, values)
        if self.run_id is not None:
            self.guarded(self.store.log_epoch, self.run_id, step, values)
        self.logged_steps |= {step}

    def finish(self, run_dir: str | os.PathLike) -> None:
        """Log the epochs not seen live (before a resume), then the finished folder (params,
        test metrics, tags, artifacts), and close the run."""
        run = RunDir(run_dir)
        for step, values in history_steps(run.read_history()):
            if step not in self.logged_steps:
                self.log_epoch(step, values)
        self.close()
        if self.run_id is not None:
            self.guarded(self.store.log_run_folder, self.run_id, run, self.model, self.tags)
            self.guarded(self.store.end, self.run_id)

    def fail(self, status: str = "FAILED") -> None:
        self.close()
        if self.run_id is not None:
            self.guarded(self.store.end, self.run_id, status)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class SweepTracker(Tracker):
    """A sweep: a parent MLflow run, each finished trial a nested run with its whole history,
    and a TensorBoard folder per trial under one folder named after the sweep."""

    parent: str | None = None
    sweep: str = "sweep"

    def __call__(self, kind: str, **details) -> None:
        """The sweep's on_event: starts the parent at "start", logs each "trial"."""
        if kind == "start":
            self.start(details["folder"])
        elif kind == "trial":
            self.trial(RunDir(details["run"]))

    def chained(self, on_event):
        """An on_event that calls `on_event` (the progress display), then this tracker."""

        def both(kind: str, **details) -> None:
            on_event(kind, **details)
            self(kind, **details)

        return both

    def start(self, folder: str | os.PathLike) -> None:
        self.sweep = Path(folder).name
        tags = self.tags | {SWEEP_TAG: self.sweep}
        self.parent = self.guarded(lambda: self.store.start(self.sweep, tags))

    def trial(self, run: RunDir) -> None:
        if self.tensorboard_dir is not None:
            writer = ScalarWriter(self.tensorboard_dir / self.sweep / run.name)
            writer.log_history(run.read_history())
            writer.close()
        if self.parent is not None:
            self.guarded(self.store.log_finished, run, self.parent, self.model, self.tags)

    def finish(self, folder: str | os.PathLike) -> None:
        """The sweep's results, report and figures on the parent, which is then closed."""
        if self.parent is None:
            return
        folder = Path(folder)
        paths = [folder / name for name in SWEEP_ARTIFACTS] + sorted(folder.glob("*.png"))
        for path in filter(Path.is_file, paths):
            self.guarded(self.store.client.log_artifact, self.parent, str(path))
        self.guarded(self.store.end, self.parent)

    def fail(self, status: str = "FAILED") -> None:
        if self.parent is not None:
            self.guarded(self.store.end, self.parent, status)
