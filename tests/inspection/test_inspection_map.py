"""The map of the test set: computed, cached in the run folder and reused, recomputed for a new
model or a damaged file, new images placed on it; a run's damaged files are clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from inspection_models import finished_run

from fashion_mlp.errors import RunError
from fashion_mlp.inspection.embedding import MAP_FILE, Placer, knn_accuracy, run_map, unit_square
from fashion_mlp.inspection.network import Network
from fashion_mlp.subsets import load_run_data

pytestmark = pytest.mark.slow  # t-SNE of a test set per module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("map"))


@pytest.fixture(scope="module")
def mapped(run):
    return run_map(run)


def test_the_map_has_a_point_per_test_image_in_the_unit_square(run, mapped):
    test_map, cached = mapped
    assert not cached
    data = load_run_data(run.read_config().data)
    assert test_map.points.shape == (len(data.x_test), 2)
    assert test_map.points.min() >= 0 and test_map.points.max() <= 1
    np.testing.assert_array_equal(test_map.labels, data.y_test)
    assert test_map.layer == "dense_2"
    assert 0.5 < test_map.knn_accuracy <= 1  # a learnable set: its classes form clusters
    assert ((test_map.confidence > 0) & (test_map.confidence <= 1)).all()


def test_the_map_is_cached_and_reused(run, mapped):
    written = (run.path / MAP_FILE).stat().st_mtime_ns
    again, cached = run_map(run)
    assert cached
    assert (run.path / MAP_FILE).stat().st_mtime_ns == written
    np.testing.assert_allclose(again.points, mapped[0].points, atol=1e-5)
    assert again.knn_accuracy == mapped[0].knn_accuracy


def test_a_map_of_another_model_or_a_damaged_map_is_computed_again(run, mapped):
    table = json.loads((run.path / MAP_FILE).read_text())
    (run.path / MAP_FILE).write_text(json.dumps(table | {"model_sha256": "0" * 64}))
    assert not run_map(run)[1]
    (run.path / MAP_FILE).write_text('{"format": 1, "x": [')
    assert not run_map(run)[1]
    assert run_map(run)[1]


def test_a_test_image_is_placed_at_its_own_point(run, mapped):
    test_map = mapped[0]
    test_images = load_run_data(run.read_config().data).x_test
    placed = Placer(Network.load(run), test_map, test_images).place(test_images[:5])
    np.testing.assert_allclose(placed, test_map.points[:5], atol=1e-3)


def test_knn_accuracy_of_separated_clusters_is_one():
    points = np.concatenate([np.zeros((50, 2)), np.ones((50, 2))]) + np.random.default_rng(
        0
    ).normal(0, 0.01, (100, 2))
    assert knn_accuracy(points, np.repeat([0, 1], 50)) == 1.0


def test_unit_square_keeps_the_aspect_ratio():
    square = unit_square(np.array([[0.0, 0.0], [4.0, 2.0]]))
    np.testing.assert_allclose(square, [[0, 0.25], [1, 0.75]])


def test_a_damaged_model_is_a_clear_error_and_the_run_is_left_as_it_was(run, mapped):
    model = run.model_path.read_bytes()
    try:
        run.model_path.write_bytes(b"not a zip")
        before = sorted(path.name for path in run.path.iterdir())
        with pytest.raises(RunError, match="model.keras could not be loaded"):
            run_map(run)
        assert sorted(path.name for path in run.path.iterdir()) == before
    finally:
        run.model_path.write_bytes(model)


def test_an_unfinished_run_is_a_clear_error(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(RunError, match="no model.keras|no metrics.json"):
        Network.load(tmp_path / "run")
