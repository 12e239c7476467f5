"""The shared model/optimizer flags and the `summary` command."""

from __future__ import annotations

import argparse
import inspect

import pytest

from fashion_mlp.cli import summary
from fashion_mlp.cli.model_options import (
    add_model_arguments,
    add_optimizer_arguments,
    model_overrides,
    optimizer_overrides,
)
from fashion_mlp.errors import ConfigError
from fashion_mlp.models import MLPSpec
from fashion_mlp.optimizers import compile_model


def summary_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashion-mlp")
    summary.register(parser.add_subparsers(dest="command"))
    return parser


def options_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    add_optimizer_arguments(parser)
    return parser


def run(argv: list[str]) -> int:
    args = summary_parser().parse_args(argv)
    return args.handler(args)


@pytest.mark.parametrize("style", ["sequential", "subclassed"])
def test_summary_prints_the_seed_networks_parameter_count_and_size(style, capsys):
    assert run(["summary", "--style", style]) == 0
    output = capsys.readouterr().out
    assert "Trainable parameters: 52,650" in output
    assert "dense_2" in output  # the Keras layer table
    size = int(output.split("saved .keras file: ")[1].split(" bytes")[0].replace(",", ""))
    assert size > 52_650 * 4  # at least the float32 weights


def test_summary_follows_the_flags(capsys):
    assert run(["summary", "--hidden", "10", "--activation", "relu"]) == 0
    assert "Trainable parameters: 7,960" in capsys.readouterr().out  # 784*10+10 + 10*10+10


def test_summary_of_a_user_model(tmp_path, capsys):
    path = tmp_path / "net.py"
    path.write_text(
        "import keras\n"
        "def build(input_shape, num_classes):\n"
        "    return keras.Sequential([keras.Input(shape=input_shape), keras.layers.Flatten(),\n"
        "                             keras.layers.Dense(num_classes)])\n"
    )
    assert run(["summary", "--model", f"{path}:build"]) == 0
    assert "Trainable parameters: 7,850" in capsys.readouterr().out


def test_summary_reports_an_invalid_spec():
    with pytest.raises(ConfigError, match="activation='nope'"):
        run(["summary", "--activation", "nope"])


def test_no_flags_means_no_overrides():
    args = options_parser().parse_args([])
    assert model_overrides(args) == {}
    assert optimizer_overrides(args) == {}


def test_given_flags_become_spec_and_compile_keywords():
    flags = (
        "--hidden 128 64 --dropout 0.2 --no-batch-norm --initializer he_normal --l2 0.001 "
        "--style functional --optimizer adam --learning-rate 0.003 --nesterov "
        "--schedule cosine --warmup-steps 100 --label-smoothing 0.1"
    )
    args = options_parser().parse_args(flags.split())
    model = model_overrides(args)
    assert model == {
        "hidden": (128, 64),
        "dropout": 0.2,
        "batch_norm": False,
        "kernel_initializer": "he_normal",
        "l2": 0.001,
        "style": "functional",
    }
    assert MLPSpec(**{key: value for key, value in model.items() if key != "style"})
    optimizer = optimizer_overrides(args)
    assert optimizer == {
        "optimizer": "adam",
        "learning_rate": 0.003,
        "nesterov": True,
        "schedule": "cosine",
        "warmup_steps": 100,
        "label_smoothing": 0.1,
    }
    assert set(optimizer) <= set(inspect.signature(compile_model).parameters)


def test_several_dropout_rates_are_one_per_layer():
    args = options_parser().parse_args(["--dropout", "0.3", "0.1"])
    assert model_overrides(args) == {"dropout": (0.3, 0.1)}


def test_every_flag_defaults_to_none_and_documents_its_default():
    for action in options_parser()._actions:
        if action.dest == "help":
            continue
        assert action.default is None, action.dest
        assert "(default: " in action.help, action.dest
