"""The HTTP API of `fashion-mlp serve`, through FastAPI's TestClient: every endpoint, every
error path (bad and huge images, unknown runs, path traversal, tokens), and trainings."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from serve_fixtures import (
    copy_run,
    make_run,
    oversized_png,
    photo_bytes,
    png_bytes,
    serve_dataset,
    wedge_photo_bytes,
)

from fashion_mlp.cli import main
from fashion_mlp.images import load_image_bytes
from fashion_mlp.inference.predict_inputs import predict_inputs
from fashion_mlp.inference.predictor import Predictor
from fashion_mlp.runs import list_runs
from fashion_mlp.serve import ServeSettings, create_app
from fashion_mlp.subsets import load_run_data

TOKEN = "a-test-token-0123456789"
pytestmark = pytest.mark.xdist_group("serve-api")  # one worker: one set of runs and one app


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two finished runs, the data folder, and a client of a server over them."""
    root = tmp_path_factory.mktemp("serve")
    data_folder = serve_dataset(root / "data")
    runs_dir = root / "runs"
    first = make_run(runs_dir, data_folder, "first", hidden=(16,), epochs=2)
    second = copy_run(first, "second", {"model": {"hidden": [8]}, "training": {"seed": 1}})
    (root / "secret.txt").write_text("not for the web")
    (runs_dir / "escape").symlink_to(root, target_is_directory=True)
    settings = ServeSettings(
        runs_dir=runs_dir,
        data_name=str(data_folder),
        max_request_bytes=2 * 2**20,
        max_upload_bytes=2**20,
    )
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8000")
    return {
        "client": client,
        "runs_dir": runs_dir,
        "data": data_folder,
        "root": root,
        "first": first,
        "second": second,
    }


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str) and body["error"]
    return body["error"]


# runs


def test_health_and_docs(served):
    client = served["client"]
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/runs/{run_id}/predict" in paths and "/api/trainings/{job_id}/events" in paths


def test_runs_are_listed_as_the_runs_command_lists_them(served):
    client = served["client"]
    listed = client.get("/api/runs", params={"sort": "test_accuracy", "descending": True}).json()
    expected = json.loads(json.dumps(list_runs(served["runs_dir"], "test_accuracy", True)))
    assert [row["name"] for row in listed] == [row["name"] for row in expected]
    for row, plain in zip(listed, expected, strict=True):  # the page's facts come on top
        assert {key: row[key] for key in plain} == plain
    assert {"first", "second"} <= {row["name"] for row in listed}  # other tests add damaged ones
    assert "sort" in error_of(client.get("/api/runs", params={"sort": "nope"}), 422)


def test_one_run_its_files_figures_and_report(served):
    client, run = served["client"], served["first"]
    overview = client.get("/api/runs/first").json()
    assert overview["figures"] == ["learning_curves.png"] and overview["report"] is True
    assert client.get("/api/runs/first/config").json() == run.read_config_table()
    assert client.get("/api/runs/first/metrics").json()["class_names"][0] == "T-shirt/top"
    assert len(client.get("/api/runs/first/history").json()["loss"]) == 2
    figure = client.get("/api/runs/first/figures/learning_curves.png")
    assert figure.status_code == 200 and figure.content.startswith(b"\x89PNG")
    report = client.get("/api/runs/first/report")
    assert report.status_code == 200 and "<html" in report.text.lower()
    assert "no figure" in error_of(client.get("/api/runs/first/figures/missing.png"), 404)


# Sent as URL path segments (a client resolves a bare `..` itself; see the next test for those).
TRAVERSALS = [
    "...",
    "%2e%2e",
    "..%2F..%2Fetc%2Fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "%2Fetc%2Fpasswd",
    "%2e%2e%2fsecret.txt",
    "first%2F..%2F..%2Fsecret.txt",
    "escape",
    "first%00",
    "..%5C..%5Csecret.txt",
    "~root",
    "%252e%252e",
]


@pytest.mark.parametrize("run_id", TRAVERSALS)
def test_run_ids_cannot_leave_the_runs_folder(served, run_id):
    client = served["client"]
    for suffix in ("", "/config", "/report", "/figures/learning_curves.png", "/test"):
        response = client.get(f"/api/runs/{run_id}{suffix}")
        assert response.status_code == 404, (run_id, suffix, response.text)
        assert "not for the web" not in response.text and "root:" not in response.text


