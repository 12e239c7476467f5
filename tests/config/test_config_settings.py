"""Experiment configs: presets, TOML round trip, layering, and one clear error per bad value."""

from __future__ import annotations

import pytest

from fashion_mlp.config import (
    DataConfig,
    ExperimentConfig,
    OptimizerConfig,
    SweepConfig,
    TrainingConfig,
    build_config,
    read_toml,
    write_toml,
)
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset


def test_notebook_preset_is_the_notebook_experiment():
    config = build_config(preset("notebook"))
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
    layers = {"training": {"epochs": 3}}, {"training": {"seed": 7}}
    config = build_config(preset("notebook"), *layers)
    assert (config.training.epochs, config.training.seed, config.training.batch_size) == (3, 7, 16)


def test_other_optimizers_do_not_inherit_sgd_momentum():
    config = build_config(preset("notebook"), {"optimizer": {"optimizer": "adam"}})
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
        ({"training": {"epochs": "10"}}, r"\[training\] epochs = '10': expected an integer >= 1"),
        ({"training": {"epochs": True}}, r"\[training\] epochs = True: expected an integer >= 1"),
        ({"training": {"epochs": 0}}, r"epochs = 0: expected an integer >= 1"),
        ({"training": {"batch_size": 0}}, r"batch_size = 0: expected an integer >= 1"),
        (
            {"training": {"validation_split": 1.0}},
            r"validation_split = 1.0: expected a number in \[0, 1\)",
        ),
        ({"training": {"engine": "turbo"}}, r"engine = 'turbo': expected one of"),
        (
            {"training": {"early_stopping_patience": -2}},
            r"early_stopping_patience = -2: expected an integer >= -1 \(-1 = off\)",
        ),
        (
            {"optimizer": {"learning_rate": -0.1}},
            r"learning_rate = -0.1: expected a finite number > 0",
        ),
        (
            {"data": {"train_limit": -1}},
            r"\[data\] train_limit = -1: expected an integer >= 0 \(0 = all\)",
        ),
        ({"model": {"hidden": []}}, r"\[model\] hidden"),
        ({"model": {"activation": ""}}, r"\[model\] activation"),
        ({"model": {"input_shape": [784]}}, r"\[model\] input_shape = \[784\]: .*data set"),
        ({"model": {"style": "keras2"}}, r"\[model\] style = 'keras2'"),
        ({"training": {"seed": -1}}, r"seed = -1: expected an integer in \[0, 4294967295\]"),
        ({"training": {"seed": 2**32}}, r"seed = 4294967296"),
        ({"optimizer": {"learning_rate": float("inf")}}, r"learning_rate = inf: expected a finite"),
        ({"optimizer": {"learning_rate": float("nan")}}, r"learning_rate = nan: expected a finite"),
        ({"optimizer": {"momentum": 1.0}}, r"\[optimizer\] momentum = 1.0: expected"),
        ({"optimizer": {"optimizer": "adam", "momentum": 0.9}}, r"only sgd and rmsprop take"),
        ({"optimizer": {"beta_1": 0.5}}, r"beta_1 = 0.5 with optimizer = 'sgd'"),
        ({"optimizer": {"optimizer": "adam", "nesterov": True}}, r"only sgd takes nesterov"),
        ({"optimizer": {"warmup_steps": 5}}, r"warmup_steps = 5 with schedule = 'constant'"),
        ({"optimizer": {"schedule": "cosine", "decay": 0.1}}, r"use one or the other"),
        ({"model": {"units": 3}}, r"\[model\]"),
        ({"data": "fashion"}, r"\[data\] must be a table"),
    ],
)
def test_bad_values_are_named(layer, message):
    with pytest.raises(ConfigError, match=message):
        build_config(layer)


@pytest.mark.parametrize(
    ("cls", "values", "message"),
    [
        (
            TrainingConfig,
            {"epochs": 0, "batch_size": 0},
            r"^epochs = 0: expected an integer >= 1; batch_size = 0: expected an integer >= 1$",
        ),
        (
            DataConfig,
            {"test_limit": -5},
            r"^test_limit = -5: expected an integer >= 0 \(0 = all\)$",
        ),
        (OptimizerConfig, {"optimizer": "adam"}, r"^momentum = 0.9 with optimizer = 'adam'"),
        (SweepConfig, {"ensemble": -1}, r"^ensemble = -1: expected an integer >= 0 \(0 = none\)$"),
    ],
)
def test_settings_check_themselves_when_made(cls, values, message):
    with pytest.raises(ConfigError, match=message):
        cls(**values)


def test_unknown_preset():
    with pytest.raises(ConfigError, match="preset .fastest. is unknown; expected one of notebook"):
        preset("fastest")


def test_the_old_preset_name_says_the_new_one():
    with pytest.raises(ConfigError, match="preset 'seed' is now called 'notebook'"):
        preset("seed")


def test_config_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        read_toml(path)


def test_numpy_numbers_are_accepted():
    import numpy as np

    layer = {"training": {"epochs": np.int64(3)}, "optimizer": {"momentum": np.float32(0.5)}}
    config = build_config(layer)
    assert config.training.epochs == 3 and type(config.training.epochs) is int
    assert config.optimizer.momentum == 0.5


def test_bad_toml_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training\nepochs = 3")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        read_toml(path)
    with pytest.raises(ConfigError, match="does not exist"):
        read_toml(tmp_path / "missing.toml")


def test_defaults_equal_the_notebook_preset():
    assert build_config(preset("notebook")) == ExperimentConfig()


def test_a_distilled_config_round_trips_and_others_have_no_distill_table():
    assert "distill" not in build_config(preset("fast")).to_dict()
    config = build_config({"distill": {"teacher": "runs/x", "temperature": 2}})
    assert build_config(config.to_dict()) == config
    assert config.to_dict()["distill"] == {"teacher": "runs/x", "temperature": 2.0, "alpha": 0.5}


@pytest.mark.parametrize(
    "values, message",
    [
        ({"temperature": 0}, r"\[distill\] temperature = 0.*> 0"),
        ({"alpha": 1.5}, r"\[distill\] alpha = 1.5.*\[0, 1\]"),
        ({"teacher": 3}, r"\[distill\] teacher = 3.*run folder"),
        ({"teachr": "x"}, r"teachr"),
    ],
)
def test_bad_distillation_settings_name_the_table_and_the_range(values, message):
    with pytest.raises(ConfigError, match=message):
        build_config({"distill": values})
