"""The command line as a user meets it: instant help, options anywhere, a flag for every
config key with the defaults train really uses, tables that fit, clean piped output."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from fashion_mlp.cli.options import flag_overrides
from fashion_mlp.cli.parser import build_parser
from fashion_mlp.config import ExperimentConfig, MLPSpec, build_config
from fashion_mlp.presets import preset
from fashion_mlp.runs import RunDir

HEAVY = ("keras", "jax", "sklearn", "matplotlib")
DATA_SHAPED = {"model.num_classes", "model.input_shape"}


def loaded_modules(*argv: str, cwd=None) -> set[str]:
    """Top-level modules loaded by `python -m fashion_mlp ARGV` (run in a fresh interpreter)."""
    code = (
        "import sys\nfrom fashion_mlp.cli import main\n"
        f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, check=True
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("MODULES"))
    return set(line.split()[1:])


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["runs"], ["runs", "--json"]])
def test_help_and_runs_load_no_heavy_library(argv, tmp_path):
    loaded = loaded_modules(*argv, cwd=tmp_path)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def config_keys() -> set[str]:
    """Every settable key of a config, as 'section.key'."""
    keys = {f"data.{f.name}" for f in dataclasses.fields(ExperimentConfig().data)}
    keys |= {f"optimizer.{f.name}" for f in dataclasses.fields(ExperimentConfig().optimizer)}
    keys |= {f"training.{f.name}" for f in dataclasses.fields(ExperimentConfig().training)}
    keys |= {f"distill.{f.name}" for f in dataclasses.fields(ExperimentConfig().distill)}
    keys |= {f"model.{f.name}" for f in dataclasses.fields(MLPSpec)} - DATA_SHAPED
    return keys | {"model.style", "model.user_model"}


def train_actions():
    parser = build_parser()
    return parser._subparsers._group_actions[0].choices["train"]._actions


def test_every_config_key_has_a_train_flag():
    dests = {action.dest for action in train_actions()}
    assert config_keys() <= dests, config_keys() - dests


def test_every_config_flag_defaults_to_none_and_documents_its_default():
    for action in train_actions():
        if "." in action.dest:
            assert action.default is None, action.dest
            assert "(default: " in action.help, action.dest


def test_train_help_shows_the_defaults_train_uses():
    actions = {action.dest: action.help for action in train_actions()}
    config = build_config(preset("notebook"))
    assert f"default: {config.optimizer.momentum} with sgd" in actions["optimizer.momentum"]
    assert "default: on with sgd" in actions["optimizer.nesterov"]
    assert "default: 10; smoke: 2" in actions["training.epochs"]
    assert "default: 64 32; smoke: 32" in actions["model.hidden"]


def test_no_flags_means_no_overrides():
    args = build_parser().parse_args(["train"])
    assert flag_overrides(args) == {}


def test_given_flags_become_a_config_layer():
    argv = (
        "train --hidden 128 64 --dropout 0.2 --no-batch-norm --initializer he_normal --l2 0.001 "
        "--style functional --optimizer adam --learning-rate 0.003 --beta-1 0.8 "
        "--schedule cosine --warmup-steps 100 --label-smoothing 0.1 --seed 7 --train-limit 50"
    )
    layer = flag_overrides(build_parser().parse_args(argv.split()))
    config = build_config(preset("notebook"), layer)
    assert config.model.spec.hidden == (128, 64) and config.model.spec.dropout == 0.2
    assert config.model.style == "functional" and config.model.spec.l2 == 0.001
    assert (config.optimizer.optimizer, config.optimizer.beta_1) == ("adam", 0.8)
    assert config.optimizer.momentum == 0.0 and not config.optimizer.nesterov  # adam's own
    assert (config.training.seed, config.data.train_limit) == (7, 50)


def test_several_dropout_rates_are_one_per_layer():
    args = build_parser().parse_args(["train", "--dropout", "0.3", "0.1"])
    assert flag_overrides(args) == {"model": {"dropout": [0.3, 0.1]}}


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "RUN", "--json", "a.png", "b.png"],
        ["predict", "--json", "RUN", "a.png", "b.png"],
        ["predict", "RUN", "a.png", "--json", "b.png"],
    ],
)
def test_options_may_come_before_between_or_after_positionals(argv):
    args = build_parser().parse_args(argv)
    assert args.json and str(args.run_dir) == "RUN"
    assert [str(path) for path in args.files] == ["a.png", "b.png"]


def test_debug_is_accepted_after_the_command():
    assert build_parser().parse_args(["runs", "--debug"]).debug


def make_runs(runs_dir, count: int) -> None:
    for index in range(count):
        run = RunDir.create(runs_dir, f"notebook-{index}")
        run.write_config(build_config(preset("notebook")))


def test_runs_table_fits_80_columns_when_piped(tmp_path):
    make_runs(tmp_path / "runs", 3)
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "fashion_mlp", "runs", "--runs-dir", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    body = [line for line in lines if "notebook-" in line]
    assert len(body) == 3  # one line per run: no cell wrapped onto a second line
    assert all("unfinished" in line for line in body)