@pytest.mark.parametrize(
    "run_id",
    [
        "..",
        ".",
        "",
        "../secret.txt",
        "/etc/passwd",
        "first/../..",
        "..\\..",
        "escape",
        "a\x00b",
        "first/",
        " first",
        "x" * 300,
    ],
)
def test_resolve_run_refuses_every_id_that_is_not_a_run_folder_inside(served, run_id):
    from fashion_mlp.serve.errors import ApiError
    from fashion_mlp.serve.paths import resolve_run

    with pytest.raises(ApiError) as raised:
        resolve_run(served["runs_dir"].resolve(), run_id)
    assert raised.value.status == 404
    assert resolve_run(served["runs_dir"].resolve(), "first").name == "first"


def test_paths_outside_the_api_are_not_served(served):
    client = served["client"]
    for path in (
        "/static/../../secret.txt",
        "/static/%2e%2e/%2e%2e/secret.txt",
        "/api/runs/first/figures/..%2Fconfig.toml",
        "/etc/passwd",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "not for the web" not in response.text


def test_compare_two_runs(served):
    client = served["client"]
    result = client.get("/api/compare", params={"run": ["first", "second"]}).json()
    assert result["settings"]["model.hidden"] == [[16], [8]]
    assert result["settings"]["training.seed"] == [0, 1]
    assert [row["run"] for row in result["rows"]] == ["first", "second"]
    assert set(result["histories"]) == {"first", "second"}
    assert "2 to 8 runs" in error_of(client.get("/api/compare", params={"run": "first"}), 422)
    assert error_of(client.get("/api/compare", params={"run": ["first", ".."]}), 404)


# predictions


def test_an_uploaded_photo_is_classified_as_the_library_classifies_it(served):
    client = served["client"]
    content = photo_bytes()
    response = client.post("/api/runs/first/predict", files={"files": ("band.png", content)})
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    expected = Predictor.load(served["first"]).predict_proba(load_image_bytes(content))[0]
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-5)
    assert result["top"][0]["class"] == response.json()["classes"][int(np.argmax(expected))]
    assert np.array(result["pixels"]).shape == (28, 28)
    assert len(result["top"]) == 3 and sum(result["probabilities"]) == pytest.approx(1, abs=1e-4)


def test_many_files_each_get_a_result_or_their_error(served):
    client = served["client"]
    files = [
        ("files", ("a.png", photo_bytes())),
        ("files", ("notes.txt", b"hello")),
        ("files", ("b.png", photo_bytes())),
    ]
    results = client.post("/api/runs/first/predict?k=2&pixels=false", files=files).json()["results"]
    assert [("error" in item) for item in results] == [False, True, False]
    assert "not an image" in results[1]["error"] and "pixels" not in results[0]
    assert len(results[0]["top"]) == 2


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"not an image at all", 422, "not an image Pillow can read"),
        (b"", 422, "empty"),
        (png_bytes(np.zeros((28, 28))), 422, "no object found"),
        (photo_bytes()[:60], 422, "truncated"),
        (oversized_png(), 413, "too large to decode"),
        (oversized_png(8_000, 7_000), 413, "too large to decode"),
    ],
    ids=["text", "empty", "blank", "cut", "bomb", "over-50-megapixels"],
)
def test_bad_images_are_refused_with_the_reason(served, content, status, message):
    response = served["client"].post("/api/runs/first/predict", files={"files": ("x.png", content)})
    assert message in error_of(response, status)


def test_size_limits_on_requests_uploads_and_counts(served):
    client = served["client"]
    big = b"\x00" * (3 * 2**20)
    assert "larger than the limit" in error_of(
        client.post("/api/runs/first/predict", files={"files": ("big.png", big)}), 413
    )
    upload = photo_bytes() + b"\x00" * (2**20 + 10)  # under the request limit, over one file's
    assert "larger than" in error_of(
        client.post("/api/runs/first/predict", files={"files": ("big.png", upload)}), 413
    )
    many = [("files", (f"{index}.png", b"x")) for index in range(65)]
    assert "at most 64" in error_of(client.post("/api/runs/first/predict", files=many), 413)


