"""Experiment configs: presets, TOML round trip, layering, and one clear error per bad value."""

from __future__ import annotations

import pytest

from fashion_mlp.config import (
    ExperimentConfig,
    build_config,
    preset,
    read_toml,
    write_toml,
)
from fashion_mlp.errors import ConfigError


def test_seed_preset_is_the_notebook_experiment():
    config = build_config(preset("seed"))
    assert config.model.spec.hidden == (64, 32)
    assert config.model.spec.activation == "tanh"
    assert config.model.style == "sequential"
    optimizer = config.optimizer
    assert (optimizer.optimizer, optimizer.learning_rate, optimizer.momentum) == ("sgd", 0.01, 0.9)
    assert optimizer.nesterov
    training = config.training
    assert (training.epochs, training.batch_size, training.validation_split) == (10, 16, 0.1)
    assert training.seed == 0


def test_toml_round_trip(tmp_path):
    config = build_config(
        preset("smoke"),
        {"model": {"hidden": [20, 10], "dropout": [0.1, 0.2], "style": "functional"}},
        {"optimizer": {"optimizer": "adam", "learning_rate": 0.002}},
    )
    path = tmp_path / "config.toml"
    path.write_text(write_toml(config))
    assert build_config(read_toml(path)) == config


def test_layers_replace_only_the_keys_they_name():
    config = build_config(preset("seed"), {"training": {"epochs": 3}}, {"training": {"seed": 7}})
    assert (config.training.epochs, config.training.seed, config.training.batch_size) == (3, 7, 16)


def test_other_optimizers_do_not_inherit_sgd_momentum():
    config = build_config(preset("seed"), {"optimizer": {"optimizer": "adam"}})
    assert config.optimizer.momentum == 0.0 and not config.optimizer.nesterov
    rms = build_config({"optimizer": {"optimizer": "rmsprop", "momentum": 0.5}})
    assert rms.optimizer.momentum == 0.5


def test_int_accepted_for_float():
    assert build_config({"optimizer": {"learning_rate": 1}}).optimizer.learning_rate == 1.0


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"trainig": {}}, r"unknown key 'trainig' in the top level"),
        ({"training": {"epoch": 3}}, r"unknown key 'epoch' in \[training\]"),
        ({"training": {"epochs": "10"}}, r"\[training\] epochs = '10': expected a int"),
        ({"training": {"epochs": True}}, r"\[training\] epochs = True: expected a int"),
        ({"training": {"epochs": 0}}, r"epochs = 0: expected >= 1"),
        ({"training": {"batch_size": 0}}, r"batch_size = 0: expected >= 1"),
        ({"training": {"validation_split": 1.0}}, r"validation_split = 1.0: expected 0 <= x < 1"),
        ({"training": {"engine": "turbo"}}, r"engine = 'turbo': expected one of"),
        ({"training": {"early_stopping_patience": -2}}, r"early_stopping_patience"),
        ({"optimizer": {"learning_rate": -0.1}}, r"learning_rate = -0.1: expected > 0"),
        ({"data": {"train_limit": -1}}, r"train_limit and test_limit"),
        ({"model": {"hidden": []}}, r"\[model\] hidden"),
        ({"model": {"activation": "nope"}}, r"\[model\] activation"),
        ({"model": {"units": 3}}, r"\[model\]"),
        ({"data": "fashion"}, r"\[data\] must be a table"),
    ],
)
def test_bad_values_are_named(layer, message):
    with pytest.raises(ConfigError, match=message):
        build_config(layer)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset 'fast' is unknown; expected one of seed, smoke"):
        preset("fast")


def test_bad_toml_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training\nepochs = 3")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_toml(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")


def test_defaults_equal_the_seed_preset():
    assert build_config(preset("seed")) == ExperimentConfig()
