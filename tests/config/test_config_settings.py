"""Every setting's valid values: one clear error per bad value, naming the table, the key, the
value and what was expected; settings objects check themselves when made."""

from __future__ import annotations

import pytest

from fashion_mlp.config import (
    DataConfig,
    OptimizerConfig,
    SweepConfig,
    TrainingConfig,
    build_config,
)
from fashion_mlp.errors import ConfigError
from fashion_mlp.presets import preset


def test_other_optimizers_do_not_inherit_sgd_momentum():
    config = build_config(preset("notebook"), {"optimizer": {"optimizer": "adam"}})
    assert config.optimizer.momentum == 0.0 and not config.optimizer.nesterov
    rms = build_config({"optimizer": {"optimizer": "rmsprop", "momentum": 0.5}})
    assert rms.optimizer.momentum == 0.5


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
