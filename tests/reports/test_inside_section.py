"""The report's "Inside the network" section, on real runs: a plain run's weights and
attributions (and the map once `report --figures` computed it), an ensemble's attributions
with the reason it has no weights or map."""

from __future__ import annotations

from html import escape

import pytest
from conftest import synthetic_dataset, write_idx_dataset

from fashion_mlp.config import build_config
from fashion_mlp.ensembles import build_ensemble
from fashion_mlp.experiment import draw_figures, run_experiment
from fashion_mlp.presets import preset
from fashion_mlp.reports.inside_section import ATTRIBUTIONS_PNG, CAPTIONS, MAP_PNG, WEIGHTS_PNG
from fashion_mlp.runs import RunDir

pytestmark = pytest.mark.slow  # trains a run and draws its inside figures


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two smoke runs of synthetic data, trained with their figures."""
    folder = write_idx_dataset(tmp_path_factory.mktemp("data") / "synthetic", synthetic_dataset())
    runs_dir = tmp_path_factory.mktemp("runs")
    trained = []
    for seed in (0, 1):
        overrides = {"data": {"name": str(folder)}, "training": {"epochs": 1, "seed": seed}}
        config = build_config(preset("smoke"), overrides)
        trained.append(RunDir(run_experiment(config, runs_dir).run_dir))
    return trained


def section(run: RunDir) -> str:
    page = run.report_path.read_text(encoding="utf-8")
    start = page.index("<h2>Inside the network</h2>")
    return page[start : page.index("<h2>", start + 1)]


def test_a_plain_run_shows_weights_and_attributions_and_the_map_on_request(runs):
    run = runs[0]
    assert {WEIGHTS_PNG, ATTRIBUTIONS_PNG} <= set(run.figure_paths())
    shown = section(run)
    assert shown.count("data:image/png;base64,") == 2
    assert escape(CAPTIONS[WEIGHTS_PNG]) in shown and escape(CAPTIONS[ATTRIBUTIONS_PNG]) in shown
    assert "No map yet" in shown
    draw_figures(run.path)  # report --figures: computes map.json and draws it
    assert MAP_PNG in run.figure_paths() and (run.path / "map.json").exists()
    assert section(run).count("data:image/png;base64,") == 3
    assert "under Calibration" in section(run)


def test_an_ensemble_shows_attributions_and_says_why_not_the_rest(runs, tmp_path):
    ensemble = RunDir(build_ensemble([run.path for run in runs], tmp_path / "runs").run_dir)
    shown = section(ensemble)
    assert set(ensemble.figure_paths()) >= {ATTRIBUTIONS_PNG}
    assert WEIGHTS_PNG not in ensemble.figure_paths()
    assert shown.count("data:image/png;base64,") == 1
    assert "no single first layer" in shown
