"""The server's inside-the-model endpoints through FastAPI's TestClient: explanations of drawn,
uploaded and test images, first-layer weights, class means, the map; limits and errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from serve_fixtures import make_run, oversized_png, png_bytes, serve_dataset

from fashion_mlp.inspection.embedding import MAP_FILE
from fashion_mlp.inspection.network import Network
from fashion_mlp.inspection.weights import first_layer_weights
from fashion_mlp.serve import ServeSettings, create_app
from fashion_mlp.subsets import load_run_data

pytestmark = pytest.mark.xdist_group("serve-inside")  # one worker: one run and one app


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A finished run and a client of a server over it, with small limits."""
    root = tmp_path_factory.mktemp("inside")
    run = make_run(root / "runs", serve_dataset(root / "data"), "inside", hidden=(16, 8))
    settings = ServeSettings(runs_dir=root / "runs", max_upload_bytes=2**20, max_explained_images=3)
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8000")
    return {"client": client, "run": run, "url": "/api/runs/inside/inside"}


def drawings(served, count: int = 1) -> list:
    return load_run_data(served["run"].read_config().data).x_test[:count].tolist()


def test_drawn_images_are_explained(served):
    response = served["client"].post(
        f"{served['url']}/explain/pixels", json={"images": drawings(served, 2)}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["classes"]) == 10
    for result in body["results"]:
        attributions = np.asarray(result["attributions"])
        assert attributions.shape == (28, 28)
        change = result["explained"]["value"] - result["explained"]["baseline_value"]
        assert attributions.sum() == pytest.approx(change, rel=0.01, abs=0.01)
        assert [len(values) for values in result["activations"].values()] == [16, 8]
        assert sum(result["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert "map_point" not in result


def test_the_class_method_and_baseline_are_query_parameters(served):
    response = served["client"].post(
        f"{served['url']}/explain/pixels?class=Bag&method=gradient_x_input&baseline=10",
        json={"images": drawings(served)},
    )
    (result,) = response.json()["results"]
    assert result["explained"]["class"] == "Bag"
    assert result["explained"]["method"] == "gradient_x_input"
    assert result["baseline"] == {"grey_level": 10.0}


def test_an_uploaded_image_is_explained(served):
    image = np.asarray(drawings(served), dtype=np.uint8)[0]
    response = served["client"].post(
        f"{served['url']}/explain", files={"file": ("item.png", png_bytes(image), "image/png")}
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["name"] == "item.png"


def test_a_test_image_is_explained_with_its_label(served):
    response = served["client"].get(f"{served['url']}/test/7?steps=64")
    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    assert result["name"] == "test[7]" and 0 <= result["label"] < 10
    assert result["explained"]["steps"] == 64


def test_the_map_is_served_compactly_and_drawings_are_placed_on_it(served):
    response = served["client"].get(f"{served['url']}/map")
    assert response.status_code == 200, response.text
    body = response.json()
    count = len(load_run_data(served["run"].read_config().data).x_test)
    assert body["count"] == count
    for key in ("x", "y", "labels", "predicted", "confidence_permille"):
        assert len(body[key]) == count
    assert min(body["x"]) >= 0 and max(body["x"]) <= body["scale"]
    assert (served["run"].path / MAP_FILE).is_file()
    placed = served["client"].post(
        f"{served['url']}/explain/pixels?map=true", json={"images": drawings(served)}
    )
    point = placed.json()["results"][0]["map_point"]
    assert abs(point[0] - body["x"][0]) < 100 and abs(point[1] - body["y"][0]) < 100


def test_weights_are_quantised_images_of_the_most_important_units(served):
    response = served["client"].get(f"{served['url']}/weights?limit=4")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["units"] == 16 and sorted(body["order"]) == list(range(16))
    assert body["listed"] == body["order"][:4]
    images = np.asarray(body["images"])
    assert images.shape == (4, 784) and np.abs(images).max() == 127
    network = Network.load(served["run"])
    test_images = load_run_data(served["run"].read_config().data).x_test
    expected = first_layer_weights(network, test_images).images[body["listed"]].reshape(4, -1)
    restored = images * np.asarray(body["scale"])[:, None]
    np.testing.assert_allclose(restored, expected, atol=np.abs(expected).max() / 127)


def test_class_means_of_each_hidden_layer(served):
    body = served["client"].get(f"{served['url']}/activations/means").json()
    assert {name: np.shape(values) for name, values in body["layers"].items()} == {
        "dense_1": (10, 16),
        "dense_2": (10, 8),
    }


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("class=12", 422, "class '12'"),
        ("steps=0", 422, "steps=0"),
        ("method=saliency", 422, "query.method"),
        ("baseline=300", 422, "query.baseline"),
    ],
)
def test_bad_parameters_are_422_with_the_reason(served, query, status, message):
    response = served["client"].post(
        f"{served['url']}/explain/pixels?{query}", json={"images": drawings(served)}
    )
    assert response.status_code == status
    assert message in response.json()["error"]


def test_limits_and_errors_are_those_of_the_predict_endpoints(served):
    client, url = served["client"], served["url"]
    too_many = client.post(f"{url}/explain/pixels", json={"images": drawings(served, 4)})
    assert too_many.status_code == 413 and "at most 3" in too_many.json()["error"]
    assert client.post(f"{url}/explain/pixels", json={"images": []}).status_code == 422
    bad_pixels = client.post(f"{url}/explain/pixels", json={"images": [[[300] * 28] * 28]})
    assert bad_pixels.status_code == 422
    broken = client.post(f"{url}/explain", files={"file": ("x.png", b"nope", "image/png")})
    assert broken.status_code == 422
    huge = client.post(f"{url}/explain", files={"file": ("x.png", oversized_png(), "image/png")})
    assert huge.status_code == 413
    big = client.post(f"{url}/explain", files={"file": ("x.png", b"0" * (2**20 + 1), "image/png")})
    assert big.status_code == 413
    assert client.get(f"{url}/test/5000").status_code == 404
    assert client.get("/api/runs/nothing/inside/weights").status_code == 404


def test_every_endpoint_is_in_the_openapi_schema(served):
    paths = served["client"].get("/openapi.json").json()["paths"]
    for path in (
        "explain/pixels",
        "explain",
        "test/{index}",
        "weights",
        "activations/means",
        "map",
    ):
        assert f"/api/runs/{{run_id}}/inside/{path}" in paths
