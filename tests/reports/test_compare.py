"""compare: exactly the settings that differ, metrics per run, overlaid curves, an offline page."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from test_report import assert_self_contained, embedded_images, make_fake_run, parse

from fashion_mlp.cli import main
from fashion_mlp.errors import ConfigError, RunError
from fashion_mlp.reports.compare import (
    comparison_html,
    comparison_table,
    differing_settings,
    load_compared_run,
    validation_curves_figure,
)


@pytest.fixture
def two_runs(tmp_path):
    """The notebook run, and one with another learning rate, more epochs and no validation."""
    first = make_fake_run(tmp_path, "20250101-000000-notebook", figures=False)[0]
    second = make_fake_run(
        tmp_path,
        "20250102-000000-fast",
        figures=False,
        learning_rate=0.1,
        epochs=5,
        validation_split=0.0,
    )[0]
    return first, second


def test_differing_settings_lists_exactly_the_settings_that_differ(two_runs):
    runs = [load_compared_run(run) for run in two_runs]
    assert differing_settings(runs) == {
        "optimizer.learning_rate": [0.01, 0.1],
        "training.epochs": [3, 5],
        "training.validation_split": [0.1, 0.0],
    }


def test_differing_settings_of_identical_configs_is_empty(tmp_path):
    runs = [
        load_compared_run(make_fake_run(tmp_path, folder, figures=False)[0])
        for folder in ("a-notebook", "b-notebook")
    ]
    assert differing_settings(runs) == {}


def test_a_setting_only_one_run_has_differs(two_runs):
    second = two_runs[1]
    config = (second / "config.toml").read_text()
    (second / "config.toml").write_text(config + "\n[schedule]\nwarmup = 2\n")
    runs = [load_compared_run(run) for run in two_runs]
    assert differing_settings(runs)["schedule.warmup"] == [None, 2]


def test_comparison_table_has_settings_and_metrics_per_run(two_runs):
    runs = [load_compared_run(run) for run in two_runs]
    rows = comparison_table(runs)
    assert [row["run"] for row in rows] == [run.name for run in two_runs]
    assert [row["optimizer.learning_rate"] for row in rows] == [0.01, 0.1]
    assert [row["epochs"] for row in rows] == [3, 5]
    assert [row["test_accuracy"] for row in rows] == [run.metrics["test_accuracy"] for run in runs]
    assert [row["train_seconds"] for row in rows] == pytest.approx([4.5, 7.5])


def timed(run_dir):
    """Give a fake run metrics.json's time_to_accuracy: 85 % reached, 88 % not."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    metrics["time_to_accuracy"] = [
        {"val_accuracy": 0.85, "epoch": 2, "seconds": 4.06},
        {"val_accuracy": 0.88, "epoch": None, "seconds": None},
    ]
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


def test_comparison_table_has_the_seconds_to_each_validation_accuracy(two_runs):
    runs = [load_compared_run(timed(two_runs[0])), load_compared_run(two_runs[1])]
    rows = comparison_table(runs)
    assert [row["seconds_to_val_85%"] for row in rows] == [4.06, None]  # the second: no split
    assert [row["seconds_to_val_88%"] for row in rows] == ["not reached", None]
    assert [row["seconds_to_val_90%"] for row in rows] == [None, None]  # not recorded


def test_validation_curves_overlay_runs_that_have_validation(two_runs):
    runs = [load_compared_run(run) for run in two_runs]
    fig = validation_curves_figure(runs)
    accuracy_ax, loss_ax = fig.axes[:2]
    assert [line.get_label() for line in accuracy_ax.lines] == [runs[0].name]
    np.testing.assert_allclose(
        accuracy_ax.lines[0].get_ydata(), runs[0].history["val_accuracy"], rtol=1e-5
    )
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), runs[0].history["val_loss"], rtol=1e-5)
    assert runs[1].name in fig.get_suptitle()  # named as having no validation data


def test_comparison_page_is_self_contained(two_runs, tmp_path):
    runs = [load_compared_run(run) for run in two_runs]
    page = comparison_html(runs, tmp_path / "compare.html").read_text(encoding="utf-8")
    parsed = assert_self_contained(page)
    assert len(embedded_images(parsed)) == 1
    text = " ".join(parse(page).text)
    assert "optimizer.learning_rate" in text and "training.epochs" in text
    assert "model.activation" not in text  # the same in both runs


def test_comparing_fewer_than_two_runs_is_a_config_error(two_runs):
    with pytest.raises(ConfigError, match="at least two"):
        differing_settings([load_compared_run(two_runs[0])])


def test_comparing_a_missing_run_is_a_run_error(tmp_path):
    with pytest.raises(RunError, match="does not exist"):
        load_compared_run(tmp_path / "missing")


def test_cli_compare_prints_differing_settings_and_metrics(two_runs, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps to the terminal width; keep names whole
    page, plot = tmp_path / "page.html", tmp_path / "curves.png"
    timed(two_runs[0])
    assert main(["compare", *map(str, two_runs), "--html", str(page), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    for expected in (
        *(run.name for run in two_runs),
        "optimizer.learning_rate",
        "training.epochs",
        "test_accuracy",
        "train_seconds",
        "seconds_to_val_85%",
        "4.06",
        "not reached",
    ):
        assert expected in out
    assert "model.activation" not in out
    assert_self_contained(page.read_text(encoding="utf-8"))
    with Image.open(plot) as image:
        assert image.format == "PNG" and min(image.size) > 200
