"""Sweep reports say what the sweep found: seeds and layer sizes as categories, rates on a log
axis, each trial linked to its run, each setting over its seeds, values with 4 digits; and
`sweep --hidden` makes the width an axis."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from fashion_mlp.cli.commands.sweep import ranking_table
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.cli.sweep_options import sweep_table
from fashion_mlp.sweeps.results import axis_figure, sweep_report
from fashion_mlp.sweeps.spec import Axis, sweep_spec


def fake_rows(tmp_path, key: str, values: list, seeds=(0, 1, 2)) -> list[dict]:
    rows = []
    for index, (value, seed) in enumerate((v, s) for v in values for s in seeds):
        rows.append(
            {
                "rank": index + 1,
                "trial": index,
                key: value,
                "training.seed": seed,
                "run": f"run-{index}",
                "run_dir": str(tmp_path / "runs" / f"run-{index}"),
                "val_accuracy": 0.8 + 0.01 * index,
                "val_loss": 0.5,
                "test_accuracy": 0.79 + 0.01 * index,
                "epochs": 2,
                "train_seconds": 1.5,
                "stopped_early": False,
            }
        )
    return rows


def test_seeds_are_categories_without_a_mean_line(tmp_path):
    rows = fake_rows(tmp_path, "optimizer.learning_rate", [0.01, 0.1])
    ax = axis_figure(rows, Axis("training.seed", (0, 1, 2))).axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0", "1", "2"]
    assert not [line for line in ax.get_lines() if len(line.get_xdata()) > 2]  # no line across


def test_layer_sizes_are_categories_named_as_flags_write_them(tmp_path):
    rows = fake_rows(tmp_path, "model.hidden", [(64,), (128,), (256, 128)])
    ax = axis_figure(rows, Axis("model.hidden", ((64,), (128,), (256, 128)))).axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["64", "128", "256-128"]


def test_learning_rates_tried_in_steps_of_about_3x_are_on_a_log_axis(tmp_path):
    rates = [0.003, 0.01, 0.03]
    rows = fake_rows(tmp_path, "optimizer.learning_rate", rates)
    ax = axis_figure(rows, Axis("optimizer.learning_rate", tuple(rates))).axes[0]
    assert ax.get_xscale() == "log"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["0.003", "0.01", "0.03"]


@pytest.fixture
def report(tmp_path):
    table = {
        "preset": "smoke",
        "axes": {"optimizer.learning_rate": [0.01, 0.1], "training.seed": [0, 1, 2]},
    }
    rows = fake_rows(tmp_path, "optimizer.learning_rate", [7.025106264669, 0.1])
    return sweep_report(sweep_spec(table), rows, {}, [], tmp_path / "sweeps" / "s"), rows


def test_trials_link_to_their_run_reports(report):
    page, rows = report
    for row in rows:
        assert f'<a href="../../runs/{row["run"]}/report.html">{row["run"]}</a>' in page


def test_each_setting_is_averaged_over_its_seeds(report):
    page, _ = report
    section = page.split("Each setting over seeds")[1].split("</table>")[0]
    # seeds 0-2 of the second rate score 0.83, 0.84, 0.85: mean 84.00 %, sd 1.00 point
    assert re.search(r"0\.1</td><td>3</td><td[^>]*>84\.00% ± 1\.00</td>", section)
    assert section.index(">0.1<") < section.index(">7.025<")  # the best mean first


def test_sampled_values_print_with_four_digits(tmp_path, report):
    page, rows = report
    assert "7.025" in page and "7.0251" not in page
    out = Console(width=80, record=True)
    out.print(ranking_table(rows, ["optimizer.learning_rate", "training.seed"]))
    text = out.export_text()
    assert "7.025 " in text and "7.0251" not in text


def test_hidden_sizes_are_an_axis_from_flags():
    args = build_parser().parse_args(
        ["sweep", "--preset", "smoke", "--hidden", "64", "128", "256-128", "--seeds", "0-1"]
    )
    table = sweep_table(args)
    assert table["axes"]["model.hidden"] == [[64], [128], [256, 128]]
    hidden = {trial.config.model.spec.hidden for trial in sweep_spec(table).trials()}
    assert hidden == {(64,), (128,), (256, 128)}
    one = sweep_table(build_parser().parse_args(["sweep", "--hidden", "256-128", "--seeds", "0-1"]))
    assert one["base"]["model"]["hidden"] == [256, 128]


def test_a_bad_hidden_value_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["sweep", "--hidden", "256-x", "--seeds", "0-1"])
    assert "256-x" in capsys.readouterr().err
