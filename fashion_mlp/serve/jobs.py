"""Trainings started over HTTP: a queue, worker threads, live progress events and cancelling.

Each job trains with `experiment.run_experiment` in a worker thread (JAX releases the GIL
while it computes, so predictions keep being answered), at most `concurrent_trainings` at a
time, the others queued in order. Progress comes from a Keras callback as numbered events
that any number of listeners read (server-sent events). A cancelled training stops at its next
progress step and leaves an unfinished run folder, which `fashion-mlp train --resume` continues.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import keras

from fashion_mlp.config import ExperimentConfig
from fashion_mlp.errors import ConfigError
from fashion_mlp.experiment import run_experiment
from fashion_mlp.run_names import preset_config
from fashion_mlp.serve.limits import check_training_size
from fashion_mlp.serve.redact import redacted
from fashion_mlp.serve.settings import ServeSettings

# Config keys a client may not set: they name files on the server or code to import.
SERVER_ONLY_KEYS = {("data", "name"), ("data", "data_dir"), ("model", "user_model")}
FINISHED_STATES = ("finished", "failed", "cancelled")
KEPT_JOBS = 50  # finished jobs remembered for listing; older ones are forgotten


class TrainingCancelled(Exception):
    """Raised inside training by the progress callback when the job is cancelled."""


@dataclass
class Job:
    id: str
    config: ExperimentConfig
    status: str = "queued"
    run: str | None = None
    error: str | None = None
    test_accuracy: float | None = None
    created: float = field(default_factory=time.time)
    events: list[dict[str, Any]] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_event(self, kind: str, status: str | None = None, **values: Any) -> None:
        """Append an event (and set the status with it, so listeners never see one alone)."""
        with self.lock:
            if status is not None:
                self.status = status
            self.events.append({"id": len(self.events), "type": kind, **values})

    def events_since(self, first: int) -> tuple[list[dict[str, Any]], bool]:
        """Events numbered `first` and later, and whether the job has ended."""
        with self.lock:
            return self.events[first:], self.status in FINISHED_STATES

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "name": self.config.name,
            "run": self.run,
            "epochs": self.config.training.epochs,
            "error": self.error,
            "test_accuracy": self.test_accuracy,
            "created": self.created,
        }


def finite(value: Any) -> float | None:
    """A float for JSON, or None for NaN, infinity and non-numbers."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def plain_logs(logs: dict | None) -> dict[str, float | None]:
    return {key: finite(value) for key, value in (logs or {}).items() if finite(value) is not None}


class ProgressEvents(keras.callbacks.Callback):
    """Turns training progress into a job's events; raises TrainingCancelled once cancelled."""

    def __init__(self, job: Job, interval_s: float):
        super().__init__()
        self.job, self.interval_s, self.last = job, interval_s, 0.0

    def check_cancelled(self) -> None:
        if self.job.cancelled.is_set():
            raise TrainingCancelled

    def on_train_begin(self, logs=None):
        params = self.params or {}
        self.job.add_event("start", epochs=params.get("epochs"), steps=params.get("steps"))

    def on_epoch_begin(self, epoch, logs=None):
        self.check_cancelled()
        self.job.add_event("epoch_begin", epoch=epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        self.check_cancelled()
        now = time.monotonic()
        if now - self.last >= self.interval_s:
            self.last = now
            steps = (self.params or {}).get("steps")
            self.job.add_event("step", step=batch + 1, steps=steps, logs=plain_logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self.job.add_event("epoch", epoch=epoch + 1, logs=plain_logs(logs))
        self.check_cancelled()


def training_config(settings: ServeSettings, preset_name: str, overrides: dict) -> ExperimentConfig:
    """The preset, then the client's overrides, then the server's data set: validated, and
    named as the CLI names runs (`preset_config`: the client's name, else the preset's while
    its model is unchanged, else the model's, e.g. 'mlp-256-128-relu').

    Raises:
        ConfigError: for an unknown preset, a bad value, a key only the server may set, or a
            training larger than the server's limits.
    """
    for section, key in SERVER_ONLY_KEYS:
        table = overrides.get(section)
        if isinstance(table, dict) and key in table:
            raise ConfigError(
                f"{section}.{key} cannot be set over HTTP: the server chooses files and code "
                "(start the server with --data/--data-dir, or train with the CLI)"
            )
    server_data = {
        key: value
        for key, value in (("name", settings.data_name), ("data_dir", settings.data_dir))
        if value is not None
    }
    config = preset_config(preset_name, overrides, {"data": server_data})
    check_training_size(config, settings)
    return config


class Trainings:
    """The server's training queue and its worker threads."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.waiting: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()
        self.workers = [
            threading.Thread(target=self.work, name=f"training-{index}", daemon=True)
            for index in range(max(1, settings.concurrent_trainings))
        ]
        for worker in self.workers:
            worker.start()

    def submit(self, config: ExperimentConfig) -> Job | None:
        """The new queued job, or None when the queue is full."""
        with self.lock:
            queued = sum(job.status == "queued" for job in self.jobs.values())
            if queued >= self.settings.max_queued_trainings:
                return None
            job = Job(uuid.uuid4().hex[:12], config)
            self.jobs[job.id] = job
            self.forget_old()
        job.add_event("queued", position=queued + 1)
        self.waiting.put(job)
        return job

    def forget_old(self) -> None:
        ended = [key for key, job in self.jobs.items() if job.status in FINISHED_STATES]
        for key in ended[: max(0, len(self.jobs) - KEPT_JOBS)]:
            del self.jobs[key]

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def list(self) -> list[Job]:
        with self.lock:
            return list(self.jobs.values())

    def cancel(self, job: Job) -> None:
        job.cancelled.set()
        with job.lock:
            queued = job.status == "queued"
        if queued:  # a running job ends itself at its next step
            job.add_event("cancelled", status="cancelled", run=None)

    def work(self) -> None:
        while (job := self.waiting.get()) is not None:
            if job.cancelled.is_set():
                continue
            self.train(job)

    def train(self, job: Job) -> None:
        with job.lock:
            job.status = "running"

        def on_start(run_dir, model, config):
            job.run = run_dir.name
            job.add_event("run", run=job.run)

        callback = ProgressEvents(job, self.settings.progress_interval_s)
        try:
            result = run_experiment(
                job.config, self.settings.runs_dir, callbacks=[callback], on_start=on_start
            )
        except TrainingCancelled:
            self.end(job, "cancelled", run=job.run)
        except Exception as error:  # a training's failure is the job's, never the server's
            job.error = redacted(f"{type(error).__name__}: {error}", self.settings)
            self.end(job, "failed", error=job.error, run=job.run)
        else:
            job.test_accuracy = finite(result.metrics.get("test_accuracy"))
            self.end(job, "finished", run=job.run, test_accuracy=job.test_accuracy)

    def end(self, job: Job, status: str, **values: Any) -> None:
        job.add_event(status, status=status, **values)

    def close(self) -> None:
        """Cancel every job and stop the workers (the server is shutting down)."""
        for job in self.list():
            job.cancelled.set()
        for _ in self.workers:
            self.waiting.put(None)
