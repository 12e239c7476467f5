"""A training started over HTTP (or from the page's form) is named as the CLI names it: after the
preset only while the model is the preset's (issue 26)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from fashion_mlp.cli.options import config_from_args
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.serve import ServeSettings, create_app
from fashion_mlp.serve.jobs import Trainings

WIDE_RELU = {"model": {"hidden": [256, 128], "activation": "relu"}}


@pytest.fixture
def client(tmp_path, monkeypatch):
    """A server whose training threads take no job: only the names are looked at, and no
    training outlives the test (a patched run_experiment was undone before the thread
    called it, which trained for real in the background of later tests)."""
    monkeypatch.setattr(Trainings, "work", lambda self: None)
    return TestClient(create_app(ServeSettings(runs_dir=tmp_path)), base_url="http://127.0.0.1")


@pytest.mark.parametrize(
    ("body", "flags", "name"),
    [
        ({"preset": "smoke"}, ("--preset", "smoke"), "smoke"),
        (
            {"preset": "smoke", "overrides": {"training": {"epochs": 3}}},
            ("--preset", "smoke", "--epochs", "3"),
            "smoke",  # the preset's model: the preset's name
        ),
        (
            {"preset": "notebook", "overrides": {**WIDE_RELU, "optimizer": {"optimizer": "adam"}}},
            ("--hidden", "256", "128", "--activation", "relu", "--optimizer", "adam"),
            "mlp-256-128-relu",
        ),
        (
            {"preset": "smoke", "name": "mine", "overrides": WIDE_RELU},
            ("--preset", "smoke", "--hidden", "256", "128", "--name", "mine"),
            "mine",
        ),
    ],
    ids=["preset", "same-model", "changed-model", "named"],
)
def test_a_training_over_http_is_named_as_the_cli_names_it(client, body, flags, name):
    response = client.post("/api/trainings", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["name"] == response.json()["config"]["name"] == name
    listed = {job["id"]: job["name"] for job in client.get("/api/trainings").json()}
    assert listed[response.json()["id"]] == name
    assert config_from_args(build_parser().parse_args(["train", *flags])).name == name
