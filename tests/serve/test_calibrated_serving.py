"""The server's predictions are calibrated by the run's temperature, raw on request, and a run
calibrated while the server runs is reloaded; its calibration is served as JSON."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from serve_fixtures import make_run, serve_dataset

from fashion_mlp.metrics import temperature_scaled
from fashion_mlp.serve import ServeSettings, create_app

TEMPERATURE = 2.0
IMAGES = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28)).tolist()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    data_folder = serve_dataset(root / "data")
    run = make_run(root / "runs", data_folder, "first")
    settings = ServeSettings(runs_dir=root / "runs", data_name=str(data_folder))
    return run, TestClient(create_app(settings), base_url="http://127.0.0.1:8000")


def probabilities(client, raw: bool) -> tuple[dict, np.ndarray]:
    response = client.post(
        f"/api/runs/first/predict/pixels?raw={str(raw).lower()}", json={"images": IMAGES}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return body, np.array([item["probabilities"] for item in body["results"]])


def test_predictions_are_calibrated_once_the_run_is_and_raw_on_request(served):
    run, client = served
    body, before = probabilities(client, raw=False)
    assert body["calibrated"] is False and body["temperature"] == 1.0
    assert client.get("/api/runs/first/calibration").json()["status"] == "uncalibrated"

    run.write_calibration({"temperature": TEMPERATURE})  # calibrated while being served
    body, calibrated = probabilities(client, raw=False)
    assert body["calibrated"] is True and body["temperature"] == TEMPERATURE
    np.testing.assert_allclose(calibrated, temperature_scaled(before, TEMPERATURE), atol=2e-6)
    np.testing.assert_array_equal(calibrated.argmax(axis=1), before.argmax(axis=1))
    body, raw = probabilities(client, raw=True)
    assert body["calibrated"] is False
    np.testing.assert_allclose(raw, before, atol=1e-6)
    assert client.get("/api/runs/first/calibration").json() == {"temperature": TEMPERATURE}


def test_the_raw_option_is_documented_in_openapi(served):
    paths = served[1].get("/openapi.json").json()["paths"]
    for path in ("/api/runs/{run_id}/predict", "/api/runs/{run_id}/predict/pixels"):
        parameters = {item["name"]: item for item in paths[path]["post"]["parameters"]}
        assert "model's own probabilities" in parameters["raw"]["description"]
    assert "/api/runs/{run_id}/calibration" in paths