def test_predict_errors_for_unknown_runs_and_bad_parameters(served):
    client = served["client"]
    files = {"files": ("a.png", photo_bytes())}
    assert "no run" in error_of(client.post("/api/runs/nope/predict", files=files), 404)
    assert "k=11" in error_of(client.post("/api/runs/first/predict?k=11", files=files), 422)
    assert error_of(client.post("/api/runs/first/predict"), 422)
    garbage = client.post(
        "/api/runs/first/predict",
        content=b"--x\r\n\r\n",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert error_of(garbage, 400)  # malformed, not merely invalid


def test_pixel_arrays_in_json(served):
    client = served["client"]
    data = load_run_data(served["first"].read_config().data)
    images = data.x_test[:3]
    response = client.post("/api/runs/first/predict/pixels", json={"images": images.tolist()})
    assert response.status_code == 200, response.text
    expected = Predictor.load(served["first"]).predict_proba(images)
    got = [item["probabilities"] for item in response.json()["results"]]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_photos_and_drawings_are_averaged_with_their_mirror_as_predict_does(served, tmp_path):
    """On a run whose validation chose mirror averaging, a photo gets the answer `fashion-mlp
    predict` gives it, uploaded or as pixels (a drawing); a test image is never mirrored."""
    run = copy_run(served["first"], "mirrored", {})
    scores = {"validation_plain": 0.5, "validation_averaged": 0.6, "average_photos": True}
    run.write_metrics(run.read_metrics() | {"mirror": scores})
    photo = tmp_path / "wedge.png"
    photo.write_bytes(wedge_photo_bytes())
    _, (expected,) = predict_inputs(run.path, files=[photo])
    plain = Predictor.load(run).predict_proba(expected.pixels)[0]
    assert not np.allclose(expected.probabilities, plain, atol=1e-3)  # the mirror matters here
    client = served["client"]
    upload = client.post(
        "/api/runs/mirrored/predict", files={"files": ("w.png", photo.read_bytes())}
    )
    drawing = client.post(
        "/api/runs/mirrored/predict/pixels", json={"images": [expected.pixels.tolist()]}
    )
    for response in (upload, drawing):
        assert response.status_code == 200, response.text
        got = response.json()["results"][0]["probabilities"]
        np.testing.assert_allclose(got, expected.probabilities, atol=1e-5)
    test_image = client.get("/api/runs/mirrored/test/images/0").json()
    (test_expected,) = predict_inputs(run.path, test_indices=[0])[1]
    np.testing.assert_allclose(test_image["probabilities"], test_expected.probabilities, atol=1e-5)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ([[[0] * 28] * 27], "expected (28, 28)"),
        ([[[300] * 28] * 28], "from 0 to 255"),
        ([[[-1] * 28] * 28], "from 0 to 255"),
        ([[[0.5] * 28] * 28], "whole numbers"),
        ([[["a"] * 28] * 28], "non-numeric"),
        ([[[0] * 28] * 28, [[0] * 28]], "ragged"),
        ([], "no images"),
        ("x", "valid list"),
    ],
    ids=["shape", "high", "negative", "fraction", "strings", "ragged", "none", "not-a-list"],
)
def test_bad_pixel_arrays_are_422(served, images, message):
    response = served["client"].post("/api/runs/first/predict/pixels", json={"images": images})
    assert message in error_of(response, 422)


