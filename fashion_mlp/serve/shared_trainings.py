"""Trainings shared by the server's worker processes: one process holds the queue and trains
(one at a time, as in a single-process server); every worker reaches it through a
multiprocessing manager on a private socket, and sees the same jobs and events."""

from __future__ import annotations

import os
import secrets
import tempfile
from contextlib import contextmanager
from multiprocessing import get_context
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from fashion_mlp.config import ExperimentConfig
from fashion_mlp.serve.app import create_app
from fashion_mlp.serve.jobs import Trainings
from fashion_mlp.serve.settings import ServeSettings

SETTINGS_ENV = "FASHION_MLP_SERVE_SETTINGS"  # the settings as JSON, for every process
ADDRESS_ENV = "FASHION_MLP_TRAININGS_ADDRESS"  # the training process's socket
KEY_ENV = "FASHION_MLP_TRAININGS_KEY"  # its authentication key, as hex
DESK: TrainingsDesk | None = None  # the training process's one desk (see shared_desk)


class TrainingsDesk:
    """The training queue seen through plain values, which is what crosses processes."""

    def __init__(self, settings: ServeSettings):
        self.trainings = Trainings(settings)

    def submit(self, config: ExperimentConfig) -> dict[str, Any] | None:
        job = self.trainings.submit(config)
        return None if job is None else job.summary()

    def summary(self, job_id: str) -> dict[str, Any] | None:
        job = self.trainings.get(job_id)
        return None if job is None else job.summary()

    def summaries(self) -> list[dict[str, Any]]:
        return [job.summary() for job in self.trainings.list()]

    def events_since(self, job_id: str, first: int) -> tuple[list[dict[str, Any]], bool]:
        job = self.trainings.get(job_id)
        return ([], True) if job is None else job.events_since(first)

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        job = self.trainings.get(job_id)
        if job is None:
            return None
        self.trainings.cancel(job)
        return job.summary()

    def close(self) -> None:
        self.trainings.close()


def shared_desk() -> TrainingsDesk:
    """The training process's one desk, made on the first call with the server's settings."""
    global DESK
    if DESK is None:
        DESK = TrainingsDesk(ServeSettings.from_json(os.environ[SETTINGS_ENV]))
    return DESK


class TrainingsManager(BaseManager):
    """The training process, and each worker's connection to it."""


TrainingsManager.register("desk", shared_desk)


class RemoteJob:
    """A job of the training process, as the routes use a Job: its summary and its events."""

    def __init__(self, desk, summary: dict[str, Any]):
        self.desk, self.id, self.latest = desk, summary["id"], summary

    @property
    def status(self) -> str:
        return self.latest["status"]

    def summary(self) -> dict[str, Any]:
        return self.latest

    def events_since(self, first: int) -> tuple[list[dict[str, Any]], bool]:
        return self.desk.events_since(self.id, first)


class RemoteTrainings:
    """A worker's view of the shared trainings, with the methods of Trainings that routes use."""

    def __init__(self, address: str, key: bytes):
        manager = TrainingsManager(address=address, authkey=key)
        manager.connect()
        self.desk = manager.desk()

    def submit(self, config: ExperimentConfig) -> RemoteJob | None:
        summary = self.desk.submit(config)
        return None if summary is None else RemoteJob(self.desk, summary)

    def get(self, job_id: str) -> RemoteJob | None:
        summary = self.desk.summary(job_id)
        return None if summary is None else RemoteJob(self.desk, summary)

    def list(self) -> list[RemoteJob]:
        return [RemoteJob(self.desk, summary) for summary in self.desk.summaries()]

    def cancel(self, job: RemoteJob) -> None:
        job.latest = self.desk.cancel(job.id) or job.latest

    def close(self) -> None:
        """Nothing to stop here: the training process ends with the server."""


def worker_app() -> FastAPI:
    """A worker process's app (uvicorn's factory): settings and trainings from the environment."""
    settings = ServeSettings.from_json(os.environ[SETTINGS_ENV])
    trainings = RemoteTrainings(os.environ[ADDRESS_ENV], bytes.fromhex(os.environ[KEY_ENV]))
    return create_app(settings, trainings)


@contextmanager
def training_process(settings: ServeSettings):
    """Start the training process, and tell it and the future worker processes (by their
    environment) the settings and where it listens."""
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory(prefix="fashion-mlp-serve-") as folder:
        address = str(Path(folder) / "trainings")
        os.environ.update(
            {SETTINGS_ENV: settings.to_json(), ADDRESS_ENV: address, KEY_ENV: key.hex()}
        )
        manager = TrainingsManager(address=address, authkey=key, ctx=get_context("spawn"))
        manager.start()
        desk = manager.desk()  # made now, before any worker asks
        try:
            yield
        finally:
            desk.close()
            manager.shutdown()
