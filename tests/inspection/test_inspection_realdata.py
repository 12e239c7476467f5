"""On the real Fashion-MNIST: completeness of the attributions on the notebook's network and a
batch-norm network, by the library and by `fashion-mlp explain --json`, and the map's
neighbourhoods of the notebook preset's run (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashion_mlp.cli import main
from fashion_mlp.config import build_config
from fashion_mlp.experiment import run_experiment
from fashion_mlp.inspection.attributions import integrated_gradients
from fashion_mlp.inspection.embedding import run_map
from fashion_mlp.inspection.network import Network
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.realdata
MAP_KNN_ACCURACY = 0.83  # the issue's goal for the 10,000 test images' map
MODELS = {
    "notebook": {},
    "batch-norm": {"hidden": [64, 32], "activation": "relu", "batch_norm": True},
}


def trained_run(tmp_path_factory, epochs: int, model: dict | None = None):
    config = build_config({"training": {"epochs": epochs}, "model": model or {}})  # notebook
    return run_experiment(config, tmp_path_factory.mktemp("runs"), figures=False)


@pytest.fixture(scope="module", params=list(MODELS))
def one_epoch_run(request, real_data, tmp_path_factory) -> RunDir:
    """The notebook's network and a batch-norm one, each trained for an epoch, once a module."""
    return RunDir(trained_run(tmp_path_factory, 1, MODELS[request.param]).run_dir)


def test_attributions_are_complete_within_1_percent(real_data, one_epoch_run):
    explained = integrated_gradients(Network.load(one_epoch_run), real_data.x_test[:256])
    assert explained.completeness_error.max() <= 0.01


def test_explain_json_sums_each_attribution_to_the_change_within_1_percent(one_epoch_run, capsys):
    """The issue's check as a user runs it, relative to F(x) - F(baseline) alone (the library's
    completeness_error turns absolute below a change of 1): images 0-2 change F by over 1. For
    changes near 0 no number of steps holds 1 %: float32 rounding leaves about 1e-4 absolute."""
    argv = ["explain", "--json", str(one_epoch_run.path), "--test-index", "0", "1", "2"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    network = Network.load(one_epoch_run)
    black = network.forward(np.zeros((1, 28, 28), np.uint8))[0][0]
    for row in rows:
        assert len(row["probabilities"]) == 10
        assert sum(row["probabilities"]) == pytest.approx(1, abs=1e-4)
        assert {name: len(values) for name, values in row["activations"].items()} == {
            "dense_1": 64,
            "dense_2": 32,
        }
        attributions = np.asarray(row["attributions"])
        assert attributions.shape == (28, 28)
        explained = row["explained"]
        assert explained["value"] == pytest.approx(
            np.log(row["probabilities"][explained["index"]]), abs=1e-4
        )
        assert explained["baseline_value"] == pytest.approx(black[explained["index"]], abs=1e-4)
        change = explained["value"] - explained["baseline_value"]
        assert abs(change) > 1, row["input"]
        assert attributions.sum() == pytest.approx(change, rel=0.01), row["input"]


@pytest.mark.slow
def test_the_notebook_runs_map_keeps_its_neighbourhoods(real_data, tmp_path_factory):
    test_map, cached = run_map(RunDir(trained_run(tmp_path_factory, 10).run_dir))
    assert not cached
    assert len(test_map.x) == 10_000
    assert test_map.knn_accuracy >= MAP_KNN_ACCURACY