def test_invalid_json_is_422(served):
    response = served["client"].post(
        "/api/runs/first/predict/pixels",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert error_of(response, 422)


# the test set


def test_test_set_summary_and_images(served):
    client = served["client"]
    summary = client.get("/api/runs/first/test").json()
    matrix = np.array(summary["confusion_matrix"])
    assert matrix.sum() == summary["num_test"] == 200
    assert summary["test_accuracy"] == pytest.approx(np.trace(matrix) / 200)
    assert len(summary["per_class"]) == 10

    by_class = client.get("/api/runs/first/test/images", params={"true": 3, "limit": 5}).json()
    assert by_class["total"] == matrix[3].sum() and all(i["label"] == 3 for i in by_class["items"])

    mistakes = client.get("/api/runs/first/test/mistakes", params={"limit": 200}).json()
    assert mistakes["total"] == 200 - np.trace(matrix) > 0
    confidences = [item["confidence"] for item in mistakes["items"]]
    assert confidences == sorted(confidences, reverse=True)
    assert all(item["label"] != item["predicted"] for item in mistakes["items"])

    true, predicted = np.argwhere(matrix - np.diag(np.diag(matrix)))[0]
    cell = client.get(f"/api/runs/first/test/confusion/{true}/{predicted}").json()
    assert cell["total"] == matrix[true, predicted]
    assert all((i["label"], i["predicted"]) == (true, predicted) for i in cell["items"])

    one = client.get("/api/runs/first/test/images/7").json()
    data = load_run_data(served["first"].read_config().data)
    assert one["pixels"] == data.x_test[7].tolist() and one["label"] == int(data.y_test[7])
    png = client.get("/api/runs/first/test/images/7/png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_test_set_errors(served):
    client = served["client"]
    assert "has 200" in error_of(client.get("/api/runs/first/test/images/200"), 404)
    assert error_of(client.get("/api/runs/first/test/images/-1/png"), 404)
    assert "true=10" in error_of(client.get("/api/runs/first/test/images?true=10"), 422)
    assert "at most 200" in error_of(client.get("/api/runs/first/test/images?limit=999"), 422)
    assert error_of(client.get("/api/runs/first/test/images?sort=random"), 422)
    assert error_of(client.get("/api/runs/first/test/images/abc"), 422)


# tokens


def test_a_token_guards_every_request(served):
    settings = ServeSettings(runs_dir=served["runs_dir"], token=TOKEN)
    client = TestClient(create_app(settings), follow_redirects=False)
    for path in ("/", "/health", "/api/runs", "/static/app.js", "/docs"):
        assert "needs its token" in error_of(client.get(path), 401)
    assert error_of(client.get("/health", headers={"Authorization": "Bearer wrong"}), 401)
    assert error_of(client.get("/health", headers={"Authorization": f"Basic {TOKEN}"}), 401)
    stranger = TestClient(client.app, cookies={"fashion_mlp_token": "wrong"})
    assert error_of(stranger.get("/health"), 401)
    assert error_of(client.get("/?token=wrong"), 401)
    bearer = client.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200

    visit = client.get(f"/?token={TOKEN}")
    assert visit.status_code == 303 and visit.headers["location"] == "/"
    assert "HttpOnly" in visit.headers["set-cookie"]
    assert client.get("/api/runs").status_code == 200  # the cookie now rides along
    assert client.get("/").status_code == 200


def test_without_a_token_only_loopback_host_names_are_answered(served):
    app = served["client"].app
    for host in ("localhost:8000", "127.0.0.1", "[::1]:8000"):
        assert TestClient(app, base_url=f"http://{host}").get("/health").status_code == 200
    for host in ("attacker.example", "127.0.0.1.attacker.example:8000", "localhost.evil"):
        rebound = TestClient(app, base_url=f"http://{host}")
        assert "is not this machine" in error_of(rebound.get("/api/runs"), 400)


def test_serve_refuses_other_addresses_without_a_token(capsys):
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--token" in capsys.readouterr().err
    assert main(["serve", "--host", "192.168.1.5", "--token", "short"]) == 2
    assert "at least 16" in capsys.readouterr().err


# trainings


def events_of(client, job_id: str) -> list[dict]:
    with client.stream("GET", f"/api/trainings/{job_id}/events") as stream:
        text = "".join(stream.iter_text())
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def wait_for(predicate, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow  # a training through the server
def test_a_training_runs_with_live_events_and_predictions_go_on(served):
    client = served["client"]
    body = {"preset": "smoke", "name": "from-api", "overrides": {"training": {"epochs": 2}}}
    job = client.post("/api/trainings", json=body)
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    assert job.json()["config"]["data"]["name"] == str(served["data"])  # the server's data

    wait_for(lambda: client.get(f"/api/trainings/{job_id}").json()["status"] != "queued")
    started = time.perf_counter()
    files = {"files": ("a.png", photo_bytes())}
    assert client.post("/api/runs/first/predict", files=files).status_code == 200
    assert time.perf_counter() - started < 5  # answered while training, not after it

    events = events_of(client, job_id)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "queued" and kinds[-1] == "finished", kinds
    assert {"start", "run", "epoch_begin", "epoch"} <= set(kinds)
    epochs = [event for event in events if event["type"] == "epoch"]
    assert [event["epoch"] for event in epochs] == [1, 2] and "loss" in epochs[0]["logs"]
    assert [event["id"] for event in events] == list(range(len(events)))
    run_name = events[-1]["run"]
    assert (
        run_name.endswith("from-api") and (served["runs_dir"] / run_name / "model.keras").is_file()
    )
    resumed = client.get(f"/api/trainings/{job_id}/events", headers={"Last-Event-ID": "2"})
    assert resumed.text.count("data: ") == len(events) - 3


def test_trainings_queue_one_at_a_time_and_cancel(served):
    client = served["client"]
    long = {"preset": "smoke", "overrides": {"training": {"epochs": 500}}}
    first = client.post("/api/trainings", json=long).json()["id"]
    second = client.post("/api/trainings", json=long).json()["id"]
    wait_for(lambda: client.get(f"/api/trainings/{first}").json()["status"] == "running")
    assert client.get(f"/api/trainings/{second}").json()["status"] == "queued"
    assert client.delete(f"/api/trainings/{second}").json()["status"] == "cancelled"
    events = lambda: client.get(f"/api/trainings/{first}").json()["events"]  # noqa: E731
    wait_for(lambda: any(event["type"] == "run" for event in events()))  # its folder exists
    client.delete(f"/api/trainings/{first}")
    kinds = [event["type"] for event in events_of(client, first)]
    assert kinds[-1] == "cancelled" and "finished" not in kinds
    assert client.get(f"/api/trainings/{second}").json()["events"][-1]["type"] == "cancelled"
    assert "no training" in error_of(client.delete("/api/trainings/nope"), 404)
    assert error_of(client.get("/api/trainings/nope/events"), 404)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"preset": "nope"}, "preset 'nope' is unknown"),
        ({"overrides": {"training": {"epochs": 0}}}, "epochs"),
        ({"overrides": {"data": {"data_dir": "/etc"}}}, "cannot be set over HTTP"),
        ({"overrides": {"data": {"name": "/etc"}}}, "cannot be set over HTTP"),
        ({"overrides": {"model": {"user_model": "/tmp/x.py:f"}}}, "cannot be set over HTTP"),
        ({"overrides": {"bogus": 1}}, "bogus"),
        ({"overrides": "x"}, "valid dictionary"),
    ],
    ids=["preset", "epochs", "data-dir", "data-name", "user-model", "unknown-key", "not-a-table"],
)
def test_bad_training_requests_are_422(served, body, message):
    assert message in error_of(served["client"].post("/api/trainings", json=body), 422)


