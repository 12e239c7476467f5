"""Hostile and oversized requests to `fashion-mlp serve` get a 4xx before any large work: trainings
over the size limits, malformed overrides and pixel values, huge or chunked bodies, foreign Host
names, server paths in errors, runs linked from outside the runs folder."""

from __future__ import annotations

import json
import shutil
import tracemalloc

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from serve_fixtures import make_run, photo_bytes, serve_dataset

from fashion_mlp.config import MLPSpec, build_config
from fashion_mlp.presets import preset
from fashion_mlp.serve import ServeSettings, create_app

pytestmark = pytest.mark.xdist_group("serve-limits")  # one worker: one set of runs and one app


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A finished run, a run linked in from outside the runs folder, and a client of a server."""
    root = tmp_path_factory.mktemp("limits")
    data_folder = serve_dataset(root / "data")
    runs_dir = root / "runs"
    first = make_run(runs_dir, data_folder, "first", hidden=(16,), epochs=1)
    outside = shutil.copytree(first.path, root / "outside")
    (runs_dir / "linked").symlink_to(outside, target_is_directory=True)
    (runs_dir / "damaged").mkdir()
    (runs_dir / "damaged" / "metrics.json").write_text("{not json")
    settings = ServeSettings(runs_dir=runs_dir, data_name=str(data_folder))
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8000")
    yield {"client": client, "root": root, "settings": settings}
    client.close()


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


# trainings


def test_the_parameter_count_is_keras_count():
    import numpy as np

    from fashion_mlp.datasets import FASHION_CLASSES, Dataset
    from fashion_mlp.models import build_model

    images, labels = np.zeros((10, 28, 28), np.uint8), np.arange(10)
    data = Dataset("zeros", images, labels, images, labels, FASHION_CLASSES)
    for spec in (MLPSpec(), MLPSpec(hidden=(40, 20), batch_norm=True)):
        assert spec.parameter_count == build_model(spec, data=data).count_params()


def test_a_training_over_the_parameter_limit_is_refused_naming_it(served):
    body = {"preset": "smoke", "overrides": {"model": {"hidden": [30_000]}}}
    message = error_of(served["client"].post("/api/trainings", json=body), 422)
    assert "23,851,579 parameters" in message and "max_training_parameters" in message


def test_a_training_over_the_memory_estimate_is_refused_naming_it(served):
    body = {"preset": "smoke", "overrides": {"training": {"batch_size": 1_000_000}}}
    message = error_of(served["client"].post("/api/trainings", json=body), 422)
    assert "max_training_memory_bytes" in message and "batch_size" in message


@pytest.mark.parametrize("section", ["x", [1], 3, None])
def test_an_override_section_must_be_a_table(served, section):
    body = {"preset": "smoke", "overrides": {"data": section}}
    assert "[data] must be a table" in error_of(
        served["client"].post("/api/trainings", json=body), 422
    )


# pixel values


def pixels_body(value: str) -> bytes:
    """A JSON body of one 28x28 image of zeros with `value` (JSON text) as its first pixel."""
    rows = [",".join(["0"] * 28)] * 28
    rows[0] = ",".join([value] + ["0"] * 27)
    return ('{"images": [[' + ",".join(f"[{row}]" for row in rows) + "]]}").encode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1" + "0" * 400, "finite numbers from 0 to 255"),
        ("1e400", "finite numbers from 0 to 255"),
        ("NaN", "finite numbers from 0 to 255"),
        ("256", "from 0 to 255"),
        ('"12"', "not strings or booleans"),
        ("true", "not strings or booleans"),
        ("null", "not strings or booleans"),
    ],
    ids=["10**400", "1e400", "nan", "256", "string", "boolean", "null"],
)
def test_pixel_values_outside_0_to_255_or_not_numbers_are_422(served, value, message):
    response = served["client"].post(
        "/api/runs/first/predict/pixels",
        content=pixels_body(value),
        headers={"content-type": "application/json"},
    )
    assert message in error_of(response, 422)


def peak_bytes(request) -> tuple[int, object]:
    """The response to `request()` and the most Python memory allocated while it ran."""
    tracemalloc.start()
    try:
        response = request()
        return tracemalloc.get_traced_memory()[1], response
    finally:
        tracemalloc.stop()


def test_a_huge_pixel_body_is_413_before_it_is_parsed(served):
    body = json.dumps({"images": [[[0] * 250_000] * 28]}).encode()  # 14 MB, a (28, 250000)
    peak, response = peak_bytes(
        lambda: served["client"].post(
            "/api/runs/first/predict/pixels",
            content=body,
            headers={"content-type": "application/json"},
        )
    )
    assert response.status_code == 413
    assert peak < 4 * served["settings"].max_json_bytes  # it was 330 MB


def test_a_pixel_body_of_the_wrong_shape_is_422_before_any_array(served):
    body = json.dumps({"images": [[[0] * 20_000] * 28]}).encode()  # under the limit: 1.7 MB
    peak, response = peak_bytes(
        lambda: served["client"].post(
            "/api/runs/first/predict/pixels",
            content=body,
            headers={"content-type": "application/json"},
        )
    )
    assert "expected (28, 28)" in error_of(response, 422)
    assert peak < 6.5 * len(body)  # 7.4 times when an array was made before the shape was checked


PART_HEAD = b'--x\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n'


def chunks(total: int, size: int = 2**16):
    """A request body of `total` bytes sent in chunks, so no Content-Length announces it: a
    file part that never ends (valid as far as it goes, for the multipart parser)."""
    yield PART_HEAD
    for start in range(len(PART_HEAD), total, size):
        yield b"0" * min(size, total - start)


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/api/runs/first/predict/pixels", "application/json", "max_json_bytes"),
        ("/api/runs/first/predict", "multipart/form-data; boundary=x", "max_request_bytes"),
    ],
    ids=["json", "multipart"],
)
def test_an_over_limit_chunked_body_is_413(served, path, content_type, limit):
    total = getattr(served["settings"], limit) + 1
    response = served["client"].post(
        path, content=chunks(total), headers={"content-type": content_type}
    )
    assert "larger than the limit" in error_of(response, 413)


def test_an_upload_still_works_under_the_limits(served):
    files = {"files": ("shirt.png", photo_bytes(), "image/png")}
    response = served["client"].post("/api/runs/first/predict", files=files)
    assert response.status_code == 200, response.text


# names


@pytest.mark.parametrize(
    "host", ["localhost:evil", "[::1]evil.com", "localhost.evil.com", "127.0.0.1:80:80", "[::1"]
)
def test_host_names_must_be_loopback_names_exactly(served, host):
    response = served["client"].get("/health", headers={"host": host})
    assert "is not this machine" in error_of(response, 400)


@pytest.mark.parametrize("host", ["localhost:8000", "[::1]:8000", "127.0.0.1", "[::1]", "::1"])
def test_loopback_host_names_are_answered(served, host):
    assert served["client"].get("/health", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("path", ["/api/runs/damaged/metrics", "/api/runs/damaged/predict/pixels"])
def test_client_errors_name_no_server_folder(served, path):
    client = served["client"]
    response = (
        client.post(path, json={"images": [[[0] * 28] * 28]})
        if "predict" in path
        else client.get(path)
    )
    assert 400 <= response.status_code < 500
    assert str(served["root"]) not in response.text and "damaged" in response.text


def test_runs_linked_from_outside_the_runs_folder_are_not_listed(served):
    names = [row["name"] for row in served["client"].get("/api/runs").json()]
    assert "first" in names and "linked" not in names
    assert served["client"].get("/api/runs/linked").status_code == 404


def test_training_config_sections_are_checked_in_every_layer():
    with pytest.raises(Exception, match=r"\[training\] must be a table"):
        build_config(preset("smoke"), {"training": "fast"}, {"training": {"epochs": 1}})
