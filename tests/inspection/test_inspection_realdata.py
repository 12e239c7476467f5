"""On the real Fashion-MNIST: completeness of the attributions on the notebook's network and a
batch-norm network, and the map's neighbourhoods of the notebook preset's run (slow)."""

from __future__ import annotations

import pytest

from fashion_mlp.config import build_config
from fashion_mlp.experiment import run_experiment
from fashion_mlp.inspection.attributions import integrated_gradients
from fashion_mlp.inspection.embedding import run_map
from fashion_mlp.inspection.network import Network
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.realdata
MAP_KNN_ACCURACY = 0.83  # the issue's goal for the 10,000 test images' map


def trained_run(tmp_path_factory, epochs: int, model: dict | None = None):
    config = build_config({"training": {"epochs": epochs}, "model": model or {}})  # notebook
    return run_experiment(config, tmp_path_factory.mktemp("runs"))


@pytest.mark.parametrize(
    "model",
    [{}, {"hidden": [64, 32], "activation": "relu", "batch_norm": True}],
    ids=["notebook", "batch-norm"],
)
def test_attributions_are_complete_within_1_percent(real_data, tmp_path_factory, model):
    run = trained_run(tmp_path_factory, 1, model)
    explained = integrated_gradients(Network.load(run.run_dir), real_data.x_test[:256])
    assert explained.completeness_error.max() <= 0.01


@pytest.mark.slow
def test_the_notebook_runs_map_keeps_its_neighbourhoods(real_data, tmp_path_factory):
    test_map, cached = run_map(RunDir(trained_run(tmp_path_factory, 10).run_dir))
    assert not cached
    assert len(test_map.x) == 10_000
    assert test_map.knn_accuracy >= MAP_KNN_ACCURACY
