"""A run's name says what was trained: the preset's name only while its model is the preset's."""

from __future__ import annotations

import pytest

from fashion_mlp.cli.options import config_from_args
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.runs import RunDir, list_runs


def train_config(*flags: str):
    return config_from_args(build_parser().parse_args(["train", *flags]))


@pytest.mark.parametrize(
    ("flags", "name"),
    [
        ((), "notebook"),
        (("--preset", "smoke"), "smoke"),
        (("--epochs", "3", "--learning-rate", "0.1"), "notebook"),  # same model: the preset's
        (
            ("--hidden", "256", "128", "--activation", "relu", "--optimizer", "adam"),
            "mlp-256-128-relu",
        ),
        (("--preset", "smoke", "--activation", "relu"), "mlp-32-relu"),
        (("--model", "nets.py:wide_cnn"), "wide_cnn"),
        (("--hidden", "256", "--name", "mine"), "mine"),
    ],
)
def test_the_name_says_what_was_trained(flags, name):
    assert train_config(*flags).name == name


def test_a_config_file_keeps_its_own_name(tmp_path):
    file = tmp_path / "wide.toml"
    file.write_text('name = "wide"\n[model]\nhidden = [512]\n', encoding="utf-8")
    assert train_config("--config", str(file)).name == "wide"
    assert train_config("--config", str(file), "--name", "other").name == "other"


def test_old_run_folders_still_load_and_list(tmp_path):
    run = RunDir(tmp_path / "runs" / "20240101-120000-notebook")
    run.path.mkdir(parents=True)
    (run.path / "config.toml").write_text(
        'name = "notebook"\n[model]\nhidden = [256, 128]\nactivation = "relu"\n', encoding="utf-8"
    )
    assert run.read_config().name == "notebook"
    (row,) = list_runs(tmp_path / "runs")
    assert row["name"] == run.name and row["architecture"] == "in-256-128-out relu"