def test_the_presets_are_offered(served):
    presets = served["client"].get("/api/presets").json()
    assert {"notebook", "smoke"} <= set(presets)
    assert presets["smoke"]["training"]["epochs"] == 2


def test_the_page_and_its_files_are_served(served):
    client = served["client"]
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN: nothing from elsewhere
    for name in ("app.js", "app.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_load_image_bytes_matches_load_image(tmp_path: Path):
    path = tmp_path / "photo.png"
    path.write_bytes(photo_bytes())
    from fashion_mlp.images import load_image

    np.testing.assert_array_equal(load_image_bytes(path.read_bytes()), load_image(path))


def test_a_figure_linked_from_outside_the_run_is_not_served(served):
    run = served["first"]
    (run.path / "leak.png").symlink_to(served["root"] / "secret.txt")
    try:
        response = served["client"].get("/api/runs/first/figures/leak.png")
        assert "no figure" in error_of(response, 404)
        assert "not for the web" not in response.text
    finally:
        (run.path / "leak.png").unlink()


def test_a_report_linked_from_outside_the_run_is_not_served(served):
    linked = served["runs_dir"] / "linked"
    linked.mkdir()
    (linked / "config.toml").write_text('name = "linked"\n')
    (linked / "report.html").symlink_to(served["root"] / "secret.txt")
    response = served["client"].get("/api/runs/linked/report")
    assert "no report.html" in error_of(response, 404)
    assert "not for the web" not in response.text


def test_a_damaged_run_is_a_409_naming_the_problem(served):
    damaged = served["runs_dir"] / "damaged"
    damaged.mkdir()
    (damaged / "config.toml").write_text('name = "damaged"\n')
    (damaged / "metrics.json").write_text("{not json")
    client = served["client"]
    assert "corrupt" in error_of(client.get("/api/runs/damaged/metrics"), 409)
    files = {"files": ("a.png", photo_bytes())}
    assert "damaged" in error_of(client.post("/api/runs/damaged/predict", files=files), 409)
    statuses = {row["name"]: row["status"] for row in client.get("/api/runs").json()}
    assert statuses["damaged"] == "damaged"


def test_an_unexpected_error_is_a_json_500_and_the_server_goes_on(served, monkeypatch):
    client_app = served["client"].app
    client = TestClient(client_app, base_url="http://localhost", raise_server_exceptions=False)

    def broken(run):
        raise RuntimeError("a bug")

    monkeypatch.setattr(client_app.state.context.warm, "predictor", broken)
    monkeypatch.setattr(client_app.state.context.warm, "loaded_predictor", lambda run: None)
    files = {"files": ("a.png", photo_bytes())}
    response = client.post("/api/runs/first/predict", files=files)
    assert "internal error (RuntimeError)" in error_of(response, 500)
    monkeypatch.undo()
    assert client.post("/api/runs/first/predict", files=files).status_code == 200
