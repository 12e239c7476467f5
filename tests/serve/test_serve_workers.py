"""Several server workers share one training process: a job submitted through one worker is
listed, followed and cancelled through another, and trainings still run one at a time."""

from __future__ import annotations

import os
import time

import pytest

pytest.importorskip("fastapi")
from serve_fixtures import serve_dataset

from fashion_mlp.serve import ServeSettings
from fashion_mlp.serve.jobs import FINISHED_STATES, training_config
from fashion_mlp.serve.shared_trainings import (
    ADDRESS_ENV,
    KEY_ENV,
    SETTINGS_ENV,
    RemoteTrainings,
    training_process,
)

pytestmark = pytest.mark.slow  # worker processes each import Keras

PATIENCE_S = 120  # how long the test waits for a training to end before it fails


def worker_view() -> RemoteTrainings:
    """What one worker process sees: the trainings through its own connection."""
    return RemoteTrainings(os.environ[ADDRESS_ENV], bytes.fromhex(os.environ[KEY_ENV]))


def test_every_worker_sees_the_same_trainings(tmp_path, monkeypatch):
    for name in (SETTINGS_ENV, ADDRESS_ENV, KEY_ENV):
        monkeypatch.setenv(name, "")  # restored after the test
    data_folder = serve_dataset(tmp_path / "data")
    settings = ServeSettings(runs_dir=tmp_path / "runs", data_name=str(data_folder))
    config = training_config(settings, "smoke", {"training": {"epochs": 50}})
    with training_process(settings):
        first, second = worker_view(), worker_view()
        running, waiting = first.submit(config), first.submit(config)
        assert [job.id for job in second.list()] == [running.id, waiting.id]
        assert second.get(waiting.id).status == "queued"  # one at a time
        for job in (waiting, running):
            second.cancel(second.get(job.id))
        deadline = time.monotonic() + PATIENCE_S
        while first.get(running.id).status not in FINISHED_STATES:
            assert time.monotonic() < deadline, "the cancelled training did not end"
            time.sleep(0.2)
        events, ended = first.get(running.id).events_since(0)
        assert ended and events[-1]["type"] == "cancelled"
        assert first.get(waiting.id).status == "cancelled"
